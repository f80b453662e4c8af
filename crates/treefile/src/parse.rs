//! Parses one treefile's text (YAML, or JSON, which the same parser reads with the same
//! positions) and turns serde_yaml's errors into `TreefileError`s naming file, line, key and
//! expectation. Also finds where each key is written and what deserves a warning.

use std::path::Path;

use crate::error::{KeyHint, Location, TreefileError, Warning};
use crate::scan::{top_level_keys, KeyAt};
use crate::schema::{describe_key, RawTreefile, KNOWN_KEYS, LEGACY_KEYS};

pub(crate) struct Parsed {
    /// Boxed: the struct is large, and includes nest 50 deep.
    pub raw: Box<RawTreefile>,
    pub warnings: Vec<Warning>,
}

pub(crate) fn parse(path: &Path, text: &str) -> Result<Parsed, TreefileError> {
    // A first pass into an untyped value separates YAML syntax errors and a
    // non-mapping top level from schema errors, which need different wording.
    let value: serde_yaml::Value =
        serde_yaml::from_str(text).map_err(|e| syntax_error(path, text, &e))?;
    let found = match value {
        serde_yaml::Value::Mapping(_) => None,
        // An empty file (or only comments) is an empty treefile; real trees include such files.
        serde_yaml::Value::Null => {
            return Ok(Parsed {
                raw: Box::default(),
                warnings: Vec::new(),
            })
        }
        serde_yaml::Value::Bool(_) => Some("a boolean"),
        serde_yaml::Value::Number(_) => Some("a number"),
        serde_yaml::Value::String(_) => Some("a string"),
        serde_yaml::Value::Sequence(_) => Some("a list"),
        serde_yaml::Value::Tagged(_) => Some("a tagged value"),
    };
    if let Some(found) = found {
        return Err(TreefileError::NotMapping {
            at: Location::at(path, 1, 1),
            found,
        });
    }
    let keys = top_level_keys(text);
    for (legacy, key) in LEGACY_KEYS {
        let (Some(old), Some(_)) = (find(&keys, legacy), find(&keys, key)) else {
            continue;
        };
        return Err(TreefileError::LegacyConflict {
            at: Location::at(path, old.line, old.column),
            legacy,
            key,
        });
    }
    let mut raw: Box<RawTreefile> =
        serde_yaml::from_str(text).map_err(|e| schema_error(path, text, &e))?;
    for k in &keys {
        let name = LEGACY_KEYS
            .iter()
            .find(|(legacy, _)| *legacy == k.key)
            .map(|(_, key)| *key)
            .or_else(|| KNOWN_KEYS.iter().copied().find(|known| *known == k.key));
        if let Some(name) = name {
            raw.origins
                .insert(name, Location::at(path, k.line, k.column));
        }
    }
    Ok(Parsed {
        raw,
        warnings: deprecations(path, &keys),
    })
}

fn find<'a>(keys: &'a [KeyAt], name: &str) -> Option<&'a KeyAt> {
    keys.iter().find(|k| k.key == name)
}

/// What rpm-ostree still accepts but has replaced or emptied of meaning: one line each.
fn deprecations(path: &Path, keys: &[KeyAt]) -> Vec<Warning> {
    let mut out = Vec::new();
    for k in keys {
        let message = if let Some((_, key)) = LEGACY_KEYS.iter().find(|(l, _)| *l == k.key) {
            format!("`{}` is a deprecated spelling; use `{key}`", k.key)
        } else {
            match (k.key.as_str(), k.value.as_str()) {
                ("rojig", _) => "`rojig` is deprecated and has no effect".to_owned(),
                ("boot-location" | "boot_location", v @ ("both" | "legacy")) => format!(
                    "`boot-location: {v}` is a value of old rpm-ostree releases, read as `new`, which is deprecated too; use `boot-location: modules`"
                ),
                ("boot-location" | "boot_location", "new") => {
                    "`boot-location: new` is deprecated; use `boot-location: modules`".to_owned()
                }
                ("rpmdb", v @ ("bdb" | "b-d-b" | "ndb")) => format!(
                    "`rpmdb: {v}` is deprecated; the database is written in the target's own format, as with `rpmdb: target`"
                ),
                ("bootstrap-packages", _) => {
                    "`bootstrap-packages` is deprecated; its packages are installed like `packages`".to_owned()
                }
                ("initramfs-args", _) => {
                    "`initramfs-args` is deprecated; put dracut options in the tree's /etc/dracut.conf.d".to_owned()
                }
                ("cliwrap", "true") => "`cliwrap` is deprecated (rpm-ostree will remove it)".to_owned(),
                ("platform-module", _) => {
                    "`platform-module` has no effect (rpm-ostree removed modularity support)".to_owned()
                }
                _ => continue,
            }
        };
        out.push(Warning {
            at: Location::at(path, k.line, k.column),
            message,
        });
    }
    out
}

/// Location of `e` and its message with serde_yaml's " at line L column C" removed.
fn split(path: &Path, e: &serde_yaml::Error) -> (Location, String) {
    let mut message = e.to_string();
    let mut at = Location::file(path);
    if let Some(loc) = e.location() {
        at.line = u32::try_from(loc.line()).ok();
        at.column = u32::try_from(loc.column()).ok();
        let suffix = format!(" at line {} column {}", loc.line(), loc.column());
        if let Some(i) = message.find(&suffix) {
            message.replace_range(i..i + suffix.len(), "");
        }
    }
    (at, message)
}

fn syntax_error(path: &Path, text: &str, e: &serde_yaml::Error) -> TreefileError {
    let (at, message) = split(path, e);
    if let Some(key) = message.strip_prefix("duplicate entry with key ") {
        return duplicate(path, text, key.trim_matches('"'));
    }
    TreefileError::Syntax { at, message }
}

fn schema_error(path: &Path, text: &str, e: &serde_yaml::Error) -> TreefileError {
    let (at, message) = split(path, e);
    // serde_yaml prefixes the message with the path to the bad value, e.g. `packages[1]: `.
    let (key, rest) = match message.split_once(": ") {
        Some((p, rest)) if !p.contains(' ') => {
            let key = p.split(['[', '.']).next().unwrap_or(p);
            (Some(key.to_owned()), rest.to_owned())
        }
        _ => (None, message.clone()),
    };
    if let Some(name) = between(&rest, "unknown field `", "`") {
        let hint = suggest(name);
        return TreefileError::UnknownKey {
            at,
            key: name.to_owned(),
            hint,
        };
    }
    if let Some(name) = between(&rest, "duplicate field `", "`") {
        return duplicate(path, text, name);
    }
    let Some(key) = key else {
        return TreefileError::Yaml { at, message };
    };
    if let (Some(found), Some(expected)) = (
        between(&rest, "invalid type: ", ", expected"),
        describe_key(&key),
    ) {
        return TreefileError::WrongType {
            at,
            key,
            expected,
            found: found.to_owned(),
        };
    }
    if let Some(value) = between(&rest, "unknown variant `", "`") {
        let accepted = rest
            .split_once(", expected ")
            .map_or("", |(_, a)| a)
            .to_owned();
        return TreefileError::UnknownValue {
            at,
            key,
            value: value.to_owned(),
            accepted,
        };
    }
    TreefileError::InvalidValue {
        at,
        key,
        message: rest,
    }
}

/// serde reports duplicates at the start of the document, so find the second top-level occurrence ourselves.
fn duplicate(path: &Path, text: &str, key: &str) -> TreefileError {
    let at = match top_level_keys(text).iter().filter(|k| k.key == key).nth(1) {
        Some(k) => Location::at(path, k.line, k.column),
        None => Location::file(path),
    };
    TreefileError::DuplicateKey {
        at,
        key: key.to_owned(),
    }
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = &s[s.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

/// The nearest known key when it is plausibly a typo, else the full list.
fn suggest(unknown: &str) -> KeyHint {
    let best = KNOWN_KEYS
        .iter()
        .chain(LEGACY_KEYS.iter().map(|(_, key)| key))
        .map(|k| (strsim::osa_distance(unknown, k), *k))
        .min();
    match best {
        Some((d, key)) if d <= (unknown.chars().count() / 3).max(1) => KeyHint::DidYouMean(key),
        _ => {
            let mut keys = KNOWN_KEYS.to_vec();
            keys.sort_unstable();
            KeyHint::KnownKeys(keys)
        }
    }
}
