//! `mxos-compose mirror`: a school's own copy of the channels it follows, served by its web
//! server; `mxos-compose usb`: the same copy on a drive, for machines without network.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use mxos_publish::mirror::{MirrorRequest, Upstream};
use schemars::JsonSchema;
use serde::Serialize;

use crate::output::{self, Report};

#[derive(Args)]
pub struct MirrorArgs {
    /// The published repo to copy (http://, https:// or file://).
    #[arg(long, value_name = "URL")]
    from: String,
    /// Mirror directory; the web server serves DIR/current.
    #[arg(long, value_name = "DIR")]
    to: PathBuf,
    #[command(flatten)]
    what: What,
}

#[derive(Args)]
pub struct UsbArgs {
    /// The published repo (or a school mirror) to copy from (http://, https:// or file://).
    #[arg(long, value_name = "URL")]
    from: String,
    /// Mount point of the drive; the copy goes into MOUNTPOINT/mxos.
    #[arg(long, value_name = "MOUNTPOINT")]
    to: PathBuf,
    #[command(flatten)]
    what: What,
}

#[derive(Args)]
struct What {
    /// Channel to carry (repeatable; default: every ref upstream publishes).
    #[arg(long = "channel", value_name = "CHANNEL")]
    channels: Vec<String>,
    /// Commits of each ref's history static deltas may start from, the head included.
    #[arg(long, value_name = "N", default_value_t = 2)]
    depth: u32,
    /// Refuse an upstream summary not signed by this key (file with one base64 key per line).
    #[arg(long, value_name = "FILE")]
    public_key: Option<PathBuf>,
}

/// `mxos-compose mirror`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct MirrorReport {
    /// The directory to serve.
    pub served: String,
    /// False when upstream had nothing new and nothing was written.
    pub changed: bool,
    pub refs: Vec<crate::reports::PublishedRef>,
    /// Static deltas held for those commits (`FROM-TO` or `TO`).
    pub deltas: Vec<String>,
    pub bytes_fetched: u64,
}

impl Report for MirrorReport {
    const SCHEMA: &'static str = "mxos-compose-mirror/1";

    fn human(&self) -> String {
        let mut text = String::new();
        if !self.changed {
            text.push_str(&format!("{} is up to date\n", self.served));
        }
        for r in &self.refs {
            text.push_str(&format!("{} = {}\n", r.reference, r.checksum));
        }
        text.push_str(&format!(
            "{} static deltas; {} bytes fetched; serve {}\n",
            self.deltas.len(),
            self.bytes_fetched,
            self.served
        ));
        text
    }
}

pub fn run_mirror(a: MirrorArgs, json: bool) -> Result<()> {
    run(a.from, a.to, a.what, json, mxos_publish::mirror::mirror)
}

pub fn run_usb(a: UsbArgs, json: bool) -> Result<()> {
    run(a.from, a.to, a.what, json, mxos_publish::mirror::usb)
}

fn run(
    from: String,
    to: PathBuf,
    what: What,
    json: bool,
    write: fn(&MirrorRequest) -> Result<mxos_publish::mirror::MirrorReport>,
) -> Result<()> {
    let trusted = match &what.public_key {
        Some(p) => mxos_sign::PublicKey::read_all(p)?,
        None => Vec::new(),
    };
    let r = write(&MirrorRequest {
        from: Upstream::parse(&from)?,
        to,
        channels: what.channels,
        depth: what.depth,
        trusted,
    })?;
    output::emit(
        json,
        &MirrorReport {
            served: r.served.display().to_string(),
            changed: r.changed,
            refs: r
                .refs
                .into_iter()
                .map(|(reference, checksum)| crate::reports::PublishedRef {
                    reference,
                    checksum,
                })
                .collect(),
            deltas: r.deltas,
            bytes_fetched: r.bytes_fetched,
        },
    );
    Ok(())
}
