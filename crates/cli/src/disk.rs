//! `mxos-compose disk`: a bootable disk image a school can copy onto a machine.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
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
    /// Ref the machine follows (default: REV when it is a ref).
    #[arg(long = "ref")]
    follow_ref: Option<String>,
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

fn parse_firmware(s: &str) -> Result<Firmware, String> {
    Firmware::parse(s)
}

pub fn run(a: DiskArgs, json: bool) -> Result<()> {
    let format = match a.format.as_deref() {
        Some(f) => DiskFormat::parse(f)?,
        None if a.to.extension().is_some_and(|e| e == "qcow2") => DiskFormat::Qcow2,
        None => DiskFormat::Raw,
    };
    let size_bytes = a.size_mib << 20;
    let work = tempfile::Builder::new()
        .prefix("mxos-disk-")
        .tempdir_in("/var/tmp")
        .context("creating a work dir under /var/tmp")?;
    let step = tracing::info_span!("mxos.step", step = "writing the disk image");
    let report = step.in_scope(|| {
        mxos_media::disk::build(&DiskRequest {
            repo: a.repo,
            rev: a.rev,
            follow_ref: a.follow_ref,
            output: a.to,
            format,
            size_bytes,
            remote_conf: a.remote_conf,
            remote_url: a.remote_url,
            kargs: a.kargs,
            workdir: work.path().to_owned(),
            firmware: a.firmware,
            sizes: Sizes {
                esp_mib: a.esp_mib,
                bios_boot_mib: a.bios_boot_mib,
            },
        })
    })?;
    output::emit(
        json,
        &crate::reports::DiskReport {
            path: report.path.display().to_string(),
            format: match format {
                DiskFormat::Raw => "raw",
                DiskFormat::Qcow2 => "qcow2",
            }
            .to_owned(),
            firmware: a.firmware.as_str().to_owned(),
            commit: report.commit,
            reference: report.follow_ref,
            size_bytes,
            allocated_bytes: report.allocated_bytes,
        },
    );
    Ok(())
}
