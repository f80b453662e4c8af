//! Parses one treefile's text and turns serde_yaml's errors into `TreefileError`s naming file, line, key and expectation.

use std::path::Path;

use crate::error::{KeyHint, Location, TreefileError};
use crate::schema::{describe_key, RawTreefile, KNOWN_KEYS};

pub(crate) fn parse(path: &Path, text: &str) -> Result<RawTreefile, TreefileError> {
    // A first pass into an untyped value separates YAML syntax errors and a
    // non-mapping top level from schema errors, which need different wording.
    let value: serde_yaml::Value =
        serde_yaml::from_str(text).map_err(|e| syntax_error(path, text, &e))?;
    let found = match value {
        serde_yaml::Value::Mapping(_) => None,
        serde_yaml::Value::Null => Some("an empty document"),
        serde_yaml::Value::Bool(_) => Some("a boolean"),
        serde_yaml::Value::Number(_) => Some("a number"),
        serde_yaml::Value::String(_) => Some("a string"),
        serde_yaml::Value::Sequence(_) => Some("a list"),
        serde_yaml::Value::Tagged(_) => Some("a tagged value"),
    };
    if let Some(found) = found {
        let at = Location {
            path: path.to_path_buf(),
            line: Some(1),
            column: Some(1),
        };
        return Err(TreefileError::NotMapping { at, found });
    }
    serde_yaml::from_str(text).map_err(|e| schema_error(path, text, &e))
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
    let line = text
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            l.strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with(':'))
                || l.strip_prefix(&format!("\"{key}\""))
                    .is_some_and(|r| r.trim_start().starts_with(':'))
        })
        .nth(1)
        .and_then(|(i, _)| u32::try_from(i + 1).ok());
    let at = Location {
        path: path.to_path_buf(),
        line,
        column: line.map(|_| 1),
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
