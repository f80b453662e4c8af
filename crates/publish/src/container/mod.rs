//! bootc container images of MxOS commits: labels, chunking by package, a reproducible
//! manifest, and copying to an OCI directory, an OCI archive or a registry.
//!
//! ostree-ext writes the image (through `mxos_repo`); this module decides what goes in it.
//! Every image is first written to an OCI layout and normalized there ([`oci::normalize`]),
//! then copied with `skopeo copy --preserve-digests`, so the digest is the same wherever the
//! image lands.

pub mod diff;
pub mod labels;
pub mod oci;
pub mod pkgmap;

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use mxos_repo::{EncapsulateOptions, Repo};

pub use diff::{diff_manifests, fetch_manifest, ImageDiff};
pub use oci::Destination;

pub struct ContainerRequest {
    pub build_repo: PathBuf,
    /// Ref or commit checksum.
    pub rev: String,
    /// `oci:DIR:TAG`, `oci-archive:FILE[:TAG]` or `docker://HOST/NAME:TAG`.
    pub to: String,
    /// `--label K=V`, applied last.
    pub labels: Vec<(String, String)>,
    pub source: String,
    pub max_layers: Option<NonZeroU32>,
    /// A previous build's manifest (JSON), to keep its layer boundaries.
    pub previous_manifest: Option<PathBuf>,
    /// Where to write this build's manifest (for the next `previous_manifest`).
    pub manifest_out: Option<PathBuf>,
    pub source_date_epoch: Option<u64>,
    /// Registries only: `false` allows plain http (loopback test registries).
    pub tls_verify: bool,
    pub authfile: Option<PathBuf>,
    /// One layer per package (true) or a single layer.
    pub chunked: bool,
}

#[derive(Debug)]
pub struct ContainerReport {
    pub commit: String,
    /// Manifest digest, the same in the OCI layout and at the destination.
    pub digest: String,
    /// The destination as skopeo names it.
    pub reference: String,
    pub layers: usize,
    /// Sum of the (compressed) layer sizes.
    pub bytes: u64,
    /// Package database the chunking came from: rpm, dpkg or none.
    pub package_db: &'static str,
    pub components: usize,
    pub encapsulate_secs: f64,
}

const STAGING_TAG: &str = "mxos";

pub fn build_image(req: &ContainerRequest) -> Result<ContainerReport> {
    let dest = Destination::parse(&req.to)?;
    let _step = tracing::info_span!("mxos.step", step = "writing the container image").entered();
    // Before reading the rpmdb: on a machine where the write would fail, fail at once.
    mxos_repo::check_procfs()?;
    let repo = Repo::open(&req.build_repo)?;
    let info = repo.commit_info(&req.rev)?;
    let commit = info.checksum.clone();
    let created = labels::created(req.source_date_epoch, info.timestamp);
    let previous = match &req.previous_manifest {
        Some(p) => Some(
            std::fs::read_to_string(p)
                .with_context(|| format!("reading previous build manifest {}", p.display()))?,
        ),
        None => None,
    };

    let scratch = tempfile::Builder::new()
        .prefix("mxos-container-")
        .tempdir_in(scratch_parent())
        .context("creating a scratch directory under /var/tmp")?;
    let map = if req.chunked {
        Some(pkgmap::package_map(&repo, &commit, scratch.path())?)
    } else {
        None
    };
    let licenses: Vec<String> = map
        .iter()
        .flat_map(|m| m.packages.iter().map(|p| p.license.clone()))
        .collect();
    let opts = EncapsulateOptions {
        labels: labels::image_labels(&info, &created, &req.source, &licenses, &req.labels),
        created: Some(created.clone()),
        cmd: None,
        content: map.as_ref().map(|m| m.content.clone()),
        max_layers: req.max_layers,
        previous_manifest: previous,
    };
    let (layout, tag) = match &dest {
        Destination::OciDir { dir, tag } => (dir.clone(), tag.clone()),
        _ => (scratch.path().join("oci"), STAGING_TAG.to_owned()),
    };
    let start = Instant::now();
    repo.encapsulate(&commit, &layout, &tag, &opts)?;
    let encapsulate_secs = start.elapsed().as_secs_f64();
    let mut digest = oci::normalize(&layout, &tag, &created)
        .with_context(|| format!("making the image in {} reproducible", layout.display()))?;
    let (manifest, _) = oci::read_manifest(&layout, &tag)?;

    if !matches!(dest, Destination::OciDir { .. }) {
        let pushed = copy(&format!("oci:{}:{tag}", layout.display()), &dest, req)?;
        if pushed != digest {
            bail!("skopeo stored {} as {pushed}, not {digest}: the destination rewrote the manifest, so the image would not be reproducible", dest.skopeo_ref());
        }
        digest = pushed;
    }
    if let Some(out) = &req.manifest_out {
        let bytes = serde_json::to_vec_pretty(&manifest).context("serializing the manifest")?;
        std::fs::write(out, bytes).with_context(|| format!("writing {}", out.display()))?;
    }
    let layers = diff::layers(&manifest)?;
    Ok(ContainerReport {
        commit,
        digest,
        reference: dest.skopeo_ref(),
        layers: layers.len(),
        bytes: layers.iter().map(|l| l.size).sum(),
        package_db: map.as_ref().map(|m| m.database).unwrap_or("none"),
        components: map
            .as_ref()
            .map(|m| m.content.components.len())
            .unwrap_or(0),
        encapsulate_secs,
    })
}

/// Copies the OCI layout image `src` to `dest` with skopeo, keeping digests; returns the
/// digest skopeo reports.
fn copy(src: &str, dest: &Destination, req: &ContainerRequest) -> Result<String> {
    let digestfile = tempfile::NamedTempFile::new().context("creating a digest file")?;
    let mut cmd = Command::new("skopeo");
    cmd.args(["copy", "--preserve-digests", "--digestfile"])
        .arg(digestfile.path());
    if let Destination::Registry { .. } = dest {
        if !req.tls_verify {
            cmd.arg("--dest-tls-verify=false");
        }
        if let Some(a) = &req.authfile {
            cmd.arg("--dest-authfile").arg(a);
        }
    }
    if let Destination::OciArchive { file, .. } = dest {
        // skopeo adds to an existing archive's index instead of replacing the file.
        if file.exists() {
            std::fs::remove_file(file).with_context(|| format!("replacing {}", file.display()))?;
        }
    }
    cmd.arg(src).arg(dest.skopeo_ref());
    mxos_process::run(&mut cmd)
        .with_context(|| format!("copying the image to {}", dest.skopeo_ref()))?;
    let digest = std::fs::read_to_string(digestfile.path())
        .with_context(|| format!("reading {}", digestfile.path().display()))?;
    Ok(digest.trim().to_owned())
}

fn scratch_parent() -> &'static Path {
    // Same place ostree-ext stages its own temporary layouts; /tmp may be a small tmpfs.
    Path::new("/var/tmp")
}
