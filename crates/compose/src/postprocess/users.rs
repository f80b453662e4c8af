//! uid/gid stability across composes (`check-passwd`, `check-groups`): users and groups of a
//! reference (the previous commit, a file beside the treefile, or entries written in it)
//! must keep their ids in the new tree, or files on machines would change owner.
//! `preserve-passwd` carries the reference's entries into the tree before packages create
//! their users, so that they get their old ids back.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Result};

/// `name → (id, gid)` of a passwd text (for a group text, gid = id).
pub fn entries(text: &str, passwd: bool) -> BTreeMap<String, (u32, u32)> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?.trim();
            let id: u32 = f.nth(1)?.parse().ok()?;
            let gid = if passwd { f.next()?.parse().ok()? } else { id };
            (!name.is_empty()).then(|| (name.to_owned(), (id, gid)))
        })
        .collect()
}

/// A name's `(id, gid)` in the reference and in the new tree.
pub type IdChange = (String, (u32, u32), (u32, u32));

/// What the new tree does with a reference's entries.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// (name, reference ids, new ids)
    pub changed: Vec<IdChange>,
    /// Names in the reference the tree no longer has, with their id.
    pub removed: Vec<(String, u32)>,
    pub added: Vec<String>,
}

pub fn compare(
    reference: &BTreeMap<String, (u32, u32)>,
    new: &BTreeMap<String, (u32, u32)>,
) -> Comparison {
    let mut c = Comparison::default();
    for (name, ids) in reference {
        match new.get(name) {
            Some(n) if n != ids => c.changed.push((name.clone(), *ids, *n)),
            Some(_) => {}
            None => c.removed.push((name.clone(), ids.0)),
        }
    }
    c.added = new
        .keys()
        .filter(|n| !reference.contains_key(*n))
        .cloned()
        .collect();
    c
}

/// Fails on any changed id, and on a removed name unless `ignore-removed-*` lists it (or
/// `*`) or no file of the tree is owned by its id (`owned` tells), as rpm-ostree decides.
pub fn check(
    key: &str,
    what: &str,
    comparison: &Comparison,
    ignore_removed: &[String],
    owned: &BTreeSet<u32>,
) -> Result<()> {
    if !comparison.changed.is_empty() {
        let list: Vec<String> = comparison
            .changed
            .iter()
            .map(|(n, (o, og), (c, cg))| {
                if what == "user" && og != cg {
                    format!("`{n}` {o}:{og} → {c}:{cg}")
                } else {
                    format!("`{n}` {o} → {c}")
                }
            })
            .collect();
        bail!(
            "{key}: {what} ids changed: {}; keep them stable (files on installed machines keep the old ids), or set `{key}: {{type: none}}` to accept it",
            list.join(", ")
        );
    }
    let wildcard = ignore_removed.iter().any(|i| i == "*");
    let blocking: Vec<String> = comparison
        .removed
        .iter()
        .filter(|(n, id)| !wildcard && !ignore_removed.contains(n) && owned.contains(id))
        .map(|(n, id)| format!("`{n}` ({id})"))
        .collect();
    if !blocking.is_empty() {
        let plural = if what == "user" { "users" } else { "groups" };
        bail!(
            "{key}: {plural} removed while files still belong to their ids: {}; list them under `ignore-removed-{plural}` to accept it",
            blocking.join(", ")
        );
    }
    Ok(())
}

/// `preserve-passwd`: the tree's entries, then every reference entry whose name the tree
/// does not have yet, so that a package's `useradd` finds it and keeps its id.
pub fn preserved(new_text: &str, reference_text: &str) -> String {
    let present: BTreeSet<&str> = new_text
        .lines()
        .filter_map(|l| l.split(':').next())
        .collect();
    let mut out = new_text.to_owned();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    for line in reference_text.lines() {
        let Some(name) = line.split(':').next().filter(|n| !n.is_empty()) else {
            continue;
        };
        if !present.contains(name) {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// `etc-group-members`: each named group must exist, so a local admin can add people to it.
pub fn check_groups_exist(group_text: &str, groups: &[String]) -> Result<()> {
    let known = entries(group_text, false);
    for g in groups {
        if !known.contains_key(g) {
            bail!("etc-group-members: group `{g}` does not exist in the tree's /etc/group");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREV: &str = "root:x:0:0::/root:/bin/sh\nchrony:x:990:990::/var/lib/chrony:/bin/false\ngone:x:5:5:::\nunused:x:6:6:::\n";
    const NEW: &str =
        "root:x:0:0::/root:/bin/sh\nchrony:x:991:991::/var/lib/chrony:/bin/false\nnew:x:7:7:::\n";

    #[test]
    fn changed_ids_are_named() {
        let c = compare(&entries(PREV, true), &entries(NEW, true));
        assert_eq!(c.changed, vec![("chrony".into(), (990, 990), (991, 991))]);
        assert_eq!(c.removed, vec![("gone".into(), 5), ("unused".into(), 6)]);
        assert_eq!(c.added, vec!["new".to_owned()]);
        assert_eq!(
            check("check-passwd", "user", &c, &[], &BTreeSet::new()).unwrap_err().to_string(),
            "check-passwd: user ids changed: `chrony` 990:990 → 991:991; keep them stable (files on installed machines keep the old ids), or set `check-passwd: {type: none}` to accept it"
        );
    }

    #[test]
    fn removed_users_need_ignoring_only_when_files_still_use_their_ids() {
        let new = "root:x:0:0::/root:/bin/sh\nchrony:x:990:990::/x:/bin/false\n";
        let c = compare(&entries(PREV, true), &entries(new, true));
        let owned = BTreeSet::from([0, 5]);
        assert_eq!(
            check("check-passwd", "user", &c, &[], &owned).unwrap_err().to_string(),
            "check-passwd: users removed while files still belong to their ids: `gone` (5); list them under `ignore-removed-users` to accept it"
        );
        check("check-passwd", "user", &c, &["gone".into()], &owned).unwrap();
        check("check-passwd", "user", &c, &["*".into()], &owned).unwrap();
        check("check-passwd", "user", &c, &[], &BTreeSet::from([0])).unwrap();
    }

    #[test]
    fn preserved_entries_come_after_the_tree_s_own() {
        assert_eq!(
            preserved("root:x:0:0::/root:/bin/sh", PREV),
            "root:x:0:0::/root:/bin/sh\nchrony:x:990:990::/var/lib/chrony:/bin/false\ngone:x:5:5:::\nunused:x:6:6:::\n"
        );
    }

    #[test]
    fn group_members_must_exist() {
        assert_eq!(
            check_groups_exist("wheel:x:10:\n", &["wheel".into(), "lpadmin".into()])
                .unwrap_err()
                .to_string(),
            "etc-group-members: group `lpadmin` does not exist in the tree's /etc/group"
        );
    }
}
