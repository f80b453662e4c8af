//! The compose pipeline: treefile → Plan → resolve → input hash → (no changes? stop) →
//! install → postprocess → overlays → commit → sign.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use mxos_repo::{CommitRequest, MetaValue, Repo, RepoMode};
use mxos_treefile::{automatic_version, InputHasher, Plan};

use crate::dnf::Dnf;
use crate::overlay::Overlay;
use crate::postprocess::postprocess;

/// Commit metadata keys MxOS owns; a treefile's `add-commit-metadata` may not set them.
pub const KEY_INPUTHASH: &str = "mxos.inputhash";
pub const KEY_PACKAGES: &str = "mxos.packages";
pub const KEY_TREEFILE: &str = "mxos.treefile";
const RESERVED: &[&str] = &[
    "version",
    "ostree.bootable",
    KEY_INPUTHASH,
    KEY_PACKAGES,
    KEY_TREEFILE,
];

/// Bumping this re-composes every tree: postprocess output is an input too.
const COMPOSER_ID: &str = concat!(
    "mxos-compose ",
    env!("CARGO_PKG_VERSION"),
    " postprocess v1"
);

pub struct ComposeRequest {
    pub treefile: PathBuf,
    pub repo: PathBuf,
    /// Mode for a repo that does not exist yet.
    pub mode: RepoMode,
    /// Scratch space; the installed root is built at `workdir/root`.
    pub workdir: PathBuf,
    /// Where overlays live; default: `overlays/` beside the treefile's directory.
    pub overlays_dir: Option<PathBuf>,
    pub sign_key: Option<PathBuf>,
    /// Compose even when the input hash matches the ref's head.
    pub force: bool,
    pub basearch: String,
    /// `SOURCE_DATE_EPOCH`, if the caller has one; else the newest package build time.
    pub source_date_epoch: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Committed {
        reference: String,
        checksum: String,
        version: Option<String>,
        packages: usize,
        signed: bool,
    },
    Unchanged {
        reference: String,
        checksum: String,
    },
}

pub fn compose(req: &ComposeRequest) -> Result<Outcome> {
    let plan = mxos_treefile::load(&req.treefile, &req.basearch)?;
    let sign_key = req
        .sign_key
        .as_deref()
        .map(mxos_sign::SecretKey::read)
        .transpose()?;
    let overlays_dir = match &req.overlays_dir {
        Some(d) => d.clone(),
        None => default_overlays_dir(&req.treefile),
    };
    let overlays = plan
        .overlays
        .iter()
        .map(|name| Overlay::load(&overlays_dir, name))
        .collect::<Result<Vec<_>>>()?;
    let extra_metadata = commit_metadata_from_plan(&plan)?;
    let repo = Repo::open_or_create(&req.repo, req.mode)?;
    std::fs::create_dir_all(&req.workdir)
        .with_context(|| format!("creating work dir {}", req.workdir.display()))?;

    let dnf = Dnf::prepare(&plan, &req.workdir)?;
    let resolution = dnf.resolve(&plan)?;
    let mut hasher = InputHasher::new(&plan);
    hasher.add("composer", COMPOSER_ID.as_bytes());
    for o in &overlays {
        hasher.add(&format!("overlay:{}", o.name), o.hash.as_bytes());
    }
    for p in &resolution.packages {
        let name = p.file.file_name().unwrap_or_default().to_string_lossy();
        hasher.add(&format!("package:{name}"), p.checksum.as_bytes());
    }
    let input_hash = hasher.finish().0;

    let head = repo.resolve(&plan.reference)?;
    let head_info = head.as_deref().map(|h| repo.commit_info(h)).transpose()?;
    if let Some(info) = &head_info {
        if !req.force && info.string(KEY_INPUTHASH) == Some(input_hash.as_str()) {
            return Ok(Outcome::Unchanged {
                reference: plan.reference,
                checksum: info.checksum.clone(),
            });
        }
    }

    let timestamp = req.source_date_epoch.unwrap_or(resolution.newest_buildtime);
    let version = plan
        .automatic_version_prefix
        .as_deref()
        .map(|prefix| {
            let previous = head_info.as_ref().and_then(|i| i.version());
            automatic_version(prefix, previous, timestamp as i64)
        })
        .transpose()?;

    let root = req.workdir.join("root");
    if root.exists() {
        std::fs::remove_dir_all(&root).with_context(|| format!("clearing {}", root.display()))?;
    }
    std::fs::create_dir_all(&root)?;
    let packages = dnf.install(&plan, &resolution, &root, timestamp)?;
    postprocess(&root, &plan).context("postprocessing the installed tree")?;
    let layers = overlays
        .iter()
        .map(|o| o.ensure_layer(&repo, &req.workdir))
        .collect::<Result<Vec<_>>>()?;

    let mut metadata = extra_metadata;
    if let Some(v) = &version {
        metadata.insert("version".into(), MetaValue::Str(v.clone()));
    }
    metadata.insert("ostree.bootable".into(), MetaValue::Bool(true));
    metadata.insert(KEY_INPUTHASH.into(), MetaValue::Str(input_hash));
    metadata.insert(
        KEY_TREEFILE.into(),
        MetaValue::Str(plan.treefile_name.clone()),
    );
    metadata.insert(KEY_PACKAGES.into(), MetaValue::StrList(packages.clone()));
    let subject = match &version {
        Some(v) => format!("MxOS {} {v}", plan.reference),
        None => format!("MxOS {}", plan.reference),
    };
    let checksum = repo.commit_tree(&CommitRequest {
        reference: &plan.reference,
        root: &root,
        layers: &layers,
        parent: head.as_deref(),
        subject: &subject,
        metadata: &metadata,
        timestamp,
    })?;
    if let Some(key) = &sign_key {
        mxos_sign::sign_commit(&repo, &checksum, key)?;
    }
    std::fs::remove_dir_all(&root).ok();
    Ok(Outcome::Committed {
        reference: plan.reference,
        checksum,
        version,
        packages: packages.len(),
        signed: sign_key.is_some(),
    })
}

/// `treefiles/x.yaml` → `overlays/`, the project layout.
fn default_overlays_dir(treefile: &Path) -> PathBuf {
    let dir = treefile.parent().unwrap_or(Path::new("."));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    dir.join("..").join("overlays")
}

fn commit_metadata_from_plan(plan: &Plan) -> Result<BTreeMap<String, MetaValue>> {
    let mut out = BTreeMap::new();
    for (k, v) in &plan.add_commit_metadata {
        if RESERVED.contains(&k.as_str()) {
            bail!(
                "{}: add-commit-metadata may not set `{k}`; the composer sets it (use automatic-version-prefix for versions)",
                plan.treefile_name
            );
        }
        out.insert(k.clone(), MetaValue::from_json(k, v)?);
    }
    Ok(out)
}
