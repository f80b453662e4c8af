//! ed25519 keys and signatures in libostree's own format, so that any libostree built with
//! ed25519 support verifies what MxOS signs, and MxOS verifies what libostree signs.
//!
//! Format (libostree `ostree-sign-ed25519.c`): public keys are 32 raw bytes, secret keys 64 raw
//! bytes (seed followed by public key), both written base64 on one line; signatures are the
//! 64-byte pure-Ed25519 signature over the exact bytes of the signed object (the serialized
//! commit variant, or the summary file). `stored` puts them where libostree looks:
//! a commit's detached metadata and `summary.sig`.

mod stored;

pub use stored::{sign_commit, sign_summary, verify_commit, verify_summary};

use std::fmt;
use std::path::Path;

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

/// The detached-metadata key libostree stores ed25519 signatures under (type `aay`).
pub const METADATA_KEY: &str = "ostree.sign.ed25519";

/// A secret key: it can sign and knows its public half.
pub struct SecretKey(SigningKey);

/// A public key trusted to verify signatures.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl SecretKey {
    pub fn generate() -> Self {
        SecretKey(SigningKey::generate(&mut rand_core::OsRng))
    }

    /// Parses libostree's base64 form of the 64-byte secret key (seed + public key).
    pub fn from_base64(text: &str) -> Result<Self> {
        let bytes = B64
            .decode(text.trim())
            .context("secret key is not valid base64")?;
        let Ok(pair) = <[u8; 64]>::try_from(bytes.as_slice()) else {
            bail!(
                "secret key has {} bytes; an ed25519 secret key in ostree's format has 64 (seed + public key)",
                bytes.len()
            );
        };
        let key = SigningKey::from_keypair_bytes(&pair)
            .context("secret key's public half does not match its seed")?;
        Ok(SecretKey(key))
    }

    pub fn to_base64(&self) -> String {
        B64.encode(self.0.to_keypair_bytes())
    }

    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    pub fn sign(&self, data: &[u8]) -> [u8; 64] {
        self.0.sign(data).to_bytes()
    }

    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading secret key {}", path.display()))?;
        Self::from_base64(&text).with_context(|| format!("parsing secret key {}", path.display()))
    }
}

impl fmt::Debug for SecretKey {
    // Never print secret material, even in debug output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(public {})", self.public())
    }
}

impl PublicKey {
    pub fn from_base64(text: &str) -> Result<Self> {
        let bytes = B64
            .decode(text.trim())
            .context("public key is not valid base64")?;
        let Ok(raw) = <[u8; 32]>::try_from(bytes.as_slice()) else {
            bail!(
                "public key has {} bytes; an ed25519 public key in ostree's format has 32",
                bytes.len()
            );
        };
        Ok(PublicKey(
            VerifyingKey::from_bytes(&raw).context("public key is not a valid ed25519 point")?,
        ))
    }

    pub fn to_base64(&self) -> String {
        B64.encode(self.0.to_bytes())
    }

    /// Reads a key file the way libostree reads `trusted.ed25519`: one base64 key per line,
    /// blank lines and `#` comments ignored.
    pub fn read_all(path: &Path) -> Result<Vec<PublicKey>> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading public keys {}", path.display()))?;
        parse_key_lines(&text).with_context(|| format!("parsing public keys {}", path.display()))
    }
}

/// Parses one base64 public key per line; names the offending line.
pub fn parse_key_lines(text: &str) -> Result<Vec<PublicKey>> {
    let mut keys = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        keys.push(PublicKey::from_base64(line).with_context(|| format!("line {}", n + 1))?);
    }
    if keys.is_empty() {
        bail!("no public keys found (expected one base64 ed25519 key per line)");
    }
    Ok(keys)
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_base64())
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

/// Why a signed object was refused: each variant is a distinct thing a person must fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    Unsigned,
    UntrustedKey { signatures: usize },
    Malformed { index: usize, len: usize },
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Unsigned => write!(f, "no ed25519 signature ({METADATA_KEY}) found"),
            VerifyError::UntrustedKey { signatures } => write!(
                f,
                "none of its {signatures} ed25519 signature(s) was made by a trusted key (wrong key, or the content was altered after signing)"
            ),
            VerifyError::Malformed { index, len } => write!(
                f,
                "ed25519 signature #{index} has {len} bytes; expected 64"
            ),
        }
    }
}

impl std::error::Error for VerifyError {}

/// Accepts `data` when any signature verifies under any trusted key, as libostree does.
/// Returns the key that verified.
pub fn verify(
    data: &[u8],
    signatures: &[Vec<u8>],
    trusted: &[PublicKey],
) -> std::result::Result<PublicKey, VerifyError> {
    if signatures.is_empty() {
        return Err(VerifyError::Unsigned);
    }
    for (index, sig) in signatures.iter().enumerate() {
        let Ok(raw) = <[u8; 64]>::try_from(sig.as_slice()) else {
            return Err(VerifyError::Malformed {
                index,
                len: sig.len(),
            });
        };
        let sig = Signature::from_bytes(&raw);
        if let Some(key) = trusted.iter().find(|k| k.0.verify(data, &sig).is_ok()) {
            return Ok(key.clone());
        }
    }
    Err(VerifyError::UntrustedKey {
        signatures: signatures.len(),
    })
}

/// Writes a new key pair: `<base>.secret` (mode 0600) and `<base>.pub`. Refuses to overwrite.
pub fn write_keypair(secret_path: &Path, public_path: &Path) -> Result<PublicKey> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    for p in [secret_path, public_path] {
        if p.exists() {
            bail!(
                "{} already exists; refusing to overwrite a key",
                p.display()
            );
        }
    }
    let key = SecretKey::generate();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(secret_path)
        .with_context(|| format!("creating {}", secret_path.display()))?;
    writeln!(f, "{}", key.to_base64())
        .with_context(|| format!("writing {}", secret_path.display()))?;
    std::fs::write(public_path, format!("{}\n", key.public()))
        .with_context(|| format!("writing {}", public_path.display()))?;
    Ok(key.public())
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 8032 test vector 1: empty message.
    const SEED_HEX: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    const PUB_HEX: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    const SIG_HEX: &str = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn rfc_key() -> SecretKey {
        let mut pair = hex(SEED_HEX);
        pair.extend(hex(PUB_HEX));
        SecretKey::from_base64(&B64.encode(pair)).unwrap()
    }

    #[test]
    fn matches_rfc8032_vector() {
        let key = rfc_key();
        assert_eq!(key.public().to_base64(), B64.encode(hex(PUB_HEX)));
        assert_eq!(key.sign(b"").to_vec(), hex(SIG_HEX));
    }

    #[test]
    fn secret_key_is_seed_then_public_64_bytes() {
        let key = SecretKey::generate();
        let raw = B64.decode(key.to_base64()).unwrap();
        assert_eq!(raw.len(), 64);
        assert_eq!(&raw[32..], B64.decode(key.public().to_base64()).unwrap());
    }

    #[test]
    fn verify_accepts_trusted_and_refuses_others() {
        let key = rfc_key();
        let other = SecretKey::generate();
        let sig = key.sign(b"commit bytes").to_vec();
        assert_eq!(
            verify(
                b"commit bytes",
                std::slice::from_ref(&sig),
                &[other.public(), key.public()]
            )
            .unwrap(),
            key.public()
        );
        let err = verify(
            b"commit bytes",
            std::slice::from_ref(&sig),
            &[other.public()],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "none of its 1 ed25519 signature(s) was made by a trusted key (wrong key, or the content was altered after signing)"
        );
        assert!(matches!(
            verify(b"tampered bytes", &[sig], &[key.public()]),
            Err(VerifyError::UntrustedKey { signatures: 1 })
        ));
        assert_eq!(
            verify(b"x", &[], &[key.public()]).unwrap_err().to_string(),
            "no ed25519 signature (ostree.sign.ed25519) found"
        );
        assert_eq!(
            verify(b"x", &[vec![0; 10]], &[key.public()]).unwrap_err(),
            VerifyError::Malformed { index: 0, len: 10 }
        );
    }

    #[test]
    fn bad_key_text_is_explained() {
        let err = format!("{:#}", PublicKey::from_base64("AAAA").unwrap_err());
        assert_eq!(
            err,
            "public key has 3 bytes; an ed25519 public key in ostree's format has 32"
        );
        let err = format!(
            "{:#}",
            parse_key_lines("# trusted\n\n!!notbase64\n").unwrap_err()
        );
        assert!(
            err.starts_with("line 3: public key is not valid base64"),
            "{err}"
        );
        let err = format!(
            "{:#}",
            SecretKey::from_base64(&B64.encode([1u8; 32])).unwrap_err()
        );
        assert_eq!(
            err,
            "secret key has 32 bytes; an ed25519 secret key in ostree's format has 64 (seed + public key)"
        );
    }

    #[test]
    fn keypair_files_round_trip_and_never_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let (s, p) = (dir.path().join("k.secret"), dir.path().join("k.pub"));
        let public = write_keypair(&s, &p).unwrap();
        let secret = SecretKey::read(&s).unwrap();
        assert_eq!(secret.public(), public);
        assert_eq!(PublicKey::read_all(&p).unwrap(), vec![public]);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&s).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let err = write_keypair(&s, &p).unwrap_err().to_string();
        assert!(
            err.ends_with("already exists; refusing to overwrite a key"),
            "{err}"
        );
    }
}
