//! Loads treefiles in rpm-ostree's language (YAML or JSON) with their includes and
//! lockfiles into a resolved, hashable build `Plan`.
//!
//! Pure: reads only the treefiles it is given, their includes, the files they name, the
//! `*.repo` files beside them and the lockfiles beside the top one.

mod apt_source;
mod condition;
mod error;
mod hash;
mod load;
pub mod lockfile;
mod merge;
mod packages;
mod parse;
mod plan;
mod scan;
mod schema;
mod values;
mod vars;
mod version;

use std::path::{Path, PathBuf};

pub use apt_source::AptSource;
pub use error::{KeyHint, Location, TreefileError, Warning};
pub use hash::{InputHash, InputHasher};
pub use load::MAX_INCLUDE_DEPTH;
pub use lockfile::{LockedPackage, Lockfile};
pub use plan::{Plan, RepoFile};
pub use schema::Treefile;
pub use values::{
    AddFile, AptVariant, Backend, BootLocation, CheckGroups, CheckPasswd, CliwrapBinary, Edition,
    ExternalFile, IdPair, MetadataMode, OptUsrlocal, RepoPackages, Rojig, Rpmdb, Sysusers,
    VarValue,
};
pub use version::{automatic_version, civil_from_days};

/// Every key the schema knows (documentation and compatibility checks read it).
pub fn known_keys() -> &'static [&'static str] {
    schema::KNOWN_KEYS
}

/// Old spellings rpm-ostree still accepts, with the key each stands for.
pub fn legacy_keys() -> &'static [(&'static str, &'static str)] {
    schema::LEGACY_KEYS
}

/// Which lockfiles a load uses.
#[derive(Debug, Clone, Default)]
pub enum Lockfiles {
    /// Those found beside the top treefile ([`lockfile::discover`]).
    #[default]
    Beside,
    /// Exactly these, in order (later ones win per package).
    Files(Vec<PathBuf>),
    None,
}

/// Load the treefile at `path` with its includes, for `basearch`, with the lockfiles beside it.
pub fn load(path: &Path, basearch: &str) -> Result<Plan, TreefileError> {
    load_with(path, basearch, &Lockfiles::Beside)
}

pub fn load_with(
    path: &Path,
    basearch: &str,
    lockfiles: &Lockfiles,
) -> Result<Plan, TreefileError> {
    let loaded = load::load_path(path, basearch)?;
    let paths = match lockfiles {
        Lockfiles::Beside => lockfile::discover(path, basearch)?,
        Lockfiles::Files(f) => f.clone(),
        Lockfiles::None => Vec::new(),
    };
    let lock = lockfile::read(&paths)?;
    Plan::build(path, basearch, loaded, lock)
}

/// Load a treefile from text named `name`; includes are refused since there is no
/// directory to resolve them in.
pub fn load_str(name: &str, text: &str, basearch: &str) -> Result<Plan, TreefileError> {
    let name = Path::new(name);
    let loaded = load::load_text(name, text, basearch)?;
    Plan::build(name, basearch, loaded, None)
}
