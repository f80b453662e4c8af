//! Makes an installed root OSTree-ready: scripts, removals, units, `/var` to tmpfiles.d,
//! the rpm-ostree top-level layout, and `/etc` moved to `/usr/etc`.
//!
//! The decisions live in [`transforms`] as pure functions; this module only walks the tree
//! and applies them, in the order rpm-ostree uses (scripts see `/etc` where packages put it).

mod boot;
mod files;
pub(crate) mod transforms;
mod users;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};
use mxos_treefile::{OptUsrlocal, Plan};

use crate::dnf::RPMDB_DIR;
use mxos_process::run;
pub use transforms::{id_names, tmpfiles_for_var, wanted_by, VarEntry};
use transforms::{LAYOUT_SYMLINKS, LAYOUT_VAR_DIRS};
pub use users::preserved as preserved_ids;

/// Where the `/var` conversion is written in the tree.
pub const VAR_TMPFILES: &str = "usr/lib/tmpfiles.d/mxos-var.conf";

/// What postprocess needs from outside the tree.
#[derive(Debug, Default)]
pub struct Previous {
    /// `/etc/passwd` and `/etc/group` of the ref's previous commit, for id stability checks.
    pub passwd: Option<String>,
    pub group: Option<String>,
}

/// Returns the kernel version of a bootable tree. `version` is the commit's, if it has one.
pub fn postprocess(
    root: &Path,
    plan: &Plan,
    previous: &Previous,
    version: Option<&str>,
) -> Result<Option<String>> {
    let t = &plan.treefile;
    files::remove_from_packages(root, plan)?;
    drop_package_manager_state(root)?;
    let extra_tmpfiles: Vec<String> = crate::apt::relocate_dpkg_db(root)?.into_iter().collect();
    // rpm-ostree's order: units, default target, os-release, removals, added files, then
    // the scripts, which see all of that.
    for unit in &t.units {
        enable_unit(root, unit).with_context(|| format!("units: enabling `{unit}`"))?;
    }
    if let Some(target) = &t.default_target {
        set_default_target(root, target).with_context(|| format!("default-target: `{target}`"))?;
    }
    files::mutate_os_release_file(root, plan, version)?;
    files::remove_files(root, plan)?;
    files::add_files(root, plan)?;
    for (n, script) in t.postprocess.iter().enumerate() {
        run_script(root, &format!("postprocess-{n}"), script.as_bytes())
            .with_context(|| format!("postprocess script #{}", n + 1))?;
    }
    if let Some(script) = &t.postprocess_script {
        let bytes = script
            .read()
            .with_context(|| format!("reading {}", script.path.display()))?;
        run_script(root, "postprocess-script", &bytes)
            .with_context(|| format!("postprocess-script `{}`", script.name))?;
    }
    files::cliwrap(root, plan)?;
    if t.sysusers == mxos_treefile::Sysusers::ComposeForced {
        run(Command::new("systemd-sysusers").arg("--root").arg(root))
            .context("sysusers: compose-forced: running systemd-sysusers on the tree")?;
    }
    check_users(root, plan, previous)?;
    if t.machineid_compat {
        // An empty machine-id makes systemd generate one on first boot, per machine.
        write(&root.join("etc/machine-id"), "")?;
    } else {
        remove_if_exists(&root.join("etc/machine-id"))?;
    }
    let kver = boot::prepare_kernel(root, plan)?;
    if t.readonly_executables {
        readonly_executables(&root.join("usr"))?;
    }
    if !t.ignore_devices {
        if let Some(dev) = first_device(root, root)? {
            bail!(
                "ignore-devices: false, and the tree has a device node at /{}; packages must not ship device nodes",
                dev.strip_prefix(root).unwrap_or(&dev).display()
            );
        }
    }
    crate::selinux::move_policy_store(plan, root)?;
    clear_api_dirs(root)?;
    move_home_content(root, t.opt_usrlocal)?;
    convert_var(root, &extra_tmpfiles).context("converting /var to tmpfiles.d entries")?;
    apply_layout(root, t.tmp_is_dir, t.opt_usrlocal)
        .context("creating the OSTree top-level layout")?;
    move_etc(root)?;
    Ok(kver)
}

/// `check-passwd` and `check-groups` against their reference, and `etc-group-members`.
fn check_users(root: &Path, plan: &Plan, previous: &Previous) -> Result<()> {
    use mxos_treefile::{CheckGroups, CheckPasswd};
    let t = &plan.treefile;
    let passwd = fs::read_to_string(root.join("etc/passwd")).unwrap_or_default();
    let group = fs::read_to_string(root.join("etc/group")).unwrap_or_default();
    users::check_groups_exist(&group, &t.etc_group_members)?;
    let read = |f: &mxos_treefile::ExternalFile| -> Result<String> {
        let bytes = f
            .read()
            .with_context(|| format!("reading {}", f.path.display()))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    let passwd_ref = match &t.check_passwd {
        CheckPasswd::None => None,
        CheckPasswd::Previous => previous.passwd.as_deref().map(|p| users::entries(p, true)),
        CheckPasswd::File { filename } => Some(users::entries(&read(filename)?, true)),
        CheckPasswd::Data { entries } => Some(
            entries
                .iter()
                .map(|(n, ids)| (n.clone(), (ids.uid, ids.gid)))
                .collect(),
        ),
    };
    let group_ref = match &t.check_groups {
        CheckGroups::None => None,
        CheckGroups::Previous => previous.group.as_deref().map(|g| users::entries(g, false)),
        CheckGroups::File { filename } => Some(users::entries(&read(filename)?, false)),
        CheckGroups::Data { entries } => Some(
            entries
                .iter()
                .map(|(n, gid)| (n.clone(), (*gid, *gid)))
                .collect(),
        ),
    };
    let checks = [
        (
            "check-passwd",
            "user",
            passwd_ref,
            &passwd,
            true,
            &t.ignore_removed_users,
        ),
        (
            "check-groups",
            "group",
            group_ref,
            &group,
            false,
            &t.ignore_removed_groups,
        ),
    ];
    let mut owners: Option<(BTreeSet<u32>, BTreeSet<u32>)> = None;
    for (key, what, reference, text, is_passwd, ignored) in checks {
        let Some(reference) = reference else {
            continue;
        };
        let comparison = users::compare(&reference, &users::entries(text, is_passwd));
        if !comparison.added.is_empty() {
            tracing::info!("{key}: new {what}s: {}", comparison.added.join(", "));
        }
        if !comparison.removed.is_empty() && owners.is_none() {
            owners = Some(file_owners(root)?);
        }
        let empty = BTreeSet::new();
        let owned = match &owners {
            Some((uids, _)) if is_passwd => uids,
            Some((_, gids)) => gids,
            None => &empty,
        };
        users::check(key, what, &comparison, ignored, owned)?;
    }
    Ok(())
}

/// Every uid and gid that owns a file of the tree.
fn file_owners(root: &Path) -> Result<(BTreeSet<u32>, BTreeSet<u32>)> {
    let (mut uids, mut gids) = (BTreeSet::new(), BTreeSet::new());
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let e = e?;
            let m = fs::symlink_metadata(e.path())?;
            uids.insert(m.uid());
            gids.insert(m.gid());
            if m.is_dir() {
                stack.push(e.path());
            }
        }
    }
    Ok((uids, gids))
}

/// The first block or character device below `dir`, outside the API directories.
fn first_device(root: &Path, dir: &Path) -> Result<Option<std::path::PathBuf>> {
    use std::os::unix::fs::FileTypeExt;
    for e in fs::read_dir(dir)? {
        let p = e?.path();
        if dir == root
            && ["dev", "proc", "sys", "run"]
                .iter()
                .any(|d| p == root.join(d))
        {
            continue;
        }
        let t = fs::symlink_metadata(&p)?.file_type();
        if t.is_block_device() || t.is_char_device() {
            return Ok(Some(p));
        }
        if t.is_dir() {
            if let Some(d) = first_device(root, &p)? {
                return Ok(Some(d));
            }
        }
    }
    Ok(None)
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

pub(crate) fn remove_if_exists(p: &Path) -> Result<()> {
    match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(p),
        Ok(_) => fs::remove_file(p),
        Err(_) => return Ok(()),
    }
    .with_context(|| format!("removing {}", p.display()))
}

/// Runs a script inside the new root, with no network and a private /tmp and /run, so it
/// can only change the tree it is given. A script with a `#!` line runs with that
/// interpreter, as rpm-ostree runs it; one without runs with `/bin/sh -e`.
fn run_script(root: &Path, name: &str, script: &[u8]) -> Result<()> {
    let interpreter = if script.starts_with(b"#!") {
        None
    } else {
        if fs::symlink_metadata(root.join("bin/sh")).is_err()
            && fs::symlink_metadata(root.join("usr/bin/sh")).is_err()
        {
            bail!("the tree has no /bin/sh to run it with; add a package that provides /bin/sh");
        }
        Some(["/bin/sh", "-e"])
    };
    let host_script = root.with_extension(format!("{name}.script"));
    fs::write(&host_script, script)
        .with_context(|| format!("writing {}", host_script.display()))?;
    fs::set_permissions(&host_script, fs::Permissions::from_mode(0o755))?;
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
        .args(["/run/mxos-postprocess", "--chdir", "/"])
        .args(interpreter.iter().flatten())
        .arg("/run/mxos-postprocess");
    let result = run(&mut cmd);
    fs::remove_file(&host_script).ok();
    result.map(drop)
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
/// provisions them on first boot. Other layout directories stay strict: content there
/// could never be updated. With `opt-usrlocal: root` or `state-overlay`, `/usr/local` is a
/// directory of the tree and keeps its content.
fn move_home_content(root: &Path, opt_usrlocal: OptUsrlocal) -> Result<()> {
    let mut moves = vec![("root", "var/roothome"), ("home", "var/home")];
    if opt_usrlocal == OptUsrlocal::Var {
        moves.push(("usr/local", "var/usrlocal"));
    }
    for (dir, var_dir) in moves {
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

/// `/home`, `/opt`, ... become symlinks into `/var`, as on every OSTree system;
/// `opt-usrlocal` decides `/opt` and `/usr/local`.
fn apply_layout(root: &Path, tmp_is_dir: bool, opt_usrlocal: OptUsrlocal) -> Result<()> {
    fs::create_dir_all(root.join("sysroot"))?;
    if tmp_is_dir {
        let tmp = root.join("tmp");
        if fs::symlink_metadata(&tmp).is_ok_and(|m| m.file_type().is_symlink()) {
            fs::remove_file(&tmp)?;
        }
        fs::create_dir_all(&tmp)?;
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o1777))?;
    }
    let mut links: Vec<(&str, &str)> = LAYOUT_SYMLINKS
        .iter()
        .copied()
        .filter(|(rel, _)| !(tmp_is_dir && *rel == "tmp"))
        .filter(|(rel, _)| opt_usrlocal == OptUsrlocal::Var || !["opt", "usr/local"].contains(rel))
        .collect();
    match opt_usrlocal {
        OptUsrlocal::Var => {}
        OptUsrlocal::Root => {
            for d in ["opt", "usr/local"] {
                fs::create_dir_all(root.join(d))?;
            }
        }
        OptUsrlocal::StateOverlay => {
            // libostree's units keep a writable overlay over these read-only directories.
            let unit = "usr/lib/systemd/system/ostree-state-overlay@.service";
            if !root.join(unit).exists() {
                bail!("opt-usrlocal: state-overlay needs /{unit} from libostree 2023.3 or later in the tree; use `var` or `root`");
            }
            let opt = root.join("opt");
            if fs::symlink_metadata(&opt).is_ok_and(|m| m.is_dir()) {
                fs::create_dir_all(root.join("usr/lib"))?;
                fs::rename(&opt, root.join("usr/lib/opt"))
                    .context("moving /opt to /usr/lib/opt")?;
            }
            fs::create_dir_all(root.join("usr/lib/opt"))?;
            fs::create_dir_all(root.join("usr/local"))?;
            links.push(("opt", "usr/lib/opt"));
            for instance in ["usr-lib-opt", "usr-local"] {
                let wants = root.join("etc/systemd/system/local-fs.target.wants");
                fs::create_dir_all(&wants)?;
                let link = wants.join(format!("ostree-state-overlay@{instance}.service"));
                remove_if_exists(&link)?;
                std::os::unix::fs::symlink(
                    "/usr/lib/systemd/system/ostree-state-overlay@.service",
                    &link,
                )?;
            }
        }
    }
    for (rel, target) in links {
        let p = root.join(rel);
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                if fs::read_link(&p)?.as_os_str() == target {
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
