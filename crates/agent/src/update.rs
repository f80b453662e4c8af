//! Setting a machine up to follow a remote, upgrading to a verified commit, rolling back.
//!
//! The order in `upgrade` is the security argument: fetch only the commit object, check its
//! signature, then fetch exactly that commit's tree, then deploy it. A refused commit
//! leaves the deployments and the followed ref as they were.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use mxos_repo::{PullOptions, Repo, Sysroot};
use mxos_sign::PublicKey;

use crate::remote_conf::RemoteConf;

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
    sysroot.join(format!(
        "ostree/deploy/{STATEROOT}/var/lib/mxos-update/following"
    ))
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

fn trusted_keys(repo: &Repo, remote: &str) -> Result<Vec<PublicKey>> {
    let key = repo
        .remote_option(remote, "verification-ed25519-key")?
        .with_context(|| format!("remote `{remote}` has no verification-ed25519-key; refusing to deploy commits nobody can verify"))?;
    Ok(vec![PublicKey::from_base64(&key).with_context(|| {
        format!("remote `{remote}`'s verification-ed25519-key")
    })?])
}

pub fn upgrade(sysroot_path: &Path) -> Result<UpgradeOutcome> {
    let sysroot = Sysroot::load(sysroot_path)?;
    let refspec = following(&sysroot)?.with_context(|| {
        format!(
            "{} follows no ref; run `mxos-update init` first",
            sysroot_path.display()
        )
    })?;
    let (remote, reference) = refspec
        .split_once(':')
        .with_context(|| format!("followed ref `{refspec}` has no remote (expected REMOTE:REF)"))?;
    let repo = sysroot.repo();
    let keys = trusted_keys(&repo, remote)?;
    let current = sysroot.deployments().into_iter().next();
    let before = repo.resolve(&refspec)?;

    repo.pull(
        remote,
        &PullOptions {
            refs: vec![reference.into()],
            commit_only: true,
            ..Default::default()
        },
    )
    .context("checking the remote for a new version")?;
    let new = repo.require(&refspec)?;
    let new_info = repo.commit_info(&new)?;
    if current.as_ref().is_some_and(|c| c.checksum == new) {
        return Ok(UpgradeOutcome::UpToDate {
            checksum: new,
            version: new_info.version().map(str::to_owned),
        });
    }
    let restore = |why: anyhow::Error| -> anyhow::Error {
        // Put the ref back so the repo says what the machine actually trusts.
        if let Err(e) = repo.set_ref(&refspec, before.as_deref()) {
            return why.context(format!("also failed to restore {refspec}: {e:#}"));
        }
        why
    };
    if let Err(e) = mxos_sign::verify_commit(&repo, &new, &keys) {
        return Err(restore(e));
    }
    if !new_info.metadata.contains_key("ostree.bootable") {
        return Err(restore(anyhow::anyhow!(
            "commit {new} is not marked bootable (ostree.bootable); not deploying it"
        )));
    }
    if let Some(cur) = &current {
        let cur_info = repo.commit_info(&cur.checksum)?;
        if new_info.timestamp < cur_info.timestamp {
            return Err(restore(anyhow::anyhow!(
                "commit {new} ({}) is older than the deployed {} ({}); refusing to downgrade (a fleet rollback publishes the old content as a new commit instead)",
                new_info.version().unwrap_or("-"),
                cur.checksum,
                cur_info.version().unwrap_or("-")
            )));
        }
    }
    repo.pull(
        remote,
        &PullOptions {
            refs: vec![reference.into()],
            commits: vec![new.clone()],
            ..Default::default()
        },
    )
    .map_err(restore)
    .context("downloading the verified commit")?;
    sysroot.deploy(STATEROOT, &new, &refspec)?;
    Ok(UpgradeOutcome::Deployed {
        checksum: new,
        version: new_info.version().map(str::to_owned),
        previous: current.map(|c| c.checksum),
    })
}

/// Makes the previous deployment the default; returns its (checksum, version).
pub fn rollback(sysroot_path: &Path) -> Result<(String, Option<String>)> {
    let sysroot = Sysroot::load(sysroot_path)?;
    let d = sysroot.rollback()?;
    let version = sysroot
        .repo()
        .commit_info(&d.checksum)?
        .version()
        .map(str::to_owned);
    Ok((d.checksum, version))
}
