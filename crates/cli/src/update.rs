//! `mxos-update`: init, status, check, download, apply, upgrade, run, health-check, rollback,
//! and the installer stick's install.
//!
//! Every sentence it prints, its errors and its `--help` come from the agent's catalogue
//! (es-MX or English by the locale); `--json` prints one object per command, and the exit
//! status is 0, 1 on failure, 2 for a bad command line, 77 when `check` finds nothing to do.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Arg, ArgAction, CommandFactory, FromArgMatches, Parser, Subcommand};
use mxos_agent::config::RebootPolicy;
use mxos_agent::i18n::{self, Lang, Text};
use mxos_agent::machine::State;
use mxos_agent::{cycle, events, state, t, Device, InitRequest, UpgradeOutcome};

use crate::now;
use crate::output::emit;
use crate::update_reports::*;

/// The help texts below are for developers; what people read comes from the catalogue
/// (`cli-*` messages), applied by [`command_in`].
#[derive(Parser)]
#[command(name = "mxos-update", version, about = "Atomic, verified MxOS updates")]
struct Cli {
    /// The sysroot to act on (the running system by default).
    #[arg(long, global = true, default_value = "/")]
    sysroot: PathBuf,
    /// Print the result as JSON.
    #[arg(long, global = true)]
    json: bool,
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
    Status,
    /// Download, verify and deploy the newest commit of the followed ref (ignores fleet manifests).
    Upgrade,
    /// Ask the remote what this machine should run.
    Check {
        /// Read updates only from this directory (an update drive's `mxos`), not the network.
        #[arg(long)]
        from: Option<PathBuf>,
    },
    /// Check, then download the offered commit without installing it.
    Download {
        /// Read updates only from this directory (an update drive's `mxos`), not the network.
        #[arg(long)]
        from: Option<PathBuf>,
    },
    /// Install the downloaded commit for the next boot.
    Apply,
    /// One update cycle, as the timer runs it.
    Run {
        /// never | window | now.
        #[arg(long)]
        reboot: Option<String>,
        /// Read updates only from this directory (an update drive's `mxos`), not the network.
        #[arg(long)]
        from: Option<PathBuf>,
    },
    /// Check the version on trial after it booted; roll back if unhealthy.
    HealthCheck {
        /// Reboot into the previous version when the checks fail.
        #[arg(long)]
        reboot: bool,
    },
    /// Make the previous deployment the default again.
    Rollback,
    /// Install MxOS on this machine's disk from the installer stick it booted from.
    Install {
        /// The stick's payload directory.
        #[arg(long, default_value = "/sysroot/mxos-installer")]
        from: PathBuf,
    },
}

/// `check` (and `download`) found nothing to take now, as `rpm-ostree upgrade --check` says.
const EXIT_NO_UPDATE: u8 = 77;

/// MxOS's grub.cfg generator (overlay `mx-boot`); libostree runs it whenever the boot
/// order changes, because Debian ships no ostree-grub-generator.
const GRUB_GENERATOR: &str = "/usr/libexec/mxos/grub-bls-gen";

/// The command line in English, as the man pages and completions are generated from it.
pub fn command() -> clap::Command {
    command_in(Lang::En)
}

/// The command line with every help text from `lang`'s catalogue: `cli-about`, `cli-SUB`
/// for a subcommand, `cli-SUB-ARG` for its arguments, `cli-arg-ARG` for the global ones.
pub fn command_in(lang: Lang) -> clap::Command {
    let say = |id: &str| i18n::lookup(id, lang).unwrap_or_else(|| id.to_owned());
    let mut cmd = Cli::command()
        .about(say("cli-about"))
        .after_long_help(say("cli-after-help"))
        .disable_help_subcommand(true)
        .disable_version_flag(true)
        .arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help(say("cli-arg-version"))
                .help_heading(say("cli-heading-options")),
        );
    cmd = localize_args(cmd, "arg", &say, true).mut_arg("sysroot", |a| a.hide_default_value(true));
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    for name in subs {
        cmd = cmd.mut_subcommand(&name, |sub| {
            let mut sub = sub.about(say(&format!("cli-{name}")));
            if let Some(extra) = i18n::lookup(&format!("cli-{name}-after-help"), lang) {
                sub = sub.after_long_help(extra);
            }
            localize_args(sub, &name, &say, false)
        });
    }
    cmd.subcommand_help_heading(say("cli-heading-commands"))
        .help_template(help_template(&say))
        .subcommand_value_name(say("cli-value-command"))
}

/// Sets each argument's help and heading, and replaces clap's English `--help` flag.
fn localize_args(
    cmd: clap::Command,
    prefix: &str,
    say: &dyn Fn(&str) -> String,
    root: bool,
) -> clap::Command {
    let ids: Vec<String> = cmd
        .get_arguments()
        .filter(|a| root || !a.is_global_set())
        .map(|a| a.get_id().to_string())
        .filter(|id| id != "version")
        .collect();
    let mut cmd = cmd.disable_help_flag(true).arg(
        Arg::new("help")
            .short('h')
            .long("help")
            .action(ArgAction::Help)
            .help(say("cli-arg-help")),
    );
    for id in ids {
        let key = format!("cli-{prefix}-{id}");
        let help = say(&key);
        cmd = cmd.mut_arg(&id, |a| {
            let heading = if a.is_positional() {
                say("cli-heading-arguments")
            } else {
                say("cli-heading-options")
            };
            a.help(help).help_heading(heading)
        });
    }
    cmd.mut_arg("help", |a| a.help_heading(say("cli-heading-options")))
        .help_template(help_template(say))
}

/// clap's default layout with the "Usage:" heading from the catalogue.
fn help_template(say: &dyn Fn(&str) -> String) -> String {
    format!(
        "{{before-help}}{{about-with-newline}}\n{} {{usage}}\n\n{{all-args}}{{after-help}}",
        say("cli-heading-usage")
    )
}

pub fn main() -> ExitCode {
    // Set before any thread starts; an explicit OSTREE_GRUB2_EXEC from the caller wins.
    if std::env::var_os("OSTREE_GRUB2_EXEC").is_none()
        && std::path::Path::new(GRUB_GENERATOR).exists()
    {
        std::env::set_var("OSTREE_GRUB2_EXEC", GRUB_GENERATOR);
    }
    let lang = Lang::from_env();
    i18n::set_process_lang(lang);
    let cli = match command_in(lang)
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => usage_error(e),
    };
    crate::log::init("mxos-update", &cli.verbosity);
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            if e.chain()
                .any(|c| c.downcast_ref::<mxos_sign::VerifyError>().is_some())
            {
                eprintln!("{}", t!("refused-headline"));
            }
            tracing::debug!("{e:#}");
            report(&e);
            ExitCode::FAILURE
        }
    }
}

/// A command line that does not parse, said from the catalogue; exit status 2. Help and
/// version requests are clap's own (status 0).
fn usage_error(e: clap::Error) -> ! {
    use clap::error::{ContextKind, ErrorKind};
    let ctx = |k| e.get(k).map(|v| v.to_string()).unwrap_or_default();
    let text = match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => e.exit(),
        ErrorKind::InvalidSubcommand => {
            t!(
                "usage-unknown-command",
                command = ctx(ContextKind::InvalidSubcommand)
            )
        }
        ErrorKind::UnknownArgument => {
            t!(
                "usage-unknown-argument",
                argument = ctx(ContextKind::InvalidArg)
            )
        }
        ErrorKind::MissingRequiredArgument => {
            t!(
                "usage-missing-argument",
                argument = ctx(ContextKind::InvalidArg)
            )
        }
        ErrorKind::MissingSubcommand => t!("usage-missing-command"),
        ErrorKind::InvalidValue => t!(
            "usage-invalid-value",
            value = ctx(ContextKind::InvalidValue),
            argument = ctx(ContextKind::InvalidArg)
        ),
        _ => {
            let first = e.to_string();
            let first = first.lines().next().unwrap_or_default();
            t!("usage-other", detail = first.trim_start_matches("error: "))
        }
    };
    eprintln!("{}", t!("error-line", message = text));
    for kind in [ContextKind::SuggestedSubcommand, ContextKind::SuggestedArg] {
        if let Some(s) = e.get(kind) {
            eprintln!("{}", t!("usage-did-you-mean", suggestion = s));
        }
    }
    eprintln!("{}", t!("usage-more-help"));
    std::process::exit(2)
}

/// The error and its causes, each in the machine's language where the catalogue has it.
fn report(err: &anyhow::Error) {
    let step = err.downcast_ref::<mxos_repo::Step>();
    for (n, cause) in err.chain().enumerate() {
        let message = if let Some(v) = cause.downcast_ref::<mxos_sign::VerifyError>() {
            verify_text(v).to_string()
        } else if let Some(r) = cause.downcast_ref::<mxos_repo::SysrootRefusal>() {
            mxos_agent::causes::refusal_text(r).to_string()
        } else if let Some(step) = step.filter(|s| s.to_string() == cause.to_string()) {
            // A context layer is found by anyhow's downcast, not by the chain's `dyn Error`.
            mxos_agent::causes::step_text(step).to_string()
        } else {
            let text = cause.to_string();
            // Only what no catalogue message wrapped: those are already in the reader's words.
            match cause.downcast_ref::<mxos_agent::i18n::Text>() {
                Some(_) => text,
                None => mxos_agent::causes::explained(&text).map_or(text, |t| t.to_string()),
            }
        };
        if n == 0 {
            eprintln!("{}", t!("error-line", message = message));
        } else {
            eprintln!("{}", t!("caused-by-line", message = message));
        }
    }
}

fn verify_text(e: &mxos_sign::VerifyError) -> Text {
    use mxos_sign::VerifyError::*;
    match e {
        Unsigned => t!("verify-unsigned", key = mxos_sign::METADATA_KEY),
        UntrustedKey { signatures } => t!("verify-untrusted", signatures = signatures),
        Malformed { index, len } => t!("verify-malformed", index = index, len = len),
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let json = cli.json;
    match cli.command {
        Command::Init {
            remote_conf,
            reference,
        } => {
            let text = std::fs::read_to_string(&remote_conf)
                .with_context(|| t!("reading-file", path = remote_conf.display()))?;
            let remote = mxos_agent::remote_conf::parse(&text, &remote_conf.display().to_string())?;
            // The GPG key is published beside the config.
            let gpg_path = remote.gpg_key_file.as_ref().map(|f| {
                remote_conf
                    .parent()
                    .unwrap_or(std::path::Path::new("."))
                    .join(f)
            });
            let gpg_key = match (&gpg_path, remote.gpg_verify) {
                (Some(p), true) => Some(
                    std::fs::read(p).with_context(|| t!("reading-gpg-key", path = p.display()))?,
                ),
                _ => None,
            };
            let refspec = mxos_agent::init(&InitRequest {
                sysroot: &cli.sysroot,
                remote: &remote,
                reference: &reference,
                gpg_key: gpg_path.as_deref().zip(gpg_key.as_deref()),
            })?;
            let message = t!("initialized", refspec = &refspec).to_string();
            emit(
                json,
                &InitReport {
                    following: refspec,
                    message,
                },
            );
        }
        Command::Status => {
            let status = mxos_agent::status::status(&cli.sysroot)?;
            let text = mxos_agent::status::render(&status, i18n::process_lang());
            emit(json, &StatusReport { status, text });
        }
        Command::Upgrade => {
            let device = Device::open(&cli.sysroot)?;
            let settings = cycle::settings(&device.root())?;
            drop(device);
            let report = match mxos_agent::upgrade(&cli.sysroot, settings.max_boot_attempts, now())?
            {
                UpgradeOutcome::UpToDate { checksum, version } => DeployReport {
                    outcome: DeployOutcome::UpToDate,
                    message: t!(
                        "up-to-date-version",
                        version = version.as_deref().unwrap_or("-")
                    )
                    .to_string(),
                    commit: checksum,
                    version,
                    previous: None,
                },
                UpgradeOutcome::Deployed {
                    checksum,
                    version,
                    previous,
                } => deployed(checksum, version, previous, settings.channel.as_deref()),
            };
            emit(json, &report);
        }
        Command::Check { from } => {
            let device = Device::open(&cli.sysroot)?;
            let settings = cycle::settings(&device.root())?;
            let sources = cycle::sources(&settings, from.as_deref());
            let found = cycle::check(&device, &settings, &sources, i18n::process_lang(), now())?;
            let report = CheckReport::new(&found, None);
            emit(json, &report);
            return Ok(check_status(&report));
        }
        Command::Download { from } => {
            let device = Device::open(&cli.sysroot)?;
            let settings = cycle::settings(&device.root())?;
            let sources = cycle::sources(&settings, from.as_deref());
            let found = cycle::check(&device, &settings, &sources, i18n::process_lang(), now())?;
            let mut downloaded = None;
            if let cycle::Found::Update { commit, version } = &found {
                cycle::download(&device, commit, &sources, now())?;
                let dir = device.state_dir();
                let mut st = state::load(&dir)?;
                st.machine = State::Downloaded {
                    commit: commit.clone(),
                    version: version.clone(),
                };
                state::save(&dir, &st)?;
                downloaded = Some(true);
            }
            let report = CheckReport::new(&found, downloaded);
            emit(json, &report);
            return Ok(check_status(&report));
        }
        Command::Apply => {
            let device = Device::open(&cli.sysroot)?;
            let settings = cycle::settings(&device.root())?;
            let dir = device.state_dir();
            let mut st = state::load(&dir)?;
            let State::Downloaded { commit, version } = st.machine.clone() else {
                return Err(t!("nothing-downloaded").into());
            };
            let previous = device.current.as_ref().map(|d| d.checksum.clone());
            device.deploy(&commit, settings.max_boot_attempts)?;
            st = state::load(&dir)?;
            st.machine = State::Staged {
                commit: commit.clone(),
                version: version.clone(),
            };
            state::save(&dir, &st)?;
            let report = deployed(commit, Some(version), previous, settings.channel.as_deref());
            emit(json, &report);
        }
        Command::Run { reboot, from } => {
            let policy = reboot
                .as_deref()
                .map(RebootPolicy::parse)
                .transpose()
                .map_err(|e| t!("bad-reboot-option").nested("detail", e))?;
            let booted = cli.sysroot == std::path::Path::new("/");
            let lang = i18n::process_lang();
            let messages = cycle::run(&cli.sysroot, policy, lang, now(), booted, from.as_deref())?;
            let agent = mxos_agent::status::status(&cli.sysroot)?.agent;
            emit(json, &RunReport { messages, agent });
        }
        Command::HealthCheck { reboot } => {
            let result = cycle::health_check(&cli.sysroot, None)?;
            emit(json, &HealthReport::new(&result));
            if let cycle::Health::RolledBack { .. } = result {
                if reboot && cli.sysroot == std::path::Path::new("/") {
                    std::process::Command::new("systemctl")
                        .arg("reboot")
                        .status()
                        .context(t!("asking-reboot"))?;
                }
                return Err(t!("health-failed").into());
            }
        }
        Command::Rollback => {
            let (commit, version) = mxos_agent::rollback(&cli.sysroot)?;
            let said = t!("rolled-back", version = version.as_deref().unwrap_or("-"));
            events::rolled_back(&commit, "by-hand", &said);
            emit(
                json,
                &RollbackReport {
                    commit,
                    version,
                    message: said.to_string(),
                },
            );
        }
        Command::Install { from } => crate::install::run(&from)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn deployed(
    commit: String,
    version: Option<String>,
    previous: Option<String>,
    channel: Option<&str>,
) -> DeployReport {
    let said = t!(
        "deployed",
        version = version.as_deref().unwrap_or("-"),
        commit = i18n::short(&commit)
    );
    events::upgraded(&commit, channel, &said);
    DeployReport {
        outcome: DeployOutcome::Deployed,
        message: said.to_string(),
        commit,
        version,
        previous,
    }
}

fn check_status(report: &CheckReport) -> ExitCode {
    if report.outcome == CheckOutcome::Update {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_NO_UPDATE)
    }
}
