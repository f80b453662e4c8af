//! `cargo xtask`: the project's own commands — set up the machine, run every test, run the
//! demo, measure performance. Plain Rust and `std::process`, so it works on a machine that
//! has only cargo.

mod bench;
mod demo;
mod deps;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, Context, Result};

const USAGE: &str = "usage: cargo xtask <command>

commands:
  deps    install the Debian packages the build and tests need (apt-get; root)
  test    deps, then formatting, lints, every test of the workspace, and vm-test
  vm-test deps, then the VM scenario: compose a Debian-based MxOS with mxos-update from
          its .deb, write a disk image, boot it in qemu, upgrade and roll back inside it
          (minutes)
  demo    deps, build, then compose, sign, publish and deploy the demo tree
          into target/demo on built-in defaults (no network beyond apt)
  bench   build --release, then time commits, composes, publish and delta downloads
          against the reference tools; writes docs/performance.md (minutes; not a test)
  dist    build --release, then the packages: mxos-update and mxos-compose as RPMs
          (dist/mxos-tools.spec, rpmbuild) and .debs, in target/dist
  docs    regenerate what is generated from the code and committed: man pages and shell
          completions (dist/), the corpus' expected plans; the tests fail until it is rerun";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("deps") => deps::install(),
        Some("test") => deps::install()
            .and_then(|()| test())
            .and_then(|()| vm_test()),
        Some("vm-test") => deps::install().and_then(|()| vm_test()),
        Some("demo") => deps::install().and_then(|()| demo::run_demo()),
        Some("bench") => bench::run_bench(),
        Some("docs") => docs(),
        Some("dist") => deps::install().and_then(|()| dist()),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(anyhow::anyhow!("{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            for c in e.chain().skip(1) {
                eprintln!("  caused by: {c}");
            }
            ExitCode::FAILURE
        }
    }
}

fn test() -> Result<()> {
    cargo(&["fmt", "--all", "--check"]).context("code is not formatted; run `cargo fmt --all`")?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    cargo(&["test", "--workspace", "--no-fail-fast"])
}

fn dist() -> Result<()> {
    cargo(&["build", "--release", "-p", "mxos-cli", "--bins"])?;
    let report = mxos_dist::build(&mxos_dist::DistRequest {
        workspace: workspace_root(),
        bin_dir: target_dir().join("release"),
        out_dir: target_dir().join("dist"),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })?;
    for p in report.rpms.iter().chain(&report.debs) {
        println!("{}", p.display());
    }
    Ok(())
}

/// The generated files are written by the very tests that check them (`MXOS_BLESS=1`), so
/// what `docs` writes and what `test` expects cannot drift apart.
fn docs() -> Result<()> {
    for test in ["generated", "corpus"] {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        run(Command::new(cargo)
            .args(["test", "-p", "mxos-cli", "--test", test])
            .env("MXOS_BLESS", "1")
            .current_dir(workspace_root()))?;
    }
    Ok(())
}

/// The VM scenario is one `#[ignore]`d test (too slow for `cargo test`), run explicitly.
fn vm_test() -> Result<()> {
    cargo(&[
        "test",
        "-p",
        "mxos-cli",
        "--test",
        "vm",
        "--",
        "--ignored",
        "--nocapture",
    ])
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_owned()
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

fn cargo(args: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(Command::new(cargo).args(args).current_dir(workspace_root()))
}

/// Runs a command with inherited output; failure names the command.
pub fn run(cmd: &mut Command) -> Result<()> {
    let line = format!(
        "{} {}",
        cmd.get_program().to_string_lossy(),
        cmd.get_args()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    );
    eprintln!("xtask: $ {line}");
    let status = cmd
        .stdin(std::process::Stdio::null())
        .status()
        .with_context(|| format!("starting `{line}`"))?;
    if !status.success() {
        bail!("`{line}` failed ({status})");
    }
    Ok(())
}
