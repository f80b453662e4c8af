//! Running the real binaries from tests, and a throwaway MxOS project around them.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn show(what: &str, args: &[&str], out: &Output) -> String {
    format!(
        "{what} {}\nstatus: {}\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn exec(bin: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .env("LANG", "C.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("SOURCE_DATE_EPOCH");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Runs `mxos-compose`, expecting success; returns stdout.
pub fn compose(args: &[&str]) -> String {
    let out = exec(env!("CARGO_BIN_EXE_mxos-compose"), args, &[]);
    assert!(out.status.success(), "{}", show("mxos-compose", args, &out));
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `mxos-compose`, expecting success; returns stdout and stderr (warnings).
pub fn compose_with_stderr(args: &[&str]) -> (String, String) {
    let out = exec(env!("CARGO_BIN_EXE_mxos-compose"), args, &[]);
    assert!(out.status.success(), "{}", show("mxos-compose", args, &out));
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// `mxos-compose tree TREEFILE --repo BUILD --sign-key KEY` with the project's overlays,
/// expecting success; returns stdout.
pub fn compose_signed(treefile: &Path, build: &Path, key: &Path) -> String {
    let overlays = workspace().join("overlays");
    compose(&[
        "tree",
        treefile.to_str().unwrap(),
        "--repo",
        build.to_str().unwrap(),
        "--sign-key",
        key.to_str().unwrap(),
        "--overlays",
        overlays.to_str().unwrap(),
    ])
}

/// `mxos-compose publish --repo BUILD --to PUBLIC --sign-key KEY --url URL EXTRA...`,
/// expecting success; returns stdout.
pub fn publish(build: &Path, public: &Path, key: &Path, url: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "publish",
        "--repo",
        build.to_str().unwrap(),
        "--to",
        public.to_str().unwrap(),
        "--sign-key",
        key.to_str().unwrap(),
        "--url",
        url,
    ];
    args.extend_from_slice(extra);
    compose(&args)
}

/// Runs `mxos-compose`, expecting failure; returns stderr.
pub fn compose_fails(args: &[&str]) -> String {
    let out = exec(env!("CARGO_BIN_EXE_mxos-compose"), args, &[]);
    assert!(
        !out.status.success(),
        "{}",
        show("mxos-compose", args, &out)
    );
    String::from_utf8(out.stderr).unwrap()
}

pub fn update(sysroot: &Path, args: &[&str]) -> String {
    update_env(sysroot, args, &[])
}

pub fn update_env(sysroot: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut all = vec!["--sysroot", sysroot.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = exec(env!("CARGO_BIN_EXE_mxos-update"), &all, env);
    assert!(out.status.success(), "{}", show("mxos-update", &all, &out));
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `mxos-update` and returns its exit status, stdout and stderr, whatever they are.
pub fn update_run(sysroot: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut all = vec!["--sysroot", sysroot.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = exec(env!("CARGO_BIN_EXE_mxos-update"), &all, env);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// `mxos-update check` that finds nothing to take: exit status 77; returns stdout.
pub fn check_no_update(sysroot: &Path, env: &[(&str, &str)]) -> String {
    let (code, out, err) = update_run(sysroot, &["check"], env);
    assert_eq!(code, 77, "check: stdout {out}\nstderr {err}");
    out
}

pub fn update_fails(sysroot: &Path, args: &[&str]) -> String {
    let mut all = vec!["--sysroot", sysroot.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = exec(env!("CARGO_BIN_EXE_mxos-update"), &all, &[]);
    assert!(!out.status.success(), "{}", show("mxos-update", &all, &out));
    String::from_utf8(out.stderr).unwrap()
}

/// The checksum in "committed <sum> on ..." output.
pub fn committed(stdout: &str) -> String {
    let rest = stdout
        .strip_prefix("committed ")
        .unwrap_or_else(|| panic!("not a commit: {stdout}"));
    rest[..64].to_owned()
}

/// The default deployment's checksum and the full order, from `status --json`.
pub fn deployments(sysroot: &Path) -> Vec<String> {
    let json: serde_json::Value =
        serde_json::from_str(&update(sysroot, &["status", "--json"])).unwrap();
    json["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["checksum"].as_str().unwrap().to_owned())
        .collect()
}

/// The demo treefile's lines that install the packaged agent (`cargo xtask dist`'s RPM and
/// the host runtime it needs, ~70 MB): most tests compose the demo tree without them, to
/// stay fast; `demo_agent_rpm.rs` composes the whole list.
pub const DEMO_AGENT_LINES: [&str; 3] = [
    "  - mxos-tools\n",
    "  # The device agent, packaged by `cargo xtask dist` (its man pages need `documentation`).\n",
    "  - mxos-update\n",
];

/// The packaged agent's repo that `treefiles/mxos-tools.repo` names: `mxos-update` as
/// `mxos_dist` packages the binaries under test, with the host runtime it needs (shared by
/// every test process; rebuilt only when the package's content changes).
pub fn shared_tools_repo() -> PathBuf {
    let out = tempfile::tempdir().unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_mxos-update"))
        .parent()
        .unwrap();
    let rpms = mxos_dist::build_rpms(&mxos_dist::DistRequest {
        workspace: workspace(),
        bin_dir: bin_dir.to_owned(),
        out_dir: out.path().to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
    .unwrap();
    let agent: Vec<PathBuf> = rpms
        .into_iter()
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("mxos-update-")
        })
        .collect();
    assert_eq!(agent.len(), 1, "one mxos-update RPM");
    mxos_tests::shared_tools_repo(&agent).unwrap()
}

/// A treefile like the demo one, without the packaged agent, in its own directory,
/// installing from `rpm_repo` and checking its signatures with the demo key beside it.
pub fn demo_treefile(dir: &Path, rpm_repo: &Path, extra: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let mut text = std::fs::read_to_string(workspace().join("treefiles/mxos-demo.yaml")).unwrap();
    for line in DEMO_AGENT_LINES {
        assert!(
            text.contains(line),
            "treefiles/mxos-demo.yaml no longer has {line:?}"
        );
        text = text.replacen(line, "", 1);
    }
    std::fs::write(dir.join("mxos-demo.yaml"), format!("{text}{extra}")).unwrap();
    std::fs::copy(
        workspace().join("treefiles/RPM-GPG-KEY-mxos-demo"),
        dir.join("RPM-GPG-KEY-mxos-demo"),
    )
    .unwrap();
    std::fs::write(
        dir.join("mxos-demo.repo"),
        format!(
            "[mxos-demo]\nname=demo\nbaseurl=file://{}\ngpgkey=RPM-GPG-KEY-mxos-demo\n",
            rpm_repo.display()
        ),
    )
    .unwrap();
    dir.join("mxos-demo.yaml")
}

/// Runs the stock `ostree` CLI; `["--repo", R, verb, ...]` is reordered to the
/// `verb --repo=R ...` form it requires.
pub fn ostree(args: &[&str]) -> String {
    let args: Vec<String> = match args {
        ["--repo", repo, verb, rest @ ..] => {
            let mut v = vec![verb.to_string(), format!("--repo={repo}")];
            v.extend(rest.iter().map(|a| a.to_string()));
            v
        }
        _ => args.iter().map(|a| a.to_string()).collect(),
    };
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let args = args.as_slice();
    let out = Command::new("ostree").args(args).output().unwrap();
    assert!(out.status.success(), "{}", show("ostree", args, &out));
    String::from_utf8(out.stdout).unwrap()
}

pub mod gpg;

/// Commits a tiny OS-shaped tree (kernel and initramfs under /usr/lib/modules, /usr/etc)
/// on `reference` in `build` with the stock `ostree` CLI: enough for libostree to deploy,
/// in a second instead of a dnf compose. Returns the checksum.
pub fn tiny_os_commit(build: &Path, reference: &str, version: &str, timestamp: &str) -> String {
    tiny_os_commit_with(build, reference, version, timestamp, &[])
}

/// [`tiny_os_commit`] with more files: (path in the tree, content).
pub fn tiny_os_commit_with(
    build: &Path,
    reference: &str,
    version: &str,
    timestamp: &str,
    files: &[(&str, &[u8])],
) -> String {
    let tree = tempfile::tempdir().unwrap();
    let t = tree.path();
    for (path, content) in files {
        let p = t.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    let modules = t.join("usr/lib/modules/6.1.0-mxos");
    std::fs::create_dir_all(&modules).unwrap();
    std::fs::write(modules.join("vmlinuz"), format!("kernel {version}\n")).unwrap();
    std::fs::write(modules.join("initramfs.img"), "initramfs\n").unwrap();
    std::fs::create_dir_all(t.join("usr/etc")).unwrap();
    std::fs::write(t.join("usr/etc/hostname"), "mxos\n").unwrap();
    std::fs::write(
        t.join("usr/lib/os-release"),
        format!("NAME=\"MxOS\"\nID=mxos\nVERSION_ID={version}\n"),
    )
    .unwrap();
    if !build.join("config").exists() {
        // Bound to MxOS's collection as composes are: `ostree commit` then writes the bindings.
        ostree(&[
            "--repo",
            build.to_str().unwrap(),
            "init",
            "--mode=archive",
            &format!("--collection-id={}", mxos_repo::DEFAULT_COLLECTION_ID),
        ]);
    }
    ostree(&[
        "--repo",
        build.to_str().unwrap(),
        "commit",
        &format!("--branch={reference}"),
        &format!("--tree=dir={}", t.display()),
        &format!("--timestamp={timestamp}"),
        &format!("--add-metadata-string=version={version}"),
        "--add-metadata=ostree.bootable=true",
        "--owner-uid=0",
        "--owner-gid=0",
    ])
    .trim()
    .to_owned()
}

/// The default deployment's checksum and directory.
pub fn default_deployment(sysroot: &Path) -> (String, std::path::PathBuf) {
    let json: serde_json::Value =
        serde_json::from_str(&update(sysroot, &["status", "--json"])).unwrap();
    let d = &json["deployments"][0];
    let checksum = d["checksum"].as_str().unwrap().to_owned();
    let base = sysroot.join("ostree/deploy/mxos/deploy");
    let dir = std::fs::read_dir(&base)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.starts_with(&checksum) && !n.ends_with(".origin")
        });
    (checksum, dir.unwrap())
}

/// `mxos-compose fleet ARGS` on the published repo `public`, signed with `key`.
pub fn fleet(public: &Path, key: &str, args: &[&str]) -> String {
    let mut all = vec!["fleet"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--public", public.to_str().unwrap(), "--sign-key", key]);
    compose(&all)
}
