//! `mxos-compose disk`: a bootable disk image a school can copy onto a machine, and
//! `mxos-compose installer`: a USB stick image that installs it on every machine of a lab.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use mxos_agent::config::RebootPolicy;
use mxos_agent::i18n::Lang;
use mxos_media::disk::{DiskFormat, DiskRequest};
use mxos_media::layout::{Firmware, Sizes};

use crate::output;

#[derive(Args)]
pub struct DiskArgs {
    /// Commit or ref to install.
    rev: String,
    /// Build repository holding it.
    #[arg(long)]
    repo: PathBuf,
    /// Ref the machine follows (default: REV when it is a ref).
    #[arg(long = "ref")]
    follow_ref: Option<String>,
    #[command(flatten)]
    image: ImageArgs,
}

/// What every image takes: the file, its size and firmware, and what the machine gets.
#[derive(Args)]
struct ImageArgs {
    /// Image file to write.
    #[arg(long)]
    to: PathBuf,
    /// raw or qcow2 (default: from the file name, else raw).
    #[arg(long)]
    format: Option<String>,
    /// Disk size in MiB.
    #[arg(long, default_value_t = 4096)]
    size_mib: u64,
    /// The published remote config (mxos.conf) the machine updates from.
    #[arg(long)]
    remote_conf: PathBuf,
    /// Override the remote's URL (e.g. a school mirror, or http://10.0.2.2:PORT for a VM).
    #[arg(long)]
    remote_url: Option<String>,
    /// Extra kernel arguments (repeatable), e.g. --karg console=ttyS0,115200.
    #[arg(long = "karg")]
    kargs: Vec<String>,
    /// Which firmware the disk boots on: uefi (the tree's signed shim and GRUB on an EFI
    /// system partition, for Secure Boot), bios (GRUB in a BIOS boot partition) or both.
    #[arg(long, default_value = "both", value_parser = parse_firmware)]
    firmware: Firmware,
    /// Size of the EFI system partition in MiB.
    #[arg(long, default_value_t = Sizes::default().esp_mib, value_parser = clap::value_parser!(u64).range(1..))]
    esp_mib: u64,
    /// Size of the BIOS boot partition (GRUB's core image) in MiB.
    #[arg(long, default_value_t = Sizes::default().bios_boot_mib, value_parser = clap::value_parser!(u64).range(1..))]
    bios_boot_mib: u64,
}

#[derive(Args)]
pub struct InstallerArgs {
    /// The ref the stick installs (its head, or --commit) and the machines follow.
    #[arg(long = "ref")]
    reference: String,
    /// Install this commit of the ref instead of its head.
    #[arg(long)]
    commit: Option<String>,
    /// Build repository holding it.
    #[arg(long)]
    repo: PathBuf,
    /// The fleet channel the machines follow (written to /etc/mxos/update.d).
    #[arg(long)]
    channel: Option<String>,
    /// When the machines may restart for an update: never, window or now.
    #[arg(long, value_parser = parse_reboot)]
    reboot: Option<RebootPolicy>,
    /// Host name of each machine, e.g. 'lab3-{serial}' ({serial}: firmware serial number,
    /// else the network card's address; {mac}: that address).
    #[arg(long)]
    hostname_pattern: Option<String>,
    /// auto (the largest non-removable disk) or a device path such as /dev/sda.
    #[arg(long, default_value = "auto")]
    target_disk: String,
    /// Erase a disk that holds data; without it such a disk is left alone and the screen
    /// says why.
    #[arg(long)]
    wipe: bool,
    /// Language of the installer's screen: es (es-MX) or en.
    #[arg(long, default_value = "es", value_parser = parse_language)]
    language: Lang,
    #[command(flatten)]
    image: ImageArgs,
}

fn parse_firmware(s: &str) -> Result<Firmware, String> {
    Firmware::parse(s)
}

fn parse_reboot(s: &str) -> Result<RebootPolicy, String> {
    RebootPolicy::parse(s).map_err(|e| e.render(Lang::En))
}

fn parse_language(s: &str) -> Result<Lang, String> {
    match s {
        "es" | "es-MX" => Ok(Lang::Es),
        "en" => Ok(Lang::En),
        other => Err(format!("unknown language `{other}`; accepted: es, en")),
    }
}

impl ImageArgs {
    fn request(
        self,
        repo: PathBuf,
        rev: String,
        follow_ref: Option<String>,
        workdir: PathBuf,
    ) -> Result<DiskRequest> {
        let format = match self.format.as_deref() {
            Some(f) => DiskFormat::parse(f)?,
            None if self.to.extension().is_some_and(|e| e == "qcow2") => DiskFormat::Qcow2,
            None => DiskFormat::Raw,
        };
        Ok(DiskRequest {
            repo,
            rev,
            follow_ref,
            output: self.to,
            format,
            size_bytes: self.size_mib << 20,
            remote_conf: self.remote_conf,
            remote_url: self.remote_url,
            kargs: self.kargs,
            workdir,
            firmware: self.firmware,
            sizes: Sizes {
                esp_mib: self.esp_mib,
                bios_boot_mib: self.bios_boot_mib,
            },
        })
    }
}

fn workdir() -> Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix("mxos-disk-")
        .tempdir_in("/var/tmp")
        .context("creating a work dir under /var/tmp")
}

pub fn run(a: DiskArgs, json: bool) -> Result<()> {
    let work = workdir()?;
    let req = a
        .image
        .request(a.repo, a.rev, a.follow_ref, work.path().to_owned())?;
    let step = tracing::info_span!("mxos.step", step = "writing the disk image");
    let report = step.in_scope(|| mxos_media::disk::build(&req))?;
    emit(json, &req, report);
    Ok(())
}

pub fn run_installer(a: InstallerArgs, json: bool) -> Result<()> {
    let work = workdir()?;
    let rev = a.commit.clone().unwrap_or_else(|| a.reference.clone());
    let disk = a
        .image
        .request(a.repo, rev, Some(a.reference), work.path().to_owned())?;
    let req = mxos_media::installer::InstallerRequest {
        disk,
        target_disk: a.target_disk,
        wipe: a.wipe,
        hostname_pattern: a.hostname_pattern,
        channel: a.channel,
        reboot: a.reboot,
        language: a.language,
    };
    let step = tracing::info_span!("mxos.step", step = "writing the installer image");
    let report = step.in_scope(|| mxos_media::installer::build(&req))?;
    emit(json, &req.disk, report);
    Ok(())
}

fn emit(json: bool, req: &DiskRequest, report: mxos_media::disk::DiskReport) {
    output::emit(
        json,
        &crate::reports::DiskReport {
            path: report.path.display().to_string(),
            format: match req.format {
                DiskFormat::Raw => "raw",
                DiskFormat::Qcow2 => "qcow2",
            }
            .to_owned(),
            firmware: req.firmware.as_str().to_owned(),
            commit: report.commit,
            reference: report.follow_ref,
            size_bytes: req.size_bytes,
            allocated_bytes: report.allocated_bytes,
        },
    );
}
