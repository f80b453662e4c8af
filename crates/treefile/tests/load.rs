//! Loading and merging: includes, packages, variables, repo files, canonical JSON.

mod common;

use std::collections::BTreeMap;

use common::write;
use mxos_treefile::{load, load_str, Backend, BootLocation, CheckPasswd, RepoFile, VarValue};
use serde_json::json;

#[test]
fn include_merge_follows_rpm_ostree() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "base.yaml",
        "ref: base/ref\npackages: [bash, coreutils]\npostprocess: [\"echo base\"]\ndocumentation: false\n\
         add-commit-metadata: {a: 1, b: base}\nvariables: {x: base, y: 2}\ndefault-target: base.target\n",
    );
    let top = write(
        dir.path(),
        "top.yaml",
        "include: base.yaml\nref: top/${x}/${y}\npackages: [vim]\npostprocess: [\"echo top\"]\n\
         add-commit-metadata: {b: top, c: [1, 2]}\nvariables: {x: top}\n",
    );
    let plan = load(&top, "x86_64").unwrap();
    assert_eq!(plan.treefile_name, "top.yaml");
    let t = &plan.treefile;
    assert_eq!(plan.reference(), Some("top/top/2"));
    assert_eq!(t.packages, ["bash", "coreutils", "vim"]);
    assert_eq!(t.postprocess, ["echo base", "echo top"]);
    assert!(!t.documentation);
    assert!(t.recommends);
    assert_eq!(t.default_target.as_deref(), Some("base.target"));
    assert_eq!(t.backend, Backend::Dnf);
    let meta: BTreeMap<String, serde_json::Value> =
        [("a", json!(1)), ("b", json!("top")), ("c", json!([1, 2]))]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
    assert_eq!(t.add_commit_metadata, meta);
    assert_eq!(plan.variables["x"], VarValue::String("top".into()));
    assert_eq!(plan.variables["y"], VarValue::Number(2));
    assert_eq!(plan.sources, [top.clone(), dir.path().join("base.yaml")]);
}

#[test]
fn include_list_and_nested_includes_in_rpm_ostree_order() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "common/deep.yaml",
        "packages: [deep]\nunits: [deep.service]\n",
    );
    write(
        dir.path(),
        "common/a.yaml",
        "include: [deep.yaml]\npackages: [a]\nunits: [a.service]\nref: from-a\n",
    );
    write(
        dir.path(),
        "b.yaml",
        "packages: [b]\nunits: [b.service]\nref: from-b\n",
    );
    let top = write(
        dir.path(),
        "top.yaml",
        "include:\n  - common/a.yaml\n  - b.yaml\npackages: [top]\nunits: [top.service]\n",
    );
    let plan = load(&top, "x86_64").unwrap();
    // `packages` is a set; lists put each include before the file that includes it, the
    // later include first (rpm-ostree merges the including file with one include at a time).
    assert_eq!(plan.treefile.packages, ["a", "b", "deep", "top"]);
    assert_eq!(
        plan.treefile.units,
        ["b.service", "deep.service", "a.service", "top.service"]
    );
    // The earlier include's scalar wins over the later one.
    assert_eq!(plan.reference(), Some("from-a"));
    let names: Vec<_> = plan
        .sources
        .iter()
        .map(|p| {
            p.strip_prefix(dir.path())
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        names,
        ["top.yaml", "common/a.yaml", "common/deep.yaml", "b.yaml"]
    );
}

#[test]
fn packages_for_basearch_split_and_deduplicated() {
    let text = "ref: r/${basearch}\npackages: [\"a b\", c]\npackages-x86_64: [\"x1  x2\", a]\npackages-aarch64: [arm]\n";
    let x86 = load_str("t.yaml", text, "x86_64").unwrap();
    assert_eq!(x86.treefile.packages, ["a", "b", "c", "x1", "x2"]);
    assert_eq!(x86.reference(), Some("r/x86_64"));
    let arm = load_str("t.yaml", text, "aarch64").unwrap();
    assert_eq!(arm.treefile.packages, ["a", "arm", "b", "c"]);
    assert_eq!(arm.reference(), Some("r/aarch64"));
    assert_eq!(arm.basearch, "aarch64");
}

#[test]
fn variables_and_builtins() {
    let plan = load_str("t.yaml", "ref: mxos/${releasever}/${basearch}/${stream}\nreleasever: 10\nvariables: {stream: next}\n", "x86_64")
        .unwrap();
    assert_eq!(plan.reference(), Some("mxos/10/x86_64/next"));
    assert_eq!(plan.releasever().as_deref(), Some("10"));
    assert_eq!(plan.treefile.releasever, Some(VarValue::Number(10)));
}

#[test]
fn repo_files_from_every_treefile_directory() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sub/inc.yaml", "packages: [a]\n");
    write(dir.path(), "sub/zz.repo", "[zz]\n");
    write(dir.path(), "sub/notes.txt", "ignored");
    write(dir.path(), "centos.repo", "[baseos]\n");
    let top = write(
        dir.path(),
        "top.yaml",
        "ref: r\ninclude: sub/inc.yaml\nrepos: [baseos, zz, baseos]\n",
    );
    let plan = load(&top, "x86_64").unwrap();
    assert_eq!(
        plan.repo_files,
        [
            RepoFile {
                name: "centos.repo".into(),
                contents: "[baseos]\n".into(),
                dir: dir.path().to_owned(),
            },
            RepoFile {
                name: "zz.repo".into(),
                contents: "[zz]\n".into(),
                dir: dir.path().join("sub"),
            },
        ]
    );
    // Appended as written; dnf enables each id once.
    assert_eq!(
        plan.treefile.repos.as_deref(),
        Some(&["baseos".to_owned(), "zz".to_owned(), "baseos".to_owned()][..])
    );
}

#[test]
fn defaults_and_all_keys() {
    let plan = load_str(
        "dir/mxos-demo.yaml",
        "ref: r\nbackend: dnf\nrecommends: false\nremove-files: [etc/x]\noverlays: [base]\n\
         automatic-version-prefix: \"10.<date:%Y%m%d>\"\nrepos: [a]\n",
        "x86_64",
    )
    .unwrap();
    assert_eq!(plan.treefile_name, "mxos-demo.yaml");
    let t = &plan.treefile;
    assert!(t.documentation);
    assert!(!t.recommends);
    assert_eq!(t.remove_files, ["etc/x"]);
    assert_eq!(t.overlays, ["base"]);
    assert_eq!(
        t.automatic_version_prefix.as_deref(),
        Some("10.<date:%Y%m%d>")
    );
    assert_eq!(plan.releasever(), None);
    // rpm-ostree's defaults for what the treefile leaves out.
    assert_eq!(t.boot_location, BootLocation::New);
    assert_eq!(t.check_passwd, CheckPasswd::Previous);
    assert!(t.preserve_passwd && t.machineid_compat && !t.tmp_is_dir && t.ignore_devices);
    assert_eq!(t.selinux, None);
    assert_eq!(t.repos.as_deref(), Some(&["a".to_owned()][..]));
    assert!(plan.repo_files.is_empty());
}

#[test]
fn canonical_json_is_stable_across_key_order_and_comments() {
    let a = load_str(
        "t.yaml",
        "ref: r\npackages: [a, b]\nadd-commit-metadata: {x: 1, y: {p: 1, q: 2}}\n",
        "x86_64",
    )
    .unwrap();
    let b = load_str(
        "t.yaml",
        "# a comment\nadd-commit-metadata:\n  y: {q: 2, p: 1}\n  x: 1\npackages: [a, b]  # trailing\nref: r\n",
        "x86_64",
    )
    .unwrap();
    assert_eq!(a.canonical_json(), b.canonical_json());
    assert!(a.canonical_json().starts_with("{\"basearch\":\"x86_64\",\"lockfile\":null,\"repo_files\":[],\"treefile\":{\"add-commit-metadata\":{\"x\":1,\"y\":{\"p\":1,\"q\":2}},\"add-files\":[],"));
    assert!(!a.canonical_json().contains("\"sources\""));
    let c = load_str("t.yaml", "ref: r\npackages: [b, a]\n", "x86_64").unwrap();
    assert_ne!(a.canonical_json(), c.canonical_json());
}

#[test]
fn canonical_json_ignores_host_paths() {
    let one = tempfile::tempdir().unwrap();
    let two = tempfile::tempdir().unwrap();
    let a = load(&write(one.path(), "t.yaml", "ref: r\n"), "x86_64").unwrap();
    let b = load(&write(two.path(), "t.yaml", "ref: r\n"), "x86_64").unwrap();
    assert_ne!(a.sources, b.sources);
    assert_eq!(a.canonical_json(), b.canonical_json());
}
