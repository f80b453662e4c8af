//! Collection IDs: the name a repo's content is published under (`core.collection-id`), and
//! the bindings every commit written into such a repo carries (`ostree.collection-binding`,
//! `ostree.ref-binding`), as `ostree commit` writes them. A binding is part of the commit
//! object, so it is signed with it: a mirror, a USB stick or a peer cannot serve a commit of
//! another collection, or of another ref, as this one.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};

use crate::{gerr, MetaValue, Repo};

/// Commit metadata key: the collection ID the commit belongs to (`s`).
pub const KEY_COLLECTION_BINDING: &str = "ostree.collection-binding";
/// Commit metadata key: the refs the commit may be published on (`as`).
pub const KEY_REF_BINDING: &str = "ostree.ref-binding";

/// The collection MxOS's own repos publish under unless the maintainer names another.
pub const DEFAULT_COLLECTION_ID: &str = "mx.mxos.Os";

/// The ref libostree keeps a repo's signed metadata on, for peers and USB copies.
pub const METADATA_REF: &str = "ostree-metadata";

/// What a commit says about where it may be served, read back from its metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bindings {
    pub collection: Option<String>,
    pub refs: Vec<String>,
}

impl Bindings {
    pub fn of(metadata: &BTreeMap<String, MetaValue>) -> Bindings {
        let collection = match metadata.get(KEY_COLLECTION_BINDING) {
            Some(MetaValue::Str(s)) => Some(s.clone()),
            _ => None,
        };
        let refs = match metadata.get(KEY_REF_BINDING) {
            Some(MetaValue::StrList(l)) => l.clone(),
            _ => Vec::new(),
        };
        Bindings { collection, refs }
    }
}

/// libostree's rule for a collection ID: reverse DNS, at least two elements of
/// `[A-Za-z0-9_-]` (not starting with a digit), at most 255 bytes.
pub fn check_collection_id(id: &str) -> Result<()> {
    let elements: Vec<&str> = id.split('.').collect();
    let ok_element = |e: &&str| {
        !e.is_empty()
            && !e.starts_with(|c: char| c.is_ascii_digit())
            && e.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if id.len() > 255 || elements.len() < 2 || !elements.iter().all(ok_element) {
        bail!(
            "`{id}` is not a collection ID: it takes reverse-DNS form, at least two dot-separated \
             parts of letters, digits, `_` or `-`, none starting with a digit (e.g. `mx.mxos.Os`)"
        );
    }
    Ok(())
}

impl Repo {
    /// The repo's `core.collection-id`, if it has one.
    pub fn collection_id(&self) -> Option<String> {
        self.inner.collection_id().map(|s| s.to_string())
    }

    /// Sets `core.collection-id` in the repo's config; commits written from now on are
    /// bound to it.
    pub fn set_collection_id(&self, id: &str) -> Result<()> {
        check_collection_id(id)?;
        self.inner
            .set_collection_id(Some(id))
            .map_err(gerr)
            .with_context(|| format!("setting collection ID {id}"))?;
        let config = self.inner.copy_config();
        self.inner
            .write_config(&config)
            .map_err(gerr)
            .with_context(|| format!("writing the config of {}", self.path().display()))
    }

    /// Gives a repo with no collection ID `id`; returns the ID it already has when that is
    /// another one (the caller says why it cannot change), `None` when it now has `id`.
    pub fn adopt_collection_id(&self, id: &str) -> Result<Option<String>> {
        match self.collection_id() {
            None => self.set_collection_id(id).map(|()| None),
            Some(current) if current == id => Ok(None),
            Some(current) => Ok(Some(current)),
        }
    }

    /// The bindings a commit carries.
    pub fn bindings(&self, commit: &str) -> Result<Bindings> {
        Ok(Bindings::of(&self.commit_info(commit)?.metadata))
    }

    /// Sets this repo's bindings for `reference` in commit metadata. They replace any the
    /// metadata carried over: a re-issued commit (a fleet rollback) is bound to where it is
    /// published now.
    pub(crate) fn bind(&self, reference: Option<&str>, metadata: &mut BTreeMap<String, MetaValue>) {
        let (Some(id), Some(reference)) = (self.collection_id(), reference) else {
            return;
        };
        metadata.insert(KEY_COLLECTION_BINDING.into(), MetaValue::Str(id));
        metadata.insert(
            KEY_REF_BINDING.into(),
            MetaValue::StrList(vec![reference.to_owned()]),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::check_collection_id;

    #[test]
    fn collection_ids_follow_libostree() {
        check_collection_id("mx.mxos.Os").unwrap();
        check_collection_id("org.example_1.Os-2").unwrap();
        for bad in ["mxos", "mx..Os", "mx.1os", "mx.os!", ""] {
            assert_eq!(
                check_collection_id(bad).unwrap_err().to_string(),
                format!("`{bad}` is not a collection ID: it takes reverse-DNS form, at least two dot-separated parts of letters, digits, `_` or `-`, none starting with a digit (e.g. `mx.mxos.Os`)")
            );
        }
    }
}
