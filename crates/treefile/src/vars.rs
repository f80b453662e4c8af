//! `${name}` substitution in `ref`.

use std::collections::BTreeMap;

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum VarError {
    Unknown(String),
    Unterminated,
}

pub(crate) fn substitute(value: &str, vars: &BTreeMap<String, String>) -> Result<String, VarError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_and_reports() {
        let vars: BTreeMap<String, String> = [
            ("a".to_owned(), "1".to_owned()),
            ("b".to_owned(), "${a}".to_owned()),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            substitute("x/${a}/${b}/$c", &vars),
            Ok("x/1/${a}/$c".to_owned())
        );
        assert_eq!(
            substitute("${nope}", &vars),
            Err(VarError::Unknown("nope".to_owned()))
        );
        assert_eq!(substitute("x/${a", &vars), Err(VarError::Unterminated));
    }
}
