//! rpm-ostree's merge rules, named in the key table. `dest` is the including file, `src` a
//! file it includes; includes are merged one after the other, so with `include: [a, b]` the
//! including file wins over `a`, and `a` over `b`. Each returns whether `src` contributed.

use std::collections::{BTreeMap, BTreeSet};

use crate::values::RepoPackages;

/// A value set in the including file (or an earlier include) is kept.
pub(crate) fn basic<T>(dest: &mut Option<T>, src: Option<T>) -> bool {
    if dest.is_none() && src.is_some() {
        *dest = src;
        return true;
    }
    false
}

/// The included file's entries come first: with `include: [a, b]` the order is b, a, self.
pub(crate) fn append<T>(dest: &mut Option<Vec<T>>, src: Option<Vec<T>>) -> bool {
    let Some(mut src) = src else {
        return false;
    };
    if let Some(d) = dest.take() {
        src.extend(d);
    }
    *dest = Some(src);
    true
}

/// A set: sorted, each entry once.
pub(crate) fn union(dest: &mut Option<Vec<String>>, src: Option<Vec<String>>) -> bool {
    let Some(src) = src else {
        return false;
    };
    let mut set: BTreeSet<String> = dest.take().unwrap_or_default().into_iter().collect();
    set.extend(src);
    *dest = Some(set.into_iter().collect());
    true
}

/// Key by key; the including file wins on a clash.
pub(crate) fn map<V>(
    dest: &mut Option<BTreeMap<String, V>>,
    src: Option<BTreeMap<String, V>>,
) -> bool {
    let Some(src) = src else {
        return false;
    };
    let d = dest.get_or_insert_with(BTreeMap::new);
    for (k, v) in src {
        d.entry(k).or_insert(v);
    }
    true
}

/// Only the top treefile's value counts (rpm-ostree never merged `platform-module`).
pub(crate) fn unmerged<T>(_dest: &mut Option<T>, _src: Option<T>) -> bool {
    false
}

/// Appended, then each package keeps only its last entry: the including file's claim on a
/// package beats an included file's, and a later entry beats an earlier one.
pub(crate) fn repo_packages(
    dest: &mut Option<Vec<RepoPackages>>,
    src: Option<Vec<RepoPackages>>,
) -> bool {
    let contributed = append(dest, src);
    if let Some(list) = dest.as_mut() {
        dedup_repo_packages(list);
    }
    contributed
}

pub(crate) fn dedup_repo_packages(list: &mut Vec<RepoPackages>) {
    let mut claimed = BTreeSet::new();
    for entry in list.iter_mut().rev() {
        entry.packages.retain(|p| claimed.insert(p.clone()));
    }
    list.retain(|e| !e.packages.is_empty());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Option<Vec<String>> {
        Some(items.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn rules_follow_rpm_ostree() {
        // include: [a, b] in top: merged as merge(top, a) then merge(top, b).
        let mut top = v(&["top"]);
        append(&mut top, v(&["a"]));
        append(&mut top, v(&["b"]));
        assert_eq!(top, v(&["b", "a", "top"]));

        let mut s = None;
        assert!(basic(&mut s, Some("a")));
        assert!(!basic(&mut s, Some("b")));
        assert_eq!(s, Some("a"));

        let mut p = v(&["zsh", "bash"]);
        union(&mut p, v(&["bash", "awk"]));
        assert_eq!(p, v(&["awk", "bash", "zsh"]));

        let mut m = Some(BTreeMap::from([("x".to_owned(), 1)]));
        map(
            &mut m,
            Some(BTreeMap::from([("x".to_owned(), 2), ("y".to_owned(), 3)])),
        );
        assert_eq!(
            m,
            Some(BTreeMap::from([("x".to_owned(), 1), ("y".to_owned(), 3)]))
        );
    }

    #[test]
    fn repo_packages_keep_the_last_claim() {
        let e = |repo: &str, p: &[&str]| RepoPackages {
            repo: repo.to_owned(),
            packages: p.iter().map(|s| s.to_string()).collect(),
        };
        let mut top = Some(vec![e("mine", &["foo"])]);
        repo_packages(&mut top, Some(vec![e("theirs", &["foo", "bar"])]));
        assert_eq!(top, Some(vec![e("theirs", &["bar"]), e("mine", &["foo"])]));
    }
}
