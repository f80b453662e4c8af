//! The dnf demo tree installs the device agent from its RPM (`mxos_dist`, as `cargo xtask
//! dist` builds it) through its normal package list: dnf resolves the RPM's ELF
//! dependencies, gpgcheck passes, and the commit holds a working agent: rpm knows the
//! package, its units, settings, man pages (English and es-MX) and completions are where the
//! spec puts them, and the agent as installed, run inside the deployed tree with nothing of
//! the host but the kernel, reports its own deployment with `status --json`.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::*;

const REF: &str = "mxos/10/x86_64/demo";

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

/// Runs PROGRAM ARGS inside `root` (bubblewrap; `binds` are (host, inside) pairs).
fn inside(root: &Path, binds: &[(&Path, &str)], env: &[(&str, &str)], args: &[&str]) -> String {
    let mut cmd = Command::new("bwrap");
    cmd.arg("--bind").arg(root).arg("/");
    for (host, at) in binds {
        cmd.arg("--bind").arg(host).arg(at);
    }
    cmd.args(["--proc", "/proc", "--dev", "/dev"])
        .args(["--setenv", "PATH", "/usr/bin:/usr/sbin"])
        .args(["--unsetenv", "LC_ALL"]);
    for (k, v) in env {
        cmd.args(["--setenv", k, v]);
    }
    let out = cmd.args(args).env_clear().output().unwrap();
    assert!(
        out.status.success(),
        "{args:?} in {}: {}\n{}",
        root.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_demo_tree_installs_the_agent_from_its_rpm_and_the_agent_runs_there() {
    mxos_tests::shared_demo_repo(1).unwrap();
    shared_tools_repo();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (build, public, sysroot) = (t.join("build"), t.join("public"), t.join("sysroot"));
    compose(&["keygen", &s(&t.join("mxos"))]);
    let key = t.join("mxos.secret");
    let overlays = s(&workspace().join("overlays"));
    // The treefile itself, as maintainers and `cargo xtask demo` use it.
    let out = compose(&[
        "tree",
        &s(&workspace().join("treefiles/mxos-demo.yaml")),
        "--repo",
        &s(&build),
        "--cachedir",
        &s(&t.join("cache")),
        "--sign-key",
        &s(&key),
        "--overlays",
        &overlays,
    ]);
    let commit = committed(&out);
    assert!(out.contains(", 9 packages, signed"), "{out}");

    let co = t.join("co");
    ostree(&["--repo", &s(&build), "checkout", "-U", &commit, &s(&co)]);
    let rpmdb = co.join("usr/lib/sysimage/rpm");
    let q = Command::new("rpm")
        .arg("--dbpath")
        .arg(&rpmdb)
        .args(["-q", "mxos-update", "mxos-demo-runtime"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&q.stdout),
        format!(
            "mxos-update-{v}-1.x86_64\nmxos-demo-runtime-1.0-1.x86_64\n",
            v = env!("CARGO_PKG_VERSION")
        ),
        "{}",
        String::from_utf8_lossy(&q.stderr)
    );
    for path in [
        "usr/bin/mxos-update",
        "usr/lib/systemd/system/mxos-update.service",
        "usr/lib/systemd/system/mxos-update.timer",
        "usr/lib/systemd/system/mxos-health.service",
        "usr/lib/systemd/system-preset/80-mxos-update.preset",
        "usr/share/man/man1/mxos-update.1.gz",
        "usr/share/man/man1/mxos-update-status.1.gz",
        "usr/share/man/es/man1/mxos-update.1.gz",
        "usr/share/bash-completion/completions/mxos-update",
        "usr/share/zsh/site-functions/_mxos-update",
        "usr/share/fish/vendor_completions.d/mxos-update.fish",
    ] {
        assert!(co.join(path).is_file(), "{path} is not in the commit");
    }
    assert_eq!(
        fs::read(co.join("usr/lib/mxos/update.d/00-mxos-defaults.toml")).unwrap(),
        fs::read(workspace().join("dist/00-mxos-defaults.toml")).unwrap()
    );

    // The packaged binary runs on the tree's own libraries, in either language.
    assert_eq!(
        inside(&co, &[], &[], &["/usr/bin/mxos-update", "--version"]),
        format!("mxos-update {}\n", env!("CARGO_PKG_VERSION"))
    );
    let help = inside(
        &co,
        &[],
        &[("LANG", "es_MX.UTF-8")],
        &["/usr/bin/mxos-update", "--help"],
    );
    assert!(help.contains("\nUso: mxos-update"), "{help}");

    // Deployed on a machine, it reports its own deployment.
    fs::create_dir_all(&public).unwrap();
    let nginx = mxos_tests::Nginx::serve(&public).unwrap();
    publish(&build, &public, &key, &nginx.url(), &[]);
    update(
        &sysroot,
        &[
            "init",
            "--remote-conf",
            &s(&public.join("mxos.conf")),
            "--ref",
            REF,
        ],
    );
    update(&sysroot, &["upgrade"]);
    let base = sysroot.join("ostree/deploy/mxos/deploy");
    let deployed = fs::read_dir(&base)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| !p.to_string_lossy().ends_with(".origin"))
        .unwrap();
    let status = inside(
        &deployed,
        &[(&sysroot, "/sysroot")],
        &[],
        &[
            "/usr/bin/mxos-update",
            "--sysroot",
            "/sysroot",
            "status",
            "--json",
        ],
    );
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["schema"], "mxos-update-status/1");
    assert_eq!(status["deployments"][0]["checksum"], commit.as_str());
    assert_eq!(status["deployments"].as_array().unwrap().len(), 1);
    drop(nginx);
}
