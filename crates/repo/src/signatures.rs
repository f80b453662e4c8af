//! Where signatures live: ed25519 signatures in a commit's detached metadata and in
//! `summary.sig`, both as an `a{sv}` whose key (e.g. `ostree.sign.ed25519`) holds `aay`.

use anyhow::{Context, Result};
use ostree::gio;
use ostree::glib::{self, ToVariant};

use crate::{gerr, Repo};

impl Repo {
    /// The exact bytes of the commit object, which is what ostree signatures cover.
    pub fn commit_bytes(&self, checksum: &str) -> Result<Vec<u8>> {
        let v = self
            .inner
            .load_variant(ostree::ObjectType::Commit, checksum)
            .map_err(gerr)
            .with_context(|| format!("loading commit object {checksum}"))?;
        Ok(v.data_as_bytes().to_vec())
    }

    /// The signatures stored under `key` in the commit's detached metadata (none if absent).
    pub fn detached_signatures(&self, checksum: &str, key: &str) -> Result<Vec<Vec<u8>>> {
        let meta = self
            .inner
            .read_commit_detached_metadata(checksum, gio::Cancellable::NONE)
            .map_err(gerr)
            .with_context(|| format!("reading detached metadata of {checksum}"))?;
        Ok(meta.map(|m| lookup_aay(&m, key)).unwrap_or_default())
    }

    /// Appends a signature under `key`, keeping other detached metadata (e.g. GPG
    /// signatures) and earlier signatures, as `ostree sign` does.
    pub fn append_detached_signature(&self, checksum: &str, key: &str, sig: &[u8]) -> Result<()> {
        let existing = self
            .inner
            .read_commit_detached_metadata(checksum, gio::Cancellable::NONE)
            .map_err(gerr)
            .with_context(|| format!("reading detached metadata of {checksum}"))?;
        let mut sigs = existing
            .as_ref()
            .map(|m| lookup_aay(m, key))
            .unwrap_or_default();
        if sigs.iter().any(|s| s == sig) {
            return Ok(());
        }
        sigs.push(sig.to_vec());
        let dict = glib::VariantDict::new(existing.as_ref());
        dict.insert_value(key, &sigs.to_variant());
        self.inner
            .write_commit_detached_metadata(checksum, Some(&dict.end()), gio::Cancellable::NONE)
            .map_err(gerr)
            .with_context(|| format!("writing detached metadata of {checksum}"))
    }
}

fn lookup_aay(meta: &glib::Variant, key: &str) -> Vec<Vec<u8>> {
    glib::VariantDict::new(Some(meta))
        .lookup_value(key, Some(glib::VariantTy::new("aay").expect("valid type")))
        .and_then(|v| v.get::<Vec<Vec<u8>>>())
        .unwrap_or_default()
}

/// Serializes `summary.sig`: an `a{sv}` with `key` → `aay`.
pub fn encode_signature_file(key: &str, sigs: &[Vec<u8>]) -> Vec<u8> {
    let dict = glib::VariantDict::new(None);
    dict.insert_value(key, &sigs.to_variant());
    dict.end().data_as_bytes().to_vec()
}

/// Rewrites a `summary.sig` with `key` → `sigs`, keeping every other key (libostree's GPG
/// signatures in `ostree.gpgsigs` stay beside the ed25519 ones).
pub fn replace_in_signature_file(existing: Option<&[u8]>, key: &str, sigs: &[Vec<u8>]) -> Vec<u8> {
    let old = existing.map(|b| {
        glib::Variant::from_bytes_with_type(&glib::Bytes::from(b), glib::VariantTy::VARDICT)
    });
    let dict = glib::VariantDict::new(old.as_ref());
    dict.insert_value(key, &sigs.to_variant());
    dict.end().data_as_bytes().to_vec()
}

/// Reads the signatures under `key` from a `summary.sig` file's bytes.
pub fn decode_signature_file(bytes: &[u8], key: &str) -> Vec<Vec<u8>> {
    let v =
        glib::Variant::from_bytes_with_type(&glib::Bytes::from(bytes), glib::VariantTy::VARDICT);
    lookup_aay(&v, key)
}
