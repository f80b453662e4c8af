//! Bootable disk images: a GPT, an ext4 root holding an OSTree sysroot with the deployment
//! and its remote, and GRUB booting the default deployment with the previous ones in its
//! menu: from a BIOS boot partition on BIOS machines, and through the tree's signed shim and
//! GRUB on an EFI system partition on UEFI ones, Secure Boot included.
//!
//! The image is assembled in `FILE.partial` and renamed only when complete, so a failure
//! (a full disk, a missing kernel) never leaves something that looks like a valid image.

use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use mxos_process::run;
use mxos_repo::Repo;

use crate::layout::{self, Firmware, Layout, Partition, Sizes, SECTOR};

/// The filesystem label kernel arguments find the root by.
pub const ROOT_LABEL: &str = "mxos-root";
/// Where MxOS trees carry their grub.cfg generator (the `mx-boot` overlay).
pub const GRUB_GENERATOR: &str = "usr/libexec/mxos/grub-bls-gen";
const GRUB_MODULES: &[&str] = &[
    "biosdisk",
    "part_gpt",
    "ext2",
    "normal",
    "boot",
    "linux",
    "configfile",
    "echo",
    "test",
    "serial",
    "terminal",
    "search",
    "search_label",
    "loadenv",
    "ls",
    "cat",
    "halt",
    "reboot",
];

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

pub fn build(req: &DiskRequest) -> Result<DiskReport> {
    let repo = Repo::open(&req.repo)?;
    let commit = repo.require(&req.rev)?;
    let follow = match &req.follow_ref {
        Some(r) => r.clone(),
        None if req.rev != commit => req.rev.clone(),
        None => bail!(
            "{} is a commit; say which ref the machine follows with --ref",
            req.rev
        ),
    };
    let generator = repo.read_file(&commit, GRUB_GENERATOR)?.with_context(|| {
        format!("commit {commit} has no /{GRUB_GENERATOR}; add the `mx-boot` overlay to the treefile so the disk can boot and update")
    })?;
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

    fs::create_dir_all(&req.workdir)?;
    let generator_path = req.workdir.join("grub-bls-gen");
    fs::write(&generator_path, generator)?;
    fs::set_permissions(&generator_path, fs::Permissions::from_mode(0o755))?;

    let partial = with_suffix(&req.output, ".partial");
    let raw = with_suffix(&req.output, ".partial.raw");
    for p in [&partial, &raw] {
        if p.exists() {
            fs::remove_file(p)?;
        }
    }
    let result = (|| -> Result<()> {
        assemble(
            req,
            &raw,
            &layout,
            efi.as_ref(),
            &Target {
                commit: &commit,
                follow: &follow,
                remote: &remote,
                generator: &generator_path,
            },
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

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// What goes onto the root.
struct Target<'a> {
    commit: &'a str,
    follow: &'a str,
    remote: &'a mxos_agent::remote_conf::RemoteConf,
    generator: &'a Path,
}

fn assemble(
    req: &DiskRequest,
    raw: &Path,
    layout: &Layout,
    efi: Option<&crate::esp::EfiBinaries>,
    target: &Target,
) -> Result<()> {
    // Reserve every block up front: a disk that is too full fails here, with a clear
    // message, instead of as an I/O error from the loop device halfway through.
    run(Command::new("fallocate").arg("-l").arg(req.size_bytes.to_string()).arg(raw)).with_context(|| {
        format!(
            "reserving {} MiB for the image next to {}; free some space or choose a smaller --size-mib",
            req.size_bytes >> 20,
            req.output.display()
        )
    })?;
    run(Command::new("sgdisk")
        .args(layout::sgdisk_args(layout))
        .arg(raw))
    .context("writing the partition table")?;

    let root = &layout.root;
    run(Command::new("mkfs.ext4")
        .args(["-q", "-F", "-L", ROOT_LABEL])
        // GRUB 2.06 cannot read filesystems with these newer ext4 features.
        .args(["-O", "^metadata_csum_seed,^orphan_file"])
        .arg("-E")
        .arg(format!("offset={}", root.start))
        .arg(raw)
        .arg(format!("{}k", root.size / 1024)))
    .context("creating the root filesystem")?;

    let mnt = req.workdir.join("mnt");
    fs::create_dir_all(&mnt)?;
    run(Command::new("mount")
        .arg("-o")
        .arg(format!(
            "loop,offset={},sizelimit={}",
            root.start, root.size
        ))
        .arg(raw)
        .arg(&mnt))
    .context("mounting the new root filesystem")?;
    let mounted = Mounted(mnt.clone());
    populate(req, &mnt, target)?;
    drop(mounted);

    if let Some(bios_boot) = &layout.bios_boot {
        install_grub(raw, &req.workdir, bios_boot, root)?;
    }
    if let (Some(esp), Some(bins)) = (&layout.esp, efi) {
        let image = req.workdir.join("esp.img");
        crate::esp::build(&image, esp.size, bins, &req.workdir)?;
        write_at(raw, esp.start, &fs::read(&image)?)
            .context("writing the EFI system partition into the image")?;
    }
    Ok(())
}

fn write_at(raw: &Path, offset: u64, bytes: &[u8]) -> Result<()> {
    let mut f = fs::OpenOptions::new().write(true).open(raw)?;
    f.seek(SeekFrom::Start(offset))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

/// Unmounts on every exit path, so a failure does not leave a loop mount behind.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = run(Command::new("umount").arg(&self.0));
    }
}

fn populate(req: &DiskRequest, mnt: &Path, target: &Target) -> Result<()> {
    let Target {
        commit,
        follow,
        remote,
        generator,
    } = *target;
    let sysroot = format!("--sysroot={}", mnt.display());
    let repo_arg = format!("--repo={}", mnt.join("ostree/repo").display());
    run(Command::new("ostree").args(["admin", "init-fs"]).arg(mnt))?;
    run(Command::new("ostree").args(["admin", "os-init", mxos_agent::STATEROOT, &sysroot]))?;
    // Always grub2, without depending on what libostree would detect.
    run(Command::new("ostree").args(["config", &repo_arg, "set", "sysroot.bootloader", "grub2"]))?;
    run(Command::new("ostree")
        .args(["pull-local", &repo_arg])
        .arg(&req.repo)
        .arg(commit))
    .context("copying the commit into the image")?;
    // A remote that requires GPG names its key, published beside the config.
    let gpg_path = remote
        .gpg_key_file
        .as_ref()
        .map(|f| req.remote_conf.parent().unwrap_or(Path::new(".")).join(f));
    let gpg_key = match (&gpg_path, remote.gpg_verify) {
        (Some(p), true) => Some(
            fs::read(p).with_context(|| format!("reading the remote's GPG key {}", p.display()))?,
        ),
        _ => None,
    };
    mxos_agent::init(&mxos_agent::InitRequest {
        sysroot: mnt,
        remote,
        reference: follow,
        gpg_key: gpg_path.as_deref().zip(gpg_key.as_deref()),
    })?;
    let refspec = format!("{}:{follow}", remote.name);
    Repo::open(&mnt.join("ostree/repo"))?.set_ref(&refspec, Some(commit))?;

    let grub_dir = mnt.join("boot/grub2");
    fs::create_dir_all(&grub_dir)?;
    std::os::unix::fs::symlink("../loader/grub.cfg", grub_dir.join("grub.cfg"))?;
    // GRUB can rewrite its environment block but never create it: boot counting needs it.
    fs::write(
        grub_dir.join("grubenv"),
        mxos_agent::grubenv::render(&Default::default())?,
    )?;
    let mut deploy = Command::new("ostree");
    deploy
        .env("OSTREE_GRUB2_EXEC", generator)
        .args([
            "admin",
            "deploy",
            &sysroot,
            &format!("--os={}", mxos_agent::STATEROOT),
        ])
        .arg(format!("--karg=root=LABEL={ROOT_LABEL}"))
        .arg("--karg=rw");
    for k in &req.kargs {
        deploy.arg(format!("--karg={k}"));
    }
    run(deploy.arg(&refspec)).context("deploying the commit into the image")?;
    label_outside_the_commit(mnt, commit)?;
    let cfg = fs::read_to_string(mnt.join("boot/loader/grub.cfg"))
        .context("reading the generated grub.cfg")?;
    if !cfg.contains("menuentry") {
        bail!("the generated grub.cfg has no boot entry:\n{cfg}");
    }
    run(&mut Command::new("sync"))?;
    Ok(())
}

/// A deployment made on a build host without SELinux has an unlabelled `/etc` (libostree's
/// copy of `/usr/etc`) and `/var`, and the physical root around it is unlabelled too: label
/// them from the deployment's own policy, as a machine booted with SELinux would have them.
/// Trees without a policy are left as they are.
fn label_outside_the_commit(mnt: &Path, commit: &str) -> Result<()> {
    let stateroot = mnt.join("ostree/deploy").join(mxos_agent::STATEROOT);
    let deployment = stateroot.join(format!("deploy/{commit}.0"));
    if mxos_repo::tree_policy(&deployment)?.is_none() {
        return Ok(());
    }
    let labels = mxos_repo::Labelling {
        policy_root: deployment.clone(),
        version: mxos_repo::LabelVersion::UsrEtcAsEtc,
    };
    create_layout_targets(&deployment, &stateroot.join("var"))?;
    mxos_repo::label_on_disk(&deployment.join("etc"), "/etc", &labels)
        .context("labelling the deployment's /etc")?;
    mxos_repo::label_on_disk(&stateroot.join("var"), "/var", &labels)
        .context("labelling the stateroot's /var")?;
    mxos_repo::label_on_disk(&mnt.join("boot"), "/boot", &labels).context("labelling /boot")?;
    mxos_repo::label_entries_on_disk(&physical_root_entries(mnt, &stateroot)?, &labels)
        .context("labelling the physical root")
}

/// The directories of the physical root, labelled as the policy labels them at `/` (its
/// `tmp` is the machine's `/tmp`), down to the stateroot: never below `ostree/repo` or into a
/// deployment, whose files are hard links of the repo's objects and carry the commit's labels.
fn physical_root_entries(mnt: &Path, stateroot: &Path) -> Result<Vec<(PathBuf, String)>> {
    let mut entries = vec![(mnt.to_path_buf(), "/".to_owned())];
    for e in fs::read_dir(mnt).context("listing the physical root")? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name != "boot" {
            entries.push((e.path(), format!("/{name}")));
        }
    }
    for dir in [
        mnt.join("ostree/deploy"),
        mnt.join("ostree/repo"),
        stateroot.to_path_buf(),
        stateroot.join("deploy"),
    ] {
        let on_machine = format!("/{}", dir.strip_prefix(mnt)?.display());
        entries.push((dir, on_machine));
    }
    Ok(entries)
}

/// Creates in the stateroot's `/var` the directories the tree's top-level links point into
/// (`/mnt` → `var/mnt`, `/usr/local` → `../var/usrlocal`), so that they are labelled here.
/// Left to the first boot, one is made before the policy is loaded and stays unlabelled.
fn create_layout_targets(deployment: &Path, var: &Path) -> Result<()> {
    let mut links = Vec::new();
    for e in fs::read_dir(deployment).context("listing the deployment")? {
        links.push(e?.path());
    }
    links.push(deployment.join("usr/local"));
    for link in links {
        let Ok(target) = fs::read_link(&link) else {
            continue;
        };
        let target = target.to_string_lossy();
        let Some(rest) = target
            .strip_prefix("var/")
            .or_else(|| target.strip_prefix("../var/"))
        else {
            continue;
        };
        let dir = var.join(rest);
        if !dir.exists() {
            fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let mode = if rest == "roothome" { 0o700 } else { 0o755 };
            fs::set_permissions(&dir, fs::Permissions::from_mode(mode))?;
        }
    }
    Ok(())
}

/// Where boot.img keeps the sector of core.img, and where core.img's first sector keeps the
/// sector of the rest of it (GRUB's `kernel_sector` and diskboot's block list): grub-setup
/// writes them, and grub-setup needs a real block device.
const BOOT_IMG_KERNEL_SECTOR: usize = 0x5c;
const DISKBOOT_BLOCKLIST_START: usize = 500;

/// BIOS GRUB without grub-install (which cannot use a loop device at an offset): core.img in
/// the BIOS boot partition, boot.img's code in the protective MBR, both told where core.img
/// is, and the prefix pointing at the root's /boot/grub2.
fn install_grub(raw: &Path, work: &Path, bios_boot: &Partition, root: &Partition) -> Result<()> {
    let core = work.join("core.img");
    run(Command::new("grub-mkimage")
        .args(["-O", "i386-pc", "-p"])
        .arg(format!("(hd0,gpt{})/boot/grub2", root.number))
        .arg("-o")
        .arg(&core)
        .args(GRUB_MODULES))
    .context("building GRUB's core image")?;
    let mut core_bytes = fs::read(&core)?;
    if core_bytes.len() as u64 > bios_boot.size {
        bail!(
            "GRUB's core image ({} bytes) does not fit in the {} KiB BIOS boot partition; give a larger --bios-boot-mib",
            core_bytes.len(),
            bios_boot.size / 1024
        );
    }
    let first = bios_boot.first_sector();
    core_bytes[DISKBOOT_BLOCKLIST_START..DISKBOOT_BLOCKLIST_START + 8]
        .copy_from_slice(&(first + 1).to_le_bytes());
    let mut boot_img = fs::read("/usr/lib/grub/i386-pc/boot.img")
        .context("reading /usr/lib/grub/i386-pc/boot.img (package grub-pc-bin)")?;
    boot_img[BOOT_IMG_KERNEL_SECTOR..BOOT_IMG_KERNEL_SECTOR + 8]
        .copy_from_slice(&first.to_le_bytes());
    // Only the boot code: bytes 440.. hold the disk signature and the protective MBR.
    write_at(raw, 0, &boot_img[..440])?;
    write_at(raw, first * SECTOR, &core_bytes).context("writing GRUB to the disk image")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn the_layout_links_targets_are_made_in_var_and_nothing_else() {
        let t = tempfile::tempdir().unwrap();
        let (deployment, var) = (t.path().join("deploy"), t.path().join("var"));
        fs::create_dir_all(deployment.join("usr")).unwrap();
        fs::create_dir_all(var.join("home")).unwrap();
        fs::set_permissions(var.join("home"), fs::Permissions::from_mode(0o751)).unwrap();
        for (link, target) in [
            ("mnt", "var/mnt"),
            ("root", "var/roothome"),
            ("home", "var/home"),
            ("tmp", "sysroot/tmp"),
            ("media", "run/media"),
            ("bin", "usr/bin"),
            ("usr/local", "../var/usrlocal"),
        ] {
            symlink(target, deployment.join(link)).unwrap();
        }
        create_layout_targets(&deployment, &var).unwrap();
        let mut made: Vec<(String, u32)> = fs::read_dir(&var)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let mode = e.metadata().unwrap().permissions().mode() & 0o7777;
                (e.file_name().to_string_lossy().into_owned(), mode)
            })
            .collect();
        made.sort();
        // An existing directory keeps its mode; root's home is private.
        assert_eq!(
            made,
            [
                ("home".to_owned(), 0o751),
                ("mnt".to_owned(), 0o755),
                ("roothome".to_owned(), 0o700),
                ("usrlocal".to_owned(), 0o755),
            ]
        );
    }

    #[test]
    fn the_physical_root_is_labelled_down_to_the_stateroot_only() {
        let t = tempfile::tempdir().unwrap();
        let mnt = t.path();
        let stateroot = mnt.join("ostree/deploy/mxos");
        for d in [
            "boot/loader",
            "tmp",
            "ostree/repo/objects",
            "ostree/deploy/mxos/deploy/abc.0",
        ] {
            fs::create_dir_all(mnt.join(d)).unwrap();
        }
        let mut entries: Vec<String> = physical_root_entries(mnt, &stateroot)
            .unwrap()
            .into_iter()
            .map(|(path, on_machine)| {
                assert_eq!(path, mnt.join(on_machine.trim_start_matches('/')));
                on_machine
            })
            .collect();
        entries.sort();
        assert_eq!(
            entries,
            [
                "/",
                "/ostree",
                "/ostree/deploy",
                "/ostree/deploy/mxos",
                "/ostree/deploy/mxos/deploy",
                "/ostree/repo",
                "/tmp"
            ]
        );
    }
}
