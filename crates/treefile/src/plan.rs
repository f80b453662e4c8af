//! The resolved build plan: merged keys with defaults applied, variables substituted, and its canonical JSON.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::TreefileError;
use crate::load::Loaded;
use crate::schema::{Backend, CheckKind};
use crate::vars::{substitute, VarError};
use crate::version::automatic_version;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub treefile_name: String,
    pub reference: String,
    pub backend: Backend,
    pub basearch: String,
    pub releasever: Option<String>,
    pub packages: Vec<String>,
    pub repos: Vec<String>,
    pub repo_files: Vec<RepoFile>,
    pub add_commit_metadata: BTreeMap<String, serde_json::Value>,
    pub automatic_version_prefix: Option<String>,
    pub documentation: bool,
    pub recommends: bool,
    pub remove_files: Vec<String>,
    pub units: Vec<String>,
    pub default_target: Option<String>,
    pub postprocess: Vec<String>,
    pub overlays: Vec<String>,
    pub suite: Option<String>,
    pub mirror: Option<String>,
    pub bootable: bool,
    pub initramfs_args: Vec<String>,
    pub tmp_is_dir: bool,
    pub machineid_compat: bool,
    pub readonly_executables: bool,
    pub etc_group_members: Vec<String>,
    pub check_passwd: CheckKind,
    pub check_groups: CheckKind,
    pub variables: BTreeMap<String, String>,
    pub sources: Vec<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepoFile {
    pub name: String,
    pub contents: String,
}

/// Variables every treefile gets; user `variables` may not shadow them.
const BUILTIN_VARIABLES: [&str; 2] = ["basearch", "releasever"];

impl Plan {
    pub(crate) fn build(top: &Path, basearch: &str, loaded: Loaded) -> Result<Plan, TreefileError> {
        let Loaded {
            mut raw,
            origins,
            sources,
            repo_files,
        } = loaded;
        let arch_packages = raw.arch_packages(basearch).unwrap_or_default();
        let origin = |key: &str| {
            origins
                .get(key)
                .cloned()
                .unwrap_or_else(|| top.to_path_buf())
        };

        let reference = raw.reference.ok_or_else(|| TreefileError::MissingKey {
            path: top.to_path_buf(),
            key: "ref",
        })?;
        let releasever = raw.releasever.map(|t| t.0);
        let variables: BTreeMap<String, String> = raw
            .variables
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect();
        if let Some(name) = BUILTIN_VARIABLES
            .iter()
            .find(|b| variables.contains_key(**b))
        {
            return Err(TreefileError::ReservedVariable {
                path: origin("variables"),
                name: (*name).to_owned(),
            });
        }
        let mut scope = variables.clone();
        scope.insert("basearch".to_owned(), basearch.to_owned());
        if let Some(r) = &releasever {
            scope.insert("releasever".to_owned(), r.clone());
        }
        let reference = substitute(&reference, &scope).map_err(|e| match e {
            VarError::Unknown(name) => TreefileError::UnknownVariable {
                path: origin("ref"),
                key: "ref",
                name,
                defined: scope.keys().cloned().collect(),
            },
            VarError::Unterminated => TreefileError::UnterminatedVariable {
                path: origin("ref"),
                key: "ref",
                value: reference.clone(),
            },
        })?;

        if let Some(prefix) = &raw.automatic_version_prefix {
            // Expanding once now reports a bad prefix at load time, next to its file.
            automatic_version(prefix, None, 0).map_err(|e| TreefileError::InvalidValue {
                at: crate::error::Location::file(origin("automatic-version-prefix")),
                key: "automatic-version-prefix".to_owned(),
                message: match e {
                    TreefileError::VersionPrefix { message, .. } => message,
                    other => other.to_string(),
                },
            })?;
        }

        // rpm-ostree allows several names in one entry: "a b c".
        let packages = dedup(
            raw.packages
                .unwrap_or_default()
                .iter()
                .chain(&arch_packages)
                .flat_map(|e| e.split_whitespace())
                .map(str::to_owned),
        );

        let backend = raw.backend.unwrap_or_default();
        let invalid = |key: &str, message: String| TreefileError::InvalidValue {
            at: crate::error::Location::file(origin(key)),
            key: key.to_owned(),
            message,
        };
        match backend {
            Backend::Apt if raw.suite.is_none() => {
                return Err(TreefileError::MissingKey {
                    path: top.to_path_buf(),
                    key: "suite",
                })
            }
            Backend::Dnf => {
                for key in ["suite", "mirror"] {
                    let set = if key == "suite" {
                        raw.suite.is_some()
                    } else {
                        raw.mirror.is_some()
                    };
                    if set {
                        return Err(invalid(key, "only used with `backend: apt`".to_owned()));
                    }
                }
            }
            Backend::Apt => {}
        }
        let machineid_compat = raw.machineid_compat.unwrap_or(true);
        let units = raw.units.unwrap_or_default();
        if !machineid_compat && !units.is_empty() {
            // rpm-ostree's rule: without /etc/machine-id, units are enabled by presets instead.
            return Err(invalid(
                "units",
                "cannot be used with `machineid-compat: false`; use systemd presets".to_owned(),
            ));
        }

        Ok(Plan {
            treefile_name: top.file_name().map_or_else(
                || top.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            reference,
            backend,
            basearch: basearch.to_owned(),
            releasever,
            packages,
            repos: dedup(raw.repos.unwrap_or_default()),
            repo_files,
            add_commit_metadata: raw.add_commit_metadata.unwrap_or_default(),
            automatic_version_prefix: raw.automatic_version_prefix,
            documentation: raw.documentation.unwrap_or(true),
            recommends: raw.recommends.unwrap_or(true),
            remove_files: raw.remove_files.unwrap_or_default(),
            units,
            default_target: raw.default_target,
            postprocess: raw.postprocess.unwrap_or_default(),
            overlays: raw.overlays.unwrap_or_default(),
            suite: raw.suite,
            mirror: raw.mirror,
            bootable: raw.bootable.unwrap_or(true),
            initramfs_args: raw.initramfs_args.unwrap_or_default(),
            tmp_is_dir: raw.tmp_is_dir.unwrap_or(false),
            machineid_compat,
            readonly_executables: raw.readonly_executables.unwrap_or(false),
            etc_group_members: raw.etc_group_members.unwrap_or_default(),
            check_passwd: raw.check_passwd.map(|c| c.kind).unwrap_or_default(),
            check_groups: raw.check_groups.map(|c| c.kind).unwrap_or_default(),
            variables,
            sources,
        })
    }

    /// Canonical form: deterministic JSON (sorted keys, no `sources` paths, which are host-specific); same Plan → same bytes.
    pub fn canonical_json(&self) -> String {
        let mut plan = self.clone();
        plan.sources.clear();
        // Serialising a Plan cannot fail: every map key is a string and `sources` is empty.
        let mut value = serde_json::to_value(&plan).unwrap_or(serde_json::Value::Null);
        if let serde_json::Value::Object(map) = &mut value {
            map.remove("sources");
        }
        let mut out = String::new();
        write_canonical(&value, &mut out);
        out
    }
}

/// First occurrence wins.
fn dedup(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    items
        .into_iter()
        .filter(|i| seen.insert(i.clone()))
        .collect()
}

/// Sorts object keys ourselves rather than trusting serde_json's map order,
/// which another crate enabling `preserve_order` would silently change.
fn write_canonical(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{}:", Value::String(key.clone()));
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => {
            let _ = write!(out, "{scalar}");
        }
    }
}
