//! The demo: the whole maintainer-to-device flow on the built-in demo treefile, into
//! `target/demo`, with nothing but local files.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use crate::{cargo, run, target_dir, workspace_root};

pub fn run_demo() -> Result<()> {
    cargo(&["build", "--bins", "-p", "mxos-cli", "-p", "mxos-tests"])?;
    let bin = target_dir().join("debug");
    let demo = target_dir().join("demo");
    std::fs::create_dir_all(&demo).with_context(|| format!("creating {}", demo.display()))?;

    // The demo packages are built locally with rpmbuild into /var/cache/mxos, and so is the
    // packaged agent the demo tree installs (treefiles/mxos-tools.repo).
    run(Command::new(bin.join("mxos-testkit")).arg("shared-demo-repo"))?;
    let rpms = mxos_dist::build_rpms(&mxos_dist::DistRequest {
        workspace: workspace_root(),
        bin_dir: bin.clone(),
        out_dir: demo.join("dist"),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })?;
    let agent: Vec<_> = rpms
        .iter()
        .filter(|p| p.to_string_lossy().contains("/mxos-update-"))
        .collect();
    run(Command::new(bin.join("mxos-testkit"))
        .arg("shared-tools-repo")
        .args(agent))?;
    let key = demo.join("keys/mxos");
    if !key.with_extension("secret").exists() {
        std::fs::create_dir_all(demo.join("keys"))?;
        run(Command::new(bin.join("mxos-compose"))
            .arg("keygen")
            .arg(&key))?;
    }
    let compose =
        |args: &[&std::ffi::OsStr]| run(Command::new(bin.join("mxos-compose")).args(args));
    let p = |x: &Path| x.as_os_str().to_owned();
    compose(&[
        "tree".as_ref(),
        &p(&workspace_root().join("treefiles/mxos-demo.yaml")),
        "--repo".as_ref(),
        &p(&demo.join("build-repo")),
        "--sign-key".as_ref(),
        &p(&key.with_extension("secret")),
    ])?;
    compose(&[
        "publish".as_ref(),
        "--repo".as_ref(),
        &p(&demo.join("build-repo")),
        "--to".as_ref(),
        &p(&demo.join("public")),
        "--sign-key".as_ref(),
        &p(&key.with_extension("secret")),
    ])?;
    let sysroot = demo.join("sysroot");
    let update = |args: &[&std::ffi::OsStr]| {
        run(Command::new(bin.join("mxos-update"))
            .arg("--sysroot")
            .arg(&sysroot)
            .args(args))
    };
    if !sysroot.join("ostree").exists() {
        update(&[
            "init".as_ref(),
            "--remote-conf".as_ref(),
            &p(&demo.join("public/mxos.conf")),
            "--ref".as_ref(),
            "mxos/10/x86_64/demo".as_ref(),
        ])?;
    }
    update(&["upgrade".as_ref()])?;
    update(&["status".as_ref()])?;
    println!(
        "\nDemo done. Build repo: {b}\nPublished repo (serve it with any web server): {pub_}\nA device sysroot deployed from it: {s}",
        b = demo.join("build-repo").display(),
        pub_ = demo.join("public").display(),
        s = sysroot.display()
    );
    Ok(())
}
