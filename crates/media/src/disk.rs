//! Bootable disk images: the system [`crate::system`] writes (GPT, an ext4 root holding an
//! OSTree sysroot with the deployment and its remote), and GRUB booting the default
//! deployment with the previous ones in its menu: from a BIOS boot partition on BIOS
//! machines, and through the tree's signed shim and GRUB on an EFI system partition on UEFI
//! ones, Secure Boot included.
//!
//! The image is assembled in `FILE.partial` and renamed only when complete, so a failure
//! (a full disk, a missing kernel) never leaves something that looks like a valid image.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use mxos_process::run;
use mxos_repo::Repo;

use crate::boot::BootCode;
use crate::layout::{self, Firmware, Sizes};
use crate::system::{self, EtcEntry, Sink, System};

pub use crate::system::ROOT_LABEL;
/// Where MxOS trees carry their grub.cfg generator (the `mx-boot` overlay).
pub const GRUB_GENERATOR: &str = "usr/libexec/mxos/grub-bls-gen";
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskFormat {
    Raw,
    Qcow2,
}

impl DiskFormat {
    pub fn parse(s: &str) -> Result<DiskFormat> {
        match s {
            "raw" => Ok(DiskFormat::Raw),
            "qcow2" => Ok(DiskFormat::Qcow2),
            other => bail!("unknown disk format `{other}`; accepted: raw, qcow2"),
        }
    }
}

pub struct DiskRequest {
    pub repo: PathBuf,
    /// A ref or commit of `repo`.
    pub rev: String,
    /// The ref the installed machine follows (default: `rev` when it is a ref).
    pub follow_ref: Option<String>,
    pub output: PathBuf,
    pub format: DiskFormat,
    pub size_bytes: u64,
    /// The published remote config (`mxos.conf`), so the machine can update.
    pub remote_conf: PathBuf,
    /// Replaces the remote's `url=`, e.g. the address a VM or a school mirror uses.
    pub remote_url: Option<String>,
    pub kargs: Vec<String>,
    pub workdir: PathBuf,
    pub firmware: Firmware,
    pub sizes: Sizes,
}

#[derive(Debug)]
pub struct DiskReport {
    pub commit: String,
    /// The ref the installed machine follows.
    pub follow_ref: String,
    pub path: PathBuf,
    /// Bytes the image occupies on disk (sparse raw or qcow2).
    pub allocated_bytes: u64,
}

/// What an installer stick adds to a plain disk image.
#[derive(Debug, Default)]
pub struct Extras {
    /// The root's filesystem label instead of [`ROOT_LABEL`].
    pub root_label: Option<String>,
    pub etc: Vec<EtcEntry>,
    /// Directories copied into the physical root: (source, name there).
    pub root_dirs: Vec<(PathBuf, String)>,
}

pub fn build(req: &DiskRequest) -> Result<DiskReport> {
    build_with(req, &Extras::default())
}

pub fn build_with(req: &DiskRequest, extras: &Extras) -> Result<DiskReport> {
    let repo = Repo::open(&req.repo)?;
    let (commit, follow) = commit_and_follow(&repo, &req.rev, req.follow_ref.as_deref())?;
    // Read before anything is written: a tree that cannot boot or update is refused now.
    let generator = read_generator(&repo, &commit)?;
    let remote_text = fs::read_to_string(&req.remote_conf)
        .with_context(|| format!("reading {}", req.remote_conf.display()))?;
    let mut remote =
        mxos_agent::remote_conf::parse(&remote_text, &req.remote_conf.display().to_string())?;
    if let Some(url) = &req.remote_url {
        remote.url = url.clone();
    }
    let layout = layout::layout(req.size_bytes, req.firmware, req.sizes)?;
    // Before writing a byte: a tree that cannot boot on UEFI is refused now.
    let efi = if req.firmware.uefi() {
        Some(crate::esp::find(&repo, &commit)?)
    } else {
        None
    };

    let generator_path = write_generator(&generator, &req.workdir)?;

    let partial = with_suffix(&req.output, ".partial");
    let raw = with_suffix(&req.output, ".partial.raw");
    for p in [&partial, &raw] {
        if p.exists() {
            fs::remove_file(p)?;
        }
    }
    let result = (|| -> Result<()> {
        // Reserve every block up front: a disk that is too full fails here, with a clear
        // message, instead of as an I/O error from the loop device halfway through.
        run(Command::new("fallocate").arg("-l").arg(req.size_bytes.to_string()).arg(&raw)).with_context(|| {
            format!(
                "reserving {} MiB for the image next to {}; free some space or choose a smaller --size-mib",
                req.size_bytes >> 20,
                req.output.display()
            )
        })?;
        let root_label = extras.root_label.as_deref().unwrap_or(ROOT_LABEL);
        let boot = BootCode::build(&layout, efi.as_ref(), root_label, &req.workdir)?;
        let root_dirs: Vec<(&Path, &str)> = extras
            .root_dirs
            .iter()
            .map(|(p, n)| (p.as_path(), n.as_str()))
            .collect();
        let remote_dir = req.remote_conf.parent().unwrap_or(Path::new("."));
        let system = System {
            source_repo: &req.repo,
            commit: &commit,
            follow: &follow,
            remote: &remote,
            remote_dir,
            kargs: &req.kargs,
            root_label,
            generator: &generator_path,
            etc: &extras.etc,
            root_dirs: &root_dirs,
        };
        system::write(
            Sink::Image(&raw),
            &layout,
            &system,
            &boot,
            &req.workdir,
            &mut |_| {},
        )?;
        match req.format {
            DiskFormat::Raw => fs::rename(&raw, &partial)?,
            DiskFormat::Qcow2 => {
                run(Command::new("qemu-img")
                    .args(["convert", "-O", "qcow2"])
                    .arg(&raw)
                    .arg(&partial))
                .context("converting to qcow2")?;
                fs::remove_file(&raw)?;
            }
        }
        fs::rename(&partial, &req.output)
            .with_context(|| format!("installing {}", req.output.display()))
    })();
    if let Err(e) = result {
        // Never leave a half-written image behind, under any name.
        fs::remove_file(&raw).ok();
        fs::remove_file(&partial).ok();
        return Err(e.context(format!("building disk image {}", req.output.display())));
    }
    use std::os::unix::fs::MetadataExt;
    let allocated_bytes = fs::metadata(&req.output)?.blocks() * 512;
    Ok(DiskReport {
        commit,
        follow_ref: follow,
        path: req.output.clone(),
        allocated_bytes,
    })
}

/// The commit `rev` names and the ref the machine follows: `follow_ref`, else `rev` itself
/// when it is a ref.
pub(crate) fn commit_and_follow(
    repo: &Repo,
    rev: &str,
    follow_ref: Option<&str>,
) -> Result<(String, String)> {
    let commit = repo.require(rev)?;
    let follow = match follow_ref {
        Some(r) => r.to_owned(),
        None if rev != commit => rev.to_owned(),
        None => bail!("{rev} is a commit; say which ref the machine follows with --ref"),
    };
    Ok((commit, follow))
}

/// The commit's grub.cfg generator, which libostree runs whenever the boot order changes.
pub(crate) fn read_generator(repo: &Repo, commit: &str) -> Result<Vec<u8>> {
    repo.read_file(commit, GRUB_GENERATOR)?.with_context(|| {
        format!("commit {commit} has no /{GRUB_GENERATOR}; add the `mx-boot` overlay to the treefile so the disk can boot and update")
    })
}

/// Puts the generator where this host can run it.
pub(crate) fn write_generator(script: &[u8], dir: &Path) -> Result<PathBuf> {
    fs::create_dir_all(dir)?;
    let path = dir.join("grub-bls-gen");
    fs::write(&path, script)?;
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755))?;
    Ok(path)
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}
