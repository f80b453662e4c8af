//! The unattended installer that runs from an MxOS USB stick (`mxos-update install`, started
//! by the stick's `mxos-install.service`): it checks the signature of the commit the stick
//! carries before it writes a byte, chooses the machine's disk, refuses one holding data
//! unless the stick was made with `--wipe`, writes the same system a disk image holds
//! ([`crate::system`]) with the boot code the stick brings, and gives the machine its name,
//! its remote and the school's update settings. Every line it shows is a catalogue message.

pub mod disks;
pub mod hostname;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use mxos_agent::i18n::{short, Text};
use mxos_agent::{refuse, t};
use mxos_repo::Repo;
use serde::{Deserialize, Serialize};

use crate::boot::BootCode;
use crate::layout::{self, Firmware, Sizes};
use crate::system::{self, EtcEntry, Sink, Step, System, ROOT_LABEL};
use disks::{DiskInfo, DiskState};

/// The stick's payload directory, in its physical root (`/sysroot/mxos-installer` once booted).
pub const PAYLOAD_DIR: &str = "mxos-installer";
pub const CONFIG_FILE: &str = "installer.toml";
/// The published remote config, as the stick's maker gave it.
pub const REMOTE_FILE: &str = "mxos.conf";
/// The update settings the installed machine gets (channel, reboot policy).
pub const UPDATE_FRAGMENT: &str = "update.toml";
/// The boot code for the machine's disk ([`BootCode::save`]).
pub const BOOT_DIR: &str = "boot";
/// Where, under the installed machine's `/etc`, the update settings go.
pub const FRAGMENT_ETC_PATH: &str = "mxos/update.d/50-installer.toml";

/// What the stick's maker decided, as `installer.toml` keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct InstallerConfig {
    pub commit: String,
    /// The ref the installed machine follows.
    pub follow_ref: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_url: Option<String>,
    #[serde(default)]
    pub kargs: Vec<String>,
    /// `auto` or a device path.
    pub target_disk: String,
    /// Whether a disk holding data may be erased.
    pub wipe: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname_pattern: Option<String>,
    pub firmware: String,
    pub esp_mib: u64,
    pub bios_boot_mib: u64,
}

impl InstallerConfig {
    pub fn parse(text: &str, source: &str) -> Result<InstallerConfig> {
        toml::from_str(text).map_err(|e| {
            anyhow::Error::new(t!(
                "install-bad-config",
                file = source,
                message = e.message()
            ))
        })
    }

    pub fn render(&self) -> Result<String> {
        Ok(format!(
            "# Written by `mxos-compose installer`: what this stick installs, and where.\n{}",
            toml::to_string(self)?
        ))
    }
}

/// Where the installer finds things on the running stick.
pub struct InstallRequest<'a> {
    /// The stick's payload: `/sysroot/mxos-installer`.
    pub payload: &'a Path,
    /// The stick's repo, holding the commit: `/sysroot/ostree/repo`.
    pub source_repo: &'a Path,
    /// The disk the stick itself is, never a target.
    pub boot_disk: Option<String>,
    pub disks: Vec<DiskInfo>,
    /// What the system takes on the stick's own root (repo, deployment, /var): a machine's
    /// root needs as much.
    pub root_bytes_needed: u64,
    pub facts: hostname::MachineFacts,
    pub work: &'a Path,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallReport {
    pub disk: String,
    pub commit: String,
    pub hostname: Option<String>,
}

/// How many numbered steps the screen shows.
const STEPS: u32 = 8;

/// Installs; `say` shows each line to the technician. An error says whether anything was
/// written: [`Unwritten`] is in its chain when the disk was left as it was.
pub fn install(req: &InstallRequest, say: &mut dyn FnMut(Text)) -> Result<InstallReport> {
    let cfg_path = req.payload.join(CONFIG_FILE);
    let text = fs::read_to_string(&cfg_path)
        .with_context(|| format!("reading {}", cfg_path.display()))
        .context(Unwritten)?;
    let cfg = InstallerConfig::parse(&text, &cfg_path.display().to_string()).context(Unwritten)?;
    let p = prepare(req, &cfg, say).context(Unwritten)?;
    let system = System {
        source_repo: req.source_repo,
        commit: &cfg.commit,
        follow: &cfg.follow_ref,
        remote: &p.remote,
        remote_dir: req.payload,
        kargs: &cfg.kargs,
        root_label: ROOT_LABEL,
        generator: &p.generator,
        etc: &p.etc,
        root_dirs: &[],
    };
    let dev = PathBuf::from(p.target.path());
    system::write(
        Sink::Device(&dev),
        &p.layout,
        &system,
        &p.boot,
        req.work,
        &mut |s| {
            let (n, what) = match s {
                Step::Partition => (3, t!("install-partition")),
                Step::Format => (4, t!("install-format")),
                Step::Copy => (5, t!("install-copy")),
                Step::Deploy => (6, t!("install-deploy")),
                Step::Label => (7, t!("install-label")),
                Step::Boot => (8, t!("install-boot")),
            };
            say(step(n, what));
        },
    )
    .with_context(|| t!("install-write-failed", disk = p.target.path()))?;
    say(t!(
        "install-done",
        version = &p.version,
        disk = p.target.describe(),
        hostname = p.hostname.clone().unwrap_or_else(|| "-".to_owned())
    ));
    Ok(InstallReport {
        disk: p.target.path(),
        commit: cfg.commit.clone(),
        hostname: p.hostname,
    })
}

/// In an error's chain: the installer stopped before writing anything on any disk.
#[derive(Debug, Clone, Copy)]
pub struct Unwritten;

impl std::fmt::Display for Unwritten {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&t!("install-nothing-written").to_string())
    }
}

fn step(n: u32, what: Text) -> Text {
    t!("install-step", n = n, total = STEPS).nested("what", what)
}

struct Prepared {
    target: DiskInfo,
    remote: mxos_agent::remote_conf::RemoteConf,
    version: String,
    layout: layout::Layout,
    boot: BootCode,
    etc: Vec<EtcEntry>,
    hostname: Option<String>,
    generator: PathBuf,
}

/// Everything decided and read before the first byte is written.
fn prepare(
    req: &InstallRequest,
    cfg: &InstallerConfig,
    say: &mut dyn FnMut(Text),
) -> Result<Prepared> {
    let remote_path = req.payload.join(REMOTE_FILE);
    let remote_text = fs::read_to_string(&remote_path)
        .with_context(|| format!("reading {}", remote_path.display()))?;
    let mut remote =
        mxos_agent::remote_conf::parse(&remote_text, &remote_path.display().to_string())?;
    if let Some(url) = &cfg.remote_url {
        remote.url = url.clone();
    }

    say(step(1, t!("install-verify")));
    let repo = Repo::open(req.source_repo)?;
    let keys = trusted_keys(&remote, &remote_path)?;
    mxos_sign::verify_commit(&repo, &cfg.commit, &keys)
        .with_context(|| t!("install-not-verified", commit = &cfg.commit))?;
    if !gpg_verified(&repo, &cfg.commit, &remote, req.payload)? {
        refuse!("install-not-gpg-signed", commit = &cfg.commit);
    }
    let version = repo
        .commit_info(&cfg.commit)?
        .version()
        .map_or_else(|| short(&cfg.commit).to_owned(), str::to_owned);
    say(t!(
        "install-verified",
        version = &version,
        commit = short(&cfg.commit)
    ));

    say(step(2, t!("install-choose")));
    let firmware = Firmware::parse(&cfg.firmware).map_err(anyhow::Error::msg)?;
    let sizes = Sizes {
        esp_mib: cfg.esp_mib,
        bios_boot_mib: cfg.bios_boot_mib,
    };
    // The partitions with the smallest root, and the root at least as large as the stick's.
    let min_bytes = match layout::layout(0, firmware, sizes) {
        Err(e) => e.needed_mib << 20,
        Ok(_) => 0,
    } + req.root_bytes_needed;
    let target = disks::choose(
        &req.disks,
        req.boot_disk.as_deref(),
        &cfg.target_disk,
        min_bytes,
    )?;
    say(t!("install-chosen", disk = target.describe()));
    // lsblk reads what udev probed; a disk udev is still probing would look empty.
    mxos_process::run(Command::new("udevadm").args(["settle", "--timeout=30"])).ok();
    let lsblk = mxos_process::run(
        Command::new("lsblk")
            .args(["-P", "-n", "-o", "NAME,TYPE,FSTYPE,PTTYPE,PARTLABEL"])
            .arg(target.path()),
    )
    .with_context(|| format!("looking at what {} holds", target.path()))?;
    match disks::disk_state(&String::from_utf8_lossy(&lsblk.stdout)) {
        DiskState::Empty => {}
        DiskState::Unfinished => say(t!("install-unfinished", disk = target.path())),
        DiskState::Data(found) if cfg.wipe => say(t!(
            "install-wiping",
            disk = target.path(),
            found = found.join(", ")
        )),
        DiskState::Data(found) => refuse!(
            "install-refused-data",
            disk = target.describe(),
            found = found.join(", ")
        ),
    }
    let layout = layout::layout(target.size_bytes, firmware, sizes)?;
    let boot = BootCode::load(&req.payload.join(BOOT_DIR), &layout)?;

    let mut etc = Vec::new();
    let hostname = match &cfg.hostname_pattern {
        Some(p) => Some(hostname::hostname(p, &req.facts)?),
        None => None,
    };
    if let Some(name) = &hostname {
        etc.push(EtcEntry::File {
            path: "hostname".into(),
            contents: format!("{name}\n").into_bytes(),
            mode: 0o644,
        });
    }
    let fragment = req.payload.join(UPDATE_FRAGMENT);
    if fragment.exists() {
        etc.push(EtcEntry::File {
            path: FRAGMENT_ETC_PATH.into(),
            contents: fs::read(&fragment)
                .with_context(|| format!("reading {}", fragment.display()))?,
            mode: 0o644,
        });
    }
    let generator =
        crate::disk::write_generator(&crate::disk::read_generator(&repo, &cfg.commit)?, req.work)?;
    Ok(Prepared {
        target,
        remote,
        version,
        layout,
        boot,
        etc,
        hostname,
        generator,
    })
}

/// Whether the commit carries what a remote with `gpg-verify=true` also requires: a GPG
/// signature by the key the config names (in `dir`, beside it). Always true for a remote that
/// requires none.
pub(crate) fn gpg_verified(
    repo: &Repo,
    commit: &str,
    remote: &mxos_agent::remote_conf::RemoteConf,
    dir: &Path,
) -> Result<bool> {
    let (true, Some(file)) = (remote.gpg_verify, &remote.gpg_key_file) else {
        return Ok(true);
    };
    let path = dir.join(file);
    let key = fs::read(&path)
        .with_context(|| format!("reading the remote's GPG key {}", path.display()))?;
    repo.gpg_signed_by(commit, &key)
}

/// The ed25519 keys a remote config trusts.
pub(crate) fn trusted_keys(
    remote: &mxos_agent::remote_conf::RemoteConf,
    source: &Path,
) -> Result<Vec<mxos_sign::PublicKey>> {
    remote
        .ed25519_keys
        .iter()
        .map(|k| mxos_sign::PublicKey::from_base64(k))
        .collect::<Result<Vec<_>>>()
        .with_context(|| format!("reading the keys of {}", source.display()))
}

/// The machine's disks as `/sys/block` lists them.
pub fn list_disks(sys_block: &Path) -> Result<Vec<DiskInfo>> {
    let mut out = Vec::new();
    for e in fs::read_dir(sys_block).with_context(|| format!("listing {}", sys_block.display()))? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        if !disks::is_candidate_name(&name) {
            continue;
        }
        let read = |f: &str| {
            fs::read_to_string(e.path().join(f))
                .ok()
                .map(|s| s.trim().to_owned())
        };
        let sectors: u64 = read("size").and_then(|s| s.parse().ok()).unwrap_or(0);
        if sectors == 0 {
            continue;
        }
        out.push(DiskInfo {
            name,
            size_bytes: sectors * 512,
            removable: read("removable").as_deref() == Some("1"),
            read_only: read("ro").as_deref() == Some("1"),
            model: read("device/model").filter(|m| !m.is_empty()),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The whole disk a mounted path lives on (`/sysroot` → `vda`), so it is never a target.
pub fn disk_of_mount(mountpoint: &str) -> Option<String> {
    let out =
        mxos_process::run(Command::new("findmnt").args(["-n", "-o", "SOURCE", mountpoint])).ok()?;
    let source = String::from_utf8_lossy(&out.stdout).into_owned();
    let dev = source.trim().split('[').next()?.trim().to_owned();
    let name = Path::new(&dev).file_name()?.to_string_lossy().into_owned();
    let sys = fs::canonicalize(format!("/sys/class/block/{name}")).ok()?;
    if sys.join("partition").exists() {
        sys.parent()?
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
    } else {
        Some(name)
    }
}

/// Bytes in use on the filesystem holding `path` (`stat -f`); 0 when it cannot tell.
pub fn used_bytes(path: &Path) -> u64 {
    let out = mxos_process::run(
        Command::new("stat")
            .args(["-f", "-c", "%b %f %S"])
            .arg(path),
    );
    let Ok(out) = out else { return 0 };
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let n: Vec<u64> = text
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    match n[..] {
        [blocks, free, size] => blocks.saturating_sub(free) * size,
        _ => 0,
    }
}

/// What the machine says about itself, for the host name.
pub fn machine_facts() -> hostname::MachineFacts {
    let serial = fs::read_to_string("/sys/class/dmi/id/product_serial")
        .ok()
        .map(|s| s.trim().to_owned());
    let mut macs: Vec<(String, String)> = fs::read_dir("/sys/class/net")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let mac = fs::read_to_string(e.path().join("address")).ok()?;
            let mac = mac.trim().to_owned();
            (name != "lo" && mac != "00:00:00:00:00:00" && !mac.is_empty()).then_some((name, mac))
        })
        .collect();
    macs.sort();
    hostname::MachineFacts {
        serial,
        mac: macs.into_iter().next().map(|(_, m)| m),
    }
}
