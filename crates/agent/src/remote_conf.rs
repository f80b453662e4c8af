//! Reading a published remote config (`mxos.conf`, libostree's key file format).

use anyhow::{Context, Result};

use crate::{refuse, t};

/// The parts of a `[remote "NAME"]` group MxOS needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteConf {
    pub name: String,
    pub url: String,
    /// base64 ed25519 public keys (`verification-ed25519-key`).
    pub ed25519_keys: Vec<String>,
    /// `gpg-verify=true`: commits and the summary must also carry a GPG signature by the key
    /// in `gpg_key_file`.
    pub gpg_verify: bool,
    /// `mxos-gpg-key=`: the GPG public key file, relative to the config's own directory.
    pub gpg_key_file: Option<String>,
    /// `collection-id=`: commits must be bound to this collection (and to the ref they are
    /// fetched as).
    pub collection_id: Option<String>,
}

pub fn parse(text: &str, source: &str) -> Result<RemoteConf> {
    let mut name = None;
    let mut url = None;
    let mut keys = Vec::new();
    let mut gpg_verify = false;
    let mut gpg_key_file = None;
    let mut collection_id = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(group) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            if name.is_some() {
                refuse!("remote-conf-two-remotes", source = source, line = n + 1);
            }
            let remote = group
                .strip_prefix("remote \"")
                .and_then(|g| g.strip_suffix('"'))
                .with_context(|| {
                    t!(
                        "remote-conf-bad-group",
                        source = source,
                        line = n + 1,
                        found = line
                    )
                })?;
            name = Some(remote.to_owned());
            continue;
        }
        let (k, v) = line.split_once('=').with_context(|| {
            t!(
                "remote-conf-bad-line",
                source = source,
                line = n + 1,
                found = line
            )
        })?;
        if name.is_none() {
            refuse!(
                "remote-conf-key-outside",
                source = source,
                line = n + 1,
                key = k.trim()
            );
        }
        match k.trim() {
            "url" => url = Some(v.trim().to_owned()),
            "verification-ed25519-key" => keys.push(v.trim().to_owned()),
            "gpg-verify" => gpg_verify = v.trim() == "true",
            "mxos-gpg-key" => gpg_key_file = Some(v.trim().to_owned()),
            "collection-id" => collection_id = Some(v.trim().to_owned()),
            _ => {}
        }
    }
    let name = name.with_context(|| t!("remote-conf-no-group", source = source))?;
    let url = url.with_context(|| t!("remote-conf-no-url", source = source, remote = &name))?;
    if keys.is_empty() {
        refuse!("remote-conf-no-key", source = source, remote = &name);
    }
    if gpg_verify && gpg_key_file.is_none() {
        refuse!(
            "remote-conf-gpg-key-missing",
            source = source,
            remote = &name
        );
    }
    Ok(RemoteConf {
        name,
        url,
        ed25519_keys: keys,
        gpg_verify,
        gpg_key_file,
        collection_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_published_conf() {
        let conf = parse(
            "# c\n[remote \"mxos\"]\nurl=http://127.0.0.1:8080\ncollection-id=mx.mxos.Os\ngpg-verify=false\nsign-verify=ed25519\nverification-ed25519-key=AAAA\n",
            "mxos.conf",
        )
        .unwrap();
        assert_eq!(
            conf,
            RemoteConf {
                name: "mxos".into(),
                url: "http://127.0.0.1:8080".into(),
                ed25519_keys: vec!["AAAA".into()],
                gpg_verify: false,
                gpg_key_file: None,
                collection_id: Some("mx.mxos.Os".into()),
            }
        );
        let conf = parse(
            "[remote \"mxos\"]\nurl=http://h\ngpg-verify=true\ngpg-verify-summary=true\nmxos-gpg-key=mxos.gpg\nverification-ed25519-key=AAAA\n",
            "mxos.conf",
        )
        .unwrap();
        assert!(conf.gpg_verify);
        assert_eq!(conf.gpg_key_file.as_deref(), Some("mxos.gpg"));
        assert_eq!(
            parse("[remote \"m\"]\nurl=x\ngpg-verify=true\nverification-ed25519-key=A\n", "f.conf")
                .unwrap_err()
                .to_string(),
            "f.conf: remote `m` requires GPG (gpg-verify=true) but names no key file (`mxos-gpg-key=`)"
        );
    }

    #[test]
    fn explains_what_is_missing() {
        assert_eq!(
            parse("[remote \"mxos\"]\nurl=x\n", "f.conf").unwrap_err().to_string(),
            "f.conf: remote `mxos` has no `verification-ed25519-key=`; MxOS deploys only signed commits"
        );
        assert_eq!(
            parse("[core]\nurl=x\n", "f.conf").unwrap_err().to_string(),
            "f.conf:1: expected a `[remote \"NAME\"]` group, found `[core]`"
        );
        assert_eq!(
            parse("[remote \"m\"]\nverification-ed25519-key=A\n", "f.conf")
                .unwrap_err()
                .to_string(),
            "f.conf: remote `m` has no `url=`"
        );
    }
}
