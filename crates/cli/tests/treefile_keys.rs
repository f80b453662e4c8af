//! rpm-ostree keys carried out by a real compose of the demo packages: `repovars`,
//! `repo-packages`, `exclude-packages`, `opt-usrlocal`, `tmp-is-dir`, `boot-location: new`,
//! `automatic-version-suffix`, `sysusers`, `check-passwd` data, and the refusals of what
//! this composer cannot do.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;

/// A treefile over the demo repos of generations 1 (`mxos-demo`) and 2 (`mxos-demo-next`,
/// with mxos-hello 1.1), whose `.repo` file reaches them through a dnf variable.
fn tree(dir: &Path, extra: &str) -> PathBuf {
    mxos_tests::shared_demo_repo(1).unwrap();
    mxos_tests::shared_demo_repo(2).unwrap();
    fs::create_dir_all(dir).unwrap();
    fs::write(
        dir.join("demo.repo"),
        "[mxos-demo]\nbaseurl=file://$demo_root/signed-gen-1\ngpgcheck=0\n\
         [mxos-demo-next]\nbaseurl=file://${demo_root}/signed-gen-2\ngpgcheck=0\n",
    )
    .unwrap();
    let tf = dir.join("keys.yaml");
    fs::write(
        &tf,
        format!(
            "ref: mxos/test/keys\nreleasever: 10\nrepos: [mxos-demo, mxos-demo-next]\n\
             repovars: {{demo_root: /var/cache/mxos/test-rpms}}\n\
             packages: [mxos-filesystem, mxos-shell, mxos-release, mxos-hello, mxos-test-kernel]\n\
             automatic-version-prefix: \"10.<date:%Y%m%d>\"\n{extra}"
        ),
    )
    .unwrap();
    tf
}

fn args<'a>(tf: &'a Path, repo: &'a str, cache: &'a str) -> Vec<&'a str> {
    vec![
        "tree",
        tf.to_str().unwrap(),
        "--repo",
        repo,
        "--cachedir",
        cache,
    ]
}

#[test]
fn rpm_ostree_keys_shape_the_composed_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (repo, cache) = (t.join("repo"), t.join("cache"));
    let (r, c) = (repo.to_str().unwrap(), cache.to_str().unwrap());
    let sysusers = t.join("tf/mxos-sys.conf");
    fs::create_dir_all(t.join("tf")).unwrap();
    fs::write(&sysusers, "u mxsys - \"MxOS sysusers test\" /var/empty\n").unwrap();
    let tf = tree(
        &t.join("tf"),
        "repo-packages: [{repo: mxos-demo, packages: [mxos-hello]}]\n\
         opt-usrlocal: root\ntmp-is-dir: true\nautomatic-version-suffix: \"-\"\n\
         add-files: [[mxos-sys.conf, /usr/lib/sysusers.d/mxos-sys.conf]]\nsysusers: compose-forced\n\
         check-groups: {type: data, entries: {root: 0}}\n",
    );
    let out = compose(&args(&tf, r, c));
    let commit = committed(&out);
    // repovars reached both repos; repo-packages kept mxos-hello to the older repo.
    let packages = ostree(&[
        "--repo",
        r,
        "show",
        "--print-metadata-key=mxos.packages",
        &commit,
    ]);
    assert!(packages.contains("mxos-hello-1.0-1.noarch"), "{packages}");
    let version = ostree(&["--repo", r, "show", "--print-metadata-key=version", &commit]);
    assert!(
        version.trim().trim_matches('\'').ends_with("-0"),
        "{version}"
    );
    let root = ostree(&["--repo", r, "ls", &commit, "/"]);
    let line = |name: &str| {
        root.lines()
            .find(|l| l.ends_with(&format!(" /{name}")) || l.contains(&format!(" /{name} ->")))
            .unwrap_or_else(|| panic!("no /{name} in\n{root}"))
            .to_owned()
    };
    assert!(
        line("opt").starts_with('d'),
        "opt-usrlocal: root keeps /opt a directory: {root}"
    );
    assert!(line("tmp").starts_with('d'), "tmp-is-dir: {root}");
    assert!(line("home").starts_with('l'), "{root}");
    assert!(ostree(&["--repo", r, "ls", &commit, "/usr"]).contains("/usr/local"));
    let passwd = ostree(&["--repo", r, "cat", &commit, "/usr/etc/passwd"]);
    assert!(
        passwd.contains("mxsys:x:"),
        "sysusers: compose-forced ran: {passwd}"
    );
    // boot-location left unset is rpm-ostree's default `new`: a copy in /usr/lib/ostree-boot.
    let boot = ostree(&["--repo", r, "ls", &commit, "/usr/lib/ostree-boot"]);
    assert!(
        boot.contains("/usr/lib/ostree-boot/vmlinuz-6.1.0-mxos-"),
        "{boot}"
    );
    assert!(
        boot.contains("/usr/lib/ostree-boot/initramfs-6.1.0-mxos.img-"),
        "{boot}"
    );
}

#[test]
fn what_the_tree_or_this_composer_cannot_do_is_refused_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (repo, cache) = (t.join("repo"), t.join("cache"));
    let (r, c) = (repo.to_str().unwrap(), cache.to_str().unwrap());

    let tf = tree(&t.join("exclude"), "exclude-packages: [mxos-hello]\n");
    assert_eq!(
        compose_fails(&args(&tf, r, c)),
        "error: keys.yaml: `mxos-hello` is in `packages` and in `exclude-packages`; dnf could never install it\n"
    );
    // An exclusion that takes away a dependency: dnf says which.
    let tf = tree(
        &t.join("exclude-dep"),
        "exclude-packages: [mxos-hello-data]\n",
    );
    let err = compose_fails(&args(&tf, r, c));
    assert!(
        err.contains("resolving packages with dnf") && err.contains("mxos-hello-data"),
        "{err}"
    );

    let tf = tree(&t.join("gpg"), "gpg-key: 8483C65D\n");
    assert_eq!(
        compose_fails(&args(&tf, r, c)),
        "error: keys.yaml: `gpg-key` signs the commit with GPG at compose time, which this composer does not do; sign the composed commit with `mxos-compose sign`, or compose with `--sign-key` (ed25519)\n"
    );

    let tf = tree(&t.join("cliwrap"), "cliwrap: true\n");
    let err = compose_fails(&args(&tf, r, c));
    assert!(err.contains("warning: "), "cliwrap is deprecated: {err}");
    assert!(
        err.contains("cliwrap: the wrappers are rpm-ostree's `cliwrap` subcommand, and the tree has no /usr/bin/rpm-ostree; add rpm-ostree to `packages` or remove `cliwrap`"),
        "{err}"
    );

    let tf = tree(
        &t.join("ids2"),
        "check-passwd: {type: data, entries: {root: 7}}\n",
    );
    let err = compose_fails(&args(&tf, r, c));
    assert!(
        err.contains("check-passwd: user ids changed: `root` 7:7 → 0:0"),
        "{err}"
    );
    assert!(!repo.join("refs/heads/mxos").exists(), "nothing committed");
}

#[test]
fn tree_reports_as_json_and_touches_a_file_only_when_it_commits() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (repo, cache) = (t.join("repo"), t.join("cache"));
    let (r, c) = (repo.to_str().unwrap(), cache.to_str().unwrap());
    let tf = tree(&t.join("tf"), "boot-location: modules\n");
    let stamp = t.join("changed");
    let mut a = args(&tf, r, c);
    a.extend(["--json", "--touch-if-changed", stamp.to_str().unwrap()]);
    let first: serde_json::Value = serde_json::from_str(&compose(&a)).unwrap();
    assert_eq!(first["schema"], "mxos-compose-tree/1");
    assert_eq!(first["outcome"], "committed");
    assert_eq!(first["ref"], "mxos/test/keys");
    assert_eq!(first["packages"], 6);
    assert_eq!(first["package_cache"]["imported"], 6);
    assert!(stamp.exists(), "a commit touches the file");
    fs::remove_file(&stamp).unwrap();
    let again: serde_json::Value = serde_json::from_str(&compose(&a)).unwrap();
    assert_eq!(again["outcome"], "unchanged");
    assert_eq!(again["checksum"], first["checksum"]);
    assert!(!stamp.exists(), "no change, no touch");
    // Bad usage exits 2, as clap reports it; a failure exits 1.
    let usage = std::process::Command::new(env!("CARGO_BIN_EXE_mxos-compose"))
        .args(["tree"])
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
    let failure = std::process::Command::new(env!("CARGO_BIN_EXE_mxos-compose"))
        .args(["plan", "/nonexistent.yaml"])
        .output()
        .unwrap();
    assert_eq!(failure.status.code(), Some(1));
}
