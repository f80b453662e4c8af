//! Why dnf refused a package's signature, said per package: dnf names the package but not
//! the key that signed it, so the refused files are checked again with `rpmkeys -Kv`
//! against the keys the treefile's repos trust.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use super::keys::{fingerprints, RepoKey};

/// What dnf says when a signature check fails.
const DNF_SIGNATURE_ERRORS: [&str; 4] = [
    "GPG check FAILED",
    "is not signed",
    "Public key for",
    "are already installed but they are not correct",
];

/// The verdict on one package from `rpmkeys -Kv` output, `None` when it verifies.
pub fn verdict(block: &str) -> Option<String> {
    let signature = block
        .lines()
        .map(str::trim)
        .find(|l| l.contains("Signature, key ID"));
    let key = signature.and_then(|l| {
        let id = l.split("key ID ").nth(1)?.split(':').next()?;
        Some(id.trim().to_uppercase())
    });
    let bad: Vec<&str> = block
        .lines()
        .map(str::trim)
        .filter_map(|l| l.split_once(": BAD").map(|(what, _)| what))
        .collect();
    if !bad.is_empty() {
        return Some(format!(
            "altered after it was signed ({} do not match its content){}",
            bad.join(", "),
            key.map(|k| format!("; signed with key ID {k}"))
                .unwrap_or_default()
        ));
    }
    match (key, signature) {
        (None, _) => Some("not signed".to_owned()),
        (Some(k), Some(l)) if l.ends_with(": NOKEY") => Some(format!(
            "signed with key ID {k}, which is not a key of the treefile's repos"
        )),
        (Some(k), Some(l)) if !l.ends_with(": OK") => Some(format!(
            "signature by key ID {k} not accepted ({})",
            l.rsplit(": ").next().unwrap_or_default()
        )),
        _ => None,
    }
}

/// `rpmkeys -Kv` output split per package file: (file name, block).
fn blocks(output: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in output.lines() {
        if !line.starts_with([' ', '\t']) && line.trim_end().ends_with(':') {
            let path = line.trim_end().trim_end_matches(':');
            let name = Path::new(path)
                .file_name()
                .map_or(path.to_owned(), |n| n.to_string_lossy().into_owned());
            out.push((name, String::new()));
        } else if let Some((_, block)) = out.last_mut() {
            block.push_str(line);
            block.push('\n');
        }
    }
    out
}

/// When dnf's error `said` is about signatures: one line per refused package in `pkgdir`
/// naming its file and the key that signed it, then the keys the repos trust.
pub fn explain(said: &str, pkgdir: &Path, keys: &[RepoKey], work: &Path) -> Result<Option<String>> {
    if !DNF_SIGNATURE_ERRORS.iter().any(|m| said.contains(m)) {
        return Ok(None);
    }
    let mut files: Vec<_> = std::fs::read_dir(pkgdir)
        .with_context(|| format!("listing {}", pkgdir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "rpm"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Ok(None);
    }
    let db = work.join("keyring");
    if db.exists() {
        std::fs::remove_dir_all(&db).with_context(|| format!("clearing {}", db.display()))?;
    }
    std::fs::create_dir_all(&db).with_context(|| format!("creating {}", db.display()))?;
    let mut trusted = String::new();
    for key in keys {
        mxos_process::run(
            Command::new("rpmkeys")
                .arg("--dbpath")
                .arg(&db)
                .arg("--import")
                .arg(&key.path),
        )
        .with_context(|| format!("importing {}", key.path.display()))?;
        let _ = write!(
            trusted,
            "\n  repo `{}`: {} ({})",
            key.repo,
            key.written,
            fingerprints(&key.path, &work.join("gnupg"))?.join(", ")
        );
    }
    let out = mxos_process::run_unchecked(
        Command::new("rpmkeys")
            .env("LC_ALL", "C.UTF-8")
            .arg("--dbpath")
            .arg(&db)
            .arg("-Kv")
            .args(&files),
    )
    .context("checking the refused packages' signatures with rpmkeys")?;
    let checked = blocks(&String::from_utf8_lossy(&out.stdout));
    let refused: Vec<(String, String)> = checked
        .iter()
        .filter_map(|(name, block)| verdict(block).map(|v| (name.clone(), v)))
        .collect();
    // Packages of `gpgcheck=0` repos may be unsigned too: name those dnf named.
    let named: Vec<&(String, String)> = refused
        .iter()
        .filter(|(name, _)| said.contains(name.trim_end_matches(".rpm")))
        .collect();
    let shown: Vec<&(String, String)> = if named.is_empty() {
        refused.iter().collect()
    } else {
        named
    };
    if shown.is_empty() {
        return Ok(None);
    }
    let mut text = String::from(
        "package signatures refused (dnf checks every repo unless its .repo file says gpgcheck=0); nothing was installed or committed:",
    );
    for (name, why) in shown {
        let _ = write!(text, "\n  {name}: {why}");
    }
    let _ = write!(text, "\nkeys the treefile's repos trust:");
    if trusted.is_empty() {
        text.push_str(" none");
    }
    text.push_str(&trusted);
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_from_rpmkeys() {
        let out = "/p/a-1-1.noarch.rpm:\n    Header V4 RSA/SHA512 Signature, key ID 88e453df: OK\n    Header SHA256 digest: OK\n    Payload SHA256 digest: OK\n\
                   /p/b-1-1.noarch.rpm:\n    Header V4 RSA/SHA512 Signature, key ID 1234abcd: NOKEY\n    Header SHA256 digest: OK\n\
                   /p/c-1-1.noarch.rpm:\n    Header SHA256 digest: OK\n    Payload SHA256 digest: OK\n\
                   /p/d-1-1.noarch.rpm:\n    Header V4 RSA/SHA512 Signature, key ID 88e453df: OK\n    Header SHA256 digest: OK\n    Payload SHA256 digest: BAD (Expected 1 != 2)\n    MD5 digest: BAD (Expected 3 != 4)\n";
        let got: Vec<(String, Option<String>)> = blocks(out)
            .into_iter()
            .map(|(n, b)| (n, verdict(&b)))
            .collect();
        assert_eq!(
            got,
            [
                ("a-1-1.noarch.rpm".to_owned(), None),
                (
                    "b-1-1.noarch.rpm".to_owned(),
                    Some("signed with key ID 1234ABCD, which is not a key of the treefile's repos".to_owned())
                ),
                ("c-1-1.noarch.rpm".to_owned(), Some("not signed".to_owned())),
                (
                    "d-1-1.noarch.rpm".to_owned(),
                    Some("altered after it was signed (Payload SHA256 digest, MD5 digest do not match its content); signed with key ID 88E453DF".to_owned())
                ),
            ]
        );
    }
}
