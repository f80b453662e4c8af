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
