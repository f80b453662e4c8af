//! rpm-ostree's lockfiles (`--ex-lockfile`): packages pinned by EVR or EVRA, optionally by
//! digest. Found beside the top treefile the way coreos-assembler names them, read in order
//! (a later file replaces a package's whole entry), and written back after a compose.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::TreefileError;

/// The pins a compose must honour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Lockfile {
    /// File names read, in the order applied.
    pub files: Vec<String>,
    pub packages: BTreeMap<String, LockedPackage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct LockedPackage {
    /// `[EPOCH:]VERSION-RELEASE`; an epoch of 0 is not written.
    pub evr: String,
    /// `None` for an `evr` pin: any architecture.
    pub arch: Option<String>,
    /// `ALGORITHM:HEX` of the whole package file, e.g. `sha256:…`.
    pub digest: Option<String>,
}

impl LockedPackage {
    /// The pin as dnf spells a package: `NAME-EVR.ARCH` or `NAME-EVR`.
    pub fn spec(&self, name: &str) -> String {
        match &self.arch {
            Some(a) => format!("{name}-{}.{a}", self.evr),
            None => format!("{name}-{}", self.evr),
        }
    }
}

impl Lockfile {
    /// blake3 of the pins: recorded in commit metadata and part of the input hash.
    pub fn hash(&self) -> String {
        let json = serde_json::to_vec(&self.packages).unwrap_or_default();
        blake3::hash(&json).to_hex().to_string()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLockfile {
    packages: BTreeMap<String, RawPin>,
    #[serde(default)]
    #[allow(dead_code)]
    metadata: Option<RawMetadata>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPin {
    #[serde(default)]
    evra: Option<String>,
    #[serde(default)]
    evr: Option<String>,
    #[serde(default)]
    digest: Option<String>,
    /// Free-form (coreos-assembler keeps `reason`, `bodhi`, `type` there).
    #[serde(default)]
    #[allow(dead_code)]
    metadata: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct RawMetadata {
    #[serde(default)]
    generated: Option<String>,
    #[serde(default)]
    rpmmd_repos: Option<BTreeMap<String, RawRepoMetadata>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct RawRepoMetadata {
    #[serde(default)]
    generated: Option<String>,
}

/// The lockfiles of `treefile` for `basearch`, in the order they apply: for a treefile
/// `NAME.yaml`, `NAME-lock.ARCH`, then `NAME-lock.overrides`, then
/// `NAME-lock.overrides.ARCH`, each `.json` or `.yaml` (both is an error). So
/// `manifest.yaml` finds coreos-assembler's `manifest-lock.x86_64.json`; a
/// `manifest-VARIANT.yaml` without lockfiles of its own uses `manifest-lock.*`, as cosa does.
pub fn discover(treefile: &Path, basearch: &str) -> Result<Vec<PathBuf>, TreefileError> {
    let dir = match treefile.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let stem = treefile
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut found = candidates(dir, &stem, basearch)?;
    if found.is_empty() && stem.starts_with("manifest-") {
        found = candidates(dir, "manifest", basearch)?;
    }
    Ok(found)
}

fn candidates(dir: &Path, stem: &str, basearch: &str) -> Result<Vec<PathBuf>, TreefileError> {
    let mut out = Vec::new();
    for base in [
        format!("{stem}-lock.{basearch}"),
        format!("{stem}-lock.overrides"),
        format!("{stem}-lock.overrides.{basearch}"),
    ] {
        let json = dir.join(format!("{base}.json"));
        let yaml = dir.join(format!("{base}.yaml"));
        match (json.is_file(), yaml.is_file()) {
            (true, true) => {
                return Err(TreefileError::Lockfile {
                    at: crate::error::Location::file(json),
                    message: format!("both {base}.json and {base}.yaml exist; keep one of them"),
                })
            }
            (true, false) => out.push(json),
            (false, true) => out.push(yaml),
            (false, false) => {}
        }
    }
    Ok(out)
}

/// Reads `paths` in order; `None` when there are none.
pub fn read(paths: &[PathBuf]) -> Result<Option<Lockfile>, TreefileError> {
    if paths.is_empty() {
        return Ok(None);
    }
    let mut lock = Lockfile {
        files: Vec::new(),
        packages: BTreeMap::new(),
    };
    for path in paths {
        let fail = |message: String| TreefileError::Lockfile {
            at: crate::error::Location::file(path),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read: {e}")))?;
        let raw: RawLockfile = serde_yaml::from_str(&text).map_err(|e| {
            let mut at = crate::error::Location::file(path);
            if let Some(l) = e.location() {
                at.line = u32::try_from(l.line()).ok();
                at.column = u32::try_from(l.column()).ok();
            }
            let message = e.to_string();
            let message = message.split(" at line ").next().unwrap_or(&message);
            TreefileError::Lockfile {
                at,
                message: format!(
                    "{message}; a lockfile is `packages: {{NAME: {{evra: [E:]V-R.ARCH}} or {{evr: [E:]V-R}}, digest: sha256:HEX (optional)}}`"
                ),
            }
        })?;
        for (name, pin) in raw.packages {
            let is_evr = |evr: &str| {
                evr.rsplit_once('-')
                    .is_some_and(|(v, r)| !v.is_empty() && !r.is_empty())
            };
            let pinned = match (pin.evra, pin.evr) {
                (Some(evra), None) => {
                    let (evr, arch) = evra
                        .rsplit_once('.')
                        .filter(|(e, a)| is_evr(e) && !a.is_empty())
                        .ok_or_else(|| {
                            fail(format!(
                                "package `{name}`: `evra: {evra}` is not `[E:]V-R.ARCH`; write `evr:` for any architecture"
                            ))
                        })?;
                    LockedPackage {
                        evr: drop_zero_epoch(evr),
                        arch: Some(arch.to_owned()),
                        digest: pin.digest,
                    }
                }
                (None, Some(evr)) if is_evr(&evr) => LockedPackage {
                    evr: drop_zero_epoch(&evr),
                    arch: None,
                    digest: pin.digest,
                },
                (None, Some(evr)) => {
                    return Err(fail(format!(
                        "package `{name}`: `evr: {evr}` is not `[E:]V-R`"
                    )))
                }
                _ => {
                    return Err(fail(format!(
                        "package `{name}`: give exactly one of `evra` and `evr`"
                    )))
                }
            };
            if let Some(d) = &pinned.digest {
                if !d.contains(':') {
                    return Err(fail(format!(
                        "package `{name}`: digest `{d}` must be `ALGORITHM:HEX`, e.g. `sha256:…`"
                    )));
                }
            }
            lock.packages.insert(name, pinned);
        }
        lock.files.push(
            path.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        );
    }
    Ok(Some(lock))
}

fn drop_zero_epoch(evr: &str) -> String {
    evr.strip_prefix("0:").unwrap_or(evr).to_owned()
}

/// One package of a resolved compose, for [`render`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedPin {
    pub name: String,
    /// `[E:]V-R.ARCH`, epoch only when not 0.
    pub evra: String,
    /// `sha256:HEX` of the package file.
    pub digest: String,
    /// The source package's name, from its SRPM file name.
    pub source_name: Option<String>,
}

#[derive(Serialize)]
struct OutLockfile<'a> {
    packages: BTreeMap<&'a str, OutPin<'a>>,
    metadata: OutMetadata<'a>,
}

#[derive(Serialize)]
struct OutPin<'a> {
    evra: &'a str,
    digest: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<OutPinMetadata<'a>>,
}

#[derive(Serialize)]
struct OutPinMetadata<'a> {
    sourcerpm: &'a str,
}

#[derive(Serialize)]
struct OutMetadata<'a> {
    generated: String,
    rpmmd_repos: BTreeMap<&'a str, OutRepo>,
}

#[derive(Serialize)]
struct OutRepo {
    generated: String,
}

/// The lockfile rpm-ostree's `--ex-write-lockfile-to` writes: every resolved package, and
/// when each repo's metadata was generated (seconds since the epoch), dated `day` (the
/// compose's timestamp, at midnight UTC).
pub fn render(pins: &[ResolvedPin], repos: &BTreeMap<String, i64>, day: i64) -> String {
    let out = OutLockfile {
        packages: pins
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    OutPin {
                        evra: &p.evra,
                        digest: &p.digest,
                        metadata: p
                            .source_name
                            .as_deref()
                            .map(|s| OutPinMetadata { sourcerpm: s }),
                    },
                )
            })
            .collect(),
        metadata: OutMetadata {
            generated: rfc3339(day - day.rem_euclid(86_400)),
            rpmmd_repos: repos
                .iter()
                .map(|(id, t)| {
                    (
                        id.as_str(),
                        OutRepo {
                            generated: rfc3339(*t),
                        },
                    )
                })
                .collect(),
        },
    };
    serde_json::to_string_pretty(&out).unwrap_or_default()
}

fn rfc3339(epoch: i64) -> String {
    let (y, m, d) = crate::version::civil_from_days(epoch.div_euclid(86_400));
    let s = epoch.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_rpm_ostree_s_shape() {
        let pins = [ResolvedPin {
            name: "bash".into(),
            evra: "5.2-1.x86_64".into(),
            digest: "sha256:ab".into(),
            source_name: Some("bash".into()),
        }];
        let repos = BTreeMap::from([("baseos".to_owned(), 1_700_000_000)]);
        assert_eq!(
            render(&pins, &repos, 1_700_050_000),
            r#"{
  "packages": {
    "bash": {
      "evra": "5.2-1.x86_64",
      "digest": "sha256:ab",
      "metadata": {
        "sourcerpm": "bash"
      }
    }
  },
  "metadata": {
    "generated": "2023-11-15T00:00:00Z",
    "rpmmd_repos": {
      "baseos": {
        "generated": "2023-11-14T22:13:20Z"
      }
    }
  }
}"#
        );
    }
}
