//! bootc container images end to end: compose the demo tree (gen 1 and gen 2), encapsulate
//! it with ostree-ext, check the digest is reproducible, the labels, the rootfs umoci unpacks,
//! the round trip back to the same commit, a push to a real registry, the update size of a
//! one-package change, and a derived image built with buildah from bootc/Containerfile.
//!
//! This machine's /proc is mode 0755, which cap-std refuses; every command that writes an
//! OCI image runs under `unshare -m --propagation private --mount-proc` (see DESIGN.md).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use serde_json::Value;

const REF: &str = "mxos/10/x86_64/demo";

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

fn show(args: &[&str], out: &Output) -> String {
    format!(
        "{}\nstatus: {}\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `mxos-compose ARGS` in a private mount namespace with a fresh (0555) procfs.
fn compose_unshared_env(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "--propagation", "private", "--mount-proc"])
        .arg(env!("CARGO_BIN_EXE_mxos-compose"))
        .args(args)
        .env_remove("SOURCE_DATE_EPOCH");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", show(args, &out));
    String::from_utf8(out.stdout).unwrap()
}

fn compose_unshared(args: &[&str]) -> String {
    compose_unshared_env(args, &[])
}

/// The digest in "image REF sha256:... : commit ..." output.
fn image_digest(stdout: &str) -> String {
    let start = stdout
        .find("sha256:")
        .unwrap_or_else(|| panic!("no digest in {stdout}"));
    stdout[start..start + 71].to_owned()
}

fn tool(prog: &str, args: &[&str]) -> String {
    let out = Command::new(prog).args(args).output().unwrap();
    assert!(out.status.success(), "{prog} {}", show(args, &out));
    String::from_utf8(out.stdout).unwrap()
}

fn inspect(image: &str, extra: &[&str]) -> Value {
    let mut args = vec!["inspect"];
    args.extend_from_slice(extra);
    args.push(image);
    serde_json::from_str(&tool("skopeo", &args)).unwrap()
}

/// The demo tree composed from the gen-1 packages, then gen-2 (only mxos-hello changed),
/// into one build repo: (tempdir, build repo, gen-1 commit, gen-2 commit).
fn composed_demo() -> (tempfile::TempDir, PathBuf, String, String) {
    let gen1 = mxos_tests::shared_demo_repo(1).unwrap();
    let gen2 = mxos_tests::shared_demo_repo(2).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let build = t.join("build");
    let overlays = s(&workspace().join("overlays"));
    let mut commits = Vec::new();
    for (name, rpms) in [("v1", &gen1), ("v2", &gen2)] {
        let tree = demo_treefile(&t.join(name), rpms, "");
        let out = compose(&[
            "tree",
            &s(&tree),
            "--repo",
            &s(&build),
            "--overlays",
            &overlays,
        ]);
        commits.push(committed(&out));
    }
    let c2 = commits.pop().unwrap();
    let c1 = commits.pop().unwrap();
    (tmp, build, c1, c2)
}

#[test]
fn image_is_reproducible_labelled_unpackable_and_imports_to_the_same_commit() {
    let (tmp, build, c1, _) = composed_demo();
    let t = tmp.path();
    let (a, b) = (t.join("oci-a"), t.join("oci-b"));
    let to_a = format!("oci:{}:mxos-10", s(&a));
    let out_a = compose_unshared(&[
        "container",
        &c1,
        "--repo",
        &s(&build),
        "--to",
        &to_a,
        "--label",
        "org.opencontainers.image.vendor=SEP",
    ]);
    assert!(out_a.contains("components from rpm"), "{out_a}");
    // Same commit, other directory, other time: the same manifest digest.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out_b = compose_unshared(&[
        "container",
        &c1,
        "--repo",
        &s(&build),
        "--to",
        &format!("oci:{}:mxos-10", s(&b)),
        "--label",
        "org.opencontainers.image.vendor=SEP",
    ]);
    let digest = image_digest(&out_a);
    assert_eq!(digest, image_digest(&out_b), "{out_a}\n{out_b}");
    let archive = t.join("mxos.tar");
    let out_c = compose_unshared(&[
        "container",
        &c1,
        "--repo",
        &s(&build),
        "--to",
        &format!("oci-archive:{}", s(&archive)),
        "--label",
        "org.opencontainers.image.vendor=SEP",
    ]);
    assert_eq!(digest, image_digest(&out_c), "{out_c}");

    let info = inspect(&to_a, &[]);
    assert_eq!(info["Digest"], digest.as_str());
    let labels = &info["Labels"];
    assert_eq!(labels["containers.bootc"], "1");
    assert_eq!(labels["ostree.bootable"], "true");
    assert_eq!(labels["ostree.commit"], c1.as_str());
    assert_eq!(labels["org.opencontainers.image.title"], "MxOS");
    assert_eq!(labels["org.opencontainers.image.version"], "10.20251129.0");
    assert_eq!(
        labels["org.opencontainers.image.source"],
        "https://mxos.mx/"
    );
    assert_eq!(labels["org.opencontainers.image.vendor"], "SEP");
    assert!(!labels["org.opencontainers.image.licenses"]
        .as_str()
        .unwrap()
        .is_empty());
    // No SOURCE_DATE_EPOCH: the commit's own time ("Date:  2025-11-29 00:00:00 +0000").
    let show = ostree(&["--repo", &s(&build), "show", &c1]);
    let date = show
        .lines()
        .find_map(|l| l.strip_prefix("Date:"))
        .unwrap_or_else(|| panic!("{show}"))
        .trim()
        .trim_end_matches(" +0000")
        .replace(' ', "T");
    assert_eq!(info["Created"], format!("{date}Z"), "{show}");
    assert_eq!(labels["org.opencontainers.image.created"], info["Created"]);
    // Chunked by package: the commit layer, one per package/unpackaged, a reserved one.
    let layers = info["Layers"].as_array().unwrap().len();
    assert!(layers >= 8, "{info}");

    // SOURCE_DATE_EPOCH decides `created`.
    let out_d = compose_unshared_env(
        &[
            "container",
            &c1,
            "--repo",
            &s(&build),
            "--to",
            &format!("oci:{}:sde", s(&a)),
        ],
        &[("SOURCE_DATE_EPOCH", "1700000000")],
    );
    let sde = inspect(&format!("oci:{}:sde", s(&a)), &[]);
    assert_eq!(sde["Created"], "2023-11-14T22:13:20Z", "{out_d}");

    // Back into a fresh repo: the very same commit, same tree.
    let imported = t.join("imported");
    for image in [to_a.clone(), format!("oci-archive:{}", s(&archive))] {
        let repo = t.join(format!("imp-{}", image.len()));
        let out = compose(&["container-import", &image, "--repo", &s(&repo)]);
        assert_eq!(out, format!("imported {c1}\n"));
        ostree(&["--repo", &s(&repo), "fsck"]);
        assert_eq!(
            ostree(&["--repo", &s(&repo), "ls", "-R", "-C", &c1]),
            ostree(&["--repo", &s(&build), "ls", "-R", "-C", &c1])
        );
        if !imported.exists() {
            fs::rename(&repo, &imported).unwrap();
        }
    }

    // umoci gives a rootfs with the tree's files (etc as /etc, as bootc expects).
    let bundle = t.join("bundle");
    let umoci_ref = format!("{}:mxos-10", s(&a));
    tool("umoci", &["unpack", "--image", &umoci_ref, &s(&bundle)]);
    let root = bundle.join("rootfs");
    let greeting = fs::read_to_string(root.join("usr/share/mxos-hello/greeting.txt")).unwrap();
    assert!(!greeting.trim().is_empty());
    let os_release = fs::read_to_string(root.join("usr/lib/os-release")).unwrap();
    assert!(os_release.contains("NAME=\"MxOS\""), "{os_release}");
    assert!(root.join("sysroot/ostree/repo/objects").is_dir());
}

#[test]
fn push_to_registry_inspect_and_import_back() {
    let (tmp, build, c1, _) = composed_demo();
    let t = tmp.path();
    let registry = mxos_tests::Registry::start().unwrap();
    let local = format!("oci:{}:mxos-10", s(&t.join("oci")));
    let local_out = compose_unshared(&["container", &c1, "--repo", &s(&build), "--to", &local]);
    let remote = format!("docker://{}/mxos/demo:10", registry.host());
    let out = compose_unshared(&[
        "container",
        &c1,
        "--repo",
        &s(&build),
        "--to",
        &remote,
        "--tls-verify=false",
    ]);
    assert_eq!(image_digest(&out), image_digest(&local_out), "{out}");
    let info = inspect(&remote, &["--tls-verify=false"]);
    assert_eq!(
        info["Digest"],
        image_digest(&out).as_str(),
        "{}",
        registry.log()
    );
    assert_eq!(info["Labels"]["containers.bootc"], "1");
    assert_eq!(info["Labels"]["ostree.commit"], c1.as_str());

    let repo = t.join("from-registry");
    let out = compose(&[
        "container-import",
        &remote,
        "--repo",
        &s(&repo),
        "--tls-verify=false",
        "--ref",
        REF,
    ]);
    assert_eq!(out, format!("imported {c1}\n"));
    assert_eq!(ostree(&["--repo", &s(&repo), "rev-parse", REF]).trim(), c1);
}

/// Parses "update download: N layers, B of T bytes" from `container-diff`.
fn download(diff: &str) -> (usize, u64, u64) {
    let line = diff
        .lines()
        .find(|l| l.starts_with("update download: "))
        .unwrap_or_else(|| panic!("{diff}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    (
        words[2].parse().unwrap(),
        words[4].parse().unwrap(),
        words[6].parse().unwrap(),
    )
}

#[test]
fn one_package_change_touches_only_a_few_layers() {
    let (tmp, build, c1, c2) = composed_demo();
    let t = tmp.path();
    let img = |tag: &str| format!("oci:{}:{tag}", s(&t.join("oci")));
    let manifest1 = t.join("v1.manifest.json");
    compose_unshared(&[
        "container",
        &c1,
        "--repo",
        &s(&build),
        "--to",
        &img("v1"),
        "--write-manifest",
        &s(&manifest1),
    ]);
    let out = compose_unshared(&["container", &c2, "--repo", &s(&build), "--to", &img("v2")]);
    let diff = compose(&["container-diff", &img("v1"), &img("v2")]);
    eprintln!("{out}{diff}");
    let (layers, bytes, total) = download(&diff);
    // The ostree commit layer, the changed package, and the unpackaged content (its rpmdb).
    assert!(layers <= 3, "{diff}");
    assert!(bytes * 4 < total, "{diff}");
    assert!(diff.contains(" mxos-hello\n"), "{diff}");
    for unchanged in ["mxos-shell", "mxos-test-kernel", "mxos-release"] {
        assert!(!diff.contains(unchanged), "{unchanged} changed:\n{diff}");
    }
    let n_layers = inspect(&img("v2"), &[])["Layers"].as_array().unwrap().len();
    assert!(n_layers > layers + 3, "{diff}");

    // --previous-build-manifest keeps the earlier grouping of packages into layers, even a
    // grouping the packer would not choose: put mxos-hello in mxos-shell's layer.
    let mut prev: Value = serde_json::from_slice(&fs::read(&manifest1).unwrap()).unwrap();
    let layers_v = prev["layers"].as_array_mut().unwrap();
    let comp = |l: &Value| {
        l["annotations"]["ostree.components"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    let hello = layers_v
        .iter()
        .position(|l| comp(l) == "mxos-hello")
        .unwrap();
    let shell = layers_v
        .iter()
        .position(|l| comp(l) == "mxos-shell")
        .unwrap();
    layers_v[shell]["annotations"]["ostree.components"] = "mxos-shell,mxos-hello".into();
    layers_v.remove(hello);
    let crafted = t.join("crafted.json");
    fs::write(&crafted, serde_json::to_vec(&prev).unwrap()).unwrap();
    compose_unshared(&[
        "container",
        &c2,
        "--repo",
        &s(&build),
        "--to",
        &img("v2-prev"),
        "--previous-build-manifest",
        &s(&crafted),
        "--write-manifest",
        &s(&t.join("v2.manifest.json")),
    ]);
    let got: Value =
        serde_json::from_slice(&fs::read(t.join("v2.manifest.json")).unwrap()).unwrap();
    let groups: Vec<String> = got["layers"].as_array().unwrap().iter().map(comp).collect();
    // ostree-ext sorts the package names of each layer.
    let want: Vec<String> = prev["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let c = comp(l);
            let mut v: Vec<&str> = c.split(',').collect();
            v.sort();
            v.join(",")
        })
        .collect();
    assert_eq!(groups, want);
    assert!(
        groups.contains(&"mxos-hello,mxos-shell".to_owned()),
        "{groups:?}"
    );

    // --max-layers bounds the chunks (plus the ostree commit layer).
    compose_unshared(&[
        "container",
        &c2,
        "--repo",
        &s(&build),
        "--to",
        &img("v2-small"),
        "--max-layers",
        "4",
    ]);
    assert_eq!(
        inspect(&img("v2-small"), &[])["Layers"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
}

#[test]
fn bad_inputs_are_explained() {
    let (tmp, build, c1, _) = composed_demo();
    let t = tmp.path();
    let err = compose_fails(&[
        "container",
        &c1,
        "--repo",
        &s(&build),
        "--to",
        "docker-daemon:x",
    ]);
    assert!(
        err.contains("accepted: oci:DIR:TAG, oci-archive:FILE[:TAG], docker://HOST/NAME:TAG"),
        "{err}"
    );
    let junk = t.join("junk.json");
    fs::write(&junk, "{\"not\": \"a manifest\"}").unwrap();
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "--mount-proc"])
        .arg(env!("CARGO_BIN_EXE_mxos-compose"))
        .args(["container", &c1, "--repo", &s(&build), "--to"])
        .arg(format!("oci:{}:x", s(&t.join("oci"))))
        .arg("--previous-build-manifest")
        .arg(&junk)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("previous build manifest is not an OCI image manifest"),
        "{err}"
    );

    // This machine's /proc quirk: without the private procfs the error says what to do.
    let mode = {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata("/proc").unwrap().permissions().mode() & 0o777
    };
    if mode & 0o222 != 0 {
        let err = compose_fails(&[
            "container",
            &c1,
            "--repo",
            &s(&build),
            "--to",
            &format!("oci:{}:x", s(&t.join("oci-plain"))),
        ]);
        assert!(
            err.contains("unshare -m --propagation private --mount-proc"),
            "{err}"
        );
        assert!(err.contains(&format!("{mode:04o}")), "{err}");
    }
}

#[test]
fn derived_image_from_bootc_containerfile_builds_with_buildah() {
    let (tmp, build, c1, _) = composed_demo();
    let t = tmp.path();
    // The way a school gets it: FROM the registry the distribution publishes to.
    let registry = mxos_tests::Registry::start().unwrap();
    let base = format!("docker://{}/mxos/demo:10", registry.host());
    compose_unshared(&[
        "container",
        &c1,
        "--repo",
        &s(&build),
        "--to",
        &base,
        "--tls-verify=false",
    ]);
    let store = t.join("buildah");
    let buildah = |args: &[&str]| {
        let mut all = vec![
            "--root".to_owned(),
            s(&store.join("root")),
            "--runroot".to_owned(),
            s(&store.join("run")),
            "--storage-driver".to_owned(),
            "vfs".to_owned(),
        ];
        all.extend(args.iter().map(|a| a.to_string()));
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        tool("buildah", &all)
    };
    let ctx = workspace().join("bootc");
    buildah(&[
        "bud",
        "--isolation",
        "chroot",
        "--tls-verify=false",
        "--build-arg",
        &format!("BASE={base}"),
        "-t",
        "mxos-escuela:10",
        &s(&ctx),
    ]);
    let derived = format!("oci:{}:escuela", s(&t.join("derived")));
    buildah(&["push", "mxos-escuela:10", &derived]);

    let info = inspect(&derived, &[]);
    let base_local = format!("oci:{}:base", s(&t.join("base")));
    tool(
        "skopeo",
        &["copy", "--src-tls-verify=false", &base, &base_local],
    );
    assert_eq!(info["Labels"]["containers.bootc"], "1");
    assert_eq!(info["Labels"]["ostree.commit"], c1.as_str());
    assert_eq!(
        info["Labels"]["org.opencontainers.image.title"],
        "MxOS Escuela"
    );
    // Every base layer is kept (buildah recompresses when writing an OCI dir, so compare
    // the uncompressed diff_ids); the school's change is one more layer on top.
    let diff_ids = |img: &str| -> Vec<Value> {
        inspect(img, &["--config"])["rootfs"]["diff_ids"]
            .as_array()
            .unwrap()
            .clone()
    };
    let (b_ids, d_ids) = (diff_ids(&base_local), diff_ids(&derived));
    assert_eq!(d_ids.len(), b_ids.len() + 1, "{d_ids:?}");
    assert_eq!(d_ids[..b_ids.len()], b_ids[..]);

    let bundle = t.join("bundle");
    let umoci_ref = format!("{}:escuela", s(&t.join("derived")));
    tool("umoci", &["unpack", "--image", &umoci_ref, &s(&bundle)]);
    let root = bundle.join("rootfs");
    let welcome = fs::read_to_string(root.join("usr/share/mxos-escuela/bienvenida.txt")).unwrap();
    assert!(welcome.contains("MxOS"), "{welcome}");
    assert!(root.join("usr/share/mxos-hello/greeting.txt").is_file());
}
