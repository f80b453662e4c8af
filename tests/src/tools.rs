//! The packaged agent for the dnf demo tree: a repo with the `mxos-update` RPM that
//! `cargo xtask dist` builds, beside `mxos-demo-runtime`, the build host's shared libraries
//! and `ostree` standing in for CentOS's glibc, glib2 and ostree-libs. The RPM keeps the ELF
//! dependencies rpm derived from its binary, and the runtime provides exactly those rpm's
//! own `elfdeps` finds in the libraries, so dnf resolves the agent as it would on CentOS.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::lock::with_file_lock;
use crate::rpms::{build_rpm, content_hash, index_repo, FileEntry, PackageSpec};
use crate::run;
use crate::signing::{Signer, DEMO_PUBLIC_KEY};

/// Where [`shared_tools_repo`] keeps its build; `treefiles/mxos-tools.repo` points here.
pub const SHARED_TOOLS_DIR: &str = "/var/cache/mxos/test-rpms/tools";

const STAMP_FILE: &str = ".mxos-tools-stamp";

/// The shared libraries `binary` loads, as the host's dynamic linker resolves them
/// (`ldd`): (the path it is loaded from, the file behind any symlinks).
fn shared_libraries(binary: &Path) -> Result<Vec<(PathBuf, PathBuf)>> {
    let out = run(Command::new("ldd").arg(binary))
        .with_context(|| format!("listing the libraries of {}", binary.display()))?;
    let mut libs = Vec::new();
    for line in out.lines() {
        // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" or "/lib64/ld-linux… (0x…)".
        let path = match line.split_once("=>") {
            Some((_, rest)) => rest.split_whitespace().next(),
            None => line.split_whitespace().next(),
        };
        let Some(path) = path.filter(|p| p.starts_with('/')) else {
            continue;
        };
        let path = PathBuf::from(path);
        let real = fs::canonicalize(&path).with_context(|| {
            format!(
                "resolving {} (needed by {})",
                path.display(),
                binary.display()
            )
        })?;
        libs.push((path, real));
    }
    if libs.is_empty() {
        bail!("ldd found no shared libraries in {}", binary.display());
    }
    Ok(libs)
}

/// The host path as the demo tree holds it: its `/lib` and `/lib64` are links into `/usr`.
fn in_usr(path: &Path) -> String {
    let p = path.to_string_lossy();
    if p.starts_with("/usr/") {
        p.into_owned()
    } else {
        format!("/usr{p}")
    }
}

/// `mxos-demo-runtime`: every library `binaries` and the host's `ostree` load, plus `ostree`
/// itself, providing what `elfdeps --provides` reports for them, `rtld(GNU_HASH)` (which
/// glibc's spec provides by hand) and `ostree`.
pub fn runtime_package(binaries: &[PathBuf]) -> Result<PackageSpec> {
    let ostree = PathBuf::from("/usr/bin/ostree");
    let mut files = BTreeSet::new();
    for binary in binaries.iter().chain([&ostree]) {
        for (path, real) in shared_libraries(binary)? {
            files.insert((in_usr(&path), real));
        }
    }
    let mut provides = BTreeSet::from(["ostree".to_owned(), "rtld(GNU_HASH)".to_owned()]);
    for (_, real) in &files {
        let out = run(Command::new("/usr/lib/rpm/elfdeps")
            .arg("--provides")
            .arg(real))?;
        provides.extend(out.lines().map(str::to_owned));
    }
    let mut pkg = PackageSpec::new(
        "mxos-demo-runtime",
        "The build host's shared libraries and ostree, standing in for CentOS's",
    );
    pkg.buildarch_noarch = false;
    pkg.requires = vec!["mxos-filesystem".to_owned()];
    pkg.provides = provides.into_iter().collect();
    // rpm's ELF generators only look at executable files; libraries are 0755 on CentOS too.
    pkg.files = files
        .into_iter()
        .map(|(path, source)| FileEntry::HostFile {
            path,
            source,
            mode: 0o755,
        })
        .chain([FileEntry::HostFile {
            path: "/usr/bin/ostree".to_owned(),
            source: ostree,
            mode: 0o755,
        }])
        .collect();
    Ok(pkg)
}

/// The binary an RPM carries at `path`, unpacked into `dir` with rpm2cpio and cpio.
fn unpack(rpm: &Path, path: &str, dir: &Path) -> Result<PathBuf> {
    let cpio = dir.join("payload.cpio");
    let payload = Command::new("rpm2cpio")
        .arg(rpm)
        .output()
        .with_context(|| format!("running rpm2cpio {}", rpm.display()))?;
    if !payload.status.success() {
        bail!(
            "rpm2cpio {}: {}",
            rpm.display(),
            String::from_utf8_lossy(&payload.stderr)
        );
    }
    fs::write(&cpio, payload.stdout)?;
    run(Command::new("cpio")
        .args(["-idm", "--quiet", "-F"])
        .arg(&cpio)
        .arg(format!(".{path}"))
        .current_dir(dir))
    .with_context(|| format!("unpacking {path} from {}", rpm.display()))?;
    Ok(dir.join(path.trim_start_matches('/')))
}

/// Builds the tools repo into `out`: the given RPMs (copies, signed with the demo key like
/// every demo package) and `runtime`, the `mxos-demo-runtime` package for the binaries under
/// /usr/bin in them.
fn build_tools_repo(out: &Path, rpms: &[PathBuf], runtime: &PackageSpec) -> Result<()> {
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let work = tempfile::Builder::new()
        .prefix("mxos-tools-")
        .tempdir()
        .context("creating a work dir")?;
    let built = build_rpm(&work.path().join("rpmbuild"), runtime)?;
    let mut copies = Vec::new();
    for rpm in rpms.iter().chain([&built]) {
        let dest = out.join(rpm.file_name().context("an RPM path without a file name")?);
        fs::copy(rpm, &dest)
            .with_context(|| format!("copying {} to {}", rpm.display(), dest.display()))?;
        copies.push(dest);
    }
    Signer::demo()?.sign_rpms(&copies)?;
    index_repo(out)
}

fn agent_binaries(rpms: &[PathBuf], work: &Path) -> Result<Vec<PathBuf>> {
    let mut binaries = Vec::new();
    for (i, rpm) in rpms.iter().enumerate() {
        let listing = run(Command::new("rpm").args(["-qlp", "--nosignature"]).arg(rpm))?;
        for path in listing.lines().filter(|l| l.starts_with("/usr/bin/")) {
            let dir = work.join(format!("unpacked-{i}"));
            fs::create_dir_all(&dir)?;
            binaries.push(unpack(rpm, path, &dir)?);
        }
    }
    Ok(binaries)
}

/// The tools repo (the given RPMs and the runtime they need, signed with the demo key) in
/// [`SHARED_TOOLS_DIR`], rebuilt only when the RPMs' content, the host's libraries or the
/// demo key changed; returns the repo's path.
pub fn shared_tools_repo(rpms: &[PathBuf]) -> Result<PathBuf> {
    shared_tools_repo_in(Path::new(SHARED_TOOLS_DIR), rpms)
}

/// [`shared_tools_repo`] in another directory.
pub fn shared_tools_repo_in(repo: &Path, rpms: &[PathBuf]) -> Result<PathBuf> {
    let parent = repo.parent().context("the tools repo needs a parent dir")?;
    fs::create_dir_all(parent)?;
    let work = tempfile::tempdir().context("creating a work dir")?;
    let runtime = runtime_package(&agent_binaries(rpms, work.path())?)?;
    let mut hasher = blake3::Hasher::new();
    hasher.update(content_hash(std::slice::from_ref(&runtime))?.as_bytes());
    hasher.update(DEMO_PUBLIC_KEY.as_bytes());
    for rpm in rpms {
        // What the package is, not its bytes: rpmbuild stamps each build with its time.
        let identity = run(Command::new("rpm")
            .args(["-qp", "--nosignature", "--scripts", "--qf"])
            .arg("%{NEVRA}\n[%{FILEDIGESTS} %{FILEMODES} %{FILENAMES}\n][%{REQUIRENAME} %{REQUIREVERSION}\n][%{PROVIDENAME}\n]")
            .arg(rpm))?;
        hasher.update(identity.as_bytes());
    }
    let hash = hasher.finalize().to_hex().to_string();
    let lock = repo.with_extension("lock");
    with_file_lock(&lock, || {
        let stamp = repo.join(STAMP_FILE);
        if fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == hash) {
            return Ok(());
        }
        // Built beside and renamed into place: a reader never sees half a repo.
        let partial = repo.with_extension("partial");
        for stale in [&partial, &repo.to_path_buf()] {
            if stale.exists() {
                fs::remove_dir_all(stale)
                    .with_context(|| format!("removing stale {}", stale.display()))?;
            }
        }
        build_tools_repo(&partial, rpms, &runtime)?;
        fs::write(partial.join(STAMP_FILE), format!("{hash}\n"))?;
        fs::rename(&partial, repo)
            .with_context(|| format!("renaming {} to {}", partial.display(), repo.display()))?;
        Ok(())
    })?;
    Ok(repo.to_owned())
}
