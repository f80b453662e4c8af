//! Writing a directory into a mutable tree with content objects written from every core.
//!
//! `write_directory_to_mtree` writes one file after another; in archive mode each object is
//! zlib-compressed on that one thread, so composes are CPU-bound on a single core. Here the
//! tree is walked once, the content objects are written by N threads (each with its own
//! reference to the repo, all inside the caller's transaction: libostree's object writes
//! are thread-safe), and the mutable tree is then built by hand on the calling thread. The
//! objects are exactly the ones libostree would write for the same tree with
//! `SKIP_XATTRS` (same headers: uid, gid, mode, symlink target, no xattrs), so the commit
//! checksum does not change.

use std::collections::HashMap;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use anyhow::{anyhow, bail, Context, Result};
use ostree::gio;
use ostree::prelude::*;

use crate::checkout::{KnownInodes, Lookup};
use crate::gerr;
use crate::selinux::{Labelling, Policy};

/// A non-directory entry of the walked tree.
struct Leaf {
    /// Index of the directory holding it in the `dirs` list.
    dir: usize,
    name: String,
    path: PathBuf,
    /// The path in the commit (`/usr/bin/bash`), for SELinux lookups.
    rel: String,
    meta: std::fs::Metadata,
}

struct Dir {
    /// Parent index and own name; `None` for the root.
    parent: Option<(usize, String)>,
    rel: String,
    meta: std::fs::Metadata,
}

/// Threads to use: every core the process may run on.
pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// What the writer learnt from the inode index while writing.
#[derive(Default)]
pub(crate) struct Reuse {
    pub reused: usize,
    pub changed_links: Vec<PathBuf>,
}

/// Writes `root` into `mtree` without xattrs, as `write_directory_to_mtree` with
/// `SKIP_XATTRS` does, using `threads` writer threads; with `labels`, every object carries
/// its SELinux label instead. Over a non-empty `mtree` (a layer) files are replaced and
/// directories take the layer's metadata, as libostree lays a tree over another.
/// Files `known` still vouches for are not read when the repo already has their object
/// (not when labelling: the cached objects carry no label).
pub(crate) fn write_dir_to_mtree(
    repo: &ostree::Repo,
    root: &Path,
    mtree: &ostree::MutableTree,
    threads: usize,
    known: Option<&KnownInodes>,
    labels: Option<&Labelling>,
) -> Result<Reuse> {
    let (dirs, leaves) = walk(root)?;
    let known = known.filter(|_| labels.is_none());
    let (checksums, reuse) = write_leaves(repo, &leaves, threads.max(1), known, labels)?;
    let policy = labels.map(Policy::load).transpose()?;

    // Directory nodes in walk order: a parent always comes before its children.
    let mut nodes: Vec<ostree::MutableTree> = Vec::with_capacity(dirs.len());
    let mut dirmeta_cache: HashMap<(u32, u32, u32, Option<String>), String> = HashMap::new();
    for d in &dirs {
        let node = match &d.parent {
            None => mtree.clone(),
            Some((p, name)) => nodes[*p]
                .ensure_dir(name)
                .map_err(gerr)
                .with_context(|| format!("adding directory {name} to the tree"))?,
        };
        let xattrs = match &policy {
            Some(p) => p.xattrs(&d.rel, d.meta.mode())?,
            None => None,
        };
        let label = xattrs.as_ref().map(|x| x.print(false).to_string());
        let key = (d.meta.uid(), d.meta.gid(), d.meta.mode(), label);
        let csum = match dirmeta_cache.get(&key) {
            Some(c) => c.clone(),
            None => {
                let info = file_info(&d.meta, None);
                let v = ostree::create_directory_metadata(&info, xattrs.as_ref());
                let c = repo
                    .write_metadata(
                        ostree::ObjectType::DirMeta,
                        None,
                        &v,
                        gio::Cancellable::NONE,
                    )
                    .map_err(gerr)
                    .context("writing directory metadata")?
                    .to_hex();
                dirmeta_cache.insert(key, c.clone());
                c
            }
        };
        node.set_metadata_checksum(&csum);
        nodes.push(node);
    }
    for (leaf, csum) in leaves.iter().zip(&checksums) {
        nodes[leaf.dir]
            .replace_file(&leaf.name, csum)
            .map_err(gerr)
            .with_context(|| format!("adding {} to the tree", leaf.path.display()))?;
    }
    Ok(reuse)
}

/// Lists every directory (parents first) and every other entry under `root`.
fn walk(root: &Path) -> Result<(Vec<Dir>, Vec<Leaf>)> {
    let meta =
        std::fs::symlink_metadata(root).with_context(|| format!("reading {}", root.display()))?;
    if !meta.is_dir() {
        bail!("{} is not a directory", root.display());
    }
    let mut dirs = vec![Dir {
        parent: None,
        rel: "/".to_owned(),
        meta,
    }];
    let mut paths = vec![root.to_path_buf()];
    let mut leaves = Vec::new();
    let mut i = 0;
    while i < dirs.len() {
        let dir_path = paths[i].clone();
        let entries = std::fs::read_dir(&dir_path)
            .with_context(|| format!("listing {}", dir_path.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("listing {}", dir_path.display()))?;
            let path = entry.path();
            let name = entry.file_name().into_string().map_err(|n| {
                anyhow!(
                    "{}: file name {n:?} is not UTF-8, which OSTree requires",
                    dir_path.display()
                )
            })?;
            let meta = std::fs::symlink_metadata(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            let ft = meta.file_type();
            let rel = match dirs[i].rel.as_str() {
                "/" => format!("/{name}"),
                parent => format!("{parent}/{name}"),
            };
            if ft.is_dir() {
                dirs.push(Dir {
                    parent: Some((i, name)),
                    rel,
                    meta,
                });
                paths.push(path);
            } else if ft.is_file() || ft.is_symlink() {
                leaves.push(Leaf {
                    dir: i,
                    name,
                    path,
                    rel,
                    meta,
                });
            } else {
                let kind = if ft.is_char_device() || ft.is_block_device() {
                    "device node"
                } else if ft.is_fifo() {
                    "fifo"
                } else {
                    "socket"
                };
                bail!(
                    "{} is a {kind}; OSTree commits hold only files, directories and symlinks",
                    path.display()
                );
            }
        }
        i += 1;
    }
    Ok((dirs, leaves))
}

/// Writes every leaf's content object; returns checksums in `leaves` order.
fn write_leaves(
    repo: &ostree::Repo,
    leaves: &[Leaf],
    threads: usize,
    known: Option<&KnownInodes>,
    labels: Option<&Labelling>,
) -> Result<(Vec<String>, Reuse)> {
    // Largest files first, so one big file started last does not leave the other cores idle.
    let mut order: Vec<usize> = (0..leaves.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(leaves[i].meta.len()));
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Mutex<Vec<Option<String>>> = Mutex::new(vec![None; leaves.len()]);
    let reused = AtomicUsize::new(0);
    let changed: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    let threads = threads.min(leaves.len().max(1));
    std::thread::scope(|s| -> Result<()> {
        let mut handles = Vec::new();
        for _ in 0..threads {
            // `ostree::Repo` is Send but not Sync: each thread holds its own reference.
            let repo = repo.clone();
            let (next, failed, results, order) = (&next, &failed, &results, &order);
            let (reused, changed) = (&reused, &changed);
            handles.push(s.spawn(move || -> Result<()> {
                let policy = match labels.map(Policy::load).transpose() {
                    Ok(p) => p,
                    Err(e) => {
                        failed.store(true, Ordering::Relaxed);
                        return Err(e);
                    }
                };
                let policy = policy.as_ref();
                let mut mine = Vec::new();
                loop {
                    if failed.load(Ordering::Relaxed) {
                        break;
                    }
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = order.get(k) else { break };
                    let leaf = &leaves[i];
                    let known = match known.filter(|_| leaf.meta.is_file()) {
                        None => Lookup::Unknown,
                        Some(k) => k.lookup(&leaf.meta),
                    };
                    let written = match known {
                        Lookup::Same(c) => match has_file_object(&repo, c) {
                            Ok(true) => {
                                reused.fetch_add(1, Ordering::Relaxed);
                                Ok(c.to_owned())
                            }
                            Ok(false) => write_leaf(&repo, leaf, policy),
                            Err(e) => Err(e),
                        },
                        Lookup::Changed => {
                            changed
                                .lock()
                                .map_err(|_| anyhow!("writer thread panicked"))?
                                .push(leaf.path.clone());
                            write_leaf(&repo, leaf, policy)
                        }
                        Lookup::Unknown => write_leaf(&repo, leaf, policy),
                    };
                    match written {
                        Ok(c) => mine.push((i, c)),
                        Err(e) => {
                            failed.store(true, Ordering::Relaxed);
                            return Err(e);
                        }
                    }
                }
                let mut r = results
                    .lock()
                    .map_err(|_| anyhow!("writer thread panicked"))?;
                for (i, c) in mine {
                    r[i] = Some(c);
                }
                Ok(())
            }));
        }
        for h in handles {
            h.join()
                .map_err(|_| anyhow!("a content writer thread panicked"))??;
        }
        Ok(())
    })?;
    let checksums = results
        .into_inner()
        .map_err(|_| anyhow!("writer thread panicked"))?
        .into_iter()
        .zip(leaves)
        .map(|(c, l)| c.ok_or_else(|| anyhow!("{} was not written", l.path.display())))
        .collect::<Result<Vec<_>>>()?;
    let mut changed_links = changed
        .into_inner()
        .map_err(|_| anyhow!("writer thread panicked"))?;
    changed_links.sort();
    Ok((
        checksums,
        Reuse {
            reused: reused.into_inner(),
            changed_links,
        },
    ))
}

fn has_file_object(repo: &ostree::Repo, checksum: &str) -> Result<bool> {
    repo.has_object(ostree::ObjectType::File, checksum, gio::Cancellable::NONE)
        .map_err(gerr)
        .with_context(|| format!("looking up object {checksum}"))
}

fn write_leaf(repo: &ostree::Repo, leaf: &Leaf, policy: Option<&Policy>) -> Result<String> {
    let xattrs = match policy {
        Some(p) => p.xattrs(&leaf.rel, leaf.meta.mode())?,
        None => None,
    };
    let (stream, len) = if leaf.meta.file_type().is_symlink() {
        let target = std::fs::read_link(&leaf.path)
            .with_context(|| format!("reading symlink {}", leaf.path.display()))?;
        let target = target.to_str().ok_or_else(|| {
            anyhow!(
                "{}: symlink target is not UTF-8, which OSTree requires",
                leaf.path.display()
            )
        })?;
        let info = file_info(&leaf.meta, Some(target));
        // Symlinks have no content: the object is the header alone.
        ostree::raw_file_to_content_stream(
            &gio::MemoryInputStream::new(),
            &info,
            xattrs.as_ref(),
            gio::Cancellable::NONE,
        )
    } else {
        let info = file_info(&leaf.meta, None);
        let input = gio::File::for_path(&leaf.path)
            .read(gio::Cancellable::NONE)
            .map_err(gerr)
            .with_context(|| format!("opening {}", leaf.path.display()))?;
        ostree::raw_file_to_content_stream(&input, &info, xattrs.as_ref(), gio::Cancellable::NONE)
    }
    .map_err(gerr)
    .with_context(|| format!("reading {}", leaf.path.display()))?;
    let csum = repo
        .write_content(None, &stream, len, gio::Cancellable::NONE)
        .map_err(gerr)
        .with_context(|| format!("writing {} into the repository", leaf.path.display()))?;
    Ok(csum.to_hex())
}

/// The file info libostree builds from a `stat` (`_ostree_stbuf_to_gfileinfo`): what goes
/// into content headers and dirmeta objects.
fn file_info(meta: &std::fs::Metadata, symlink_target: Option<&str>) -> gio::FileInfo {
    let info = gio::FileInfo::new();
    let ft = meta.file_type();
    let kind = if ft.is_dir() {
        gio::FileType::Directory
    } else if ft.is_symlink() {
        gio::FileType::SymbolicLink
    } else {
        gio::FileType::Regular
    };
    info.set_file_type(kind);
    info.set_is_symlink(ft.is_symlink());
    info.set_attribute_uint32("unix::uid", meta.uid());
    info.set_attribute_uint32("unix::gid", meta.gid());
    info.set_attribute_uint32("unix::mode", meta.mode());
    if kind == gio::FileType::Regular {
        info.set_size(meta.len() as i64);
    }
    if let Some(t) = symlink_target {
        info.set_symlink_target(t);
    }
    info
}
