//! Overlays: small directory trees (locale, branding) laid over the package tree, each
//! committed as its own layer `mxos/overlay/<name>` and rebuilt only when its content changes.
//!
//! An overlay is `overlays/<name>/overlay.yaml` plus `overlays/<name>/root/`. Because it is
//! laid over a finished OSTree tree, its `etc/` is stored as `usr/etc/`, and it may not reach
//! outside the tree, into `/var`, or add setuid files it did not declare.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use mxos_repo::{LayerCommit, MetaValue, Repo};
use serde::Deserialize;

/// `overlay.yaml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    description: String,
    /// Paths (relative to the overlay root) allowed to carry setuid/setgid bits.
    #[serde(default)]
    setuid: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    Dir,
    File { contents_hash: String },
    Symlink { target: String },
    Special,
}

/// One path in an overlay, relative to its root, e.g. `etc/locale.conf`.
#[derive(Debug, Clone)]
pub struct Entry {
    pub rel: String,
    pub mode: u32,
    pub kind: EntryKind,
}

pub struct Overlay {
    pub name: String,
    pub description: String,
    root: PathBuf,
    /// blake3 over the manifest and every entry: the layer is reused while it matches.
    pub hash: String,
}

const METADATA_HASH: &str = "mxos.overlay.hash";

impl Overlay {
    pub fn load(overlays_dir: &Path, name: &str) -> Result<Overlay> {
        if name.is_empty() || name.contains('/') || name.starts_with('.') {
            bail!(
                "overlays: `{name}` is not an overlay name (a directory name under {})",
                overlays_dir.display()
            );
        }
        let dir = overlays_dir.join(name);
        let manifest_path = dir.join("overlay.yaml");
        let text = fs::read_to_string(&manifest_path).with_context(|| {
            format!(
                "overlay `{name}`: reading {} (an overlay is a directory with overlay.yaml and root/)",
                manifest_path.display()
            )
        })?;
        let manifest: Manifest = serde_yaml::from_str(&text).map_err(|e| {
            let at = e
                .location()
                .map(|l| format!(":{}:{}", l.line(), l.column()))
                .unwrap_or_default();
            anyhow::anyhow!(
                "{}{at}: {e}; accepted keys: description, setuid",
                manifest_path.display()
            )
        })?;
        let root = dir.join("root");
        if !root.is_dir() {
            bail!(
                "overlay `{name}`: {} is missing; put the files to lay over the tree there",
                root.display()
            );
        }
        let mut entries = Vec::new();
        walk(&root, &root, &mut entries)?;
        validate(&entries, &manifest.setuid)
            .with_context(|| format!("overlay `{name}` refused"))?;
        let mut h = blake3::Hasher::new();
        h.update(text.as_bytes());
        for e in &entries {
            h.update(format!("\0{}\0{:o}\0{:?}", e.rel, e.mode, e.kind).as_bytes());
        }
        Ok(Overlay {
            name: name.to_owned(),
            description: manifest.description,
            root,
            hash: h.finalize().to_hex().to_string(),
        })
    }

    pub fn reference(&self) -> String {
        format!("mxos/overlay/{}", self.name)
    }

    /// Commits the overlay as its layer unless the layer already holds this content.
    pub fn ensure_layer(&self, repo: &Repo, work: &Path) -> Result<String> {
        let reference = self.reference();
        if repo.resolve(&reference)?.is_some() {
            let info = repo.commit_info(&reference)?;
            if info.string(METADATA_HASH) == Some(self.hash.as_str()) {
                return Ok(reference);
            }
        }
        let stage = work.join(format!("overlay-{}", self.name));
        if stage.exists() {
            fs::remove_dir_all(&stage)?;
        }
        copy_tree(&self.root, &stage, &self.root)?;
        let mut metadata = BTreeMap::new();
        metadata.insert(METADATA_HASH.to_owned(), MetaValue::Str(self.hash.clone()));
        metadata.insert(
            "mxos.overlay.description".to_owned(),
            MetaValue::Str(self.description.clone()),
        );
        repo.commit_layer(&LayerCommit {
            reference: &reference,
            parent: None,
            dir: &stage,
            metadata: &metadata,
            // Content-only layer: a fixed time keeps its checksum a function of its files.
            timestamp: 0,
        })
        .with_context(|| format!("committing overlay `{}`", self.name))?;
        fs::remove_dir_all(&stage).ok();
        Ok(reference)
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<Entry>) -> Result<()> {
    let mut children: Vec<_> = fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .collect::<std::io::Result<_>>()?;
    children.sort_by_key(|e| e.file_name());
    for c in children {
        let p = c.path();
        let m = fs::symlink_metadata(&p)?;
        let rel = p.strip_prefix(root)?.to_string_lossy().into_owned();
        let mode = normalized_mode(m.permissions().mode(), m.is_dir());
        let kind = if m.is_dir() {
            EntryKind::Dir
        } else if m.file_type().is_symlink() {
            EntryKind::Symlink {
                target: fs::read_link(&p)?.to_string_lossy().into_owned(),
            }
        } else if m.is_file() {
            let bytes = fs::read(&p).with_context(|| format!("reading {}", p.display()))?;
            EntryKind::File {
                contents_hash: blake3::hash(&bytes).to_hex().to_string(),
            }
        } else {
            EntryKind::Special
        };
        let is_dir = kind == EntryKind::Dir;
        out.push(Entry { rel, mode, kind });
        if is_dir {
            walk(root, &p, out)?;
        }
    }
    Ok(())
}

/// Git keeps only the executable bit, so the umask of whoever checked out the overlay must
/// not change the layer: modes are normalized to 0755/0644, special bits kept for checks.
fn normalized_mode(mode: u32, is_dir: bool) -> u32 {
    let special = mode & 0o7000;
    if is_dir || mode & 0o111 != 0 {
        special | 0o755
    } else {
        special | 0o644
    }
}

/// The rules an overlay must follow; pure so every refusal is tested without a tree.
pub fn validate(entries: &[Entry], setuid_allowed: &[String]) -> Result<()> {
    // Files first, so the message names what the author actually put there, not `/var`.
    let files = entries.iter().filter(|e| e.kind != EntryKind::Dir);
    let dirs = entries.iter().filter(|e| e.kind == EntryKind::Dir);
    for e in files.chain(dirs) {
        let rel = &e.rel;
        if rel == "var" || rel.starts_with("var/") {
            bail!("/{rel}: overlays may not place anything under /var (it is machine state, never updated); use tmpfiles.d in /usr/lib/tmpfiles.d instead");
        }
        if rel == "usr/etc" || rel.starts_with("usr/etc/") {
            bail!("/{rel}: put configuration under etc/ in the overlay; it is moved to /usr/etc for you");
        }
        match &e.kind {
            EntryKind::Special => {
                bail!("/{rel}: overlays may contain only files, directories and symlinks")
            }
            EntryKind::Symlink { target } if escapes(rel, target) => {
                bail!("/{rel} -> {target}: the symlink points outside the tree");
            }
            _ => {}
        }
        if e.mode & 0o6000 != 0
            && !setuid_allowed
                .iter()
                .any(|s| s.trim_start_matches('/') == rel)
        {
            bail!(
                "/{rel} has the setuid/setgid bit (mode {:04o}); list it under `setuid:` in overlay.yaml if that is intended",
                e.mode
            );
        }
    }
    Ok(())
}

/// Whether a symlink at `rel` with `target` resolves above the tree's root.
fn escapes(rel: &str, target: &str) -> bool {
    let mut depth: i64 = if target.starts_with('/') {
        0
    } else {
        rel.matches('/').count() as i64
    };
    for c in target.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
}

/// Copies an overlay to `dest`, storing its `etc/` as `usr/etc/` (the OSTree layout).
fn copy_tree(src_root: &Path, dest_root: &Path, dir: &Path) -> Result<()> {
    fs::create_dir_all(dest_root)?;
    for c in fs::read_dir(dir)? {
        let p = c?.path();
        let rel = p.strip_prefix(src_root)?;
        let rel = match rel.strip_prefix("etc") {
            Ok(rest) => Path::new("usr/etc").join(rest),
            Err(_) => rel.to_owned(),
        };
        let dest = dest_root.join(&rel);
        let m = fs::symlink_metadata(&p)?;
        if m.is_dir() {
            fs::create_dir_all(&dest)?;
            fs::set_permissions(
                &dest,
                fs::Permissions::from_mode(normalized_mode(m.permissions().mode(), true)),
            )?;
            copy_tree(src_root, dest_root, &p)?;
        } else if m.file_type().is_symlink() {
            fs::create_dir_all(dest.parent().unwrap_or(dest_root))?;
            std::os::unix::fs::symlink(fs::read_link(&p)?, &dest)?;
        } else {
            fs::create_dir_all(dest.parent().unwrap_or(dest_root))?;
            fs::copy(&p, &dest).with_context(|| format!("copying {}", p.display()))?;
            fs::set_permissions(
                &dest,
                fs::Permissions::from_mode(normalized_mode(m.permissions().mode(), false)),
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(rel: &str, mode: u32) -> Entry {
        Entry {
            rel: rel.into(),
            mode,
            kind: EntryKind::File {
                contents_hash: String::new(),
            },
        }
    }
    fn link(rel: &str, target: &str) -> Entry {
        Entry {
            rel: rel.into(),
            mode: 0o777,
            kind: EntryKind::Symlink {
                target: target.into(),
            },
        }
    }
    fn err(entries: &[Entry]) -> String {
        validate(entries, &[]).unwrap_err().to_string()
    }

    #[test]
    fn refuses_var_escapes_setuid_and_specials() {
        assert_eq!(
            err(&[file("var/lib/x", 0o644)]),
            "/var/lib/x: overlays may not place anything under /var (it is machine state, never updated); use tmpfiles.d in /usr/lib/tmpfiles.d instead"
        );
        assert_eq!(
            err(&[link("etc/escape", "../../../etc/shadow")]),
            "/etc/escape -> ../../../etc/shadow: the symlink points outside the tree"
        );
        assert_eq!(
            err(&[link("x", "/../../host")]),
            "/x -> /../../host: the symlink points outside the tree"
        );
        assert_eq!(
            err(&[file("usr/bin/su", 0o4755)]),
            "/usr/bin/su has the setuid/setgid bit (mode 4755); list it under `setuid:` in overlay.yaml if that is intended"
        );
        assert_eq!(
            err(&[Entry {
                rel: "dev/x".into(),
                mode: 0o644,
                kind: EntryKind::Special
            }]),
            "/dev/x: overlays may contain only files, directories and symlinks"
        );
        validate(&[file("usr/bin/su", 0o4755)], &["/usr/bin/su".into()]).unwrap();
        validate(
            &[
                link("etc/localtime", "../usr/share/zoneinfo/America/Mexico_City"),
                link("etc/os-release", "/usr/lib/os-release"),
            ],
            &[],
        )
        .unwrap();
    }
}
