//! `mxos-compose`'s reports: what `tree` and `keygen` say, as text or JSON.

use schemars::JsonSchema;
use serde::Serialize;

use crate::output::Report;

#[derive(Debug, Clone, Copy, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TreeOutcome {
    /// A new commit was written.
    Committed,
    /// The inputs equal those of the ref's head; nothing was written.
    Unchanged,
}

/// `mxos-compose tree`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TreeReport {
    pub outcome: TreeOutcome,
    /// The ref; `null` for a treefile without one (the commit is under no ref).
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// The new commit, or the head that is already up to date.
    pub checksum: String,
    pub version: Option<String>,
    /// Installed packages (committed only).
    pub packages: Option<usize>,
    /// Signed with `--sign-key` (committed only).
    pub signed: Option<bool>,
    /// What the package cache saved (dnf trees, committed only).
    pub package_cache: Option<CacheReport>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CacheReport {
    /// Packages unpacked by this compose; the others came from the cache.
    pub imported: usize,
    /// Files whose checksum came from the cache without reading them.
    pub reused_files: usize,
    /// Packages dropped after 30 days unused.
    pub forgotten: usize,
    /// Files written through cache links; non-empty means the cache was deleted.
    pub discarded_for: Vec<String>,
}

impl Report for TreeReport {
    const SCHEMA: &'static str = "mxos-compose-tree/1";

    fn human(&self) -> String {
        match self.outcome {
            TreeOutcome::Unchanged => format!(
                "no changes since {} ({})",
                self.checksum,
                self.reference.as_deref().unwrap_or("-")
            ),
            TreeOutcome::Committed => {
                let on = match &self.reference {
                    Some(r) => format!("on {r}"),
                    None => "(no ref: the treefile names none)".to_owned(),
                };
                let packages = self.packages.unwrap_or_default();
                let mut text = format!(
                    "committed {} {on}: version {}, {packages} packages, {}\n",
                    self.checksum,
                    self.version.as_deref().unwrap_or("-"),
                    if self.signed == Some(true) {
                        "signed"
                    } else {
                        "unsigned"
                    }
                );
                if let Some(c) = &self.package_cache {
                    text.push_str(&format!(
                        "package cache: {} of {packages} packages unpacked, {} files taken from the cache unread{}\n",
                        c.imported,
                        c.reused_files,
                        match c.forgotten {
                            0 => String::new(),
                            n => format!("; removed {n} unused for 30 days"),
                        }
                    ));
                }
                text
            }
        }
    }
}

/// `mxos-compose keygen`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct KeygenReport {
    pub secret_key: String,
    pub public_key_file: String,
    /// The public key, base64 (what devices trust).
    pub public_key: String,
}

impl Report for KeygenReport {
    const SCHEMA: &'static str = "mxos-compose-keygen/1";

    fn human(&self) -> String {
        format!(
            "wrote {} and {} (public key {})",
            self.secret_key, self.public_key_file, self.public_key
        )
    }
}

/// `mxos-compose sign`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SignReport {
    pub checksum: String,
    /// The ed25519 public key matching the key that signed, base64; `null` when only GPG signed.
    pub ed25519: Option<String>,
    /// The GPG key that signed; `null` when only ed25519 signed.
    pub gpg_key_id: Option<String>,
}

impl Report for SignReport {
    const SCHEMA: &'static str = "mxos-compose-sign/1";

    fn human(&self) -> String {
        let mut text = String::new();
        if let Some(id) = &self.gpg_key_id {
            text.push_str(&format!("signed {} with GPG key {id}\n", self.checksum));
        }
        if let Some(key) = &self.ed25519 {
            text.push_str(&format!("signed {} with {key}\n", self.checksum));
        }
        text
    }
}

/// `mxos-compose verify`: printed only for a good signature; a bad or missing one is an
/// error (exit status 1) that says why.
#[derive(Debug, Serialize, JsonSchema)]
pub struct VerifyReport {
    pub checksum: String,
    /// The trusted public key whose signature checked, base64.
    pub key: String,
}

impl Report for VerifyReport {
    const SCHEMA: &'static str = "mxos-compose-verify/1";

    fn human(&self) -> String {
        format!("{} : good ed25519 signature by {}", self.checksum, self.key)
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PublishedRef {
    #[serde(rename = "ref")]
    pub reference: String,
    pub checksum: String,
}

/// A static delta: `from` is `null` for a from-scratch delta.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DeltaReport {
    pub from: Option<String>,
    pub to: String,
}

impl DeltaReport {
    pub fn of(d: &mxos_repo::StaticDelta) -> Self {
        DeltaReport {
            from: d.from.clone(),
            to: d.to.clone(),
        }
    }

    /// libostree's name for the delta.
    fn name(&self) -> String {
        mxos_repo::StaticDelta {
            from: self.from.clone(),
            to: self.to.clone(),
        }
        .name()
    }
}

/// `mxos-compose publish`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PublishReport {
    /// Every ref as now published.
    pub refs: Vec<PublishedRef>,
    /// Static deltas this publish generated (now listed in the summary).
    pub deltas: Vec<DeltaReport>,
    /// The remote config devices install (mxos.conf).
    pub remote_config: String,
    /// The ed25519 public key file devices trust.
    pub public_key: String,
    /// The exported GPG public key, when the publish signed with GPG.
    pub gpg_public_key: Option<String>,
}

impl Report for PublishReport {
    const SCHEMA: &'static str = "mxos-compose-publish/1";

    fn human(&self) -> String {
        let mut text = String::new();
        for r in &self.refs {
            text.push_str(&format!("published {} = {}\n", r.reference, r.checksum));
        }
        for d in &self.deltas {
            text.push_str(&format!(
                "static delta {} -> {}\n",
                d.from.as_deref().unwrap_or("(scratch)"),
                d.to
            ));
        }
        text.push_str(&format!("remote config: {}\n", self.remote_config));
        text.push_str(&format!("public key:    {}\n", self.public_key));
        if let Some(k) = &self.gpg_public_key {
            text.push_str(&format!("GPG key:       {k}\n"));
        }
        text
    }
}

/// `mxos-compose prune`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PruneReport {
    pub commits_deleted: Vec<String>,
    pub deltas_deleted: Vec<DeltaReport>,
    /// Objects (files, trees, commits) deleted, deltas' parts not counted.
    pub objects_deleted: u64,
    pub bytes_freed: u64,
}

impl Report for PruneReport {
    const SCHEMA: &'static str = "mxos-compose-prune/1";

    fn human(&self) -> String {
        let mut text = String::new();
        for c in &self.commits_deleted {
            text.push_str(&format!("deleted commit {c}\n"));
        }
        for d in &self.deltas_deleted {
            text.push_str(&format!("deleted static delta {}\n", d.name()));
        }
        text.push_str(&format!(
            "pruned {} objects, {} bytes\n",
            self.objects_deleted, self.bytes_freed
        ));
        text
    }
}

/// `mxos-compose disk`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DiskReport {
    pub path: String,
    /// `raw` or `qcow2`.
    pub format: String,
    /// What the disk boots on: `uefi`, `bios` or `both`.
    pub firmware: String,
    /// The commit deployed on the image.
    pub commit: String,
    /// The ref the machine follows.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The disk's size as the machine sees it.
    pub size_bytes: u64,
    /// Bytes the image file occupies (sparse raw or qcow2).
    pub allocated_bytes: u64,
}

impl Report for DiskReport {
    const SCHEMA: &'static str = "mxos-compose-disk/1";

    fn human(&self) -> String {
        format!(
            "wrote {} ({} MiB allocated, boots on {}) with commit {}",
            self.path,
            self.allocated_bytes >> 20,
            match self.firmware.as_str() {
                "both" => "UEFI and BIOS",
                "uefi" => "UEFI",
                _ => "BIOS",
            },
            self.commit
        )
    }
}
