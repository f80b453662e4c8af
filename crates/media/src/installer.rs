//! `mxos-compose installer`: a USB stick image that installs MxOS on every machine it boots,
//! unattended. The stick is an MxOS disk image of the same signed commit (it boots on UEFI,
//! Secure Boot included, and on BIOS) whose own `/etc` enables `mxos-install.service`; its
//! physical root carries the payload the installer reads ([`crate::install`]): what to
//! install and where, the remote config and keys, the school's update settings, and the
//! machine disk's boot code, built here so that the machines need no GRUB tools.
//!
//! Everything the machines would refuse is refused here first, at the maintainer's desk: a
//! commit the remote's keys do not verify, a tree without the installer's tools, a bad host
//! name pattern or update setting.

use std::fs;

use anyhow::{bail, Context, Result};
use mxos_agent::config::{self, Fragment, RebootPolicy};
use mxos_agent::i18n::Lang;
use mxos_repo::Repo;

use crate::boot::BootCode;
use crate::disk::{self, DiskReport, DiskRequest, Extras};
use crate::install::{self, InstallerConfig};
use crate::layout;
use crate::system::{EtcEntry, ROOT_LABEL};

/// The stick's root label: never the installed machines' `mxos-root`, so that neither boots
/// the other's root when both disks are in one machine.
pub const STICK_LABEL: &str = "mxos-installer";
pub const UNIT: &str = "mxos-install.service";

/// Programs of the tree the installer runs on each machine, with the package that has them.
const TOOLS: [(&str, &str); 5] = [
    ("mxos-update", "mxos-update"),
    ("sgdisk", "gdisk"),
    ("mkfs.ext4", "e2fsprogs"),
    ("wipefs", "util-linux"),
    ("lsblk", "util-linux"),
];

pub struct InstallerRequest {
    /// The stick image itself: commit, remote, kernel arguments, firmware and sizes, which
    /// the installed machines get too.
    pub disk: DiskRequest,
    /// `auto` or a device path on the machines.
    pub target_disk: String,
    pub wipe: bool,
    pub hostname_pattern: Option<String>,
    pub channel: Option<String>,
    pub reboot: Option<RebootPolicy>,
    /// What the stick says on the screen.
    pub language: Lang,
}

pub fn build(req: &InstallerRequest) -> Result<DiskReport> {
    let d = &req.disk;
    if req.target_disk != "auto" && !req.target_disk.starts_with("/dev/") {
        bail!(
            "--target-disk {}: accepted: auto, or a device path such as /dev/sda or /dev/nvme0n1",
            req.target_disk
        );
    }
    if let Some(p) = &req.hostname_pattern {
        install::hostname::check_pattern(p)
            .map_err(|e| anyhow::anyhow!("--hostname-pattern: {}", e.render(Lang::En)))?;
    }
    let fragment = update_fragment(req.channel.as_deref(), req.reboot)?;
    let repo = Repo::open(&d.repo)?;
    let (commit, follow) = disk::commit_and_follow(&repo, &d.rev, d.follow_ref.as_deref())?;
    for (tool, package) in TOOLS {
        let found = ["usr/bin", "usr/sbin", "bin", "sbin"].iter().any(|dir| {
            repo.read_file(&commit, &format!("{dir}/{tool}"))
                .ok()
                .flatten()
                .is_some()
        });
        if !found {
            bail!("commit {commit} has no {tool}, which the installer runs on each machine; add {package} to the treefile's packages");
        }
    }
    let remote_text = fs::read_to_string(&d.remote_conf)
        .with_context(|| format!("reading {}", d.remote_conf.display()))?;
    let remote =
        mxos_agent::remote_conf::parse(&remote_text, &d.remote_conf.display().to_string())?;
    let keys = install::trusted_keys(&remote, &d.remote_conf)?;
    mxos_sign::verify_commit(&repo, &commit, &keys).with_context(|| {
        format!(
            "the machines would refuse this commit: it is not signed by a key of {}",
            d.remote_conf.display()
        )
    })?;
    let conf_dir = d.remote_conf.parent().unwrap_or(".".as_ref());
    if !install::gpg_verified(&repo, &commit, &remote, conf_dir)? {
        bail!(
            "the machines would refuse this commit: {} requires GPG (gpg-verify=true) and the commit has no GPG signature by its key {}; sign it with `mxos-compose sign --gpg-key-id`",
            d.remote_conf.display(),
            remote.gpg_key_file.as_deref().unwrap_or("-")
        );
    }

    fs::create_dir_all(&d.workdir)?;
    let payload = d.workdir.join("payload");
    if payload.exists() {
        fs::remove_dir_all(&payload)?;
    }
    fs::create_dir_all(&payload)?;
    let cfg = InstallerConfig {
        commit: commit.clone(),
        follow_ref: follow,
        remote_url: d.remote_url.clone(),
        kargs: d.kargs.clone(),
        target_disk: req.target_disk.clone(),
        wipe: req.wipe,
        hostname_pattern: req.hostname_pattern.clone(),
        firmware: d.firmware.as_str().to_owned(),
        esp_mib: d.sizes.esp_mib,
        bios_boot_mib: d.sizes.bios_boot_mib,
    };
    fs::write(payload.join(install::CONFIG_FILE), cfg.render()?)?;
    fs::write(payload.join(install::REMOTE_FILE), &remote_text)?;
    if let Some(key) = &remote.gpg_key_file {
        let src = conf_dir.join(key);
        fs::copy(&src, payload.join(key))
            .with_context(|| format!("copying the remote's GPG key {}", src.display()))?;
    }
    if let Some(text) = &fragment {
        fs::write(payload.join(install::UPDATE_FRAGMENT), text)?;
    }
    // The machines' partitions sit where the stick's do (only the root's end differs), so
    // the boot code made for any disk of this layout fits theirs.
    let machine_layout = layout::layout(d.size_bytes, d.firmware, d.sizes)?;
    let efi = if d.firmware.uefi() {
        Some(crate::esp::find(&repo, &commit)?)
    } else {
        None
    };
    let boot_work = d.workdir.join("machine-boot");
    fs::create_dir_all(&boot_work)?;
    BootCode::build(&machine_layout, efi.as_ref(), ROOT_LABEL, &boot_work)?
        .save(&payload.join(install::BOOT_DIR))?;

    let extras = Extras {
        root_label: Some(STICK_LABEL.to_owned()),
        etc: stick_etc(req.language),
        root_dirs: vec![(payload, install::PAYLOAD_DIR.to_owned())],
    };
    disk::build_with(d, &extras)
}

/// The installed machines' update settings, checked as the agent will read them.
fn update_fragment(channel: Option<&str>, reboot: Option<RebootPolicy>) -> Result<Option<String>> {
    if channel.is_none() && reboot.is_none() {
        return Ok(None);
    }
    let mut text =
        String::from("# Written by the MxOS installer: the school's update settings.\n[updates]\n");
    if let Some(c) = channel {
        text.push_str(&format!("channel = {}\n", toml_string(c)));
    }
    if let Some(r) = reboot {
        text.push_str(&format!("reboot = \"{}\"\n", r.as_str()));
    }
    let name = format!("/etc/{}", install::FRAGMENT_ETC_PATH);
    config::load(Vec::new(), vec![Fragment::new(name, text.clone())])
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Some(text))
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// The stick's own `/etc`: the installer enabled, and the stick never updating itself.
fn stick_etc(language: Lang) -> Vec<EtcEntry> {
    let lang = match language {
        Lang::Es => "es_MX.UTF-8",
        Lang::En => "en_US.UTF-8",
    };
    let unit = format!(
        "[Unit]\n\
         Description=MxOS unattended installer\n\
         Documentation=man:mxos-update(1)\n\
         After=local-fs.target systemd-udevd.service systemd-udev-trigger.service\n\
         # The machine is not for use until the installer is done; a vm or a technician's\n\
         # script that waits for multi-user.target sees the outcome.\n\
         Before=multi-user.target\n\
         ConditionPathExists=/sysroot/{dir}/{cfg}\n\
         # Done: power off so the technician moves the stick to the next machine. A failure\n\
         # leaves the machine on with the reason on the screen.\n\
         SuccessAction=poweroff\n\
         \n\
         [Service]\n\
         Type=oneshot\n\
         Environment=LANG={lang}\n\
         ExecStart=/usr/bin/mxos-update install\n\
         StandardOutput=journal+console\n\
         StandardError=journal+console\n\
         TimeoutStartSec=infinity\n\
         \n\
         [Install]\n\
         WantedBy=multi-user.target\n",
        dir = install::PAYLOAD_DIR,
        cfg = install::CONFIG_FILE,
    );
    vec![
        EtcEntry::File {
            path: format!("systemd/system/{UNIT}"),
            contents: unit.into_bytes(),
            mode: 0o644,
        },
        EtcEntry::Link {
            path: format!("systemd/system/multi-user.target.wants/{UNIT}"),
            target: format!("/etc/systemd/system/{UNIT}"),
        },
        EtcEntry::Link {
            path: "systemd/system/mxos-update.timer".into(),
            target: "/dev/null".into(),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_update_fragment_is_what_the_agent_reads_and_bad_settings_are_refused() {
        let text = update_fragment(Some("lab \"3\""), Some(RebootPolicy::Never))
            .unwrap()
            .unwrap();
        let settings = config::load(Vec::new(), vec![Fragment::new("/etc/x.toml", text)]).unwrap();
        assert_eq!(settings.channel.as_deref(), Some("lab \"3\""));
        assert_eq!(settings.reboot, RebootPolicy::Never);
        assert_eq!(update_fragment(None, None).unwrap(), None);
    }

    #[test]
    fn the_stick_enables_its_installer_and_masks_its_own_updates() {
        let etc = stick_etc(Lang::En);
        let EtcEntry::File { contents, .. } = &etc[0] else {
            panic!("{etc:?}")
        };
        let unit = String::from_utf8_lossy(contents);
        assert!(unit.contains("\nEnvironment=LANG=en_US.UTF-8\n"), "{unit}");
        assert!(unit.contains("\nExecStart=/usr/bin/mxos-update install\n"));
        assert!(unit.contains("\nSuccessAction=poweroff\n"));
        assert!(unit.contains("\nConditionPathExists=/sysroot/mxos-installer/installer.toml\n"));
        assert_eq!(
            etc[2],
            EtcEntry::Link {
                path: "systemd/system/mxos-update.timer".into(),
                target: "/dev/null".into()
            }
        );
    }
}
