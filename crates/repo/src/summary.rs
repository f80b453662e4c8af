//! The summary file: writing it with MxOS's validity window, fetching a remote's summary and
//! `summary.sig` as they are on the server, and reading what a summary says (refs, when it
//! was made, until when it is valid).
//!
//! Format (libostree `ostree-repo.c`): `(a(s(taya{sv}))a{sv})`, one `(ref, (size, checksum,
//! metadata))` per ref, then additional metadata where `ostree.summary.last-modified` and
//! `ostree.summary.expires` are `t` in big-endian byte order.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use ostree::gio;
use ostree::glib::{self, ToVariant};

use crate::repository::{mtime, newer_than};
use crate::{gerr, Repo};

pub const LAST_MODIFIED_KEY: &str = "ostree.summary.last-modified";
pub const EXPIRES_KEY: &str = "ostree.summary.expires";
const COLLECTION_ID_KEY: &str = "ostree.summary.collection-id";
const DELTAS_KEY: &str = "ostree.static-deltas";

/// What a summary says about the repo it describes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SummaryInfo {
    /// ref → commit checksum.
    pub refs: BTreeMap<String, String>,
    /// Unix seconds when the summary was generated.
    pub last_modified: Option<u64>,
    /// Unix seconds after which the summary must not be used.
    pub expires: Option<u64>,
    /// Static deltas listed (`ostree.static-deltas`): libostree's name (`FROM-TO` or `TO`)
    /// → SHA-256 of the delta's superblock, hex.
    pub deltas: BTreeMap<String, String>,
    /// The collection ID it was published under (`ostree.summary.collection-id`).
    pub collection_id: Option<String>,
}

/// A summary and its signature file, as fetched (the signature file may be absent).
#[derive(Debug, Clone)]
pub struct FetchedSummary {
    pub summary: Vec<u8>,
    pub signatures: Option<Vec<u8>>,
}

/// Reads a summary file's bytes; anything that is not a summary is an error saying so.
pub fn parse_summary(bytes: &[u8]) -> Result<SummaryInfo> {
    let ty = glib::VariantTy::new("(a(s(taya{sv}))a{sv})").expect("a valid type string");
    let v = glib::Variant::from_bytes_with_type(&glib::Bytes::from(bytes), ty);
    // Untrusted bytes: GVariant reads malformed data as defaults; the normal form check
    // tells a real summary from garbage.
    if !v.is_normal_form() {
        bail!("not an OSTree summary (the data is not a normal-form (a(s(taya{{sv}}))a{{sv}}))");
    }
    let mut info = SummaryInfo::default();
    for entry in v.child_value(0).iter() {
        let name: String = entry.child_value(0).get().unwrap_or_default();
        let checksum: Vec<u8> = entry
            .child_value(1)
            .child_value(1)
            .get()
            .unwrap_or_default();
        if checksum.len() != 32 {
            bail!(
                "summary entry for `{name}` has a {}-byte checksum; expected 32",
                checksum.len()
            );
        }
        let hex: String = checksum.iter().map(|b| format!("{b:02x}")).collect();
        info.refs.insert(name, hex);
    }
    let meta = glib::VariantDict::new(Some(&v.child_value(1)));
    let be = |key: &str| {
        meta.lookup_value(key, Some(glib::VariantTy::UINT64))
            .and_then(|v| v.get::<u64>())
            .map(u64::from_be)
    };
    info.last_modified = be(LAST_MODIFIED_KEY);
    info.expires = be(EXPIRES_KEY);
    info.collection_id = meta
        .lookup_value(COLLECTION_ID_KEY, Some(glib::VariantTy::STRING))
        .and_then(|v| v.get::<String>());
    if let Some(deltas) = meta.lookup_value(DELTAS_KEY, Some(glib::VariantTy::VARDICT)) {
        for entry in deltas.iter() {
            let name: String = entry.child_value(0).get().unwrap_or_default();
            let sum: Vec<u8> = entry
                .child_value(1)
                .as_variant()
                .and_then(|v| v.get())
                .unwrap_or_default();
            if sum.len() != 32 {
                bail!(
                    "summary lists static delta `{name}` with a {}-byte checksum; expected 32",
                    sum.len()
                );
            }
            info.deltas.insert(name, crate::deltas::hex(&sum));
        }
    }
    Ok(info)
}

impl Repo {
    /// Regenerates the `summary` (refs, commit sizes, deltas) as `ostree summary -u` does,
    /// stating `expires` (unix seconds) as `ostree.summary.expires`. The old `summary.sig`
    /// goes: it no longer matches.
    pub fn regenerate_summary_expiring(&self, expires: Option<u64>) -> Result<()> {
        let summary = self.path().join("summary");
        let before = mtime(&summary);
        let extra = expires.map(|e| {
            let dict = glib::VariantDict::new(None);
            dict.insert_value(EXPIRES_KEY, &e.to_be().to_variant());
            dict.end()
        });
        self.inner
            .regenerate_summary(extra.as_ref(), gio::Cancellable::NONE)
            .map_err(gerr)
            .with_context(|| format!("regenerating summary of {}", self.path().display()))?;
        newer_than(&summary, before)
    }

    /// What this repo's own `summary` says.
    pub fn summary_info(&self) -> Result<SummaryInfo> {
        let path = self.path().join("summary");
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        parse_summary(&bytes).with_context(|| format!("reading {}", path.display()))
    }

    /// Fetches `summary` and `summary.sig` of a configured remote (HTTP or file URL) without
    /// letting libostree judge them: the caller verifies, then pins the pull to what it read.
    pub fn fetch_remote_summary(&self, remote: &str) -> Result<FetchedSummary> {
        self.fetch_remote_summary_from(remote, None)
    }

    /// [`Repo::fetch_remote_summary`] from `url` instead of the remote's own URL.
    pub fn fetch_remote_summary_from(
        &self,
        remote: &str,
        url: Option<&str>,
    ) -> Result<FetchedSummary> {
        use ostree::glib::translate::{FromGlibPtrFull, ToGlibPtr};
        // Each stash owns what its pointer points at: keep them alive across the call.
        let name = remote.to_glib_none();
        let mut summary: *mut glib::ffi::GBytes = std::ptr::null_mut();
        let mut sigs: *mut glib::ffi::GBytes = std::ptr::null_mut();
        let mut error: *mut glib::ffi::GError = std::ptr::null_mut();
        let dict = glib::VariantDict::new(None);
        if let Some(url) = url {
            dict.insert_value("override-url", &url.to_variant());
        }
        let options = dict.end();
        let options_ptr = options.to_glib_none();
        let repo_ptr = self.inner.to_glib_none();
        // The generated binding assumes both GBytes are set, but libostree leaves the
        // signatures NULL when the server has no summary.sig; hence the direct call.
        #[allow(unsafe_code)]
        let ok = unsafe {
            ostree::ffi::ostree_repo_remote_fetch_summary_with_options(
                repo_ptr.0,
                name.0,
                options_ptr.0,
                &mut summary,
                &mut sigs,
                std::ptr::null_mut(),
                &mut error,
            )
        };
        #[allow(unsafe_code)]
        let take = |p: *mut glib::ffi::GBytes| {
            (!p.is_null()).then(|| unsafe { glib::Bytes::from_glib_full(p) }.to_vec())
        };
        if ok == glib::ffi::GFALSE {
            #[allow(unsafe_code)]
            let e = unsafe { glib::Error::from_glib_full(error) };
            take(summary);
            take(sigs);
            return Err(gerr(e)).with_context(|| crate::Step::FetchSummary {
                remote: remote.to_owned(),
            });
        }
        let summary =
            take(summary).with_context(|| format!("remote `{remote}` has no summary file"))?;
        Ok(FetchedSummary {
            summary,
            signatures: take(sigs),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_refs_dates_and_refuses_what_is_not_a_summary() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = Repo::open_or_create(&tmp.path().join("r"), crate::RepoMode::Archive).unwrap();
        std::fs::create_dir_all(tmp.path().join("t/usr")).unwrap();
        let commit = repo
            .commit_layer(&crate::LayerCommit {
                reference: "mxos/t",
                parent: None,
                dir: &tmp.path().join("t"),
                metadata: &BTreeMap::new(),
                timestamp: 1,
            })
            .unwrap();
        repo.regenerate_summary_expiring(Some(4_000_000_000))
            .unwrap();
        let info = repo.summary_info().unwrap();
        assert_eq!(info.refs.get("mxos/t"), Some(&commit));
        assert_eq!(info.expires, Some(4_000_000_000));
        assert!(info.last_modified.is_some_and(|m| m > 1_700_000_000));
        assert_eq!(
            parse_summary(b"<html>404</html>").unwrap_err().to_string(),
            "not an OSTree summary (the data is not a normal-form (a(s(taya{sv}))a{sv}))"
        );
    }
}
