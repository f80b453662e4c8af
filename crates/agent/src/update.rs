//! Setting a machine up to follow a remote, and the device's update steps: find what to run
//! (the ref's head, or the commit a signed fleet manifest names for this machine), verify it,
//! download exactly that commit, deploy it, roll back.
//!
//! The order is the security argument: check the remote's signed summary (fresh, not
//! replayed), fetch only the commit object it names, check its signature, then fetch
//! exactly that commit's tree, then deploy it. A refused commit leaves the
//! deployments and the followed ref as they were.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use mxos_repo::{Deployment, PullOptions, Repo, Sysroot};
use mxos_sign::PublicKey;

use crate::remote_conf::RemoteConf;
use crate::sources::Source;
use crate::{grubenv, refuse, state, summary_trust, t};

/// The stateroot MxOS deploys into (`/ostree/deploy/mxos`).
pub const STATEROOT: &str = "mxos";

pub struct InitRequest<'a> {
    pub sysroot: &'a Path,
    pub remote: &'a RemoteConf,
    /// The ref to follow on that remote, e.g. `mxos/10/x86_64/demo`.
    pub reference: &'a str,
    /// The GPG public key the remote config names (`mxos-gpg-key`), read by the caller.
    pub gpg_key: Option<(&'a Path, &'a [u8])>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpgradeOutcome {
    UpToDate {
        checksum: String,
        version: Option<String>,
    },
    Deployed {
        checksum: String,
        version: Option<String>,
        previous: Option<String>,
    },
}

/// Where the followed refspec is kept before the first deployment exists; it lives in the
/// stateroot's `/var`, so on a booted machine this is `/var/lib/mxos-update/following`.
fn following_file(sysroot: &Path) -> PathBuf {
    state::dir(sysroot, STATEROOT).join("following")
}

/// Prepares `sysroot` (creating it if empty) to follow `remote:reference`.
pub fn init(req: &InitRequest) -> Result<String> {
    let sysroot = if req.sysroot.join("ostree/repo/config").exists() {
        Sysroot::load(req.sysroot)?
    } else {
        Sysroot::init(req.sysroot, STATEROOT)?
    };
    for k in &req.remote.ed25519_keys {
        PublicKey::from_base64(k).context(t!("remote-conf-key-invalid"))?;
    }
    let repo = sysroot.repo();
    // GPG is libostree's own: with gpg-verify it checks commits and summaries on every pull
    // against the keyring imported below.
    let gpg = if req.remote.gpg_verify {
        "true"
    } else {
        "false"
    };
    let mut options: Vec<(&str, &str)> = vec![("gpg-verify", gpg), ("gpg-verify-summary", gpg)];
    // libostree on Debian 12 (2022.7) has no ed25519 support, so mxos-update verifies the
    // signature itself before deploying; the key stays under libostree's own option name.
    options.push(("sign-verify", "false"));
    for k in &req.remote.ed25519_keys {
        options.push(("verification-ed25519-key", k));
    }
    if let Some(id) = &req.remote.collection_id {
        options.push(("collection-id", id));
    }
    repo.set_remote(&req.remote.name, &req.remote.url, &options)?;
    if let (true, Some((path, key))) = (req.remote.gpg_verify, req.gpg_key) {
        repo.remote_gpg_import(&req.remote.name, key)
            .with_context(|| {
                t!(
                    "importing-gpg-key",
                    path = path.display(),
                    remote = &req.remote.name
                )
            })?;
    }
    let refspec = format!("{}:{}", req.remote.name, req.reference);
    let file = following_file(req.sysroot);
    let dir = file.parent().unwrap_or(req.sysroot);
    std::fs::create_dir_all(dir).with_context(|| t!("creating-dir", path = dir.display()))?;
    std::fs::write(&file, format!("{refspec}\n"))
        .with_context(|| t!("writing-file", path = file.display()))?;
    Ok(refspec)
}

/// The refspec this machine follows: the default deployment's origin, else what `init` set.
pub fn following(sysroot: &Sysroot) -> Result<Option<String>> {
    if let Some(r) = sysroot
        .deployments()
        .first()
        .and_then(|d| d.refspec.clone())
    {
        return Ok(Some(r));
    }
    match std::fs::read_to_string(following_file(sysroot.path())) {
        Ok(s) => Ok(Some(s.trim().to_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).context(t!("reading-followed-ref")),
    }
}

/// Loads a sysroot, saying in the person's language when there is none.
pub fn open_sysroot(path: &Path) -> Result<Sysroot> {
    if !path.join("ostree/repo/config").exists() {
        refuse!("not-a-sysroot", path = path.display());
    }
    Sysroot::load(path).with_context(|| t!("opening-sysroot", path = path.display()))
}

/// Makes the previous deployment the default, refusing clearly when there is none.
pub fn rollback_in(sysroot: &Sysroot) -> Result<Deployment> {
    let n = sysroot.deployments().len();
    if n < 2 {
        refuse!("no-rollback-target", count = n);
    }
    sysroot.rollback().context(t!("rolling-back"))
}

/// A machine's sysroot, opened for updating.
pub struct Device {
    pub sysroot: Sysroot,
    pub repo: Repo,
    pub refspec: String,
    pub remote: String,
    pub reference: String,
    pub keys: Vec<PublicKey>,
    /// The collection the remote's commits must be bound to (`collection-id`), if it has one.
    pub collection: Option<String>,
    /// The default deployment (what the next boot runs), if any.
    pub current: Option<Deployment>,
    /// Where the remote is read from now (see [`Device::use_source`]).
    via: std::cell::RefCell<Source>,
    /// Bytes fetched since [`Device::take_fetched`] was last called.
    fetched: std::cell::Cell<u64>,
    /// `ostree.summary.last-modified` of the summary last accepted from the source in use.
    summary_made: std::cell::Cell<Option<u64>>,
}

impl Device {
    pub fn open(path: &Path) -> Result<Device> {
        let sysroot = open_sysroot(path)?;
        let refspec = following(&sysroot)?
            .with_context(|| t!("not-initialized", sysroot = path.display()))?;
        let (remote, reference) = refspec
            .split_once(':')
            .with_context(|| t!("refspec-no-remote", refspec = &refspec))?;
        let (remote, reference) = (remote.to_owned(), reference.to_owned());
        let repo = sysroot.repo();
        let key = repo
            .remote_option(&remote, "verification-ed25519-key")?
            .with_context(|| t!("remote-no-key", remote = &remote))?;
        let keys = vec![PublicKey::from_base64(&key)
            .with_context(|| t!("remote-key-invalid", remote = &remote))?];
        let collection = repo.remote_option(&remote, "collection-id")?;
        let current = sysroot.deployments().into_iter().find(|d| !d.staged);
        Ok(Device {
            sysroot,
            repo,
            refspec,
            remote,
            reference,
            keys,
            collection,
            current,
            via: std::cell::RefCell::new(Source::main()),
            fetched: std::cell::Cell::new(0),
            summary_made: std::cell::Cell::new(None),
        })
    }

    /// Reads the remote from `source` from now on: the same keys, collection and checks,
    /// another URL.
    pub fn use_source(&self, source: &Source) {
        *self.via.borrow_mut() = source.clone();
        self.summary_made.set(None);
    }

    pub fn source(&self) -> Source {
        self.via.borrow().clone()
    }

    /// Bytes fetched since the last call, and starts counting again.
    pub fn take_fetched(&self) -> u64 {
        self.fetched.replace(0)
    }

    /// When the summary last accepted from the source in use was made.
    pub fn summary_made(&self) -> Option<u64> {
        self.summary_made.get()
    }

    fn url(&self) -> Option<String> {
        self.via.borrow().url.clone()
    }

    fn pull(&self, opts: PullOptions) -> Result<()> {
        let opts = PullOptions {
            url: self.url(),
            ..opts
        };
        let bytes = self.repo.pull_counted(&self.remote, &opts)?;
        self.fetched.set(self.fetched.get() + bytes);
        Ok(())
    }

    /// The root of the running (or, off-line, the default) deployment: where its /etc and
    /// /usr are, for configuration, health checks and the machine-id.
    pub fn root(&self) -> PathBuf {
        if self.sysroot.path() == Path::new("/") {
            return PathBuf::from("/");
        }
        let booted = self.sysroot.deployments().into_iter().find(|d| d.booted);
        match booted.or_else(|| self.current.clone()) {
            Some(d) => self.sysroot.deployment_dir(&d),
            None => self.sysroot.path().to_owned(),
        }
    }

    pub fn state_dir(&self) -> PathBuf {
        state::dir(self.sysroot.path(), STATEROOT)
    }

    /// The remote's summary, once this machine has checked it (signature, age, expiry);
    /// the last-modified time it carries becomes the oldest this machine will accept.
    pub fn trusted_summary(&self, now: i64) -> Result<mxos_repo::SummaryInfo> {
        let fetched = self
            .repo
            .fetch_remote_summary_from(&self.remote, self.url().as_deref())
            .context(t!("checking-remote"))?;
        let dir = self.state_dir();
        let mut st = state::load(&dir)?;
        let info = summary_trust::judge(
            &self.remote,
            &fetched,
            &self.keys,
            st.summary_last_modified,
            now,
        )?;
        self.summary_made.set(info.last_modified);
        if info.last_modified > st.summary_last_modified {
            st.summary_last_modified = info.last_modified;
            state::save(&dir, &st)?;
        }
        Ok(info)
    }

    /// Fetches only the commit object of `reference` on the remote and returns its
    /// checksum: exactly `commit` when given (a fleet manifest's target), else the commit
    /// the verified summary names for the ref. On any failure the local ref is put back.
    pub fn fetch_commit_object(
        &self,
        reference: &str,
        commit: Option<&str>,
        now: i64,
    ) -> Result<String> {
        let summary = self.trusted_summary(now)?;
        let expected = match commit {
            Some(c) => c.to_owned(),
            None => match summary.refs.get(reference) {
                Some(c) => c.clone(),
                None => refuse!(
                    "summary-no-ref",
                    remote = &self.remote,
                    reference = reference
                ),
            },
        };
        let refspec = format!("{}:{reference}", self.remote);
        let before = self.repo.resolve(&refspec)?;
        let opts = PullOptions {
            refs: vec![reference.to_owned()],
            commit_only: true,
            commits: vec![expected.clone()],
            ..Default::default()
        };
        let result = self
            .pull(opts)
            .and_then(|()| self.repo.require(&refspec))
            .context(t!("checking-remote"))
            .and_then(|got| {
                if got == expected {
                    Ok(got)
                } else {
                    Err(t!(
                        "summary-commit-mismatch",
                        remote = &self.remote,
                        reference = reference,
                        got = &got,
                        expected = &expected
                    )
                    .into())
                }
            })
            .and_then(|got| {
                let b = self.repo.bindings(&got)?;
                crate::bindings::judge(self.collection.as_deref(), reference, &got, &b)?;
                Ok(got)
            });
        if result.is_err() {
            self.restore(&refspec, before.as_deref());
        }
        result
    }

    fn restore(&self, refspec: &str, to: Option<&str>) {
        // Best effort: the error being reported matters more than this one.
        let _ = self.repo.set_ref(refspec, to);
    }

    /// Checks the signature (and that it is bootable and not a downgrade) of a fetched
    /// commit; a refusal puts the followed ref back to `restore_to`.
    pub fn verify(&self, commit: &str, restore_to: Option<&str>) -> Result<()> {
        let refuse = |e: anyhow::Error| {
            self.restore(&self.refspec, restore_to);
            e
        };
        let bytes = self.repo.commit_bytes(commit)?;
        let sigs = self
            .repo
            .detached_signatures(commit, mxos_sign::METADATA_KEY)?;
        mxos_sign::verify(&bytes, &sigs, &self.keys).map_err(|e| {
            refuse(anyhow::Error::new(e).context(t!("refused-signature", commit = commit)))
        })?;
        let info = self.repo.commit_info(commit)?;
        if !info.metadata.contains_key("ostree.bootable") {
            return Err(refuse(t!("refused-not-bootable", commit = commit).into()));
        }
        if let Some(cur) = &self.current {
            let cur_info = self.repo.commit_info(&cur.checksum)?;
            if info.timestamp < cur_info.timestamp {
                return Err(refuse(
                    t!(
                        "refused-downgrade",
                        commit = commit,
                        version = info.version().unwrap_or("-"),
                        current = &cur.checksum,
                        current_version = cur_info.version().unwrap_or("-")
                    )
                    .into(),
                ));
            }
        }
        Ok(())
    }

    /// Downloads exactly `commit` (already verified) for the followed ref.
    pub fn download(&self, commit: &str) -> Result<()> {
        let opts = PullOptions {
            refs: vec![self.reference.clone()],
            commits: vec![commit.to_owned()],
            ..Default::default()
        };
        tracing::info_span!("mxos.step", step = %t!("step-download"))
            .in_scope(|| self.pull(opts))
            .context(t!("downloading-commit"))
    }

    /// Deploys (or on a booted machine stages) `commit` as the next boot, and puts it on
    /// trial: health checks must pass on its first boot, and GRUB gives it
    /// `max_boot_attempts` boots to get there.
    pub fn deploy(&self, commit: &str, max_boot_attempts: u8) -> Result<Deployment> {
        let d = self
            .sysroot
            .deploy(STATEROOT, commit, &self.refspec)
            .with_context(|| t!("deploying", commit = commit))?;
        let mut st = state::load(&self.state_dir())?;
        st.pending_health = Some(commit.to_owned());
        state::save(&self.state_dir(), &st)?;
        if let Some(env) = grubenv::path(self.sysroot.path()) {
            grubenv::set(&env, grubenv::TRIES, Some(&max_boot_attempts.to_string()))?;
        }
        Ok(d)
    }
}

/// One-shot update of the followed ref to its head (no fleet manifest).
pub fn upgrade(sysroot_path: &Path, max_boot_attempts: u8, now: i64) -> Result<UpgradeOutcome> {
    let device = Device::open(sysroot_path)?;
    let before = device.repo.resolve(&device.refspec)?;
    let new = device.fetch_commit_object(&device.reference, None, now)?;
    let new_info = device.repo.commit_info(&new)?;
    if device.current.as_ref().is_some_and(|c| c.checksum == new) {
        return Ok(UpgradeOutcome::UpToDate {
            checksum: new,
            version: new_info.version().map(str::to_owned),
        });
    }
    device.verify(&new, before.as_deref())?;
    device
        .download(&new)
        .inspect_err(|_| device.restore(&device.refspec, before.as_deref()))?;
    device.deploy(&new, max_boot_attempts)?;
    Ok(UpgradeOutcome::Deployed {
        checksum: new,
        version: new_info.version().map(str::to_owned),
        previous: device.current.map(|c| c.checksum),
    })
}

/// Makes the previous deployment the default; returns its (checksum, version). Ends any
/// trial of the version rolled away from.
pub fn rollback(sysroot_path: &Path) -> Result<(String, Option<String>)> {
    let sysroot = open_sysroot(sysroot_path)?;
    let d = rollback_in(&sysroot)?;
    end_trial(sysroot_path)?;
    let version = sysroot
        .repo()
        .commit_info(&d.checksum)?
        .version()
        .map(str::to_owned);
    Ok((d.checksum, version))
}

/// No deployment is on trial any more: no pending health check, no boot counting.
pub fn end_trial(sysroot_path: &Path) -> Result<()> {
    let dir = state::dir(sysroot_path, STATEROOT);
    let mut st = state::load(&dir)?;
    if st.pending_health.take().is_some() {
        state::save(&dir, &st)?;
    }
    if let Some(env) = grubenv::path(sysroot_path) {
        if env.exists() {
            grubenv::set(&env, grubenv::TRIES, None)?;
        }
    }
    Ok(())
}
