//! The kernel and initramfs where libostree looks for them: exactly one kernel, in
//! `/usr/lib/modules/$KVER/vmlinuz`, with an initramfs that can mount an OSTree sysroot;
//! `boot-location: new` also keeps rpm-ostree's older copy in `/usr/lib/ostree-boot`.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};
use mxos_treefile::{BootLocation, Plan};
use sha2::Digest as _;

use mxos_process::run;

/// Finds the one kernel, moves it into its modules directory, rebuilds the initramfs with
/// dracut (with the `ostree` module) when the tree has dracut, and empties `/boot`.
pub fn prepare_kernel(root: &Path, plan: &Plan) -> Result<Option<String>> {
    let kvers = kernel_versions(root)?;
    if !plan.treefile.bootable {
        return Ok(None);
    }
    let kver = match kvers.as_slice() {
        [] => bail!("no kernel found (looked for /boot/vmlinuz-* and /usr/lib/modules/*/vmlinuz); add a kernel package, or set `bootable: false` for a tree that is not booted"),
        [one] => one.clone(),
        many => bail!("found {} kernels ({}); a bootable tree needs exactly one", many.len(), many.join(", ")),
    };
    let moddir = root.join("usr/lib/modules").join(&kver);
    fs::create_dir_all(&moddir)?;
    let boot = root.join("boot");
    let vmlinuz = moddir.join("vmlinuz");
    if !vmlinuz.exists() {
        fs::rename(boot.join(format!("vmlinuz-{kver}")), &vmlinuz)
            .context("moving the kernel into /usr/lib/modules")?;
    }
    for (from, to) in [
        (format!("config-{kver}"), "config"),
        (format!("System.map-{kver}"), "System.map"),
    ] {
        if boot.join(&from).exists() && !moddir.join(to).exists() {
            fs::rename(boot.join(&from), moddir.join(to))?;
        }
    }
    let initramfs = moddir.join("initramfs.img");
    if plan.treefile.no_initramfs {
        // The treefile asks for none; a packaged one stays where it is.
    } else if has_dracut(root) {
        run_dracut(root, &kver, &plan.treefile.initramfs_args)
            .context("building the initramfs with dracut")?;
    } else if !initramfs.exists() {
        bail!("the tree has no dracut to build an initramfs for kernel {kver}, and none in /usr/lib/modules/{kver}/initramfs.img; add dracut to `packages`");
    }
    if plan.treefile.boot_location == BootLocation::New {
        ostree_boot_copies(root, &kver)?;
    }
    if boot.is_dir() {
        for e in fs::read_dir(&boot)? {
            let p = e?.path();
            if p.is_dir() && !p.is_symlink() {
                fs::remove_dir_all(&p)
            } else {
                fs::remove_file(&p)
            }
            .with_context(|| format!("emptying /boot: {}", p.display()))?;
        }
    }
    Ok(Some(kver))
}

/// rpm-ostree's `new` layout: the kernel and initramfs also in `/usr/lib/ostree-boot`,
/// named with the sha256 of both (hard links: OSTree stores each content once).
fn ostree_boot_copies(root: &Path, kver: &str) -> Result<()> {
    let moddir = root.join("usr/lib/modules").join(kver);
    let (vmlinuz, initramfs) = (moddir.join("vmlinuz"), moddir.join("initramfs.img"));
    let mut hasher = sha2::Sha256::new();
    hasher.update(fs::read(&vmlinuz).context("reading the kernel")?);
    if initramfs.exists() {
        hasher.update(fs::read(&initramfs).context("reading the initramfs")?);
    }
    let csum: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let dir = root.join("usr/lib/ostree-boot");
    fs::create_dir_all(&dir)?;
    fs::hard_link(&vmlinuz, dir.join(format!("vmlinuz-{kver}-{csum}")))
        .context("linking the kernel into /usr/lib/ostree-boot")?;
    if initramfs.exists() {
        fs::hard_link(&initramfs, dir.join(format!("initramfs-{kver}.img-{csum}")))
            .context("linking the initramfs into /usr/lib/ostree-boot")?;
    }
    Ok(())
}

/// Kernel versions present, from `/boot/vmlinuz-*` and `/usr/lib/modules/*/vmlinuz`.
fn kernel_versions(root: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    if let Ok(entries) = fs::read_dir(root.join("boot")) {
        for e in entries {
            let name = e?.file_name().to_string_lossy().into_owned();
            if let Some(v) = name.strip_prefix("vmlinuz-") {
                out.push(v.to_owned());
            }
        }
    }
    if let Ok(entries) = fs::read_dir(root.join("usr/lib/modules")) {
        for e in entries {
            let e = e?;
            if e.path().join("vmlinuz").exists() {
                out.push(e.file_name().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn has_dracut(root: &Path) -> bool {
    ["usr/bin/dracut", "usr/sbin/dracut"]
        .iter()
        .any(|p| root.join(p).exists())
}

fn run_dracut(root: &Path, kver: &str, extra: &[String]) -> Result<()> {
    let mut cmd = Command::new("bwrap");
    cmd.env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("LANG", "C.UTF-8")
        .arg("--bind")
        .arg(root)
        .arg("/")
        .args([
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            "--tmpfs",
            "/tmp",
            "--tmpfs",
            "/run",
            "--unshare-net",
            "--die-with-parent",
            "--chdir",
            "/",
        ])
        .args([
            "dracut",
            "--no-hostonly",
            "--reproducible",
            "--add",
            "ostree",
            "--force",
            "--kver",
            kver,
        ])
        .args(extra)
        .arg(format!("/usr/lib/modules/{kver}/initramfs.img"));
    run(&mut cmd).map(drop)
}
