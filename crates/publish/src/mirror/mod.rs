//! School mirrors: a copy of what the named channels need from a published
//! repo (their fleet manifests, the commits those name, the static deltas towards them from
//! the last N commits, the signed summary byte for byte), which any web server can serve. Devices check it exactly as they check the main server: nothing
//! here is re-signed, so nothing here can be altered without devices noticing.
//!
//! A run pins everything to the summary it fetched first, so the copy is the state that
//! summary describes even if upstream publishes meanwhile; it fetches only what the previous
//! state lacks; and it replaces that state only when the new one is complete ([`layout`]).

pub mod fetch;
pub mod layout;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use mxos_repo::{PullOptions, Repo, StaticDelta, SummaryInfo};
use mxos_sign::PublicKey;

pub use fetch::Upstream;

/// The remote name a mirror's repo knows its upstream by.
const UPSTREAM: &str = "upstream";

/// What the state was made for (channels, depth): a run asking for other channels is not
/// a no-op even when upstream's summary did not change.
const REQUEST_FILE: &str = ".mxos-mirror-request";

/// Files beside the repo that devices and admins read: the public keys.
const KEY_FILES: [&str; 2] = [crate::PUBLIC_KEY_FILE, crate::summary::GPG_PUBLIC_KEY_FILE];

pub struct MirrorRequest {
    pub from: Upstream,
    pub to: PathBuf,
    /// Channels to carry; empty: every ref the summary lists.
    pub channels: Vec<String>,
    /// Commits of history per ref that static deltas may start from, the head included
    /// (1: only from-scratch deltas).
    pub depth: u32,
    /// When given, the upstream summary must be signed by one of these keys.
    pub trusted: Vec<PublicKey>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorReport {
    /// The directory to serve (`DIR/current`).
    pub served: PathBuf,
    /// False when upstream had nothing new: nothing was written.
    pub changed: bool,
    /// (ref, commit) as now mirrored.
    pub refs: Vec<(String, String)>,
    /// Static deltas the mirror now holds for those commits.
    pub deltas: Vec<String>,
    /// Bytes downloaded from upstream by this run.
    pub bytes_fetched: u64,
}

pub fn mirror(req: &MirrorRequest) -> Result<MirrorReport> {
    if req.depth == 0 {
        bail!("--depth must be at least 1 (the head commit itself)");
    }
    let dir = layout::MirrorDir::lock(&req.to)?;
    let work = dir.begin()?;
    let result = run(req, &work);
    match result {
        Ok(mut r) if !r.changed => {
            dir.abandon(work)?;
            r.served = req.to.join(layout::CURRENT);
            Ok(r)
        }
        Ok(mut r) => {
            dir.commit(&work)?;
            r.served = req.to.join(layout::CURRENT);
            Ok(r)
        }
        // The unfinished generation stays for the next run to reuse; nothing served changed.
        Err(e) => Err(e),
    }
}

/// Writes what the channels need onto an update drive mounted at `req.to`, into
/// `MOUNTPOINT/mxos` ([`layout::Drive`]): the same content as a mirror, checked the same way
/// by the machines that read it.
pub fn usb(req: &MirrorRequest) -> Result<MirrorReport> {
    if req.depth == 0 {
        bail!("--depth must be at least 1 (the head commit itself)");
    }
    let drive = layout::Drive::lock(&req.to)?;
    let work = drive.work();
    let mut r = run(req, &work)?;
    r.served = drive.repo_dir.clone();
    Ok(r)
}

fn run(req: &MirrorRequest, work: &layout::Work) -> Result<MirrorReport> {
    let repo = Repo::open_or_create(&work.repo_dir, mxos_repo::RepoMode::Archive)?;
    // On a poor link a run is often cut off; what it fetched stays for the next one, which
    // starts from it (one sync below before anything is served).
    repo.write_objects_unsynced();
    repo.set_remote(UPSTREAM, &req.from.url(), &[("gpg-verify", "false")])?;
    let fetched = repo
        .fetch_remote_summary(UPSTREAM)
        .with_context(|| format!("reading the summary of {}", req.from.url()))?;
    let Some(sig) = fetched.signatures.clone() else {
        bail!(
            "{} has no summary.sig: devices would refuse its content, so it is not mirrored",
            req.from.url()
        );
    };
    if !req.trusted.is_empty() {
        let sigs = mxos_repo::decode_signature_file(&sig, mxos_sign::METADATA_KEY);
        mxos_sign::verify(&fetched.summary, &sigs, &req.trusted).with_context(|| {
            format!(
                "the summary of {} is not signed by the given key",
                req.from.url()
            )
        })?;
    }
    let summary = mxos_repo::parse_summary(&fetched.summary)
        .with_context(|| format!("reading the summary of {}", req.from.url()))?;
    let served = work
        .current
        .clone()
        .unwrap_or_else(|| work.repo_dir.clone());
    let asked = format!("channels={}\ndepth={}\n", req.channels.join(","), req.depth);
    if let Some(current) = &work.current {
        let same = |name: &str, bytes: &[u8]| {
            std::fs::read(current.join(name)).ok().as_deref() == Some(bytes)
        };
        if same("summary", &fetched.summary)
            && same("summary.sig", &sig)
            && same(REQUEST_FILE, asked.as_bytes())
        {
            return Ok(MirrorReport {
                served,
                changed: false,
                refs: mirrored_refs(&Repo::open(current)?, &summary)?,
                deltas: Vec::new(),
                bytes_fetched: 0,
            });
        }
    }
    // Local pulls check bindings against the repo's own collection: the upstream's.
    if let Some(id) = &summary.collection_id {
        if repo.collection_id().as_deref() != Some(id.as_str()) {
            repo.set_collection_id(id)?;
        }
    }
    let mut bytes = 0;
    let selection = select(&repo, &summary, &req.channels, &mut bytes)?;
    let (refs, commits): (Vec<String>, Vec<String>) = selection.refs.clone().into_iter().unzip();
    let _step = tracing::info_span!("mxos.step", step = "fetching commits").entered();
    bytes += repo.pull_counted(
        UPSTREAM,
        &PullOptions {
            refs,
            commits,
            mirror: true,
            ..Default::default()
        },
    )?;
    if !selection.extra_commits.is_empty() {
        bytes += repo.pull_counted(
            UPSTREAM,
            &PullOptions {
                refs: selection.extra_commits.iter().cloned().collect(),
                mirror: true,
                ..Default::default()
            },
        )?;
    }
    drop(_step);
    let near = history(&repo, &selection, req.depth, &mut bytes)?;
    let scratch = tempfile::tempdir_in(&work.repo_dir).context("creating a scratch dir")?;
    let mut deltas = Vec::new();
    for (name, superblock_sum) in &summary.deltas {
        let delta = StaticDelta::parse(name)?;
        if !selection.targets().contains(&delta.to)
            || delta.from.as_ref().is_some_and(|f| !near.contains(f))
        {
            continue;
        }
        bytes += copy_delta(&req.from, &repo, &delta, superblock_sum, scratch.path())?;
        deltas.push(name.clone());
    }
    for to in selection.targets() {
        let path = mxos_repo::delta_index_path(&to)?;
        if let Some(b) = req.from.get(&path, scratch.path())? {
            bytes += b.len() as u64;
            write_file(&work.repo_dir.join(&path), &b)?;
        }
    }
    for name in KEY_FILES {
        if let Some(b) = req.from.get(name, scratch.path())? {
            write_file(&work.repo_dir.join(name), &b)?;
        }
    }
    write_file(&work.repo_dir.join(REQUEST_FILE), asked.as_bytes())?;
    // Last: until the summary is there, the repo offers the state it offered before.
    for (name, content) in [("summary.sig", &sig), ("summary", &fetched.summary)] {
        let path = work.repo_dir.join(name);
        write_file(&path, content)?;
        // Clients revalidate by mtime and size: a state switched in within the second of
        // the one before must still look new to them.
        let before = work.current.as_ref().and_then(|c| {
            std::fs::metadata(c.join(name))
                .and_then(|m| m.modified())
                .ok()
        });
        mxos_repo::newer_than(&path, before)?;
    }
    repo.sync_filesystem()?;
    Ok(MirrorReport {
        served: work.repo_dir.clone(),
        changed: true,
        refs: selection.refs.into_iter().collect(),
        deltas,
        bytes_fetched: bytes,
    })
}

/// What a run copies.
#[derive(Debug, Default)]
struct Selection {
    /// ref → the commit the summary names.
    refs: BTreeMap<String, String>,
    /// Commits a fleet manifest targets or sends machines through (barriers) that are not the
    /// head of their ref.
    extra_commits: BTreeSet<String>,
    /// The OS refs (not fleet manifests, not `ostree-metadata`): what deltas lead to.
    os_refs: BTreeSet<String>,
}

impl Selection {
    fn targets(&self) -> BTreeSet<String> {
        self.os_refs
            .iter()
            .filter_map(|r| self.refs.get(r).cloned())
            .chain(self.extra_commits.iter().cloned())
            .collect()
    }
}

fn select(
    repo: &Repo,
    summary: &SummaryInfo,
    channels: &[String],
    bytes: &mut u64,
) -> Result<Selection> {
    let mut s = Selection::default();
    let head = |r: &str| -> Result<String> {
        summary.refs.get(r).cloned().with_context(|| {
            format!(
                "upstream publishes no ref `{r}`; it has: {}",
                summary.refs.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })
    };
    if channels.is_empty() {
        for (r, c) in &summary.refs {
            s.refs.insert(r.clone(), c.clone());
            if !r.starts_with(mxos_fleet::published::REF_PREFIX) && r != mxos_repo::METADATA_REF {
                s.os_refs.insert(r.clone());
            }
        }
        return Ok(s);
    }
    for channel in channels {
        let fleet_ref = mxos_fleet::published::fleet_ref(channel);
        let manifest_commit = head(&fleet_ref).with_context(|| format!("channel `{channel}`"))?;
        *bytes += repo.pull_counted(
            UPSTREAM,
            &PullOptions {
                refs: vec![fleet_ref.clone()],
                commits: vec![manifest_commit.clone()],
                mirror: true,
                ..Default::default()
            },
        )?;
        let manifest = crate::fleet::read(repo, channel)?
            .with_context(|| format!("{fleet_ref} did not arrive from upstream"))?
            .manifest;
        let os_head = head(&manifest.reference)?;
        // A machine the manifest sends through a barrier fetches that commit first.
        let wanted =
            std::iter::once(&manifest.target).chain(manifest.barriers.iter().map(|b| &b.release));
        for release in wanted {
            if release.commit != os_head {
                s.extra_commits.insert(release.commit.clone());
            }
        }
        s.refs.insert(fleet_ref, manifest_commit);
        s.refs.insert(manifest.reference.clone(), os_head);
        s.os_refs.insert(manifest.reference);
    }
    if let Ok(c) = head(mxos_repo::METADATA_REF) {
        s.refs.insert(mxos_repo::METADATA_REF.to_owned(), c);
    }
    Ok(s)
}

/// The last `depth` commits of each OS ref (their commit objects only): where deltas worth
/// carrying start.
fn history(repo: &Repo, s: &Selection, depth: u32, bytes: &mut u64) -> Result<BTreeSet<String>> {
    let mut near = BTreeSet::new();
    for start in s.targets() {
        let mut commit = Some(start);
        for _ in 0..depth {
            let Some(c) = commit.take() else { break };
            if !repo.has_commit(&c)? {
                *bytes += repo.pull_counted(
                    UPSTREAM,
                    &PullOptions {
                        refs: vec![c.clone()],
                        commit_only: true,
                        mirror: true,
                        ..Default::default()
                    },
                )?;
            }
            commit = repo.commit_info(&c)?.parent;
            near.insert(c);
        }
    }
    Ok(near)
}

/// Copies one static delta, checking the superblock against the signed summary and each
/// part against the superblock; returns the bytes fetched (none when already there whole).
fn copy_delta(
    from: &Upstream,
    repo: &Repo,
    delta: &StaticDelta,
    superblock_sum: &str,
    scratch: &Path,
) -> Result<u64> {
    let rel = delta.relative_dir()?;
    let dir = repo.path().join(&rel);
    let have = |name: &str, sum: &str| {
        std::fs::read(dir.join(name)).is_ok_and(|b| mxos_repo::sha256_hex(&b) == sum)
    };
    let mut bytes = 0;
    let superblock = if have("superblock", superblock_sum) {
        std::fs::read(dir.join("superblock"))?
    } else {
        let b = from
            .get(&format!("{rel}/superblock"), scratch)?
            .with_context(|| {
                format!(
                    "upstream lists static delta {} but does not serve it",
                    delta.name()
                )
            })?;
        if mxos_repo::sha256_hex(&b) != superblock_sum {
            bail!("static delta {} from upstream does not match its signed summary (truncated or altered)", delta.name());
        }
        bytes += b.len() as u64;
        b
    };
    let parts = mxos_repo::delta_part_checksums(&superblock)
        .with_context(|| format!("reading static delta {}", delta.name()))?;
    for (i, sum) in parts.iter().enumerate() {
        let name = i.to_string();
        if have(&name, sum) {
            continue;
        }
        let b = from
            .get_part(
                &format!("{rel}/{name}"),
                &repo.path().join(layout::PARTIAL),
                sum,
            )?
            .with_context(|| {
                format!(
                    "upstream serves static delta {} without its part {i}",
                    delta.name()
                )
            })?;
        if &mxos_repo::sha256_hex(&b) != sum {
            bail!("part {i} of static delta {} from upstream does not match its superblock (truncated or altered)", delta.name());
        }
        bytes += b.len() as u64;
        write_file(&dir.join(&name), &b)?;
    }
    write_file(&dir.join("superblock"), &superblock)?;
    Ok(bytes)
}

fn mirrored_refs(repo: &Repo, summary: &SummaryInfo) -> Result<Vec<(String, String)>> {
    let have: BTreeSet<String> = repo.refs()?.into_iter().map(|(r, _)| r).collect();
    Ok(summary
        .refs
        .iter()
        .filter(|(r, _)| have.contains(*r))
        .map(|(r, c)| (r.clone(), c.clone()))
        .collect())
}

/// Writes by rename, synced: what a reader finds under the final name is whole.
fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("writing in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("installing {}", path.display()))?;
    Ok(())
}
