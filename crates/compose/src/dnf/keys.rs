//! Package signature keys of a dnf compose: every enabled repo checks signatures unless its
//! `.repo` file says `gpgcheck=0`, and its `gpgkey=` files come from beside the treefile,
//! never from the build host.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use mxos_treefile::{Plan, RepoFile};

/// One `gpgkey=` entry, resolved to a file beside the treefile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoKey {
    pub repo: String,
    /// As written in the `.repo` file.
    pub written: String,
    pub path: PathBuf,
}

/// The `.repo` files as dnf gets them, and what they say about signatures.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SignaturePolicy {
    /// (file name, contents with every enabled repo's `gpgkey=` pointing at its file).
    pub files: Vec<(String, String)>,
    pub keys: Vec<RepoKey>,
    /// (repo file, repo id) of enabled repos that say `gpgcheck=0`.
    pub unchecked: Vec<(String, String)>,
}

fn is_off(value: &str) -> bool {
    matches!(value.trim(), "0" | "false" | "False" | "no" | "No")
}

/// Rewrites the `gpgkey=` lines of the `enabled` repos and checks that each key exists.
/// `expand` fills in dnf's variables.
pub fn policy(
    plan: &Plan,
    enabled: &[String],
    expand: &dyn Fn(&str) -> String,
) -> Result<SignaturePolicy> {
    let mut out = SignaturePolicy::default();
    for file in &plan.repo_files {
        let text = rewrite(file, enabled, expand, &mut out)?;
        out.files.push((file.name.clone(), text));
    }
    for id in enabled {
        let checked = !out.unchecked.iter().any(|(_, u)| u == id);
        if checked && !out.keys.iter().any(|k| &k.repo == id) {
            let file = plan
                .repo_files
                .iter()
                .find(|f| section_lines(&f.contents).any(|(_, s, _)| s == Some(id.as_str())))
                .map_or("?", |f| f.name.as_str());
            bail!(
                "{file}: repo `{id}` checks package signatures but names no `gpgkey=`; put the repo's public key beside the treefile and add `gpgkey=KEYFILE` (relative to the treefile's directory) to `[{id}]`, or, for a repo that is not signed, `gpgcheck=0`"
            );
        }
    }
    Ok(out)
}

/// Says, on every compose, which enabled repos install packages unchecked.
pub fn warn_unchecked(plan: &Plan) {
    let Ok(enabled) = super::repos::enabled_repos(plan) else {
        return;
    };
    let unchecked = match policy(plan, &enabled, &|t| super::repos::expand(plan, t)) {
        Ok(p) => p.unchecked,
        Err(_) => return,
    };
    for (file, id) in unchecked {
        tracing::warn!("{file}: repo `{id}` says gpgcheck=0: its packages are installed without checking their signatures");
    }
}

/// Each line of a `.repo` file with its 1-based number and the section it is in.
fn section_lines(text: &str) -> impl Iterator<Item = (usize, Option<&str>, &str)> {
    let mut section: Option<&str> = None;
    text.lines().enumerate().map(move |(i, line)| {
        let t = line.trim();
        if t.starts_with('[') && t.ends_with(']') {
            section = Some(t[1..t.len() - 1].trim());
        }
        (i + 1, section, line)
    })
}

fn rewrite(
    file: &RepoFile,
    enabled: &[String],
    expand: &dyn Fn(&str) -> String,
    out: &mut SignaturePolicy,
) -> Result<String> {
    let mut text = String::new();
    // The `gpgkey=` being read: (line number, section, value so far); dnf allows
    // continuation lines and lists separated by spaces or commas.
    let mut pending: Option<(usize, String, String)> = None;
    let lines: Vec<(usize, Option<&str>, &str)> = section_lines(&file.contents).collect();
    let mut i = 0;
    while i < lines.len() {
        let (number, section, line) = lines[i];
        i += 1;
        let enabled_here = section.is_some_and(|s| enabled.iter().any(|e| e == s));
        let key_value = line
            .split_once('=')
            .filter(|_| !line.starts_with([' ', '\t', '#', ';', '[']))
            .map(|(k, v)| (k.trim(), v.trim()));
        match key_value {
            Some(("gpgcheck", v)) if enabled_here && is_off(v) => {
                out.unchecked
                    .push((file.name.clone(), section.unwrap_or_default().to_owned()));
            }
            Some(("gpgkey", v)) if enabled_here => {
                let mut value = v.to_owned();
                while i < lines.len() && lines[i].2.starts_with([' ', '\t']) {
                    value.push(' ');
                    value.push_str(lines[i].2.trim());
                    i += 1;
                }
                pending = Some((number, section.unwrap_or_default().to_owned(), value));
            }
            _ => {}
        }
        if let Some((number, repo, value)) = pending.take() {
            let mut urls = Vec::new();
            for written in value.split([' ', ',']).filter(|w| !w.is_empty()) {
                let path = resolve(file, number, written, &expand(written))?;
                urls.push(format!("file://{}", path.display()));
                out.keys.push(RepoKey {
                    repo: repo.clone(),
                    written: written.to_owned(),
                    path,
                });
            }
            let _ = writeln!(text, "gpgkey={}", urls.join(" "));
            continue;
        }
        text.push_str(line);
        text.push('\n');
    }
    Ok(text)
}

/// Where the key a `gpgkey=` entry names lives: a relative path or a `file://` URL inside
/// the treefile's directory as written; a path elsewhere (CentOS's and Fedora's repo files
/// name `/etc/pki/rpm-gpg/...`) by its file name beside the treefile.
fn resolve(file: &RepoFile, line: usize, written: &str, expanded: &str) -> Result<PathBuf> {
    let dir = &file.dir;
    let at = format!("{} line {line}", file.dir.join(&file.name).display());
    if expanded.contains("://") && !expanded.starts_with("file://") {
        bail!("{at}: gpgkey {written} is fetched from the network; MxOS reads package keys only from beside the treefile: download the key, check its fingerprint, and commit it as {}",
            dir.join(expanded.rsplit('/').next().unwrap_or("KEYFILE")).display());
    }
    let path = expanded.strip_prefix("file://").unwrap_or(expanded);
    let inside = if Path::new(path).is_absolute() {
        let canonical_dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone());
        let rel = Path::new(path)
            .strip_prefix(&canonical_dir)
            .or_else(|_| Path::new(path).strip_prefix(dir));
        match rel {
            Ok(rel) => dir.join(rel),
            Err(_) => dir.join(Path::new(path).file_name().unwrap_or_default()),
        }
    } else {
        dir.join(path)
    };
    if !inside.is_file() {
        let beside = if Path::new(path).is_absolute() {
            format!(
                "; {written} is a path on the build host, which MxOS never reads: put the key beside the treefile as {}",
                inside.display()
            )
        } else {
            format!("; put the key at {}", inside.display())
        };
        bail!("{at}: gpgkey {written}: no such key file beside the treefile{beside}");
    }
    Ok(inside)
}

/// The fingerprints of the OpenPGP keys (and subkeys) in a key file, as gpg lists them;
/// `home` is an empty directory for gpg.
pub fn fingerprints(path: &Path, home: &Path) -> Result<Vec<String>> {
    std::fs::create_dir_all(home).with_context(|| format!("creating {}", home.display()))?;
    let out = mxos_process::run(
        std::process::Command::new("gpg")
            .env("GNUPGHOME", home)
            .args(["--batch", "--with-colons", "--show-keys"])
            .arg(path),
    )
    .with_context(|| format!("reading the keys in {}", path.display()))?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("fpr:"))
        .filter_map(|l| l.split(':').nth(9).map(str::to_owned))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_in(dir: &Path, repo_file: &str) -> Plan {
        std::fs::write(dir.join("r.repo"), repo_file).unwrap();
        std::fs::write(
            dir.join("t.yaml"),
            "ref: x\nreleasever: 10\npackages: [a]\n",
        )
        .unwrap();
        mxos_treefile::load(&dir.join("t.yaml"), "x86_64").unwrap()
    }

    fn expand(s: &str) -> String {
        s.replace("$releasever", "10")
    }

    #[test]
    fn keys_come_from_beside_the_treefile() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        std::fs::write(d.join("RPM-GPG-KEY-centosofficial"), "k").unwrap();
        std::fs::write(d.join("KEY-10"), "k").unwrap();
        std::fs::create_dir_all(d.join("keys")).unwrap();
        std::fs::write(d.join("keys/inside.asc"), "k").unwrap();
        let inside = plan_in(
            d,
            &format!(
                "[a]\nbaseurl=file:///a\ngpgkey=file://{}\n",
                d.canonicalize().unwrap().join("keys/inside.asc").display()
            ),
        );
        let p = policy(&inside, &["a".into()], &expand).unwrap();
        assert_eq!(
            p.keys[0].path,
            inside.repo_files[0].dir.join("keys/inside.asc")
        );
        let plan = plan_in(
            d,
            "[baseos]\nbaseurl=file:///b\ngpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-centosofficial\n\
             [local]\nbaseurl=file:///l\ngpgkey=KEY-$releasever,\n  RPM-GPG-KEY-centosofficial\nenabled=1\n\
             [plain]\nbaseurl=file:///p\ngpgcheck=0\n[off]\nbaseurl=file:///o\ngpgkey=file:///nowhere\n",
        );
        let enabled: Vec<String> = ["baseos", "local", "plain"].map(String::from).into();
        let p = policy(&plan, &enabled, &expand).unwrap();
        let d = plan.repo_files[0].dir.clone();
        let key = |n: &str| d.join(n).display().to_string();
        assert_eq!(
            p.files,
            [(
                "r.repo".to_owned(),
                format!(
                    "[baseos]\nbaseurl=file:///b\ngpgcheck=1\ngpgkey=file://{}\n\
                     [local]\nbaseurl=file:///l\ngpgkey=file://{} file://{}\nenabled=1\n\
                     [plain]\nbaseurl=file:///p\ngpgcheck=0\n[off]\nbaseurl=file:///o\ngpgkey=file:///nowhere\n",
                    key("RPM-GPG-KEY-centosofficial"),
                    key("KEY-10"),
                    key("RPM-GPG-KEY-centosofficial")
                )
            )]
        );
        assert_eq!(
            p.keys
                .iter()
                .map(|k| (k.repo.as_str(), k.written.as_str()))
                .collect::<Vec<_>>(),
            [
                (
                    "baseos",
                    "file:///etc/pki/rpm-gpg/RPM-GPG-KEY-centosofficial"
                ),
                ("local", "KEY-$releasever"),
                ("local", "RPM-GPG-KEY-centosofficial")
            ]
        );
        assert_eq!(p.unchecked, [("r.repo".to_owned(), "plain".to_owned())]);
    }

    #[test]
    fn centos_stream_10_is_checked_with_the_centos_official_key_beside_it() {
        let treefiles = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../treefiles");
        let plan = mxos_treefile::load(&treefiles.join("mxos-base.yaml"), "x86_64").unwrap();
        let enabled = crate::dnf::repos::enabled_repos(&plan).unwrap();
        let p = policy(&plan, &enabled, &|t| crate::dnf::repos::expand(&plan, t)).unwrap();
        assert!(p.unchecked.is_empty(), "{:?}", p.unchecked);
        let key = treefiles.join("RPM-GPG-KEY-centosofficial");
        assert_eq!(
            p.keys
                .iter()
                .map(|k| (k.repo.as_str(), k.path.canonicalize().unwrap()))
                .collect::<Vec<_>>(),
            [
                ("baseos", key.canonicalize().unwrap()),
                ("appstream", key.canonicalize().unwrap())
            ]
        );
        let home = tempfile::tempdir().unwrap();
        assert_eq!(
            fingerprints(&key, home.path()).unwrap(),
            ["99DB70FAE1D7CE227FB6488205B555B38483C65D"]
        );
    }

    #[test]
    fn a_missing_key_names_the_file_line_and_where_to_put_it() {
        let t = tempfile::tempdir().unwrap();
        let plan = plan_in(
            t.path(),
            "# CentOS\n[baseos]\nbaseurl=file:///b\ngpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-centosofficial\n",
        );
        let d = plan.repo_files[0].dir.clone();
        assert_eq!(
            policy(&plan, &["baseos".into()], &expand).unwrap_err().to_string(),
            format!(
                "{}: gpgkey file:///etc/pki/rpm-gpg/RPM-GPG-KEY-centosofficial: no such key file beside the treefile; file:///etc/pki/rpm-gpg/RPM-GPG-KEY-centosofficial is a path on the build host, which MxOS never reads: put the key beside the treefile as {}",
                format_args!("{} line 4", d.join("r.repo").display()),
                d.join("RPM-GPG-KEY-centosofficial").display()
            )
        );
        let plan = plan_in(t.path(), "[a]\nbaseurl=file:///a\ngpgkey=keys/a.asc\n");
        assert_eq!(
            policy(&plan, &["a".into()], &expand).unwrap_err().to_string(),
            format!(
                "{} line 3: gpgkey keys/a.asc: no such key file beside the treefile; put the key at {}",
                d.join("r.repo").display(),
                d.join("keys/a.asc").display()
            )
        );
        let plan = plan_in(t.path(), "[a]\nbaseurl=file:///a\n");
        assert_eq!(
            policy(&plan, &["a".into()], &expand).unwrap_err().to_string(),
            "r.repo: repo `a` checks package signatures but names no `gpgkey=`; put the repo's public key beside the treefile and add `gpgkey=KEYFILE` (relative to the treefile's directory) to `[a]`, or, for a repo that is not signed, `gpgcheck=0`"
        );
        let plan = plan_in(t.path(), "[a]\nbaseurl=file:///a\ngpgkey=https://x/KEY\n");
        assert_eq!(
            policy(&plan, &["a".into()], &expand).unwrap_err().to_string(),
            format!("{} line 3: gpgkey https://x/KEY is fetched from the network; MxOS reads package keys only from beside the treefile: download the key, check its fingerprint, and commit it as {}",
                d.join("r.repo").display(), d.join("KEY").display())
        );
    }
}
