//! The repositories a dnf compose reads: the sections of the treefile's `.repo` files (never
//! the host's), which of them are enabled, dnf's configuration for the plan, and what each
//! repo's `repomd.xml` says without running dnf.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{bail, Result};
use mxos_treefile::Plan;

/// One `[id]` section of a `.repo` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoSection {
    pub id: String,
    pub file: String,
    /// Keys as written (continuation lines joined with a space).
    pub keys: BTreeMap<String, String>,
}

impl RepoSection {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.keys.get(key).map(String::as_str)
    }

    /// dnf's rule: a repo is enabled unless `enabled` says otherwise.
    pub fn enabled(&self) -> bool {
        !matches!(self.get("enabled"), Some("0" | "false" | "no" | "False"))
    }
}

/// Every section of the plan's `.repo` files, in file order; `[main]` is not a repo.
pub fn sections(plan: &Plan) -> Vec<RepoSection> {
    let mut out: Vec<RepoSection> = Vec::new();
    for f in &plan.repo_files {
        let mut last_key: Option<String> = None;
        for line in f.contents.lines() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            if trimmed.starts_with('[') && trimmed.ends_with(']') {
                let id = trimmed[1..trimmed.len() - 1].trim().to_owned();
                last_key = None;
                if id != "main" {
                    out.push(RepoSection {
                        id,
                        file: f.name.clone(),
                        keys: BTreeMap::new(),
                    });
                }
                continue;
            }
            let Some(section) = out.last_mut().filter(|s| s.file == f.name) else {
                continue;
            };
            if line.starts_with([' ', '\t']) {
                // A continuation line, as in Fedora's multi-line `baseurl=`.
                if let Some(k) = &last_key {
                    let v = section.keys.entry(k.clone()).or_default();
                    v.push(' ');
                    v.push_str(trimmed);
                }
                continue;
            }
            if let Some((k, v)) = trimmed.split_once('=') {
                let k = k.trim().to_owned();
                section.keys.insert(k.clone(), v.trim().to_owned());
                last_key = Some(k);
            }
        }
    }
    out
}

/// The repo ids the compose enables: `repos` (or, unset, every repo the `.repo` files
/// enable, as rpm-ostree does), the repos `repo-packages` names, and `lockfile-repos` when
/// a lockfile is in use. Each must be defined.
pub fn enabled_repos(plan: &Plan) -> Result<Vec<String>> {
    let all = sections(plan);
    let defined: Vec<&str> = all.iter().map(|s| s.id.as_str()).collect();
    let mut ids: Vec<String> = match &plan.treefile.repos {
        Some(list) => list.clone(),
        None => all
            .iter()
            .filter(|s| s.enabled())
            .map(|s| s.id.clone())
            .collect(),
    };
    ids.extend(plan.treefile.repo_packages.iter().map(|r| r.repo.clone()));
    if plan.lockfile.is_some() {
        ids.extend(plan.treefile.lockfile_repos.iter().cloned());
    }
    let mut seen = BTreeSet::new();
    ids.retain(|id| seen.insert(id.clone()));
    if ids.is_empty() {
        bail!(
            "{}: no repos to install from; list repo ids under `repos` (defined in .repo files next to the treefile: {})",
            plan.treefile_name,
            if defined.is_empty() { "none".to_owned() } else { defined.join(", ") }
        );
    }
    for id in &ids {
        if !defined.contains(&id.as_str()) {
            bail!(
                "{}: repo `{id}` is not defined in any .repo file next to the treefile (defined: {})",
                plan.treefile_name,
                if defined.is_empty() { "none".to_owned() } else { defined.join(", ") }
            );
        }
    }
    Ok(ids)
}

/// dnf's `[main]`: repos only from our directory, the plan's weak-deps, docs and exclusions.
pub fn dnf_conf(plan: &Plan, reposdir: &Path, varsdir: &Path) -> String {
    let mut s = String::from("[main]\n");
    // Every repo checks package signatures unless its .repo file says `gpgcheck=0`.
    let _ = writeln!(s, "gpgcheck=1");
    let _ = writeln!(s, "localpkg_gpgcheck=1");
    let _ = writeln!(s, "reposdir={}", reposdir.display());
    let _ = writeln!(s, "varsdir={}", varsdir.display());
    // Relative to the installroot: dnf's own state lands in /var, which postprocess drops.
    let _ = writeln!(s, "cachedir=/var/cache/dnf");
    let _ = writeln!(s, "keepcache=0");
    let _ = writeln!(s, "install_weak_deps={}", plan.treefile.recommends);
    if !plan.treefile.documentation {
        let _ = writeln!(s, "tsflags=nodocs");
    }
    if !plan.treefile.exclude_packages.is_empty() {
        let _ = writeln!(
            s,
            "excludepkgs={}",
            plan.treefile.exclude_packages.join(",")
        );
    }
    s
}

/// `--setopt`s that keep each `repo-packages` package to its repo: every other enabled
/// repo excludes it.
pub fn repo_package_options(plan: &Plan, enabled: &[String]) -> Vec<String> {
    let mut excludes: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for entry in &plan.treefile.repo_packages {
        for other in enabled.iter().filter(|id| **id != entry.repo) {
            excludes
                .entry(other.as_str())
                .or_default()
                .extend(entry.packages.iter().map(String::as_str));
        }
    }
    excludes
        .into_iter()
        .map(|(repo, pkgs)| format!("--setopt={repo}.excludepkgs={}", pkgs.join(",")))
        .collect()
}

/// A fingerprint of the metadata every enabled repo publishes (`repodata/repomd.xml`, which
/// holds the checksums of the package lists), fetched without dnf: with the plan, it decides
/// what dnf would resolve, so an unchanged tree is recognised before resolving. `None` when
/// a repo is only reachable through a metalink or mirrorlist, or a fetch fails: then dnf
/// resolves, and reports what is wrong.
pub fn metadata_fingerprint(plan: &Plan, work: &Path) -> Result<Option<String>> {
    let Ok(enabled) = enabled_repos(plan) else {
        return Ok(None);
    };
    let Some(urls) = repomd_urls(plan, &enabled) else {
        return Ok(None);
    };
    std::fs::create_dir_all(work)?;
    let mut hasher = blake3::Hasher::new();
    // A changed key must check the packages again.
    let Ok(policy) = super::keys::policy(plan, &enabled, &|t| expand(plan, t)) else {
        return Ok(None);
    };
    for key in &policy.keys {
        let Ok(bytes) = std::fs::read(&key.path) else {
            return Ok(None);
        };
        hasher.update(key.repo.as_bytes());
        hasher.update(blake3::hash(&bytes).as_bytes());
    }
    for (id, url) in urls {
        let Ok(bytes) = mxos_process::fetch(&url, &work.join(format!("repomd-{id}.xml"))) else {
            return Ok(None);
        };
        hasher.update(id.as_bytes());
        hasher.update(&[0]);
        hasher.update(blake3::hash(&bytes).as_bytes());
    }
    Ok(Some(hasher.finalize().to_hex().to_string()))
}

/// `repomd.xml` URL of each enabled repo, from the first `baseurl` of its section with
/// dnf's `$releasever`, `$basearch`, `$arch` and the treefile's `repovars` filled in.
pub fn repomd_urls(plan: &Plan, enabled: &[String]) -> Option<Vec<(String, String)>> {
    let all = sections(plan);
    let mut out = Vec::new();
    for id in enabled {
        let section = all.iter().find(|s| &s.id == id)?;
        let baseurl = section
            .get("baseurl")?
            .split([',', ' '])
            .map(str::trim)
            .find(|u| !u.is_empty())?;
        let url = expand(plan, baseurl);
        out.push((
            id.clone(),
            format!("{}/repodata/repomd.xml", url.trim_end_matches('/')),
        ));
    }
    Some(out)
}

/// `text` with dnf's `$releasever`, `$basearch`, `$arch` and the treefile's `repovars`
/// filled in.
pub fn expand(plan: &Plan, text: &str) -> String {
    let mut out = text
        .replace("$releasever", plan.releasever().as_deref().unwrap_or(""))
        .replace("$basearch", &plan.basearch)
        .replace("$arch", &plan.basearch);
    for (k, v) in &plan.treefile.repovars {
        out = out
            .replace(&format!("${{{k}}}"), v)
            .replace(&format!("${k}"), v);
    }
    out
}

/// When a repo's metadata was generated: the newest `<timestamp>` in its `repomd.xml`.
pub fn repomd_generated(repomd: &str) -> Option<i64> {
    repomd
        .split("<timestamp>")
        .skip(1)
        .filter_map(|rest| {
            rest.split("</timestamp>")
                .next()?
                .trim()
                .parse::<i64>()
                .ok()
        })
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_with(treefile: &str, repo_file: &str) -> Plan {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("r.repo"), repo_file).unwrap();
        std::fs::write(t.path().join("t.yaml"), treefile).unwrap();
        mxos_treefile::load(&t.path().join("t.yaml"), "x86_64").unwrap()
    }

    #[test]
    fn repomd_urls_fill_in_dnf_variables_and_give_up_on_metalinks() {
        let plan = plan_with(
            "ref: x\nreleasever: 10\nrepos: [baseos, local]\npackages: [a]\nrepovars: {mirror: m.example}\n",
            "[baseos]\nbaseurl=https://${mirror}/$releasever-stream/BaseOS/$basearch/os/\n  https://other/\n\
             [local]\nname=x\nbaseurl = file:///srv/rpms\n[meta]\nmetalink=https://m/?repo=x\n",
        );
        let enabled = enabled_repos(&plan).unwrap();
        assert_eq!(
            repomd_urls(&plan, &enabled).unwrap(),
            vec![
                (
                    "baseos".to_owned(),
                    "https://m.example/10-stream/BaseOS/x86_64/os/repodata/repomd.xml".to_owned()
                ),
                (
                    "local".to_owned(),
                    "file:///srv/rpms/repodata/repomd.xml".to_owned()
                ),
            ]
        );
        assert_eq!(repomd_urls(&plan, &["local".into(), "meta".into()]), None);
    }

    #[test]
    fn unset_repos_means_every_enabled_one_and_repo_packages_stay_in_their_repo() {
        let plan = plan_with(
            "ref: x\npackages: [a]\nrepo-packages: [{repo: extra, packages: [foo]}]\n",
            "[one]\nbaseurl=file:///a\n[two]\nbaseurl=file:///b\nenabled=0\n[extra]\nbaseurl=file:///c\nenabled=0\n",
        );
        let enabled = enabled_repos(&plan).unwrap();
        assert_eq!(enabled, ["one", "extra"]);
        assert_eq!(
            repo_package_options(&plan, &enabled),
            ["--setopt=one.excludepkgs=foo"]
        );
        let plan = plan_with("ref: x\nrepos: [nope]\n", "[one]\nbaseurl=file:///a\n");
        assert_eq!(
            enabled_repos(&plan).unwrap_err().to_string(),
            "t.yaml: repo `nope` is not defined in any .repo file next to the treefile (defined: one)"
        );
    }

    #[test]
    fn repomd_timestamps() {
        let x = "<repomd><revision>9</revision><data type=\"primary\"><timestamp>1700000000</timestamp></data><data type=\"filelists\"><timestamp>1700000100</timestamp></data></repomd>";
        assert_eq!(repomd_generated(x), Some(1_700_000_100));
        assert_eq!(repomd_generated("<repomd/>"), None);
    }
}
