//! `mxos-compose fleet`: what a school admin (or the distribution) uses to steer machines.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use mxos_fleet::{FleetManifest, Rollout};
use mxos_publish::fleet::{self, Promote};
use mxos_repo::Repo;

use schemars::JsonSchema;
use serde::Serialize;

use crate::now;
use crate::output::{self, Report};

#[derive(Args)]
pub struct FleetArgs {
    #[command(subcommand)]
    command: FleetCommand,
}

#[derive(Args)]
struct Signing {
    /// The published repository holding the channel.
    #[arg(long)]
    public: PathBuf,
    #[arg(long)]
    sign_key: PathBuf,
    /// How long devices accept the new manifest.
    #[arg(long, default_value_t = 30)]
    valid_days: u32,
    /// Also GPG-sign the manifest's commit and the summary (a repo published with
    /// `--gpg-sign`, whose devices require GPG).
    #[arg(long, value_name = "ID", requires = "gpg_homedir")]
    gpg_sign: Option<String>,
    /// GnuPG home directory holding the --gpg-sign secret key.
    #[arg(long, value_name = "DIR", requires = "gpg_sign")]
    gpg_homedir: Option<PathBuf>,
}

impl Signing {
    fn gpg(&self) -> Option<fleet::GpgSigner> {
        self.gpg_sign
            .clone()
            .zip(self.gpg_homedir.clone())
            .map(|(key_id, homedir)| fleet::GpgSigner { key_id, homedir })
    }
}

#[derive(Subcommand)]
enum FleetCommand {
    /// Print a channel's current manifest.
    Show {
        channel: String,
        #[arg(long)]
        public: PathBuf,
    },
    /// Point a channel at a published commit, optionally as a gradual rollout.
    Promote {
        channel: String,
        /// Ref or commit in the public repo.
        #[arg(long)]
        to: String,
        /// OS ref the channel's devices follow (needed for a new channel).
        #[arg(long = "ref")]
        reference: Option<String>,
        /// Start the rollout at this share of machines (0-100); without it, everyone at once.
        #[arg(long)]
        rollout_percentage: Option<u8>,
        /// Minutes for the rollout to reach every machine.
        #[arg(long, default_value_t = 1440)]
        rollout_minutes: u32,
        /// Reboot window, repeatable, e.g. "mon-fri 18:00+240" (replaces the channel's windows).
        #[arg(long = "reboot-window")]
        reboot_windows: Vec<String>,
        /// IANA time zone of the reboot windows (default: the channel's, else America/Mexico_City).
        #[arg(long)]
        time_zone: Option<String>,
        #[command(flatten)]
        signing: Signing,
    },
    /// Stop machines from starting new updates on a channel.
    Pause {
        channel: String,
        #[command(flatten)]
        signing: Signing,
    },
    /// Let machines update again.
    Resume {
        channel: String,
        #[command(flatten)]
        signing: Signing,
    },
    /// Send every machine of the channel back to older content, as a new version.
    Rollback {
        channel: String,
        /// Build repository holding the old commit and the OS ref.
        #[arg(long)]
        repo: PathBuf,
        /// The commit to go back to (default: the channel's previous target).
        #[arg(long)]
        to: Option<String>,
        #[command(flatten)]
        signing: Signing,
    },
}

pub fn run(args: FleetArgs, json: bool) -> Result<()> {
    match args.command {
        FleetCommand::Show { channel, public } => {
            let repo = Repo::open(&public)?;
            let p = fleet::read(&repo, &channel)?.with_context(|| {
                format!(
                    "channel `{channel}` has no manifest in {}",
                    public.display()
                )
            })?;
            if json {
                // The signed document itself, byte for byte (docs/json/mxos-fleet-manifest).
                print!("{}", String::from_utf8_lossy(&p.json));
            } else {
                print!("{}", describe(&p.manifest, now()));
            }
        }
        FleetCommand::Promote {
            channel,
            to,
            reference,
            rollout_percentage,
            rollout_minutes,
            reboot_windows,
            time_zone,
            signing,
        } => {
            let key = mxos_sign::SecretKey::read(&signing.sign_key)?;
            let now = now();
            let windows = if reboot_windows.is_empty() {
                None
            } else {
                Some(
                    reboot_windows
                        .iter()
                        .map(|w| mxos_fleet::parse_reboot_window(w))
                        .collect::<Result<Vec<_>, _>>()?,
                )
            };
            let gpg = signing.gpg();
            let m = fleet::promote(
                &Promote {
                    public_dir: signing.public,
                    channel,
                    target: to,
                    reference,
                    rollout: rollout_percentage.map(|p| Rollout {
                        start: now,
                        start_percentage: p,
                        duration_minutes: rollout_minutes,
                    }),
                    reboot_windows: windows,
                    time_zone,
                    valid_days: signing.valid_days,
                    now,
                },
                fleet::Keys {
                    ed25519: &key,
                    gpg: gpg.as_ref(),
                },
            )?;
            output::emit(json, &FleetReport::new(FleetAction::Promote, m, None));
        }
        FleetCommand::Pause { channel, signing } => {
            let key = mxos_sign::SecretKey::read(&signing.sign_key)?;
            let m = fleet::set_paused(
                &signing.public,
                &channel,
                true,
                fleet::Keys {
                    ed25519: &key,
                    gpg: signing.gpg().as_ref(),
                },
                now(),
                signing.valid_days,
            )?;
            output::emit(json, &FleetReport::new(FleetAction::Pause, m, None));
        }
        FleetCommand::Resume { channel, signing } => {
            let key = mxos_sign::SecretKey::read(&signing.sign_key)?;
            let m = fleet::set_paused(
                &signing.public,
                &channel,
                false,
                fleet::Keys {
                    ed25519: &key,
                    gpg: signing.gpg().as_ref(),
                },
                now(),
                signing.valid_days,
            )?;
            output::emit(json, &FleetReport::new(FleetAction::Resume, m, None));
        }
        FleetCommand::Rollback {
            channel,
            repo,
            to,
            signing,
        } => {
            let key = mxos_sign::SecretKey::read(&signing.sign_key)?;
            let r = fleet::rollback(
                &repo,
                &signing.public,
                &channel,
                to.as_deref(),
                fleet::Keys {
                    ed25519: &key,
                    gpg: signing.gpg().as_ref(),
                },
                now(),
                signing.valid_days,
            )?;
            let reissued = Reissued {
                from: r.from,
                commit: r.commit,
            };
            output::emit(
                json,
                &FleetReport::new(FleetAction::Rollback, r.manifest, Some(reissued)),
            );
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FleetAction {
    Promote,
    Pause,
    Resume,
    Rollback,
}

/// A fleet rollback's new head: the old content committed again.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Reissued {
    /// The commit whose content was re-issued.
    pub from: String,
    /// The new head of the OS ref carrying it.
    pub commit: String,
}

/// `mxos-compose fleet promote|pause|resume|rollback`: the manifest as now signed and
/// published.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FleetReport {
    pub action: FleetAction,
    pub manifest: FleetManifest,
    /// Share of the channel's machines the rollout lets update now (100 without a rollout).
    pub rollout_percentage_now: f64,
    /// Set by `rollback` only.
    pub reissued: Option<Reissued>,
}

impl FleetReport {
    fn new(action: FleetAction, manifest: FleetManifest, reissued: Option<Reissued>) -> Self {
        let rollout_percentage_now = manifest
            .rollout
            .as_ref()
            .map_or(100.0, |r| mxos_fleet::rollout_progress(r, now()));
        FleetReport {
            action,
            manifest,
            rollout_percentage_now,
            reissued,
        }
    }
}

impl Report for FleetReport {
    const SCHEMA: &'static str = "mxos-compose-fleet/1";

    fn human(&self) -> String {
        let mut text = String::new();
        if let Some(r) = &self.reissued {
            text.push_str(&format!(
                "re-issued the content of {} as {} on {}\n",
                r.from, r.commit, self.manifest.reference
            ));
        }
        text.push_str(&describe(&self.manifest, now()));
        text
    }
}

/// The admin's view of a manifest.
fn describe(m: &FleetManifest, now: i64) -> String {
    let mut s = format!(
        "channel {}\n  serial {}, expires {}\n  follows {}\n  target {} ({})\n",
        m.channel,
        m.serial,
        chrono_like(m.expires),
        m.reference,
        m.target.version,
        m.target.commit
    );
    if m.paused {
        s.push_str("  PAUSED: no machine starts a new update\n");
    }
    match &m.rollout {
        Some(r) => s.push_str(&format!(
            "  rollout: {:.0} % of machines now\n",
            mxos_fleet::rollout_progress(r, now)
        )),
        None => s.push_str("  rollout: all machines\n"),
    }
    if !m.reboot_windows.is_empty() {
        let w: Vec<String> = m.reboot_windows.iter().map(|w| w.to_string()).collect();
        s.push_str(&format!(
            "  reboot windows ({}): {}\n",
            m.time_zone,
            w.join("; ")
        ));
    }
    s
}

fn chrono_like(secs: i64) -> String {
    // Days since the epoch are enough for an admin to see "expires in a month".
    format!("in {} days", (secs - now()).max(0) / 86_400)
}
