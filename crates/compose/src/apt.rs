//! The apt backend: a Debian root built by the real mmdebstrap (variant minbase plus the
//! plan's packages), with downloaded .debs cached under /var/cache/mxos so a second compose
//! does not fetch them again.
//!
//! Unlike dnf, apt cannot cheaply resolve without installing, so the resolved set (and so
//! the input hash) is read from the installed root.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, bail, Context, Result};
use mxos_treefile::{AptSource, AptVariant, Plan};

use mxos_process::run;

pub const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";
/// Debian's own keyring (package debian-archive-keyring): what a mirror is checked with
/// when the treefile names no `keyring`, rather than whatever the build host trusts.
pub const DEBIAN_KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";
/// Where downloaded packages are kept between composes.
pub const DEB_CACHE: &str = "/var/cache/mxos/apt-archives";
/// Where the dpkg database lives in MxOS trees: `/var` is not part of a commit.
pub const DPKG_DIR: &str = "usr/lib/sysimage/dpkg";

/// The installed package set, `name=version:arch`, sorted.
pub struct Installed {
    pub packages: Vec<String>,
    /// Newest packaged file time (the `copyright` files come from each .deb, so this is a
    /// property of the inputs, not of the build time).
    pub newest_time: u64,
}

pub fn install(plan: &Plan, root: &Path, epoch: Option<u64>) -> Result<Installed> {
    let suite = plan
        .treefile
        .suite
        .as_deref()
        .context("backend apt needs `suite`")?;
    let mirror = plan.treefile.mirror.as_deref().unwrap_or(DEFAULT_MIRROR);
    if root.exists() && std::fs::read_dir(root)?.next().is_some() {
        bail!(
            "{} is not empty; mmdebstrap needs an empty target",
            root.display()
        );
    }
    std::fs::create_dir_all(DEB_CACHE).with_context(|| format!("creating {DEB_CACHE}"))?;
    let mut cmd = Command::new("mmdebstrap");
    if let Some(e) = epoch {
        cmd.env("SOURCE_DATE_EPOCH", e.to_string());
    }
    let keyring = plan
        .treefile
        .keyring
        .as_ref()
        .map_or_else(|| PathBuf::from(DEBIAN_KEYRING), |k| k.path.clone());
    cmd.args(match plan.treefile.apt_variant {
        AptVariant::Minbase => ["--variant=minbase", "--mode=root"],
        // Without essential packages the root has no dpkg of its own.
        AptVariant::Custom => ["--variant=custom", "--mode=chrootless"],
    })
    .args(["--skip=essential/unlink", "--skip=download/empty"])
    .arg(format!("--keyring={}", keyring.display()))
    .arg(format!(
        "--aptopt=APT::Install-Recommends \"{}\"",
        plan.treefile.recommends
    ));
    if !plan.treefile.packages.is_empty() {
        cmd.arg(format!("--include={}", plan.treefile.packages.join(",")));
    }
    if !plan.treefile.documentation {
        cmd.args([
            "--dpkgopt=path-exclude=/usr/share/doc/*",
            "--dpkgopt=path-include=/usr/share/doc/*/copyright",
            "--dpkgopt=path-exclude=/usr/share/man/*",
            "--dpkgopt=path-exclude=/usr/share/info/*",
        ]);
    }
    cmd.arg("--setup-hook=mkdir -p \"$1\"/var/cache/apt/archives/")
        .arg(format!(
            "--setup-hook=sync-in {DEB_CACHE} /var/cache/apt/archives/"
        ))
        .arg(format!(
            "--customize-hook=sync-out /var/cache/apt/archives {DEB_CACHE}"
        ))
        .arg(suite)
        .arg(root)
        .arg(mirror)
        .args(extra_sources(plan)?.iter().map(mmdebstrap_line));
    let built = run(&mut cmd);
    if let Err(e) = &built {
        if let Some(problem) = signature_problem(&format!("{e:#}")) {
            bail!(
                "the Debian mirror {mirror} ({suite}) is refused: {problem}; its Release files were checked with the keyring {}{}",
                keyring.display(),
                if plan.treefile.keyring.is_some() {
                    " (`keyring` in the treefile)"
                } else {
                    " (Debian's own; name the mirror's with `keyring`)"
                }
            );
        }
    }
    built.with_context(|| {
        format!("building the Debian {suite} root with mmdebstrap from {mirror}")
    })?;

    let out = run(Command::new("dpkg-query")
        .arg(format!(
            "--admindir={}",
            root.join("var/lib/dpkg").display()
        ))
        .args(["-W", "-f", "${Package}=${Version}:${Architecture}\\n"]))
    .context("listing installed Debian packages")?;
    let mut packages: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    packages.sort();
    drop_host_leftovers(root)?;
    Ok(Installed {
        newest_time: newest_copyright_time(root)?,
        packages,
    })
}

/// apt's account of a Release signature it refused (`W: GPG error: ...`), without the
/// mirror it names.
pub fn signature_problem(output: &str) -> Option<String> {
    let line = output
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("W: GPG error:"))
        .or_else(|| {
            output
                .lines()
                .map(str::trim)
                .find(|l| l.starts_with("E: The repository") && l.ends_with("is not signed."))
        })?;
    let rest = line.strip_prefix("W: GPG error: ").unwrap_or(line);
    // `URL SUITE InRelease: what went wrong`
    Some(
        rest.split_once("Release: ")
            .map_or(rest, |(_, why)| why)
            .to_owned(),
    )
}

fn newest_copyright_time(root: &Path) -> Result<u64> {
    let doc = root.join("usr/share/doc");
    let mut newest = 0;
    if let Ok(entries) = std::fs::read_dir(&doc) {
        for e in entries {
            let p: PathBuf = e?.path().join("copyright");
            if let Ok(m) = std::fs::symlink_metadata(&p) {
                use std::os::unix::fs::MetadataExt;
                newest = newest.max(m.mtime().max(0) as u64);
            }
        }
    }
    Ok(newest)
}

/// A fingerprint of the suite as the mirror serves it now: its signed `InRelease` pins
/// every package index by checksum, so the same plan against the same `InRelease` resolves
/// to the same packages. This lets a compose say "no changes" without bootstrapping.
pub fn release_fingerprint(plan: &Plan, work: &Path) -> Result<String> {
    let suite = plan
        .treefile
        .suite
        .as_deref()
        .context("backend apt needs `suite`")?;
    let mirror = plan
        .treefile
        .mirror
        .as_deref()
        .unwrap_or(DEFAULT_MIRROR)
        .trim_end_matches('/');
    let url = format!("{mirror}/dists/{suite}/InRelease");
    std::fs::create_dir_all(work)?;
    let bytes = mxos_process::fetch(&url, &work.join("InRelease"))?;
    let extra = extra_sources(plan)?;
    if extra.is_empty() {
        return Ok(blake3::hash(&bytes).to_hex().to_string());
    }
    let mut hasher = blake3::Hasher::new();
    hasher.update(blake3::hash(&bytes).as_bytes());
    for (i, source) in extra.iter().enumerate() {
        let bytes = source_index(source, &work.join(format!("apt-source-{i}")))?;
        hasher.update(blake3::hash(&bytes).as_bytes());
    }
    Ok(hasher.finalize().to_hex().to_string())
}

fn extra_sources(plan: &Plan) -> Result<Vec<AptSource>> {
    plan.treefile
        .apt_sources
        .iter()
        .map(|line| AptSource::parse(line).map_err(|e| anyhow!("apt-sources: {e}")))
        .collect()
}

/// apt's `file:` method hands dpkg the package where it lies on the host, but dpkg runs
/// inside the new root, where that path does not exist; `copy:` reads the same files and
/// puts each package into the root's archive cache first, as a download would.
fn mmdebstrap_line(source: &AptSource) -> String {
    match source.uri.strip_prefix("file:") {
        Some(rest) => source.line_with_uri(&format!("copy:{rest}")),
        None => source.line_with_uri(&source.uri),
    }
}

/// What pins a source's packages: its signed `InRelease`, else its `Release`, else (a flat
/// repository made by `dpkg-scanpackages` alone) its `Packages` index itself.
fn source_index(source: &AptSource, work: &Path) -> Result<Vec<u8>> {
    let dir = source.index_dir();
    let mut names = vec!["InRelease", "Release"];
    if source.is_flat() {
        names.extend(["Packages", "Packages.xz", "Packages.gz"]);
    }
    std::fs::create_dir_all(work)?;
    let mut last = None;
    for name in &names {
        match mxos_process::fetch(&format!("{dir}/{name}"), &work.join(name)) {
            Ok(bytes) => return Ok(bytes),
            Err(e) => last = Some(e),
        }
    }
    let why = last.map(|e| format!("{e:#}")).unwrap_or_default();
    bail!(
        "apt-sources: `{}`: no {} in {dir}; the last attempt: {why}",
        source.line_with_uri(&source.uri),
        names.join(", ")
    )
}

/// mmdebstrap copies the build host's /etc/hostname and /etc/resolv.conf into the root;
/// neither belongs in an image (an overlay may set a hostname).
pub fn drop_host_leftovers(root: &Path) -> Result<()> {
    let resolv = root.join("etc/resolv.conf");
    if std::fs::symlink_metadata(&resolv).is_ok() {
        std::fs::remove_file(&resolv).context("removing the build host's /etc/resolv.conf")?;
    }
    std::fs::write(root.join("etc/hostname"), "localhost\n").context("resetting /etc/hostname")
}

/// Debian's package database must survive in the commit: move it under /usr (as rpm's
/// /usr/lib/sysimage/rpm) and leave a tmpfiles.d symlink so dpkg still finds it.
pub fn relocate_dpkg_db(root: &Path) -> Result<Option<String>> {
    let var_dpkg = root.join("var/lib/dpkg");
    if !var_dpkg.is_dir() {
        return Ok(None);
    }
    let dest = root.join(DPKG_DIR);
    std::fs::create_dir_all(dest.parent().unwrap_or(root))?;
    std::fs::rename(&var_dpkg, &dest).context("moving /var/lib/dpkg to /usr/lib/sysimage/dpkg")?;
    // dpkg's lock files and backups are state, not content.
    for f in [
        "lock",
        "lock-frontend",
        "triggers/Lock",
        "status-old",
        "diversions-old",
        "statoverride-old",
    ] {
        let p = dest.join(f);
        if p.exists() {
            std::fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
        }
    }
    Ok(Some(format!("L /var/lib/dpkg - - - - ../../{DPKG_DIR}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apt_says_which_signature_it_refused() {
        let out = "Err:1 http://127.0.0.1:8 bookworm InRelease\n  The following signatures couldn't be verified because the public key is not available: NO_PUBKEY 8201986C88E453DF\n\
                   W: GPG error: http://127.0.0.1:8 bookworm InRelease: The following signatures couldn't be verified because the public key is not available: NO_PUBKEY 8201986C88E453DF\n\
                   E: The repository 'http://127.0.0.1:8 bookworm InRelease' is not signed.\n";
        assert_eq!(
            signature_problem(out).as_deref(),
            Some("The following signatures couldn't be verified because the public key is not available: NO_PUBKEY 8201986C88E453DF")
        );
        assert_eq!(
            signature_problem("E: The repository 'http://m bookworm Release' is not signed.\n")
                .as_deref(),
            Some("E: The repository 'http://m bookworm Release' is not signed.")
        );
        assert_eq!(signature_problem("E: Unable to locate package x"), None);
    }

    fn plan(mirror: &Path, sources: &[String]) -> Plan {
        let yaml = format!(
            "ref: r\nbackend: apt\nsuite: bookworm\nmirror: file://{}\napt-sources: {}\n",
            mirror.display(),
            serde_json::to_string(sources).unwrap()
        );
        mxos_treefile::load_str("t.yaml", &yaml, "x86_64").unwrap()
    }

    #[test]
    fn a_flat_repository_s_packages_index_is_part_of_the_fingerprint() {
        let tmp = tempfile::tempdir().unwrap();
        let (mirror, flat) = (tmp.path().join("mirror"), tmp.path().join("flat"));
        std::fs::create_dir_all(mirror.join("dists/bookworm")).unwrap();
        std::fs::write(mirror.join("dists/bookworm/InRelease"), "suite v1\n").unwrap();
        std::fs::create_dir_all(&flat).unwrap();
        std::fs::write(flat.join("Packages"), "Package: mxos-update\n").unwrap();
        let work = tmp.path().join("work");
        let line = format!("deb [trusted=yes] file://{} ./", flat.display());

        let alone = release_fingerprint(&plan(&mirror, &[]), &work).unwrap();
        assert_eq!(alone, blake3::hash(b"suite v1\n").to_hex().to_string());
        let with = plan(&mirror, std::slice::from_ref(&line));
        let first = release_fingerprint(&with, &work).unwrap();
        assert_ne!(first, alone);
        assert_eq!(release_fingerprint(&with, &work).unwrap(), first);
        std::fs::write(flat.join("Packages"), "Package: mxos-update\nVersion: 2\n").unwrap();
        assert_ne!(release_fingerprint(&with, &work).unwrap(), first);
        assert_eq!(
            mmdebstrap_line(&AptSource::parse(&line).unwrap()),
            format!("deb [trusted=yes] copy://{} ./", flat.display())
        );

        std::fs::remove_file(flat.join("Packages")).unwrap();
        let err = format!("{:#}", release_fingerprint(&with, &work).unwrap_err());
        let prefix = format!(
            "apt-sources: `{line}`: no InRelease, Release, Packages, Packages.xz, Packages.gz in file://{}/.; the last attempt: fetching file://{}/./Packages.gz: ",
            flat.display(),
            flat.display()
        );
        assert!(err.starts_with(&prefix), "{err}");
    }
}
