//! Loading and merging: includes, packages, variables, repo files, canonical JSON.

mod common;

use std::collections::BTreeMap;

use common::write;
use mxos_treefile::{load, load_str, Backend, RepoFile};
use serde_json::json;

#[test]
fn include_merge_lists_append_scalars_and_maps_from_including_file() {
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
    assert_eq!(plan.reference, "top/top/2");
    assert_eq!(plan.packages, ["bash", "coreutils", "vim"]);
    assert_eq!(plan.postprocess, ["echo base", "echo top"]);
    assert!(!plan.documentation);
    assert!(plan.recommends);
    assert_eq!(plan.default_target.as_deref(), Some("base.target"));
    assert_eq!(plan.backend, Backend::Dnf);
    let meta: BTreeMap<String, serde_json::Value> =
        [("a", json!(1)), ("b", json!("top")), ("c", json!([1, 2]))]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
    assert_eq!(plan.add_commit_metadata, meta);
    assert_eq!(plan.variables.get("x").map(String::as_str), Some("top"));
    assert_eq!(plan.variables.get("y").map(String::as_str), Some("2"));
    assert_eq!(plan.sources, [top.clone(), dir.path().join("base.yaml")]);
}

#[test]
fn include_list_and_nested_includes_in_order() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "common/deep.yaml",
        "packages: [deep]\nunits: [deep.service]\n",
    );
    write(
        dir.path(),
        "common/a.yaml",
        "include: [deep.yaml]\npackages: [a]\nref: from-a\n",
    );
    write(dir.path(), "b.yaml", "packages: [b]\nref: from-b\n");
    let top = write(
        dir.path(),
        "top.yaml",
        "include:\n  - common/a.yaml\n  - b.yaml\npackages: [top]\nunits: [top.service]\n",
    );
    let plan = load(&top, "x86_64").unwrap();
    assert_eq!(plan.packages, ["deep", "a", "b", "top"]);
    assert_eq!(plan.units, ["deep.service", "top.service"]);
    // The later include's scalar wins over the earlier one.
    assert_eq!(plan.reference, "from-b");
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
    assert_eq!(x86.packages, ["a", "b", "c", "x1", "x2"]);
    assert_eq!(x86.reference, "r/x86_64");
    let arm = load_str("t.yaml", text, "aarch64").unwrap();
    assert_eq!(arm.packages, ["a", "b", "c", "arm"]);
    assert_eq!(arm.reference, "r/aarch64");
    assert_eq!(arm.basearch, "aarch64");
}

#[test]
fn variables_and_builtins() {
    let plan = load_str("t.yaml", "ref: mxos/${releasever}/${basearch}/${stream}\nreleasever: 10\nvariables: {stream: next}\n", "x86_64")
        .unwrap();
    assert_eq!(plan.reference, "mxos/10/x86_64/next");
    assert_eq!(plan.releasever.as_deref(), Some("10"));
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
                contents: "[baseos]\n".into()
            },
            RepoFile {
                name: "zz.repo".into(),
                contents: "[zz]\n".into()
            },
        ]
    );
    assert_eq!(plan.repos, ["baseos", "zz"]);
}

#[test]
fn defaults_and_all_keys() {
    let plan = load_str(
        "dir/mxos-demo.yaml",
        "ref: r\nbackend: dnf\nrecommends: false\nremove-files: [/etc/x]\noverlays: [base]\n\
         automatic-version-prefix: \"10.<date:%Y%m%d>\"\nrepos: [a]\n",
        "x86_64",
    )
    .unwrap();
    assert_eq!(plan.treefile_name, "mxos-demo.yaml");
    assert!(plan.documentation);
    assert!(!plan.recommends);
    assert_eq!(plan.remove_files, ["/etc/x"]);
    assert_eq!(plan.overlays, ["base"]);
    assert_eq!(
        plan.automatic_version_prefix.as_deref(),
        Some("10.<date:%Y%m%d>")
    );
    assert_eq!(plan.releasever, None);
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
    assert!(a.canonical_json().starts_with("{\"add_commit_metadata\":{\"x\":1,\"y\":{\"p\":1,\"q\":2}},\"automatic_version_prefix\":null,"));
    assert!(!a.canonical_json().contains("sources"));
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
