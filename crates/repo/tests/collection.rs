//! Collection IDs and what a mirror reads: bindings written with every commit of a repo that
//! has a collection ID, the summary's collection and delta listing, delta superblocks.

use std::collections::BTreeMap;

use mxos_repo::{Bindings, LayerCommit, Repo, RepoMode, StaticDelta};

fn layer(repo: &Repo, dir: &std::path::Path, reference: &str, parent: Option<&str>) -> String {
    repo.commit_layer(&LayerCommit {
        reference,
        dir,
        parent,
        metadata: &BTreeMap::new(),
        timestamp: 1_700_000_000,
    })
    .unwrap()
}

#[test]
fn commits_are_bound_and_the_summary_lists_collection_and_deltas() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = Repo::open_or_create(&tmp.path().join("r"), RepoMode::Archive).unwrap();
    let tree = tmp.path().join("t");
    std::fs::create_dir_all(tree.join("usr")).unwrap();
    std::fs::write(tree.join("usr/a"), vec![7u8; 100_000]).unwrap();
    let unbound = layer(&repo, &tree, "mxos/x", None);
    assert_eq!(repo.bindings(&unbound).unwrap(), Bindings::default());

    assert_eq!(
        repo.set_collection_id("mxos").unwrap_err().to_string(),
        "`mxos` is not a collection ID: it takes reverse-DNS form, at least two dot-separated parts of letters, digits, `_` or `-`, none starting with a digit (e.g. `mx.mxos.Os`)"
    );
    repo.set_collection_id("mx.mxos.Os").unwrap();
    // The setting is in the config, so a fresh handle sees it.
    let repo = Repo::open(repo.path()).unwrap();
    assert_eq!(repo.collection_id().as_deref(), Some("mx.mxos.Os"));
    std::fs::write(tree.join("usr/b"), b"new").unwrap();
    let bound = layer(&repo, &tree, "mxos/x", Some(&unbound));
    assert_eq!(
        repo.bindings(&bound).unwrap(),
        Bindings {
            collection: Some("mx.mxos.Os".into()),
            refs: vec!["mxos/x".into()],
        }
    );

    let delta = repo.generate_static_delta(Some(&unbound), &bound).unwrap();
    repo.regenerate_summary_expiring(Some(4_000_000_000))
        .unwrap();
    let info = repo.summary_info().unwrap();
    assert_eq!(info.collection_id.as_deref(), Some("mx.mxos.Os"));
    let listed = &info.deltas[&delta.name()];
    let dir = repo.path().join(delta.relative_dir().unwrap());
    let superblock = std::fs::read(dir.join("superblock")).unwrap();
    assert_eq!(&mxos_repo::sha256_hex(&superblock), listed);
    let parts = mxos_repo::delta_part_checksums(&superblock).unwrap();
    assert!(!parts.is_empty());
    for (i, sum) in parts.iter().enumerate() {
        let part = std::fs::read(dir.join(i.to_string())).unwrap();
        assert_eq!(&mxos_repo::sha256_hex(&part), sum, "part {i}");
    }
    assert_eq!(
        StaticDelta::parse(&delta.name()).unwrap(),
        delta,
        "names round-trip"
    );
    assert!(repo
        .path()
        .join(mxos_repo::delta_index_path(&bound).unwrap())
        .is_file());
    assert_eq!(
        mxos_repo::delta_part_checksums(b"garbage").unwrap_err().to_string(),
        "not a static delta superblock (not a normal-form (a{sv}tayay(a{sv}aya(say)sstayay)aya(uayttay)a(yaytt)))"
    );
}
