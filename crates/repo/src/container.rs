//! bootc/OCI container images through ostree-ext: encapsulate a commit into an OCI image
//! layout (chunked by component), and import an image's commit back into a repository.
//!
//! ostree-ext is async (tokio); the runtime is created and dropped inside each call here so
//! that every other crate stays synchronous.

use std::collections::{BTreeMap, HashSet};
use std::num::NonZeroU32;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::rc::Rc;

use anyhow::{bail, Context, Result};
use ostree::gio;
use ostree_ext::chunking::ObjectMetaSized;
use ostree_ext::container::store::ImageImporter;
use ostree_ext::container::{
    Config, ExportOpts, ImageReference, OstreeImageReference, SignatureSource, Transport,
};
use ostree_ext::objectsource::{ObjectMeta, ObjectSourceMeta};
use ostree_ext::oci_spec::image::ImageManifest;

use crate::{gerr, Repo};

/// `change_frequency` that ostree-ext reads as "changes with every build": such components
/// (content no package owns: the rpmdb, generated files) get a layer of their own.
pub const CHANGES_EVERY_BUILD: u32 = u32::MAX;

/// One source of content, usually a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// Unique id, e.g. the package's NEVRA; names the layer.
    pub id: String,
    /// Stable name across versions (the package name): what a previous build's layer
    /// annotations are matched against.
    pub name: String,
    /// Source package, or the name again.
    pub srcid: String,
    /// Relative change frequency; [`CHANGES_EVERY_BUILD`] for unpackaged content.
    pub change_frequency: u32,
}

/// Which component owns every content object of a commit.
#[derive(Debug, Clone, Default)]
pub struct ContentMap {
    pub components: Vec<Component>,
    /// Content object checksum → index into `components`. ostree-ext 0.15 panics if a
    /// content object of the commit is missing here, so [`Repo::encapsulate`] checks first.
    pub objects: BTreeMap<String, usize>,
}

/// How to build the image; see [`Repo::encapsulate`].
#[derive(Debug, Clone, Default)]
pub struct EncapsulateOptions {
    /// Labels, on top of those ostree-ext derives from the commit (`ostree.commit`,
    /// `ostree.bootable`, `containers.bootc`, `org.opencontainers.image.version`, ...).
    pub labels: BTreeMap<String, String>,
    /// The image config's `created`, RFC 3339.
    pub created: Option<String>,
    pub cmd: Option<Vec<String>>,
    /// Package map for chunking; `None` gives a single layer.
    pub content: Option<ContentMap>,
    pub max_layers: Option<NonZeroU32>,
    /// JSON of a previous build's image manifest, so layer boundaries stay where they were.
    pub previous_manifest: Option<String>,
}

/// A file of a commit: its absolute path in the tree and its content object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeFile {
    pub path: String,
    pub checksum: String,
}

/// The hint printed whenever cap-std's procfs check is what failed.
pub const PROCFS_HINT: &str = "cap-std (used by ostree-ext and ocidir for atomic writes) refuses a /proc whose root is writable by group or others (some VMs mount it 0755; real systems have 0555), and every OCI write then fails with `Operation not supported (os error 95)`. Run the command in a private mount namespace with a fresh procfs: `unshare -m --propagation private --mount-proc mxos-compose ...`";

/// Errors if /proc looks like one cap-std will refuse, before any work is done.
pub fn check_procfs() -> Result<()> {
    let mode = std::fs::metadata("/proc")
        .context("reading the mode of /proc")?
        .permissions()
        .mode()
        & 0o777;
    // The same rule as rustix-linux-procfs: no permission bit beyond 0555 on the root.
    if mode & !0o555 != 0 {
        bail!("/proc has mode {mode:04o}, which cannot be used to write OCI images: {PROCFS_HINT}");
    }
    Ok(())
}

/// Adds [`PROCFS_HINT`] to an error whose cause is EOPNOTSUPP (os error 95).
pub fn explain_procfs(err: anyhow::Error) -> anyhow::Error {
    let eopnotsupp = err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .and_then(|e| e.raw_os_error())
            == Some(95)
            || c.to_string().contains("os error 95")
    });
    if eopnotsupp {
        err.context(PROCFS_HINT)
    } else {
        err
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the tokio runtime for ostree-ext")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Repo {
    /// Every regular file and symlink of a commit with its content checksum, sorted by path.
    pub fn tree_files(&self, rev: &str) -> Result<Vec<TreeFile>> {
        let checksum = self.require(rev)?;
        let (commit, _) = self
            .inner
            .load_commit(&checksum)
            .map_err(gerr)
            .with_context(|| format!("loading commit {checksum}"))?;
        let root = hex(&commit.child_value(6).data_as_bytes());
        let mut out = Vec::new();
        self.walk_dirtree(&root, "", &mut out)
            .with_context(|| format!("listing the files of commit {checksum}"))?;
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    fn walk_dirtree(&self, tree: &str, prefix: &str, out: &mut Vec<TreeFile>) -> Result<()> {
        let v = self
            .inner
            .load_variant(ostree::ObjectType::DirTree, tree)
            .map_err(gerr)
            .with_context(|| format!("loading dirtree {tree}"))?;
        // A dirtree is (a(say) files, a(sayay) dirs).
        let files = v.child_value(0);
        for i in 0..files.n_children() {
            let f = files.child_value(i);
            let name: String = f.child_value(0).get().context("dirtree file name")?;
            out.push(TreeFile {
                path: format!("{prefix}/{name}"),
                checksum: hex(&f.child_value(1).data_as_bytes()),
            });
        }
        let dirs = v.child_value(1);
        for i in 0..dirs.n_children() {
            let d = dirs.child_value(i);
            let name: String = d.child_value(0).get().context("dirtree dir name")?;
            let sub = hex(&d.child_value(1).data_as_bytes());
            self.walk_dirtree(&sub, &format!("{prefix}/{name}"), out)?;
        }
        Ok(())
    }

    /// Checks out one directory of a commit (e.g. `/usr/lib/sysimage/rpm`) to `dest`, which
    /// must not exist yet; owners are not kept (user mode).
    pub fn checkout_subpath(&self, rev: &str, subpath: &str, dest: &Path) -> Result<()> {
        let checksum = self.require(rev)?;
        let opts = ostree::RepoCheckoutAtOptions {
            mode: ostree::RepoCheckoutMode::User,
            subpath: Some(subpath.into()),
            ..Default::default()
        };
        // AT_FDCWD: `dest` is used as given.
        const AT_FDCWD: i32 = -100;
        self.inner
            .checkout_at(
                Some(&opts),
                AT_FDCWD,
                dest,
                &checksum,
                gio::Cancellable::NONE,
            )
            .map_err(gerr)
            .with_context(|| format!("checking out {subpath} of {checksum} to {}", dest.display()))
    }

    /// Encapsulates `rev` as a bootc-compatible OCI image into the OCI layout directory
    /// `oci_dir` under `tag`, with ostree-ext. Returns the manifest digest ostree-ext reports.
    pub fn encapsulate(
        &self,
        rev: &str,
        oci_dir: &Path,
        tag: &str,
        opts: &EncapsulateOptions,
    ) -> Result<String> {
        check_procfs()?;
        let checksum = self.require(rev)?;
        let sized = match &opts.content {
            Some(map) => Some(self.sized_content_meta(&checksum, map)?),
            None => None,
        };
        let prior: Option<ImageManifest> = opts
            .previous_manifest
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .context("the previous build manifest is not an OCI image manifest (JSON)")?;
        let mut export = ExportOpts::default();
        export.max_layers = opts.max_layers;
        export.created = opts.created.clone();
        export.contentmeta = sized.as_ref();
        export.prior_build = prior.as_ref();
        let config = Config {
            labels: Some(opts.labels.clone()),
            cmd: opts.cmd.clone(),
        };
        let oci = oci_dir
            .to_str()
            .with_context(|| format!("OCI directory {} is not UTF-8", oci_dir.display()))?;
        if oci.contains(':') {
            bail!("OCI directory {oci} contains `:`, which ostree-ext reads as the tag separator; choose a path without it");
        }
        let dest = ImageReference {
            transport: Transport::OciDir,
            name: format!("{oci}:{tag}"),
        };
        let rt = runtime()?;
        let digest = rt
            .block_on(ostree_ext::container::encapsulate(
                &self.inner,
                &checksum,
                &config,
                Some(export),
                &dest,
            ))
            .map_err(explain_procfs)
            .with_context(|| format!("encapsulating {checksum} into oci:{oci}:{tag}"))?;
        Ok(digest.to_string())
    }

    /// ostree-ext's object→component metadata with sizes, after checking that every content
    /// object of the commit is mapped (ostree-ext would panic otherwise).
    fn sized_content_meta(&self, checksum: &str, map: &ContentMap) -> Result<ObjectMetaSized> {
        let mut missing: Vec<String> = Vec::new();
        let mut seen = HashSet::new();
        for f in self.tree_files(checksum)? {
            if !map.objects.contains_key(&f.checksum) && seen.insert(f.checksum.clone()) {
                missing.push(f.path);
            }
        }
        if !missing.is_empty() {
            bail!(
                "{} content object(s) of {checksum} belong to no component (first: {}); map them, e.g. to an `unpackaged` component",
                missing.len(),
                missing[0]
            );
        }
        let mut meta = ObjectMeta::default();
        let ids: Vec<Rc<str>> = map
            .components
            .iter()
            .map(|c| Rc::from(c.id.as_str()))
            .collect();
        for (i, c) in map.components.iter().enumerate() {
            meta.set.insert(ObjectSourceMeta {
                identifier: Rc::clone(&ids[i]),
                name: Rc::from(c.name.as_str()),
                srcid: Rc::from(c.srcid.as_str()),
                change_time_offset: 1,
                change_frequency: c.change_frequency,
            });
        }
        for (obj, &i) in &map.objects {
            let id = ids.get(i).with_context(|| {
                format!(
                    "content map: object {obj} names component #{i}, but there are only {}",
                    ids.len()
                )
            })?;
            meta.map.insert(obj.clone(), Rc::clone(id));
        }
        ObjectMetaSized::compute_sizes(&self.inner, meta)
            .with_context(|| format!("sizing the components of {checksum}"))
    }

    /// Imports the commit inside a container image (`oci:DIR:TAG`, `oci-archive:FILE`,
    /// `docker://...`) into this repository, as `ostree container unencapsulate` does.
    /// Signatures are not checked here (containers' policy.json decides; use for tests and
    /// local mirrors). `tls_verify: false` allows a plain-http registry. Returns the commit
    /// checksum.
    pub fn import_image(&self, image: &str, tls_verify: bool) -> Result<String> {
        let imgref = ImageReference::try_from(image).with_context(|| {
            format!("`{image}` is not an image reference; accepted: oci:DIR[:TAG], oci-archive:FILE[:TAG], docker://HOST/NAME:TAG")
        })?;
        let imgref = OstreeImageReference {
            sigverify: SignatureSource::ContainerPolicyAllowInsecure,
            imgref,
        };
        let config = ostree_ext::containers_image_proxy::ImageProxyConfig {
            insecure_skip_tls_verification: Some(!tls_verify),
            ..Default::default()
        };
        let rt = runtime()?;
        let import = rt
            .block_on(async {
                ImageImporter::new(&self.inner, &imgref, config)
                    .await?
                    .unencapsulate()
                    .await
            })
            .map_err(explain_procfs)
            .with_context(|| format!("importing {image} into {}", self.path().display()))?;
        Ok(import.ostree_commit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eopnotsupp_gets_the_unshare_hint() {
        let err = anyhow::Error::from(std::io::Error::from_raw_os_error(95)).context("i/o error");
        let text = format!("{:#}", explain_procfs(err));
        assert!(text.starts_with(PROCFS_HINT), "{text}");
        assert!(text.contains("unshare -m --propagation private --mount-proc"));
        let other = anyhow::Error::from(std::io::Error::from_raw_os_error(2));
        assert!(!format!("{:#}", explain_procfs(other)).contains("unshare"));
    }

    #[test]
    fn procfs_check_matches_cap_std_rule() {
        let mode = std::fs::metadata("/proc").unwrap().permissions().mode() & 0o777;
        let res = check_procfs();
        assert_eq!(
            res.is_err(),
            mode & 0o222 != 0,
            "/proc mode {mode:o}: {res:?}"
        );
        if let Err(e) = res {
            assert!(e.to_string().contains(&format!("{mode:04o}")), "{e}");
        }
    }
}
