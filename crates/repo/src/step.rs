//! The steps of the device's work that can fail inside libostree, as typed error contexts,
//! and the sysroot's refusals, as a typed error: they print in English here, and
//! `mxos-update` finds them in an error chain to say them in the reader's language from its
//! catalogue.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    InitSysroot { path: String },
    LoadSysroot { path: String },
    CreateStateroot { stateroot: String },
    FetchSummary { remote: String },
    ImportGpgKeys { remote: String },
    Pull { refs: String, source: String },
    Stage { commit: String },
    Deploy { commit: String },
    WriteBootOrder,
    CleanUp,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::InitSysroot { path } => write!(f, "initializing sysroot {path}"),
            Step::LoadSysroot { path } => write!(f, "loading sysroot {path}"),
            Step::CreateStateroot { stateroot } => write!(f, "creating stateroot `{stateroot}`"),
            Step::FetchSummary { remote } => write!(f, "fetching the summary of remote `{remote}`"),
            Step::ImportGpgKeys { remote } => write!(f, "importing GPG keys for remote `{remote}`"),
            Step::Pull { refs, source } => write!(f, "pulling {refs} from {source}"),
            Step::Stage { commit } => write!(f, "staging {commit}"),
            Step::Deploy { commit } => write!(f, "deploying {commit}"),
            Step::WriteBootOrder => f.write_str("writing the new boot order"),
            Step::CleanUp => f.write_str("cleaning up old deployments"),
        }
    }
}

/// What a sysroot refuses to do, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SysrootRefusal {
    NotASysroot { path: String },
    Locked { path: String },
    NothingToRollBackTo { deployments: usize },
}

impl fmt::Display for SysrootRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SysrootRefusal::NotASysroot { path } => write!(
                f,
                "{path} is not an OSTree sysroot (no ostree/repo); set one up with `mxos-update init`"
            ),
            SysrootRefusal::Locked { path } => write!(
                f,
                "another update is running on {path} (the sysroot lock is held); try again when it finishes"
            ),
            SysrootRefusal::NothingToRollBackTo { deployments } => write!(
                f,
                "no previous deployment to roll back to (this sysroot has {deployments})"
            ),
        }
    }
}

impl std::error::Error for SysrootRefusal {}
