//! Opening and creating repositories, resolving and setting refs.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use ostree::gio;

use crate::gerr;

/// Storage mode of a repository: `bare-user` for build repos and sysroots that run as root
/// here, `archive` for anything served over HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoMode {
    BareUser,
    Archive,
    Bare,
}

impl RepoMode {
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "bare-user" => RepoMode::BareUser,
            "archive" | "archive-z2" => RepoMode::Archive,
            "bare" => RepoMode::Bare,
            other => bail!("unknown repo mode `{other}`; accepted: bare-user, archive, bare"),
        })
    }

    fn to_ostree(self) -> ostree::RepoMode {
        match self {
            RepoMode::BareUser => ostree::RepoMode::BareUser,
            RepoMode::Archive => ostree::RepoMode::Archive,
            RepoMode::Bare => ostree::RepoMode::Bare,
        }
    }
}

/// An open OSTree repository.
pub struct Repo {
    pub(crate) inner: ostree::Repo,
    path: PathBuf,
}

impl Repo {
    /// Opens the repository at `path`, creating it in `mode` if there is none.
    pub fn open_or_create(path: &Path, mode: RepoMode) -> Result<Repo> {
        if path.join("config").exists() {
            return Self::open(path);
        }
        std::fs::create_dir_all(path)
            .with_context(|| format!("creating repository directory {}", path.display()))?;
        let inner = ostree::Repo::new(&gio::File::for_path(path));
        inner
            .create(mode.to_ostree(), gio::Cancellable::NONE)
            .map_err(gerr)
            .with_context(|| format!("creating {mode:?} repository at {}", path.display()))?;
        Ok(Repo {
            inner,
            path: path.to_owned(),
        })
    }

    /// Makes every object written from now on land straight in `objects/`, each whole (by
    /// rename) but not synced, instead of in a staging directory that only a finished
    /// transaction moves into place. A pull killed half-way then keeps what it fetched, and
    /// the next one fetches only the rest. Whoever serves such a repo calls
    /// [`Repo::sync_filesystem`] first.
    pub fn write_objects_unsynced(&self) {
        self.inner.set_disable_fsync(true);
    }

    /// Flushes the whole filesystem holding the repo (`syncfs(2)`): one call instead of an
    /// fsync per object.
    pub fn sync_filesystem(&self) -> Result<()> {
        let dir = std::fs::File::open(&self.path)
            .with_context(|| format!("opening {}", self.path.display()))?;
        rustix::fs::syncfs(&dir)
            .with_context(|| format!("syncing the filesystem of {}", self.path.display()))
    }

    pub fn open(path: &Path) -> Result<Repo> {
        if !path.join("config").exists() {
            bail!(
                "{} is not an OSTree repository (no `config` file); create it with `--mode` or point at an existing repo",
                path.display()
            );
        }
        let inner = ostree::Repo::new(&gio::File::for_path(path));
        inner
            .open(gio::Cancellable::NONE)
            .map_err(gerr)
            .with_context(|| format!("opening repository {}", path.display()))?;
        Ok(Repo {
            inner,
            path: path.to_owned(),
        })
    }

    pub(crate) fn from_inner(inner: ostree::Repo, path: PathBuf) -> Repo {
        Repo { inner, path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn mode(&self) -> RepoMode {
        match self.inner.mode() {
            ostree::RepoMode::Archive => RepoMode::Archive,
            ostree::RepoMode::Bare => RepoMode::Bare,
            _ => RepoMode::BareUser,
        }
    }

    /// The commit a ref (or `remote:ref`, or a checksum) points at, if it exists.
    pub fn resolve(&self, refspec: &str) -> Result<Option<String>> {
        Ok(self
            .inner
            .resolve_rev(refspec, true)
            .map_err(gerr)
            .with_context(|| format!("resolving {refspec}"))?
            .map(|s| s.to_string()))
    }

    /// Like [`Repo::resolve`] but a missing ref is an error naming it and the repo.
    pub fn require(&self, refspec: &str) -> Result<String> {
        self.resolve(refspec)?.with_context(|| {
            format!(
                "`{refspec}` is neither a ref nor a commit in {}",
                self.path.display()
            )
        })
    }

    pub fn set_ref(&self, reference: &str, commit: Option<&str>) -> Result<()> {
        let (remote, name) = match reference.split_once(':') {
            Some((r, n)) => (Some(r), n),
            None => (None, reference),
        };
        self.inner
            .set_ref_immediate(remote, name, commit, gio::Cancellable::NONE)
            .map_err(gerr)
            .with_context(|| format!("setting ref {reference}"))
    }

    /// All refs (local ones, and `remote:ref` for remote-tracking ones), sorted, with commits.
    pub fn refs(&self) -> Result<Vec<(String, String)>> {
        let map = self
            .inner
            .list_refs(None, gio::Cancellable::NONE)
            .map_err(gerr)
            .context("listing refs")?;
        let mut refs: Vec<_> = map
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        refs.sort();
        Ok(refs)
    }

    /// When a local ref was last set or [`Repo::touch_ref`]ed: its file's mtime (libostree
    /// keeps each ref in its own file under `refs/heads`).
    pub fn ref_touched(&self, reference: &str) -> Result<std::time::SystemTime> {
        let file = self.path.join("refs/heads").join(reference);
        std::fs::metadata(&file)
            .and_then(|m| m.modified())
            .with_context(|| format!("reading {}", file.display()))
    }

    /// Marks a local ref as used now, for [`Repo::ref_touched`].
    pub fn touch_ref(&self, reference: &str) -> Result<()> {
        let file = self.path.join("refs/heads").join(reference);
        std::fs::File::options()
            .write(true)
            .open(&file)
            .and_then(|f| f.set_modified(std::time::SystemTime::now()))
            .with_context(|| format!("touching {}", file.display()))
    }

    /// Regenerates the `summary` file (refs, commit sizes, deltas) as `ostree summary -u` does,
    /// with no expiry.
    pub fn regenerate_summary(&self) -> Result<()> {
        self.regenerate_summary_expiring(None)
    }

    /// Adds or replaces a remote in this repo's config.
    pub fn set_remote(&self, name: &str, url: &str, options: &[(&str, &str)]) -> Result<()> {
        let config = self.inner.copy_config();
        let group = format!("remote \"{name}\"");
        if config.has_group(&group) {
            config
                .remove_group(&group)
                .map_err(gerr)
                .context("replacing remote")?;
        }
        config.set_string(&group, "url", url);
        for (k, v) in options {
            config.set_string(&group, k, v);
        }
        self.inner
            .write_config(&config)
            .map_err(gerr)
            .with_context(|| format!("writing remote `{name}` to {}", self.path.display()))?;
        self.inner
            .reload_config(gio::Cancellable::NONE)
            .map_err(gerr)
            .context("reloading repo config")
    }

    /// A remote's option, e.g. `url` or `verification-ed25519-key`.
    pub fn remote_option(&self, remote: &str, key: &str) -> Result<Option<String>> {
        if key == "url" {
            return Ok(Some(
                self.inner
                    .remote_get_url(remote)
                    .map_err(gerr)
                    .with_context(|| format!("remote `{remote}` has no url"))?
                    .to_string(),
            ));
        }
        Ok(self
            .inner
            .remote_option(remote, key, None)
            .map_err(gerr)
            .with_context(|| format!("reading option {key} of remote `{remote}`"))?
            .map(|s| s.to_string()))
    }
}

pub(crate) fn mtime(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Web servers validate caches by mtime in whole seconds (Last-Modified, nginx's ETag):
/// two publishes in the same second would let clients keep a stale summary. Pushes the
/// file's mtime past `before` by at least one second.
pub fn newer_than(path: &Path, before: Option<std::time::SystemTime>) -> Result<()> {
    let Some(before) = before else { return Ok(()) };
    let secs = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    };
    let Some(now) = mtime(path) else {
        return Ok(());
    };
    if secs(now) > secs(before) {
        return Ok(());
    }
    let bumped = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs(before) + 1);
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(bumped))
        .with_context(|| format!("setting the modification time of {}", path.display()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn newer_than_moves_mtime_past_the_previous_second() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("summary");
        std::fs::write(&f, "a").unwrap();
        let before = super::mtime(&f);
        std::fs::write(&f, "b").unwrap();
        super::newer_than(&f, before).unwrap();
        let secs =
            |t: std::time::SystemTime| t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        assert!(secs(super::mtime(&f).unwrap()) > secs(before.unwrap()));
    }
}
