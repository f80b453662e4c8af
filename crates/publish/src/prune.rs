//! Pruning a published repo: drop old commits of each ref by depth or age, the deltas that
//! start or end at them, and the objects nothing reaches any more; then re-list and re-sign
//! the summary.
//!
//! Never removed: any ref's head, any commit a current fleet manifest sends devices to
//! (target or barrier), and the fleet manifest histories themselves (tiny; rollback reads
//! them).

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use mxos_fleet::published::REF_PREFIX;
use mxos_repo::{Repo, StaticDelta};
use mxos_sign::SecretKey;

pub struct PruneRequest {
    pub public_dir: PathBuf,
    /// Keep this many commits of each ref (the head counts); at least 1.
    pub keep: Option<usize>,
    /// Keep commits younger than this many days (the head always stays).
    pub keep_younger_than_days: Option<u64>,
    /// Re-signs the summary.
    pub sign_key: PathBuf,
    /// Seconds since the epoch that ages are measured from.
    pub now: u64,
    /// Re-signs the summary with GPG too (a repo published with `--gpg-sign`).
    pub gpg: Option<crate::summary::GpgSigner>,
}

#[derive(Debug, Default)]
pub struct PruneReport {
    pub commits_deleted: Vec<String>,
    pub deltas_deleted: Vec<StaticDelta>,
    pub objects_deleted: i32,
    pub bytes_freed: u64,
}

pub fn prune(req: &PruneRequest) -> Result<PruneReport> {
    if req.keep.is_none() && req.keep_younger_than_days.is_none() {
        bail!("say what to keep: --keep N (commits per ref) and/or --keep-younger-than DAYS");
    }
    if req.keep == Some(0) {
        bail!("--keep 0 would delete the refs' heads; the smallest accepted value is 1");
    }
    let key = SecretKey::read(&req.sign_key)?;
    let repo = Repo::open(&req.public_dir)?;
    let refs = repo.refs()?;

    let mut protected: BTreeSet<String> = refs.iter().map(|(_, c)| c.clone()).collect();
    for (r, _) in refs.iter().filter(|(r, _)| r.starts_with(REF_PREFIX)) {
        let channel = &r[REF_PREFIX.len()..];
        if let Some(p) = crate::fleet::read(&repo, channel)? {
            protected.insert(p.manifest.target.commit.clone());
            protected.extend(p.manifest.barriers.iter().map(|b| b.release.commit.clone()));
        }
    }
    let cutoff = req
        .keep_younger_than_days
        .map(|d| req.now.saturating_sub(d.saturating_mul(86_400)));

    let mut kept = BTreeSet::new();
    let mut dropped = BTreeSet::new();
    for (r, head) in refs.iter().filter(|(r, _)| !r.starts_with(REF_PREFIX)) {
        let mut depth = 0;
        let mut current = Some(head.clone());
        while let Some(c) = current {
            if !repo.has_commit(&c)? {
                break;
            }
            let info = repo
                .commit_info(&c)
                .with_context(|| format!("walking the history of {r}"))?;
            let too_deep = req.keep.is_some_and(|k| depth >= k);
            let too_old = cutoff.is_some_and(|t| info.timestamp < t);
            if depth > 0 && (too_deep || too_old) {
                dropped.insert(c);
            } else {
                kept.insert(c);
            }
            depth += 1;
            current = info.parent;
        }
    }
    let doomed: BTreeSet<String> = dropped
        .difference(&kept)
        .filter(|c| !protected.contains(*c))
        .cloned()
        .collect();

    // Deltas first, and a summary that no longer lists them, before their commits go.
    let mut report = PruneReport::default();
    for d in repo.static_deltas()? {
        let gone = |c: &String| doomed.contains(c) || !repo.has_commit(c).unwrap_or(false);
        if gone(&d.to) || d.from.as_ref().is_some_and(gone) {
            repo.delete_static_delta(&d)?;
            report.deltas_deleted.push(d);
        }
    }
    let validity = crate::summary::current_validity(&repo);
    crate::summary::seal(
        &repo,
        &req.public_dir,
        &key,
        req.now + validity,
        req.gpg.as_ref(),
    )?;

    for c in &doomed {
        repo.delete_commit(c)?;
    }
    let (_, objects, bytes) = repo.prune_unreachable()?;
    report.commits_deleted = doomed.into_iter().collect();
    report.objects_deleted = objects;
    report.bytes_freed = bytes;
    Ok(report)
}
