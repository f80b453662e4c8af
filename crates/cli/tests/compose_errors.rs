//! Bad input and failing builds: each a clear error naming what is wrong, and nothing
//! committed.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use mxos_tests::{FileEntry, PackageSpec};

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

fn overlays() -> String {
    s(&workspace().join("overlays"))
}

#[test]
fn failing_post_scriptlet_fails_the_compose_and_commits_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let mut pkgs: Vec<PackageSpec> = mxos_tests::demo_packages(1)
        .into_iter()
        .filter(|p| p.name == "mxos-filesystem" || p.name == "mxos-shell")
        .collect();
    let mut bad = PackageSpec::new("mxos-bad", "a package whose %post fails");
    bad.requires = vec!["mxos-shell".into()];
    bad.files = vec![FileEntry::File {
        path: "/usr/share/mxos-bad".into(),
        contents: b"x\n".to_vec(),
        mode: 0o644,
    }];
    bad.post = Some("echo 'cannot configure mxos-bad' >&2\nexit 3".into());
    pkgs.push(bad);
    mxos_tests::build_repo(&t.join("rpms"), &pkgs).unwrap();
    let tf = t.join("tf/bad.yaml");
    fs::create_dir_all(t.join("tf")).unwrap();
    fs::write(
        &tf,
        "ref: mxos/test/bad\nrepos: [bad]\npackages: [mxos-filesystem, mxos-bad]\n",
    )
    .unwrap();
    fs::write(
        t.join("tf/bad.repo"),
        format!(
            "[bad]\nbaseurl=file://{}\ngpgcheck=0\n",
            t.join("rpms").display()
        ),
    )
    .unwrap();
    let err = compose_fails(&["tree", &s(&tf), "--repo", &s(&t.join("repo"))]);
    assert!(
        err.contains("error: package scriptlets failed (rpm only warns; MxOS refuses the tree):"),
        "{err}"
    );
    assert!(
        err.contains("%post(mxos-bad-1.0-1.noarch) scriptlet failed, exit status 3"),
        "{err}"
    );
    assert_eq!(
        ostree(&["--repo", &s(&t.join("repo")), "refs"]),
        "",
        "nothing may be committed"
    );
}

#[test]
fn bad_treefiles_are_explained_with_file_line_and_what_is_accepted() {
    let gen1 = mxos_tests::shared_demo_repo(1).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let repo = s(&t.join("repo"));

    let tf = demo_treefile(&t.join("typo"), &gen1, "");
    let text = fs::read_to_string(&tf)
        .unwrap()
        .replace("packages:", "pakages:");
    fs::write(&tf, text).unwrap();
    let err = compose_fails(&["tree", &s(&tf), "--repo", &repo]);
    assert_eq!(
        err,
        format!(
            "error: {}:7:1: unknown key `pakages`; did you mean `packages`?\n",
            tf.display()
        )
    );

    let tf = demo_treefile(&t.join("unknown-pkg"), &gen1, "");
    let text = fs::read_to_string(&tf).unwrap().replace(
        "  - mxos-test-kernel\n",
        "  - mxos-test-kernel\n  - no-such-package\n",
    );
    fs::write(&tf, text).unwrap();
    let err = compose_fails(&["tree", &s(&tf), "--repo", &repo, "--overlays", &overlays()]);
    assert!(err.contains("error: resolving packages with dnf"), "{err}");
    assert!(
        err.contains("Error: Unable to find a match: no-such-package"),
        "{err}"
    );

    let tf = demo_treefile(&t.join("no-repo"), &gen1, "");
    let text = fs::read_to_string(&tf)
        .unwrap()
        .replace("  - mxos-demo\n", "  - centos-baseos\n");
    fs::write(&tf, text).unwrap();
    let err = compose_fails(&["tree", &s(&tf), "--repo", &repo, "--overlays", &overlays()]);
    assert_eq!(err, "error: mxos-demo.yaml: repo `centos-baseos` is not defined in any .repo file next to the treefile (defined: mxos-demo)\n");

    let tf = demo_treefile(
        &t.join("script"),
        &gen1,
        "  - |\n    echo 'falta /etc/algo' >&2\n    exit 4\n",
    );
    let err = compose_fails(&["tree", &s(&tf), "--repo", &repo, "--overlays", &overlays()]);
    assert!(err.contains("caused by: postprocess script #2"), "{err}");
    assert!(
        err.contains("exit status: 4") && err.contains("falta /etc/algo"),
        "{err}"
    );

    let tf = demo_treefile(
        &t.join("remove"),
        &gen1,
        "remove-files:\n  - usr/share/nada\n",
    );
    // rpm-ostree ignores a path the tree lacks (docs may be gone with `documentation:
    // false`); the compose says so and goes on.
    let (out, err) = compose_with_stderr(&[
        "tree",
        &s(&tf),
        "--repo",
        &s(&t.join("remove-repo")),
        "--overlays",
        &overlays(),
    ]);
    assert!(out.starts_with("committed "), "{out}");
    assert!(
        err.contains("remove-files: `usr/share/nada` is not in the tree; nothing to remove"),
        "{err}"
    );

    let tf = demo_treefile(&t.join("unit"), &gen1, "");
    let text = fs::read_to_string(&tf)
        .unwrap()
        .replace("mxos-demo.service", "mxos-missing.service");
    fs::write(&tf, text).unwrap();
    let err = compose_fails(&["tree", &s(&tf), "--repo", &repo, "--overlays", &overlays()]);
    assert!(
        err.contains("units: enabling `mxos-missing.service`")
            && err.contains("no unit file `mxos-missing.service`"),
        "{err}"
    );

    assert!(
        !t.join("repo/refs/heads/mxos").exists(),
        "no failed compose may leave a ref"
    );
}

#[test]
fn overlays_that_break_the_rules_are_refused_before_anything_runs() {
    let gen1 = mxos_tests::shared_demo_repo(1).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let ov = t.join("overlays");
    fs::create_dir_all(ov.join("mx-locale/root/var/lib")).unwrap();
    fs::write(ov.join("mx-locale/overlay.yaml"), "description: x\n").unwrap();
    fs::write(ov.join("mx-locale/root/var/lib/x"), "x").unwrap();
    fs::create_dir_all(ov.join("mx-branding/root")).unwrap();
    fs::write(
        ov.join("mx-branding/overlay.yaml"),
        "description: x\nsetuid: []\nlogo: big\n",
    )
    .unwrap();
    let tf = demo_treefile(&t.join("tf"), &gen1, "");
    let err = compose_fails(&[
        "tree",
        &s(&tf),
        "--repo",
        &s(&t.join("repo")),
        "--overlays",
        &s(&ov),
    ]);
    assert_eq!(
        err,
        "error: overlay `mx-locale` refused\n  caused by: /var/lib/x: overlays may not place anything under /var (it is machine state, never updated); use tmpfiles.d in /usr/lib/tmpfiles.d instead\n"
    );
    fs::remove_dir_all(ov.join("mx-locale/root/var")).unwrap();
    let err = compose_fails(&[
        "tree",
        &s(&tf),
        "--repo",
        &s(&t.join("repo")),
        "--overlays",
        &s(&ov),
    ]);
    assert!(
        err.starts_with(&format!(
            "error: {}:3:1: unknown field `logo`",
            ov.join("mx-branding/overlay.yaml").display()
        )),
        "{err}"
    );
    assert!(err.contains("accepted keys: description, setuid"), "{err}");
}

#[test]
fn the_real_mxos_treefiles_parse_and_validate() {
    let ws = workspace();
    let base: serde_json::Value = serde_json::from_str(&compose(&[
        "plan",
        &s(&ws.join("treefiles/mxos-base.yaml")),
        "--basearch",
        "x86_64",
    ]))
    .unwrap();
    let base = &base["treefile"];
    assert_eq!(base["ref"], "mxos/10/x86_64/base");
    let pkgs: Vec<&str> = base["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(
        pkgs.contains(&"kernel") && pkgs.contains(&"ostree") && pkgs.contains(&"glibc-langpack-es"),
        "{pkgs:?}"
    );
    assert!(
        pkgs.contains(&"microcode_ctl") && !pkgs.contains(&"shim-aa64"),
        "packages-x86_64 only"
    );
    assert_eq!(base["repos"], serde_json::json!(["baseos", "appstream"]));
    assert_eq!(
        base["overlays"],
        serde_json::json!(["mx-locale", "mx-branding"])
    );

    let esc: serde_json::Value = serde_json::from_str(&compose(&[
        "plan",
        &s(&ws.join("treefiles/mxos-escuelas.yaml")),
        "--basearch",
        "aarch64",
    ]))
    .unwrap();
    let repo_files = esc["repo_files"].clone();
    let esc = &esc["treefile"];
    assert_eq!(esc["ref"], "mxos/10/aarch64/escuelas");
    assert_eq!(
        esc["default-target"], "graphical.target",
        "the including file's scalar wins"
    );
    assert_eq!(esc["add-commit-metadata"]["mxos.edition"], "escuelas");
    assert_eq!(
        esc["units"],
        serde_json::json!([
            "NetworkManager.service",
            "chronyd.service",
            "firewalld.service",
            "gdm.service",
            "cups.service"
        ])
    );
    let pkgs: Vec<&str> = esc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(
        pkgs.contains(&"kernel") && pkgs.contains(&"gnome-shell") && pkgs.contains(&"shim-aa64"),
        "{pkgs:?}"
    );
    let names: Vec<&str> = repo_files
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"centos-stream-10.repo"), "{names:?}");
}

#[test]
fn a_tree_without_a_kernel_is_refused_unless_it_says_it_is_not_bootable() {
    let gen1 = mxos_tests::shared_demo_repo(1).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let tf = demo_treefile(&t.join("tf"), &gen1, "");
    let text = fs::read_to_string(&tf)
        .unwrap()
        .replace("  - mxos-test-kernel\n", "");
    fs::write(&tf, &text).unwrap();
    let err = compose_fails(&[
        "tree",
        &s(&tf),
        "--repo",
        &s(&t.join("repo")),
        "--overlays",
        &overlays(),
    ]);
    assert!(
        err.contains("caused by: no kernel found (looked for /boot/vmlinuz-* and /usr/lib/modules/*/vmlinuz); add a kernel package, or set `bootable: false` for a tree that is not booted"),
        "{err}"
    );
    fs::write(&tf, format!("{text}bootable: false\n")).unwrap();
    let out = compose(&[
        "tree",
        &s(&tf),
        "--repo",
        &s(&t.join("repo")),
        "--overlays",
        &overlays(),
    ]);
    assert!(out.starts_with("committed "), "{out}");
}

#[test]
fn apt_backend_errors_name_the_mirror_and_the_package() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let tf = t.join("vm.yaml");
    fs::write(&tf, "ref: mxos/test/vm\nbackend: apt\nsuite: bookworm\nmirror: http://127.0.0.1:9/debian\npackages: [systemd]\n").unwrap();
    let err = compose_fails(&["tree", &s(&tf), "--repo", &s(&t.join("repo"))]);
    assert!(
        err.contains("error: fetching http://127.0.0.1:9/debian/dists/bookworm/InRelease"),
        "{err}"
    );
    fs::write(
        &tf,
        "ref: mxos/test/vm\nbackend: apt\nsuite: bookworm\npackages: [mxos-no-such-package]\n",
    )
    .unwrap();
    let err = compose_fails(&["tree", &s(&tf), "--repo", &s(&t.join("repo"))]);
    assert!(
        err.contains("Unable to locate package mxos-no-such-package"),
        "{err}"
    );
    assert!(!t.join("repo/refs/heads/mxos").exists());
}
