//! Signatures where libostree keeps them: a commit's detached metadata and `summary.sig`.

use std::path::Path;

use anyhow::{Context, Result};
use mxos_repo::Repo;

use crate::{verify, PublicKey, SecretKey, METADATA_KEY};

/// Signs the commit `rev` resolves to; signing twice with the same key adds nothing.
pub fn sign_commit(repo: &Repo, rev: &str, key: &SecretKey) -> Result<String> {
    let checksum = repo.require(rev)?;
    let bytes = repo.commit_bytes(&checksum)?;
    repo.append_detached_signature(&checksum, METADATA_KEY, &key.sign(&bytes))
        .with_context(|| format!("storing the signature of {checksum}"))?;
    Ok(checksum)
}

/// Checks that `rev` carries an ed25519 signature by one of `trusted` over its exact bytes.
pub fn verify_commit(repo: &Repo, rev: &str, trusted: &[PublicKey]) -> Result<PublicKey> {
    let checksum = repo.require(rev)?;
    let bytes = repo.commit_bytes(&checksum)?;
    let sigs = repo.detached_signatures(&checksum, METADATA_KEY)?;
    verify(&bytes, &sigs, trusted).with_context(|| format!("commit {checksum} refused"))
}

/// Writes `summary.sig` next to `summary` in a published repo, atomically, so a client
/// never sees a signature file half written. A GPG signature libostree already put there
/// stays; an earlier ed25519 signature is replaced.
pub fn sign_summary(repo_dir: &Path, key: &SecretKey) -> Result<()> {
    let summary_path = repo_dir.join("summary");
    let summary = std::fs::read(&summary_path)
        .with_context(|| format!("reading {}", summary_path.display()))?;
    let dest = repo_dir.join("summary.sig");
    let existing = match std::fs::read(&dest) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("reading {}", dest.display())),
    };
    let sig = mxos_repo::replace_in_signature_file(
        existing.as_deref(),
        METADATA_KEY,
        &[key.sign(&summary).to_vec()],
    );
    let tmp = repo_dir.join(".summary.sig.tmp");
    std::fs::write(&tmp, sig).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &dest).context("installing summary.sig")?;
    // libostree deleted the old signature when it regenerated the summary, so follow the
    // summary's mtime, which the repo keeps strictly increasing for HTTP caches.
    let summary_mtime = std::fs::metadata(&summary_path)
        .and_then(|m| m.modified())
        .ok();
    let sig_mtime = std::fs::metadata(&dest).and_then(|m| m.modified()).ok();
    if let (Some(s), Some(g)) = (summary_mtime, sig_mtime) {
        if s > g {
            std::fs::File::options()
                .write(true)
                .open(&dest)
                .and_then(|f| f.set_modified(s))
                .context("setting the modification time of summary.sig")?;
        }
    }
    Ok(())
}

/// Checks a summary's bytes against its `summary.sig` bytes.
pub fn verify_summary(summary: &[u8], sig_file: &[u8], trusted: &[PublicKey]) -> Result<PublicKey> {
    let sigs = mxos_repo::decode_signature_file(sig_file, METADATA_KEY);
    verify(summary, &sigs, trusted).context("summary refused")
}
