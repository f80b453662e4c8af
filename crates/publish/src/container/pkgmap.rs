//! Which package owns each content object of a commit, for chunking images by package:
//! from the rpmdb (`/usr/lib/sysimage/rpm`) or the dpkg database, with everything no package
//! owns (the databases themselves, overlays, postprocess output) in an `unpackaged` component.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};
use mxos_repo::{Component, ContentMap, Repo, TreeFile, CHANGES_EVERY_BUILD};

pub const UNPACKAGED: &str = "unpackaged";
const RPMDB: &str = "/usr/lib/sysimage/rpm";
const DPKG_DIRS: &[&str] = &["/usr/lib/sysimage/dpkg", "/var/lib/dpkg"];

/// A package and the paths it installs (as the package database lists them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub id: String,
    pub name: String,
    pub srcid: String,
    pub license: String,
    pub files: Vec<String>,
}

/// What the commit's package database says, and the content map built from it.
pub struct PackageMap {
    /// `rpm`, `dpkg` or `none`.
    pub database: &'static str,
    pub packages: Vec<Package>,
    pub content: ContentMap,
}

/// Reads the package database out of commit `rev` and maps every content object.
pub fn package_map(repo: &Repo, rev: &str, scratch: &Path) -> Result<PackageMap> {
    let files = repo.tree_files(rev)?;
    let has = |dir: &str| files.iter().any(|f| f.path.starts_with(&format!("{dir}/")));
    let (database, packages) = if has(RPMDB) {
        ("rpm", rpm_packages(repo, rev, scratch)?)
    } else if let Some(dir) = DPKG_DIRS.iter().find(|d| has(&format!("{d}/info"))) {
        ("dpkg", dpkg_packages(repo, rev, dir, scratch)?)
    } else {
        ("none", Vec::new())
    };
    let content = assign(&files, &packages);
    Ok(PackageMap {
        database,
        packages,
        content,
    })
}

fn rpm_packages(repo: &Repo, rev: &str, scratch: &Path) -> Result<Vec<Package>> {
    let root = scratch.join("rpmroot");
    let db = root.join(RPMDB.trim_start_matches('/'));
    std::fs::create_dir_all(db.parent().unwrap())
        .with_context(|| format!("creating {}", db.display()))?;
    repo.checkout_subpath(rev, RPMDB, &db)?;
    let query = |qf: &str| -> Result<String> {
        let out = mxos_process::run(
            Command::new("rpm")
                .arg("--root")
                .arg(&root)
                .args(["--dbpath", RPMDB, "-qa", "--qf", qf]),
        )
        .with_context(|| format!("reading the rpmdb of {rev} ({RPMDB})"))?;
        String::from_utf8(out.stdout).context("rpm printed non-UTF-8")
    };
    // `%{=TAG}` repeats a scalar on every line of the file array; without `=` rpm refuses
    // ("array iterator used with different sized arrays").
    let headers = query("%{NEVRA}\t%{NAME}\t%{SOURCERPM}\t%{LICENSE}\n")?;
    let files = query("[%{=NEVRA}\t%{FILENAMES}\n]")?;
    parse_rpm(&headers, &files)
}

/// Parses the two rpm queries of [`rpm_packages`] into packages sorted by id.
pub fn parse_rpm(headers: &str, files: &str) -> Result<Vec<Package>> {
    let mut pkgs: BTreeMap<String, Package> = BTreeMap::new();
    for line in headers.lines().filter(|l| !l.is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        let [id, name, srcid, license] = f[..] else {
            anyhow::bail!(
                "rpm printed `{line}`; expected NEVRA, NAME, SOURCERPM, LICENSE separated by tabs"
            );
        };
        pkgs.insert(
            id.to_owned(),
            Package {
                id: id.to_owned(),
                name: name.to_owned(),
                srcid: if srcid == "(none)" { name } else { srcid }.to_owned(),
                license: license.to_owned(),
                files: Vec::new(),
            },
        );
    }
    for line in files.lines().filter(|l| !l.is_empty()) {
        let (id, path) = line
            .split_once('\t')
            .with_context(|| format!("rpm printed `{line}`; expected NEVRA<TAB>PATH"))?;
        if let Some(p) = pkgs.get_mut(id) {
            p.files.push(path.to_owned());
        }
    }
    Ok(pkgs.into_values().collect())
}

fn dpkg_packages(repo: &Repo, rev: &str, dir: &str, scratch: &Path) -> Result<Vec<Package>> {
    let info = scratch.join("dpkg-info");
    repo.checkout_subpath(rev, &format!("{dir}/info"), &info)?;
    let mut pkgs = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&info)
        .with_context(|| format!("reading {}", info.display()))?
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("reading {}", info.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(pkg) = file.strip_suffix(".list") else {
            continue;
        };
        let text = std::fs::read_to_string(e.path())
            .with_context(|| format!("reading {dir}/info/{file} of {rev}"))?;
        let name = pkg.split(':').next().unwrap_or(pkg).to_owned();
        pkgs.push(Package {
            id: pkg.to_owned(),
            srcid: name.clone(),
            name,
            license: String::new(),
            files: text.lines().map(str::to_owned).collect(),
        });
    }
    Ok(pkgs)
}

/// Where a path a package database lists lives in an OSTree commit: `/etc` is shipped as
/// `/usr/etc`, and merged-/usr trees keep `/bin`, `/sbin`, `/lib*` under `/usr`.
pub fn tree_paths(pkg_path: &str) -> Vec<String> {
    let mut out = vec![pkg_path.to_owned()];
    if let Some(rest) = pkg_path.strip_prefix("/etc/") {
        out.insert(0, format!("/usr/etc/{rest}"));
    }
    for top in ["/bin/", "/sbin/", "/lib/", "/lib64/"] {
        if let Some(rest) = pkg_path.strip_prefix(top) {
            out.push(format!("/usr{top}{rest}"));
        }
    }
    out
}

/// Maps every content object to one component: a package owning one of its paths (the
/// first by package id when several do, so the result does not depend on order), else
/// `unpackaged`. Packages owning no content get no component.
pub fn assign(files: &[TreeFile], packages: &[Package]) -> ContentMap {
    let present: std::collections::HashSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let mut owner: BTreeMap<String, usize> = BTreeMap::new();
    for (i, p) in packages.iter().enumerate() {
        for f in &p.files {
            for tp in tree_paths(f) {
                if present.contains(tp.as_str()) {
                    let e = owner.entry(tp).or_insert(i);
                    if packages[*e].id > p.id {
                        *e = i;
                    }
                    break;
                }
            }
        }
    }
    let mut by_object: BTreeMap<&str, Option<usize>> = BTreeMap::new();
    for f in files {
        let o = owner.get(f.path.as_str()).copied();
        let e = by_object.entry(&f.checksum).or_insert(o);
        *e = match (*e, o) {
            (Some(a), Some(b)) if packages[b].id < packages[a].id => Some(b),
            (None, b) => b,
            (a, _) => a,
        };
    }
    let mut map = ContentMap::default();
    let mut index: BTreeMap<Option<usize>, usize> = BTreeMap::new();
    for (obj, o) in by_object {
        let next = map.components.len();
        let ci = *index.entry(o).or_insert(next);
        if ci == next {
            map.components.push(match o {
                Some(p) => Component {
                    id: packages[p].id.clone(),
                    name: packages[p].name.clone(),
                    srcid: packages[p].srcid.clone(),
                    change_frequency: 1,
                },
                None => Component {
                    id: UNPACKAGED.into(),
                    name: UNPACKAGED.into(),
                    srcid: UNPACKAGED.into(),
                    change_frequency: CHANGES_EVERY_BUILD,
                },
            });
        }
        map.objects.insert(obj.to_owned(), ci);
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tf(path: &str, sum: &str) -> TreeFile {
        TreeFile {
            path: path.into(),
            checksum: sum.into(),
        }
    }

    #[test]
    fn rpm_output_parses() {
        let pkgs = parse_rpm(
            "hello-1-1.noarch\thello\thello-1-1.src.rpm\tMIT\nfs-1-1.noarch\tfs\t(none)\tGPL-3.0-or-later\n",
            "hello-1-1.noarch\t/usr/bin/hello\nhello-1-1.noarch\t/etc/hello.conf\nfs-1-1.noarch\t/usr\n",
        )
        .unwrap();
        assert_eq!(pkgs.len(), 2);
        assert_eq!(pkgs[0].id, "fs-1-1.noarch");
        assert_eq!(pkgs[0].srcid, "fs");
        assert_eq!(pkgs[1].files, ["/usr/bin/hello", "/etc/hello.conf"]);
        let err = parse_rpm("only\ttwo\n", "").unwrap_err().to_string();
        assert!(err.contains("NEVRA, NAME, SOURCERPM, LICENSE"), "{err}");
    }

    #[test]
    fn etc_and_merged_usr_paths() {
        assert_eq!(tree_paths("/etc/x"), ["/usr/etc/x", "/etc/x"]);
        assert_eq!(tree_paths("/bin/sh"), ["/bin/sh", "/usr/bin/sh"]);
        assert_eq!(tree_paths("/usr/bin/a"), ["/usr/bin/a"]);
    }

    #[test]
    fn every_object_is_mapped_and_shared_content_is_stable() {
        let files = [
            tf("/usr/bin/hello", "aa"),
            tf("/usr/etc/hello.conf", "bb"),
            tf("/usr/lib/sysimage/rpm/rpmdb.sqlite", "cc"),
            // The same empty file owned by two packages: the lower id wins, whatever order.
            tf("/usr/share/a/empty", "dd"),
            tf("/usr/share/b/empty", "dd"),
        ];
        let pkg = |id: &str, files: &[&str]| Package {
            id: id.into(),
            name: id.split('-').next().unwrap().into(),
            srcid: id.into(),
            license: String::new(),
            files: files.iter().map(|s| s.to_string()).collect(),
        };
        let pkgs = [
            pkg("zed-1", &["/usr/share/b/empty"]),
            pkg("hello-1", &["/usr/bin/hello", "/etc/hello.conf"]),
            pkg("abc-1", &["/usr/share/a/empty", "/usr/share/gone"]),
        ];
        let m = assign(&files, &pkgs);
        let owner = |sum: &str| m.components[m.objects[sum]].id.clone();
        assert_eq!(owner("aa"), "hello-1");
        assert_eq!(owner("bb"), "hello-1");
        assert_eq!(owner("cc"), UNPACKAGED);
        assert_eq!(owner("dd"), "abc-1");
        assert_eq!(m.objects.len(), 4);
        let un = &m.components[m.objects["cc"]];
        assert_eq!(un.change_frequency, CHANGES_EVERY_BUILD);
        // zed owns no content object of its own, so it is no component.
        assert!(m.components.iter().all(|c| c.id != "zed-1"));
    }
}
