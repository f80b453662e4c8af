//! Builds real RPMs with rpmbuild from Rust-described package specs and indexes them with createrepo_c.

use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};

use crate::run;

/// Fixed build time (2025-11-29T00:00:00Z) so rebuilding a spec reproduces the same bytes.
pub const SOURCE_DATE_EPOCH: &str = "1764374400";

/// Bumped whenever the way specs are turned into RPMs changes, so cached repos get rebuilt.
const BUILDER_VERSION: &str = "mxos-tests rpms v1";

/// A package to build, described entirely in Rust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageSpec {
    pub name: String,
    pub version: String,
    pub release: String,
    pub summary: String,
    pub requires: Vec<String>,
    pub provides: Vec<String>,
    /// What the package installs.
    pub files: Vec<FileEntry>,
    /// Body of the `%pre` scriptlet (sh), e.g. creating the users `owners` names.
    pub pre: Option<String>,
    /// Body of the `%post` scriptlet (sh).
    pub post: Option<String>,
    /// Other scriptlet sections, verbatim: (header such as
    /// `%transfiletriggerin -- /usr/lib/x`, body).
    pub scriptlets: Vec<(String, String)>,
    /// (path, user, group) for payload entries not owned by root, as `%attr` names them.
    pub owners: Vec<(String, String, String)>,
    /// `false` builds for x86_64, for packages that carry binaries.
    pub buildarch_noarch: bool,
}

/// One entry of a package's payload; paths are absolute paths on the installed system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileEntry {
    File {
        path: String,
        contents: Vec<u8>,
        mode: u32,
    },
    Dir {
        path: String,
        mode: u32,
    },
    Symlink {
        path: String,
        target: String,
    },
    /// A file copied from the build host, e.g. a static binary.
    HostFile {
        path: String,
        source: PathBuf,
        mode: u32,
    },
}

impl FileEntry {
    pub fn path(&self) -> &str {
        match self {
            FileEntry::File { path, .. }
            | FileEntry::Dir { path, .. }
            | FileEntry::Symlink { path, .. }
            | FileEntry::HostFile { path, .. } => path,
        }
    }
}

impl PackageSpec {
    /// A noarch 1.0-1 package with nothing in it, to be filled in by the caller.
    pub fn new(name: &str, summary: &str) -> PackageSpec {
        PackageSpec {
            name: name.to_owned(),
            version: "1.0".to_owned(),
            release: "1".to_owned(),
            summary: summary.to_owned(),
            requires: Vec::new(),
            provides: Vec::new(),
            files: Vec::new(),
            pre: None,
            post: None,
            scriptlets: Vec::new(),
            owners: Vec::new(),
            buildarch_noarch: true,
        }
    }

    pub fn arch(&self) -> &'static str {
        if self.buildarch_noarch {
            "noarch"
        } else {
            "x86_64"
        }
    }

    /// The spec file rpmbuild sees. The staging directory is referenced through the
    /// `mxos_stage` macro rather than inlined so the text (and hence cache stamps) does not
    /// depend on where the build happens.
    pub fn spec_text(&self) -> Result<String> {
        self.validate()?;
        let mut s = String::new();
        // Writing to a String cannot fail, hence the ignored fmt::Results below.
        let _ = writeln!(s, "Name: {}", self.name);
        let _ = writeln!(s, "Version: {}", self.version);
        let _ = writeln!(s, "Release: {}", self.release);
        let _ = writeln!(s, "Summary: {}", escape_macros(&self.summary));
        let _ = writeln!(s, "License: GPL-3.0-or-later");
        let _ = writeln!(s, "BuildArch: {}", self.arch());
        // Only the dependencies the test wants, never ones rpm derives from file contents.
        let _ = writeln!(s, "AutoReqProv: no");
        for req in &self.requires {
            let _ = writeln!(s, "Requires: {req}");
        }
        for prov in &self.provides {
            let _ = writeln!(s, "Provides: {prov}");
        }
        if self.pre.is_some() {
            let _ = writeln!(s, "Requires(pre): /bin/sh");
        }
        if self.post.is_some() {
            let _ = writeln!(s, "Requires(post): /bin/sh");
        }
        let _ = writeln!(s, "\n%description\n{}\n", escape_macros(&self.summary));
        let _ = writeln!(s, "%prep\n\n%build\n");
        let _ = writeln!(s, "%install");
        let _ = writeln!(s, "mkdir -p %{{buildroot}}");
        let _ = writeln!(s, "cp -a '%{{mxos_stage}}/.' %{{buildroot}}/\n");
        if let Some(pre) = &self.pre {
            let _ = writeln!(s, "%pre\n{}\n", escape_macros(pre.trim_end()));
        }
        if let Some(post) = &self.post {
            let _ = writeln!(s, "%post\n{}\n", escape_macros(post.trim_end()));
        }
        for (header, body) in &self.scriptlets {
            let _ = writeln!(s, "{header}\n{}\n", escape_macros(body.trim_end()));
        }
        let _ = writeln!(s, "%files");
        for entry in &self.files {
            let (user, group) = self
                .owners
                .iter()
                .find(|(p, _, _)| p == entry.path())
                .map_or(("root", "root"), |(_, u, g)| (u.as_str(), g.as_str()));
            let line = match entry {
                FileEntry::Dir { path, mode } => {
                    format!("%dir %attr({mode:04o},{user},{group}) {path}")
                }
                FileEntry::File { path, mode, .. } | FileEntry::HostFile { path, mode, .. } => {
                    format!("%attr({mode:04o},{user},{group}) {path}")
                }
                // Symlink modes are meaningless; rpm records 0777 regardless.
                FileEntry::Symlink { path, .. } => format!("%attr(-,root,root) {path}"),
            };
            let _ = writeln!(s, "{line}");
        }
        Ok(s)
    }

    fn validate(&self) -> Result<()> {
        for (what, value) in [
            ("name", &self.name),
            ("version", &self.version),
            ("release", &self.release),
        ] {
            ensure!(
                !value.is_empty()
                    && value.chars().all(|c| c.is_ascii_alphanumeric()
                        || "._+~^".contains(c)
                        || (what == "name" && c == '-')),
                "package {:?}: {what} {value:?} is not a valid rpm {what}",
                self.name
            );
        }
        for dep in self
            .requires
            .iter()
            .chain(&self.provides)
            .chain([&self.summary])
        {
            ensure!(
                !dep.contains('\n'),
                "package {}: {dep:?} contains a newline",
                self.name
            );
        }
        for (path, user, group) in &self.owners {
            ensure!(
                self.files.iter().any(|f| f.path() == path),
                "package {}: owner given for {path}, which is not in its files",
                self.name
            );
            for n in [user, group] {
                ensure!(
                    !n.is_empty()
                        && n.chars()
                            .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c)),
                    "package {}: owner {n:?} of {path} is not a plain user or group name",
                    self.name
                );
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for entry in &self.files {
            let path = entry.path();
            // %files lines are globbed and macro-expanded, so only allow characters that
            // mean nothing to either.
            ensure!(
                path.starts_with('/')
                    && path.len() > 1
                    && !path.split('/').any(|c| c == ".." || c == ".")
                    && path
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "/._+-@:".contains(c)),
                "package {}: file path {path:?} must be absolute and use only [A-Za-z0-9/._+-@:]",
                self.name
            );
            ensure!(
                seen.insert(path),
                "package {}: {path} listed twice",
                self.name
            );
        }
        Ok(())
    }

    /// Materialises the payload under `stage`, which %install then copies verbatim.
    fn stage(&self, stage: &Path) -> Result<()> {
        fs::create_dir_all(stage).with_context(|| format!("creating {}", stage.display()))?;
        // Dirs first so their modes are set before files land in them, then everything
        // else; parents not listed as Dir are created but left unowned.
        let mut entries: Vec<&FileEntry> = self.files.iter().collect();
        entries.sort_by_key(|e| !matches!(e, FileEntry::Dir { .. }));
        for entry in entries {
            let dest = stage.join(entry.path().trim_start_matches('/'));
            if let Some(parent) = dest.parent() {
                fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            match entry {
                FileEntry::Dir { mode, .. } => {
                    fs::create_dir_all(&dest)
                        .with_context(|| format!("creating {}", dest.display()))?;
                    set_mode(&dest, *mode)?;
                }
                FileEntry::File { contents, mode, .. } => {
                    fs::write(&dest, contents)
                        .with_context(|| format!("writing {}", dest.display()))?;
                    set_mode(&dest, *mode)?;
                }
                FileEntry::HostFile { source, mode, .. } => {
                    fs::copy(source, &dest).with_context(|| {
                        format!("copying {} to {}", source.display(), dest.display())
                    })?;
                    set_mode(&dest, *mode)?;
                }
                FileEntry::Symlink { target, .. } => {
                    symlink(target, &dest)
                        .with_context(|| format!("symlinking {} -> {target}", dest.display()))?;
                }
            }
        }
        Ok(())
    }
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .with_context(|| format!("chmod {mode:o} {}", path.display()))
}

/// rpm macro-expands tags and scriptlets, so a literal `%` must be doubled.
fn escape_macros(text: &str) -> String {
    text.replace('%', "%%")
}

/// A hash of everything that determines the built RPMs: the builder itself, each spec and
/// every payload byte (host files included, so a changed busybox invalidates caches).
pub fn content_hash(packages: &[PackageSpec]) -> Result<String> {
    let mut hasher = blake3::Hasher::new();
    hasher.update(BUILDER_VERSION.as_bytes());
    hasher.update(SOURCE_DATE_EPOCH.as_bytes());
    for pkg in packages {
        let spec = pkg.spec_text()?;
        hasher.update(&(spec.len() as u64).to_le_bytes());
        hasher.update(spec.as_bytes());
        for entry in &pkg.files {
            let data = match entry {
                FileEntry::File { contents, .. } => contents.clone(),
                FileEntry::HostFile { source, .. } => {
                    fs::read(source).with_context(|| format!("reading {}", source.display()))?
                }
                FileEntry::Symlink { target, .. } => target.as_bytes().to_vec(),
                FileEntry::Dir { .. } => Vec::new(),
            };
            hasher.update(entry.path().as_bytes());
            hasher.update(&(data.len() as u64).to_le_bytes());
            hasher.update(&data);
        }
    }
    Ok(hasher.finalize().to_hex().to_string())
}

/// Builds one binary RPM and returns the path of the .rpm inside `topdir`.
pub fn build_rpm(topdir: &Path, pkg: &PackageSpec) -> Result<PathBuf> {
    let stage = topdir.join("STAGE").join(&pkg.name);
    pkg.stage(&stage)
        .with_context(|| format!("staging payload of {}", pkg.name))?;
    let specs = topdir.join("SPECS");
    fs::create_dir_all(&specs).with_context(|| format!("creating {}", specs.display()))?;
    let spec_path = specs.join(format!("{}.spec", pkg.name));
    fs::write(&spec_path, pkg.spec_text()?)
        .with_context(|| format!("writing {}", spec_path.display()))?;
    let rpmdir = topdir.join("RPMS").join(&pkg.name);

    let define = |name: &str, value: &str| format!("{name} {value}");
    let mut cmd = Command::new("rpmbuild");
    cmd.arg("-bb")
        .arg("--nodeps")
        .arg("--quiet")
        .args(["--define", &define("_topdir", &topdir.to_string_lossy())])
        .args(["--define", &define("_rpmdir", &rpmdir.to_string_lossy())])
        .args(["--define", &define("mxos_stage", &stage.to_string_lossy())])
        .args(["--define", "_build_id_links none"])
        // No stripping, brp scripts or debuginfo: payloads must be exactly what we staged.
        .args(["--define", "__os_install_post %{nil}"])
        .args(["--define", "__arch_install_post %{nil}"])
        .args(["--define", "debug_package %{nil}"])
        .args(["--define", "_binary_payload w9.gzdio"])
        // Reproducibility: fixed build time, host and clamped mtimes.
        .args(["--define", "use_source_date_epoch_as_buildtime 1"])
        .args(["--define", "clamp_mtime_to_source_date_epoch 1"])
        .args(["--define", "_buildhost mxos-tests.invalid"])
        .arg(&spec_path)
        .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        // Keep the invoking user's ~/.rpmmacros out of the build.
        .env("HOME", topdir);
    run(&mut cmd).with_context(|| format!("building rpm {}", pkg.name))?;

    let arch_dir = rpmdir.join(pkg.arch());
    let expected = arch_dir.join(format!(
        "{}-{}-{}.{}.rpm",
        pkg.name,
        pkg.version,
        pkg.release,
        pkg.arch()
    ));
    ensure!(
        expected.is_file(),
        "rpmbuild succeeded but {} is missing",
        expected.display()
    );
    Ok(expected)
}

/// Builds every package into `out_dir` (as `*.rpm`), unsigned, and generates
/// `out_dir/repodata`.
pub fn build_repo(out_dir: &Path, packages: &[PackageSpec]) -> Result<()> {
    build_signed_repo(out_dir, packages, None)
}

/// [`build_repo`], each package signed by `signer` when given.
pub fn build_signed_repo(
    out_dir: &Path,
    packages: &[PackageSpec],
    signer: Option<&crate::signing::Signer>,
) -> Result<()> {
    ensure!(
        !packages.is_empty(),
        "no packages to build into {}",
        out_dir.display()
    );
    let mut names = std::collections::BTreeSet::new();
    for pkg in packages {
        ensure!(names.insert(&pkg.name), "package {} given twice", pkg.name);
    }
    fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let top = tempfile::Builder::new()
        .prefix("mxos-rpmbuild-")
        .tempdir()
        .context("creating rpmbuild topdir")?;
    let mut built = Vec::new();
    for pkg in packages {
        let rpm = build_rpm(top.path(), pkg)?;
        let Some(file_name) = rpm.file_name() else {
            bail!("rpm path {} has no file name", rpm.display());
        };
        let dest = out_dir.join(file_name);
        fs::copy(&rpm, &dest)
            .with_context(|| format!("copying {} to {}", rpm.display(), dest.display()))?;
        built.push(dest);
    }
    if let Some(signer) = signer {
        signer.sign_rpms(&built)?;
    }
    index_repo(out_dir)
}

/// (Re)generates `out_dir/repodata` for the `*.rpm` files in it.
pub fn index_repo(out_dir: &Path) -> Result<()> {
    let repodata = out_dir.join("repodata");
    // A stale repodata would make createrepo_c try to reuse old metadata.
    if repodata.exists() {
        fs::remove_dir_all(&repodata)
            .with_context(|| format!("removing stale {}", repodata.display()))?;
    }
    run(Command::new("createrepo_c")
        .arg("--no-database")
        .arg("--quiet")
        .arg(out_dir))
    .with_context(|| format!("indexing {}", out_dir.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> PackageSpec {
        let mut p = PackageSpec::new("sample", "100% sample");
        p.files = vec![
            FileEntry::Dir {
                path: "/opt/sample".into(),
                mode: 0o755,
            },
            FileEntry::File {
                path: "/opt/sample/a".into(),
                contents: b"a\n".to_vec(),
                mode: 0o600,
            },
            FileEntry::Symlink {
                path: "/opt/sample/b".into(),
                target: "a".into(),
            },
        ];
        p.post = Some("echo 50% done".into());
        p
    }

    #[test]
    fn spec_lists_files_with_attrs_and_escapes_percent() {
        let spec = sample().spec_text().unwrap();
        assert!(
            spec.contains("%dir %attr(0755,root,root) /opt/sample\n"),
            "{spec}"
        );
        assert!(
            spec.contains("%attr(0600,root,root) /opt/sample/a\n"),
            "{spec}"
        );
        assert!(
            spec.contains("%attr(-,root,root) /opt/sample/b\n"),
            "{spec}"
        );
        assert!(spec.contains("Summary: 100%% sample\n"), "{spec}");
        assert!(spec.contains("%post\necho 50%% done\n"), "{spec}");
        assert!(spec.contains("Requires(post): /bin/sh\n"), "{spec}");
        assert!(spec.contains("BuildArch: noarch\n"), "{spec}");
    }

    #[test]
    fn rejects_paths_rpm_would_glob() {
        let mut p = sample();
        p.files.push(FileEntry::Dir {
            path: "/opt/*".into(),
            mode: 0o755,
        });
        assert!(p.spec_text().is_err());
    }
}
