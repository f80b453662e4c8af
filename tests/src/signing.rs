//! Signs test RPMs with rpmsign and a throw-away OpenPGP key in a temporary GNUPGHOME.
//!
//! The demo packages are signed by one fixed test key whose secret half lives in
//! `tests/keys/` and whose public half is `treefiles/RPM-GPG-KEY-mxos-demo`, beside the demo
//! treefile: a fixed key and a fixed signature time (the build's SOURCE_DATE_EPOCH) make
//! the signed RPMs byte-identical from one build to the next, so the content-keyed cache
//! and the committed key always agree. Other keys are generated on the spot.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{ensure, Context, Result};

use crate::run;

/// The demo key's secret half: a test key that signs nothing but the demo packages.
const DEMO_SECRET_KEY: &str = include_str!("../keys/mxos-demo-packages.secret.asc");
/// The demo key's public half, as the demo treefile's repo file names it.
pub const DEMO_PUBLIC_KEY: &str = include_str!("../../treefiles/RPM-GPG-KEY-mxos-demo");
/// The file name of [`DEMO_PUBLIC_KEY`] beside the demo treefile.
pub const DEMO_KEY_FILE: &str = "RPM-GPG-KEY-mxos-demo";

/// gpg's spelling of [`crate::rpms::SOURCE_DATE_EPOCH`] (2025-11-29T00:00:00Z).
const SIGNATURE_TIME: &str = "20251129T000000!";

/// An OpenPGP key in its own temporary GNUPGHOME.
pub struct Signer {
    home: tempfile::TempDir,
    /// Full fingerprint, upper-case hex.
    pub fingerprint: String,
}

impl Signer {
    fn empty_home() -> Result<tempfile::TempDir> {
        use std::os::unix::fs::PermissionsExt as _;
        // gpg-agent's socket path must stay short.
        let home = tempfile::Builder::new()
            .prefix("mxos-gpg-")
            .tempdir_in("/tmp")
            .context("creating a temporary GNUPGHOME")?;
        std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o700))
            .context("making GNUPGHOME private")?;
        Ok(home)
    }

    fn gpg(&self) -> Command {
        let mut cmd = Command::new("gpg");
        cmd.env("GNUPGHOME", self.home.path()).args([
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
        ]);
        cmd
    }

    fn read_fingerprint(home: tempfile::TempDir) -> Result<Signer> {
        let mut signer = Signer {
            home,
            fingerprint: String::new(),
        };
        let out = run(signer.gpg().args(["--with-colons", "--list-secret-keys"]))?;
        signer.fingerprint = out
            .lines()
            .find(|l| l.starts_with("fpr:"))
            .and_then(|l| l.split(':').nth(9))
            .context("gpg lists no secret key")?
            .to_owned();
        Ok(signer)
    }

    /// The key that signs the demo packages.
    pub fn demo() -> Result<Signer> {
        let home = Self::empty_home()?;
        let secret = home.path().join("demo.secret.asc");
        std::fs::write(&secret, DEMO_SECRET_KEY).context("writing the demo secret key")?;
        let mut cmd = Command::new("gpg");
        cmd.env("GNUPGHOME", home.path())
            .args(["--batch", "--import"])
            .arg(&secret);
        run(&mut cmd).context("importing the demo signing key")?;
        Self::read_fingerprint(home)
    }

    /// A new RSA key without passphrase, for `user_id`, made at the signature time (a key
    /// cannot sign before it exists).
    pub fn generate(user_id: &str) -> Result<Signer> {
        let home = Self::empty_home()?;
        let mut cmd = Command::new("gpg");
        cmd.env("GNUPGHOME", home.path())
            .args(["--batch", "--passphrase", ""])
            .args(["--faked-system-time", SIGNATURE_TIME, "--quick-gen-key"])
            .args([user_id, "rsa2048", "sign", "never"]);
        run(&mut cmd).with_context(|| format!("generating a GPG key for {user_id}"))?;
        Self::read_fingerprint(home)
    }

    /// rpm's key ID: the fingerprint's last 8 hex digits.
    pub fn short_id(&self) -> &str {
        &self.fingerprint[self.fingerprint.len() - 8..]
    }

    /// The ASCII-armored public key.
    pub fn public_key(&self) -> Result<String> {
        run(self.gpg().args(["--armor", "--export", &self.fingerprint]))
    }

    /// Writes the public key to `path` and returns it.
    pub fn write_public_key(&self, path: &Path) -> Result<PathBuf> {
        std::fs::write(path, self.public_key()?)
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(path.to_owned())
    }

    /// Writes the public key as a binary keyring (what apt's `signed-by` and mmdebstrap's
    /// `--keyring` read) to `path`.
    pub fn write_keyring(&self, path: &Path) -> Result<()> {
        let out = self
            .gpg()
            .args(["--export", &self.fingerprint])
            .output()
            .context("exporting a keyring with gpg")?;
        ensure!(
            out.status.success() && !out.stdout.is_empty(),
            "gpg --export {} failed: {}",
            self.fingerprint,
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(path, out.stdout).with_context(|| format!("writing {}", path.display()))
    }

    /// Armored detached signature of `file` (for apt's `Release.gpg`), or a clear-signed
    /// copy (`InRelease`) when `clear` is set.
    pub fn sign_file(&self, file: &Path, out: &Path, clear: bool) -> Result<()> {
        let mut cmd = self.gpg();
        cmd.args(["--faked-system-time", SIGNATURE_TIME, "--yes", "--armor"])
            .args(["--local-user", &self.fingerprint])
            .arg(if clear {
                "--clearsign"
            } else {
                "--detach-sign"
            })
            .arg("--output")
            .arg(out)
            .arg(file);
        run(&mut cmd)
            .map(drop)
            .with_context(|| format!("signing {}", file.display()))
    }

    /// Adds this key's signature to each RPM with rpmsign, at a fixed time, and checks it
    /// is there (rpmsign exits 0 even when gpg fails).
    pub fn sign_rpms(&self, rpms: &[PathBuf]) -> Result<()> {
        if rpms.is_empty() {
            return Ok(());
        }
        let mut cmd = Command::new("rpmsign");
        cmd.env("GNUPGHOME", self.home.path())
            .arg("--addsign")
            .args(["--define", "__gpg /usr/bin/gpg"])
            .args(["--define", &format!("_gpg_name {}", self.fingerprint)])
            .args([
                "--define",
                &format!("_gpg_path {}", self.home.path().display()),
            ])
            .args([
                "--define",
                &format!("_gpg_sign_cmd_extra_args --faked-system-time {SIGNATURE_TIME}"),
            ])
            .args(rpms);
        run(&mut cmd).context("signing RPMs with rpmsign")?;
        let out = run(Command::new("rpm")
            .args(["-qp", "--nosignature", "--qf", "%{RSAHEADER:pgpsig}\\n"])
            .args(rpms))?;
        let want = self.fingerprint.to_lowercase();
        for (rpm, sig) in rpms.iter().zip(out.lines()) {
            ensure!(
                sig.ends_with(&format!("Key ID {}", &want[want.len() - 16..])),
                "rpmsign left {} without our signature: {sig}",
                rpm.display()
            );
        }
        Ok(())
    }
}

impl Drop for Signer {
    fn drop(&mut self) {
        // gpg started an agent for this home; it must not outlive the directory.
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", self.home.path())
            .args(["--kill", "gpg-agent"])
            .output();
    }
}
