//! `mxos-update` subcommands: init, status, upgrade, rollback.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{CommandFactory, Parser, Subcommand};
use mxos_agent::config::RebootPolicy;
use mxos_agent::i18n::{Lang, Msg};
use mxos_agent::machine::State;
use mxos_agent::{cycle, state, Device, InitRequest, UpgradeOutcome};

use crate::now;

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
    #[command(flatten)]
    verbosity: crate::log::Verbosity,
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
    /// Download, verify and deploy the newest commit of the followed ref (ignores fleet manifests).
    Upgrade,
    /// Ask the remote (the channel's signed manifest, or the ref) what this machine should run.
    Check,
    /// Check, then download the offered commit without installing it.
    Download,
    /// Install the downloaded commit for the next boot.
    Apply,
    /// One update cycle, as the timer runs it.
    Run {
        /// never | window | now (default: the configuration's `reboot`).
        #[arg(long)]
        reboot: Option<String>,
    },
    /// Check the version on trial after it booted; roll back if unhealthy.
    HealthCheck {
        /// Reboot into the previous version when the checks fail.
        #[arg(long)]
        reboot: bool,
    },
    /// Make the previous deployment the default again.
    Rollback,
}

/// MxOS's grub.cfg generator (overlay `mx-boot`); libostree runs it whenever the boot
/// order changes, because Debian ships no ostree-grub-generator.
const GRUB_GENERATOR: &str = "/usr/libexec/mxos/grub-bls-gen";

/// The command line as clap knows it: man pages and completions are generated from it.
pub fn command() -> clap::Command {
    Cli::command()
}

pub fn main() -> ExitCode {
    // Set before any thread starts; an explicit OSTREE_GRUB2_EXEC from the caller wins.
    if std::env::var_os("OSTREE_GRUB2_EXEC").is_none()
        && std::path::Path::new(GRUB_GENERATOR).exists()
    {
        std::env::set_var("OSTREE_GRUB2_EXEC", GRUB_GENERATOR);
    }
    let lang = Lang::from_env();
    let cli = Cli::parse();
    crate::log::init("mxos-update", &cli.verbosity);
    match run(cli, lang) {
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
        Command::Upgrade => {
            let device = Device::open(&cli.sysroot)?;
            let settings = cycle::settings(&device.root())?;
            drop(device);
            match mxos_agent::upgrade(&cli.sysroot, settings.max_boot_attempts)? {
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
            }
        }
        Command::Check => {
            let device = Device::open(&cli.sysroot)?;
            let settings = cycle::settings(&device.root())?;
            println!(
                "{}",
                found_text(&cycle::check(&device, &settings, lang, now())?, lang)
            );
        }
        Command::Download => {
            let device = Device::open(&cli.sysroot)?;
            let settings = cycle::settings(&device.root())?;
            let found = cycle::check(&device, &settings, lang, now())?;
            if let cycle::Found::Update { commit, version } = &found {
                device.download(commit)?;
                let dir = device.state_dir();
                let mut st = state::load(&dir)?;
                st.machine = State::Downloaded {
                    commit: commit.clone(),
                    version: version.clone(),
                };
                state::save(&dir, &st)?;
            }
            println!("{}", found_text(&found, lang));
        }
        Command::Apply => {
            let device = Device::open(&cli.sysroot)?;
            let settings = cycle::settings(&device.root())?;
            let dir = device.state_dir();
            let mut st = state::load(&dir)?;
            let State::Downloaded { commit, version } = st.machine.clone() else {
                anyhow::bail!("nothing downloaded to apply; run `mxos-update download` first");
            };
            device.deploy(&commit, settings.max_boot_attempts)?;
            st = state::load(&dir)?;
            st.machine = State::Staged {
                commit: commit.clone(),
                version: version.clone(),
            };
            state::save(&dir, &st)?;
            println!(
                "{}",
                Msg::Deployed {
                    version,
                    checksum: commit
                }
                .text(lang)
            );
        }
        Command::Run { reboot } => {
            let policy = reboot
                .as_deref()
                .map(RebootPolicy::parse)
                .transpose()
                .map_err(anyhow::Error::msg)?;
            let booted = cli.sysroot == std::path::Path::new("/");
            for line in cycle::run(&cli.sysroot, policy, lang, now(), booted)? {
                println!("{line}");
            }
        }
        Command::HealthCheck { reboot } => {
            let result = cycle::health_check(&cli.sysroot, None)?;
            println!("{}", health_text(&result, lang));
            if let cycle::Health::RolledBack { .. } = result {
                if reboot && cli.sysroot == std::path::Path::new("/") {
                    std::process::Command::new("systemctl")
                        .arg("reboot")
                        .status()?;
                }
                anyhow::bail!(
                    "{}",
                    match lang {
                        Lang::Es => "la versión nueva no pasó las revisiones de salud",
                        Lang::En => "the new version failed its health checks",
                    }
                );
            }
        }
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

fn found_text(found: &cycle::Found, lang: Lang) -> String {
    match (found, lang) {
        (cycle::Found::UpToDate, Lang::Es) => "El sistema está al día.".into(),
        (cycle::Found::UpToDate, Lang::En) => "The system is up to date.".into(),
        (cycle::Found::Update { version, .. }, Lang::Es) => {
            format!("Hay una actualización disponible: {version}.")
        }
        (cycle::Found::Update { version, .. }, Lang::En) => {
            format!("An update is available: {version}.")
        }
        (cycle::Found::Blocked(why) | cycle::Found::Waiting(why), _) => why.clone(),
    }
}

fn health_text(h: &cycle::Health, lang: Lang) -> String {
    let short = |c: &str| c[..c.len().min(12)].to_owned();
    match (h, lang) {
        (cycle::Health::NothingToCheck, Lang::Es) => {
            "No hay ninguna versión nueva en prueba.".into()
        }
        (cycle::Health::NothingToCheck, Lang::En) => "No new version is on trial.".into(),
        (cycle::Health::Healthy { commit }, Lang::Es) => {
            format!("La versión {} pasó las revisiones de salud.", short(commit))
        }
        (cycle::Health::Healthy { commit }, Lang::En) => {
            format!("Version {} passed its health checks.", short(commit))
        }
        (cycle::Health::RolledBack { commit, failures }, lang) => {
            let list: Vec<String> = failures
                .iter()
                .map(|f| format!("{}: {}", f.check, f.detail))
                .collect();
            match lang {
                Lang::Es => format!(
                    "La versión {} falló las revisiones ({}); se regresa a la versión anterior.",
                    short(commit),
                    list.join("; ")
                ),
                Lang::En => format!(
                    "Version {} failed its health checks ({}); returning to the previous version.",
                    short(commit),
                    list.join("; ")
                ),
            }
        }
        (cycle::Health::FellBack { commit }, Lang::Es) => format!(
            "La versión {} no logró arrancar; el equipo volvió a la versión anterior.",
            short(commit)
        ),
        (cycle::Health::FellBack { commit }, Lang::En) => format!(
            "Version {} did not manage to boot; the machine went back to the previous version.",
            short(commit)
        ),
    }
}
