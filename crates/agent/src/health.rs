//! Health checks after an update (greenboot's model): executables in
//! `/usr/lib/mxos/health.d/` and `/etc/mxos/health.d/` (same name in /etc replaces the
//! shipped one) run in name order; any failure means the new deployment is unhealthy.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::t;

pub const USR_DIR: &str = "usr/lib/mxos/health.d";
pub const ETC_DIR: &str = "etc/mxos/health.d";

/// One failed check, as a person reads it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Failure {
    pub check: String,
    pub detail: String,
}

/// The checks to run under `root`, by name; /etc masks /usr/lib.
pub fn checks(root: &Path) -> Result<Vec<PathBuf>> {
    let mut by_name: BTreeMap<String, PathBuf> = BTreeMap::new();
    for dir in [USR_DIR, ETC_DIR] {
        let d = root.join(dir);
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let e = e.with_context(|| t!("listing-dir", path = d.display()))?;
            by_name.insert(e.file_name().to_string_lossy().into_owned(), e.path());
        }
    }
    Ok(by_name.into_values().collect())
}

/// Runs every check, each bounded by `timeout`; returns the failures (empty = healthy).
pub fn run(checks: &[PathBuf], timeout: Duration) -> Result<Vec<Failure>> {
    let mut failures = Vec::new();
    for check in checks {
        let name = check
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let mut child = match Command::new(check)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => {
                failures.push(Failure {
                    check: name,
                    detail: t!("health-cannot-run", error = e).to_string(),
                });
                continue;
            }
        };
        let start = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait()? {
                break Some(s);
            }
            if start.elapsed() > timeout {
                child.kill().ok();
                child.wait().ok();
                break None;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let mut stderr = String::new();
        if let Some(mut e) = child.stderr.take() {
            use std::io::Read;
            e.read_to_string(&mut stderr).ok();
        }
        let last = stderr.lines().last().unwrap_or("").trim().to_owned();
        match status {
            Some(s) if s.success() => {}
            Some(s) => failures.push(Failure {
                check: name,
                detail: {
                    use std::os::unix::process::ExitStatusExt;
                    let how = match (s.code(), s.signal()) {
                        (Some(code), _) => t!("health-exit-status", code = code),
                        (None, Some(signal)) => t!("health-killed", signal = signal),
                        (None, None) => t!("health-exit-status", code = s),
                    };
                    if last.is_empty() {
                        how.to_string()
                    } else {
                        format!("{how}: {last}")
                    }
                },
            }),
            None => failures.push(Failure {
                check: name,
                detail: t!("health-timeout", seconds = timeout.as_secs()).to_string(),
            }),
        }
    }
    Ok(failures)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn script(dir: &Path, name: &str, body: &str) {
        std::fs::create_dir_all(dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn etc_masks_usr_and_failures_are_named() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        script(&r.join(USR_DIR), "10-red", "echo 'sin red' >&2; exit 1");
        script(&r.join(USR_DIR), "20-disco", "exit 0");
        script(
            &r.join(ETC_DIR),
            "20-disco",
            "echo 'disco lleno' >&2; exit 2",
        );
        script(&r.join(ETC_DIR), "30-lento", "sleep 5");
        let found = checks(r).unwrap();
        let names: Vec<_> = found
            .iter()
            .map(|p| p.strip_prefix(r).unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            vec![
                "usr/lib/mxos/health.d/10-red",
                "etc/mxos/health.d/20-disco",
                "etc/mxos/health.d/30-lento"
            ]
        );
        let failures = run(&found, Duration::from_secs(1)).unwrap();
        assert_eq!(
            failures,
            vec![
                Failure {
                    check: "10-red".into(),
                    detail: "exit status: 1: sin red".into()
                },
                Failure {
                    check: "20-disco".into(),
                    detail: "exit status: 2: disco lleno".into()
                },
                Failure {
                    check: "30-lento".into(),
                    detail: "did not finish within 1 s".into()
                },
            ]
        );
        assert!(run(&[], Duration::from_secs(1)).unwrap().is_empty());
    }
}
