//! Publishing fleet manifests, and the admin's fleet operations (promote, pause, roll back).
//!
//! Each channel's manifest lives in the public repo as the ref `mxos/fleet/<channel>`: a
//! commit of an empty tree whose metadata holds the manifest JSON and its ed25519 signature.
//! Devices fetch it with the same pulls, mirrors and USB copies as the OS itself. A copy is
//! written as `fleet/<channel>.json` (+ `.json.sig`, base64) for people and scripts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use mxos_fleet::{FleetManifest, RebootWindow, Release, Rollout};
use mxos_repo::{LayerCommit, MetaValue, Repo, RepoMode};
use mxos_sign::SecretKey;

pub use crate::summary::GpgSigner;

/// The keys a fleet operation signs with: ed25519 always, GPG too on a repo published with it.
#[derive(Clone, Copy)]
pub struct Keys<'a> {
    pub ed25519: &'a SecretKey,
    pub gpg: Option<&'a GpgSigner>,
}

pub use mxos_fleet::published::{fleet_ref, KEY_MANIFEST, KEY_SIGNATURE};

/// A manifest as found in a published repo.
pub struct Published {
    pub manifest: FleetManifest,
    pub json: Vec<u8>,
    pub commit: String,
}

/// The channel's current manifest in `repo`, if any. Its signature is not checked here:
/// admins read their own repo; devices verify with `mxos_fleet::accept`.
pub fn read(repo: &Repo, channel: &str) -> Result<Option<Published>> {
    let reference = fleet_ref(channel);
    let Some(commit) = repo.resolve(&reference)? else {
        return Ok(None);
    };
    let info = repo.commit_info(&commit)?;
    let json = info
        .string(KEY_MANIFEST)
        .with_context(|| format!("{reference} ({commit}) carries no {KEY_MANIFEST}"))?
        .as_bytes()
        .to_vec();
    let manifest = FleetManifest::parse(&json, &reference)?;
    Ok(Some(Published {
        manifest,
        json,
        commit,
    }))
}

/// Signs and publishes `manifest`: a new commit on its fleet ref (GPG-signed too with
/// `gpg`, for devices whose remote requires GPG), the JSON copies, and a re-signed summary.
pub fn publish_manifest(public_dir: &Path, manifest: &FleetManifest, keys: Keys) -> Result<String> {
    let (key, gpg) = (keys.ed25519, keys.gpg);
    if let Some(g) = gpg {
        // Checked before anything is written.
        g.export_public()?;
    }
    manifest.validate()?;
    let json = manifest.to_json();
    let sig = mxos_fleet::sign(&json, key);
    let repo = Repo::open_or_create(public_dir, RepoMode::Archive)?;
    let empty = tempfile::tempdir().context("creating an empty tree for the manifest commit")?;
    let mut metadata = BTreeMap::new();
    metadata.insert(
        KEY_MANIFEST.to_owned(),
        MetaValue::Str(String::from_utf8_lossy(&json).into_owned()),
    );
    metadata.insert(KEY_SIGNATURE.to_owned(), MetaValue::Str(B64.encode(&sig)));
    metadata.insert(
        "version".to_owned(),
        MetaValue::Str(format!("serial {}", manifest.serial)),
    );
    let reference = fleet_ref(&manifest.channel);
    let parent = repo.resolve(&reference)?;
    let commit = repo.commit_layer(&LayerCommit {
        reference: &reference,
        parent: parent.as_deref(),
        dir: empty.path(),
        metadata: &metadata,
        timestamp: manifest.issued.max(0) as u64,
    })?;
    if let Some(g) = gpg {
        g.sign_commit(&repo, &commit)?;
    }
    let files = public_dir.join("fleet").join(&manifest.channel);
    std::fs::create_dir_all(files.parent().unwrap_or(public_dir))?;
    write_atomic(&with_ext(&files, "json"), &json)?;
    write_atomic(
        &with_ext(&files, "json.sig"),
        format!("{}\n", B64.encode(&sig)).as_bytes(),
    )?;
    // The manifest's issue time is the admin's clock at this publish.
    let validity = crate::summary::current_validity(&repo);
    let issued = manifest.issued.max(0) as u64;
    crate::summary::seal(&repo, public_dir, key, issued + validity, gpg)?;
    Ok(commit)
}

fn with_ext(p: &Path, ext: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = with_ext(path, "tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("installing {}", path.display()))
}

/// What `fleet promote` changes; `None` keeps the previous manifest's value.
pub struct Promote {
    pub public_dir: PathBuf,
    pub channel: String,
    /// A ref or commit present (and signed) in the public repo.
    pub target: String,
    /// The OS ref devices follow; required for a new channel.
    pub reference: Option<String>,
    pub rollout: Option<Rollout>,
    pub reboot_windows: Option<Vec<RebootWindow>>,
    pub time_zone: Option<String>,
    pub valid_days: u32,
    pub now: i64,
}

/// Points the channel at a published, signed commit (serial + 1).
pub fn promote(req: &Promote, keys: Keys) -> Result<FleetManifest> {
    let key = keys.ed25519;
    let public = Repo::open(&req.public_dir)?;
    let previous = read(&public, &req.channel)?.map(|p| p.manifest);
    let reference = match (&req.reference, &previous) {
        (Some(r), _) => r.clone(),
        (None, Some(p)) => p.reference.clone(),
        (None, None) => bail!(
            "channel `{}` is new: say which OS ref its devices follow with --ref",
            req.channel
        ),
    };
    let target = release(&public, &req.target, key)?;
    let mut m = base(
        previous.as_ref(),
        &req.channel,
        &reference,
        &target,
        req.now,
        req.valid_days,
    );
    m.rollout = req.rollout.clone();
    if let Some(w) = &req.reboot_windows {
        m.reboot_windows = w.clone();
    }
    if let Some(tz) = &req.time_zone {
        m.time_zone = tz.clone();
    }
    publish_manifest(&req.public_dir, &m, keys)?;
    Ok(m)
}

/// Stops (or resumes) new updates on the channel without changing its target.
pub fn set_paused(
    public_dir: &Path,
    channel: &str,
    paused: bool,
    keys: Keys,
    now: i64,
    valid_days: u32,
) -> Result<FleetManifest> {
    let public = Repo::open(public_dir)?;
    let previous = read(&public, channel)?
        .with_context(|| {
            format!(
                "channel `{channel}` has no manifest in {}; promote a commit first",
                public_dir.display()
            )
        })?
        .manifest;
    let mut m = base(
        Some(&previous),
        channel,
        &previous.reference.clone(),
        &previous.target.clone(),
        now,
        valid_days,
    );
    m.rollout = previous.rollout.clone();
    m.paused = paused;
    publish_manifest(public_dir, &m, keys)?;
    Ok(m)
}

/// What `fleet rollback` did.
pub struct RolledBack {
    pub manifest: FleetManifest,
    /// The new head of the OS ref carrying the old content.
    pub commit: String,
    pub from: String,
}

/// Rolls the channel back by rolling forward: the old content (`to`, else the target before
/// the current one) is committed again as a new head of the OS ref, signed, published, and
/// the channel points at it for everyone at once. Devices never need to accept a downgrade.
pub fn rollback(
    build_repo: &Path,
    public_dir: &Path,
    channel: &str,
    to: Option<&str>,
    keys: Keys,
    now: i64,
    valid_days: u32,
) -> Result<RolledBack> {
    let (key, gpg) = (keys.ed25519, keys.gpg);
    let public = Repo::open(public_dir)?;
    let current = read(&public, channel)?.with_context(|| {
        format!(
            "channel `{channel}` has no manifest in {}; nothing to roll back",
            public_dir.display()
        )
    })?;
    let old = match to {
        Some(rev) => public
            .require(rev)
            .or_else(|_| Repo::open(build_repo)?.require(rev))?,
        None => previous_target(&public, &current)?,
    };
    let build = Repo::open(build_repo)?;
    if !build.has_commit(&old)? {
        bail!(
            "commit {old} is not in the build repo {}; pull it there first",
            build_repo.display()
        );
    }
    let old_info = build.commit_info(&old)?;
    let head_info = build.commit_info(&current.manifest.reference).ok();
    // Newer than anything devices may run, so that an upgrade — not a downgrade — takes them back.
    let timestamp = [
        now,
        current.manifest.target.timestamp + 1,
        head_info.as_ref().map_or(0, |h| h.timestamp as i64 + 1),
    ]
    .into_iter()
    .max()
    .unwrap_or(now)
    .max(0) as u64;
    let mut metadata = old_info.metadata.clone();
    let version = format!(
        "{}-rollback.{}",
        old_info.version().unwrap_or("0"),
        current.manifest.serial + 1
    );
    metadata.insert("version".into(), MetaValue::Str(version.clone()));
    metadata.insert("mxos.rollback-of".into(), MetaValue::Str(old.clone()));
    let reference = current.manifest.reference.clone();
    let commit = build.recommit(
        &old,
        &reference,
        &format!("MxOS {reference} {version} (rollback of {old})"),
        &metadata,
        timestamp,
    )?;
    mxos_sign::sign_commit(&build, &commit, key)?;
    if let Some(g) = gpg {
        g.sign_commit(&build, &commit)?;
    }
    public.pull_local(&build, std::slice::from_ref(&reference))?;
    let target = release(&public, &commit, key)?;
    let m = base(
        Some(&current.manifest),
        channel,
        &reference,
        &target,
        now,
        valid_days,
    );
    publish_manifest(public_dir, &m, keys)?;
    Ok(RolledBack {
        manifest: m,
        commit,
        from: old,
    })
}

/// The target of the manifest before `current` whose target differs.
fn previous_target(public: &Repo, current: &Published) -> Result<String> {
    let mut commit = public.commit_info(&current.commit)?.parent;
    while let Some(c) = commit {
        let info = public.commit_info(&c)?;
        if let Some(json) = info.string(KEY_MANIFEST) {
            let m = FleetManifest::parse(json.as_bytes(), &c)?;
            if m.target.commit != current.manifest.target.commit {
                return Ok(m.target.commit);
            }
        }
        commit = info.parent;
    }
    bail!(
        "channel `{}` has no earlier target to roll back to; name one with --to",
        current.manifest.channel
    )
}

fn release(public: &Repo, rev: &str, key: &SecretKey) -> Result<Release> {
    let commit = public.require(rev).with_context(|| {
        format!("publish `{rev}` first: devices can only be sent to published commits")
    })?;
    mxos_sign::verify_commit(public, &commit, &[key.public()])
        .with_context(|| format!("refusing to send devices to {commit}"))?;
    let info = public.commit_info(&commit)?;
    Ok(Release {
        version: info.version().unwrap_or("-").to_owned(),
        timestamp: info.timestamp as i64,
        commit,
    })
}

/// The next manifest of a channel: serial + 1, fresh issue and expiry, other fields kept.
fn base(
    previous: Option<&FleetManifest>,
    channel: &str,
    reference: &str,
    target: &Release,
    now: i64,
    valid_days: u32,
) -> FleetManifest {
    FleetManifest {
        schema: 1,
        channel: channel.to_owned(),
        reference: reference.to_owned(),
        serial: mxos_fleet::next_serial(previous),
        issued: now,
        expires: now + i64::from(valid_days) * 86_400,
        target: target.clone(),
        rollout: None,
        paused: false,
        barriers: previous.map(|p| p.barriers.clone()).unwrap_or_default(),
        dead_ends: previous.map(|p| p.dead_ends.clone()).unwrap_or_default(),
        reboot_windows: previous
            .map(|p| p.reboot_windows.clone())
            .unwrap_or_default(),
        time_zone: previous
            .map_or_else(|| "America/Mexico_City".to_owned(), |p| p.time_zone.clone()),
    }
}
