//! Real libostree round trips: commit, layers, signatures in detached metadata, publish-style
//! pulls, and deployments in a throwaway sysroot.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use mxos_repo::{CommitRequest, LayerCommit, MetaValue, PullOptions, Repo, RepoMode, Sysroot};

fn tree(root: &Path, hello: &str) {
    for d in ["usr/bin", "usr/etc", "usr/lib/modules/6.1.0-t", "var"] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    fs::write(root.join("usr/bin/hello"), hello).unwrap();
    fs::write(root.join("usr/etc/motd"), "hola\n").unwrap();
    fs::write(
        root.join("usr/etc/os-release"),
        "NAME=MxOS\nID=mxos\nVERSION_ID=10\n",
    )
    .unwrap();
    fs::write(root.join("usr/lib/modules/6.1.0-t/vmlinuz"), "k").unwrap();
    fs::write(root.join("usr/lib/modules/6.1.0-t/initramfs.img"), "i").unwrap();
}

fn commit(repo: &Repo, root: &Path, layers: &[String], parent: Option<&str>) -> String {
    let mut meta = BTreeMap::new();
    meta.insert("version".into(), MetaValue::Str("10.1".into()));
    meta.insert("ostree.bootable".into(), MetaValue::Bool(true));
    meta.insert(
        "mxos.packages".into(),
        MetaValue::StrList(vec!["a".into(), "b".into()]),
    );
    repo.commit_tree(&CommitRequest {
        reference: Some("mxos/test"),
        root,
        layers,
        parent,
        subject: "test",
        metadata: &meta,
        timestamp: 1_764_374_400,
        known: None,
        selinux: None,
    })
    .unwrap()
}

#[test]
fn commit_layers_sign_publish_deploy() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let repo = Repo::open_or_create(&t.join("build"), RepoMode::BareUser).unwrap();
    tree(&t.join("root"), "v1");
    fs::create_dir_all(t.join("overlay/usr/etc")).unwrap();
    fs::write(t.join("overlay/usr/etc/motd"), "overlay wins\n").unwrap();
    let layer = repo
        .commit_layer(&LayerCommit {
            reference: "mxos/overlay/test",
            parent: None,
            dir: &t.join("overlay"),
            metadata: &BTreeMap::new(),
            timestamp: 0,
        })
        .unwrap();
    assert_eq!(
        repo.resolve("mxos/overlay/test").unwrap().as_deref(),
        Some(layer.as_str())
    );

    let c1 = commit(&repo, &t.join("root"), &["mxos/overlay/test".into()], None);
    // Same input, same checksum: nothing host- or time-dependent leaks in.
    let again = Repo::open_or_create(&t.join("build2"), RepoMode::BareUser).unwrap();
    again
        .commit_layer(&LayerCommit {
            reference: "mxos/overlay/test",
            parent: None,
            dir: &t.join("overlay"),
            metadata: &BTreeMap::new(),
            timestamp: 0,
        })
        .unwrap();
    assert_eq!(
        commit(&again, &t.join("root"), &["mxos/overlay/test".into()], None),
        c1
    );

    let info = repo.commit_info("mxos/test").unwrap();
    assert_eq!(info.version(), Some("10.1"));
    assert_eq!(info.metadata["ostree.bootable"], MetaValue::Bool(true));
    assert_eq!(
        info.metadata["mxos.packages"],
        MetaValue::StrList(vec!["a".into(), "b".into()])
    );
    assert_eq!(info.timestamp, 1_764_374_400);

    // Signatures append and survive a pull.
    repo.append_detached_signature(&c1, "ostree.sign.ed25519", &[7; 64])
        .unwrap();
    repo.append_detached_signature(&c1, "ostree.sign.ed25519", &[8; 64])
        .unwrap();
    repo.append_detached_signature(&c1, "ostree.sign.ed25519", &[8; 64])
        .unwrap();
    assert_eq!(
        repo.detached_signatures(&c1, "ostree.sign.ed25519")
            .unwrap(),
        vec![vec![7; 64], vec![8; 64]]
    );
    let bytes = repo.commit_bytes(&c1).unwrap();
    let on_disk =
        fs::read(t.join(format!("build/objects/{}/{}.commit", &c1[..2], &c1[2..]))).unwrap();
    assert_eq!(bytes, on_disk);

    let public = Repo::open_or_create(&t.join("public"), RepoMode::Archive).unwrap();
    public.pull_local(&repo, &["mxos/test".into()]).unwrap();
    assert_eq!(
        public.resolve("mxos/test").unwrap().as_deref(),
        Some(c1.as_str())
    );
    assert_eq!(
        public
            .detached_signatures(&c1, "ostree.sign.ed25519")
            .unwrap()
            .len(),
        2
    );
    public.regenerate_summary().unwrap();
    assert!(t.join("public/summary").exists());

    let sig = mxos_repo::encode_signature_file("ostree.sign.ed25519", &[vec![1; 64]]);
    assert_eq!(
        mxos_repo::decode_signature_file(&sig, "ostree.sign.ed25519"),
        vec![vec![1; 64]]
    );

    // Device side.
    let sysroot = Sysroot::init(&t.join("sysroot"), "mxos").unwrap();
    let srepo = sysroot.repo();
    srepo
        .set_remote(
            "mxos",
            &format!("file://{}", t.join("public").display()),
            &[("gpg-verify", "false")],
        )
        .unwrap();
    srepo
        .pull(
            "mxos",
            &PullOptions {
                refs: vec!["mxos/test".into()],
                commit_only: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        srepo.resolve("mxos:mxos/test").unwrap().as_deref(),
        Some(c1.as_str())
    );
    srepo
        .pull(
            "mxos",
            &PullOptions {
                refs: vec!["mxos/test".into()],
                ..Default::default()
            },
        )
        .unwrap();
    let d1 = sysroot.deploy("mxos", &c1, "mxos:mxos/test").unwrap();
    assert_eq!(d1.checksum, c1);
    assert_eq!(d1.refspec.as_deref(), Some("mxos:mxos/test"));
    let motd = fs::read_to_string(sysroot.deployment_dir(&d1).join("etc/motd")).unwrap();
    assert_eq!(motd, "overlay wins\n");

    tree(&t.join("root"), "v2");
    let c2 = commit(
        &repo,
        &t.join("root"),
        &["mxos/overlay/test".into()],
        Some(&c1),
    );
    assert_ne!(c1, c2);
    assert_eq!(
        repo.commit_info(&c2).unwrap().parent.as_deref(),
        Some(c1.as_str())
    );
    public.pull_local(&repo, &["mxos/test".into()]).unwrap();
    // Clients resolve refs through the summary, so a publish without it would serve v1.
    public.regenerate_summary().unwrap();
    srepo
        .pull(
            "mxos",
            &PullOptions {
                refs: vec!["mxos/test".into()],
                ..Default::default()
            },
        )
        .unwrap();
    sysroot.deploy("mxos", &c2, "mxos:mxos/test").unwrap();
    let order: Vec<_> = sysroot
        .deployments()
        .into_iter()
        .map(|d| d.checksum)
        .collect();
    assert_eq!(order, vec![c2.clone(), c1.clone()]);
    sysroot.rollback().unwrap();
    let order: Vec<_> = Sysroot::load(&t.join("sysroot"))
        .unwrap()
        .deployments()
        .into_iter()
        .map(|d| d.checksum)
        .collect();
    assert_eq!(order, vec![c1, c2]);
}
