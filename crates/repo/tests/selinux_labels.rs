//! SELinux labels in commits, from the policy inside the committed tree: with literal paths
//! the commit is the one stock `ostree commit --selinux-policy` writes, file for file; the
//! default labels `/usr/etc` as `/etc`; layers are labelled too; the policy is recorded; a
//! tree without a policy is refused.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

use mxos_repo::{
    CommitRequest, LabelVersion, Labelling, LayerCommit, MetaValue, Repo, RepoMode,
    KEY_SELINUX_POLICY,
};

/// A policy libselinux reads like a real one: config, file_contexts (regexes, file-type
/// fields), and a policy file that libostree checksums.
fn tree_with_policy(root: &Path) {
    let policy = root.join("usr/etc/selinux/mxtest");
    fs::create_dir_all(policy.join("contexts/files")).unwrap();
    fs::create_dir_all(policy.join("policy")).unwrap();
    fs::write(
        root.join("usr/etc/selinux/config"),
        "SELINUX=enforcing\nSELINUXTYPE=mxtest\n",
    )
    .unwrap();
    fs::write(
        policy.join("contexts/files/file_contexts"),
        "/.*\tsystem_u:object_r:default_t:s0\n\
         /usr(/.*)?\tsystem_u:object_r:usr_t:s0\n\
         /usr/bin(/.*)?\tsystem_u:object_r:bin_t:s0\n\
         /usr/bin/sh\t-l\tsystem_u:object_r:shell_link_t:s0\n\
         /etc(/.*)?\tsystem_u:object_r:etc_t:s0\n\
         /etc/passwd\t--\tsystem_u:object_r:passwd_file_t:s0\n\
         /usr/lib/locale(/.*)?\tsystem_u:object_r:locale_t:s0\n",
    )
    .unwrap();
    fs::write(policy.join("policy/policy.33"), "policy bytes").unwrap();
    for d in ["usr/bin", "usr/lib/locale"] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    fs::write(root.join("usr/bin/bash"), "#!bash").unwrap();
    symlink("bash", root.join("usr/bin/sh")).unwrap();
    fs::write(root.join("usr/etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
    fs::write(root.join("usr/lib/locale/es_MX"), "locale").unwrap();
}

fn ostree(args: &[&str]) -> String {
    let out = Command::new("ostree").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ostree {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn request<'a>(
    root: &'a Path,
    layers: &'a [String],
    meta: &'a BTreeMap<String, MetaValue>,
    labels: Option<&'a Labelling>,
) -> CommitRequest<'a> {
    CommitRequest {
        reference: Some("mxos/test"),
        root,
        layers,
        parent: None,
        subject: "labelled",
        metadata: meta,
        timestamp: 1_764_374_400,
        known: None,
        selinux: labels,
    }
}

/// `ostree ls -R -X -C`: every path with its checksum and xattrs.
fn listing(repo: &Path, rev: &str) -> String {
    ostree(&[
        "ls",
        &format!("--repo={}", repo.display()),
        "-R",
        "-X",
        "-C",
        rev,
    ])
}

fn label_of(listing: &str, path: &str) -> String {
    let line = listing
        .lines()
        .find(|l| l.ends_with(&format!(" {path}")) || l.contains(&format!(" {path} -> ")))
        .unwrap_or_else(|| panic!("{path} not in {listing}"));
    line.split("b'security.selinux', b'")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .unwrap_or("")
        .to_owned()
}

#[test]
fn literal_labels_are_stock_ostrees_and_usr_etc_is_labelled_as_etc() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let root = t.join("root");
    tree_with_policy(&root);
    let repo = Repo::open_or_create(&t.join("repo"), RepoMode::Archive).unwrap();
    let meta = BTreeMap::new();

    let literal = Labelling {
        policy_root: root.clone(),
        version: LabelVersion::Literal,
    };
    let ours = repo
        .commit_tree(&request(&root, &[], &meta, Some(&literal)))
        .unwrap();
    let stock_repo = t.join("stock");
    let stock_arg = format!("--repo={}", stock_repo.display());
    ostree(&["init", &stock_arg, "--mode=archive"]);
    let stock = ostree(&[
        "commit",
        &stock_arg,
        "--branch=stock",
        &format!("--selinux-policy={}", root.display()),
        &format!("--tree=dir={}", root.display()),
    ]);
    let ours_listing = listing(&t.join("repo"), &ours);
    assert_eq!(ours_listing, listing(&stock_repo, stock.trim()));
    assert_eq!(
        label_of(&ours_listing, "/usr/bin/bash"),
        "system_u:object_r:bin_t:s0"
    );
    assert_eq!(
        label_of(&ours_listing, "/usr/bin/sh"),
        "system_u:object_r:shell_link_t:s0"
    );
    assert_eq!(
        label_of(&ours_listing, "/usr/etc/passwd"),
        "system_u:object_r:usr_t:s0",
        "literal: looked up as /usr/etc/passwd"
    );

    // The default: /usr/etc as /etc, where the deployment will have it.
    let labels = Labelling {
        policy_root: root.clone(),
        version: LabelVersion::UsrEtcAsEtc,
    };
    fs::create_dir_all(t.join("layer/usr/etc")).unwrap();
    fs::create_dir_all(t.join("layer/usr/lib/locale")).unwrap();
    fs::write(t.join("layer/usr/etc/locale.conf"), "LANG=es_MX.UTF-8\n").unwrap();
    fs::write(t.join("layer/usr/lib/locale/es_MX.extra"), "more").unwrap();
    let layer = repo
        .commit_layer(&LayerCommit {
            reference: "mxos/overlay/test",
            dir: &t.join("layer"),
            parent: None,
            metadata: &meta,
            timestamp: 0,
        })
        .unwrap();
    assert_eq!(
        repo.resolve("mxos/overlay/test").unwrap().as_deref(),
        Some(layer.as_str())
    );
    // Layers are named by ref, as the compose passes them.
    let layers = vec!["mxos/overlay/test".to_owned()];
    let labelled = repo
        .commit_tree(&request(&root, &layers, &meta, Some(&labels)))
        .unwrap();
    let l = listing(&t.join("repo"), &labelled);
    assert_eq!(
        label_of(&l, "/usr/etc/passwd"),
        "system_u:object_r:passwd_file_t:s0"
    );
    assert_eq!(label_of(&l, "/usr/etc"), "system_u:object_r:etc_t:s0");
    assert_eq!(
        label_of(&l, "/usr/etc/selinux/config"),
        "system_u:object_r:etc_t:s0"
    );
    assert_eq!(
        label_of(&l, "/usr/etc/locale.conf"),
        "system_u:object_r:etc_t:s0",
        "a layer's file is labelled"
    );
    assert_eq!(
        label_of(&l, "/usr/lib/locale/es_MX.extra"),
        "system_u:object_r:locale_t:s0"
    );
    assert_eq!(
        label_of(&l, "/usr/lib/locale"),
        "system_u:object_r:locale_t:s0",
        "a directory the layer lays over keeps a label"
    );
    assert_eq!(label_of(&l, "/usr/bin/bash"), "system_u:object_r:bin_t:s0");
    let csum = mxos_repo::tree_policy(&root).unwrap().unwrap();
    assert_eq!(csum.name, "mxtest");
    assert_eq!(csum.checksum.len(), 64, "{csum:?}");
    let info = repo.commit_info(&labelled).unwrap();
    assert_eq!(
        info.string(KEY_SELINUX_POLICY),
        Some(format!("mxtest:{}", csum.checksum).as_str())
    );
    ostree(&["fsck", &format!("--repo={}", t.join("repo").display())]);

    // One thread or many: the same commit.
    let serial = repo
        .commit_tree_with(&request(&root, &layers, &meta, Some(&labels)), Some(1))
        .unwrap();
    assert_eq!(serial, labelled);
    // Many writer threads, each loading the policy: libselinux's process-wide policy root
    // once corrupted the heap when loads raced; they take turns now.
    for _ in 0..5 {
        let many = repo
            .commit_tree_with(&request(&root, &layers, &meta, Some(&labels)), Some(8))
            .unwrap();
        assert_eq!(many, labelled);
    }
}

#[test]
fn a_tree_without_a_policy_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    fs::create_dir_all(root.join("usr/bin")).unwrap();
    assert_eq!(mxos_repo::tree_policy(&root).unwrap(), None);
    let repo = Repo::open_or_create(&tmp.path().join("repo"), RepoMode::Archive).unwrap();
    let labels = Labelling {
        policy_root: root.clone(),
        version: LabelVersion::UsrEtcAsEtc,
    };
    let meta = BTreeMap::new();
    let err = repo
        .commit_tree(&request(&root, &[], &meta, Some(&labels)))
        .unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        format!(
            "{} has no SELinux policy (no etc/selinux/config naming one)",
            root.display()
        )
    );
    assert_eq!(repo.resolve("mxos/test").unwrap(), None);
}

#[test]
fn a_deployments_etc_is_labelled_on_disk_as_etc() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let root = t.join("root");
    tree_with_policy(&root);
    let etc = t.join("deploy/etc");
    fs::create_dir_all(etc.join("selinux")).unwrap();
    fs::write(etc.join("passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
    fs::write(etc.join("hostname"), "aula-3\n").unwrap();
    let labels = Labelling {
        policy_root: root.clone(),
        version: LabelVersion::UsrEtcAsEtc,
    };
    assert_eq!(mxos_repo::label_on_disk(&etc, "/etc", &labels).unwrap(), 4);
    // The stock CLI commits the xattrs it finds on disk: what the labels are.
    let stock_repo = t.join("stock");
    let stock_arg = format!("--repo={}", stock_repo.display());
    ostree(&["init", &stock_arg, "--mode=archive"]);
    ostree(&[
        "commit",
        &stock_arg,
        "--branch=etc",
        &format!("--tree=dir={}", etc.display()),
    ]);
    let l = listing(&stock_repo, "etc");
    assert_eq!(
        label_of(&l, "/passwd"),
        "system_u:object_r:passwd_file_t:s0"
    );
    assert_eq!(label_of(&l, "/hostname"), "system_u:object_r:etc_t:s0");
    assert_eq!(label_of(&l, "/selinux"), "system_u:object_r:etc_t:s0");
}
