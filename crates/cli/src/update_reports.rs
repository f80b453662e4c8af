//! `mxos-update`'s reports: what each command found or did, as the person's sentence or as
//! one JSON object (`--json`) with a versioned schema in docs/json/. Every report carries
//! `message`, the sentence in the machine's language, so a script can show it unchanged.

use mxos_agent::cycle::{Found, Health};
use mxos_agent::health::Failure;
use mxos_agent::i18n::Text;
use mxos_agent::machine::State;
use mxos_agent::status::Status;
use schemars::JsonSchema;
use serde::Serialize;

use crate::output::Report;

/// `mxos-update init`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct InitReport {
    /// `REMOTE:REF` the machine now follows.
    pub following: String,
    pub message: String,
}

impl Report for InitReport {
    const SCHEMA: &'static str = "mxos-update-init/1";
    fn human(&self) -> String {
        self.message.clone()
    }
}

/// `mxos-update status`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StatusReport {
    #[serde(flatten)]
    pub status: Status,
    #[serde(skip)]
    pub text: String,
}

impl Report for StatusReport {
    const SCHEMA: &'static str = "mxos-update-status/1";
    fn human(&self) -> String {
        self.text.clone()
    }
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum CheckOutcome {
    /// Nothing newer to run (exit status 77).
    UpToDate,
    /// A verified update is offered to this machine now (exit status 0).
    Update,
    /// The manifest or remote says no: paused, dead end, refused (exit status 77).
    Blocked,
    /// The update is rolling out and this machine's turn has not come (exit status 77).
    Waiting,
}

/// `mxos-update check` and `download`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CheckReport {
    pub outcome: CheckOutcome,
    /// The offered commit (outcome `update`).
    pub commit: Option<String>,
    pub version: Option<String>,
    /// `download` only: the offered commit is now in the local repo, ready for `apply`.
    pub downloaded: Option<bool>,
    pub message: String,
}

impl CheckReport {
    pub fn new(found: &Found, downloaded: Option<bool>) -> CheckReport {
        let (outcome, commit, version, text) = match found {
            Found::UpToDate => (
                CheckOutcome::UpToDate,
                None,
                None,
                mxos_agent::t!("up-to-date").to_string(),
            ),
            Found::Update { commit, version } => (
                CheckOutcome::Update,
                Some(commit.clone()),
                Some(version.clone()),
                mxos_agent::t!("update-available", version = version).to_string(),
            ),
            Found::Blocked(why) => (CheckOutcome::Blocked, None, None, why.clone()),
            Found::Waiting(why) => (CheckOutcome::Waiting, None, None, why.clone()),
        };
        CheckReport {
            outcome,
            commit,
            version,
            downloaded,
            message: text,
        }
    }
}

impl Report for CheckReport {
    const SCHEMA: &'static str = "mxos-update-check/1";
    fn human(&self) -> String {
        self.message.clone()
    }
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum DeployOutcome {
    /// The followed ref's head is already the default deployment.
    UpToDate,
    /// A new deployment is the default for the next boot, on trial.
    Deployed,
}

/// `mxos-update upgrade` and `apply`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DeployReport {
    pub outcome: DeployOutcome,
    pub commit: String,
    pub version: Option<String>,
    /// The deployment kept for rollback (outcome `deployed`, when there was one).
    pub previous: Option<String>,
    pub message: String,
}

impl Report for DeployReport {
    const SCHEMA: &'static str = "mxos-update-deploy/1";
    fn human(&self) -> String {
        self.message.clone()
    }
}

/// `mxos-update run`: one update cycle.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RunReport {
    /// What the cycle said, in order; the last line is where the agent stands.
    pub messages: Vec<String>,
    /// The agent's state after the cycle.
    pub agent: State,
}

impl Report for RunReport {
    const SCHEMA: &'static str = "mxos-update-run/1";
    fn human(&self) -> String {
        self.messages.join("\n")
    }
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum HealthOutcome {
    NothingToCheck,
    Healthy,
    /// Checks failed: the previous version is the default again (exit status 1).
    RolledBack,
    /// The trial version never reached its checks; GRUB booted the previous one.
    FellBack,
    /// The update staged before the last shutdown was never finalized into a deployment;
    /// the running version is unharmed and stays (exit status 0), the next cycle stages the
    /// update again.
    NotFinalized,
}

/// `mxos-update health-check`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct HealthReport {
    pub outcome: HealthOutcome,
    /// The version that was on trial.
    pub commit: Option<String>,
    pub failures: Vec<Failure>,
    pub message: String,
}

impl HealthReport {
    pub fn new(h: &Health) -> HealthReport {
        use mxos_agent::i18n::short;
        use mxos_agent::t;
        let (outcome, commit, failures, text): (_, Option<&String>, &[Failure], Text) = match h {
            Health::NothingToCheck => (
                HealthOutcome::NothingToCheck,
                None,
                &[],
                t!("health-nothing"),
            ),
            Health::Healthy { commit } => (
                HealthOutcome::Healthy,
                Some(commit),
                &[],
                t!("health-passed", commit = short(commit)),
            ),
            Health::RolledBack { commit, failures } => {
                let list: Vec<String> = failures
                    .iter()
                    .map(|f| format!("{}: {}", f.check, f.detail))
                    .collect();
                (
                    HealthOutcome::RolledBack,
                    Some(commit),
                    failures,
                    t!(
                        "health-rolled-back",
                        commit = short(commit),
                        failures = list.join("; ")
                    ),
                )
            }
            Health::FellBack { commit } => (
                HealthOutcome::FellBack,
                Some(commit),
                &[],
                t!("health-fell-back", commit = short(commit)),
            ),
            Health::NotFinalized { commit, running } => (
                HealthOutcome::NotFinalized,
                Some(commit),
                &[],
                t!(
                    "health-not-finalized",
                    commit = short(commit),
                    running = short(running)
                ),
            ),
        };
        HealthReport {
            outcome,
            commit: commit.cloned(),
            failures: failures.to_vec(),
            message: text.to_string(),
        }
    }
}

impl Report for HealthReport {
    const SCHEMA: &'static str = "mxos-update-health-check/1";
    fn human(&self) -> String {
        self.message.clone()
    }
}

/// `mxos-update rollback`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RollbackReport {
    /// The deployment that is the default again.
    pub commit: String,
    pub version: Option<String>,
    pub message: String,
}

impl Report for RollbackReport {
    const SCHEMA: &'static str = "mxos-update-rollback/1";
    fn human(&self) -> String {
        self.message.clone()
    }
}
