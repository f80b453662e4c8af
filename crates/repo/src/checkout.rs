//! Hard-linked checkouts out of a `bare` repository, and the (device, inode) → checksum index
//! that lets the next commit of those same files skip reading and hashing them (what
//! libostree's devino cache does for rpm-ostree's package cache).
//!
//! A hard link shares its inode with the repository's object, so anything that writes a
//! checked-out file in place (a scriptlet appending to a file, a `chmod`) changes the object
//! too. Objects in a bare repo have mtime 0; an index entry is trusted only while the file
//! still has mtime 0 and the owner, mode and size the object was written with. Anything else
//! is reported as a changed link, hashed from its content, and the caller drops the cache.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use ostree::gio;

use crate::{gerr, Repo};

/// `AT_FDCWD`: with an absolute destination path, libostree needs no directory fd.
const AT_FDCWD: i32 = -100;

/// What a `bare` repository's loose file objects are, by inode.
#[derive(Default)]
pub struct KnownInodes {
    by_inode: HashMap<(u64, u64), Known>,
}

struct Known {
    checksum: String,
    uid: u32,
    gid: u32,
    mode: u32,
    size: u64,
}

/// What the index says about one regular file.
pub(crate) enum Lookup<'a> {
    /// Not a link into the indexed repository.
    Unknown,
    /// Still exactly the object with this checksum.
    Same(&'a str),
    /// A link into the repository whose object was changed in place since the checkout.
    Changed,
}

impl KnownInodes {
    pub fn len(&self) -> usize {
        self.by_inode.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_inode.is_empty()
    }

    /// Files under `root` that are links into the indexed repository but no longer match
    /// their object (written in place, `chmod`ed, `chown`ed).
    pub fn changed_links(&self, root: &Path) -> Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in
                std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))?
            {
                let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
                let meta = entry
                    .metadata()
                    .with_context(|| format!("reading {}", entry.path().display()))?;
                if meta.is_dir() {
                    stack.push(entry.path());
                } else if meta.is_file() && matches!(self.lookup(&meta), Lookup::Changed) {
                    out.push(entry.path());
                }
            }
        }
        out.sort();
        Ok(out)
    }

    pub(crate) fn lookup(&self, meta: &std::fs::Metadata) -> Lookup<'_> {
        let Some(k) = self.by_inode.get(&(meta.dev(), meta.ino())) else {
            return Lookup::Unknown;
        };
        if meta.mtime() == 0
            && meta.uid() == k.uid
            && meta.gid() == k.gid
            && meta.mode() == k.mode
            && meta.len() == k.size
        {
            Lookup::Same(&k.checksum)
        } else {
            Lookup::Changed
        }
    }
}

/// How a commit went: its checksum, and what the inode index saved or found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitReport {
    pub checksum: String,
    /// Files whose checksum came from the index instead of being read.
    pub reused: usize,
    /// Hard links into the indexed repository that were changed in place: that repository's
    /// objects for them are no longer what their names say.
    pub changed_links: Vec<PathBuf>,
}

impl Repo {
    /// Checks `commit` out into `dest`, which may already hold other checkouts: regular files
    /// become hard links to this (bare) repository's objects, directories merge, and a path
    /// that already exists with other content is an error naming it.
    pub fn checkout_union(&self, commit: &str, dest: &Path) -> Result<()> {
        if !dest.is_absolute() {
            bail!("checkout destination {} must be absolute", dest.display());
        }
        let (repo_dev, dest_dev) = (
            std::fs::metadata(self.path())?.dev(),
            std::fs::metadata(dest)
                .with_context(|| format!("reading {}", dest.display()))?
                .dev(),
        );
        if repo_dev != dest_dev {
            bail!(
                "{} and {} are on different filesystems, so a root cannot be assembled from hard links into the package cache; put the work dir on the cache's filesystem (e.g. inside --cachedir)",
                dest.display(),
                self.path().display()
            );
        }
        let options = ostree::RepoCheckoutAtOptions {
            mode: ostree::RepoCheckoutMode::None,
            overwrite_mode: ostree::RepoCheckoutOverwriteMode::UnionIdentical,
            // libostree compares "identical" by inode, so this mode requires hard links.
            no_copy_fallback: true,
            ..Default::default()
        };
        self.inner
            .checkout_at(
                Some(&options),
                AT_FDCWD,
                dest,
                commit,
                gio::Cancellable::NONE,
            )
            .map_err(gerr)
            .with_context(|| format!("checking out {commit} into {}", dest.display()))
    }

    /// Indexes every loose file object of this repository by inode. Only `bare` repositories
    /// store objects as the files a checkout links to.
    pub fn known_inodes(&self) -> Result<KnownInodes> {
        if self.inner.mode() != ostree::RepoMode::Bare {
            bail!(
                "{}: only a `bare` repository's objects can be indexed by inode",
                self.path().display()
            );
        }
        let objects = self.path().join("objects");
        let mut by_inode = HashMap::new();
        for prefix in
            std::fs::read_dir(&objects).with_context(|| format!("listing {}", objects.display()))?
        {
            let prefix = prefix?;
            let Some(hi) = prefix.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if hi.len() != 2 || !prefix.file_type()?.is_dir() {
                continue;
            }
            for entry in std::fs::read_dir(prefix.path())
                .with_context(|| format!("listing {}", prefix.path().display()))?
            {
                let entry = entry?;
                let name = entry.file_name();
                let Some(lo) = name.to_str().and_then(|n| n.strip_suffix(".file")) else {
                    continue;
                };
                let meta = entry.metadata()?;
                if !meta.is_file() {
                    continue;
                }
                by_inode.insert(
                    (meta.dev(), meta.ino()),
                    Known {
                        checksum: format!("{hi}{lo}"),
                        uid: meta.uid(),
                        gid: meta.gid(),
                        mode: meta.mode(),
                        size: meta.len(),
                    },
                );
            }
        }
        Ok(KnownInodes { by_inode })
    }
}
