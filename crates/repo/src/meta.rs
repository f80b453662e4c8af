//! Commit metadata: the typed values MxOS writes, and reading a commit back.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use ostree::glib::{self, ToVariant};

use crate::{gerr, Repo};

/// A metadata value as MxOS writes it; each maps to one GVariant type that libostree and
/// rpm-ostree tooling already understand (`version` is `s`, `ostree.bootable` is `b`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum MetaValue {
    Str(String),
    Bool(bool),
    U64(u64),
    StrList(Vec<String>),
    /// A list of records (`aa{sv}`), as rpm-ostree writes `rpmostree.rpmmd-repos`.
    Records(Vec<BTreeMap<String, MetaValue>>),
    /// Anything else read back from a commit, in GVariant text form.
    Other(String),
}

impl MetaValue {
    pub(crate) fn to_variant(&self) -> glib::Variant {
        match self {
            MetaValue::Str(s) | MetaValue::Other(s) => s.to_variant(),
            MetaValue::Bool(b) => b.to_variant(),
            MetaValue::U64(n) => n.to_variant(),
            MetaValue::StrList(l) => l.to_variant(),
            // Built entry by entry in key order: a hash map's order would change the
            // commit's bytes from one compose to the next.
            MetaValue::Records(records) => {
                let dict = glib::VariantTy::new("{sv}").expect("a valid type string");
                let array = glib::VariantTy::new("a{sv}").expect("a valid type string");
                glib::Variant::array_from_iter_with_type(
                    array,
                    records.iter().map(|r| {
                        glib::Variant::array_from_iter_with_type(
                            dict,
                            r.iter().map(|(k, v)| {
                                glib::Variant::from_dict_entry(
                                    &k.to_variant(),
                                    &glib::Variant::from_variant(&v.to_variant()),
                                )
                            }),
                        )
                    }),
                )
            }
        }
    }

    pub(crate) fn from_variant(v: &glib::Variant) -> MetaValue {
        if let Some(s) = v.get::<String>() {
            MetaValue::Str(s)
        } else if let Some(b) = v.get::<bool>() {
            MetaValue::Bool(b)
        } else if let Some(n) = v.get::<u64>() {
            MetaValue::U64(n)
        } else if let Some(l) = v.get::<Vec<String>>() {
            MetaValue::StrList(l)
        } else {
            MetaValue::Other(v.print(true).to_string())
        }
    }

    /// Converts a treefile's `add-commit-metadata` value. Nested maps have no agreed
    /// GVariant shape in rpm-ostree's tooling, so they are refused rather than guessed.
    pub fn from_json(key: &str, v: &serde_json::Value) -> Result<MetaValue> {
        use serde_json::Value as J;
        Ok(match v {
            J::String(s) => MetaValue::Str(s.clone()),
            J::Bool(b) => MetaValue::Bool(*b),
            J::Number(n) if n.is_u64() => MetaValue::U64(n.as_u64().unwrap_or_default()),
            J::Number(n) => MetaValue::Str(n.to_string()),
            J::Array(items) => MetaValue::StrList(
                items
                    .iter()
                    .map(|i| match i {
                        J::String(s) => Ok(s.clone()),
                        J::Number(n) => Ok(n.to_string()),
                        J::Bool(b) => Ok(b.to_string()),
                        _ => anyhow::bail!("add-commit-metadata key `{key}`: list items must be strings, numbers or booleans"),
                    })
                    .collect::<Result<_>>()?,
            ),
            J::Null | J::Object(_) => anyhow::bail!(
                "add-commit-metadata key `{key}`: accepted values are strings, numbers, booleans and lists of those"
            ),
        })
    }
}

impl std::fmt::Display for MetaValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MetaValue::Str(s) | MetaValue::Other(s) => f.write_str(s),
            MetaValue::Bool(b) => write!(f, "{b}"),
            MetaValue::U64(n) => write!(f, "{n}"),
            MetaValue::StrList(l) => f.write_str(&l.join(", ")),
            MetaValue::Records(r) => write!(f, "{} records", r.len()),
        }
    }
}

/// What a commit says about itself.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CommitInfo {
    pub checksum: String,
    pub parent: Option<String>,
    pub subject: String,
    pub timestamp: u64,
    pub metadata: BTreeMap<String, MetaValue>,
}

impl CommitInfo {
    pub fn string(&self, key: &str) -> Option<&str> {
        match self.metadata.get(key) {
            Some(MetaValue::Str(s)) => Some(s),
            _ => None,
        }
    }

    pub fn version(&self) -> Option<&str> {
        self.string("version")
    }
}

impl Repo {
    /// Reads a commit (by ref or checksum) and its metadata.
    pub fn commit_info(&self, rev: &str) -> Result<CommitInfo> {
        let checksum = self.require(rev)?;
        let (commit, _state) = self
            .inner
            .load_commit(&checksum)
            .map_err(gerr)
            .with_context(|| format!("loading commit {checksum}"))?;
        let dict = glib::VariantDict::new(Some(&commit.child_value(0)));
        let mut metadata = BTreeMap::new();
        for entry in dict.end().iter() {
            let key: String = entry.child_value(0).get().unwrap_or_default();
            let value = entry
                .child_value(1)
                .as_variant()
                .unwrap_or(entry.child_value(1));
            metadata.insert(key, MetaValue::from_variant(&value));
        }
        Ok(CommitInfo {
            parent: ostree::commit_get_parent(&commit).map(|s| s.to_string()),
            subject: commit.child_value(3).get().unwrap_or_default(),
            timestamp: ostree::commit_get_timestamp(&commit),
            metadata,
            checksum,
        })
    }

    /// A regular file's contents in a commit, or `None` if the path does not exist there.
    pub fn read_file(&self, rev: &str, path: &str) -> Result<Option<Vec<u8>>> {
        use ostree::gio;
        use ostree::prelude::*;
        use std::io::Read;
        let (root, _) = self
            .inner
            .read_commit(rev, gio::Cancellable::NONE)
            .map_err(gerr)
            .with_context(|| format!("reading commit {rev}"))?;
        let file = root.resolve_relative_path(path.trim_start_matches('/'));
        let file = file
            .downcast::<ostree::RepoFile>()
            .map_err(|_| anyhow::anyhow!("libostree returned a path that is not a RepoFile"))?;
        if let Err(e) = file.ensure_resolved() {
            if e.matches(gio::IOErrorEnum::NotFound) {
                return Ok(None);
            }
            return Err(gerr(e)).with_context(|| format!("looking up {path} in {rev}"));
        }
        let (stream, _info, _xattrs) = self
            .inner
            .load_file(&file.checksum(), gio::Cancellable::NONE)
            .map_err(gerr)
            .with_context(|| format!("reading {path} in {rev}"))?;
        let mut bytes = Vec::new();
        if let Some(stream) = stream {
            stream
                .into_read()
                .read_to_end(&mut bytes)
                .with_context(|| format!("reading {path} in {rev}"))?;
        }
        Ok(Some(bytes))
    }

    /// Whether the commit object itself is present (not just a ref naming it).
    pub fn has_commit(&self, checksum: &str) -> Result<bool> {
        Ok(self
            .inner
            .load_variant_if_exists(ostree::ObjectType::Commit, checksum)
            .map_err(gerr)?
            .is_some())
    }
}
