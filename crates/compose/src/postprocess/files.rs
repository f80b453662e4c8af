//! The treefile keys that edit files of the installed tree: `remove-from-packages`,
//! `remove-files`, `add-files`, `mutate-os-release` and `cliwrap`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};
use mxos_treefile::{CliwrapBinary, Plan};

use super::remove_if_exists;
use super::transforms::{check_relative, matching_files, mutate_os_release};
use crate::dnf::RPMDB_DIR;
use crate::pkgcache::make_private;

/// `remove-from-packages`: a package's files matching any of its patterns go; the package
/// database is left as it is (rpm-ostree's behaviour: `rpm -V` shows them missing).
pub fn remove_from_packages(root: &Path, plan: &Plan) -> Result<()> {
    for entry in &plan.treefile.remove_from_packages {
        let [package, patterns @ ..] = entry.as_slice() else {
            continue;
        };
        let files = package_files(root, package)
            .with_context(|| format!("remove-from-packages: listing the files of `{package}`"))?;
        let doomed = matching_files(&files, patterns)
            .with_context(|| format!("remove-from-packages: `{package}`"))?;
        for f in doomed.iter().rev() {
            let p = root.join(f.trim_start_matches('/'));
            match fs::symlink_metadata(&p) {
                // A directory another package still fills stays, as rpm would leave it.
                Ok(m) if m.is_dir() => {
                    if fs::read_dir(&p)?.next().is_none() {
                        fs::remove_dir(&p).with_context(|| format!("removing {f}"))?;
                    }
                }
                Ok(_) => fs::remove_file(&p).with_context(|| format!("removing {f}"))?,
                Err(_) => {}
            }
        }
    }
    Ok(())
}

/// What a package installed, from the tree's own database (rpm, or dpkg's file lists).
fn package_files(root: &Path, package: &str) -> Result<Vec<String>> {
    if root.join(RPMDB_DIR).is_dir() {
        let out = mxos_process::run_unchecked(Command::new("rpm").arg("--root").arg(root).args([
            "--dbpath",
            &format!("/{RPMDB_DIR}"),
            "-ql",
            package,
        ]))?;
        if !out.status.success() {
            bail!("`{package}` is not installed in the tree");
        }
        return Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with('/'))
            .map(str::to_owned)
            .collect());
    }
    let info = root.join("var/lib/dpkg/info");
    for name in [format!("{package}.list"), format!("{package}:amd64.list")] {
        if let Ok(text) = fs::read_to_string(info.join(&name)) {
            return Ok(text.lines().map(str::to_owned).collect());
        }
    }
    bail!("`{package}` is not installed in the tree")
}

/// `remove-files`: paths relative to the root, removed with what they hold. A path the tree
/// does not have is only reported, as rpm-ostree ignores it.
pub fn remove_files(root: &Path, plan: &Plan) -> Result<()> {
    for rel in &plan.treefile.remove_files {
        let rel = rel.trim_start_matches("./");
        check_relative("remove-files", rel)?;
        let p = root.join(rel);
        if fs::symlink_metadata(&p).is_err() {
            tracing::info!("remove-files: `{rel}` is not in the tree; nothing to remove");
            continue;
        }
        remove_if_exists(&p)?;
    }
    Ok(())
}

/// `add-files`: each source (read beside the treefile that names it) is copied to its
/// destination with the source's permission bits; `/etc/...` lands in `/etc`, which
/// becomes `/usr/etc` at the end.
pub fn add_files(root: &Path, plan: &Plan) -> Result<()> {
    for f in &plan.treefile.add_files {
        let dest = root.join(f.dest.trim_start_matches('/'));
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        // Unlinked first: writing through a hard link would change the package cache.
        if fs::symlink_metadata(&dest).is_ok() {
            remove_if_exists(&dest)?;
        }
        let bytes = f
            .source
            .read()
            .with_context(|| format!("add-files: reading {}", f.source.path.display()))?;
        fs::write(&dest, &bytes).with_context(|| format!("add-files: writing {}", f.dest))?;
        let mode = fs::metadata(&f.source.path)?.permissions().mode() & 0o7777;
        fs::set_permissions(&dest, fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// `mutate-os-release`: the tree's os-release names the commit's version.
pub fn mutate_os_release_file(root: &Path, plan: &Plan, version: Option<&str>) -> Result<()> {
    let Some(from) = &plan.treefile.mutate_os_release else {
        return Ok(());
    };
    let Some(version) = version else {
        tracing::warn!("mutate-os-release: the commit has no version (no automatic-version-prefix); os-release left as it is");
        return Ok(());
    };
    let path = ["usr/lib/os-release", "etc/os-release"]
        .iter()
        .map(|p| root.join(p))
        .find(|p| fs::symlink_metadata(p).is_ok_and(|m| m.is_file()))
        .context("mutate-os-release: the tree has no /usr/lib/os-release")?;
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    make_private(&path)?;
    fs::write(&path, mutate_os_release(&text, from, version))
        .with_context(|| format!("writing {}", path.display()))
}

/// `cliwrap`: rpm-ostree's own wrappers replace `rpm`, `dracut`, `grubby` (and `yum`/`dnf`
/// when asked) so that running them on a booted machine explains itself instead of
/// failing on the read-only `/usr`. The wrappers are rpm-ostree's `cliwrap` subcommand, so
/// the tree must carry rpm-ostree.
pub fn cliwrap(root: &Path, plan: &Plan) -> Result<()> {
    if !plan.treefile.cliwrap {
        return Ok(());
    }
    if !root.join("usr/bin/rpm-ostree").exists() {
        bail!("cliwrap: the wrappers are rpm-ostree's `cliwrap` subcommand, and the tree has no /usr/bin/rpm-ostree; add rpm-ostree to `packages` or remove `cliwrap`");
    }
    let binaries: Vec<CliwrapBinary> = if plan.treefile.cliwrap_binaries.is_empty() {
        vec![
            CliwrapBinary::Rpm,
            CliwrapBinary::Dracut,
            CliwrapBinary::Grubby,
        ]
    } else {
        plan.treefile.cliwrap_binaries.clone()
    };
    let wrapped = root.join("usr/libexec/rpm-ostree/wrapped");
    fs::create_dir_all(&wrapped)?;
    for b in binaries {
        let name = b.as_str();
        let bin = ["usr/bin", "usr/sbin"]
            .iter()
            .map(|d| root.join(d).join(name))
            .find(|p| fs::symlink_metadata(p).is_ok());
        let target = match bin {
            Some(p) => {
                fs::rename(&p, wrapped.join(name))
                    .with_context(|| format!("cliwrap: moving {}", p.display()))?;
                p
            }
            // yum and dnf are wrapped even when absent, so the message reaches the user.
            None => root.join("usr/bin").join(name),
        };
        fs::write(
            &target,
            format!("#!/bin/sh\nexec /usr/bin/rpm-ostree cliwrap {name} \"$@\"\n"),
        )?;
        fs::set_permissions(&target, fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}
