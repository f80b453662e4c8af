//! `ostree-layers` and `ostree-override-layers`: commits already in the build repo (e.g.
//! coreos-assembler's `overlay/*` refs) laid over the installed packages in order, before
//! postprocess, as rpm-ostree does. An `ostree-layers` file may only repeat what is there
//! already; an override layer replaces it.

use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use mxos_repo::Repo;
use mxos_treefile::Plan;

/// One layer of the plan, resolved in the build repo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub reference: String,
    pub commit: String,
    /// `ostree-override-layers`: its files win over the tree's.
    pub overrides: bool,
}

/// The plan's layers in the order they apply; a ref the build repo lacks is an error.
pub fn resolve(repo: &Repo, plan: &Plan) -> Result<Vec<Layer>> {
    let wanted = plan
        .treefile
        .ostree_layers
        .iter()
        .map(|r| (r, false))
        .chain(
            plan.treefile
                .ostree_override_layers
                .iter()
                .map(|r| (r, true)),
        );
    let mut out = Vec::new();
    for (reference, overrides) in wanted {
        let key = if overrides {
            "ostree-override-layers"
        } else {
            "ostree-layers"
        };
        let commit = repo.resolve(reference)?.with_context(|| {
            format!(
                "{key}: the build repo {} has no ref `{reference}`; commit the layer first (e.g. `ostree commit --repo={} -b {reference} --tree=dir=DIR`)",
                repo.path().display(),
                repo.path().display()
            )
        })?;
        out.push(Layer {
            reference: reference.clone(),
            commit,
            overrides,
        });
    }
    Ok(out)
}

/// Checks each layer out under `scratch` and moves its files into `root`.
pub fn apply(repo: &Repo, layers: &[Layer], root: &Path, scratch: &Path) -> Result<()> {
    if !layers.is_empty() {
        fs::create_dir_all(scratch).with_context(|| format!("creating {}", scratch.display()))?;
    }
    for (i, layer) in layers.iter().enumerate() {
        let dir = scratch.join(format!("layer-{i}"));
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        repo.checkout_subpath(&layer.commit, "/", &dir)
            .with_context(|| format!("checking out layer `{}`", layer.reference))?;
        // A layer taken from a finished OSTree tree keeps /etc as /usr/etc; the tree being
        // composed still has /etc, which postprocess moves last.
        let (usr_etc, etc) = (dir.join("usr/etc"), dir.join("etc"));
        if usr_etc.is_dir() {
            if etc.exists() {
                bail!(
                    "layer `{}` has both /etc and /usr/etc; keep configuration in one of them",
                    layer.reference
                );
            }
            fs::rename(&usr_etc, &etc)?;
        }
        let result = merge(&dir, root, Path::new(""), layer);
        fs::remove_dir_all(&dir).ok();
        result?;
    }
    Ok(())
}

fn merge(from: &Path, root: &Path, rel: &Path, layer: &Layer) -> Result<()> {
    let mut entries: Vec<_> = fs::read_dir(from.join(rel))?.collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let rel = rel.join(e.file_name());
        let src = from.join(&rel);
        let dest = root.join(&rel);
        let src_meta = fs::symlink_metadata(&src)?;
        let dest_meta = fs::symlink_metadata(&dest).ok();
        if src_meta.is_dir() {
            match &dest_meta {
                Some(m) if m.is_dir() => {}
                Some(_) if layer.overrides => {
                    fs::remove_file(&dest)?;
                    fs::create_dir(&dest)?;
                }
                Some(_) => conflict(layer, &rel)?,
                None => {
                    fs::create_dir(&dest)?;
                    fs::set_permissions(&dest, src_meta.permissions())?;
                }
            }
            merge(from, root, &rel, layer)?;
            continue;
        }
        if let Some(m) = &dest_meta {
            if m.is_dir() {
                conflict(layer, &rel)?;
            }
            if !layer.overrides {
                if identical(&src, &dest)? {
                    continue;
                }
                conflict(layer, &rel)?;
            }
            // Unlinked, not written over: the tree's file may be a link into the package cache.
            fs::remove_file(&dest)?;
        }
        fs::rename(&src, &dest)
            .with_context(|| format!("laying {} of `{}`", rel.display(), layer.reference))?;
    }
    Ok(())
}

fn conflict(layer: &Layer, rel: &Path) -> Result<()> {
    bail!(
        "ostree-layers: `{}` has /{}, which the tree already has with other content; an ostree-layers entry may only add files (move the layer to `ostree-override-layers` to replace them)",
        layer.reference,
        rel.display()
    )
}

/// Same kind, same mode, same bytes (or link target).
fn identical(a: &Path, b: &Path) -> Result<bool> {
    let (ma, mb) = (fs::symlink_metadata(a)?, fs::symlink_metadata(b)?);
    if ma.file_type().is_symlink() || mb.file_type().is_symlink() {
        return Ok(ma.file_type().is_symlink()
            && mb.file_type().is_symlink()
            && fs::read_link(a)? == fs::read_link(b)?);
    }
    if ma.len() != mb.len() || ma.permissions().mode() & 0o7777 != mb.permissions().mode() & 0o7777
    {
        return Ok(false);
    }
    Ok(read(a)? == read(b)?)
}

fn read(p: &Path) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    fs::File::open(p)
        .and_then(|mut f| f.read_to_end(&mut out))
        .with_context(|| format!("reading {}", p.display()))?;
    Ok(out)
}

/// Where layers are checked out while composing.
pub fn scratch_dir(workdir: &Path) -> PathBuf {
    workdir.join("layers")
}
