//! Makes an installed root OSTree-ready: scripts, removals, units, `/var` to tmpfiles.d,
//! the rpm-ostree top-level layout, and `/etc` moved to `/usr/etc`.
//!
//! The decisions live in [`transforms`] as pure functions; this module only walks the tree
//! and applies them, in the order rpm-ostree uses (scripts see `/etc` where packages put it).

mod boot;
pub(crate) mod transforms;
mod users;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};
use mxos_treefile::Plan;

use crate::dnf::RPMDB_DIR;
use mxos_process::run;
use transforms::{check_relative, LAYOUT_SYMLINKS, LAYOUT_VAR_DIRS};
pub use transforms::{id_names, tmpfiles_for_var, wanted_by, VarEntry};

/// Where the `/var` conversion is written in the tree.
pub const VAR_TMPFILES: &str = "usr/lib/tmpfiles.d/mxos-var.conf";

/// What postprocess needs from outside the tree.
#[derive(Debug, Default)]
pub struct Previous {
    /// `/etc/passwd` and `/etc/group` of the ref's previous commit, for id stability checks.
    pub passwd: Option<String>,
    pub group: Option<String>,
}

/// Returns the kernel version of a bootable tree.
pub fn postprocess(root: &Path, plan: &Plan, previous: &Previous) -> Result<Option<String>> {
    drop_package_manager_state(root)?;
    let extra_tmpfiles: Vec<String> = crate::apt::relocate_dpkg_db(root)?.into_iter().collect();
    for (n, script) in plan.postprocess.iter().enumerate() {
        run_script(root, n, script).with_context(|| format!("postprocess script #{}", n + 1))?;
    }
    for path in &plan.remove_files {
        remove_path(root, path)?;
    }
    for unit in &plan.units {
        enable_unit(root, unit).with_context(|| format!("units: enabling `{unit}`"))?;
    }
    if let Some(target) = &plan.default_target {
        set_default_target(root, target).with_context(|| format!("default-target: `{target}`"))?;
    }
    check_users(root, plan, previous)?;
    if plan.machineid_compat {
        // An empty machine-id makes systemd generate one on first boot, per machine.
        write(&root.join("etc/machine-id"), "")?;
    } else {
        remove_if_exists(&root.join("etc/machine-id"))?;
    }
    let kver = boot::prepare_kernel(root, plan)?;
    if plan.readonly_executables {
        readonly_executables(&root.join("usr"))?;
    }
    clear_api_dirs(root)?;
    move_home_content(root)?;
    convert_var(root, &extra_tmpfiles).context("converting /var to tmpfiles.d entries")?;
    apply_layout(root, plan.tmp_is_dir).context("creating the OSTree top-level layout")?;
    move_etc(root)?;
    Ok(kver)
}

fn check_users(root: &Path, plan: &Plan, previous: &Previous) -> Result<()> {
    let passwd = fs::read_to_string(root.join("etc/passwd")).unwrap_or_default();
    let group = fs::read_to_string(root.join("etc/group")).unwrap_or_default();
    users::check_groups_exist(&group, &plan.etc_group_members)?;
    if plan.check_passwd == mxos_treefile::CheckKind::Previous {
        if let Some(prev) = &previous.passwd {
            users::check_stable("check-passwd", "user", prev, &passwd)?;
        }
    }
    if plan.check_groups == mxos_treefile::CheckKind::Previous {
        if let Some(prev) = &previous.group {
            users::check_stable("check-groups", "group", prev, &group)?;
        }
    }
    Ok(())
}

/// rpm-ostree's `readonly-executables`: nothing executable under /usr stays writable.
fn readonly_executables(dir: &Path) -> Result<()> {
    for e in fs::read_dir(dir)? {
        let p = e?.path();
        let m = fs::symlink_metadata(&p)?;
        if m.is_dir() {
            readonly_executables(&p)?;
        } else if m.is_file() && m.permissions().mode() & 0o111 != 0 {
            let mode = m.permissions().mode() & !0o222;
            if mode != m.permissions().mode() {
                // A link into the package cache must not take the new mode with it.
                crate::pkgcache::make_private(&p)?;
                fs::set_permissions(&p, fs::Permissions::from_mode(mode))?;
            }
        }
    }
    Ok(())
}

fn write(path: &Path, contents: &str) -> Result<()> {
    if let Some(p) = path.parent() {
        fs::create_dir_all(p).with_context(|| format!("creating {}", p.display()))?;
    }
    fs::write(path, contents).with_context(|| format!("writing {}", path.display()))
}

/// dnf's history, caches and logs, and rpm's lock: host- and time-specific, never content.
fn drop_package_manager_state(root: &Path) -> Result<()> {
    for rel in [
        "var/cache/dnf",
        "var/lib/dnf",
        "var/log/dnf.log",
        "var/log/dnf.librepo.log",
        "var/log/dnf.rpm.log",
        "var/log/hawkey.log",
        "var/cache/ldconfig",
        "var/lib/rpm-state",
        "var/cache/apt",
        "var/lib/apt/lists",
        "var/log/apt",
        "var/log/dpkg.log",
        "var/log/alternatives.log",
        "var/log/bootstrap.log",
    ] {
        remove_if_exists(&root.join(rel))?;
    }
    // dnf creates these in any installroot; they are empty and say nothing about the tree.
    for rel in ["etc/dnf/modules.d", "etc/dnf"] {
        let p = root.join(rel);
        if p.is_dir() && fs::read_dir(&p)?.next().is_none() {
            fs::remove_dir(&p).with_context(|| format!("removing {}", p.display()))?;
        }
    }
    let rpmdb = root.join(RPMDB_DIR);
    let wal = rpmdb.join("rpmdb.sqlite-wal");
    if wal.exists() && fs::metadata(&wal)?.len() > 0 {
        bail!(
            "{} is not empty: the rpmdb was not checkpointed, and dropping it would lose data",
            wal.display()
        );
    }
    for f in [".rpm.lock", "rpmdb.sqlite-shm", "rpmdb.sqlite-wal"] {
        remove_if_exists(&rpmdb.join(f))?;
    }
    Ok(())
}

fn remove_if_exists(p: &Path) -> Result<()> {
    match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(p),
        Ok(_) => fs::remove_file(p),
        Err(_) => return Ok(()),
    }
    .with_context(|| format!("removing {}", p.display()))
}

/// Runs an inline script inside the new root, with no network and a private /tmp and /run,
/// so it can only change the tree it is given.
fn run_script(root: &Path, n: usize, script: &str) -> Result<()> {
    if fs::symlink_metadata(root.join("bin/sh")).is_err()
        && fs::symlink_metadata(root.join("usr/bin/sh")).is_err()
    {
        bail!("the tree has no /bin/sh to run it with; add a package that provides /bin/sh");
    }
    let host_script = root.with_extension(format!("postprocess-{n}.sh"));
    fs::write(&host_script, script)
        .with_context(|| format!("writing {}", host_script.display()))?;
    let mut cmd = Command::new("bwrap");
    cmd.env_clear()
        .env("PATH", "/usr/sbin:/usr/bin")
        .env("LANG", "C.UTF-8")
        .arg("--bind")
        .arg(root)
        .arg("/")
        .args([
            "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/run",
        ])
        .args([
            "--unshare-net",
            "--unshare-ipc",
            "--unshare-pid",
            "--die-with-parent",
        ])
        .arg("--ro-bind")
        .arg(&host_script)
        .args([
            "/run/mxos-postprocess.sh",
            "--chdir",
            "/",
            "/bin/sh",
            "-e",
            "/run/mxos-postprocess.sh",
        ]);
    let result = run(&mut cmd);
    fs::remove_file(&host_script).ok();
    result.map(drop)
}

fn remove_path(root: &Path, rel: &str) -> Result<()> {
    let rel = rel.trim_start_matches("./");
    check_relative("remove-files", rel)?;
    let p = root.join(rel);
    if fs::symlink_metadata(&p).is_err() {
        bail!("remove-files: `{rel}` does not exist in the tree");
    }
    remove_if_exists(&p)
}

fn enable_unit(root: &Path, unit: &str) -> Result<()> {
    let path = ["usr/lib/systemd/system", "etc/systemd/system"]
        .iter()
        .map(|d| root.join(d).join(unit))
        .find(|p| p.exists())
        .with_context(|| {
            format!("no unit file `{unit}` in /usr/lib/systemd/system or /etc/systemd/system")
        })?;
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let targets = wanted_by(&text);
    if targets.is_empty() {
        bail!("`{unit}` has no `WantedBy=` in its [Install] section, so it cannot be enabled");
    }
    for t in targets {
        let dir = root.join("etc/systemd/system").join(format!("{t}.wants"));
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let link = dir.join(unit);
        remove_if_exists(&link)?;
        std::os::unix::fs::symlink(format!("/usr/lib/systemd/system/{unit}"), &link)
            .with_context(|| format!("creating {}", link.display()))?;
    }
    Ok(())
}

fn set_default_target(root: &Path, target: &str) -> Result<()> {
    if !root.join("usr/lib/systemd/system").join(target).exists() {
        bail!("no such target in /usr/lib/systemd/system");
    }
    let link = root.join("etc/systemd/system/default.target");
    fs::create_dir_all(link.parent().unwrap_or(root))?;
    remove_if_exists(&link)?;
    std::os::unix::fs::symlink(format!("/usr/lib/systemd/system/{target}"), &link)
        .with_context(|| format!("creating {}", link.display()))
}

/// Records what packages left in `/var` as tmpfiles.d lines (files go to
/// `/usr/share/factory`), then empties `/var`: OSTree never touches `/var` on upgrade.
fn convert_var(root: &Path, extra_lines: &[String]) -> Result<()> {
    let var = root.join("var");
    let mut entries = Vec::new();
    if var.exists() {
        walk_var(root, &var, &mut entries)?;
    }
    // The layout's own directories keep their standard modes whatever a package or dnf
    // created (dnf makes /var/tmp 0755; it must be 1777).
    entries.retain(|e| !LAYOUT_VAR_DIRS.iter().any(|(p, _)| *p == entry_path(e)));
    for (path, mode) in LAYOUT_VAR_DIRS {
        entries.push(VarEntry::Dir {
            path: (*path).into(),
            mode: *mode,
            uid: 0,
            gid: 0,
        });
    }
    let users = read_ids(&root.join("etc/passwd"));
    let groups = read_ids(&root.join("etc/group"));
    let mut text = tmpfiles_for_var(&entries, &users, &groups);
    for l in extra_lines {
        text.push_str(l);
        text.push('\n');
    }
    write(&root.join(VAR_TMPFILES), &text)?;
    if var.exists() {
        for e in fs::read_dir(&var)? {
            remove_if_exists(&e?.path())?;
        }
    } else {
        fs::create_dir(&var)?;
    }
    Ok(())
}

fn entry_path(e: &VarEntry) -> String {
    match e {
        VarEntry::Dir { path, .. }
        | VarEntry::Symlink { path, .. }
        | VarEntry::File { path, .. } => path.clone(),
    }
}

fn read_ids(path: &Path) -> BTreeMap<u32, String> {
    fs::read_to_string(path)
        .map(|t| id_names(&t))
        .unwrap_or_default()
}

fn walk_var(root: &Path, dir: &Path, out: &mut Vec<VarEntry>) -> Result<()> {
    let mut children: Vec<_> = fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .collect::<std::io::Result<_>>()?;
    children.sort_by_key(|e| e.file_name());
    for child in children {
        let p = child.path();
        let m = fs::symlink_metadata(&p)?;
        let path = format!("/{}", p.strip_prefix(root)?.display());
        let (mode, uid, gid) = (m.permissions().mode() & 0o7777, m.uid(), m.gid());
        if m.is_dir() {
            out.push(VarEntry::Dir {
                path,
                mode,
                uid,
                gid,
            });
            walk_var(root, &p, out)?;
        } else if m.file_type().is_symlink() {
            let target = fs::read_link(&p)?.display().to_string();
            out.push(VarEntry::Symlink { path, target });
        } else if m.is_file() {
            let factory = root.join("usr/share/factory").join(p.strip_prefix(root)?);
            fs::create_dir_all(factory.parent().unwrap_or(root))?;
            fs::copy(&p, &factory).with_context(|| format!("copying {path} to the factory"))?;
            out.push(VarEntry::File {
                path,
                mode,
                uid,
                gid,
            });
        } else {
            bail!("{path}: packages may not ship sockets, fifos or devices under /var");
        }
    }
    Ok(())
}

/// /dev, /proc, /sys and /run are mounted at boot; what a bootstrap left there (mmdebstrap
/// creates device nodes) is not content and cannot be committed.
fn clear_api_dirs(root: &Path) -> Result<()> {
    for d in ["dev", "proc", "sys", "run"] {
        let p = root.join(d);
        if fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
            for e in fs::read_dir(&p)? {
                remove_if_exists(&e?.path())?;
            }
        }
    }
    Ok(())
}

/// Skeleton files packages put in `/root`, `/home` and `/usr/local` (Debian's base-files
/// ships `/root/.bashrc` and `/usr/local/man`) move to their `/var` home, so that tmpfiles.d
/// provisions them on first boot. Other layout directories stay strict: content there could never be updated.
fn move_home_content(root: &Path) -> Result<()> {
    for (dir, var_dir) in [
        ("root", "var/roothome"),
        ("home", "var/home"),
        ("usr/local", "var/usrlocal"),
    ] {
        let src = root.join(dir);
        let is_real_dir = fs::symlink_metadata(&src).is_ok_and(|m| m.is_dir());
        if !is_real_dir {
            continue;
        }
        let dest = root.join(var_dir);
        for e in fs::read_dir(&src)? {
            let e = e?;
            fs::create_dir_all(&dest)?;
            fs::set_permissions(&dest, fs::symlink_metadata(&src)?.permissions())?;
            fs::rename(e.path(), dest.join(e.file_name())).with_context(|| {
                format!(
                    "moving /{dir}/{} to /{var_dir}",
                    e.file_name().to_string_lossy()
                )
            })?;
        }
    }
    Ok(())
}

/// `/home`, `/opt`, ... become symlinks into `/var`, as on every OSTree system.
fn apply_layout(root: &Path, tmp_is_dir: bool) -> Result<()> {
    fs::create_dir_all(root.join("sysroot"))?;
    if tmp_is_dir {
        let tmp = root.join("tmp");
        if fs::symlink_metadata(&tmp).is_ok_and(|m| m.file_type().is_symlink()) {
            fs::remove_file(&tmp)?;
        }
        fs::create_dir_all(&tmp)?;
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o1777))?;
    }
    for (rel, target) in LAYOUT_SYMLINKS {
        if tmp_is_dir && *rel == "tmp" {
            continue;
        }
        let p = root.join(rel);
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                if fs::read_link(&p)?.as_os_str() == *target {
                    continue;
                }
                fs::remove_file(&p)?;
            }
            Ok(m) if m.is_dir() => {
                if let Some(f) = first_file(&p)? {
                    bail!(
                        "/{rel} must become a symlink to {target} on OSTree systems, but a package installed {} there",
                        f.strip_prefix(root).unwrap_or(&f).display()
                    );
                }
                fs::remove_dir_all(&p)?;
            }
            Ok(_) => bail!("/{rel} is a file; OSTree needs a symlink to {target} there"),
            Err(_) => {}
        }
        std::os::unix::fs::symlink(target, &p)
            .with_context(|| format!("linking /{rel} to {target}"))?;
    }
    Ok(())
}

/// The first non-directory below `dir`, if any: directories alone carry nothing to lose.
fn first_file(dir: &Path) -> Result<Option<std::path::PathBuf>> {
    for e in fs::read_dir(dir)? {
        let e = e?;
        let m = fs::symlink_metadata(e.path())?;
        if m.is_dir() {
            if let Some(f) = first_file(&e.path())? {
                return Ok(Some(f));
            }
        } else {
            return Ok(Some(e.path()));
        }
    }
    Ok(None)
}

fn move_etc(root: &Path) -> Result<()> {
    let usr_etc = root.join("usr/etc");
    if usr_etc.exists() {
        bail!("the tree already has /usr/etc; packages must install configuration to /etc");
    }
    if !root.join("etc").is_dir() {
        bail!("the tree has no /etc; is a filesystem/setup package missing from `packages`?");
    }
    fs::rename(root.join("etc"), &usr_etc).context("moving /etc to /usr/etc")
}
