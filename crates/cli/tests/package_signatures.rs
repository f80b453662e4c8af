//! Package signatures at compose time: dnf checks every repo with the keys beside the
//! treefile; an unsigned, foreign-signed or altered package is refused by name and key,
//! and the build repo stays as it was.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use mxos_tests::signing::{DEMO_KEY_FILE, DEMO_PUBLIC_KEY};
use mxos_tests::{FileEntry, Signer};

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

/// The demo repo with an extra mxos-hello 1.2 beside the signed 1.0, so dnf takes it.
fn repo_with_newer_hello(t: &Path, name: &str) -> (PathBuf, PathBuf) {
    let rpms = t.join(name);
    let cp = std::process::Command::new("cp")
        .arg("-a")
        .arg(mxos_tests::shared_demo_repo(1).unwrap())
        .arg(&rpms)
        .status()
        .unwrap();
    assert!(cp.success());
    let mut hello = mxos_tests::demo_packages(1)
        .into_iter()
        .find(|p| p.name == "mxos-hello")
        .unwrap();
    hello.version = "1.2".into();
    hello.files = vec![FileEntry::File {
        path: "/usr/bin/mxos-hello".into(),
        contents: b"#!/bin/sh\necho 1.2\n".to_vec(),
        mode: 0o755,
    }];
    let built = t.join(format!("{name}-hello"));
    mxos_tests::build_repo(&built, &[hello]).unwrap();
    let rpm = rpms.join("mxos-hello-1.2-1.noarch.rpm");
    fs::copy(built.join("mxos-hello-1.2-1.noarch.rpm"), &rpm).unwrap();
    (rpms, rpm)
}

fn refs_and_commits(repo: &Path) -> (Vec<String>, usize) {
    let mut refs: Vec<String> = ostree(&["--repo", &s(repo), "refs"])
        .lines()
        .map(str::to_owned)
        .collect();
    refs.sort();
    let log = ostree(&["--repo", &s(repo), "log", "mxos/10/x86_64/demo"]);
    (
        refs,
        log.lines().filter(|l| l.starts_with("commit ")).count(),
    )
}

fn tree_args<'a>(tf: &'a str, repo: &'a str, cache: &'a str, overlays: &'a str) -> Vec<&'a str> {
    vec![
        "tree",
        tf,
        "--repo",
        repo,
        "--cachedir",
        cache,
        "--overlays",
        overlays,
    ]
}

/// What the composer said, without the command lines it traced.
fn error_of(stderr: &str) -> &str {
    &stderr[stderr.find("error: ").unwrap_or(0)..]
}

fn expected_refusal(file: &str, why: &str) -> String {
    format!(
        "error: package signatures refused (dnf checks every repo unless its .repo file says gpgcheck=0); nothing was installed or committed:\n  {file}: {why}\nkeys the treefile's repos trust:\n  repo `mxos-demo`: {DEMO_KEY_FILE} (08920668AB6F204EB145403C8201986C88E453DF)\n"
    )
}

#[test]
fn signed_packages_compose_and_unsigned_foreign_or_altered_ones_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (repo, cache, overlays) = (
        s(&t.join("repo")),
        s(&t.join("cache")),
        s(&workspace().join("overlays")),
    );

    // The demo packages are signed by the demo key; its public half is beside the treefile.
    let tf = demo_treefile(
        &t.join("signed"),
        &mxos_tests::shared_demo_repo(1).unwrap(),
        "",
    );
    assert_eq!(
        fs::read_to_string(t.join("signed").join(DEMO_KEY_FILE)).unwrap(),
        DEMO_PUBLIC_KEY
    );
    let out = compose(&tree_args(&s(&tf), &repo, &cache, &overlays));
    let first = committed(&out);
    let before = refs_and_commits(Path::new(&repo));
    assert_eq!(
        before,
        (
            vec![
                "mxos/10/x86_64/demo".to_owned(),
                "mxos/overlay/mx-branding".to_owned(),
                "mxos/overlay/mx-locale".to_owned()
            ],
            1
        )
    );
    // The package cache is an OSTree repo with one ref per imported package.
    let cached_packages = || ostree(&["--repo", &s(&t.join("cache/pkgcache")), "refs"]);
    let cached = cached_packages();
    assert_eq!(cached.lines().count(), 7, "{cached}");

    // An unsigned package.
    let (rpms, _) = repo_with_newer_hello(t, "unsigned");
    mxos_tests::index_repo(&rpms).unwrap();
    let tf = demo_treefile(&t.join("tf-unsigned"), &rpms, "");
    let err = compose_fails(&tree_args(&s(&tf), &repo, &cache, &overlays));
    assert_eq!(
        error_of(&err),
        expected_refusal("mxos-hello-1.2-1.noarch.rpm", "not signed")
    );
    assert_eq!(refs_and_commits(Path::new(&repo)), before);

    // Signed, but by a key the treefile does not name.
    let other = Signer::generate("Someone else <other@mxos.invalid>").unwrap();
    let (rpms, rpm) = repo_with_newer_hello(t, "foreign");
    other.sign_rpms(std::slice::from_ref(&rpm)).unwrap();
    mxos_tests::index_repo(&rpms).unwrap();
    let tf = demo_treefile(&t.join("tf-foreign"), &rpms, "");
    let err = compose_fails(&tree_args(&s(&tf), &repo, &cache, &overlays));
    assert_eq!(
        error_of(&err),
        expected_refusal(
            "mxos-hello-1.2-1.noarch.rpm",
            &format!(
                "signed with key ID {}, which is not a key of the treefile's repos",
                other.short_id()
            )
        )
    );
    assert_eq!(refs_and_commits(Path::new(&repo)), before);

    // The unchanged signed tree with another key beside it: the key is an input, so this
    // is no "no changes", and every package is refused.
    other
        .write_public_key(&t.join("signed").join(DEMO_KEY_FILE))
        .unwrap();
    let err = compose_fails(&tree_args(
        &s(&t.join("signed/mxos-demo.yaml")),
        &repo,
        &cache,
        &overlays,
    ));
    let mut want = String::from("error: package signatures refused (dnf checks every repo unless its .repo file says gpgcheck=0); nothing was installed or committed:\n");
    for file in [
        "mxos-demo-unit-1.0-1.noarch.rpm",
        "mxos-filesystem-1.0-1.noarch.rpm",
        "mxos-hello-1.0-1.noarch.rpm",
        "mxos-hello-data-1.0-1.noarch.rpm",
        "mxos-release-1.0-1.noarch.rpm",
        "mxos-shell-1.0-1.x86_64.rpm",
        "mxos-test-kernel-1.0-1.noarch.rpm",
    ] {
        want.push_str(&format!(
            "  {file}: signed with key ID 88E453DF, which is not a key of the treefile's repos\n"
        ));
    }
    want.push_str(&format!(
        "keys the treefile's repos trust:\n  repo `mxos-demo`: {DEMO_KEY_FILE} ({})\n",
        other.fingerprint
    ));
    assert_eq!(error_of(&err), want);
    assert_eq!(refs_and_commits(Path::new(&repo)), before);

    // Signed by the demo key, then its payload changed (the repo metadata is regenerated,
    // so only the signature can tell).
    let demo = Signer::demo().unwrap();
    let (rpms, rpm) = repo_with_newer_hello(t, "altered");
    demo.sign_rpms(std::slice::from_ref(&rpm)).unwrap();
    let mut bytes = fs::read(&rpm).unwrap();
    let at = bytes.len() - 20;
    bytes[at] ^= 0xff;
    fs::write(&rpm, bytes).unwrap();
    mxos_tests::index_repo(&rpms).unwrap();
    let tf = demo_treefile(&t.join("tf-altered"), &rpms, "");
    let err = compose_fails(&tree_args(&s(&tf), &repo, &cache, &overlays));
    assert_eq!(
        error_of(&err),
        expected_refusal(
            "mxos-hello-1.2-1.noarch.rpm",
            "altered after it was signed (Payload SHA256 ALT digest, Payload SHA256 digest, MD5 digest do not match its content); signed with key ID 88E453DF"
        )
    );
    assert_eq!(refs_and_commits(Path::new(&repo)), before);
    // Refused packages never reach the package cache.
    assert_eq!(cached_packages(), cached);

    // The unsigned package with the check turned off: composes, and says so.
    fs::write(
        t.join("tf-unsigned/mxos-demo.repo"),
        format!(
            "[mxos-demo]\nbaseurl=file://{}\ngpgcheck=0\n",
            t.join("unsigned").display()
        ),
    )
    .unwrap();
    let tf = t.join("tf-unsigned/mxos-demo.yaml");
    let (out, err) = compose_with_stderr(&tree_args(&s(&tf), &repo, &cache, &overlays));
    assert_ne!(committed(&out), first);
    // Only now does mxos-hello 1.2 enter the cache.
    assert_eq!(cached_packages().lines().count(), 8);
    assert!(
        err.contains("mxos-demo.repo: repo `mxos-demo` says gpgcheck=0: its packages are installed without checking their signatures"),
        "{err}"
    );
}

#[test]
fn a_host_key_path_is_planned_but_refused_at_compose_time() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let tf = demo_treefile(&t.join("tf"), &mxos_tests::shared_demo_repo(1).unwrap(), "");
    fs::remove_file(t.join("tf").join(DEMO_KEY_FILE)).unwrap();
    fs::write(
        t.join("tf/mxos-demo.repo"),
        format!(
            "# demo\n[mxos-demo]\nbaseurl=file://{}\ngpgcheck=1\ngpgkey=file:///usr/share/distribution-gpg-keys/mxos/{DEMO_KEY_FILE}\n",
            mxos_tests::shared_demo_repo(1).unwrap().display()
        ),
    )
    .unwrap();
    compose(&["plan", &s(&tf)]);
    let overlays = s(&workspace().join("overlays"));
    let err = compose_fails(&[
        "tree",
        &s(&tf),
        "--repo",
        &s(&t.join("repo")),
        "--overlays",
        &overlays,
    ]);
    let dir = t.join("tf");
    assert_eq!(
        err,
        format!(
            "error: {}: gpgkey file:///usr/share/distribution-gpg-keys/mxos/{DEMO_KEY_FILE}: no such key file beside the treefile; file:///usr/share/distribution-gpg-keys/mxos/{DEMO_KEY_FILE} is a path on the build host, which MxOS never reads: put the key beside the treefile as {}\n",
            format_args!("{} line 5", dir.join("mxos-demo.repo").display()),
            dir.join(DEMO_KEY_FILE).display()
        )
    );
    assert!(!t.join("repo/refs/heads/mxos").exists());

    // With the key beside the treefile, the same repo file composes.
    fs::write(dir.join(DEMO_KEY_FILE), DEMO_PUBLIC_KEY).unwrap();
    let out = compose(&[
        "tree",
        &s(&tf),
        "--repo",
        &s(&t.join("repo")),
        "--overlays",
        &overlays,
    ]);
    committed(&out);
}
