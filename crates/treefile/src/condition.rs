//! `conditional-include` conditions: `VARIABLE OP VALUE`, rpm-ostree's grammar and typing.
//! Values are `true`/`false`, unsigned integers or double-quoted strings; a variable must be
//! defined and of the value's type; `<`, `<=`, `>`, `>=` compare numbers only.

use std::collections::BTreeMap;

use crate::values::VarValue;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Condition {
    variable: String,
    op: Op,
    value: VarValue,
}

const OPERATORS: [(&str, Op); 6] = [
    ("==", Op::Eq),
    ("!=", Op::Ne),
    (">=", Op::Ge),
    ("<=", Op::Le),
    (">", Op::Gt),
    ("<", Op::Lt),
];

/// Parses one condition. Unlike rpm-ostree, `releasever==35` (no spaces) reads as meant.
pub(crate) fn parse(text: &str) -> Result<Condition, String> {
    let s = text.trim();
    let name_len = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    if name_len == 0 {
        return Err(format!(
            "invalid condition `{text}`: expected `VARIABLE OP VALUE`, e.g. `basearch == \"x86_64\"`"
        ));
    }
    let (variable, rest) = s.split_at(name_len);
    let rest = rest.trim_start();
    let Some((op_text, op)) = OPERATORS.iter().find(|(t, _)| rest.starts_with(t)) else {
        let got = rest.split_whitespace().next().unwrap_or("nothing");
        return Err(format!(
            "invalid condition `{text}`: expected one of ==, !=, >, >=, <, <= after `{variable}`, found `{got}`"
        ));
    };
    let value_text = rest[op_text.len()..].trim();
    let value = match value_text {
        "true" => VarValue::Bool(true),
        "false" => VarValue::Bool(false),
        v if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
            VarValue::Number(v.parse().map_err(|_| format!("invalid condition `{text}`: `{v}` is too large"))?)
        }
        v if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') => {
            VarValue::String(v[1..v.len() - 1].to_owned())
        }
        v => {
            return Err(format!(
                "invalid condition `{text}`: the value `{v}` must be `true`, `false`, a number, or a string in double quotes"
            ))
        }
    };
    Ok(Condition {
        variable: variable.to_owned(),
        op: *op,
        value,
    })
}

impl Condition {
    pub(crate) fn evaluate(&self, vars: &BTreeMap<String, VarValue>) -> Result<bool, String> {
        let Some(actual) = vars.get(&self.variable) else {
            let defined: Vec<&str> = vars.keys().map(String::as_str).collect();
            return Err(format!(
                "undefined variable `{}`; defined: {}",
                self.variable,
                defined.join(", ")
            ));
        };
        let mismatch = || {
            format!(
                "`{}` is {} ({actual}) but is compared with {} ({})",
                self.variable,
                actual.type_name(),
                self.value.type_name(),
                self.value
            )
        };
        match (actual, &self.value) {
            (VarValue::Number(a), VarValue::Number(b)) => Ok(match self.op {
                Op::Eq => a == b,
                Op::Ne => a != b,
                Op::Lt => a < b,
                Op::Le => a <= b,
                Op::Gt => a > b,
                Op::Ge => a >= b,
            }),
            (VarValue::Bool(_), VarValue::Bool(_)) | (VarValue::String(_), VarValue::String(_)) => {
                match self.op {
                    Op::Eq => Ok(actual == &self.value),
                    Op::Ne => Ok(actual != &self.value),
                    _ => Err(format!(
                        "`{}` is {}: only == and != compare it; <, <=, > and >= need numbers",
                        self.variable,
                        actual.type_name()
                    )),
                }
            }
            _ => Err(mismatch()),
        }
    }
}

/// All conditions hold (an empty list holds). Every one is checked, so a mistake in the
/// second is reported even when the first is false.
pub(crate) fn all_hold(
    conditions: &[String],
    vars: &BTreeMap<String, VarValue>,
) -> Result<bool, String> {
    let mut result = true;
    for c in conditions {
        result &= parse(c)?.evaluate(vars)?;
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, VarValue> {
        BTreeMap::from([
            ("basearch".to_owned(), VarValue::String("x86_64".into())),
            ("releasever".to_owned(), VarValue::Number(41)),
            ("prod".to_owned(), VarValue::Bool(false)),
        ])
    }

    fn eval(c: &str) -> Result<bool, String> {
        parse(c)?.evaluate(&vars())
    }

    #[test]
    fn the_forms_real_treefiles_use() {
        assert_eq!(eval("basearch != \"s390x\""), Ok(true));
        assert_eq!(eval("prod == false"), Ok(true));
        assert_eq!(eval("releasever < 41"), Ok(false));
        assert_eq!(eval("releasever >= 41"), Ok(true));
        assert_eq!(eval("releasever==41"), Ok(true));
        assert_eq!(eval("  releasever   >   40  "), Ok(true));
        assert_eq!(eval("releasever <= 40"), Ok(false));
        assert_eq!(all_hold(&[], &vars()), Ok(true));
        assert_eq!(
            all_hold(
                &["prod == false".into(), "basearch == \"aarch64\"".into()],
                &vars()
            ),
            Ok(false)
        );
    }

    #[test]
    fn mistakes_say_what_is_wrong() {
        assert_eq!(
            eval("stream == \"next\""),
            Err("undefined variable `stream`; defined: basearch, prod, releasever".into())
        );
        assert_eq!(
            eval("releasever == \"41\""),
            Err("`releasever` is a number (41) but is compared with a string (\"41\")".into())
        );
        assert_eq!(
            eval("basearch > \"a\""),
            Err(
                "`basearch` is a string: only == and != compare it; <, <=, > and >= need numbers"
                    .into()
            )
        );
        assert_eq!(
            eval("basearch = \"x\""),
            Err("invalid condition `basearch = \"x\"`: expected one of ==, !=, >, >=, <, <= after `basearch`, found `=`".into())
        );
        assert_eq!(
            eval("prod == garbage"),
            Err("invalid condition `prod == garbage`: the value `garbage` must be `true`, `false`, a number, or a string in double quotes".into())
        );
        assert!(all_hold(&["prod == true".into(), "nope == 1".into()], &vars()).is_err());
    }
}
