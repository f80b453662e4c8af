//! `mxos-compose container`, `container-diff` and `container-import`: bootc OCI images of
//! composed commits, what an update between two of them costs, and importing one back.

use std::num::NonZeroU32;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use mxos_publish::container::{self as c, labels};
use mxos_repo::{Repo, RepoMode};

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

pub fn run(a: ContainerArgs) -> Result<()> {
    let report = c::build_image(&c::ContainerRequest {
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
    println!(
        "image {} {}: commit {}, {} layers, {} bytes, {} components from {}, encapsulated in {:.2}s",
        report.reference,
        report.digest,
        report.commit,
        report.layers,
        report.bytes,
        report.components,
        report.package_db,
        report.encapsulate_secs
    );
    Ok(())
}

pub fn diff(a: DiffArgs) -> Result<()> {
    let old = c::fetch_manifest(&a.old, a.tls_verify)?;
    let new = c::fetch_manifest(&a.new, a.tls_verify)?;
    print!("{}", c::diff_manifests(&old, &new)?);
    Ok(())
}

pub fn import(a: ImportArgs) -> Result<()> {
    let repo = Repo::open_or_create(&a.repo, RepoMode::BareUser)?;
    let commit = repo.import_image(&a.image, a.tls_verify)?;
    if let Some(r) = &a.reference {
        repo.set_ref(r, Some(&commit))?;
    }
    println!("imported {commit}");
    Ok(())
}
