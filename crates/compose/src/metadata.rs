//! The commit metadata a compose writes: what the treefile asks for (`add-commit-metadata`,
//! `container-cmd`, `initramfs-args`, repo metadata) beside the keys MxOS owns.

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use mxos_repo::MetaValue;
use mxos_treefile::{MetadataMode, Plan};

/// Commit metadata keys MxOS owns; a treefile's `add-commit-metadata` may not set them.
pub const KEY_INPUTHASH: &str = "mxos.inputhash";
pub const KEY_PACKAGES: &str = "mxos.packages";
pub const KEY_TREEFILE: &str = "mxos.treefile";
/// blake3 of the lockfile's pins, when the compose used one.
pub const KEY_LOCKFILE: &str = "mxos.lockfile";
/// Hash of the plan, the overlays and the repositories' metadata (apt's InRelease, dnf's
/// repomd.xml), checked before anything is resolved.
pub const KEY_PREHASH: &str = "mxos.prehash";
/// What ostree-ext makes the image's `CMD` (rpm-ostree's key).
pub const KEY_CONTAINER_CMD: &str = "ostree.container-cmd";
const KEY_INITRAMFS_ARGS: &str = "rpmostree.initramfs-args";
const KEY_RPMMD_REPOS: &str = "rpmostree.rpmmd-repos";

const RESERVED: &[&str] = &[
    "version",
    "ostree.bootable",
    KEY_INPUTHASH,
    KEY_PACKAGES,
    KEY_TREEFILE,
    KEY_PREHASH,
    KEY_LOCKFILE,
    KEY_CONTAINER_CMD,
];

/// What the treefile itself puts in the commit.
pub fn from_plan(plan: &Plan) -> Result<BTreeMap<String, MetaValue>> {
    let mut out = BTreeMap::new();
    for (k, v) in &plan.treefile.add_commit_metadata {
        if RESERVED.contains(&k.as_str()) {
            bail!(
                "{}: add-commit-metadata may not set `{k}`; the composer sets it (use automatic-version-prefix for versions, container-cmd for the image command)",
                plan.treefile_name
            );
        }
        out.insert(k.clone(), MetaValue::from_json(k, v)?);
    }
    if let Some(cmd) = &plan.treefile.container_cmd {
        out.insert(KEY_CONTAINER_CMD.into(), MetaValue::StrList(cmd.clone()));
    }
    if !plan.treefile.initramfs_args.is_empty() {
        out.insert(
            KEY_INITRAMFS_ARGS.into(),
            MetaValue::StrList(plan.treefile.initramfs_args.clone()),
        );
    }
    if let Some(lock) = &plan.lockfile {
        out.insert(KEY_LOCKFILE.into(), MetaValue::Str(lock.hash()));
    }
    Ok(out)
}

/// `repo-metadata: inline`: each repo dnf read and when its metadata was generated, as
/// rpm-ostree records them (`id`, `timestamp`).
pub fn repos(plan: &Plan, generated: &BTreeMap<String, i64>) -> Option<(String, MetaValue)> {
    if plan.treefile.repo_metadata != MetadataMode::Inline || generated.is_empty() {
        return None;
    }
    let records = generated
        .iter()
        .map(|(id, t)| {
            BTreeMap::from([
                ("id".to_owned(), MetaValue::Str(id.clone())),
                ("timestamp".to_owned(), MetaValue::U64((*t).max(0) as u64)),
            ])
        })
        .collect();
    Some((KEY_RPMMD_REPOS.to_owned(), MetaValue::Records(records)))
}
