//! Signing and verifying commits and summaries stored in a real repository.

use std::collections::BTreeMap;

use mxos_repo::{LayerCommit, Repo, RepoMode};
use mxos_sign::{sign_commit, sign_summary, verify_commit, verify_summary, SecretKey};

#[test]
fn commit_and_summary_signatures_verify_only_with_the_right_key() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("tree/usr")).unwrap();
    std::fs::write(tmp.path().join("tree/usr/x"), "x").unwrap();
    let repo = Repo::open_or_create(&tmp.path().join("repo"), RepoMode::Archive).unwrap();
    let commit = repo
        .commit_layer(&LayerCommit {
            reference: "mxos/t",
            parent: None,
            dir: &tmp.path().join("tree"),
            metadata: &BTreeMap::new(),
            timestamp: 1,
        })
        .unwrap();
    let key = SecretKey::generate();
    let stranger = SecretKey::generate();

    let err = format!(
        "{:#}",
        verify_commit(&repo, "mxos/t", &[key.public()]).unwrap_err()
    );
    assert_eq!(
        err,
        format!("commit {commit} refused: no ed25519 signature (ostree.sign.ed25519) found")
    );
    assert_eq!(sign_commit(&repo, "mxos/t", &key).unwrap(), commit);
    assert_eq!(
        verify_commit(&repo, &commit, &[key.public()]).unwrap(),
        key.public()
    );
    let err = format!(
        "{:#}",
        verify_commit(&repo, "mxos/t", &[stranger.public()]).unwrap_err()
    );
    assert!(err.contains("was made by a trusted key"), "{err}");

    repo.regenerate_summary().unwrap();
    sign_summary(repo.path(), &key).unwrap();
    let summary = std::fs::read(repo.path().join("summary")).unwrap();
    let sig = std::fs::read(repo.path().join("summary.sig")).unwrap();
    verify_summary(&summary, &sig, &[key.public()]).unwrap();
    let mut tampered = summary.clone();
    tampered[0] ^= 1;
    assert!(verify_summary(&tampered, &sig, &[key.public()]).is_err());
}
