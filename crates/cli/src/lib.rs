//! The two binaries' argument parsing and printing; all work happens in the library crates.

pub mod compose;
pub mod container;
pub mod disk;
pub mod fleet;
pub mod install;
pub mod log;
pub mod mirror;
pub mod output;
pub mod progress;
pub mod reports;
pub mod update;
pub mod update_reports;

/// Prints an error with its whole chain, one cause per line, the way people read it.
pub fn report(err: &anyhow::Error) {
    eprintln!("error: {err}");
    for cause in err.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}

/// Wall-clock now, unix seconds: only the binaries read the clock; libraries take it.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// `SOURCE_DATE_EPOCH`, when set, as reproducible builds define it.
pub(crate) fn source_date_epoch() -> anyhow::Result<Option<u64>> {
    use anyhow::Context;
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if !v.is_empty() => Ok(Some(v.trim().parse().with_context(|| {
            format!("SOURCE_DATE_EPOCH={v:?} is not a number of seconds since 1970")
        })?)),
        _ => Ok(None),
    }
}
