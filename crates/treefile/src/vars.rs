//! `${name}` substitution, as rpm-ostree does it: only the braced form, in the few keys that
//! take it. An unknown name is left as written (a postprocess script's own `${x}` must pass
//! untouched), except in `ref`, where it is an error.

use std::collections::BTreeMap;

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum VarError {
    Unknown(String),
    Unterminated,
}

/// Replaces every `${name}` that `vars` defines; the rest stays.
pub(crate) fn substitute_known(value: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match after.find('}').map(|end| (end, &after[..end])) {
            Some((end, name)) if vars.contains_key(name) => {
                out.push_str(&rest[..start]);
                out.push_str(&vars[name]);
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str(&rest[..start + 2]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `ref`: every `${name}` must be defined and closed.
pub(crate) fn substitute_strict(
    value: &str,
    vars: &BTreeMap<String, String>,
) -> Result<String, VarError> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or(VarError::Unterminated)?;
        let name = &after[..end];
        let replacement = vars
            .get(name)
            .ok_or_else(|| VarError::Unknown(name.to_owned()))?;
        out.push_str(replacement);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A variable's name or value that would make substitution ambiguous.
pub(crate) fn forbidden_char(s: &str) -> Option<char> {
    s.chars().find(|c| matches!(c, '$' | '{' | '}'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, String> {
        [("a", "1"), ("b", "${a}")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    #[test]
    fn strict_for_refs() {
        assert_eq!(
            substitute_strict("x/${a}/${b}/$c", &vars()),
            Ok("x/1/${a}/$c".to_owned())
        );
        assert_eq!(
            substitute_strict("${nope}", &vars()),
            Err(VarError::Unknown("nope".to_owned()))
        );
        assert_eq!(
            substitute_strict("x/${a", &vars()),
            Err(VarError::Unterminated)
        );
    }

    #[test]
    fn lenient_elsewhere() {
        assert_eq!(
            substitute_known("${a}.${x}.${a", &vars()),
            "1.${x}.${a".to_owned()
        );
    }
}
