//! `mxos-compose container`, `container-diff` and `container-import`: bootc OCI images of
//! composed commits, what an update between two of them costs, and importing one back.

use std::num::NonZeroU32;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use mxos_publish::container::{self as c, labels};
use mxos_repo::{Repo, RepoMode};

use crate::output::{self, Report};
use crate::source_date_epoch;

/// Encapsulate a commit as a bootc container image (chunked by package, reproducible).
#[derive(Args)]
pub struct ContainerArgs {
    /// Ref or commit checksum.
    rev: String,
    /// Build repository holding the commit.
    #[arg(long)]
    repo: PathBuf,
    /// oci:DIR:TAG, oci-archive:FILE[:TAG] or docker://HOST/NAME:TAG
    #[arg(long)]
    to: String,
    /// Extra image label, KEY=VALUE (repeatable; wins over the defaults).
    #[arg(long = "label", value_parser = labels::parse_label)]
    labels: Vec<(String, String)>,
    /// org.opencontainers.image.source
    #[arg(long, default_value = labels::DEFAULT_SOURCE)]
    source: String,
    /// Most layers the image may have (ostree-ext needs at least 4).
    #[arg(long)]
    max_layers: Option<NonZeroU32>,
    /// Manifest (JSON) of the previous build, so unchanged packages keep their layers.
    #[arg(long)]
    previous_build_manifest: Option<PathBuf>,
    /// Write this build's manifest here (the next build's --previous-build-manifest).
    #[arg(long)]
    write_manifest: Option<PathBuf>,
    /// One layer for everything instead of chunks by package.
    #[arg(long)]
    single_layer: bool,
    /// Registries: require HTTPS with a valid certificate (false: plain http on loopback).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    tls_verify: bool,
    /// Registries: credentials file (containers-auth.json format).
    #[arg(long)]
    authfile: Option<PathBuf>,
}

/// Compare two images layer by layer: what an update from OLD to NEW downloads.
#[derive(Args)]
pub struct DiffArgs {
    old: String,
    new: String,
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    tls_verify: bool,
}

/// Import the OSTree commit inside a container image into a repository.
#[derive(Args)]
pub struct ImportArgs {
    /// oci:DIR:TAG, oci-archive:FILE or docker://HOST/NAME:TAG
    image: String,
    /// Repository to import into (created bare-user if missing).
    #[arg(long)]
    repo: PathBuf,
    /// Also point this ref at the imported commit.
    #[arg(long = "ref")]
    reference: Option<String>,
    /// Registries: require HTTPS with a valid certificate (false: plain http on loopback).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    tls_verify: bool,
}

pub fn run(a: ContainerArgs, json: bool) -> Result<()> {
    let r = c::build_image(&c::ContainerRequest {
        build_repo: a.repo,
        rev: a.rev,
        to: a.to,
        labels: a.labels,
        source: a.source,
        max_layers: a.max_layers,
        previous_manifest: a.previous_build_manifest,
        manifest_out: a.write_manifest,
        source_date_epoch: source_date_epoch()?,
        tls_verify: a.tls_verify,
        authfile: a.authfile,
        chunked: !a.single_layer,
    })?;
    output::emit(
        json,
        &ContainerReport {
            reference: r.reference,
            digest: r.digest,
            commit: r.commit,
            layers: r.layers,
            bytes: r.bytes,
            components: r.components,
            package_db: r.package_db.to_owned(),
            encapsulate_seconds: r.encapsulate_secs,
        },
    );
    Ok(())
}

pub fn diff(a: DiffArgs, json: bool) -> Result<()> {
    let old = c::fetch_manifest(&a.old, a.tls_verify)?;
    let new = c::fetch_manifest(&a.new, a.tls_verify)?;
    let d = c::diff_manifests(&old, &new)?;
    let layer = |l: &c::diff::Layer| DiffLayer {
        digest: l.digest.clone(),
        size: l.size,
        components: l.components.clone(),
    };
    output::emit(
        json,
        &DiffReport {
            old_layers: d.old_layers,
            new_layers: d.new_layers,
            shared_layers: d.shared_layers,
            shared_bytes: d.shared_bytes,
            added_bytes: d.added_bytes(),
            new_total_bytes: d.new_total_bytes,
            added: d.added.iter().map(layer).collect(),
            removed: d.removed.iter().map(layer).collect(),
            text: d.to_string(),
        },
    );
    Ok(())
}

pub fn import(a: ImportArgs, json: bool) -> Result<()> {
    let repo = Repo::open_or_create(&a.repo, RepoMode::BareUser)?;
    let commit = repo.import_image(&a.image, a.tls_verify)?;
    if let Some(r) = &a.reference {
        repo.set_ref(r, Some(&commit))?;
    }
    output::emit(
        json,
        &ImportReport {
            commit,
            reference: a.reference,
        },
    );
    Ok(())
}

/// `mxos-compose container`.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct ContainerReport {
    /// The destination as skopeo names it.
    pub reference: String,
    /// Manifest digest, the same in the OCI layout and at the destination.
    pub digest: String,
    pub commit: String,
    pub layers: usize,
    /// Sum of the compressed layer sizes.
    pub bytes: u64,
    pub components: usize,
    /// Where the chunking's package map came from: rpm, dpkg or none.
    pub package_db: String,
    pub encapsulate_seconds: f64,
}

impl Report for ContainerReport {
    const SCHEMA: &'static str = "mxos-compose-container/1";
    fn human(&self) -> String {
        format!(
            "image {} {}: commit {}, {} layers, {} bytes, {} components from {}, encapsulated in {:.2}s",
            self.reference, self.digest, self.commit, self.layers, self.bytes, self.components, self.package_db, self.encapsulate_seconds
        )
    }
}

#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct DiffLayer {
    pub digest: String,
    pub size: u64,
    /// The packages in the layer (empty for the OSTree commit layer).
    pub components: String,
}

/// `mxos-compose container-diff`: what an update from OLD to NEW downloads.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct DiffReport {
    pub old_layers: usize,
    pub new_layers: usize,
    pub shared_layers: usize,
    pub shared_bytes: u64,
    /// What the update downloads.
    pub added_bytes: u64,
    pub new_total_bytes: u64,
    pub added: Vec<DiffLayer>,
    pub removed: Vec<DiffLayer>,
    #[serde(skip)]
    text: String,
}

impl Report for DiffReport {
    const SCHEMA: &'static str = "mxos-compose-container-diff/1";
    fn human(&self) -> String {
        self.text.clone()
    }
}

/// `mxos-compose container-import`.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct ImportReport {
    pub commit: String,
    #[serde(rename = "ref")]
    pub reference: Option<String>,
}

impl Report for ImportReport {
    const SCHEMA: &'static str = "mxos-compose-container-import/1";
    fn human(&self) -> String {
        format!("imported {}", self.commit)
    }
}
