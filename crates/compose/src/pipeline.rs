//! The compose pipeline: treefile → Plan → resolve → input hash → (no changes? stop) →
//! install → layers → postprocess → overlays → commit → sign.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use mxos_repo::{CommitRequest, MetaValue, Repo, RepoMode};
use mxos_treefile::{
    automatic_version, Backend, CheckGroups, CheckPasswd, InputHasher, Lockfiles, Plan,
};

use crate::apt;
use crate::dnf::{Dnf, IdSeed, LockMode, Resolution};
use crate::layers::{self, Layer};
use crate::metadata::{self, KEY_INPUTHASH, KEY_PACKAGES, KEY_PREHASH, KEY_TREEFILE};
use crate::overlay::Overlay;
use crate::pkgcache::PackageCache;
use crate::postprocess::{postprocess, Previous};

/// Bumping this re-composes every tree: postprocess output is an input too.
const COMPOSER_ID: &str = concat!(
    "mxos-compose ",
    env!("CARGO_PKG_VERSION"),
    " postprocess v4 (rpm-ostree treefile language, SELinux labels)"
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
    /// Which lockfiles pin the packages (default: those beside the treefile).
    pub lockfiles: Lockfiles,
    pub lock_mode: LockMode,
    /// Write the resolved package set here as an rpm-ostree lockfile.
    pub write_lockfile_to: Option<PathBuf>,
    /// The collection the build repo's commits are bound to (`core.collection-id`); `None`
    /// leaves the repo as it is.
    pub collection_id: Option<String>,
}

impl ComposeRequest {
    /// A request with the defaults every field but these has.
    pub fn new(treefile: PathBuf, repo: PathBuf, workdir: PathBuf, basearch: &str) -> Self {
        ComposeRequest {
            treefile,
            repo,
            mode: RepoMode::BareUser,
            workdir,
            cachedir: None,
            overlays_dir: None,
            sign_key: None,
            force: false,
            basearch: basearch.to_owned(),
            source_date_epoch: None,
            lockfiles: Lockfiles::Beside,
            lock_mode: LockMode::Relaxed,
            write_lockfile_to: None,
            collection_id: Some(mxos_repo::DEFAULT_COLLECTION_ID.to_owned()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Committed {
        /// `None` for a treefile without `ref`: the commit is in the repo under no ref.
        reference: Option<String>,
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

/// Gives a new build repo its collection ID; a repo already bound to another keeps it,
/// since its published commits and every device following them are bound to that one.
fn bind_repo(repo: &Repo, id: &str) -> Result<()> {
    if let Some(current) = repo.adopt_collection_id(id)? {
        anyhow::bail!(
            "{} belongs to collection `{current}`, not `{id}`: compose with \
             `--collection-id {current}`, or into a new repo for the new collection",
            repo.path().display()
        );
    }
    Ok(())
}

pub fn compose(req: &ComposeRequest) -> Result<Outcome> {
    let plan = mxos_treefile::load_with(&req.treefile, &req.basearch, &req.lockfiles)?;
    for w in &plan.warnings {
        tracing::warn!("{w}");
    }
    crate::support::check(&plan)?;
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
        .treefile
        .overlays
        .iter()
        .map(|name| Overlay::load(&overlays_dir, name))
        .collect::<Result<Vec<_>>>()?;
    let extra_metadata = metadata::from_plan(&plan)?;
    let repo = Repo::open_or_create(&req.repo, req.mode)?;
    if let Some(id) = &req.collection_id {
        bind_repo(&repo, id)?;
    }
    let tree_layers = layers::resolve(&repo, &plan)?;
    std::fs::create_dir_all(&req.workdir)
        .with_context(|| format!("creating work dir {}", req.workdir.display()))?;

    let head = match plan.reference() {
        Some(r) => repo.resolve(r)?,
        None => None,
    };
    let head_info = head.as_deref().map(|h| repo.commit_info(h)).transpose()?;
    // A head bound to another collection (or to none) is not this compose's result, whatever
    // its inputs: it must be committed again with the bindings.
    let reusable = head_info
        .as_ref()
        .filter(|info| mxos_repo::Bindings::of(&info.metadata).collection == repo.collection_id());
    let root = req.workdir.join("root");
    if root.exists() {
        std::fs::remove_dir_all(&root).with_context(|| format!("clearing {}", root.display()))?;
    }

    // Resolving costs time that grows with the tree (apt installs to resolve, dnf downloads
    // every package): first compare what decides the resolution (plan, overlays, layers, the
    // repositories' metadata) with what built the head. A lockfile to write needs the
    // resolution, so it always resolves.
    let repo_metadata = match plan.treefile.backend {
        Backend::Apt => Some((
            "apt-inrelease",
            apt::release_fingerprint(&plan, &req.workdir)?,
        )),
        Backend::Dnf => {
            crate::dnf::keys::warn_unchecked(&plan);
            crate::dnf::repos::metadata_fingerprint(&plan, &req.workdir)?.map(|f| ("dnf-repomd", f))
        }
    };
    let prehash = repo_metadata.map(|(label, fingerprint)| {
        let mut h = base_hasher(&plan, &overlays, &tree_layers);
        h.add(label, fingerprint.as_bytes());
        h.finish().0
    });
    if let (Some(pre), Some(info), None) = (&prehash, reusable, &req.write_lockfile_to) {
        if !req.force && info.string(KEY_PREHASH) == Some(pre.as_str()) {
            return Ok(unchanged(&plan, &info.checksum));
        }
    }

    // Resolve the package set (apt resolves by installing), hash every input, and stop
    // before any expensive step if the ref's head was built from the same inputs.
    let (packages, pending_dnf) = match plan.treefile.backend {
        Backend::Dnf => {
            let cachedir = req.cachedir.as_deref().unwrap_or(&req.workdir);
            // Taken first: it also makes concurrent composes take turns on dnf's metadata.
            let cache = PackageCache::open(&cachedir.join("pkgcache"))?;
            let dnf = Dnf::prepare(&plan, &req.workdir, &cachedir.join("dnf-root"))?;
            let resolution = tracing::info_span!("mxos.step", step = "resolving packages with dnf")
                .in_scope(|| dnf.resolve(&plan, req.lock_mode))?;
            if let Some(path) = &req.write_lockfile_to {
                let epoch = req.source_date_epoch.unwrap_or(resolution.newest_buildtime);
                write_atomically(path, dnf.lockfile_text(&resolution, epoch).as_bytes())
                    .with_context(|| format!("writing the lockfile {}", path.display()))?;
                tracing::info!(
                    "wrote {} ({} packages)",
                    path.display(),
                    resolution.packages.len()
                );
            }
            (
                PackageSet::from_dnf(&resolution),
                Some((dnf, resolution, cache)),
            )
        }
        Backend::Apt => {
            if req.write_lockfile_to.is_some() {
                anyhow::bail!(
                    "{}: lockfiles pin RPMs; `backend: apt` trees have none to write",
                    plan.treefile_name
                );
            }
            let installed =
                tracing::info_span!("mxos.step", step = "bootstrapping the Debian tree")
                    .in_scope(|| apt::install(&plan, &root, req.source_date_epoch))?;
            (PackageSet::from_apt(installed), None)
        }
    };
    let mut hasher = base_hasher(&plan, &overlays, &tree_layers);
    for (label, checksum) in &packages.inputs {
        hasher.add(&format!("package:{label}"), checksum.as_bytes());
    }
    let input_hash = hasher.finish().0;
    if let Some(info) = reusable {
        if !req.force && info.string(KEY_INPUTHASH) == Some(input_hash.as_str()) {
            std::fs::remove_dir_all(&root).ok();
            return Ok(unchanged(&plan, &info.checksum));
        }
    }

    let timestamp = req.source_date_epoch.unwrap_or(packages.newest_time);
    let version = plan
        .treefile
        .automatic_version_prefix
        .as_deref()
        .map(|prefix| {
            let previous = head_info.as_ref().and_then(|i| i.version());
            automatic_version(
                prefix,
                previous,
                timestamp as i64,
                plan.treefile.automatic_version_suffix.as_deref(),
            )
        })
        .transpose()?;

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
    let mut repo_records = BTreeMap::new();
    let (installed, cache) = match pending_dnf {
        Some((dnf, resolution, cache)) => {
            std::fs::create_dir_all(&root)?;
            let ids = id_seed(&plan, &previous)?;
            let installed = tracing::info_span!("mxos.step", step = "installing packages")
                .in_scope(|| dnf.install(&plan, &resolution, &root, timestamp, &cache, &ids))?;
            repo_records = dnf.repos_generated(&resolution);
            (installed.nevras.clone(), Some((cache, installed)))
        }
        None => (packages.installed, None),
    };
    layers::apply(
        &repo,
        &tree_layers,
        &root,
        &layers::scratch_dir(&req.workdir),
    )?;
    tracing::info_span!("mxos.step", step = "postprocessing")
        .in_scope(|| postprocess(&root, &plan, &previous, version.as_deref()))
        .context("postprocessing the installed tree")?;
    let overlay_layers = overlays
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
    if let Some((key, value)) = metadata::repos(&plan, &repo_records) {
        metadata.insert(key, value);
    }
    let subject = match (&version, plan.reference()) {
        (Some(v), Some(r)) => format!("MxOS {r} {v}"),
        (None, Some(r)) => format!("MxOS {r}"),
        (Some(v), None) => format!("MxOS {} {v}", plan.treefile_name),
        (None, None) => format!("MxOS {}", plan.treefile_name),
    };
    crate::selinux::check_finalizable(&plan, &root)?;
    let labels = crate::selinux::labelling(&plan, &root)?;
    let _commit_step = tracing::info_span!("mxos.step", step = "committing").entered();
    let report = repo.commit_tree_report(&CommitRequest {
        reference: plan.reference(),
        root: &root,
        layers: &overlay_layers,
        parent: head.as_deref(),
        subject: &subject,
        metadata: &metadata,
        timestamp,
        known: cache.as_ref().map(|(_, i)| &i.known),
        selinux: labels.as_ref(),
    })?;
    drop(_commit_step);
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
        reference: plan.reference().map(str::to_owned),
        checksum,
        version,
        packages: installed.len(),
        signed: sign_key.is_some(),
        cache,
    })
}

fn unchanged(plan: &Plan, checksum: &str) -> Outcome {
    Outcome::Unchanged {
        reference: plan.reference().unwrap_or_default().to_owned(),
        checksum: checksum.to_owned(),
    }
}

/// `preserve-passwd`: the users and groups to carry in, from the `check-*` file when the
/// treefile names one, else from the previous commit.
fn id_seed(plan: &Plan, previous: &Previous) -> Result<IdSeed> {
    if !plan.treefile.preserve_passwd {
        return Ok(IdSeed::default());
    }
    let read = |f: &mxos_treefile::ExternalFile| -> Result<String> {
        let bytes = f
            .read()
            .with_context(|| format!("reading {}", f.path.display()))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    Ok(IdSeed {
        passwd: match &plan.treefile.check_passwd {
            CheckPasswd::File { filename } => Some(read(filename)?),
            _ => previous.passwd.clone(),
        },
        group: match &plan.treefile.check_groups {
            CheckGroups::File { filename } => Some(read(filename)?),
            _ => previous.group.clone(),
        },
    })
}

/// Replaces `path` only once the new content is complete.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
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

/// The inputs every backend shares: the canonical plan, the composer, the overlays and the
/// layers' commits.
fn base_hasher(plan: &Plan, overlays: &[Overlay], layers: &[Layer]) -> InputHasher {
    let mut hasher = InputHasher::new(plan);
    hasher.add("composer", COMPOSER_ID.as_bytes());
    for o in overlays {
        hasher.add(&format!("overlay:{}", o.name), o.hash.as_bytes());
    }
    for l in layers {
        hasher.add(&format!("layer:{}", l.reference), l.commit.as_bytes());
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
