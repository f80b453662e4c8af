//! uid/gid stability across composes: a user or group that exists in the previous commit
//! and in the new tree must keep its id, or files on machines would change owner.

use std::collections::BTreeMap;

use anyhow::{bail, Result};

use super::transforms::id_names;

/// Names whose id differs between `previous` and `new` (`/etc/passwd` or `/etc/group` text).
pub fn id_changes(previous: &str, new: &str) -> Vec<(String, u32, u32)> {
    let by_name = |text: &str| -> BTreeMap<String, u32> {
        id_names(text).into_iter().map(|(id, n)| (n, id)).collect()
    };
    let (old, new) = (by_name(previous), by_name(new));
    old.iter()
        .filter_map(|(name, o)| {
            new.get(name)
                .filter(|n| *n != o)
                .map(|n| (name.clone(), *o, *n))
        })
        .collect()
}

/// Fails with every changed id named, and how to accept the change deliberately.
pub fn check_stable(key: &str, what: &str, previous: &str, new: &str) -> Result<()> {
    let changes = id_changes(previous, new);
    if changes.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = changes
        .iter()
        .map(|(n, o, c)| format!("`{n}` {o} → {c}"))
        .collect();
    bail!(
        "{key}: {what} ids changed since the previous commit: {}; keep them stable (files on installed machines keep the old ids), or set `{key}: {{type: none}}` to accept it",
        list.join(", ")
    )
}

/// `etc-group-members`: each named group must exist, so a local admin can add people to it.
pub fn check_groups_exist(group_text: &str, groups: &[String]) -> Result<()> {
    let known: Vec<String> = id_names(group_text).into_values().collect();
    for g in groups {
        if !known.contains(g) {
            bail!("etc-group-members: group `{g}` does not exist in the tree's /etc/group");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_ids_are_named() {
        let prev = "root:x:0:0::/root:/bin/sh\nchrony:x:990:990::/var/lib/chrony:/bin/false\ngone:x:5:5:::\n";
        let new = "root:x:0:0::/root:/bin/sh\nchrony:x:991:991::/var/lib/chrony:/bin/false\nnew:x:7:7:::\n";
        assert_eq!(id_changes(prev, new), vec![("chrony".into(), 990, 991)]);
        assert_eq!(
            check_stable("check-passwd", "user", prev, new).unwrap_err().to_string(),
            "check-passwd: user ids changed since the previous commit: `chrony` 990 → 991; keep them stable (files on installed machines keep the old ids), or set `check-passwd: {type: none}` to accept it"
        );
        check_stable("check-passwd", "user", prev, prev).unwrap();
        assert_eq!(
            check_groups_exist("wheel:x:10:\n", &["wheel".into(), "lpadmin".into()])
                .unwrap_err()
                .to_string(),
            "etc-group-members: group `lpadmin` does not exist in the tree's /etc/group"
        );
    }
}
