//! Where each top-level key of a treefile's text is written (line, column, byte offset), for
//! messages serde cannot place: deprecated spellings, values set in an included file,
//! duplicate keys. Reads block YAML and JSON (and flow YAML written like JSON).

/// One top-level key as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyAt {
    pub key: String,
    /// 1-based.
    pub line: u32,
    /// 1-based, of the key's first character (its quote, if quoted).
    pub column: u32,
    /// Byte range of the key's name, without quotes.
    pub start: usize,
    pub end: usize,
    /// The value's text up to the end of its line, without a trailing comment or comma.
    pub value: String,
}

pub(crate) fn top_level_keys(text: &str) -> Vec<KeyAt> {
    let first = text
        .lines()
        .map(str::trim_start)
        .find(|l| !l.is_empty() && !l.starts_with('#') && *l != "---");
    match first {
        Some(l) if l.starts_with('{') => flow_keys(text),
        Some(_) => block_keys(text),
        None => Vec::new(),
    }
}

fn block_keys(text: &str) -> Vec<KeyAt> {
    let mut out = Vec::new();
    let mut top_indent = None;
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        let trimmed = content.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed == "---" {
            continue;
        }
        let indent = content.len() - trimmed.len();
        // The first key sets the top level's indentation (some real treefiles indent it).
        let top = *top_indent.get_or_insert(indent);
        if indent != top || trimmed.starts_with('-') {
            continue;
        }
        let Some((key, key_start, key_len, rest)) = split_key(trimmed) else {
            continue;
        };
        let key_offset = start + indent + key_start;
        out.push(KeyAt {
            key: key.to_owned(),
            line: (i + 1) as u32,
            column: (indent + 1) as u32,
            start: key_offset,
            end: key_offset + key_len,
            value: value_text(rest),
        });
    }
    out
}

/// `key: rest` or `"key": rest` → (key, start of the name, its length, rest).
fn split_key(s: &str) -> Option<(&str, usize, usize, &str)> {
    if let Some(q) = s.chars().next().filter(|c| *c == '"' || *c == '\'') {
        let close = s[1..].find(q)? + 1;
        let after = s[close + 1..].trim_start();
        let rest = after.strip_prefix(':')?;
        return Some((&s[1..close], 1, close - 1, rest));
    }
    let colon = s.find(": ").or_else(|| s.strip_suffix(':').map(str::len))?;
    let key = s[..colon].trim_end();
    Some((key, 0, key.len(), &s[(colon + 1).min(s.len())..]))
}

fn value_text(rest: &str) -> String {
    let rest = rest.trim();
    let rest = match rest.find(" #") {
        Some(i) => &rest[..i],
        None => rest,
    };
    rest.trim_end_matches(',')
        .trim()
        .trim_matches(|c| c == '"' || c == '\'')
        .to_owned()
}

fn flow_keys(text: &str) -> Vec<KeyAt> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let (mut depth, mut line, mut line_start) = (0usize, 1u32, 0usize);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                line += 1;
                line_start = i + 1;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            q @ (b'"' | b'\'') => {
                let open = i;
                i += 1;
                while i < bytes.len() && bytes[i] != q {
                    if bytes[i] == b'\\' {
                        i += 1;
                    } else if bytes[i] == b'\n' {
                        line += 1;
                        line_start = i + 1;
                    }
                    i += 1;
                }
                let close = i.min(bytes.len());
                let mut j = close + 1;
                while j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'\t') {
                    j += 1;
                }
                if depth == 1 && j < bytes.len() && bytes[j] == b':' {
                    let rest_end = text[j + 1..].find('\n').map_or(text.len(), |n| j + 1 + n);
                    out.push(KeyAt {
                        key: text[open + 1..close].to_owned(),
                        line,
                        column: (open - line_start + 1) as u32,
                        start: open + 1,
                        end: close,
                        value: value_text(&text[j + 1..rest_end]),
                    });
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str) -> Vec<(String, u32, u32, String)> {
        top_level_keys(text)
            .into_iter()
            .map(|k| (k.key, k.line, k.column, k.value))
            .collect()
    }

    #[test]
    fn block_yaml_keys_and_values() {
        let text = "# c\nref: a/b  # note\npackages:\n  - x: y\n  - z\npostprocess:\n  - |\n    ref: not-a-key\n\"boot_location\": both\n";
        assert_eq!(
            keys(text),
            vec![
                ("ref".into(), 2, 1, "a/b".into()),
                ("packages".into(), 3, 1, "".into()),
                ("postprocess".into(), 6, 1, "".into()),
                ("boot_location".into(), 9, 1, "both".into()),
            ]
        );
        let k = &top_level_keys(text)[3];
        assert_eq!(&text[k.start..k.end], "boot_location");
    }

    #[test]
    fn an_indented_top_level_is_still_the_top_level() {
        assert_eq!(
            keys(" packages:\n  - a\n repos: [x]\n"),
            vec![
                ("packages".into(), 1, 2, "".into()),
                ("repos".into(), 3, 2, "[x]".into())
            ]
        );
    }

    #[test]
    fn json_keys_at_depth_one_only() {
        let text = "{\n  \"ref\": \"r\",\n  \"add-commit-metadata\": {\"ref\": 1},\n\t\"gpg_key\": \"K\"\n}";
        assert_eq!(
            keys(text),
            vec![
                ("ref".into(), 2, 3, "r".into()),
                ("add-commit-metadata".into(), 3, 3, "{\"ref\": 1}".into()),
                ("gpg_key".into(), 4, 2, "K".into()),
            ]
        );
    }
}
