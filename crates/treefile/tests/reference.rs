//! docs/treefile-reference.md describes exactly the keys the schema has: a key added to the
//! table in schema.rs without its row in the reference fails here, and so does a row for a
//! key that does not exist.

use std::collections::BTreeSet;

fn reference() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/treefile-reference.md"
    );
    std::fs::read_to_string(path).unwrap()
}

/// The backticked first cell of each table row in `text`.
fn row_keys(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`').map(|(k, _)| k.to_owned()))
        .collect()
}

fn section<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("no `{start}` section"));
    let rest = &text[from..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

#[test]
fn every_key_of_the_schema_has_its_row_and_no_row_is_invented() {
    let text = reference();
    let keys_section = section(&text, "## Keys", "### Keys a compose refuses");
    let refused_section = section(&text, "### Keys a compose refuses", "## Old spellings");
    let documented = row_keys(keys_section);
    let known: BTreeSet<String> = mxos_treefile::known_keys()
        .iter()
        .map(|k| k.to_string())
        .collect();
    let mut missing = Vec::new();
    for key in &known {
        let refused = refused_section.contains(&format!("`{key}`"));
        if !documented.contains(key) && !refused {
            missing.push(key.as_str());
        }
    }
    assert!(
        missing.is_empty(),
        "keys of the schema missing from docs/treefile-reference.md: {missing:?}"
    );
    let invented: Vec<&String> = documented.difference(&known).collect();
    assert!(
        invented.is_empty(),
        "docs/treefile-reference.md describes keys the schema does not have: {invented:?}"
    );
    for row in keys_section.lines().filter(|l| l.starts_with("| `")) {
        // key, type, default, merge, meaning, example
        assert_eq!(
            row.matches(" | ").count(),
            5,
            "a row needs all six columns: {row}"
        );
    }
}

#[test]
fn every_old_spelling_is_listed() {
    let text = reference();
    let rows = section(&text, "## Old spellings", "## Files a treefile names");
    for (legacy, key) in mxos_treefile::legacy_keys() {
        assert!(
            rows.contains(&format!("| `{legacy}` | `{key}` |")),
            "`{legacy}` is missing from the old spellings table"
        );
    }
}
