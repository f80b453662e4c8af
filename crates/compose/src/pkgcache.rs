//! The package cache of the dnf backend, as rpm-ostree keeps one: each RPM's payload is
//! imported once as a commit of its own (ref `mxos/pkg/<blake3 of the .rpm>`) into a `bare`
//! repository, and a root is assembled from those commits with hard links. A recompose
//! unpacks only new or changed packages, and the final commit takes the checksum of every
//! file still linked to the cache from the cache's inode index instead of re-reading it.
//!
//! Links share inodes with the cache's objects, so the tree must never be written in place
//! where a link is: [`make_private`] copies a file before it is changed, the directories
//! scriptlets and postprocessing edit (`/etc`, `/var`, ...) are copied at assembly, and
//! anything else found changed is reported so the caller drops the whole cache.

use std::fs;
use std::os::unix::fs::{lchown, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use mxos_repo::{CommitRequest, KnownInodes, Repo, RepoMode};

use crate::dnf::ResolvedPackage;

/// Top-level directories that are copied, not linked: package scriptlets and our
/// postprocessing edit files there, and /var content leaves the commit before anything
/// could notice that a link was written through.
const COPIED_DIRS: &[&str] = &["etc", "var", "root", "home", "srv", "run", "tmp"];

pub struct PackageCache {
    repo: Repo,
    dir: PathBuf,
    /// Held for the cache's lifetime: one compose at a time uses a cache directory.
    _lock: fs::File,
}

/// The package commits a root is assembled from.
pub struct Assembly {
    pub commits: Vec<String>,
    /// Packages unpacked by this compose (not found in the cache).
    pub imported: usize,
}

impl PackageCache {
    /// Opens (creating) the cache at `dir`; waits while another compose holds it.
    pub fn open(dir: &Path) -> Result<PackageCache> {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let lock_path = dir.with_extension("lock");
        let lock = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .with_context(|| format!("opening lock file {}", lock_path.display()))?;
        lock.lock()
            .with_context(|| format!("locking {}", lock_path.display()))?;
        let repo = Repo::open_or_create(dir, RepoMode::Bare)
            .with_context(|| format!("opening the package cache {}", dir.display()))?;
        Ok(PackageCache {
            repo,
            dir: dir.to_owned(),
            _lock: lock,
        })
    }

    /// The cache's commit of every package, importing the ones it lacks (in `scratch`).
    pub fn ensure_all(&self, packages: &[ResolvedPackage], scratch: &Path) -> Result<Assembly> {
        let mut commits = Vec::with_capacity(packages.len());
        let mut imported = 0;
        for pkg in packages {
            let reference = reference(pkg);
            let commit = match self.repo.resolve(&reference)? {
                Some(c) => {
                    self.repo.touch_ref(&reference)?;
                    c
                }
                None => {
                    imported += 1;
                    self.import(pkg, &reference, scratch)?
                }
            };
            commits.push(commit);
        }
        Ok(Assembly { commits, imported })
    }

    /// Unpacks one RPM's payload with the real rpm2cpio and cpio, then commits it with
    /// every entry owned by root: RPM payloads name owners, which only the target root's
    /// passwd (made by the scriptlets) can turn into ids, so owners are applied later.
    fn import(&self, pkg: &ResolvedPackage, reference: &str, scratch: &Path) -> Result<String> {
        let name = pkg.file.file_name().unwrap_or_default().to_string_lossy();
        let dir = scratch.join(format!("import-{}", pkg.checksum));
        if dir.exists() {
            fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
        }
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755))?;
        unpack(&pkg.file, &dir).with_context(|| format!("unpacking {name}"))?;
        let checksum = self
            .repo
            .commit_tree(&CommitRequest {
                reference: Some(reference),
                root: &dir,
                layers: &[],
                parent: None,
                subject: &name,
                metadata: &Default::default(),
                timestamp: 0,
                known: None,
                selinux: None,
            })
            .with_context(|| format!("importing {name} into the package cache"))?;
        fs::remove_dir_all(&dir).ok();
        Ok(checksum)
    }

    /// Lays the package commits into `root` by hard links, then copies the directories
    /// that get edited in place (see [`COPIED_DIRS`]).
    pub fn assemble(&self, assembly: &Assembly, root: &Path) -> Result<()> {
        let root =
            std::path::absolute(root).with_context(|| format!("resolving {}", root.display()))?;
        for commit in &assembly.commits {
            self.repo.checkout_union(commit, &root)?;
        }
        for d in COPIED_DIRS {
            let dir = root.join(d);
            if fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
                make_tree_private(&dir)?;
            }
        }
        Ok(())
    }

    /// Drops the packages no compose used for `unused_for`, and the objects only they held,
    /// so a cache fed by daily composes does not keep every version it ever saw. Returns how
    /// many packages went.
    pub fn forget_unused(&self, unused_for: std::time::Duration) -> Result<usize> {
        let cutoff = std::time::SystemTime::now() - unused_for;
        let mut forgotten = 0;
        for (reference, _) in self.repo.refs()? {
            if reference.starts_with(REF_PREFIX) && self.repo.ref_touched(&reference)? < cutoff {
                self.repo.set_ref(&reference, None)?;
                forgotten += 1;
            }
        }
        if forgotten > 0 {
            self.repo
                .prune_unreachable()
                .context("pruning the package cache")?;
        }
        Ok(forgotten)
    }

    /// The cache's objects by inode, for the commit to skip re-reading linked files.
    pub fn known_inodes(&self) -> Result<KnownInodes> {
        self.repo.known_inodes()
    }

    /// Deletes the cache: some of its objects were written through a link.
    pub fn discard(self) -> Result<()> {
        let dir = self.dir.clone();
        drop(self.repo);
        fs::remove_dir_all(&dir)
            .with_context(|| format!("removing the package cache {}", dir.display()))
    }
}

/// The cache ref of a package: its file's blake3, so a rebuilt package with the same NEVRA
/// is imported again, and no NEVRA character (`+`, `~`, `:`) has to be escaped.
fn reference(pkg: &ResolvedPackage) -> String {
    format!("{REF_PREFIX}{}", pkg.checksum)
}

const REF_PREFIX: &str = "mxos/pkg/";

/// How long a package may go unused before a compose drops it from the cache.
pub const KEEP_UNUSED: std::time::Duration = std::time::Duration::from_secs(30 * 86_400);

/// `rpm2cpio FILE | cpio -idm` into `dir`, with both exit statuses checked.
fn unpack(rpm: &Path, dir: &Path) -> Result<()> {
    let mut rpm2cpio = Command::new("rpm2cpio")
        .arg(rpm)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting rpm2cpio (package rpm2cpio)")?;
    let payload = rpm2cpio.stdout.take().context("rpm2cpio's stdout")?;
    let cpio = Command::new("cpio")
        .args([
            "-idmu",
            "--quiet",
            "--no-absolute-filenames",
            "--no-preserve-owner",
        ])
        .current_dir(dir)
        .stdin(payload)
        .stderr(Stdio::piped())
        .output()
        .context("running cpio (package cpio)")?;
    let rpm2cpio = rpm2cpio.wait_with_output()?;
    if !rpm2cpio.status.success() {
        bail!(
            "rpm2cpio {} failed ({}): {}",
            rpm.display(),
            rpm2cpio.status,
            String::from_utf8_lossy(&rpm2cpio.stderr).trim()
        );
    }
    if !cpio.status.success() {
        bail!(
            "cpio failed unpacking {} ({}): {}",
            rpm.display(),
            cpio.status,
            String::from_utf8_lossy(&cpio.stderr).trim()
        );
    }
    Ok(())
}

/// Replaces `path` by a copy of itself if it is a hard link, so that writing, `chmod` or
/// `chown` on it changes this tree only, never the cache object it is linked to.
pub fn make_private(path: &Path) -> Result<()> {
    let meta = fs::symlink_metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if !meta.is_file() || meta.nlink() < 2 {
        return Ok(());
    }
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.mxos-private"));
    fs::copy(path, &tmp).with_context(|| format!("copying {}", path.display()))?;
    // chown clears setuid and setgid bits, so the mode comes after it.
    lchown(&tmp, Some(meta.uid()), Some(meta.gid()))
        .with_context(|| format!("chown {}", tmp.display()))?;
    fs::set_permissions(&tmp, fs::Permissions::from_mode(meta.mode()))?;
    fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))
}

fn make_tree_private(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let entry = entry?;
        let ft = entry.file_type()?;
        if ft.is_dir() {
            make_tree_private(&entry.path())?;
        } else if ft.is_file() {
            make_private(&entry.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_copy_keeps_mode_and_content_and_frees_the_link() {
        let t = tempfile::tempdir().unwrap();
        let a = t.path().join("a");
        let b = t.path().join("b");
        fs::write(&a, "shared\n").unwrap();
        fs::set_permissions(&a, fs::Permissions::from_mode(0o4750)).unwrap();
        fs::hard_link(&a, &b).unwrap();
        make_private(&b).unwrap();
        assert_eq!(fs::metadata(&b).unwrap().mode() & 0o7777, 0o4750);
        fs::write(&b, "changed\n").unwrap();
        assert_eq!(fs::read_to_string(&a).unwrap(), "shared\n");
        let (ma, mb) = (fs::metadata(&a).unwrap(), fs::metadata(&b).unwrap());
        assert_ne!(ma.ino(), mb.ino());
        assert_eq!(ma.nlink(), 1);
        // A file that is no link is left as it is.
        let ino = mb.ino();
        make_private(&b).unwrap();
        assert_eq!(fs::metadata(&b).unwrap().ino(), ino);
    }
}
