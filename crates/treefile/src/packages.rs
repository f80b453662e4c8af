//! Package entries: one entry may name several packages separated by spaces, and a part in
//! single quotes stays one request (`'podman >= 4.1'`), as in rpm-ostree.

/// Splits one entry; an unbalanced quote is an error naming the entry.
pub(crate) fn split_entry(entry: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in entry.chars() {
        match c {
            '\'' => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
                quoted = !quoted;
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if quoted {
        return Err(format!("missing terminating quote in `{entry}`"));
    }
    if !current.is_empty() {
        out.push(current);
    }
    Ok(out)
}

pub(crate) fn split_all(entries: Vec<String>) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for e in entries {
        out.extend(split_entry(&e)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_rpm_ostree() {
        assert_eq!(
            split_entry("kernel  dracut\tostree").unwrap(),
            ["kernel", "dracut", "ostree"]
        );
        assert_eq!(
            split_entry("'foobar >= 0.5' quuz 'corge < 2.0'").unwrap(),
            ["foobar >= 0.5", "quuz", "corge < 2.0"]
        );
        assert_eq!(split_entry("a'b c'").unwrap(), ["a", "b c"]);
        assert_eq!(
            split_entry("'open").unwrap_err(),
            "missing terminating quote in `'open`"
        );
    }
}
