//! The OCI image layout on disk: making an encapsulated image reproducible, and reading
//! manifests back.
//!
//! ocidir stamps the wall-clock time into every `history[].created` of the config, and
//! serializes labels from hash maps (random order), so two encapsulations of one commit
//! differ in their config and manifest although every layer blob is identical. [`normalize`]
//! rewrites config, manifest and index with the build's own time and sorted keys.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

const TAG_ANNOTATION: &str = "org.opencontainers.image.ref.name";

/// Where `mxos-compose container --to` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    OciDir { dir: PathBuf, tag: String },
    OciArchive { file: PathBuf, tag: Option<String> },
    Registry { reference: String },
}

impl Destination {
    pub fn parse(s: &str) -> Result<Destination> {
        let accepted = "accepted: oci:DIR:TAG, oci-archive:FILE[:TAG], docker://HOST/NAME:TAG";
        if let Some(rest) = s.strip_prefix("oci:") {
            let (dir, tag) = match rest.rsplit_once(':') {
                Some((d, t)) if !t.contains('/') && !t.is_empty() => (d, t),
                _ => (rest, "latest"),
            };
            if dir.is_empty() {
                bail!("`{s}` names no directory; {accepted}");
            }
            return Ok(Destination::OciDir {
                dir: dir.into(),
                tag: tag.into(),
            });
        }
        if let Some(rest) = s.strip_prefix("oci-archive:") {
            let (file, tag) = match rest.rsplit_once(':') {
                Some((f, t)) if !t.contains('/') && !t.is_empty() => (f, Some(t.to_owned())),
                _ => (rest, None),
            };
            if file.is_empty() {
                bail!("`{s}` names no file; {accepted}");
            }
            return Ok(Destination::OciArchive {
                file: file.into(),
                tag,
            });
        }
        if let Some(rest) = s.strip_prefix("docker://") {
            if rest.is_empty() || !rest.contains('/') {
                bail!("`{s}` names no HOST/NAME; {accepted}");
            }
            return Ok(Destination::Registry {
                reference: rest.into(),
            });
        }
        bail!("unknown image destination `{s}`; {accepted}")
    }

    /// The reference skopeo understands.
    pub fn skopeo_ref(&self) -> String {
        match self {
            Destination::OciDir { dir, tag } => format!("oci:{}:{tag}", dir.display()),
            Destination::OciArchive { file, tag: Some(t) } => {
                format!("oci-archive:{}:{t}", file.display())
            }
            Destination::OciArchive { file, tag: None } => {
                format!("oci-archive:{}", file.display())
            }
            Destination::Registry { reference } => format!("docker://{reference}"),
        }
    }
}

/// `sha256:<hex>` of bytes.
pub fn digest_of(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// The same JSON with every object's keys sorted, whatever serde_json's map type is
/// (oci-spec turns on `preserve_order`, which would keep hash-map order otherwise).
pub fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                out.insert(k.clone(), canonical(&m[k]));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

fn blob_path(dir: &Path, digest: &str) -> Result<PathBuf> {
    let hex = digest
        .strip_prefix("sha256:")
        .with_context(|| format!("digest `{digest}` is not sha256:<hex>"))?;
    Ok(dir.join("blobs/sha256").join(hex))
}

fn read_json(path: &Path) -> Result<Value> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("parsing {} as JSON", path.display()))
}

fn write_blob(dir: &Path, v: &Value) -> Result<(String, u64)> {
    let bytes = serde_json::to_vec(&canonical(v)).context("serializing JSON")?;
    let digest = digest_of(&bytes);
    let path = blob_path(dir, &digest)?;
    std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
    Ok((digest, bytes.len() as u64))
}

fn tag_index(index: &Value, tag: &str, dir: &Path) -> Result<usize> {
    index["manifests"]
        .as_array()
        .and_then(|m| {
            m.iter()
                .position(|d| d["annotations"][TAG_ANNOTATION].as_str() == Some(tag))
        })
        .with_context(|| format!("{}/index.json has no image tagged `{tag}`", dir.display()))
}

/// The manifest (JSON) and its digest of the image tagged `tag` in OCI layout `dir`.
pub fn read_manifest(dir: &Path, tag: &str) -> Result<(Value, String)> {
    let index = read_json(&dir.join("index.json"))?;
    let i = tag_index(&index, tag, dir)?;
    let digest = index["manifests"][i]["digest"]
        .as_str()
        .context("index.json entry without digest")?
        .to_owned();
    Ok((read_json(&blob_path(dir, &digest)?)?, digest))
}

/// Rewrites the config (every `history[].created` and `created` set to `created`), the
/// manifest and the index entry of image `tag` in `dir` in canonical form. Returns the new
/// manifest digest. Blobs no other image of the layout uses are removed.
pub fn normalize(dir: &Path, tag: &str, created: &str) -> Result<String> {
    let index_path = dir.join("index.json");
    let mut index = read_json(&index_path)?;
    let i = tag_index(&index, tag, dir)?;
    let old_manifest = index["manifests"][i]["digest"]
        .as_str()
        .context("index.json entry without digest")?
        .to_owned();
    let mut manifest = read_json(&blob_path(dir, &old_manifest)?)?;
    let old_config = manifest["config"]["digest"]
        .as_str()
        .with_context(|| format!("manifest {old_manifest} has no config digest"))?
        .to_owned();
    let mut config = read_json(&blob_path(dir, &old_config)?)?;
    config["created"] = Value::from(created);
    if let Some(history) = config["history"].as_array_mut() {
        for h in history {
            h["created"] = Value::from(created);
        }
    }
    let (config_digest, config_size) = write_blob(dir, &config)?;
    manifest["config"]["digest"] = Value::from(config_digest.as_str());
    manifest["config"]["size"] = Value::from(config_size);
    let (manifest_digest, manifest_size) = write_blob(dir, &manifest)?;
    index["manifests"][i]["digest"] = Value::from(manifest_digest.as_str());
    index["manifests"][i]["size"] = Value::from(manifest_size);
    let bytes = serde_json::to_vec(&canonical(&index)).context("serializing index.json")?;
    let tmp = dir.join(".index.json.tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &index_path)
        .with_context(|| format!("replacing {}", index_path.display()))?;
    remove_unreferenced(dir, &index, &[&old_manifest, &old_config])?;
    Ok(manifest_digest)
}

fn remove_unreferenced(dir: &Path, index: &Value, candidates: &[&str]) -> Result<()> {
    let mut used = Vec::new();
    for d in index["manifests"].as_array().into_iter().flatten() {
        let Some(md) = d["digest"].as_str() else {
            continue;
        };
        used.push(md.to_owned());
        let m = read_json(&blob_path(dir, md)?)?;
        if let Some(c) = m["config"]["digest"].as_str() {
            used.push(c.to_owned());
        }
    }
    for c in candidates {
        if !used.iter().any(|u| u == c) {
            let p = blob_path(dir, c)?;
            if p.exists() {
                std::fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_parse() {
        assert_eq!(
            Destination::parse("oci:/srv/img:mxos-10").unwrap(),
            Destination::OciDir {
                dir: "/srv/img".into(),
                tag: "mxos-10".into()
            }
        );
        assert_eq!(
            Destination::parse("oci:/srv/img").unwrap().skopeo_ref(),
            "oci:/srv/img:latest"
        );
        assert_eq!(
            Destination::parse("oci-archive:/tmp/a.tar").unwrap(),
            Destination::OciArchive {
                file: "/tmp/a.tar".into(),
                tag: None
            }
        );
        assert_eq!(
            Destination::parse("docker://127.0.0.1:5000/mxos/demo:10")
                .unwrap()
                .skopeo_ref(),
            "docker://127.0.0.1:5000/mxos/demo:10"
        );
        for bad in ["docker-daemon:x", "oci:", "docker://nohost"] {
            let err = Destination::parse(bad).unwrap_err().to_string();
            assert!(err.contains("accepted: oci:DIR:TAG"), "{bad}: {err}");
        }
    }

    #[test]
    fn canonical_sorts_keys_recursively() {
        let v: Value = serde_json::from_str(r#"{"b":1,"a":{"z":[{"y":1,"x":2}],"c":3}}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&canonical(&v)).unwrap(),
            r#"{"a":{"c":3,"z":[{"x":2,"y":1}]},"b":1}"#
        );
    }

    #[test]
    fn normalize_makes_history_times_and_digests_stable() {
        let make = |stamp: &str, label_order_ba: bool| {
            let t = tempfile::tempdir().unwrap();
            let d = t.path();
            std::fs::create_dir_all(d.join("blobs/sha256")).unwrap();
            let labels = if label_order_ba {
                r#"{"b":"2","a":"1"}"#
            } else {
                r#"{"a":"1","b":"2"}"#
            };
            let config: Value = serde_json::from_str(&format!(
                r#"{{"created":"x","config":{{"Labels":{labels}}},"history":[{{"created":"{stamp}","created_by":"l"}}]}}"#
            ))
            .unwrap();
            let raw = serde_json::to_vec(&config).unwrap();
            let cd = digest_of(&raw);
            std::fs::write(blob_path(d, &cd).unwrap(), &raw).unwrap();
            let manifest = format!(
                r#"{{"schemaVersion":2,"config":{{"digest":"{cd}","size":{}}},"layers":[]}}"#,
                raw.len()
            );
            let md = digest_of(manifest.as_bytes());
            std::fs::write(blob_path(d, &md).unwrap(), &manifest).unwrap();
            std::fs::write(
                d.join("index.json"),
                format!(
                    r#"{{"schemaVersion":2,"manifests":[{{"digest":"{md}","size":{},"annotations":{{"{TAG_ANNOTATION}":"t"}}}}]}}"#,
                    manifest.len()
                ),
            )
            .unwrap();
            let digest = normalize(d, "t", "2023-11-14T22:13:20Z").unwrap();
            let (m, md2) = read_manifest(d, "t").unwrap();
            assert_eq!(md2, digest);
            // The superseded blobs are gone; the new ones are there.
            assert!(!blob_path(d, &md).unwrap().exists());
            assert!(!blob_path(d, &cd).unwrap().exists());
            let c =
                read_json(&blob_path(d, m["config"]["digest"].as_str().unwrap()).unwrap()).unwrap();
            assert_eq!(c["history"][0]["created"], "2023-11-14T22:13:20Z");
            (digest, t)
        };
        let (a, _ta) = make("2026-01-01T00:00:00Z", false);
        let (b, _tb) = make("2026-01-01T00:00:07Z", true);
        assert_eq!(a, b);
    }
}
