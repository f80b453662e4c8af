//! The resolved build plan: the merged treefile with defaults applied, variables substituted
//! where rpm-ostree substitutes them, values checked, and its canonical JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::apt_source::AptSource;
use crate::error::{Location, TreefileError, Warning};
use crate::load::Loaded;
use crate::lockfile::Lockfile;
use crate::schema::{RawTreefile, Treefile};
use crate::values::{Backend, VarValue};
use crate::vars::{forbidden_char, substitute_known, substitute_strict, VarError};
use crate::version::automatic_version;

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Plan {
    pub treefile_name: String,
    pub basearch: String,
    /// Every key, merged over the includes, with defaults.
    pub treefile: Treefile,
    /// The variables of the whole tree, `basearch` and `releasever` included.
    pub variables: BTreeMap<String, VarValue>,
    pub repo_files: Vec<RepoFile>,
    pub lockfile: Option<Lockfile>,
    /// Every treefile read, the top one first (host paths: not part of the canonical form).
    #[serde(skip)]
    pub sources: Vec<PathBuf>,
    /// Deprecated spellings and keys without effect, one line each.
    #[serde(skip)]
    pub warnings: Vec<Warning>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RepoFile {
    pub name: String,
    pub contents: String,
    /// The directory it was read from: its `gpgkey=` files are looked up there (a host
    /// path, not part of the canonical form).
    #[serde(skip)]
    pub dir: PathBuf,
}

/// Top-level directories `add-files` may write to (rpm-ostree's list).
const ADD_FILES_PREFIXES: [&str; 6] = ["usr/", "etc/", "bin/", "sbin/", "lib/", "lib64/"];

impl Plan {
    pub(crate) fn build(
        top: &Path,
        basearch: &str,
        loaded: Loaded,
        lockfile: Option<Lockfile>,
    ) -> Result<Plan, TreefileError> {
        let Loaded {
            mut raw,
            variables,
            sources,
            repo_files,
            warnings,
        } = loaded;
        let at = |raw: &RawTreefile, key: &str| {
            raw.origins
                .get(key)
                .cloned()
                .unwrap_or_else(|| Location::file(top))
        };
        let invalid = |raw: &RawTreefile, key: &str, message: String| TreefileError::InvalidValue {
            at: at(raw, key),
            key: key.to_owned(),
            message,
        };

        let mut scope = BTreeMap::new();
        for (name, value) in &variables {
            let text = value.as_text();
            if let Some(c) = forbidden_char(name).or_else(|| forbidden_char(&text)) {
                return Err(invalid(
                    &raw,
                    "variables",
                    format!("`{name}`: `{c}` may not appear in variable names or values"),
                ));
            }
            scope.insert(name.clone(), text);
        }
        if let Some(reference) = raw.reference.take() {
            let substituted = substitute_strict(&reference, &scope).map_err(|e| match e {
                VarError::Unknown(name) => TreefileError::UnknownVariable {
                    at: at(&raw, "ref"),
                    key: "ref",
                    name,
                    defined: scope.keys().cloned().collect(),
                },
                VarError::Unterminated => TreefileError::UnterminatedVariable {
                    at: at(&raw, "ref"),
                    key: "ref",
                    value: reference.clone(),
                },
            })?;
            raw.reference = Some(substituted);
        }
        for field in [
            &mut raw.automatic_version_prefix,
            &mut raw.mutate_os_release,
            &mut raw.platform_module,
        ] {
            if let Some(v) = field.as_mut() {
                *v = substitute_known(v, &scope);
            }
        }
        for map in [&mut raw.add_commit_metadata, &mut raw.metadata] {
            for value in map.iter_mut().flat_map(|m| m.values_mut()) {
                if let serde_json::Value::String(s) = value {
                    *s = substitute_known(s, &scope);
                }
            }
        }
        if let Some(r) = raw.rojig.as_mut() {
            r.name = substitute_known(&r.name, &scope);
            r.summary = substitute_known(&r.summary, &scope);
            if let Some(d) = r.description.as_mut() {
                *d = substitute_known(d, &scope);
            }
        }

        check(&raw, top)?;
        let treefile = raw.into_treefile();
        Ok(Plan {
            treefile_name: top.file_name().map_or_else(
                || top.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            basearch: basearch.to_owned(),
            treefile,
            variables,
            repo_files,
            lockfile,
            sources,
            warnings,
        })
    }

    /// The ref, when the treefile names one (container composes need none).
    pub fn reference(&self) -> Option<&str> {
        self.treefile.reference.as_deref()
    }

    /// `releasever` as dnf takes it.
    pub fn releasever(&self) -> Option<String> {
        self.treefile.releasever.as_ref().map(VarValue::as_text)
    }

    /// Canonical form: deterministic JSON (sorted keys, no host paths); same Plan → same bytes.
    pub fn canonical_json(&self) -> String {
        let mut out = String::new();
        write_canonical(&self.canonical_value(), &mut out);
        out
    }

    /// The canonical form, indented: what `mxos-compose plan --pretty` and golden files show.
    pub fn pretty_json(&self) -> String {
        serde_json::to_string_pretty(&sorted(self.canonical_value())).unwrap_or_default()
    }

    fn canonical_value(&self) -> serde_json::Value {
        // Serialising a Plan cannot fail: every map key is a string.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// The value checks rpm-ostree makes once everything is merged, each naming where the value
/// was written.
fn check(raw: &RawTreefile, top: &Path) -> Result<(), TreefileError> {
    let at = |key: &str| {
        raw.origins
            .get(key)
            .cloned()
            .unwrap_or_else(|| Location::file(top))
    };
    let invalid = |key: &str, message: String| TreefileError::InvalidValue {
        at: at(key),
        key: key.to_owned(),
        message,
    };
    if let Some(VarValue::Bool(b)) = &raw.releasever {
        return Err(TreefileError::WrongType {
            at: at("releasever"),
            key: "releasever".to_owned(),
            expected: "a string or a non-negative integer",
            found: format!("boolean `{b}`"),
        });
    }
    if let Some(prefix) = &raw.automatic_version_prefix {
        // Expanding once now reports a bad prefix at load time, next to its file.
        automatic_version(prefix, None, 0, None).map_err(|e| {
            invalid(
                "automatic-version-prefix",
                match e {
                    TreefileError::VersionPrefix { message, .. } => message,
                    other => other.to_string(),
                },
            )
        })?;
    }
    if let Some(suffix) = &raw.automatic_version_suffix {
        if suffix.len() != 1 || !suffix.is_ascii() {
            return Err(invalid(
                "automatic-version-suffix",
                format!("`{suffix}` must be exactly one ASCII character, e.g. `.`"),
            ));
        }
    }
    if let Some(v) = raw.selinux_label_version.filter(|v| *v > 1) {
        return Err(invalid(
            "selinux-label-version",
            format!("`{v}` is not a labelling version; accepted: 0, 1"),
        ));
    }
    for f in raw.add_files.iter().flatten() {
        let dest = f.dest.trim_start_matches('/');
        if !ADD_FILES_PREFIXES.iter().any(|p| dest.starts_with(p)) || dest.starts_with("usr/local/")
        {
            return Err(invalid(
                "add-files",
                format!(
                    "`{}` is outside what a compose may add to; accepted: paths under /usr (not /usr/local), /etc, /bin, /sbin, /lib, /lib64",
                    f.dest
                ),
            ));
        }
    }
    for path in raw.remove_files.iter().flatten() {
        if path.starts_with('/') {
            return Err(invalid(
                "remove-files",
                format!(
                    "`{path}` is absolute; write it relative to the root, e.g. `{}`",
                    path.trim_start_matches('/')
                ),
            ));
        }
        if path.split('/').any(|c| c == "..") {
            return Err(invalid(
                "remove-files",
                format!("`{path}` reaches outside the tree with `..`"),
            ));
        }
    }
    for entry in raw.remove_from_packages.iter().flatten() {
        let [package, patterns @ ..] = entry.as_slice() else {
            return Err(invalid(
                "remove-from-packages",
                "an entry is empty; write `[PACKAGE, REGEX, ...]`".to_owned(),
            ));
        };
        if patterns.is_empty() {
            return Err(invalid(
                "remove-from-packages",
                format!("`{package}` has no patterns; write `[{package}, REGEX, ...]`"),
            ));
        }
        for p in patterns {
            regex::Regex::new(p).map_err(|e| {
                invalid(
                    "remove-from-packages",
                    format!("`{package}`: `{p}` is not a regular expression: {e}"),
                )
            })?;
        }
    }
    for key in ["releasever", "basearch"] {
        if raw.repovars.as_ref().is_some_and(|m| m.contains_key(key)) {
            return Err(invalid(
                "repovars",
                match key {
                    "releasever" => {
                        "`releasever` is set by the `releasever` key, not here".to_owned()
                    }
                    _ => "`basearch` is the architecture composed for and cannot be set".to_owned(),
                },
            ));
        }
    }
    if raw.machineid_compat == Some(false) && raw.units.as_ref().is_some_and(|u| !u.is_empty()) {
        // rpm-ostree's rule: without /etc/machine-id, units are enabled by presets instead.
        return Err(invalid(
            "units",
            "cannot be used with `machineid-compat: false`; use systemd presets".to_owned(),
        ));
    }
    if let Some(script) = &raw.postprocess_script {
        if !script.executable {
            return Err(invalid(
                "postprocess-script",
                format!(
                    "`{}` ({}) must be executable (chmod +x)",
                    script.name,
                    script.path.display()
                ),
            ));
        }
    }
    match raw.backend.unwrap_or(Backend::Dnf) {
        Backend::Apt if raw.suite.is_none() => {
            return Err(TreefileError::MissingKey {
                path: top.to_path_buf(),
                key: "suite",
            })
        }
        Backend::Dnf => {
            if raw.suite.is_some() {
                return Err(invalid("suite", "only used with `backend: apt`".to_owned()));
            }
            let apt_only = [
                ("mirror", raw.mirror.is_some()),
                ("keyring", raw.keyring.is_some()),
                ("apt-variant", raw.apt_variant.is_some()),
            ];
            if let Some((key, _)) = apt_only.iter().find(|(_, set)| *set) {
                return Err(invalid(key, "only used with `backend: apt`".to_owned()));
            }
            if raw.apt_sources.is_some() {
                return Err(invalid(
                    "apt-sources",
                    "only used with `backend: apt`; dnf trees name their repositories in `.repo` files beside the treefile".to_owned(),
                ));
            }
        }
        Backend::Apt => {
            for line in raw.apt_sources.iter().flatten() {
                AptSource::parse(line).map_err(|e| invalid("apt-sources", e))?;
            }
        }
    }
    Ok(())
}

/// A JSON value with every object's keys sorted, for output that must not depend on
/// serde_json's map order (another crate enabling `preserve_order` would change it).
fn sorted(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        scalar => scalar,
    }
}

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
