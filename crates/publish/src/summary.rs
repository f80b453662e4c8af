//! Sealing a published repo's summary: regenerate it with a validity window
//! (`ostree.summary.expires`), sign it with ed25519 and, when asked, with GPG, both in the
//! one `summary.sig` as libostree keeps them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use mxos_repo::{GpgKey, LayerCommit, MetaValue, Repo};
use mxos_sign::SecretKey;

/// How long a published summary is valid when nobody says otherwise.
pub const DEFAULT_VALID_DAYS: u32 = 30;

/// Name of the exported GPG public key in the published tree.
pub const GPG_PUBLIC_KEY_FILE: &str = "mxos.gpg";

const DAY: u64 = 86_400;

/// A GPG key that signs commits and the summary.
#[derive(Debug, Clone)]
pub struct GpgSigner {
    pub key_id: String,
    pub homedir: PathBuf,
}

impl GpgSigner {
    pub fn key(&self) -> GpgKey<'_> {
        GpgKey {
            key_id: &self.key_id,
            homedir: &self.homedir,
        }
    }

    /// The public key, binary, as `gpg --export` gives it; an unknown id is an error
    /// naming it (gpg itself exits 0 and prints nothing).
    pub fn export_public(&self) -> Result<Vec<u8>> {
        // gpg would create a missing home directory, empty, and then find no key in it.
        self.key().check()?;
        let out = mxos_process::run(
            Command::new("gpg")
                .arg("--homedir")
                .arg(&self.homedir)
                .args(["--batch", "--export", &self.key_id]),
        )
        .with_context(|| {
            format!(
                "exporting GPG public key {} from {}",
                self.key_id,
                self.homedir.display()
            )
        })?;
        if out.stdout.is_empty() {
            bail!(
                "GPG key {} is not in {}; list the keys there with `gpg --homedir {} --list-secret-keys`",
                self.key_id,
                self.homedir.display(),
                self.homedir.display()
            );
        }
        Ok(out.stdout)
    }
}

impl GpgSigner {
    /// GPG-signs one commit (once: a signature by this key already there stays alone).
    pub fn sign_commit(&self, repo: &Repo, checksum: &str) -> Result<()> {
        let public_key = self.export_public()?;
        repo.gpg_sign_commit(checksum, &self.key(), &public_key)
    }
}

/// When a summary written at `now` with a validity of `days` expires. 0 days means at once:
/// a summary devices must refuse from the moment it is published (to withdraw a repo, and
/// to test that devices do).
pub fn expires_at(now: u64, days: u32) -> u64 {
    now + u64::from(days) * DAY
}

/// The validity the repo's current summary was published with, so that re-signing it
/// (prune, fleet manifests) keeps the maintainer's choice; the default when it had none.
pub fn current_validity(repo: &Repo) -> u64 {
    repo.summary_info()
        .ok()
        .and_then(|i| Some(i.expires?.saturating_sub(i.last_modified?)))
        .unwrap_or(u64::from(DEFAULT_VALID_DAYS) * DAY)
}

/// Regenerates the summary expiring at `expires` and signs it; a repo with a collection ID
/// first gets a new `ostree-metadata` commit, signed the same way.
pub fn seal(
    repo: &Repo,
    public_dir: &Path,
    key: &SecretKey,
    expires: u64,
    gpg: Option<&GpgSigner>,
) -> Result<()> {
    if repo.collection_id().is_some() {
        let commit = write_metadata_commit(repo, expires)?;
        mxos_sign::sign_commit(repo, &commit, key)?;
        if let Some(g) = gpg {
            g.sign_commit(repo, &commit)?;
        }
    }
    repo.regenerate_summary_expiring(Some(expires))?;
    mxos_sign::sign_summary(public_dir, key)?;
    if let Some(g) = gpg {
        repo.gpg_sign_summary(&g.key())?;
    }
    Ok(())
}

/// Commit metadata key of the `ostree-metadata` commit: every other ref with its commit,
/// `REF COMMIT`, sorted; what the signed summary lists, in a form a peer or a USB copy
/// carries as a signed commit.
pub const KEY_METADATA_REFS: &str = "mxos.summary.refs";

/// A commit of an empty tree on `ostree-metadata` (no parent: the previous one is left for
/// prune) with the summary's validity and refs; bound to the repo's collection like any.
fn write_metadata_commit(repo: &Repo, expires: u64) -> Result<String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let refs = repo
        .refs()?
        .into_iter()
        .filter(|(r, _)| r != mxos_repo::METADATA_REF && !r.contains(':'))
        .map(|(r, c)| format!("{r} {c}"))
        .collect();
    let mut metadata = BTreeMap::new();
    metadata.insert(mxos_repo::EXPIRES_KEY.to_owned(), MetaValue::U64(expires));
    metadata.insert(KEY_METADATA_REFS.to_owned(), MetaValue::StrList(refs));
    let empty = tempfile::tempdir().context("creating an empty tree for ostree-metadata")?;
    repo.commit_layer(&LayerCommit {
        reference: mxos_repo::METADATA_REF,
        dir: empty.path(),
        parent: None,
        metadata: &metadata,
        timestamp: now,
    })
    .context("writing the ostree-metadata commit")
}

#[cfg(test)]
mod tests {
    #[test]
    fn zero_days_expires_at_once() {
        assert_eq!(super::expires_at(1000, 0), 1000);
        assert_eq!(super::expires_at(1000, 30), 1000 + 30 * 86_400);
    }
}
