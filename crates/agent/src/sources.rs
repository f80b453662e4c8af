//! Where this machine looks for updates, in the order `[sources]` gives: update drives
//! written by `mxos-compose usb`, the school's mirror or the lab's machines, the main
//! server. Every source offers the same signed content, so each is checked exactly like
//! the main server; what differs is only the URL the remote is read from. What each source
//! gave is remembered for `status`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{SourceKind, SourceSettings};

/// The directory a drive carries the repo in (`MOUNTPOINT/mxos`).
pub const USB_DIR: &str = "mxos";

/// One place to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub kind: SourceKind,
    /// Where: a drive's repo directory, a LAN URL, or the remote's own URL (`None`).
    pub url: Option<String>,
}

impl Source {
    pub fn main() -> Source {
        Source {
            kind: SourceKind::Main,
            url: None,
        }
    }

    /// How status names it: `usb:/run/media/ana/ESCUELA/mxos`, `lan:http://…`, `main`.
    pub fn label(&self) -> String {
        match &self.url {
            Some(u) => format!(
                "{}:{}",
                self.kind.as_str(),
                u.strip_prefix("file://").unwrap_or(u)
            ),
            None => self.kind.as_str().to_owned(),
        }
    }

    /// The drive's repo directory, for a `usb` source.
    pub fn drive(&self) -> Option<&str> {
        match self.kind {
            SourceKind::Usb => self.url.as_deref().and_then(|u| u.strip_prefix("file://")),
            _ => None,
        }
    }
}

/// The sources to try, in order: `from` alone when the person named a directory, else the
/// configured order with the drives found mounted and the LAN URLs. Pure; the caller
/// looks for drives ([`find_drives`]).
pub fn plan(settings: &SourceSettings, drives: &[PathBuf], from: Option<&Path>) -> Vec<Source> {
    let usb = |d: &Path| Source {
        kind: SourceKind::Usb,
        url: Some(format!("file://{}", d.display())),
    };
    if let Some(dir) = from {
        return vec![usb(dir)];
    }
    let mut out = Vec::new();
    for kind in &settings.order {
        match kind {
            SourceKind::Usb => out.extend(drives.iter().map(|d| usb(d))),
            SourceKind::Lan => out.extend(settings.lan.iter().map(|u| Source {
                kind: SourceKind::Lan,
                url: Some(u.trim_end_matches('/').to_owned()),
            })),
            SourceKind::Main => out.push(Source::main()),
        }
    }
    out
}

/// The repo directories of update drives mounted where `patterns` say (`*` is one path
/// component), sorted; a drive counts when it holds `mxos/summary`.
pub fn find_drives(patterns: &[String]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for p in patterns {
        for mount in expand(p) {
            let repo = mount.join(USB_DIR);
            if repo.join("summary").is_file() && !found.contains(&repo) {
                found.push(repo);
            }
        }
    }
    found.sort();
    found
}

fn expand(pattern: &str) -> Vec<PathBuf> {
    let mut paths = vec![PathBuf::from("/")];
    for part in pattern.split('/').filter(|p| !p.is_empty()) {
        let mut next = Vec::new();
        for p in &paths {
            if part == "*" {
                let Ok(entries) = std::fs::read_dir(p) else {
                    continue;
                };
                let mut names: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok())
                    .filter(|e| e.path().is_dir())
                    .map(|e| e.path())
                    .collect();
                names.sort();
                next.extend(names);
            } else {
                let q = p.join(part);
                if q.exists() {
                    next.push(q);
                }
            }
        }
        paths = next;
    }
    paths
}

/// What one source gave this machine, kept in the agent state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceRecord {
    /// Bytes fetched from it, all cycles together (for a drive: the size of what was copied).
    pub bytes: u64,
    /// When it last gave something (unix seconds).
    pub last_used: Option<i64>,
    /// Why it was passed over the last time it was tried; cleared when it works.
    pub last_error: Option<String>,
}

/// Records kept per source label; the oldest are forgotten past this many, since every
/// drive mounted somewhere new is a new label.
const KEPT: usize = 16;

/// Adds what a source gave (or why it failed) to `records`.
pub fn record(
    records: &mut BTreeMap<String, SourceRecord>,
    label: &str,
    bytes: u64,
    error: Option<String>,
    now: i64,
) {
    let r = records.entry(label.to_owned()).or_default();
    r.bytes += bytes;
    match error {
        Some(e) => r.last_error = Some(e),
        None => {
            r.last_error = None;
            r.last_used = Some(now);
        }
    }
    while records.len() > KEPT {
        let oldest = records
            .iter()
            .min_by_key(|(_, r)| r.last_used.unwrap_or(0))
            .map(|(k, _)| k.clone());
        match oldest {
            Some(k) => records.remove(&k),
            None => break,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_drives_lan_and_main() {
        let settings = SourceSettings {
            order: vec![SourceKind::Lan, SourceKind::Usb, SourceKind::Main],
            lan: vec!["http://servidor-escuela.local/mxos/".into()],
            usb_paths: vec![],
        };
        let drives = vec![PathBuf::from("/media/ESCUELA/mxos")];
        let labels: Vec<String> = plan(&settings, &drives, None)
            .iter()
            .map(Source::label)
            .collect();
        assert_eq!(
            labels,
            [
                "lan:http://servidor-escuela.local/mxos",
                "usb:/media/ESCUELA/mxos",
                "main"
            ]
        );
        let only = plan(&settings, &drives, Some(Path::new("/tmp/stick/mxos")));
        assert_eq!(only.len(), 1);
        assert_eq!(only[0].drive(), Some("/tmp/stick/mxos"));
        assert_eq!(plan(&settings, &[], None).len(), 2);
    }

    #[test]
    fn drives_are_found_by_pattern_and_summary() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        for d in [
            "run/media/ana/ESCUELA/mxos",
            "run/media/ana/FOTOS",
            "media/USB/mxos",
        ] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::write(root.join("run/media/ana/ESCUELA/mxos/summary"), "x").unwrap();
        std::fs::write(root.join("media/USB/mxos/summary"), "x").unwrap();
        let patterns = vec![
            format!("{}/run/media/*/*", root.display()),
            format!("{}/media/*", root.display()),
        ];
        assert_eq!(
            find_drives(&patterns),
            vec![
                root.join("media/USB/mxos"),
                root.join("run/media/ana/ESCUELA/mxos")
            ]
        );
    }

    #[test]
    fn records_add_up_and_forget_the_oldest() {
        let mut r = BTreeMap::new();
        record(&mut r, "main", 10, None, 100);
        record(&mut r, "main", 5, Some("cut".into()), 200);
        assert_eq!(
            r["main"],
            SourceRecord {
                bytes: 15,
                last_used: Some(100),
                last_error: Some("cut".into())
            }
        );
        for i in 0..20 {
            record(&mut r, &format!("usb:/media/{i}"), 1, None, 1000 + i);
        }
        assert_eq!(r.len(), KEPT);
        assert!(!r.contains_key("main"));
        assert!(r.contains_key("usb:/media/19"));
    }
}
