//! The error type: every variant names the file (and line/column where known) and what is accepted.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// A place in a treefile; line and column are 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

impl Location {
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Location {
            path: path.into(),
            line: None,
            column: None,
        }
    }
}

impl Location {
    pub(crate) fn at(path: impl Into<PathBuf>, line: u32, column: u32) -> Self {
        Location {
            path: path.into(),
            line: Some(line),
            column: Some(column),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        Ok(())
    }
}

/// What to tell the user after an unknown key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyHint {
    DidYouMean(&'static str),
    KnownKeys(Vec<&'static str>),
}

impl fmt::Display for KeyHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyHint::DidYouMean(key) => write!(f, "; did you mean `{key}`?"),
            KeyHint::KnownKeys(keys) => write!(f, "; known keys: {}", keys.join(", ")),
        }
    }
}

/// Something accepted but worth changing (a deprecated spelling, a key with no effect):
/// printed as one line, `warning: FILE:LINE: MESSAGE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub at: Location,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TreefileError {
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: cannot read included file `{include}` ({}): {source}", from.display(), resolved.display())]
    MissingInclude {
        from: PathBuf,
        include: String,
        resolved: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: `include` is not available for a treefile loaded from a string (no directory to resolve it against)", path.display())]
    IncludeWithoutDir { path: PathBuf },
    #[error("{}: `{include}` ({}) is already part of this tree; rpm-ostree allows each file once", from.display(), resolved.display())]
    IncludedTwice {
        from: PathBuf,
        include: String,
        resolved: PathBuf,
    },
    #[error("{at}: key `{key}`: cannot read `{name}` ({}): {source}", resolved.display())]
    MissingFile {
        at: Location,
        key: &'static str,
        name: String,
        resolved: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{at}: both `{legacy}` and `{key}` are set; keep `{key}` (the other is its old spelling)"
    )]
    LegacyConflict {
        at: Location,
        legacy: &'static str,
        key: &'static str,
    },
    #[error("{at}: conditional-include[{index}]: {message}")]
    Condition {
        at: Location,
        index: usize,
        message: String,
    },
    #[error("{at}: key `basearch`: `{value}` is not the architecture composed for (`{basearch}`); cross-composes are not supported")]
    Basearch {
        at: Location,
        value: String,
        basearch: String,
    },
    #[error("{at}: `{key}` is a client-side key (rpm-ostree install, override, rebase); a compose treefile cannot use it")]
    RefusedKey { at: Location, key: &'static str },
    #[error("{at}: {message}")]
    Lockfile { at: Location, message: String },
    #[error("include loop: {}", chain_text(chain))]
    IncludeLoop { chain: Vec<PathBuf> },
    #[error("{}: include depth limit of {limit} exceeded (included from {})", path.display(), from.display())]
    IncludeDepth {
        path: PathBuf,
        from: PathBuf,
        limit: usize,
    },
    #[error("{at}: invalid YAML: {message}")]
    Syntax { at: Location, message: String },
    #[error("{at}: the top level must be a mapping of treefile keys, found {found}")]
    NotMapping { at: Location, found: &'static str },
    #[error("{at}: unknown key `{key}`{hint}")]
    UnknownKey {
        at: Location,
        key: String,
        hint: KeyHint,
    },
    #[error("{at}: duplicate key `{key}`")]
    DuplicateKey { at: Location, key: String },
    #[error("{at}: key `{key}`: expected {expected}, found {found}")]
    WrongType {
        at: Location,
        key: String,
        expected: &'static str,
        found: String,
    },
    #[error("{at}: key `{key}`: unknown value `{value}`; accepted: {accepted}")]
    UnknownValue {
        at: Location,
        key: String,
        value: String,
        accepted: String,
    },
    #[error("{at}: key `{key}`: {message}")]
    InvalidValue {
        at: Location,
        key: String,
        message: String,
    },
    /// A YAML/serde error we could not attribute to a key.
    #[error("{at}: {message}")]
    Yaml { at: Location, message: String },
    #[error("{}: missing required key `{key}`", path.display())]
    MissingKey { path: PathBuf, key: &'static str },
    #[error("{at}: key `{key}`: unknown variable `{name}`; defined: {}", defined.join(", "))]
    UnknownVariable {
        at: Location,
        key: &'static str,
        name: String,
        defined: Vec<String>,
    },
    #[error("{at}: key `{key}`: unterminated `${{` in `{value}`")]
    UnterminatedVariable {
        at: Location,
        key: &'static str,
        value: String,
    },
    #[error("{at}: key `variables`: `{name}` is built in and cannot be redefined")]
    ReservedVariable { at: Location, name: String },
    #[error("automatic-version-prefix `{prefix}`: {message}")]
    VersionPrefix { prefix: String, message: String },
}

fn chain_text(chain: &[PathBuf]) -> String {
    chain
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" -> ")
}
