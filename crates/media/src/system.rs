//! Writes an MxOS system onto a disk: a GPT, an ext4 root holding an OSTree sysroot with the
//! deployment and its remote, the deployment's and the physical root's SELinux labels, and
//! the boot code. The same steps make a disk image on the build host (`mxos-compose disk`)
//! and a machine's disk from an installer stick (`mxos-update install`).
//!
//! The order keeps an interrupted write from ever booting: a device's old boot code is
//! erased first, the root is named [`INCOMPLETE_ROOT_NAME`](crate::layout::INCOMPLETE_ROOT_NAME)
//! while it is written, the boot code goes on after the root is complete and synced, the
//! MBR's last, and only then is the root renamed `root`.

use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use mxos_agent::remote_conf::RemoteConf;
use mxos_process::run;
use mxos_repo::Repo;

use crate::boot::BootCode;
use crate::layout::{self, Layout};

/// The filesystem label kernel arguments find an installed root by.
pub const ROOT_LABEL: &str = "mxos-root";

/// What the system is written onto.
#[derive(Debug, Clone, Copy)]
pub enum Sink<'a> {
    /// A disk image file of the layout's size, already allocated.
    Image(&'a Path),
    /// A whole block device, e.g. `/dev/sda`.
    Device(&'a Path),
}

impl Sink<'_> {
    fn path(&self) -> &Path {
        match self {
            Sink::Image(p) | Sink::Device(p) => p,
        }
    }
}

/// A file or link for the deployment's `/etc` (machine settings the commit does not carry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EtcEntry {
    File {
        path: String,
        contents: Vec<u8>,
        mode: u32,
    },
    Link {
        path: String,
        target: String,
    },
}

/// What goes onto the root.
pub struct System<'a> {
    /// A repo holding `commit` and its signatures.
    pub source_repo: &'a Path,
    pub commit: &'a str,
    /// The ref the machine follows.
    pub follow: &'a str,
    pub remote: &'a RemoteConf,
    /// The remote config's directory: its GPG key, when it names one, lies there.
    pub remote_dir: &'a Path,
    pub kargs: &'a [String],
    pub root_label: &'a str,
    /// The commit's grub.cfg generator, as a file the host can run.
    pub generator: &'a Path,
    pub etc: &'a [EtcEntry],
    /// Directories copied whole into the physical root, by name (an installer's payload).
    pub root_dirs: &'a [(&'a Path, &'a str)],
}

/// Writes `system` onto `sink` laid out as `layout`; `step` hears each step's name as it
/// starts, for whoever shows progress.
pub fn write(
    sink: Sink,
    layout: &Layout,
    system: &System,
    boot: &BootCode,
    work: &Path,
    step: &mut dyn FnMut(Step),
) -> Result<()> {
    let disk = sink.path();
    if let Sink::Device(_) = sink {
        // Whatever booted from this disk before (GRUB, an ESP) lies before the root: gone
        // now, so a write cut short leaves nothing that boots.
        step(Step::Partition);
        write_at(disk, 0, &vec![0; layout.root.start as usize])
            .context("erasing the old boot code")?;
        run(Command::new("wipefs").args(["--all", "--force"]).arg(disk))
            .context("erasing the old partition table")?;
    } else {
        step(Step::Partition);
    }
    run(Command::new("sgdisk")
        .args(layout::sgdisk_args(layout))
        .arg(disk))
    .context("writing the partition table")?;

    step(Step::Format);
    let root = &layout.root;
    let mut mkfs = Command::new("mkfs.ext4");
    mkfs.args(["-q", "-F", "-L", system.root_label])
        // GRUB 2.06 cannot read filesystems with these newer ext4 features.
        .args(["-O", "^metadata_csum_seed,^orphan_file"]);
    let mnt = work.join("mnt");
    fs::create_dir_all(&mnt)?;
    let mut mount = Command::new("mount");
    match sink {
        Sink::Image(raw) => {
            mkfs.arg("-E")
                .arg(format!("offset={}", root.start))
                .arg(raw)
                .arg(format!("{}k", root.size / 1024));
            mount
                .arg("-o")
                .arg(format!(
                    "loop,offset={},sizelimit={}",
                    root.start, root.size
                ))
                .arg(raw);
        }
        Sink::Device(dev) => {
            let node = partition_node(dev, root.number)?;
            mkfs.arg(&node);
            mount.arg(&node);
        }
    }
    run(&mut mkfs).context("creating the root filesystem")?;
    run(mount.arg(&mnt)).context("mounting the new root filesystem")?;
    let mounted = Mounted(mnt.clone());
    populate(&mnt, system, step)?;
    drop(mounted);

    step(Step::Boot);
    for (offset, bytes) in boot.writes(layout) {
        write_at(disk, offset, bytes).context("writing the boot code")?;
    }
    run(Command::new("sgdisk")
        .args(layout::sgdisk_finish_args(layout))
        .arg(disk))
    .context("marking the root complete")?;
    run(&mut Command::new("sync"))?;
    Ok(())
}

/// The steps of [`write`], in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Partition,
    Format,
    Copy,
    Deploy,
    Label,
    Boot,
}

/// The device node of partition `n` of `disk`: `/dev/sda3`, `/dev/nvme0n1p3`. Waits for udev
/// to create it after the partition table changed.
fn partition_node(disk: &Path, n: u32) -> Result<PathBuf> {
    let name = disk.to_string_lossy();
    let node = if name.ends_with(|c: char| c.is_ascii_digit()) {
        format!("{name}p{n}")
    } else {
        format!("{name}{n}")
    };
    let node = PathBuf::from(node);
    let deadline = Instant::now() + Duration::from_secs(20);
    run(Command::new("partx").arg("--update").arg(disk)).ok();
    run(Command::new("udevadm").arg("settle")).ok();
    while !node.exists() {
        if Instant::now() > deadline {
            bail!(
                "{} did not appear after writing the partition table of {}",
                node.display(),
                disk.display()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(node)
}

pub(crate) fn write_at(path: &Path, offset: u64, bytes: &[u8]) -> Result<()> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    f.seek(SeekFrom::Start(offset))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

/// Unmounts on every exit path, so a failure does not leave a mount behind.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = run(Command::new("umount").arg(&self.0));
    }
}

fn populate(mnt: &Path, system: &System, step: &mut dyn FnMut(Step)) -> Result<()> {
    let (commit, follow, remote) = (system.commit, system.follow, system.remote);
    let sysroot = format!("--sysroot={}", mnt.display());
    let repo_arg = format!("--repo={}", mnt.join("ostree/repo").display());
    run(Command::new("ostree").args(["admin", "init-fs"]).arg(mnt))?;
    run(Command::new("ostree").args(["admin", "os-init", mxos_agent::STATEROOT, &sysroot]))?;
    // Always grub2, without depending on what libostree would detect.
    run(Command::new("ostree").args(["config", &repo_arg, "set", "sysroot.bootloader", "grub2"]))?;
    step(Step::Copy);
    run(Command::new("ostree")
        .args(["pull-local", &repo_arg])
        .arg(system.source_repo)
        .arg(commit))
    .context("copying the commit")?;
    step(Step::Deploy);
    // A remote that requires GPG names its key, published beside the config.
    let gpg_path = remote
        .gpg_key_file
        .as_ref()
        .map(|f| system.remote_dir.join(f));
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
        .env("OSTREE_GRUB2_EXEC", system.generator)
        .args([
            "admin",
            "deploy",
            &sysroot,
            &format!("--os={}", mxos_agent::STATEROOT),
        ])
        .arg(format!("--karg=root=LABEL={}", system.root_label))
        .arg("--karg=rw");
    for k in system.kargs {
        deploy.arg(format!("--karg={k}"));
    }
    run(deploy.arg(&refspec)).context("deploying the commit")?;
    let deployment = mnt
        .join("ostree/deploy")
        .join(mxos_agent::STATEROOT)
        .join(format!("deploy/{commit}.0"));
    write_etc(&deployment.join("etc"), system.etc)?;
    for (src, name) in system.root_dirs {
        run(Command::new("cp").arg("-a").arg(src).arg(mnt.join(name)))
            .with_context(|| format!("copying {} onto the disk", src.display()))?;
    }
    step(Step::Label);
    label_outside_the_commit(mnt, commit, system.root_dirs)?;
    let cfg = fs::read_to_string(mnt.join("boot/loader/grub.cfg"))
        .context("reading the generated grub.cfg")?;
    if !cfg.contains("menuentry") {
        bail!("the generated grub.cfg has no boot entry:\n{cfg}");
    }
    run(&mut Command::new("sync"))?;
    Ok(())
}

fn write_etc(etc: &Path, entries: &[EtcEntry]) -> Result<()> {
    for e in entries {
        let (EtcEntry::File { path, .. } | EtcEntry::Link { path, .. }) = e;
        let dest = etc.join(path);
        if let Some(dir) = dest.parent() {
            fs::create_dir_all(dir)?;
        }
        if dest.symlink_metadata().is_ok() {
            fs::remove_file(&dest)?;
        }
        let written = match e {
            EtcEntry::File { contents, mode, .. } => fs::write(&dest, contents)
                .and_then(|()| fs::set_permissions(&dest, fs::Permissions::from_mode(*mode))),
            EtcEntry::Link { target, .. } => std::os::unix::fs::symlink(target, &dest),
        };
        written.with_context(|| format!("writing /etc/{path}"))?;
    }
    Ok(())
}

/// A deployment made without SELinux running (a build host, or libostree on any machine) has
/// an unlabelled `/etc` (libostree's copy of `/usr/etc`) and `/var`, and the physical root
/// around it is unlabelled too: label them from the deployment's own policy, as a machine
/// booted with SELinux would have them. Trees without a policy are left as they are.
fn label_outside_the_commit(mnt: &Path, commit: &str, root_dirs: &[(&Path, &str)]) -> Result<()> {
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
    for (_, name) in root_dirs {
        mxos_repo::label_on_disk(&mnt.join(name), &format!("/{name}"), &labels)
            .with_context(|| format!("labelling /{name}"))?;
    }
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
