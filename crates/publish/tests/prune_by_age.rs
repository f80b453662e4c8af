//! `--keep-younger-than`: commits older than the cutoff go with the deltas that touch them;
//! the head always stays, and the summary that remains is re-signed and lists only what is
//! still there.

use std::collections::BTreeMap;
use std::fs;

use mxos_publish::prune::{prune, PruneRequest};
use mxos_repo::{CommitRequest, Repo, RepoMode};

const DAY: u64 = 86_400;
const T0: u64 = 1_764_374_400;

#[test]
fn commits_older_than_the_cutoff_go_with_their_deltas_and_the_head_stays() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let public = t.join("public");
    let repo = Repo::open_or_create(&public, RepoMode::Archive).unwrap();
    let mut commits = Vec::new();
    for (i, day) in [0u64, 10, 20].into_iter().enumerate() {
        let root = t.join(format!("root{i}"));
        fs::create_dir_all(root.join("usr/share")).unwrap();
        fs::write(root.join("usr/share/version"), format!("day {day}\n")).unwrap();
        let parent = commits.last().cloned();
        commits.push(
            repo.commit_tree(&CommitRequest {
                reference: Some("mxos/test"),
                root: &root,
                layers: &[],
                parent: parent.as_deref(),
                subject: "age",
                metadata: &BTreeMap::new(),
                timestamp: T0 + day * DAY,
                known: None,
                selinux: None,
            })
            .unwrap(),
        );
    }
    let d_old = repo
        .generate_static_delta(Some(&commits[0]), &commits[2])
        .unwrap();
    let d_new = repo
        .generate_static_delta(Some(&commits[1]), &commits[2])
        .unwrap();
    repo.regenerate_summary().unwrap();
    let secret = t.join("k.secret");
    let public_key = mxos_sign::write_keypair(&secret, &t.join("k.pub")).unwrap();
    mxos_sign::sign_summary(&public, &mxos_sign::SecretKey::read(&secret).unwrap()).unwrap();

    // Day 21, keeping 15 days: the cutoff is day 6, so only the day-0 commit is too old.
    let report = prune(&PruneRequest {
        public_dir: public.clone(),
        keep: None,
        keep_younger_than_days: Some(15),
        sign_key: secret.clone(),
        now: T0 + 21 * DAY,
    })
    .unwrap();
    assert_eq!(report.commits_deleted, vec![commits[0].clone()]);
    assert_eq!(report.deltas_deleted, vec![d_old.clone()]);
    let repo = Repo::open(&public).unwrap();
    assert!(!repo.has_commit(&commits[0]).unwrap());
    assert!(repo.has_commit(&commits[1]).unwrap());
    assert_eq!(repo.static_deltas().unwrap(), vec![d_new.clone()]);
    let summary = fs::read(public.join("summary")).unwrap();
    let sig = fs::read(public.join("summary.sig")).unwrap();
    let signer =
        mxos_sign::verify_summary(&summary, &sig, std::slice::from_ref(&public_key)).unwrap();
    assert!(
        signer == public_key,
        "the summary is not signed by the publish key"
    );

    // A year later, nothing is young: the head still stays, its delta source goes.
    let report = prune(&PruneRequest {
        public_dir: public.clone(),
        keep: None,
        keep_younger_than_days: Some(15),
        sign_key: secret,
        now: T0 + 365 * DAY,
    })
    .unwrap();
    assert_eq!(report.commits_deleted, vec![commits[1].clone()]);
    assert_eq!(report.deltas_deleted, vec![d_new]);
    let repo = Repo::open(&public).unwrap();
    assert_eq!(repo.resolve("mxos/test").unwrap(), Some(commits[2].clone()));
    assert!(repo.static_deltas().unwrap().is_empty());
}
