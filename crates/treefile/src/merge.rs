//! Merge strategies named in the key table: how an including file's value combines with its includes'.

use std::collections::BTreeMap;
use std::path::Path;

use crate::schema::Origins;

/// The including file's value wins when it has one.
pub(crate) fn scalar<T>(
    base: &mut Option<T>,
    over: Option<T>,
    key: &'static str,
    path: &Path,
    origins: &mut Origins,
) {
    if over.is_some() {
        *base = over;
        origins.insert(key, path.to_path_buf());
    }
}

/// Included entries first, then the including file's.
pub(crate) fn append<T>(
    base: &mut Option<Vec<T>>,
    over: Option<Vec<T>>,
    key: &'static str,
    path: &Path,
    origins: &mut Origins,
) {
    if let Some(over) = over {
        base.get_or_insert_with(Vec::new).extend(over);
        origins.insert(key, path.to_path_buf());
    }
}

/// Key by key, the including file winning on a clash.
pub(crate) fn map<V>(
    base: &mut Option<BTreeMap<String, V>>,
    over: Option<BTreeMap<String, V>>,
    key: &'static str,
    path: &Path,
    origins: &mut Origins,
) {
    if let Some(over) = over {
        base.get_or_insert_with(BTreeMap::new).extend(over);
        origins.insert(key, path.to_path_buf());
    }
}

/// Keys acted on while loading (like `include`) and not carried into the merged result.
pub(crate) fn consumed<T>(
    base: &mut Option<T>,
    _over: Option<T>,
    _key: &'static str,
    _path: &Path,
    _origins: &mut Origins,
) {
    *base = None;
}
