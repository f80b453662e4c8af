//! A tiny signed Debian mirror: .debs built with dpkg-deb, indexed with dpkg-scanpackages,
//! and a `Release`/`InRelease` signed by a test key.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use crate::run;
use crate::signing::Signer;

/// A data-only package: `files` are (absolute path, contents).
pub struct Deb<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub files: &'a [(&'a str, &'a str)],
}

/// Builds `debs` into `root/pool`, indexes them as `dists/SUITE/main/binary-amd64`, and
/// writes `Release` with its detached signature and `InRelease`, signed by `signer`.
pub fn build_mirror(root: &Path, suite: &str, debs: &[Deb], signer: &Signer) -> Result<()> {
    let pool = root.join("pool");
    fs::create_dir_all(&pool).with_context(|| format!("creating {}", pool.display()))?;
    let stage = tempfile::tempdir().context("creating a dpkg-deb staging dir")?;
    for deb in debs {
        let dir = stage.path().join(deb.name);
        fs::create_dir_all(dir.join("DEBIAN"))?;
        fs::write(
            dir.join("DEBIAN/control"),
            format!(
                "Package: {}\nVersion: {}\nArchitecture: all\nMaintainer: MxOS tests <tests@mxos.invalid>\nPriority: optional\nDescription: MxOS test package {}\n",
                deb.name, deb.version, deb.name
            ),
        )?;
        for (path, contents) in deb.files {
            let dest = dir.join(path.trim_start_matches('/'));
            fs::create_dir_all(dest.parent().context("a file path without parent")?)?;
            fs::write(&dest, contents).with_context(|| format!("writing {}", dest.display()))?;
        }
        run(Command::new("dpkg-deb")
            .env("SOURCE_DATE_EPOCH", crate::rpms::SOURCE_DATE_EPOCH)
            .args(["--root-owner-group", "--build"])
            .arg(&dir)
            .arg(pool.join(format!("{}_{}_all.deb", deb.name, deb.version))))?;
    }
    let dists = root.join("dists").join(suite);
    let index = dists.join("main/binary-amd64");
    fs::create_dir_all(&index).with_context(|| format!("creating {}", index.display()))?;
    let packages = run(Command::new("dpkg-scanpackages")
        .current_dir(root)
        .args(["pool", "/dev/null"]))?;
    fs::write(index.join("Packages"), &packages)?;
    let sum = run(Command::new("sha256sum").arg(index.join("Packages")))?;
    let mut release = format!(
        "Origin: MxOS tests\nSuite: {suite}\nCodename: {suite}\nDate: Sat, 29 Nov 2025 00:00:00 UTC\nArchitectures: amd64\nComponents: main\nSHA256:\n"
    );
    let _ = writeln!(
        release,
        " {} {} main/binary-amd64/Packages",
        sum.split_whitespace().next().unwrap_or_default(),
        packages.len()
    );
    fs::write(dists.join("Release"), release)?;
    signer.sign_file(&dists.join("Release"), &dists.join("Release.gpg"), false)?;
    signer.sign_file(&dists.join("Release"), &dists.join("InRelease"), true)?;
    Ok(())
}
