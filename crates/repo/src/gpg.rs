//! GPG signatures through libostree's gpgme support: commits, the summary, and a remote's
//! keyring. libostree keeps them beside the ed25519 ones (`ostree.gpgsigs` in the same
//! detached metadata and `summary.sig`), so a repo can carry both.

use std::path::Path;

use anyhow::{bail, Context, Result};
use ostree::gio;
use ostree::glib;

use crate::{gerr, Repo};

/// The key libostree stores GPG signatures under in detached metadata and `summary.sig`.
pub const GPG_METADATA_KEY: &str = "ostree.gpgsigs";

/// Which GPG key signs, and the GnuPG home directory that holds its secret part.
#[derive(Debug, Clone)]
pub struct GpgKey<'a> {
    pub key_id: &'a str,
    pub homedir: &'a Path,
}

impl GpgKey<'_> {
    /// gpgme's own errors say neither which key nor which directory was asked for; a missing
    /// directory would even be created empty. Check what can be checked first.
    pub fn check(&self) -> Result<&str> {
        if self.key_id.trim().is_empty() {
            bail!("the GPG key id is empty; give a key id or fingerprint (`gpg --list-secret-keys --homedir DIR`)");
        }
        if !self.homedir.is_dir() {
            bail!(
                "GPG home directory {} does not exist; point --gpg-homedir at the GnuPG directory holding the secret key {}",
                self.homedir.display(),
                self.key_id
            );
        }
        self.homedir.to_str().with_context(|| {
            format!(
                "GPG home directory {} is not valid UTF-8",
                self.homedir.display()
            )
        })
    }

    fn describe(&self) -> String {
        format!("GPG key {} from {}", self.key_id, self.homedir.display())
    }
}

impl Repo {
    /// Adds a GPG signature by `key` to the commit, unless `public_key` (the key's exported
    /// public part) already verifies one there. libostree's own duplicate check reads only
    /// `pubring.gpg`, which GnuPG 2.2 homes lack (they keep `pubring.kbx`), so it cannot
    /// be relied on.
    pub fn gpg_sign_commit(&self, checksum: &str, key: &GpgKey, public_key: &[u8]) -> Result<()> {
        let homedir = key.check()?;
        if self.gpg_signed_by(checksum, public_key)? {
            return Ok(());
        }
        self.inner
            .sign_commit(checksum, key.key_id, Some(homedir), gio::Cancellable::NONE)
            .map_err(gerr)
            .with_context(|| format!("signing commit {checksum} with {}", key.describe()))
    }

    /// Whether a GPG signature on the commit verifies with `public_key` alone (an empty
    /// keyring directory keeps the system's trusted keys out of it).
    pub fn gpg_signed_by(&self, checksum: &str, public_key: &[u8]) -> Result<bool> {
        let sigs = self.detached_signatures(checksum, GPG_METADATA_KEY)?;
        if sigs.is_empty() {
            return Ok(false);
        }
        let dir = tempfile::tempdir().context("creating a temporary keyring directory")?;
        let keyring = dir.path().join("key.gpg");
        std::fs::write(&keyring, public_key)
            .with_context(|| format!("writing {}", keyring.display()))?;
        let empty = dir.path().join("none");
        std::fs::create_dir(&empty).with_context(|| format!("creating {}", empty.display()))?;
        match self.inner.verify_commit_ext(
            checksum,
            Some(&gio::File::for_path(&empty)),
            Some(&gio::File::for_path(&keyring)),
            gio::Cancellable::NONE,
        ) {
            Ok(result) => Ok(result.count_valid() > 0),
            Err(_) => Ok(false),
        }
    }

    /// Adds a GPG signature over the current `summary` to `summary.sig`, keeping the
    /// signatures already there (the ed25519 ones included).
    pub fn gpg_sign_summary(&self, key: &GpgKey) -> Result<()> {
        let homedir = key.check()?;
        self.inner
            .add_gpg_signature_summary(&[key.key_id], Some(homedir), gio::Cancellable::NONE)
            .map_err(gerr)
            .with_context(|| {
                format!(
                    "signing the summary of {} with {}",
                    self.path().display(),
                    key.describe()
                )
            })
    }

    /// Imports public keys (armored or binary) into the keyring libostree keeps for
    /// `remote`; returns how many were imported.
    pub fn remote_gpg_import(&self, remote: &str, keys: &[u8]) -> Result<u32> {
        use ostree::glib::translate::{FromGlibPtrFull, ToGlibPtr};
        let stream = gio::MemoryInputStream::from_bytes(&glib::Bytes::from(keys));
        let repo = self.inner.to_glib_none();
        let name = remote.to_glib_none();
        let source: ostree::glib::translate::Stash<'_, *mut gio::ffi::GInputStream, _> =
            ostree::prelude::Cast::upcast_ref::<gio::InputStream>(&stream).to_glib_none();
        let mut imported: std::os::raw::c_uint = 0;
        let mut error: *mut glib::ffi::GError = std::ptr::null_mut();
        // The binding passes an empty key list as a non-NULL array, which libostree reads as
        // "import none of them"; NULL means every key in the stream.
        #[allow(unsafe_code)]
        let ok = unsafe {
            ostree::ffi::ostree_repo_remote_gpg_import(
                repo.0,
                name.0,
                source.0,
                std::ptr::null(),
                &mut imported,
                std::ptr::null_mut(),
                &mut error,
            )
        };
        if ok == glib::ffi::GFALSE {
            #[allow(unsafe_code)]
            let e = unsafe { glib::Error::from_glib_full(error) };
            return Err(gerr(e)).with_context(|| crate::Step::ImportGpgKeys {
                remote: remote.to_owned(),
            });
        }
        Ok(imported)
    }
}
