//! The compose pipeline: treefile → Plan → resolve → input hash → (no changes? stop) →
//! install → postprocess → overlays → commit → sign.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use mxos_repo::{CommitRequest, MetaValue, Repo, RepoMode};
use mxos_treefile::{automatic_version, Backend, InputHasher, Plan};

use crate::apt;
use crate::dnf::{Dnf, Resolution};
use crate::overlay::Overlay;
use crate::pkgcache::PackageCache;
use crate::postprocess::{postprocess, Previous};

/// Commit metadata keys MxOS owns; a treefile's `add-commit-metadata` may not set them.
pub const KEY_INPUTHASH: &str = "mxos.inputhash";
pub const KEY_PACKAGES: &str = "mxos.packages";
pub const KEY_TREEFILE: &str = "mxos.treefile";
/// Hash of the plan, the overlays and the repositories' metadata (apt's InRelease, dnf's
/// repomd.xml), checked before anything is resolved.
pub const KEY_PREHASH: &str = "mxos.prehash";
const RESERVED: &[&str] = &[
    "version",
    "ostree.bootable",
    KEY_INPUTHASH,
    KEY_PACKAGES,
    KEY_TREEFILE,
    KEY_PREHASH,
];

/// Bumping this re-composes every tree: postprocess output is an input too.
const COMPOSER_ID: &str = concat!(
    "mxos-compose ",
    env!("CARGO_PKG_VERSION"),
    " postprocess v2 (rpmdb by rpm --justdb)"
);

pub struct ComposeRequest {
    pub treefile: PathBuf,
    pub repo: PathBuf,
    /// Mode for a repo that does not exist yet.
    pub mode: RepoMode,
    /// Scratch space; the installed root is built at `workdir/root`.
    pub workdir: PathBuf,
    /// Where what outlives one compose is kept (dnf trees): the package cache `pkgcache` (a
    /// `bare` repo that must share the work dir's filesystem, since roots are assembled by
    /// hard links) and dnf's repo metadata `dnf-root`. Default: the work dir.
    pub cachedir: Option<PathBuf>,
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
        /// What the package cache saved (dnf trees).
        cache: Option<CacheUse>,
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

    let head = repo.resolve(&plan.reference)?;
    let head_info = head.as_deref().map(|h| repo.commit_info(h)).transpose()?;
    let root = req.workdir.join("root");
    if root.exists() {
        std::fs::remove_dir_all(&root).with_context(|| format!("clearing {}", root.display()))?;
    }

    // Resolving costs time that grows with the tree (apt installs to resolve, dnf downloads
    // every package): first compare what decides the resolution (plan, overlays, the
    // repositories' metadata) with what built the head.
    let repo_metadata = match plan.backend {
        Backend::Apt => Some((
            "apt-inrelease",
            apt::release_fingerprint(&plan, &req.workdir)?,
        )),
        Backend::Dnf => {
            crate::dnf::metadata_fingerprint(&plan, &req.workdir)?.map(|f| ("dnf-repomd", f))
        }
    };
    let prehash = repo_metadata.map(|(label, fingerprint)| {
        let mut h = base_hasher(&plan, &overlays);
        h.add(label, fingerprint.as_bytes());
        h.finish().0
    });
    if let (Some(pre), Some(info)) = (&prehash, &head_info) {
        if !req.force && info.string(KEY_PREHASH) == Some(pre.as_str()) {
            return Ok(Outcome::Unchanged {
                reference: plan.reference,
                checksum: info.checksum.clone(),
            });
        }
    }

    // Resolve the package set (apt resolves by installing), hash every input, and stop
    // before any expensive step if the ref's head was built from the same inputs.
    let (packages, pending_dnf) = match plan.backend {
        Backend::Dnf => {
            let cachedir = req.cachedir.as_deref().unwrap_or(&req.workdir);
            // Taken first: it also makes concurrent composes take turns on dnf's metadata.
            let cache = PackageCache::open(&cachedir.join("pkgcache"))?;
            let dnf = Dnf::prepare(&plan, &req.workdir, &cachedir.join("dnf-root"))?;
            let resolution = dnf.resolve(&plan)?;
            (
                PackageSet::from_dnf(&resolution),
                Some((dnf, resolution, cache)),
            )
        }
        Backend::Apt => {
            let installed = apt::install(&plan, &root, req.source_date_epoch)?;
            (PackageSet::from_apt(installed), None)
        }
    };
    let mut hasher = base_hasher(&plan, &overlays);
    for (label, checksum) in &packages.inputs {
        hasher.add(&format!("package:{label}"), checksum.as_bytes());
    }
    let input_hash = hasher.finish().0;
    if let Some(info) = &head_info {
        if !req.force && info.string(KEY_INPUTHASH) == Some(input_hash.as_str()) {
            std::fs::remove_dir_all(&root).ok();
            return Ok(Outcome::Unchanged {
                reference: plan.reference,
                checksum: info.checksum.clone(),
            });
        }
    }

    let timestamp = req.source_date_epoch.unwrap_or(packages.newest_time);
    let version = plan
        .automatic_version_prefix
        .as_deref()
        .map(|prefix| {
            let previous = head_info.as_ref().and_then(|i| i.version());
            automatic_version(prefix, previous, timestamp as i64)
        })
        .transpose()?;

    let (installed, cache) = match pending_dnf {
        Some((dnf, resolution, cache)) => {
            std::fs::create_dir_all(&root)?;
            let installed = dnf.install(&plan, &resolution, &root, timestamp, &cache)?;
            (installed.nevras.clone(), Some((cache, installed)))
        }
        None => (packages.installed, None),
    };
    let previous = match &head {
        Some(h) => Previous {
            passwd: repo
                .read_file(h, "usr/etc/passwd")?
                .map(|b| String::from_utf8_lossy(&b).into_owned()),
            group: repo
                .read_file(h, "usr/etc/group")?
                .map(|b| String::from_utf8_lossy(&b).into_owned()),
        },
        None => Previous::default(),
    };
    postprocess(&root, &plan, &previous).context("postprocessing the installed tree")?;
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
    metadata.insert(KEY_PACKAGES.into(), MetaValue::StrList(installed.clone()));
    if let Some(pre) = prehash {
        metadata.insert(KEY_PREHASH.into(), MetaValue::Str(pre));
    }
    let subject = match &version {
        Some(v) => format!("MxOS {} {v}", plan.reference),
        None => format!("MxOS {}", plan.reference),
    };
    let report = repo.commit_tree_report(&CommitRequest {
        reference: &plan.reference,
        root: &root,
        layers: &layers,
        parent: head.as_deref(),
        subject: &subject,
        metadata: &metadata,
        timestamp,
        known: cache.as_ref().map(|(_, i)| &i.known),
    })?;
    let checksum = report.checksum;
    let cache = match cache {
        None => None,
        Some((cache, installed)) => {
            let mut changed = installed.changed_links;
            changed.extend(report.changed_links);
            let mut forgotten = 0;
            if changed.is_empty() {
                forgotten = cache.forget_unused(crate::pkgcache::KEEP_UNUSED)?;
            } else {
                // The commit hashed those files from their content, so it is right; the
                // cache's objects for them are not, and nothing tells which packages hold
                // them: start over next time.
                cache.discard()?;
            }
            Some(CacheUse {
                imported: installed.imported,
                reused_files: report.reused,
                discarded_for: changed,
                forgotten,
            })
        }
    };
    if let Some(key) = &sign_key {
        mxos_sign::sign_commit(&repo, &checksum, key)?;
    }
    std::fs::remove_dir_all(&root).ok();
    Ok(Outcome::Committed {
        reference: plan.reference,
        checksum,
        version,
        packages: installed.len(),
        signed: sign_key.is_some(),
        cache,
    })
}

/// How much of a dnf compose came from the package cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheUse {
    /// Packages unpacked by this compose; the others were checked out of the cache.
    pub imported: usize,
    /// Files whose checksum the commit took from the cache instead of reading them.
    pub reused_files: usize,
    /// The cache was deleted because these files were written through its links.
    pub discarded_for: Vec<PathBuf>,
    /// Packages dropped from the cache after 30 days without a compose using them.
    pub forgotten: usize,
}

/// The inputs every backend shares: the canonical plan, the composer, the overlays.
fn base_hasher(plan: &Plan, overlays: &[Overlay]) -> InputHasher {
    let mut hasher = InputHasher::new(plan);
    hasher.add("composer", COMPOSER_ID.as_bytes());
    for o in overlays {
        hasher.add(&format!("overlay:{}", o.name), o.hash.as_bytes());
    }
    hasher
}

/// What the input hash and the commit need to know about the packages.
struct PackageSet {
    /// (label, checksum) pairs hashed as inputs.
    inputs: Vec<(String, String)>,
    newest_time: u64,
    /// Installed packages, once known (apt knows them after resolving).
    installed: Vec<String>,
}

impl PackageSet {
    fn from_dnf(r: &Resolution) -> PackageSet {
        PackageSet {
            inputs: r
                .packages
                .iter()
                .map(|p| {
                    (
                        p.file
                            .file_name()
                            .unwrap_or_default()
                            .to_string_lossy()
                            .into_owned(),
                        p.checksum.clone(),
                    )
                })
                .collect(),
            newest_time: r.newest_buildtime,
            installed: Vec::new(),
        }
    }

    /// Debian versions identify package contents within an archive.
    fn from_apt(i: apt::Installed) -> PackageSet {
        PackageSet {
            inputs: i.packages.iter().map(|p| (p.clone(), p.clone())).collect(),
            newest_time: i.newest_time,
            installed: i.packages,
        }
    }
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
