//! The parallel writer must give the very commit libostree's own directory walk gives: same
//! checksum for owners, setuid bits, symlinks, empty dirs, hardlinks and layers laid over.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{chown, symlink, PermissionsExt};
use std::path::Path;

use mxos_repo::{CommitRequest, LayerCommit, MetaValue, Repo, RepoMode};

fn mode(p: &Path, m: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(m)).unwrap();
}

/// A tree with every kind of entry a package root has.
fn tricky_tree(root: &Path) {
    for d in [
        "usr/bin",
        "usr/lib/empty",
        "usr/share/many",
        "var/lib/owned",
        "etc",
    ] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    fs::write(root.join("usr/bin/sudo"), "setuid binary").unwrap();
    mode(&root.join("usr/bin/sudo"), 0o4755);
    fs::write(root.join("usr/bin/wall"), "setgid").unwrap();
    mode(&root.join("usr/bin/wall"), 0o2755);
    fs::write(root.join("var/lib/owned/data"), "owned by 1000:27").unwrap();
    chown(root.join("var/lib/owned/data"), Some(1000), Some(27)).unwrap();
    chown(root.join("var/lib/owned"), Some(999), Some(999)).unwrap();
    mode(&root.join("var/lib/owned"), 0o700);
    mode(&root.join("usr/lib/empty"), 0o1777);
    fs::write(root.join("etc/shadow"), "root:!:1::::::\n").unwrap();
    mode(&root.join("etc/shadow"), 0o000);
    fs::write(root.join("etc/empty-file"), "").unwrap();
    symlink("../usr/bin/sudo", root.join("etc/link-to-file")).unwrap();
    symlink("/nonexistent/dangling", root.join("etc/dangling")).unwrap();
    symlink("usr/lib", root.join("lib")).unwrap();
    fs::hard_link(
        root.join("usr/bin/sudo"),
        root.join("usr/bin/sudo-hardlink"),
    )
    .unwrap();
    // Larger than one zlib/IO buffer, and not compressible to nothing.
    let big: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    fs::write(root.join("usr/lib/big.bin"), big).unwrap();
    for i in 0..300 {
        fs::write(
            root.join(format!("usr/share/many/f{i:03}")),
            format!("file {i}\n").repeat(i % 7),
        )
        .unwrap();
    }
    // Identical content under different modes: separate objects, same dedup rules.
    fs::write(root.join("usr/share/many/exec"), "file 1\n").unwrap();
    mode(&root.join("usr/share/many/exec"), 0o755);
}

fn request<'a>(
    root: &'a Path,
    layers: &'a [String],
    meta: &'a BTreeMap<String, MetaValue>,
) -> CommitRequest<'a> {
    CommitRequest {
        reference: Some("mxos/test"),
        root,
        layers,
        parent: None,
        subject: "parallel",
        metadata: meta,
        timestamp: 1_764_374_400,
        known: None,
        selinux: None,
    }
}

fn same_commit_both_ways(mode: RepoMode) {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let root = t.join("root");
    tricky_tree(&root);
    fs::create_dir_all(t.join("overlay/etc")).unwrap();
    fs::write(t.join("overlay/etc/motd"), "layer\n").unwrap();
    fs::write(t.join("overlay/etc/shadow"), "layer replaces a file\n").unwrap();
    let meta = BTreeMap::from([("version".to_string(), MetaValue::Str("1".into()))]);

    let serial = Repo::open_or_create(&t.join("serial"), mode).unwrap();
    let parallel = Repo::open_or_create(&t.join("parallel"), mode).unwrap();
    let mut checksums = Vec::new();
    for repo in [&serial, &parallel] {
        let layer = repo
            .commit_layer(&LayerCommit {
                reference: "mxos/overlay/t",
                dir: &t.join("overlay"),
                parent: None,
                metadata: &BTreeMap::new(),
                timestamp: 0,
            })
            .unwrap();
        let plain = request(&root, &[], &meta);
        let layered_layers = [layer];
        let layered = request(&root, &layered_layers, &meta);
        if std::ptr::eq(repo, &serial) {
            checksums.push((
                repo.commit_tree_serial(&plain).unwrap(),
                repo.commit_tree_serial(&layered).unwrap(),
            ));
        } else {
            // One thread and several threads: the result may not depend on scheduling.
            let one = repo.commit_tree_with(&plain, Some(1)).unwrap();
            assert_eq!(one, repo.commit_tree_with(&plain, Some(4)).unwrap());
            checksums.push((
                repo.commit_tree(&plain).unwrap(),
                repo.commit_tree(&layered).unwrap(),
            ));
        }
    }
    assert_eq!(
        checksums[0], checksums[1],
        "{mode:?}: parallel commit differs"
    );
    assert_ne!(
        checksums[0].0, checksums[0].1,
        "the layer must change the tree"
    );
    // The objects written in parallel are complete and valid.
    let out = std::process::Command::new("ostree")
        .args(["fsck", "--repo"])
        .arg(t.join("parallel"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn parallel_commit_matches_libostree_bare_user() {
    same_commit_both_ways(RepoMode::BareUser);
}

#[test]
fn parallel_commit_matches_libostree_archive() {
    same_commit_both_ways(RepoMode::Archive);
}

#[test]
fn special_files_are_refused_with_their_path() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    fs::create_dir_all(root.join("run")).unwrap();
    let fifo = root.join("run/initctl");
    let st = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(st.success());
    let repo = Repo::open_or_create(&tmp.path().join("repo"), RepoMode::BareUser).unwrap();
    let meta = BTreeMap::new();
    let err = repo.commit_tree(&request(&root, &[], &meta)).unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("run/initctl") && msg.contains("fifo"), "{msg}");
}
