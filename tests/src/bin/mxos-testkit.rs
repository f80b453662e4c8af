//! Command-line access to the test kit, e.g. `mxos-testkit demo-repo DIR [--generation N]` for `cargo xtask demo`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};

const USAGE: &str = "usage: mxos-testkit demo-repo DIR [--generation N]\n       mxos-testkit bulk-repo DIR SOURCE MEGABYTES PACKAGES   (SOURCE's files as PACKAGES rpms, signed by the demo key)\n       mxos-testkit shared-demo-repo   (builds /var/cache/mxos/test-rpms/signed-gen-1 if stale, prints its path)\n       mxos-testkit shared-tools-repo RPM...   (those RPMs and the host runtime they need, in /var/cache/mxos/test-rpms/tools)";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("demo-repo") => demo_repo(&args[1..]),
        Some("bulk-repo") => {
            let [dir, source, megabytes, packages] = &args[1..] else {
                bail!("{USAGE}");
            };
            let megabytes: u64 = megabytes
                .parse()
                .with_context(|| format!("MEGABYTES {megabytes:?} is not a number"))?;
            let packages: usize = packages
                .parse()
                .with_context(|| format!("PACKAGES {packages:?} is not a number"))?;
            let pkgs = mxos_tests::bulk_packages(
                std::path::Path::new(source),
                megabytes * 1_000_000,
                packages,
            )?;
            // Signed like the demo packages, so a compose can check them as it would check
            // a distribution's.
            let signer = mxos_tests::Signer::demo()?;
            mxos_tests::build_signed_repo(std::path::Path::new(dir), &pkgs, Some(&signer))
                .with_context(|| format!("building bulk repo in {dir}"))
        }
        Some("shared-demo-repo") => {
            println!("{}", mxos_tests::shared_demo_repo(1)?.display());
            Ok(())
        }
        Some("shared-tools-repo") => {
            let rpms: Vec<PathBuf> = args[1..].iter().map(PathBuf::from).collect();
            if rpms.is_empty() {
                bail!("{USAGE}");
            }
            println!("{}", mxos_tests::shared_tools_repo(&rpms)?.display());
            Ok(())
        }
        Some("-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => bail!("{USAGE}"),
    }
}

fn demo_repo(args: &[String]) -> Result<()> {
    let mut dir = None;
    let mut generation = 1;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--generation" => {
                let value = it
                    .next()
                    .with_context(|| format!("--generation needs a value\n{USAGE}"))?;
                generation = value
                    .parse()
                    .with_context(|| format!("--generation {value:?} is not a number"))?;
            }
            other if other.starts_with("--generation=") => {
                let value = &other["--generation=".len()..];
                generation = value
                    .parse()
                    .with_context(|| format!("--generation {value:?} is not a number"))?;
            }
            other if other.starts_with('-') => bail!("unknown option {other}\n{USAGE}"),
            other if dir.is_none() => dir = Some(PathBuf::from(other)),
            other => bail!("unexpected argument {other}\n{USAGE}"),
        }
    }
    let dir = dir.with_context(|| format!("missing DIR\n{USAGE}"))?;
    mxos_tests::build_demo_repo(&dir, generation)
        .with_context(|| format!("building demo repo in {}", dir.display()))?;
    eprintln!(
        "demo repo generation {generation} written to {}",
        dir.display()
    );
    Ok(())
}
