//! The labels an MxOS image carries, and its `created` time: pure data from the commit.

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use mxos_repo::CommitInfo;

pub const TITLE: &str = "MxOS";
/// Where MxOS lives; `--source` overrides it (e.g. a school's fork).
pub const DEFAULT_SOURCE: &str = "https://mxos.mx/";

/// Labels for `info`'s image. `licenses` are the SPDX-ish expressions of the packages in the
/// tree (deduplicated here); `extra` (`--label K=V`) comes last and wins.
pub fn image_labels(
    info: &CommitInfo,
    created: &str,
    source: &str,
    licenses: &[String],
    extra: &[(String, String)],
) -> BTreeMap<String, String> {
    let mut l = BTreeMap::new();
    l.insert("containers.bootc".into(), "1".into());
    l.insert("ostree.bootable".into(), "true".into());
    l.insert("org.opencontainers.image.title".into(), TITLE.into());
    l.insert("org.opencontainers.image.source".into(), source.into());
    l.insert("org.opencontainers.image.created".into(), created.into());
    l.insert(
        "org.opencontainers.image.revision".into(),
        info.checksum.clone(),
    );
    if let Some(v) = info.version() {
        l.insert("org.opencontainers.image.version".into(), v.into());
    }
    let mut lic: Vec<&str> = licenses
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty() && *s != "(none)")
        .collect();
    lic.sort();
    lic.dedup();
    let lic = if lic.is_empty() {
        // The tooling's own license; an image we know nothing about is at least ours.
        "GPL-3.0-or-later".to_owned()
    } else {
        lic.iter()
            .map(|l| {
                if l.contains(' ') {
                    format!("({l})")
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    };
    l.insert("org.opencontainers.image.licenses".into(), lic);
    for (k, v) in extra {
        l.insert(k.clone(), v.clone());
    }
    l
}

/// Parses `--label K=V`.
pub fn parse_label(s: &str) -> Result<(String, String)> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => bail!("label `{s}` is not KEY=VALUE (e.g. org.opencontainers.image.vendor=SEP)"),
    }
}

/// `created` for the image: SOURCE_DATE_EPOCH if set, else the commit's own timestamp, so
/// that the same commit always gives the same image.
pub fn created(source_date_epoch: Option<u64>, commit_timestamp: u64) -> String {
    rfc3339(source_date_epoch.unwrap_or(commit_timestamp))
}

/// Seconds since 1970 as `YYYY-MM-DDTHH:MM:SSZ` (UTC), the form ostree-ext writes.
pub fn rfc3339(secs: u64) -> String {
    let rem = secs % 86_400;
    let (y, m, d) = mxos_treefile::civil_from_days((secs / 86_400) as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use mxos_repo::MetaValue;

    #[test]
    fn rfc3339_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn created_prefers_source_date_epoch() {
        assert_eq!(created(Some(0), 1_700_000_000), "1970-01-01T00:00:00Z");
        assert_eq!(created(None, 1_700_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn labels_from_commit_licenses_and_extras() {
        let mut metadata = BTreeMap::new();
        metadata.insert("version".into(), MetaValue::Str("10.1".into()));
        let info = CommitInfo {
            checksum: "ab".repeat(32),
            parent: None,
            subject: String::new(),
            timestamp: 0,
            metadata,
        };
        let l = image_labels(
            &info,
            "1970-01-01T00:00:00Z",
            DEFAULT_SOURCE,
            &[
                "MIT".into(),
                "GPL-2.0-only OR MIT".into(),
                "MIT".into(),
                "(none)".into(),
            ],
            &[(
                "org.opencontainers.image.title".into(),
                "MxOS Escuelas".into(),
            )],
        );
        assert_eq!(l["org.opencontainers.image.version"], "10.1");
        assert_eq!(l["containers.bootc"], "1");
        assert_eq!(
            l["org.opencontainers.image.licenses"],
            "(GPL-2.0-only OR MIT) AND MIT"
        );
        assert_eq!(l["org.opencontainers.image.title"], "MxOS Escuelas");
        assert_eq!(l["org.opencontainers.image.revision"], "ab".repeat(32));
    }

    #[test]
    fn label_syntax() {
        assert_eq!(parse_label("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        let err = parse_label("novalue").unwrap_err().to_string();
        assert!(err.contains("KEY=VALUE"), "{err}");
    }
}
