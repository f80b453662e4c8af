//! What the agent remembers between runs, in the stateroot's `/var/lib/mxos-update/`:
//! the state machine's state, the highest manifest serial and the newest summary seen (replay protection), and the
//! deployment whose health is still to be checked.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::machine::State;
use crate::t;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentState {
    pub machine: State,
    pub highest_serial: Option<u64>,
    /// Commit deployed by us and not yet confirmed healthy after booting it.
    pub pending_health: Option<String>,
    /// `ostree.summary.last-modified` of the newest remote summary accepted: an older one
    /// is a replay. Absent in state files written before summaries were checked.
    #[serde(default)]
    pub summary_last_modified: Option<u64>,
    /// What each source gave, by [`crate::sources::Source::label`].
    #[serde(default)]
    pub sources: std::collections::BTreeMap<String, crate::sources::SourceRecord>,
    /// The source the last update was downloaded from.
    #[serde(default)]
    pub last_source: Option<String>,
}

impl Default for AgentState {
    fn default() -> Self {
        AgentState {
            machine: State::Idle,
            highest_serial: None,
            pending_health: None,
            summary_last_modified: None,
            sources: Default::default(),
            last_source: None,
        }
    }
}

/// `/var/lib/mxos-update` of the stateroot: on a booted machine this is the real /var.
pub fn dir(sysroot: &Path, stateroot: &str) -> PathBuf {
    sysroot.join(format!("ostree/deploy/{stateroot}/var/lib/mxos-update"))
}

pub fn load(dir: &Path) -> Result<AgentState> {
    let file = dir.join("state.json");
    match std::fs::read(&file) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| t!("state-unreadable", path = file.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(AgentState::default()),
        Err(e) => Err(e).with_context(|| t!("reading-file", path = file.display())),
    }
}

/// Written atomically: a power cut mid-write must not lose the highest serial seen.
pub fn save(dir: &Path, state: &AgentState) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| t!("creating-dir", path = dir.display()))?;
    let tmp = dir.join("state.json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(state)?)
        .with_context(|| t!("writing-file", path = tmp.display()))?;
    std::fs::rename(&tmp, dir.join("state.json"))
        .with_context(|| t!("installing-file", path = dir.join("state.json").display()))
}
