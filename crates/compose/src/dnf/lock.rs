//! Lockfile pins as dnf options, as rpm-ostree applies them: a locked name can only resolve
//! to its pinned version (every other candidate is excluded), `lockfile-repos` supply only
//! locked packages, and in strict mode nothing unlocked is installable at all. What dnf
//! then downloaded is checked against the pins and their digests.

use anyhow::{bail, Result};
use mxos_treefile::{LockedPackage, Lockfile};

/// One available package, as `dnf repoquery` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub name: String,
    /// `[E:]V-R`, epoch only when not 0.
    pub evr: String,
    pub arch: String,
}

/// The `repoquery --qf` format [`parse_candidates`] reads.
pub const CANDIDATE_QUERY: &str = "%{name}\t%{epoch}:%{version}-%{release}\t%{arch}";

pub fn parse_candidates(out: &str) -> Vec<Candidate> {
    out.lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            let (name, evr, arch) = (f.next()?, f.next()?, f.next()?);
            Some(Candidate {
                name: name.trim().to_owned(),
                evr: evr.strip_prefix("0:").unwrap_or(evr).to_owned(),
                arch: arch.trim().to_owned(),
            })
        })
        .collect()
}

fn matches(pin: &LockedPackage, c: &Candidate) -> bool {
    pin.evr == c.evr && pin.arch.as_deref().is_none_or(|a| a == c.arch)
}

/// `--exclude` specs that leave each locked name only its pinned version. A pin that no
/// repo offers is an error naming it.
pub fn excludes(lock: &Lockfile, candidates: &[Candidate]) -> Result<Vec<String>> {
    let mut missing = Vec::new();
    let mut out = Vec::new();
    for (name, pin) in &lock.packages {
        let of_name: Vec<&Candidate> = candidates.iter().filter(|c| &c.name == name).collect();
        if !of_name.iter().any(|c| matches(pin, c)) {
            let offered: Vec<String> = of_name
                .iter()
                .map(|c| format!("{}.{}", c.evr, c.arch))
                .collect();
            missing.push(format!(
                "{} (the repos offer {})",
                pin.spec(name),
                if offered.is_empty() {
                    "no version of it".to_owned()
                } else {
                    offered.join(", ")
                }
            ));
            continue;
        }
        for c in of_name.into_iter().filter(|c| !matches(pin, c)) {
            out.push(format!("{}-{}.{}", c.name, c.evr, c.arch));
        }
    }
    if !missing.is_empty() {
        bail!(
            "the lockfile pins packages no enabled repo has: {}; update the lockfile (mxos-compose tree --write-lockfile-to) or add the repo that has them",
            missing.join("; ")
        );
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// What each pin allows, for `includepkgs` (lockfile repos, strict mode).
pub fn pinned_specs(lock: &Lockfile) -> Vec<String> {
    lock.packages.iter().map(|(n, p)| p.spec(n)).collect()
}

/// A downloaded package, as its header says.
#[derive(Debug, Clone)]
pub struct Downloaded<'a> {
    pub name: &'a str,
    pub evr: &'a str,
    pub arch: &'a str,
    /// `sha256:HEX` of the file.
    pub digest: &'a str,
}

/// Every downloaded package with a locked name has the pinned version and, where the
/// lockfile gives one, the pinned digest.
pub fn check_downloads(lock: &Lockfile, downloaded: &[Downloaded]) -> Result<()> {
    let mut problems = Vec::new();
    for d in downloaded {
        let Some(pin) = lock.packages.get(d.name) else {
            continue;
        };
        let candidate = Candidate {
            name: d.name.to_owned(),
            evr: d.evr.to_owned(),
            arch: d.arch.to_owned(),
        };
        if !matches(pin, &candidate) {
            problems.push(format!(
                "{} resolved to {}-{}.{}, not the pinned {}",
                d.name,
                d.name,
                d.evr,
                d.arch,
                pin.spec(d.name)
            ));
        } else if let Some(want) = &pin.digest {
            if want != d.digest {
                problems.push(format!(
                    "{}-{}.{} has digest {}, the lockfile pins {want}",
                    d.name, d.evr, d.arch, d.digest
                ));
            }
        }
    }
    if !problems.is_empty() {
        bail!(
            "packages do not match the lockfile: {}",
            problems.join("; ")
        );
    }
    Ok(())
}

/// One line for the compose log.
pub fn summary(lock: &Lockfile, excluded: &[String]) -> String {
    format!(
        "lockfile {}: {} packages pinned, {} other versions excluded",
        lock.files.join(" + "),
        lock.packages.len(),
        excluded.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(pins: &[(&str, &str, Option<&str>, Option<&str>)]) -> Lockfile {
        Lockfile {
            files: vec!["t-lock.x86_64.json".into()],
            packages: pins
                .iter()
                .map(|(n, evr, arch, digest)| {
                    (
                        n.to_string(),
                        LockedPackage {
                            evr: evr.to_string(),
                            arch: arch.map(str::to_owned),
                            digest: digest.map(str::to_owned),
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn only_the_pinned_version_stays_installable() {
        let c = parse_candidates(
            "hello\t0:1.0-1\tnoarch\nhello\t0:2.0-1\tnoarch\nshell\t1:3-1\tx86_64\nother\t0:1-1\tnoarch\n",
        );
        let l = lock(&[
            ("hello", "1.0-1", Some("noarch"), None),
            ("shell", "1:3-1", None, None),
        ]);
        assert_eq!(excludes(&l, &c).unwrap(), ["hello-2.0-1.noarch"]);
        let l = lock(&[
            ("hello", "3.0-1", Some("noarch"), None),
            ("gone", "1-1", None, None),
        ]);
        assert_eq!(
            excludes(&l, &c).unwrap_err().to_string(),
            "the lockfile pins packages no enabled repo has: gone-1-1 (the repos offer no version of it); hello-3.0-1.noarch (the repos offer 1.0-1.noarch, 2.0-1.noarch); update the lockfile (mxos-compose tree --write-lockfile-to) or add the repo that has them"
        );
    }

    #[test]
    fn downloads_are_checked_against_pins_and_digests() {
        let l = lock(&[("hello", "1.0-1", Some("noarch"), Some("sha256:aa"))]);
        let ok = Downloaded {
            name: "hello",
            evr: "1.0-1",
            arch: "noarch",
            digest: "sha256:aa",
        };
        assert!(check_downloads(&l, std::slice::from_ref(&ok)).is_ok());
        let bad = Downloaded {
            digest: "sha256:bb",
            ..ok
        };
        assert_eq!(
            check_downloads(&l, &[bad]).unwrap_err().to_string(),
            "packages do not match the lockfile: hello-1.0-1.noarch has digest sha256:bb, the lockfile pins sha256:aa"
        );
    }
}
