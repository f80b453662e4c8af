//! Loads MxOS treefiles (rpm-ostree's YAML dialect) into a resolved, hashable build `Plan`.
//!
//! Pure: reads only the treefiles it is given, their includes and the `*.repo` files beside them.

mod error;
mod hash;
mod load;
mod merge;
mod parse;
mod plan;
mod schema;
mod vars;
mod version;

use std::path::Path;

pub use error::{KeyHint, Location, TreefileError};
pub use hash::{InputHash, InputHasher};
pub use load::MAX_INCLUDE_DEPTH;
pub use plan::{Plan, RepoFile};
pub use schema::{Backend, CheckKind};
pub use version::{automatic_version, civil_from_days};

/// Load the treefile at `path` with its includes, for `basearch`.
pub fn load(path: &Path, basearch: &str) -> Result<Plan, TreefileError> {
    let loaded = load::load_path(path)?;
    Plan::build(path, basearch, loaded)
}

/// Load a treefile from text named `name`; `include` is refused since there is no directory to resolve it in.
pub fn load_str(name: &str, text: &str, basearch: &str) -> Result<Plan, TreefileError> {
    let name = Path::new(name);
    let loaded = load::load_text(name, text)?;
    Plan::build(name, basearch, loaded)
}
