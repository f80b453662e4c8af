//! What a device downloads to go from one image to the next: the layers of the new image
//! that the old one does not have, by digest.

use std::fmt;
use std::process::Command;

use anyhow::{Context, Result};
use serde_json::Value;

use super::oci::Destination;

/// One layer of a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub digest: String,
    pub size: u64,
    /// `ostree.components`: the packages in the layer (empty for the ostree commit layer).
    pub components: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageDiff {
    pub old_layers: usize,
    pub new_layers: usize,
    pub shared_layers: usize,
    pub shared_bytes: u64,
    /// In the new image only: what an update downloads.
    pub added: Vec<Layer>,
    /// In the old image only.
    pub removed: Vec<Layer>,
    pub new_total_bytes: u64,
}

impl ImageDiff {
    pub fn added_bytes(&self) -> u64 {
        self.added.iter().map(|l| l.size).sum()
    }
}

/// The layers of an OCI image manifest.
pub fn layers(manifest: &Value) -> Result<Vec<Layer>> {
    manifest["layers"]
        .as_array()
        .context("manifest has no `layers` array")?
        .iter()
        .map(|l| {
            Ok(Layer {
                digest: l["digest"]
                    .as_str()
                    .context("layer without digest")?
                    .to_owned(),
                size: l["size"].as_u64().context("layer without size")?,
                components: l["annotations"]["ostree.components"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            })
        })
        .collect()
}

/// Compares two manifests layer by layer (by digest, so a rebuilt but identical layer counts
/// as shared).
pub fn diff_manifests(old: &Value, new: &Value) -> Result<ImageDiff> {
    let (old, new) = (layers(old)?, layers(new)?);
    let has = |set: &[Layer], l: &Layer| set.iter().any(|o| o.digest == l.digest);
    let shared: Vec<&Layer> = new.iter().filter(|l| has(&old, l)).collect();
    Ok(ImageDiff {
        old_layers: old.len(),
        new_layers: new.len(),
        shared_layers: shared.len(),
        shared_bytes: shared.iter().map(|l| l.size).sum(),
        added: new.iter().filter(|l| !has(&old, l)).cloned().collect(),
        removed: old.iter().filter(|l| !has(&new, l)).cloned().collect(),
        new_total_bytes: new.iter().map(|l| l.size).sum(),
    })
}

/// The raw manifest of an image (`oci:DIR:TAG`, `oci-archive:FILE`, `docker://...`), with
/// `skopeo inspect --raw`.
pub fn fetch_manifest(image: &str, tls_verify: bool) -> Result<Value> {
    let dest = Destination::parse(image)?;
    let mut cmd = Command::new("skopeo");
    cmd.args(["inspect", "--raw"]);
    if matches!(dest, Destination::Registry { .. }) && !tls_verify {
        cmd.arg("--tls-verify=false");
    }
    cmd.arg(dest.skopeo_ref());
    let out =
        mxos_process::run(&mut cmd).with_context(|| format!("reading the manifest of {image}"))?;
    serde_json::from_slice(&out.stdout)
        .with_context(|| format!("the manifest of {image} is not JSON"))
}

impl fmt::Display for ImageDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "layers: {} -> {}; shared {} ({} bytes), changed {}",
            self.old_layers,
            self.new_layers,
            self.shared_layers,
            self.shared_bytes,
            self.added.len()
        )?;
        let pct = if self.new_total_bytes == 0 {
            0.0
        } else {
            100.0 * self.added_bytes() as f64 / self.new_total_bytes as f64
        };
        writeln!(
            f,
            "update download: {} layers, {} of {} bytes ({pct:.1}%)",
            self.added.len(),
            self.added_bytes(),
            self.new_total_bytes
        )?;
        for l in &self.added {
            let what = if l.components.is_empty() {
                "(ostree commit layer)"
            } else {
                l.components.as_str()
            };
            writeln!(f, "  + {} {:>10} {what}", l.digest, l.size)?;
        }
        for l in &self.removed {
            writeln!(f, "  - {} {:>10}", l.digest, l.size)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(layers: &[(&str, u64, &str)]) -> Value {
        let ls: Vec<Value> = layers
            .iter()
            .map(|(d, s, c)| {
                serde_json::json!({"digest": d, "size": s, "annotations": {"ostree.components": c}})
            })
            .collect();
        serde_json::json!({ "layers": ls })
    }

    #[test]
    fn one_changed_layer() {
        let a = manifest(&[
            ("sha256:o1", 10, ""),
            ("sha256:h1", 5, "hello"),
            ("sha256:k", 100, "kernel"),
        ]);
        let b = manifest(&[
            ("sha256:o2", 11, ""),
            ("sha256:h2", 6, "hello"),
            ("sha256:k", 100, "kernel"),
        ]);
        let d = diff_manifests(&a, &b).unwrap();
        assert_eq!((d.old_layers, d.new_layers, d.shared_layers), (3, 3, 1));
        assert_eq!(d.shared_bytes, 100);
        assert_eq!(d.added_bytes(), 17);
        assert_eq!(d.removed.len(), 2);
        let text = d.to_string();
        assert!(
            text.contains("update download: 2 layers, 17 of 117 bytes (14.5%)"),
            "{text}"
        );
        assert!(text.contains("hello"), "{text}");
    }

    #[test]
    fn manifest_without_layers_is_an_error() {
        let err = diff_manifests(&serde_json::json!({}), &serde_json::json!({}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no `layers`"), "{err}");
    }
}
