//! Setting a machine up to follow a remote, and the device's update steps: find what to run
//! (the ref's head, or the commit a signed fleet manifest names for this machine), verify it,
//! download exactly that commit, deploy it, roll back.
//!
//! The order is the security argument: fetch only the commit object, check its signature,
//! then fetch exactly that commit's tree, then deploy it. A refused commit leaves the
//! deployments and the followed ref as they were.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use mxos_repo::{Deployment, PullOptions, Repo, Sysroot};
use mxos_sign::PublicKey;

use crate::remote_conf::RemoteConf;
use crate::{grubenv, state};

/// The stateroot MxOS deploys into (`/ostree/deploy/mxos`).
pub const STATEROOT: &str = "mxos";

pub struct InitRequest<'a> {
    pub sysroot: &'a Path,
    pub remote: &'a RemoteConf,
    /// The ref to follow on that remote, e.g. `mxos/10/x86_64/demo`.
    pub reference: &'a str,
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
        PublicKey::from_base64(k).context("remote config's verification-ed25519-key")?;
    }
    let repo = sysroot.repo();
    let mut options: Vec<(&str, &str)> = vec![("gpg-verify", "false")];
    // libostree on Debian 12 (2022.7) has no ed25519 support, so mxos-update verifies the
    // signature itself before deploying; the key stays under libostree's own option name.
    options.push(("sign-verify", "false"));
    for k in &req.remote.ed25519_keys {
        options.push(("verification-ed25519-key", k));
    }
    repo.set_remote(&req.remote.name, &req.remote.url, &options)?;
    let refspec = format!("{}:{}", req.remote.name, req.reference);
    let file = following_file(req.sysroot);
    std::fs::create_dir_all(file.parent().unwrap_or(req.sysroot))?;
    std::fs::write(&file, format!("{refspec}\n"))
        .with_context(|| format!("writing {}", file.display()))?;
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
        Err(e) => Err(e).context("reading the followed ref"),
    }
}

/// A machine's sysroot, opened for updating.
pub struct Device {
    pub sysroot: Sysroot,
    pub repo: Repo,
    pub refspec: String,
    pub remote: String,
    pub reference: String,
    pub keys: Vec<PublicKey>,
    /// The default deployment (what the next boot runs), if any.
    pub current: Option<Deployment>,
}

impl Device {
    pub fn open(path: &Path) -> Result<Device> {
        let sysroot = Sysroot::load(path)?;
        let refspec = following(&sysroot)?.with_context(|| {
            format!(
                "{} follows no ref; run `mxos-update init` first",
                path.display()
            )
        })?;
        let (remote, reference) = refspec.split_once(':').with_context(|| {
            format!("followed ref `{refspec}` has no remote (expected REMOTE:REF)")
        })?;
        let (remote, reference) = (remote.to_owned(), reference.to_owned());
        let repo = sysroot.repo();
        let key = repo.remote_option(&remote, "verification-ed25519-key")?.with_context(|| {
            format!("remote `{remote}` has no verification-ed25519-key; refusing to deploy commits nobody can verify")
        })?;
        let keys = vec![PublicKey::from_base64(&key)
            .with_context(|| format!("remote `{remote}`'s verification-ed25519-key"))?];
        let current = sysroot.deployments().into_iter().find(|d| !d.staged);
        Ok(Device {
            sysroot,
            repo,
            refspec,
            remote,
            reference,
            keys,
            current,
        })
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

    /// Fetches only the commit object of `reference` on the remote (its head, or exactly
    /// `commit`) and returns its checksum; on any failure the local ref is put back.
    pub fn fetch_commit_object(&self, reference: &str, commit: Option<&str>) -> Result<String> {
        let refspec = format!("{}:{reference}", self.remote);
        let before = self.repo.resolve(&refspec)?;
        let opts = PullOptions {
            refs: vec![reference.to_owned()],
            commit_only: true,
            commits: commit.map(|c| vec![c.to_owned()]).unwrap_or_default(),
            ..Default::default()
        };
        let result = self
            .repo
            .pull(&self.remote, &opts)
            .and_then(|()| self.repo.require(&refspec));
        if result.is_err() {
            self.restore(&refspec, before.as_deref());
        }
        result.context("checking the remote for a new version")
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
        mxos_sign::verify_commit(&self.repo, commit, &self.keys).map_err(refuse)?;
        let info = self.repo.commit_info(commit)?;
        if !info.metadata.contains_key("ostree.bootable") {
            return Err(refuse(anyhow::anyhow!(
                "commit {commit} is not marked bootable (ostree.bootable); not deploying it"
            )));
        }
        if let Some(cur) = &self.current {
            let cur_info = self.repo.commit_info(&cur.checksum)?;
            if info.timestamp < cur_info.timestamp {
                return Err(refuse(anyhow::anyhow!(
                    "commit {commit} ({}) is older than the deployed {} ({}); refusing to downgrade (a fleet rollback publishes the old content as a new commit instead)",
                    info.version().unwrap_or("-"),
                    cur.checksum,
                    cur_info.version().unwrap_or("-")
                )));
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
        self.repo
            .pull(&self.remote, &opts)
            .context("downloading the verified commit")
    }

    /// Deploys (or on a booted machine stages) `commit` as the next boot, and puts it on
    /// trial: health checks must pass on its first boot, and GRUB gives it
    /// `max_boot_attempts` boots to get there.
    pub fn deploy(&self, commit: &str, max_boot_attempts: u8) -> Result<Deployment> {
        let d = self.sysroot.deploy(STATEROOT, commit, &self.refspec)?;
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
pub fn upgrade(sysroot_path: &Path, max_boot_attempts: u8) -> Result<UpgradeOutcome> {
    let device = Device::open(sysroot_path)?;
    let before = device.repo.resolve(&device.refspec)?;
    let new = device.fetch_commit_object(&device.reference, None)?;
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
    let sysroot = Sysroot::load(sysroot_path)?;
    let d = sysroot.rollback()?;
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
