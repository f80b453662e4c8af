//! Reads a treefile and its includes the way rpm-ostree does: each file's own keys first,
//! then, in order, its `include` files, its `arch-include` for the architecture and the
//! `conditional-include`s whose conditions hold, each merged into it (the including file
//! winning). Variables live in one map where the first definition wins, so a file's
//! conditions see what its ancestors and earlier includes defined.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::condition;
use crate::error::{Location, TreefileError, Warning};
use crate::merge::dedup_repo_packages;
use crate::packages::split_all;
use crate::parse::{parse, Parsed};
use crate::plan::RepoFile;
use crate::schema::{RawTreefile, REFUSED_KEYS};
use crate::values::{
    BootLocation, CheckGroups, CheckPasswd, ExternalFile, IncludeTarget, VarValue,
};

/// How deep includes may nest below the top treefile.
pub const MAX_INCLUDE_DEPTH: usize = 50;

/// Variables every treefile gets; `variables` may not define them.
pub(crate) const BUILTIN_VARIABLES: [&str; 2] = ["basearch", "releasever"];

/// Everything read for one top treefile, merged.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    pub raw: RawTreefile,
    pub variables: BTreeMap<String, VarValue>,
    pub sources: Vec<PathBuf>,
    pub repo_files: Vec<RepoFile>,
    pub warnings: Vec<Warning>,
}

struct Loader<'a> {
    basearch: &'a str,
    /// (device, inode) of every file read: a file may be part of a tree once, and inodes
    /// catch repeats through symlinks and differently spelled paths.
    seen: BTreeSet<(u64, u64)>,
    /// The include chain being read, for loop messages.
    stack: Vec<((u64, u64), PathBuf)>,
    variables: BTreeMap<String, VarValue>,
    sources: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
    warnings: Vec<Warning>,
}

impl<'a> Loader<'a> {
    fn new(basearch: &'a str) -> Self {
        Loader {
            basearch,
            seen: BTreeSet::new(),
            stack: Vec::new(),
            variables: BTreeMap::new(),
            sources: Vec::new(),
            dirs: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn finish(self, raw: Box<RawTreefile>, repo_files: Vec<RepoFile>) -> Loaded {
        Loaded {
            raw: *raw,
            variables: self.variables,
            sources: self.sources,
            repo_files,
            warnings: self.warnings,
        }
    }
}

pub(crate) fn load_path(path: &Path, basearch: &str) -> Result<Loaded, TreefileError> {
    let mut loader = Loader::new(basearch);
    let raw = loader.file(path, None)?;
    let repo_files = repo_files(&loader.dirs)?;
    Ok(loader.finish(raw, repo_files))
}

pub(crate) fn load_text(name: &Path, text: &str, basearch: &str) -> Result<Loaded, TreefileError> {
    let mut loader = Loader::new(basearch);
    let Parsed { raw, warnings } = parse(name, text)?;
    if raw.include.is_some() || raw.arch_include.is_some() {
        return Err(TreefileError::IncludeWithoutDir {
            path: name.to_path_buf(),
        });
    }
    loader.warnings.extend(warnings);
    loader.sources.push(name.to_path_buf());
    let raw = loader.process(raw, name, Path::new(""))?;
    Ok(loader.finish(raw, Vec::new()))
}

impl Loader<'_> {
    /// `from` is the including file and the include entry as written.
    fn file(
        &mut self,
        path: &Path,
        from: Option<(&Path, &str)>,
    ) -> Result<Box<RawTreefile>, TreefileError> {
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
        if let (Some((from, include)), true) = (from, self.seen.contains(&id)) {
            return Err(TreefileError::IncludedTwice {
                from: from.to_path_buf(),
                include: include.to_owned(),
                resolved: path.to_path_buf(),
            });
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
        let Parsed { raw, warnings } = parse(path, &text)?;
        self.warnings.extend(warnings);
        self.seen.insert(id);
        self.sources.push(path.to_path_buf());
        // Relative to the path as written, as rpm-ostree does: a symlinked treefile's
        // includes resolve beside the link.
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        self.dirs.push(dir.clone());
        self.stack.push((id, path.to_path_buf()));
        let raw = self.process(raw, path, &dir)?;
        self.stack.pop();
        Ok(raw)
    }

    /// One file's keys with its includes merged in.
    fn process(
        &mut self,
        mut raw: Box<RawTreefile>,
        path: &Path,
        dir: &Path,
    ) -> Result<Box<RawTreefile>, TreefileError> {
        normalize(&mut raw, path, dir, self.basearch)?;
        let origin = |raw: &RawTreefile, key: &'static str| {
            raw.origins
                .get(key)
                .cloned()
                .unwrap_or_else(|| Location::file(path))
        };
        let mut vars = raw.variables.take().unwrap_or_default();
        if let Some(name) = BUILTIN_VARIABLES.iter().find(|b| vars.contains_key(**b)) {
            return Err(TreefileError::ReservedVariable {
                at: origin(&raw, "variables"),
                name: (*name).to_owned(),
            });
        }
        vars.insert(
            "basearch".to_owned(),
            VarValue::String(self.basearch.to_owned()),
        );
        if let Some(rv) = &raw.releasever {
            vars.insert("releasever".to_owned(), rv.clone());
        }
        for (name, value) in vars {
            self.variables.entry(name).or_insert(value);
        }

        let mut children: Vec<String> = raw.include.take().map(|i| i.0).unwrap_or_default();
        if let Some(mut by_arch) = raw.arch_include.take() {
            children.extend(
                by_arch
                    .remove(self.basearch)
                    .map(|i| i.0)
                    .unwrap_or_default(),
            );
        }
        let conditionals = raw.conditional_include.take().unwrap_or_default();
        let conditional_at = origin(&raw, "conditional-include");
        for (index, entry) in conditionals.into_iter().enumerate() {
            let holds =
                condition::all_hold(&entry.condition.0, &self.variables).map_err(|message| {
                    TreefileError::Condition {
                        at: conditional_at.clone(),
                        index,
                        message,
                    }
                })?;
            if !holds {
                continue;
            }
            match entry.include {
                IncludeTarget::Files(files) => children.extend(files.0),
                IncludeTarget::Inline(inline) => {
                    if inline.include.is_some()
                        || inline.arch_include.is_some()
                        || inline.conditional_include.is_some()
                    {
                        return Err(TreefileError::Condition {
                            at: conditional_at.clone(),
                            index,
                            message: "keys written in place cannot include other files; name the file in `include` instead".to_owned(),
                        });
                    }
                    let mut inline = self.process(inline, path, dir)?;
                    // Written in place, so errors point at the conditional include.
                    for key in crate::schema::KNOWN_KEYS {
                        if inline.origins.contains_key(key) {
                            continue;
                        }
                        inline.origins.insert(key, conditional_at.clone());
                    }
                    raw.merge_from(inline);
                }
            }
        }
        for child in children {
            let included = self.file(&dir.join(&child), Some((path, &child)))?;
            raw.merge_from(included);
        }
        Ok(raw)
    }
}

/// What rpm-ostree does to each file before merging it: refuse client-side keys, check
/// `basearch`, fold `packages-ARCH` into `packages` (split on spaces), apply `container` and
/// `edition`, and read the files it names relative to its own directory.
fn normalize(
    raw: &mut RawTreefile,
    path: &Path,
    dir: &Path,
    basearch: &str,
) -> Result<(), TreefileError> {
    let origin = |raw: &RawTreefile, key: &'static str| {
        raw.origins
            .get(key)
            .cloned()
            .unwrap_or_else(|| Location::file(path))
    };
    if let Some(key) = raw.refused_keys().first() {
        let key = REFUSED_KEYS
            .iter()
            .find(|k| *k == key)
            .copied()
            .unwrap_or(key);
        return Err(TreefileError::RefusedKey {
            at: origin(raw, key),
            key,
        });
    }
    if let Some(arch) = raw.basearch.as_deref().filter(|a| *a != basearch) {
        return Err(TreefileError::Basearch {
            at: origin(raw, "basearch"),
            value: arch.to_owned(),
            basearch: basearch.to_owned(),
        });
    }
    let arch = raw.take_arch_packages(basearch);
    let bootstrap = raw.bootstrap_packages.take().unwrap_or_default();
    if raw.packages.is_some() || !arch.is_empty() || !bootstrap.is_empty() {
        let mut all = raw.packages.take().unwrap_or_default();
        all.extend(arch);
        all.extend(bootstrap);
        let mut split = split_all(all).map_err(|message| TreefileError::InvalidValue {
            at: origin(raw, "packages"),
            key: "packages".to_owned(),
            message,
        })?;
        split.sort();
        split.dedup();
        raw.packages = Some(split);
    }
    if let Some(list) = raw.repo_packages.as_mut() {
        for entry in list.iter_mut() {
            entry.packages = split_all(std::mem::take(&mut entry.packages)).map_err(|message| {
                TreefileError::InvalidValue {
                    at: raw
                        .origins
                        .get("repo-packages")
                        .cloned()
                        .unwrap_or_else(|| Location::file(path)),
                    key: "repo-packages".to_owned(),
                    message,
                }
            })?;
        }
        dedup_repo_packages(list);
    }
    if raw.container == Some(true) {
        // rpm-ostree forces these for container trees, over what the same file says.
        raw.boot_location = Some(BootLocation::Modules);
        raw.selinux = Some(false);
        raw.tmp_is_dir = Some(true);
        raw.preserve_passwd = Some(false);
        raw.check_passwd = Some(CheckPasswd::None);
        raw.check_groups = Some(CheckGroups::None);
    }
    if raw.edition == Some(crate::values::Edition::E2024) {
        raw.boot_location.get_or_insert(BootLocation::Modules);
        raw.tmp_is_dir.get_or_insert(true);
    }
    let at = |key| origin(raw, key);
    let (script_at, keyring_at, files_at, passwd_at, groups_at) = (
        at("postprocess-script"),
        at("keyring"),
        at("add-files"),
        at("check-passwd"),
        at("check-groups"),
    );
    if let Some(f) = raw.postprocess_script.as_mut() {
        resolve(f, dir, &script_at, "postprocess-script")?;
    }
    if let Some(f) = raw.keyring.as_mut() {
        resolve(f, dir, &keyring_at, "keyring")?;
    }
    for f in raw.add_files.iter_mut().flatten() {
        resolve(&mut f.source, dir, &files_at, "add-files")?;
    }
    if let Some(CheckPasswd::File { filename }) = raw.check_passwd.as_mut() {
        resolve(filename, dir, &passwd_at, "check-passwd")?;
    }
    if let Some(CheckGroups::File { filename }) = raw.check_groups.as_mut() {
        resolve(filename, dir, &groups_at, "check-groups")?;
    }
    Ok(())
}

/// Reads a named file relative to the treefile that names it (an absolute name stays).
fn resolve(
    file: &mut ExternalFile,
    dir: &Path,
    at: &Location,
    key: &'static str,
) -> Result<(), TreefileError> {
    let path = dir.join(&file.name);
    let missing = |source| TreefileError::MissingFile {
        at: at.clone(),
        key,
        name: file.name.clone(),
        resolved: path.clone(),
        source,
    };
    let bytes = fs::read(&path).map_err(missing)?;
    let meta = fs::metadata(&path).map_err(missing)?;
    file.blake3 = blake3::hash(&bytes).to_hex().to_string();
    file.executable = meta.permissions().mode() & 0o111 != 0;
    file.path = path;
    Ok(())
}

/// `*.repo` files beside the treefiles, sorted by file name, each path once.
fn repo_files(dirs: &[PathBuf]) -> Result<Vec<RepoFile>, TreefileError> {
    let mut seen_dirs = BTreeSet::new();
    let mut found = BTreeMap::new();
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
                let name = entry.file_name().to_string_lossy().into_owned();
                found.entry(name).or_insert(path);
            }
        }
    }
    found
        .into_iter()
        .map(|(name, path)| {
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            let contents =
                fs::read_to_string(&path).map_err(|source| TreefileError::Read { path, source })?;
            Ok(RepoFile {
                name,
                contents,
                dir,
            })
        })
        .collect()
}
