//! Throw-away GPG keys for tests: a private GNUPGHOME each, no passphrase, its agent ended
//! on drop.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct GpgHome {
    dir: tempfile::TempDir,
    pub fingerprint: String,
}

impl GpgHome {
    /// A new home with one ed25519 signing key for `name`.
    pub fn new(name: &str) -> GpgHome {
        let dir = tempfile::Builder::new()
            .prefix("gpg-")
            .tempdir_in("/tmp")
            .unwrap();
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        let mut home = GpgHome {
            dir,
            fingerprint: String::new(),
        };
        home.gpg(&[
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
            "--quick-gen-key",
            &format!("{name} <{name}@mxos.test>"),
            "ed25519",
            "sign",
            "never",
        ]);
        let listing = home.gpg(&["--batch", "--with-colons", "--list-secret-keys"]);
        let fingerprint = listing
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .and_then(|l| l.split(':').find(|f| f.len() == 40))
            .unwrap_or_else(|| panic!("no fingerprint in {listing}"))
            .to_owned();
        home.fingerprint = fingerprint;
        home
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The public key, exported binary, in a file beside the home.
    pub fn export(&self, to: &Path) -> PathBuf {
        let out = Command::new("gpg")
            .arg("--homedir")
            .arg(self.path())
            .args(["--batch", "--output"])
            .arg(to)
            .args(["--export", &self.fingerprint])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        to.to_owned()
    }

    fn gpg(&self, args: &[&str]) -> String {
        let out = Command::new("gpg")
            .arg("--homedir")
            .arg(self.path())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for GpgHome {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .arg("--homedir")
            .arg(self.path())
            .args(["--kill", "all"])
            .output();
    }
}
