//! Whether and how a composed tree is labelled: rpm-ostree's `selinux` key, decided from the
//! treefile and the policy the installed packages brought.

use std::fs;
use std::path::Path;

use anyhow::{bail, Context, Result};
use mxos_repo::{LabelVersion, Labelling, PolicyId};
use mxos_treefile::{Backend, Plan};

/// The labelling of the tree at `root`, or none. `selinux: true` without a policy is an
/// error naming what would bring one; unset labels whenever the tree ships a policy.
pub fn labelling(plan: &Plan, root: &Path) -> Result<Option<Labelling>> {
    let policy = mxos_repo::tree_policy(root)?;
    decide(plan, policy.as_ref()).map(|v| {
        v.map(|version| Labelling {
            policy_root: root.to_owned(),
            version,
        })
    })
}

/// Refuses a tree whose staged updates libostree could never finalize: when the deployment
/// ships `semodule`, libostree rebuilds its SELinux policy at shutdown by running semodule
/// inside `/usr/bin/bwrap` from the booted tree, and if bubblewrap is missing the
/// finalization fails and the update silently vanishes at reboot (vm-test lost every
/// staged deployment this way). No package declares that dependency, so the compose does.
pub fn check_finalizable(plan: &Plan, root: &Path) -> Result<()> {
    let has = |path: &str| root.join(path).symlink_metadata().is_ok();
    finalizable(
        &plan.treefile_name,
        has("usr/sbin/semodule"),
        has("usr/bin/bwrap"),
    )
}

fn finalizable(treefile: &str, semodule: bool, bwrap: bool) -> Result<()> {
    if semodule && !bwrap {
        bail!(
            "{treefile}: the tree has /usr/sbin/semodule but no /usr/bin/bwrap; libostree \
             runs semodule inside bubblewrap when it finalizes a staged update at shutdown, \
             so every update of this tree would be dropped at the reboot; add bubblewrap to \
             `packages`"
        );
    }
    Ok(())
}

/// Moves the SELinux policy store from `/var/lib/selinux/<type>` into `/etc/selinux/<type>`
/// and points `semanage.conf` at it, as rpm-ostree does for Fedora's policy. An OSTree
/// commit carries no `/var`, so a store left there is missing on the machine: libostree's
/// finalization of a staged update runs `semodule` against it and fails ("Could not create
/// module store at /var/lib/selinux/default"), and the update vanishes at reboot (vm-test
/// showed it with Debian's selinux-policy-default). A tree that already set another
/// `store-root` is left as it chose. Runs on the tree while `/etc` is still `/etc`.
pub fn move_policy_store(plan: &Plan, root: &Path) -> Result<()> {
    if plan.treefile.selinux == Some(false) {
        return Ok(());
    }
    let Ok(config) = fs::read_to_string(root.join("etc/selinux/config")) else {
        return Ok(());
    };
    let Some(kind) = policy_type(&config) else {
        return Ok(());
    };
    let store = root.join("var/lib/selinux").join(kind);
    if !store.join("active/modules").is_dir() {
        return Ok(());
    }
    let conf_path = root.join("etc/selinux/semanage.conf");
    let conf = fs::read_to_string(&conf_path).unwrap_or_default();
    let Some(new_conf) = with_etc_store_root(&conf) else {
        return Ok(());
    };
    let target = root.join("etc/selinux").join(kind);
    fs::create_dir_all(&target).with_context(|| format!("creating /etc/selinux/{kind}"))?;
    for entry in fs::read_dir(&store).with_context(|| format!("reading {}", store.display()))? {
        let name = entry?.file_name();
        let to = target.join(&name);
        if name == "semanage.read.LOCK" || name == "semanage.trans.LOCK" {
            // Left by the package scripts' semodule; a commit must not carry a lock.
            fs::remove_file(store.join(&name)).ok();
            continue;
        }
        if to.symlink_metadata().is_ok() {
            bail!(
                "the tree has its SELinux policy store in /var/lib/selinux/{kind}, and \
                 /etc/selinux/{kind}/{} already exists; moving the store to /etc (where an \
                 OSTree machine keeps it) would overwrite it",
                name.to_string_lossy()
            );
        }
        fs::rename(store.join(&name), &to).with_context(|| {
            format!(
                "moving /var/lib/selinux/{kind}/{} to /etc/selinux/{kind}",
                name.to_string_lossy()
            )
        })?;
    }
    fs::write(&conf_path, new_conf).context("writing /etc/selinux/semanage.conf")?;
    tracing::info!(
        "SELinux policy store moved from /var/lib/selinux/{kind} to /etc/selinux/{kind}"
    );
    Ok(())
}

/// `SELINUXTYPE` of an `/etc/selinux/config`.
fn policy_type(config: &str) -> Option<&str> {
    config
        .lines()
        .filter_map(|l| l.trim().strip_prefix("SELINUXTYPE="))
        .map(|v| v.trim().trim_matches('"'))
        .rfind(|v| !v.is_empty() && !v.contains('/'))
}

/// `semanage.conf` with the store under `/etc/selinux`, or `None` when it names a store
/// root of its own (kept as the tree chose) or already names `/etc/selinux`.
fn with_etc_store_root(conf: &str) -> Option<String> {
    let set = conf
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == "store-root").then(|| v.trim().trim_end_matches('/'))
        })
        .next_back();
    match set {
        None | Some("/var/lib/selinux") => {}
        Some(_) => return None,
    }
    let mut out = conf.to_owned();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str("\n# An OSTree machine has no /var in its commits: mxos-compose moved the store.\nstore-root=/etc/selinux\n");
    Some(out)
}

/// The pure part of [`labelling`].
pub fn decide(plan: &Plan, policy: Option<&PolicyId>) -> Result<Option<LabelVersion>> {
    let version = match plan.treefile.selinux_label_version {
        0 => LabelVersion::Literal,
        _ => LabelVersion::UsrEtcAsEtc,
    };
    match (plan.treefile.selinux, policy) {
        (Some(false), _) | (None, None) => Ok(None),
        (_, Some(_)) => Ok(Some(version)),
        (Some(true), None) => {
            let packages = match plan.treefile.backend {
                Backend::Dnf => "selinux-policy-targeted (or selinux-policy-mls)",
                Backend::Apt => "selinux-policy-default (or selinux-policy-mls)",
            };
            bail!(
                "{}: `selinux: true`, but the composed tree has no SELinux policy \
                 (no /etc/selinux/config); add {packages} to `packages`, or set \
                 `selinux: false`",
                plan.treefile_name
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(yaml: &str) -> Plan {
        mxos_treefile::load_str("t.yaml", yaml, "x86_64").unwrap()
    }

    #[test]
    fn the_policy_store_moves_to_etc() {
        assert_eq!(
            policy_type("# c\nSELINUX=permissive\nSELINUXTYPE=default\n"),
            Some("default")
        );
        assert_eq!(policy_type("SELINUXTYPE=\"targeted\"\n"), Some("targeted"));
        assert_eq!(policy_type("SELINUX=enforcing\n"), None);
        assert_eq!(policy_type("SELINUXTYPE=../x\n"), None);
        assert_eq!(
            with_etc_store_root("module-store = direct\n\nexpand-check=0").unwrap(),
            "module-store = direct\n\nexpand-check=0\n\n# An OSTree machine has no /var in its \
             commits: mxos-compose moved the store.\nstore-root=/etc/selinux\n"
        );
        assert!(with_etc_store_root("store-root = /var/lib/selinux/\n")
            .unwrap()
            .ends_with("\nstore-root=/etc/selinux\n"));
        assert_eq!(with_etc_store_root("store-root=/etc/selinux\n"), None);
        assert_eq!(with_etc_store_root("store-root=/usr/lib/selinux\n"), None);
    }

    #[test]
    fn moving_the_store_keeps_everything_but_the_locks() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let w = |p: &str, c: &str| {
            let p = root.join(p);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, c).unwrap();
        };
        w(
            "etc/selinux/config",
            "SELINUX=permissive\nSELINUXTYPE=default\n",
        );
        w("etc/selinux/semanage.conf", "module-store = direct\n");
        w("etc/selinux/default/policy/policy.33", "binary");
        w(
            "var/lib/selinux/default/active/modules/100/base/cil",
            "(cil)",
        );
        w("var/lib/selinux/default/semanage.read.LOCK", "");
        move_policy_store(&plan("ref: a\npackages: [x]\n"), root).unwrap();
        let r = |p: &str| fs::read_to_string(root.join(p)).unwrap();
        assert_eq!(
            r("etc/selinux/default/active/modules/100/base/cil"),
            "(cil)"
        );
        assert_eq!(r("etc/selinux/default/policy/policy.33"), "binary");
        assert!(r("etc/selinux/semanage.conf").ends_with("\nstore-root=/etc/selinux\n"));
        assert!(!root.join("etc/selinux/default/semanage.read.LOCK").exists());
        assert_eq!(
            fs::read_dir(root.join("var/lib/selinux/default"))
                .unwrap()
                .count(),
            0
        );
        // A second run finds nothing left to move.
        move_policy_store(&plan("ref: a\npackages: [x]\n"), root).unwrap();
        // A store that would land on something already in /etc is refused, nothing moved.
        w(
            "var/lib/selinux/default/active/modules/100/base/cil",
            "(cil)",
        );
        fs::write(root.join("etc/selinux/semanage.conf"), "").unwrap();
        assert_eq!(
            move_policy_store(&plan("ref: a\npackages: [x]\n"), root)
                .unwrap_err()
                .to_string(),
            "the tree has its SELinux policy store in /var/lib/selinux/default, and \
             /etc/selinux/default/active already exists; moving the store to /etc (where an \
             OSTree machine keeps it) would overwrite it"
        );
        assert_eq!(r("etc/selinux/semanage.conf"), "");
    }

    #[test]
    fn semodule_needs_bubblewrap_beside_it() {
        assert!(finalizable("t.yaml", false, false).is_ok());
        assert!(finalizable("t.yaml", true, true).is_ok());
        assert!(finalizable("t.yaml", false, true).is_ok());
        assert_eq!(
            finalizable("t.yaml", true, false).unwrap_err().to_string(),
            "t.yaml: the tree has /usr/sbin/semodule but no /usr/bin/bwrap; libostree runs \
             semodule inside bubblewrap when it finalizes a staged update at shutdown, so \
             every update of this tree would be dropped at the reboot; add bubblewrap to \
             `packages`"
        );
    }

    #[test]
    fn labels_when_asked_or_when_a_policy_is_there() {
        let policy = PolicyId {
            name: "default".into(),
            checksum: "c".repeat(64),
        };
        let p = plan("ref: a\npackages: [x]\n");
        assert_eq!(decide(&p, None).unwrap(), None);
        assert_eq!(
            decide(&p, Some(&policy)).unwrap(),
            Some(LabelVersion::UsrEtcAsEtc)
        );
        let p = plan("ref: a\npackages: [x]\nselinux: false\n");
        assert_eq!(decide(&p, Some(&policy)).unwrap(), None);
        let p = plan("ref: a\npackages: [x]\nselinux-label-version: 0\n");
        assert_eq!(
            decide(&p, Some(&policy)).unwrap(),
            Some(LabelVersion::Literal)
        );
        let p = plan("ref: a\npackages: [x]\nselinux: true\n");
        assert_eq!(
            decide(&p, None).unwrap_err().to_string(),
            "t.yaml: `selinux: true`, but the composed tree has no SELinux policy (no \
             /etc/selinux/config); add selinux-policy-targeted (or selinux-policy-mls) to \
             `packages`, or set `selinux: false`"
        );
        let p = plan("ref: a\nbackend: apt\nsuite: bookworm\npackages: [x]\nselinux: true\n");
        assert!(decide(&p, None)
            .unwrap_err()
            .to_string()
            .contains("add selinux-policy-default (or selinux-policy-mls)"));
    }
}
