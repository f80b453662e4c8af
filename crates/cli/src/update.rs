//! `mxos-update` subcommands: init, status, upgrade, rollback.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use mxos_agent::i18n::{Lang, Msg};
use mxos_agent::{InitRequest, UpgradeOutcome};

#[derive(Parser)]
#[command(
    name = "mxos-update",
    version,
    about = "Atomic, verified MxOS updates / Actualizaciones atómicas y verificadas de MxOS"
)]
struct Cli {
    /// The sysroot to act on (the running system by default).
    #[arg(long, global = true, default_value = "/")]
    sysroot: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Set this machine up to follow a ref of a published remote.
    Init {
        /// The remote config published with the repo (mxos.conf).
        #[arg(long)]
        remote_conf: PathBuf,
        /// Ref to follow, e.g. mxos/10/x86_64/demo.
        #[arg(long = "ref")]
        reference: String,
    },
    /// Show the deployments.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Download, verify and deploy the newest commit of the followed ref.
    Upgrade,
    /// Make the previous deployment the default again.
    Rollback,
}

/// MxOS's grub.cfg generator (overlay `mx-boot`); libostree runs it whenever the boot
/// order changes, because Debian ships no ostree-grub-generator.
const GRUB_GENERATOR: &str = "/usr/libexec/mxos/grub-bls-gen";

pub fn main() -> ExitCode {
    // Set before any thread starts; an explicit OSTREE_GRUB2_EXEC from the caller wins.
    if std::env::var_os("OSTREE_GRUB2_EXEC").is_none()
        && std::path::Path::new(GRUB_GENERATOR).exists()
    {
        std::env::set_var("OSTREE_GRUB2_EXEC", GRUB_GENERATOR);
    }
    let lang = Lang::from_env();
    match run(Cli::parse(), lang) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if e.chain()
                .any(|c| c.downcast_ref::<mxos_sign::VerifyError>().is_some())
            {
                eprintln!("{}", Msg::Refused.text(lang));
            }
            crate::report(&e);
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli, lang: Lang) -> Result<()> {
    match cli.command {
        Command::Init {
            remote_conf,
            reference,
        } => {
            let text = std::fs::read_to_string(&remote_conf)
                .with_context(|| format!("reading {}", remote_conf.display()))?;
            let remote = mxos_agent::remote_conf::parse(&text, &remote_conf.display().to_string())?;
            let refspec = mxos_agent::init(&InitRequest {
                sysroot: &cli.sysroot,
                remote: &remote,
                reference: &reference,
            })?;
            println!("{}", Msg::Initialized { refspec }.text(lang));
        }
        Command::Status { json } => {
            let st = mxos_agent::status::status(&cli.sysroot)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&st)?);
            } else {
                print!("{}", mxos_agent::status::render(&st, lang));
            }
        }
        Command::Upgrade => match mxos_agent::upgrade(&cli.sysroot)? {
            UpgradeOutcome::UpToDate { version, .. } => {
                println!(
                    "{}",
                    Msg::UpToDate {
                        version: version.unwrap_or_else(|| "-".into())
                    }
                    .text(lang)
                );
            }
            UpgradeOutcome::Deployed {
                checksum, version, ..
            } => {
                println!(
                    "{}",
                    Msg::Deployed {
                        version: version.unwrap_or_else(|| "-".into()),
                        checksum
                    }
                    .text(lang)
                );
            }
        },
        Command::Rollback => {
            let (_, version) = mxos_agent::rollback(&cli.sysroot)?;
            println!(
                "{}",
                Msg::RolledBack {
                    version: version.unwrap_or_else(|| "-".into())
                }
                .text(lang)
            );
        }
    }
    Ok(())
}
