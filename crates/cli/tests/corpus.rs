//! The treefile corpus (`tests/corpus/`): treefiles in the shapes of Fedora CoreOS,
//! CentOS bootc, Fedora's atomic desktops and rpm-ostree's JSON examples each give their
//! expected plan and warnings through `mxos-compose plan`; every treefile of the project
//! gives a plan; and one corpus tree is composed for real from the demo packages, with
//! layers, a lockfile, and added and removed files.
//!
//! `MXOS_BLESS=1` rewrites the expected files instead of comparing (review the diff).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// (top manifest under tests/corpus, architecture)
const MANIFESTS: &[(&str, &str)] = &[
    ("coreos-like/manifest.yaml", "x86_64"),
    ("coreos-like/manifest.yaml", "s390x"),
    ("bootc-like/mxos-stream-10-tier1.yaml", "x86_64"),
    ("bootc-like/mxos-stream-10-tier0.yaml", "ppc64le"),
    ("desktops-like/escritorio.yaml", "x86_64"),
    ("desktops-like/escritorio-ostree.yaml", "x86_64"),
    ("desktops-like/aula.yaml", "aarch64"),
    ("json-classic/mxos-docker.json", "x86_64"),
    ("layered-demo/mxos-demo-layered.yaml", "x86_64"),
];

fn corpus() -> PathBuf {
    workspace().join("tests/corpus")
}

/// `mxos-compose plan --pretty`, run from the corpus so paths in warnings are relative.
fn plan(manifest: &str, arch: &str) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mxos-compose"))
        .args(["plan", "--pretty", "--basearch", arch, manifest])
        .current_dir(corpus())
        .env("LANG", "C.UTF-8")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "plan {manifest} ({arch}) failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let warnings: String = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.starts_with("warning: "))
        .map(|l| format!("{l}\n"))
        .collect();
    (String::from_utf8(out.stdout).unwrap(), warnings)
}

fn expect(path: &Path, actual: &str) -> Option<String> {
    if std::env::var_os("MXOS_BLESS").is_some() {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, actual).unwrap();
        return None;
    }
    let expected = fs::read_to_string(path).unwrap_or_default();
    (expected != actual).then(|| {
        format!(
            "{} differs from what the code gives (MXOS_BLESS=1 rewrites it):\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        )
    })
}

#[test]
fn every_corpus_manifest_gives_its_expected_plan_and_warnings() {
    let mut failures = Vec::new();
    for (manifest, arch) in MANIFESTS {
        let (json, warnings) = plan(manifest, arch);
        let name = manifest
            .replace('/', "--")
            .replace(".yaml", "")
            .replace(".json", "");
        let dir = corpus().join("expected");
        failures.extend(expect(&dir.join(format!("{name}.{arch}.json")), &json));
        failures.extend(expect(
            &dir.join(format!("{name}.{arch}.warnings")),
            &warnings,
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_corpus_plans_say_what_rpm_ostree_would_do() {
    // Spot checks of the expected files' meaning, so a blessed regression still fails.
    let fcos: serde_json::Value =
        serde_json::from_str(&plan("coreos-like/manifest.yaml", "x86_64").0).unwrap();
    let t = &fcos["treefile"];
    assert_eq!(t["ref"], "mxos/x86_64/coreos/testing-devel");
    assert_eq!(
        t["add-commit-metadata"]["escuela-coreos.stream"],
        "testing-devel"
    );
    assert_eq!(
        t["ostree-layers"],
        serde_json::json!(["overlay/05core", "overlay/09misc", "overlay/15escuela"])
    );
    let pkgs: Vec<&str> = t["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(
        pkgs.contains(&"dnf5")
            && pkgs.contains(&"grub2-efi-x64")
            && pkgs.contains(&"escuela-updates-disabled")
    );
    assert!(!pkgs.contains(&"/usr/sbin/zipl"));
    assert_eq!(
        fcos["lockfile"]["packages"]["kernel"]["evr"],
        "6.11.5-300.mx41"
    );
    assert_eq!(
        fcos["lockfile"]["packages"]["kernel"]["arch"],
        serde_json::Value::Null
    );
    let s390x: serde_json::Value =
        serde_json::from_str(&plan("coreos-like/manifest.yaml", "s390x").0).unwrap();
    // There is no s390x lockfile; the overrides apply to every architecture.
    assert_eq!(
        s390x["lockfile"]["files"],
        serde_json::json!(["manifest-lock.overrides.yaml"])
    );
    let s390x_pkgs = s390x["treefile"]["packages"].to_string();
    assert!(s390x_pkgs.contains("/usr/sbin/zipl") && !s390x_pkgs.contains("grub2"));

    let desk: serde_json::Value =
        serde_json::from_str(&plan("desktops-like/escritorio-ostree.yaml", "x86_64").0).unwrap();
    assert_eq!(desk["treefile"]["ref"], "mxos/10/x86_64/escritorio");
    assert_eq!(desk["variables"]["bootable_container"], false);
    let pkgs = desk["treefile"]["packages"].to_string();
    assert!(
        pkgs.contains("ostree-grub2") && !pkgs.contains("\"bootupd\""),
        "{pkgs}"
    );
    assert!(
        pkgs.contains("mxos-release-escritorio") && !pkgs.contains("veyon"),
        "{pkgs}"
    );
    assert_eq!(desk["treefile"]["tmp-is-dir"], true, "edition 2024");

    let bootc: serde_json::Value =
        serde_json::from_str(&plan("bootc-like/mxos-stream-10-tier1.yaml", "x86_64").0).unwrap();
    assert_eq!(bootc["treefile"]["ref"], serde_json::Value::Null);
    assert_eq!(bootc["variables"]["releasever"], "stream10");
    assert_eq!(
        bootc["treefile"]["add-files"][0]["dest"],
        "/usr/libexec/mxos-growpart"
    );
    assert!(bootc["treefile"]["packages"]
        .to_string()
        .contains("linux-firmware"));
}

#[test]
fn every_treefile_of_the_project_gives_a_plan_without_warnings() {
    let dir = workspace().join("treefiles");
    let mut names: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"))
        .collect();
    names.sort();
    assert!(names.len() >= 4, "{names:?}");
    for tf in names {
        for arch in ["x86_64", "aarch64"] {
            let (out, err) =
                compose_with_stderr(&["plan", "--basearch", arch, tf.to_str().unwrap()]);
            let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert!(
                plan["treefile"]["ref"]
                    .as_str()
                    .is_some_and(|r| r.contains(arch)),
                "{}: {out}",
                tf.display()
            );
            assert!(!err.contains("warning:"), "{}: {err}", tf.display());
        }
    }
}

/// The layered-demo corpus tree, copied so that tests can change its lockfile. Its `.repo`
/// file names the shared demo repos of generations 1 and 2, so a lockfile has two versions
/// of mxos-hello to choose between.
fn layered_tree(dir: &Path) -> PathBuf {
    mxos_tests::shared_demo_repo(1).unwrap();
    mxos_tests::shared_demo_repo(2).unwrap();
    let src = corpus().join("layered-demo");
    let dest = dir.join("layered-demo");
    let status = Command::new("cp")
        .arg("-a")
        .arg(&src)
        .arg(&dest)
        .status()
        .unwrap();
    assert!(status.success());
    dest.join("mxos-demo-layered.yaml")
}

fn commit_layer(repo: &Path, reference: &str, dir: &Path) {
    ostree(&[
        "--repo",
        repo.to_str().unwrap(),
        "commit",
        "-b",
        reference,
        "--owner-uid=0",
        "--owner-gid=0",
        &format!("--tree=dir={}", dir.display()),
    ]);
}

#[test]
fn a_corpus_tree_composes_with_layers_a_lockfile_and_file_edits() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let tf = layered_tree(t);
    let rpms = mxos_tests::shared_demo_repo(1).unwrap();
    let build = t.join("build");
    let b = build.to_str().unwrap();
    let cache = t.join("cache").display().to_string();
    let tree = |extra: &[&str]| -> Vec<String> {
        let mut args = vec![
            "tree",
            tf.to_str().unwrap(),
            "--repo",
            b,
            "--cachedir",
            &cache,
        ];
        args.extend_from_slice(extra);
        args.iter().map(|s| s.to_string()).collect()
    };
    let run = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        compose_fails(&args)
    };

    // The layers are refs of the build repo; a missing one is named before any work.
    fs::create_dir_all(&build).unwrap();
    ostree(&["--repo", b, "init", "--mode=bare-user"]);
    let err = run(tree(&[]));
    assert_eq!(
        err,
        format!("error: ostree-layers: the build repo {b} has no ref `mxos/layer/escuela`; commit the layer first (e.g. `ostree commit --repo={b} -b mxos/layer/escuela --tree=dir=DIR`)\n")
    );
    commit_layer(
        &build,
        "mxos/layer/escuela",
        &tf.parent().unwrap().join("layer"),
    );
    let over = t.join("override");
    fs::create_dir_all(over.join("usr/share/mxos-layer")).unwrap();
    fs::write(
        over.join("usr/share/mxos-layer/info"),
        "la capa que reemplaza\n",
    )
    .unwrap();
    fs::create_dir_all(over.join("etc")).unwrap();
    fs::write(over.join("etc/mxos-override.conf"), "override=1\n").unwrap();
    commit_layer(&build, "mxos/layer/override", &over);

    let lockfile_out = t.join("written-lock.json");
    let args = tree(&["--write-lockfile-to", lockfile_out.to_str().unwrap()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = compose(&args);
    assert!(out.starts_with("committed "), "{out}");
    let commit = committed(&out);
    let cat = |path: &str| ostree(&["--repo", b, "cat", &commit, path]);

    // The lockfile pins mxos-hello 1.0 though the repo also has 1.1.
    let meta = ostree(&[
        "--repo",
        b,
        "show",
        "--print-metadata-key=mxos.packages",
        &commit,
    ]);
    assert!(
        meta.contains("mxos-hello-1.0-1.noarch") && !meta.contains("mxos-hello-1.1"),
        "{meta}"
    );
    assert!(!cat("/usr/bin/mxos-hello").contains("echo v2"));
    let lock_meta = ostree(&[
        "--repo",
        b,
        "show",
        "--print-metadata-key=mxos.lockfile",
        &commit,
    ]);
    assert_eq!(lock_meta.trim().trim_matches('\'').len(), 64, "{lock_meta}");
    let cmd = ostree(&[
        "--repo",
        b,
        "show",
        "--print-metadata-key=ostree.container-cmd",
        &commit,
    ]);
    assert_eq!(cmd.trim(), "['/usr/bin/mxos-hello']");

    // Layers in order (the override wins), with /etc moved under /usr/etc as the tree's is.
    assert_eq!(cat("/usr/share/mxos-layer/info"), "la capa que reemplaza\n");
    assert_eq!(cat("/usr/etc/mxos-override.conf"), "override=1\n");
    // add-files after remove-from-packages; the motd lands in /usr/etc.
    assert_eq!(
        cat("/usr/share/mxos-hello/greeting.txt"),
        "Hola desde la escuela\n"
    );
    assert_eq!(cat("/usr/etc/motd"), "Bienvenidos al aula de cómputo\n");
    // The inline script ran, then postprocess-script.
    assert_eq!(cat("/usr/share/mxos-hello/script-ran"), "script ran\n");
    let version = ostree(&["--repo", b, "show", "--print-metadata-key=version", &commit]);
    let version = version.trim().trim_matches('\'');
    let os_release = cat("/usr/lib/os-release");
    assert!(
        os_release.contains(&format!("VERSION=\"{version}\""))
            && os_release.contains(&format!("PRETTY_NAME=\"MxOS {version}\""))
            && os_release.contains(&format!("OSTREE_VERSION='{version}'")),
        "{os_release}"
    );
    // The x86_64 condition brought the unit in, enabled.
    assert!(ostree(&[
        "--repo",
        b,
        "ls",
        &commit,
        "/usr/etc/systemd/system/multi-user.target.wants"
    ])
    .contains("mxos-demo.service"));

    // --write-lockfile-to: rpm-ostree's format, every resolved package with its digest.
    let written: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&lockfile_out).unwrap()).unwrap();
    assert_eq!(written["packages"]["mxos-hello"]["evra"], "1.0-1.noarch");
    assert_eq!(written["packages"]["mxos-shell"]["evra"], "1.0-1.x86_64");
    let digest = written["packages"]["mxos-hello"]["digest"]
        .as_str()
        .unwrap();
    let file = fs::read_dir(&rpms)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_str().unwrap() == "mxos-hello-1.0-1.noarch.rpm")
        .unwrap();
    let sha = String::from_utf8(
        Command::new("sha256sum")
            .arg(&file)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(digest, format!("sha256:{}", &sha[..64]));
    assert_eq!(written["packages"].as_object().unwrap().len(), 7);
    assert!(written["metadata"]["rpmmd_repos"]["mxos-demo"]["generated"].is_string());

    // The same inputs: no changes. The written lockfile (with digests) pins the same set.
    let args = tree(&["--lockfile", lockfile_out.to_str().unwrap()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let again = compose(&args);
    assert!(
        again.starts_with("committed "),
        "a different lockfile is a different input: {again}"
    );

    // A pin no repo has is named, and nothing is committed.
    let head = ostree(&["--repo", b, "rev-parse", "mxos/test/x86_64/layered"]);
    fs::write(
        tf.parent()
            .unwrap()
            .join("mxos-demo-layered-lock.x86_64.json"),
        "{\"packages\": {\"mxos-hello\": {\"evra\": \"9.9-1.noarch\"}}}",
    )
    .unwrap();
    let err = run(tree(&[]));
    assert!(
        err.contains("the lockfile pins packages no enabled repo has: mxos-hello-9.9-1.noarch (the repos offer 1.0-1.noarch, 1.1-1.noarch)"),
        "{err}"
    );
    assert_eq!(
        ostree(&["--repo", b, "rev-parse", "mxos/test/x86_64/layered"]),
        head
    );
}

#[test]
fn an_ostree_layer_may_only_add_what_the_tree_does_not_have() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let tf = layered_tree(t);
    let build = t.join("build");
    let b = build.to_str().unwrap();
    fs::create_dir_all(&build).unwrap();
    ostree(&["--repo", b, "init", "--mode=bare-user"]);
    // A layer that changes a packaged file must be an override layer.
    let bad = t.join("bad");
    fs::create_dir_all(bad.join("usr/lib")).unwrap();
    fs::write(bad.join("usr/lib/os-release"), "NAME=Otro\n").unwrap();
    commit_layer(&build, "mxos/layer/escuela", &bad);
    commit_layer(
        &build,
        "mxos/layer/override",
        &tf.parent().unwrap().join("layer"),
    );
    fs::remove_file(
        tf.parent()
            .unwrap()
            .join("mxos-demo-layered-lock.x86_64.json"),
    )
    .unwrap();
    let err = compose_fails(&[
        "tree",
        tf.to_str().unwrap(),
        "--repo",
        b,
        "--cachedir",
        t.join("cache").to_str().unwrap(),
    ]);
    assert!(
        err.contains("ostree-layers: `mxos/layer/escuela` has /usr/lib/os-release, which the tree already has with other content; an ostree-layers entry may only add files (move the layer to `ostree-override-layers` to replace them)"),
        "{err}"
    );
    assert!(!build.join("refs/heads/mxos/test").exists());
}
