//! A tree whose packages ship an SELinux policy is labelled from that policy when composed:
//! package files, `/usr/etc` as `/etc`, files the overlays add, directories; the commit names
//! the policy. `selinux: false` labels nothing; `selinux: true` without a policy is refused
//! before anything is written.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use mxos_tests::rpms::{build_repo, FileEntry, PackageSpec};

/// A policy package in the shape of selinux-policy-targeted: config, file contexts, policy.
fn policy_package() -> PackageSpec {
    let file = |path: &str, contents: &str| FileEntry::File {
        path: path.to_owned(),
        contents: contents.as_bytes().to_vec(),
        mode: 0o644,
    };
    let mut p = PackageSpec::new("mxos-test-selinux-policy", "SELinux policy for the tests");
    p.files = vec![
        file(
            "/etc/selinux/config",
            "SELINUX=enforcing\nSELINUXTYPE=mxtest\n",
        ),
        file(
            "/etc/selinux/mxtest/contexts/files/file_contexts",
            "/.*\tsystem_u:object_r:default_t:s0\n\
             /usr(/.*)?\tsystem_u:object_r:usr_t:s0\n\
             /usr/bin(/.*)?\tsystem_u:object_r:bin_t:s0\n\
             /etc(/.*)?\tsystem_u:object_r:etc_t:s0\n\
             /etc/locale\\.conf\t--\tsystem_u:object_r:locale_t:s0\n\
             /etc/passwd\t--\tsystem_u:object_r:passwd_file_t:s0\n",
        ),
        file("/etc/selinux/mxtest/policy/policy.33", "policy bytes\n"),
        file("/etc/selinux/semanage.conf", "module-store = direct\n"),
        // Where Debian's and Fedora's policy packages put the module store.
        file(
            "/var/lib/selinux/mxtest/active/modules/100/base/cil",
            "(base module)\n",
        ),
    ];
    p
}

fn xattr_listing(repo: &Path, rev: &str) -> String {
    ostree(&["--repo", repo.to_str().unwrap(), "ls", "-R", "-X", rev])
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
fn a_tree_with_a_policy_is_labelled_from_it() {
    let gen1 = mxos_tests::shared_demo_repo(1).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let policy_repo = t.join("policy-repo");
    build_repo(&policy_repo, &[policy_package()]).unwrap();
    let overlays = workspace().join("overlays");
    let tree = |name: &str, extra: &str| {
        demo_treefile(&t.join(name), &gen1, "");
        let repo_file = t.join(name).join("mxos-demo.repo");
        let mut text = fs::read_to_string(&repo_file).unwrap();
        text.push_str(&format!(
            "[mxos-policy]\nname=policy\nbaseurl=file://{}\ngpgcheck=0\n",
            policy_repo.display()
        ));
        fs::write(&repo_file, text).unwrap();
        let tf = t.join(name).join("top.yaml");
        fs::write(&tf, format!("include: mxos-demo.yaml\n{extra}")).unwrap();
        tf
    };
    let repo = t.join("repo");
    let compose_tree = |tf: &Path| {
        compose(&[
            "tree",
            tf.to_str().unwrap(),
            "--repo",
            repo.to_str().unwrap(),
            "--cachedir",
            t.join("cache").to_str().unwrap(),
            "--overlays",
            overlays.to_str().unwrap(),
        ])
    };
    let labelled = committed(&compose_tree(&tree(
        "labelled",
        "repos: [mxos-policy]\npackages: [mxos-test-selinux-policy]\n",
    )));
    let l = xattr_listing(&repo, &labelled);
    assert_eq!(
        label_of(&l, "/usr/bin/busybox"),
        "system_u:object_r:bin_t:s0"
    );
    assert_eq!(label_of(&l, "/usr/bin/sh"), "system_u:object_r:bin_t:s0");
    assert_eq!(
        label_of(&l, "/usr/etc/passwd"),
        "system_u:object_r:passwd_file_t:s0",
        "/usr/etc is labelled as /etc"
    );
    assert_eq!(
        label_of(&l, "/usr/etc/locale.conf"),
        "system_u:object_r:locale_t:s0",
        "the mx-locale overlay's file"
    );
    assert_eq!(label_of(&l, "/usr/etc"), "system_u:object_r:etc_t:s0");
    assert_eq!(label_of(&l, "/usr"), "system_u:object_r:usr_t:s0");
    let policy = ostree(&[
        "--repo",
        repo.to_str().unwrap(),
        "show",
        "--print-metadata-key=mxos.selinux-policy",
        &labelled,
    ]);
    assert!(policy.starts_with("'mxtest:"), "{policy}");
    assert_eq!(policy.trim().len(), "'mxtest:'".len() + 64, "{policy}");
    // The module store left /var (no commit carries it) for /etc, and semanage knows.
    let cat = |path: &str| ostree(&["--repo", repo.to_str().unwrap(), "cat", &labelled, path]);
    assert_eq!(
        cat("/usr/etc/selinux/mxtest/active/modules/100/base/cil"),
        "(base module)\n"
    );
    assert_eq!(
        cat("/usr/etc/selinux/semanage.conf"),
        "module-store = direct\n\n# An OSTree machine has no /var in its commits: \
         mxos-compose moved the store.\nstore-root=/etc/selinux\n"
    );
    assert!(
        !l.contains("/var/lib/selinux/mxtest/active"),
        "the store is not left in /var: {l}"
    );
    ostree(&["--repo", repo.to_str().unwrap(), "fsck"]);

    // `selinux: false`: the same packages, no labels.
    let unlabelled = committed(&compose_tree(&tree(
        "unlabelled",
        "repos: [mxos-policy]\npackages: [mxos-test-selinux-policy]\nselinux: false\n",
    )));
    let u = xattr_listing(&repo, &unlabelled);
    assert!(!u.contains("security.selinux"), "{u}");

    // `selinux: true` and nothing that brings a policy: refused, the ref untouched.
    let before = ostree(&["--repo", repo.to_str().unwrap(), "refs"]);
    let tf = tree("asked", "selinux: true\n");
    let err = compose_fails(&[
        "tree",
        tf.to_str().unwrap(),
        "--repo",
        repo.to_str().unwrap(),
        "--cachedir",
        t.join("cache").to_str().unwrap(),
        "--overlays",
        overlays.to_str().unwrap(),
    ]);
    assert!(
        err.contains(
            "error: top.yaml: `selinux: true`, but the composed tree has no SELinux policy \
             (no /etc/selinux/config); add selinux-policy-targeted (or selinux-policy-mls) to \
             `packages`, or set `selinux: false`"
        ),
        "{err}"
    );
    assert_eq!(ostree(&["--repo", repo.to_str().unwrap(), "refs"]), before);
    assert_eq!(
        ostree(&[
            "--repo",
            repo.to_str().unwrap(),
            "rev-parse",
            "mxos/10/x86_64/demo"
        ])
        .trim(),
        unlabelled
    );
}
