//! Reads a treefile and its includes depth-first, merging each file over the files it includes.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::error::TreefileError;
use crate::parse::parse;
use crate::plan::RepoFile;
use crate::schema::{Origins, RawTreefile};

/// How deep includes may nest below the top treefile.
pub const MAX_INCLUDE_DEPTH: usize = 50;

/// Everything read for one top treefile, merged.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    pub raw: RawTreefile,
    pub origins: Origins,
    pub sources: Vec<PathBuf>,
    pub repo_files: Vec<RepoFile>,
}

#[derive(Default)]
struct Loader {
    /// (device, inode) and path of each file on the include stack; inodes
    /// catch loops through symlinks and differently spelled paths.
    stack: Vec<((u64, u64), PathBuf)>,
    loaded: Loaded,
    dirs: Vec<PathBuf>,
}

pub(crate) fn load_path(path: &Path) -> Result<Loaded, TreefileError> {
    let mut loader = Loader::default();
    loader.file(path, None)?;
    let repo_files = repo_files(&loader.dirs)?;
    loader.loaded.repo_files = repo_files;
    Ok(loader.loaded)
}

pub(crate) fn load_text(name: &Path, text: &str) -> Result<Loaded, TreefileError> {
    let mut raw = parse(name, text)?;
    if raw.include.take().is_some() {
        return Err(TreefileError::IncludeWithoutDir {
            path: name.to_path_buf(),
        });
    }
    let mut loaded = Loaded {
        sources: vec![name.to_path_buf()],
        ..Loaded::default()
    };
    loaded.raw.merge_over(raw, name, &mut loaded.origins);
    Ok(loaded)
}

impl Loader {
    /// `from` is the including file and the include entry as written.
    fn file(&mut self, path: &Path, from: Option<(&Path, &str)>) -> Result<(), TreefileError> {
        let read_error = |source| match from {
            Some((from, include)) => TreefileError::MissingInclude {
                from: from.to_path_buf(),
                include: include.to_owned(),
                resolved: path.to_path_buf(),
                source,
            },
            None => TreefileError::Read {
                path: path.to_path_buf(),
                source,
            },
        };
        let meta = fs::metadata(path).map_err(read_error)?;
        let id = (meta.dev(), meta.ino());
        if self.stack.iter().any(|(seen, _)| *seen == id) {
            let mut chain: Vec<PathBuf> = self.stack.iter().map(|(_, p)| p.clone()).collect();
            chain.push(path.to_path_buf());
            return Err(TreefileError::IncludeLoop { chain });
        }
        if self.stack.len() > MAX_INCLUDE_DEPTH {
            let from = from.map_or_else(PathBuf::new, |(f, _)| f.to_path_buf());
            return Err(TreefileError::IncludeDepth {
                path: path.to_path_buf(),
                from,
                limit: MAX_INCLUDE_DEPTH,
            });
        }
        let text = fs::read_to_string(path).map_err(read_error)?;
        let mut raw = parse(path, &text)?;

        if !self.loaded.sources.iter().any(|p| p == path) {
            self.loaded.sources.push(path.to_path_buf());
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        self.dirs.push(dir.clone());

        self.stack.push((id, path.to_path_buf()));
        for include in raw.include.take().map(|i| i.0).unwrap_or_default() {
            self.file(&dir.join(&include), Some((path, &include)))?;
        }
        self.stack.pop();
        self.loaded
            .raw
            .merge_over(raw, path, &mut self.loaded.origins);
        Ok(())
    }
}

/// `*.repo` files beside the treefiles, sorted by file name, each path once.
fn repo_files(dirs: &[PathBuf]) -> Result<Vec<RepoFile>, TreefileError> {
    let mut seen_dirs = BTreeSet::new();
    let mut found = BTreeSet::new();
    for dir in dirs {
        let canonical = fs::canonicalize(dir).map_err(|source| TreefileError::Read {
            path: dir.clone(),
            source,
        })?;
        if !seen_dirs.insert(canonical) {
            continue;
        }
        let entries = fs::read_dir(dir).map_err(|source| TreefileError::Read {
            path: dir.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| TreefileError::Read {
                path: dir.clone(),
                source,
            })?;
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "repo") && path.is_file() {
                found.insert((entry.file_name().to_string_lossy().into_owned(), path));
            }
        }
    }
    found
        .into_iter()
        .map(|(name, path)| {
            let contents =
                fs::read_to_string(&path).map_err(|source| TreefileError::Read { path, source })?;
            Ok(RepoFile { name, contents })
        })
        .collect()
}
