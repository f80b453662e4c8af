//! The kernel and initramfs where libostree looks for them: exactly one kernel, in
//! `/usr/lib/modules/$KVER/vmlinuz`, with an initramfs that can mount an OSTree sysroot.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};
use mxos_treefile::Plan;

use mxos_process::run;

/// Finds the one kernel, moves it into its modules directory, rebuilds the initramfs with
/// dracut (with the `ostree` module) when the tree has dracut, and empties `/boot`.
pub fn prepare_kernel(root: &Path, plan: &Plan) -> Result<Option<String>> {
    let kvers = kernel_versions(root)?;
    if !plan.bootable {
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
    if has_dracut(root) {
        run_dracut(root, &kver, &plan.initramfs_args)
            .context("building the initramfs with dracut")?;
    } else if !initramfs.exists() {
        bail!("the tree has no dracut to build an initramfs for kernel {kver}, and none in /usr/lib/modules/{kver}/initramfs.img; add dracut to `packages`");
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
