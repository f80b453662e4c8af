//! The one error type for reading, validating and interpreting fleet manifests.

/// Each variant says what is wrong and where, so an admin can fix the manifest without
/// reading code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FleetError {
    /// The JSON did not fit the schema; serde_json's message names the field or value.
    #[error("{origin}, line {line}, column {column}: {message}")]
    Parse {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// A well-formed manifest from `origin` broke a rule that spans fields.
    #[error("{origin}: {error}")]
    InFile {
        origin: String,
        error: Box<FleetError>,
    },
    /// One field holds a value the schema forbids; `field` is its path, e.g. `target.commit`.
    #[error("invalid {field}: {problem}")]
    Invalid { field: String, problem: String },
    /// A reboot window given on a command line could not be read.
    #[error(
        "reboot window {spec:?}: {problem}; expected DAYS HH:MM+MINUTES such as \"mon-fri 18:00+240\" \
         (DAYS: mon tue wed thu fri sat sun, as a list \"mon,wed,fri\" or a range \"mon-fri\"; \
         MINUTES: 1 to 1440)"
    )]
    BadRebootWindow { spec: String, problem: String },
}

impl FleetError {
    pub(crate) fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        FleetError::Invalid {
            field: field.into(),
            problem: problem.into(),
        }
    }
}
