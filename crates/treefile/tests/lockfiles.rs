//! Lockfiles found beside the treefile (coreos-assembler's names), merged in order, and
//! their mistakes named.

mod common;

use common::{load_err, write};
use mxos_treefile::{load, load_with, LockedPackage, Lockfiles};

const BASE: &str = r#"{
  "packages": {
    "NetworkManager": { "evra": "1:1.46.2-1.fc40.x86_64", "metadata": { "sourcerpm": "NetworkManager" } },
    "kernel": { "evra": "6.11.4-201.fc40.x86_64", "digest": "sha256:0011" }
  },
  "metadata": {
    "generated": "2024-10-23T00:00:00Z",
    "rpmmd_repos": { "fedora": { "generated": "2024-04-14T18:51:11Z" } }
  }
}"#;

#[test]
fn coreos_assembler_s_lockfiles_beside_manifest_yaml() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let top = write(
        d,
        "manifest.yaml",
        "ref: fedora/x86_64/coreos\npackages: [kernel]\n",
    );
    write(d, "manifest-lock.x86_64.json", BASE);
    write(
        d,
        "manifest-lock.overrides.yaml",
        "# fast-tracks\npackages:\n  kernel:\n    evr: 6.11.5-200.fc40\n    metadata:\n      type: fast-track\n      bodhi: https://bodhi.example/x\n",
    );
    write(
        d,
        "manifest-lock.overrides.x86_64.yaml",
        "packages:\n  grub2-common:\n    evra: 1:2.12-10.fc41.noarch\n",
    );
    write(d, "manifest-lock.aarch64.json", "{\"packages\": {}}");
    let plan = load(&top, "x86_64").unwrap();
    let lock = plan.lockfile.as_ref().unwrap();
    assert_eq!(
        lock.files,
        [
            "manifest-lock.x86_64.json",
            "manifest-lock.overrides.yaml",
            "manifest-lock.overrides.x86_64.yaml"
        ]
    );
    assert_eq!(
        lock.packages["kernel"],
        LockedPackage {
            evr: "6.11.5-200.fc40".into(),
            arch: None,
            digest: None
        },
        "a later file replaces the whole entry"
    );
    assert_eq!(
        lock.packages["NetworkManager"].spec("NetworkManager"),
        "NetworkManager-1:1.46.2-1.fc40.x86_64"
    );
    assert_eq!(
        lock.packages["grub2-common"].arch.as_deref(),
        Some("noarch")
    );
    // The pins are part of the plan, so of the input hash.
    let unlocked = load_with(&top, "x86_64", &Lockfiles::None).unwrap();
    assert!(unlocked.lockfile.is_none());
    assert_ne!(plan.canonical_json(), unlocked.canonical_json());
    let arm = load(&top, "aarch64").unwrap();
    assert_eq!(arm.lockfile.unwrap().files[0], "manifest-lock.aarch64.json");
}

#[test]
fn a_treefile_s_own_lockfile_and_explicit_ones() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let top = write(d, "mxos-demo.yaml", "ref: r\n");
    write(
        d,
        "mxos-demo-lock.x86_64.json",
        "{\"packages\": {\"a\": {\"evr\": \"0:1-1\"}}}",
    );
    write(d, "manifest-lock.x86_64.json", BASE);
    let plan = load(&top, "x86_64").unwrap();
    let lock = plan.lockfile.unwrap();
    assert_eq!(lock.files, ["mxos-demo-lock.x86_64.json"]);
    assert_eq!(
        lock.packages["a"].evr, "1-1",
        "an epoch of 0 is not written"
    );
    let explicit = write(d, "pins.yaml", "packages: {b: {evra: 2-1.noarch}}\n");
    let plan = load_with(&top, "x86_64", &Lockfiles::Files(vec![explicit])).unwrap();
    assert_eq!(
        plan.lockfile.unwrap().packages.keys().collect::<Vec<_>>(),
        ["b"]
    );
}

#[test]
fn lockfile_mistakes_name_the_file_and_the_package() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let top = write(d, "manifest.yaml", "ref: r\n");
    let lock = d.join("manifest-lock.x86_64.json");
    for (text, message) in [
        (
            "{\"packages\": {\"kernel\": {\"evra\": \"6.11\"}}}",
            "package `kernel`: `evra: 6.11` is not `[E:]V-R.ARCH`; write `evr:` for any architecture".to_owned(),
        ),
        (
            "{\"packages\": {\"kernel\": {\"evr\": \"1-1\", \"evra\": \"1-1.x86_64\"}}}",
            "package `kernel`: give exactly one of `evra` and `evr`".to_owned(),
        ),
        (
            "{\"packages\": {\"kernel\": {\"evr\": \"1-1\", \"pin\": true}}}",
            ":1:40: packages.kernel: unknown field `pin`, expected one of `evra`, `evr`, `digest`, `metadata`; a lockfile is `packages: {NAME: {evra: [E:]V-R.ARCH} or {evr: [E:]V-R}, digest: sha256:HEX (optional)}`".to_owned(),
        ),
        (
            "{\"packages\": {\"kernel\": {\"evr\": \"1-1\", \"digest\": \"abc\"}}}",
            "package `kernel`: digest `abc` must be `ALGORITHM:HEX`, e.g. `sha256:…`".to_owned(),
        ),
    ] {
        std::fs::write(&lock, text).unwrap();
        let sep = if message.starts_with(':') { "" } else { ": " };
        assert_eq!(load_err(&top), format!("{}{sep}{message}", lock.display()), "{text}");
    }
    std::fs::write(&lock, BASE).unwrap();
    write(d, "manifest-lock.x86_64.yaml", "packages: {}\n");
    assert_eq!(
        load_err(&top),
        format!(
            "{}: both manifest-lock.x86_64.json and manifest-lock.x86_64.yaml exist; keep one of them",
            lock.display()
        )
    );
}
