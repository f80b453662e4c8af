//! The steps of the device's work that can fail inside libostree, as typed error contexts:
//! they print in English here, and `mxos-update` finds them in an error chain to say them in
//! the reader's language from its catalogue.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
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
