//! Where a mirror's states live on disk, and how a new one replaces the old at once.
//!
//! A mirror keeps each complete state in
//! `.generations/N/`, a whole archive repo; `current` is a symlink to the one served, and the
//! web server's root is `DIR/current`. A new state is built beside it, sharing unchanged
//! files by hard links, and becomes visible with one `rename(2)` of the symlink, so a
//! mirror killed half-way still serves the old state whole. The state before stays as
//! `previous` until the next run, for clients that were mid-pull at the switch.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

pub const CURRENT: &str = "current";
pub const PREVIOUS: &str = "previous";
const GENERATIONS: &str = ".generations";
const LOCK: &str = ".mxos-mirror.lock";

/// Where a run keeps downloads cut off half-way, inside its repo.
pub const PARTIAL: &str = "tmp/mxos-partial";

/// What a repo directory holds that later states reuse: objects, deltas and their indexes;
/// then, from interrupted runs only, libostree's marks of commits whose tree is not complete
/// yet and the pieces of cut-off downloads.
const REUSED: [&str; 5] = ["objects", "deltas", "delta-indexes", "state", PARTIAL];

/// A mirror directory, locked for one run.
pub struct MirrorDir {
    pub root: PathBuf,
    _lock: File,
}

/// The repo a run writes into, and what it may reuse.
pub struct Work {
    pub repo_dir: PathBuf,
    /// The state served now, if any.
    pub current: Option<PathBuf>,
    generation: u64,
}

impl MirrorDir {
    pub fn lock(root: &Path) -> Result<MirrorDir> {
        std::fs::create_dir_all(root).with_context(|| format!("creating {}", root.display()))?;
        {
            let foreign = std::fs::read_dir(root)
                .with_context(|| format!("reading {}", root.display()))?
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .find(|n| {
                    ![CURRENT, PREVIOUS, GENERATIONS, LOCK].contains(&n.as_str())
                        && !n.starts_with(".tmp-")
                });
            if let Some(name) = foreign {
                bail!(
                    "{} holds `{name}`, so it is not a mirror made by `mxos-compose mirror`; give an empty or new directory (the web server then serves {}/{CURRENT})",
                    root.display(),
                    root.display()
                );
            }
        }
        let path = root.join(LOCK);
        let lock = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        lock.try_lock().map_err(|_| {
            anyhow::anyhow!(
                "another mirror run is writing {} (it holds {}); wait for it to end",
                root.display(),
                path.display()
            )
        })?;
        Ok(MirrorDir {
            root: root.to_owned(),
            _lock: lock,
        })
    }

    fn generations(&self) -> PathBuf {
        self.root.join(GENERATIONS)
    }

    fn link_target(&self, name: &str) -> Option<PathBuf> {
        let target = std::fs::read_link(self.root.join(name)).ok()?;
        Some(self.root.join(target))
    }

    /// Starts a run: a fresh generation seeded with the current state's files and whatever
    /// an interrupted run had fetched (its objects are whole: libostree writes each by
    /// rename).
    pub fn begin(&self) -> Result<Work> {
        let gens = self.generations();
        std::fs::create_dir_all(&gens).with_context(|| format!("creating {}", gens.display()))?;
        let current = self.link_target(CURRENT);
        let previous = self.link_target(PREVIOUS);
        let mut numbers = Vec::new();
        let mut leftovers = Vec::new();
        for e in std::fs::read_dir(&gens).with_context(|| format!("reading {}", gens.display()))? {
            let e = e?;
            let Some(n) = e.file_name().to_str().and_then(|n| n.parse::<u64>().ok()) else {
                continue;
            };
            numbers.push(n);
            let p = e.path();
            if Some(&p) != current.as_ref() && Some(&p) != previous.as_ref() {
                leftovers.push(p);
            }
        }
        let n = numbers.iter().max().map_or(1, |m| m + 1);
        let repo_dir = gens.join(n.to_string());
        mxos_repo::Repo::open_or_create(&repo_dir, mxos_repo::RepoMode::Archive)?;
        if let Some(c) = &current {
            for part in &REUSED[..3] {
                link_tree(&c.join(part), &repo_dir.join(part))?;
            }
        }
        for l in &leftovers {
            for part in REUSED {
                link_tree(&l.join(part), &repo_dir.join(part))?;
            }
            std::fs::remove_dir_all(l).with_context(|| format!("removing {}", l.display()))?;
        }
        Ok(Work {
            repo_dir,
            current,
            generation: n,
        })
    }

    /// Makes `work` the served state (one rename), keeps the one before as `previous`, and
    /// deletes older ones.
    pub fn commit(&self, work: &Work) -> Result<()> {
        let n = work.generation;
        sync_dir(&work.repo_dir)?;
        sync_dir(&self.generations())?;
        let target = format!("{GENERATIONS}/{n}");
        swap_link(&self.root, CURRENT, &target)?;
        if let Some(old) = &work.current {
            if let Some(name) = old.file_name() {
                swap_link(
                    &self.root,
                    PREVIOUS,
                    &format!("{GENERATIONS}/{}", name.to_string_lossy()),
                )?;
            }
        }
        let keep = [self.link_target(CURRENT), self.link_target(PREVIOUS)];
        for e in std::fs::read_dir(self.generations())? {
            let p = e?.path();
            if !keep.iter().any(|k| k.as_ref() == Some(&p)) {
                std::fs::remove_dir_all(&p).with_context(|| format!("removing {}", p.display()))?;
            }
        }
        Ok(())
    }

    /// Drops a run that found nothing new.
    pub fn abandon(&self, work: Work) -> Result<()> {
        std::fs::remove_dir_all(&work.repo_dir)
            .with_context(|| format!("removing {}", work.repo_dir.display()))
    }
}

/// An update drive: `MOUNTPOINT/mxos` is the repo itself, written in place, since the FAT
/// and exFAT of most drives have neither symlinks nor hard links. What stays safe without
/// them: objects are named by their checksum and only added, and the signed summary, which
/// is what machines believe, is written last; a drive pulled out half-way still offers the
/// state it offered before, plus objects nobody names yet.
pub struct Drive {
    pub repo_dir: PathBuf,
    _lock: File,
}

/// The directory on a drive that holds the repo (what machines look for).
pub const DRIVE_DIR: &str = "mxos";

impl Drive {
    pub fn lock(mount: &Path) -> Result<Drive> {
        if !mount.is_dir() {
            bail!(
                "{} is not a directory: give the mount point of the drive (e.g. /run/media/$USER/ESCUELA)",
                mount.display()
            );
        }
        let repo_dir = mount.join(DRIVE_DIR);
        let empty = std::fs::read_dir(&repo_dir).map_or(true, |mut d| d.next().is_none());
        if !empty && !repo_dir.join("config").exists() {
            bail!(
                "{} exists but is not a repo written by `mxos-compose usb`; move it away or use another drive",
                repo_dir.display()
            );
        }
        mxos_repo::Repo::open_or_create(&repo_dir, mxos_repo::RepoMode::Archive)?;
        let path = repo_dir.join(".mxos-usb.lock");
        let lock = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        lock.try_lock().map_err(|_| {
            anyhow::anyhow!(
                "another run is writing {} (it holds {}); wait for it to end",
                repo_dir.display(),
                path.display()
            )
        })?;
        Ok(Drive {
            repo_dir,
            _lock: lock,
        })
    }

    /// The run writes into the served repo itself.
    pub fn work(&self) -> Work {
        let current = self
            .repo_dir
            .join("summary")
            .exists()
            .then(|| self.repo_dir.clone());
        Work {
            repo_dir: self.repo_dir.clone(),
            current,
            generation: 0,
        }
    }
}

/// `root/name` → `target`, replaced in one rename so a reader sees the old link or the new.
fn swap_link(root: &Path, name: &str, target: &str) -> Result<()> {
    let tmp = root.join(format!(".tmp-{name}"));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    std::fs::rename(&tmp, root.join(name))
        .with_context(|| format!("switching {} to {target}", root.join(name).display()))?;
    sync_dir(root)
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))
}

/// Hard-links every file under `from` into the same place under `to`; what is there stays.
fn link_tree(from: &Path, to: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(from) else {
        return Ok(());
    };
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for e in entries {
        let e = e?;
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if e.file_type()?.is_dir() {
            link_tree(&src, &dst)?;
        } else if !dst.exists() && !e.file_name().to_string_lossy().starts_with('.') {
            std::fs::hard_link(&src, &dst)
                .with_context(|| format!("linking {} to {}", src.display(), dst.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_shares_files_and_swaps_in_one_rename() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("m");
        let dir = MirrorDir::lock(&root).unwrap();
        let first = dir.begin().unwrap();
        assert!(first.current.is_none());
        std::fs::create_dir_all(first.repo_dir.join("objects/ab")).unwrap();
        std::fs::write(first.repo_dir.join("objects/ab/cd.file"), "x").unwrap();
        dir.commit(&first).unwrap();
        assert_eq!(
            std::fs::read_link(root.join(CURRENT)).unwrap(),
            Path::new(".generations/1")
        );
        // An interrupted run leaves a generation nobody serves; the next run keeps its files.
        let broken = dir.begin().unwrap();
        std::fs::create_dir_all(broken.repo_dir.join("objects/ef")).unwrap();
        std::fs::write(broken.repo_dir.join("objects/ef/01.file"), "y").unwrap();
        drop(broken);
        let next = dir.begin().unwrap();
        assert_eq!(next.repo_dir, root.join(".generations/3"));
        assert!(next.repo_dir.join("objects/ab/cd.file").exists());
        assert!(next.repo_dir.join("objects/ef/01.file").exists());
        assert!(!root.join(".generations/2").exists());
        dir.commit(&next).unwrap();
        assert_eq!(
            std::fs::read_link(root.join(CURRENT)).unwrap(),
            Path::new(".generations/3")
        );
        assert_eq!(
            std::fs::read_link(root.join(PREVIOUS)).unwrap(),
            Path::new(".generations/1")
        );
        let err = MirrorDir::lock(&root).err().unwrap();
        assert_eq!(
            err.to_string(),
            format!("another mirror run is writing {} (it holds {}/.mxos-mirror.lock); wait for it to end", root.display(), root.display())
        );
        drop(dir);
        std::fs::write(root.join("index.html"), "").unwrap();
        assert_eq!(
            MirrorDir::lock(&root).err().unwrap().to_string(),
            format!("{} holds `index.html`, so it is not a mirror made by `mxos-compose mirror`; give an empty or new directory (the web server then serves {}/current)", root.display(), root.display())
        );
    }
}
