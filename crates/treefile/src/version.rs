//! `automatic-version-prefix` expansion, with a small UTC civil-date conversion instead of a date crate.

use crate::error::TreefileError;

/// Expand `prefix` at `epoch_secs` and append the next counter after `previous`, separated
/// by `suffix` (`automatic-version-suffix`, default `.`).
pub fn automatic_version(
    prefix: &str,
    previous: Option<&str>,
    epoch_secs: i64,
    suffix: Option<&str>,
) -> Result<String, TreefileError> {
    let sep = suffix.unwrap_or(".");
    let fail = |message: String| TreefileError::VersionPrefix {
        prefix: prefix.to_owned(),
        message,
    };
    let expanded = expand(prefix, epoch_secs).map_err(fail)?;
    if expanded.is_empty() {
        return Err(fail("expands to nothing".to_owned()));
    }
    let counter = match previous.and_then(|p| p.strip_prefix(expanded.as_str())?.strip_prefix(sep))
    {
        // A previous version from another prefix, or without a numeric counter, restarts at 0.
        Some(rest) => match rest.split(sep).next().and_then(|n| n.parse::<u64>().ok()) {
            Some(n) => n
                .checked_add(1)
                .ok_or_else(|| fail(format!("counter after `{expanded}{sep}` overflows")))?,
            None => 0,
        },
        None => 0,
    };
    Ok(format!("{expanded}{sep}{counter}"))
}

fn expand(prefix: &str, epoch_secs: i64) -> Result<String, String> {
    const OPEN: &str = "<date:";
    let mut out = String::new();
    let mut rest = prefix;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        let after = &rest[start + OPEN.len()..];
        let end = after
            .find('>')
            .ok_or_else(|| "unterminated `<date:`; expected `<date:FORMAT>`".to_owned())?;
        out.push_str(&format_date(&after[..end], epoch_secs)?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn format_date(format: &str, epoch_secs: i64) -> Result<String, String> {
    let days = epoch_secs.div_euclid(86_400);
    let secs = epoch_secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Y') => out.push_str(&format!("{year:04}")),
            Some('m') => out.push_str(&format!("{month:02}")),
            Some('d') => out.push_str(&format!("{day:02}")),
            Some('H') => out.push_str(&format!("{:02}", secs / 3600)),
            Some('M') => out.push_str(&format!("{:02}", secs / 60 % 60)),
            Some('S') => out.push_str(&format!("{:02}", secs % 60)),
            Some('%') => out.push('%'),
            other => {
                let got = other.map_or_else(|| "%".to_owned(), |o| format!("%{o}"));
                return Err(format!(
                    "unsupported `{got}` in `<date:{format}>`; accepted: %Y %m %d %H %M %S %%"
                ));
            }
        }
    }
    Ok(out)
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`, exact for all i64 days we can meet).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(19_783), (2024, 3, 1));
    }
}
