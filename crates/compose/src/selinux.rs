//! Whether and how a composed tree is labelled: rpm-ostree's `selinux` key, decided from the
//! treefile and the policy the installed packages brought.

use std::path::Path;

use anyhow::{bail, Result};
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
