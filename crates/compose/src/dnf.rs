//! The dnf backend: the real dnf resolves the plan's packages against its repos, then
//! exactly that resolved set becomes a root, assembled from the package cache, with the real
//! rpm writing its database and running its scriptlets.
//!
//! Debian's dnf/rpm need help to build a CentOS-style root (see DESIGN.md): the rpmdb path
//! comes from a private `~/.rpmmacros`, scriptlets need a real `/dev` and `/proc` (bwrap),
//! and a failing `%post` is only a warning to rpm, so its output is checked here.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use mxos_treefile::Plan;

use crate::pkgcache::{make_private, PackageCache};
use crate::rpmfiles;
use mxos_process::run;

/// Where the rpmdb lives in MxOS trees, as in Fedora and CentOS Stream 10.
pub const RPMDB_DIR: &str = "usr/lib/sysimage/rpm";

/// One package of the resolved set, as downloaded.
#[derive(Debug, Clone)]
pub struct ResolvedPackage {
    pub file: PathBuf,
    /// blake3 of the .rpm file: a rebuilt package with the same NEVRA still changes the hash.
    pub checksum: String,
    /// Has install-time scriptlets or triggers, so it must go through an rpm transaction.
    pub scripted: bool,
}

/// BUILDTIME, a tab, then one `s` per install-time scriptlet or trigger the header carries
/// (a `-p` program without a body counts too).
const HEADER_QUERY: &str = concat!(
    "%{BUILDTIME}\\t",
    "%|PRETRANS?{s}|%|PRETRANSPROG?{s}|%|PREIN?{s}|%|PREINPROG?{s}|",
    "%|POSTIN?{s}|%|POSTINPROG?{s}|%|POSTTRANS?{s}|%|POSTTRANSPROG?{s}|",
    "%|TRIGGERSCRIPTS?{s}|%|TRIGGERSCRIPTPROG?{s}|",
    "%|FILETRIGGERSCRIPTS?{s}|%|FILETRIGGERSCRIPTPROG?{s}|",
    "%|TRANSFILETRIGGERSCRIPTS?{s}|%|TRANSFILETRIGGERSCRIPTPROG?{s}|\\n"
);

/// The exact set of packages a plan resolves to today.
#[derive(Debug, Clone)]
pub struct Resolution {
    pub packages: Vec<ResolvedPackage>,
    /// The newest BUILDTIME among them: a timestamp that only changes when the inputs do.
    pub newest_buildtime: u64,
}

/// The private dnf configuration of one compose.
pub struct Dnf {
    dir: PathBuf,
    resolve_root: PathBuf,
}

impl Dnf {
    /// Writes the configuration under `work/dnf`: the treefile's `.repo` files only (never
    /// the host's), and the options the plan asks for. dnf resolves in `resolve_root`, an
    /// empty root whose `/var/cache/dnf` keeps repo metadata from one compose to the next.
    pub fn prepare(plan: &Plan, work: &Path, resolve_root: &Path) -> Result<Dnf> {
        let dir = work.join("dnf");
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
        }
        for sub in ["repos.d", "home", "packages"] {
            std::fs::create_dir_all(dir.join(sub))
                .with_context(|| format!("creating {}", dir.join(sub).display()))?;
        }
        std::fs::create_dir_all(resolve_root)
            .with_context(|| format!("creating {}", resolve_root.display()))?;
        check_repos(plan)?;
        for f in &plan.repo_files {
            std::fs::write(dir.join("repos.d").join(&f.name), &f.contents)
                .with_context(|| format!("writing repo file {}", f.name))?;
        }
        std::fs::write(dir.join("dnf.conf"), dnf_conf(plan, &dir.join("repos.d")))
            .context("writing dnf.conf")?;
        let dnf = Dnf {
            dir,
            resolve_root: resolve_root.to_owned(),
        };
        dnf.write_macros()?;
        Ok(dnf)
    }

    /// The environment dnf runs with: our rpm macros, and messages we can parse.
    fn env(&self) -> Vec<(OsString, OsString)> {
        vec![
            ("HOME".into(), self.dir.join("home").into()),
            ("LC_ALL".into(), "C.UTF-8".into()),
        ]
    }

    /// dnf's arguments up to the subcommand.
    fn args(&self, plan: &Plan, installroot: &Path) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            "-c".into(),
            self.dir.join("dnf.conf").into(),
            "--installroot".into(),
            installroot.into(),
            "-y".into(),
        ];
        if let Some(rv) = &plan.releasever {
            args.push("--releasever".into());
            args.push(rv.into());
        }
        args
    }

    /// Resolves and downloads the plan's packages without installing anything.
    pub fn resolve(&self, plan: &Plan) -> Result<Resolution> {
        if plan.packages.is_empty() {
            bail!("{}: the treefile lists no packages", plan.treefile_name);
        }
        let pkgdir = self.dir.join("packages");
        let mut cmd = Command::new("dnf");
        cmd.envs(self.env())
            .args(self.args(plan, &self.resolve_root))
            .arg("--disablerepo=*");
        for r in &plan.repos {
            cmd.arg(format!("--enablerepo={r}"));
        }
        // The metadata cache outlives the compose: `--refresh` makes dnf check every repo's
        // repomd.xml now (lists are fetched again only when it changed), whenever the
        // cache was last written, even a moment ago.
        cmd.args(["--refresh", "install", "--downloadonly", "--destdir"])
            .arg(&pkgdir)
            .args(&plan.packages);
        run(&mut cmd).context("resolving packages with dnf")?;
        let mut files: Vec<PathBuf> = std::fs::read_dir(&pkgdir)
            .with_context(|| format!("listing {}", pkgdir.display()))?
            .map(|e| e.map(|e| e.path()))
            .collect::<std::io::Result<_>>()?;
        files.retain(|p| p.extension().is_some_and(|e| e == "rpm"));
        files.sort();
        if files.is_empty() {
            bail!("dnf resolved no packages for {}", plan.packages.join(" "));
        }
        let out = run(Command::new("rpm")
            .args(["-qp", "--nosignature", "--qf", HEADER_QUERY])
            .args(&files))?;
        let headers = String::from_utf8_lossy(&out.stdout);
        let headers: Vec<&str> = headers.lines().collect();
        if headers.len() != files.len() {
            bail!(
                "rpm described {} of the {} resolved packages:\n{}",
                headers.len(),
                files.len(),
                headers.join("\n")
            );
        }
        let mut packages = Vec::new();
        let mut newest_buildtime = 0;
        for (file, header) in files.into_iter().zip(headers) {
            let (buildtime, scripts) = header.split_once('\t').unwrap_or((header, ""));
            newest_buildtime = newest_buildtime.max(buildtime.trim().parse::<u64>().unwrap_or(0));
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            packages.push(ResolvedPackage {
                checksum: blake3::hash(&bytes).to_hex().to_string(),
                scripted: !scripts.is_empty(),
                file,
            });
        }
        Ok(Resolution {
            packages,
            newest_buildtime,
        })
    }

    /// Installs exactly the resolved set into `root`, assembled from the package cache.
    ///
    /// Payloads come from hard-linked cache checkouts; rpm never unpacks them. Packages
    /// without install-time scriptlets or triggers are entered into the database with
    /// `rpm --justdb`. The others go through a real rpm transaction in which every path is
    /// net-shared (`%_netsharedpath`): their scriptlets run as in any install and file
    /// triggers fire on the files already there, while rpm writes no file (it still reads
    /// their payloads, the one cost that grows with them). Finally the database is written
    /// again by `rpm --justdb` for the whole set, so every file state is the one of a normal
    /// install and `rpm -V` works on the image. `epoch` becomes rpm's install time, so the
    /// rpmdb comes out byte-identical for identical inputs. Package digests were checked
    /// against the repo metadata when dnf downloaded them, so rpm is told not to re-read
    /// whole packages to check them again.
    pub fn install(
        &self,
        plan: &Plan,
        resolution: &Resolution,
        root: &Path,
        epoch: u64,
        cache: &PackageCache,
    ) -> Result<Installed> {
        let assembly = cache.ensure_all(&resolution.packages, &self.dir)?;
        cache.assemble(&assembly, root)?;
        let known = cache.known_inodes()?;
        for d in ["dev", "proc"] {
            std::fs::create_dir_all(root.join(d))?;
        }
        let (scripted, plain): (Vec<&ResolvedPackage>, Vec<&ResolvedPackage>) =
            resolution.packages.iter().partition(|p| p.scripted);
        if !plain.is_empty() {
            self.justdb(root, epoch, &plain, false)
                .context("entering the packages without scriptlets into the rpm database")?;
        }
        if !scripted.is_empty() {
            self.run_scriptlets(root, epoch, &scripted)?;
        }
        let dbdir = root.join(RPMDB_DIR);
        std::fs::remove_dir_all(&dbdir)
            .and_then(|()| std::fs::create_dir_all(&dbdir))
            .with_context(|| format!("clearing {}", dbdir.display()))?;
        let all: Vec<&ResolvedPackage> = resolution.packages.iter().collect();
        self.justdb(root, epoch, &all, !plan.documentation)
            .context("writing the rpm database (rpm --justdb)")?;
        let out = run(self.rpm(root).args(["-qa", "--qf", rpmfiles::QUERY_FORMAT]))
            .context("listing package files")?;
        apply_fixups(
            root,
            &rpmfiles::file_fixups(&String::from_utf8_lossy(&out.stdout)),
        )?;
        let changed_links = known.changed_links(root)?;

        let out = run(self.rpm(root).args(["-qa", "--qf", "%{NEVRA}\\n"]))
            .context("listing installed packages")?;
        let mut nevras: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        nevras.sort();
        Ok(Installed {
            nevras,
            imported: assembly.imported,
            known,
            changed_links,
        })
    }

    /// `rpm -i --justdb`: database entries only, no files, no scriptlets.
    fn justdb(
        &self,
        root: &Path,
        epoch: u64,
        packages: &[&ResolvedPackage],
        exclude_docs: bool,
    ) -> Result<()> {
        let mut cmd = self.rpm(root);
        cmd.env("SOURCE_DATE_EPOCH", epoch.to_string()).args([
            "-i",
            "--justdb",
            "--nodeps",
            "--noscripts",
            "--notriggers",
            "--nodigest",
            "--nosignature",
        ]);
        if exclude_docs {
            cmd.arg("--excludedocs");
        }
        run(cmd.args(packages.iter().map(|p| &p.file))).map(drop)
    }

    /// The rpm transaction that runs the scriptlets and triggers of `packages` over the
    /// assembled root, writing no file; a failing scriptlet fails the compose.
    fn run_scriptlets(&self, root: &Path, epoch: u64, packages: &[&ResolvedPackage]) -> Result<()> {
        // Scriptlets need a real /dev and /proc in the root; bwrap gives them without
        // touching the host's mounts. `env` carries rpm's environment into the sandbox.
        let mut cmd = Command::new("bwrap");
        cmd.args(["--bind", "/", "/", "--dev"])
            .arg(root.join("dev"))
            .arg("--proc")
            .arg(root.join("proc"))
            .args(["--", "env"])
            .arg(format!("SOURCE_DATE_EPOCH={epoch}"));
        for (k, v) in self.env() {
            let mut kv = k;
            kv.push("=");
            kv.push(v);
            cmd.arg(kv);
        }
        cmd.arg("rpm")
            .arg("--root")
            .arg(root)
            .args(["--dbpath", &format!("/{RPMDB_DIR}")])
            .arg("--define")
            .arg(format!("_netsharedpath {}", net_shared_paths(root)?))
            .args(["-i", "--nodigest", "--nosignature"])
            .args(packages.iter().map(|p| &p.file));
        let out =
            mxos_process::run_unchecked(&mut cmd).context("running package scriptlets with rpm")?;
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        let failures = scriptlet_failures(&stdout, &stderr);
        if !failures.is_empty() {
            bail!(
                "package scriptlets failed (rpm only warns; MxOS refuses the tree):\n{}",
                failures.join("\n")
            );
        }
        if !out.status.success() {
            bail!(
                "rpm failed running package scriptlets ({}):\n{}",
                out.status,
                mxos_process::tail(&out, 20)
            );
        }
        Ok(())
    }

    /// rpm working on `root`'s database, with our macros.
    fn rpm(&self, root: &Path) -> Command {
        let mut cmd = Command::new("rpm");
        cmd.envs(self.env())
            .arg("--root")
            .arg(root)
            .args(["--dbpath", &format!("/{RPMDB_DIR}")]);
        cmd
    }

    /// Our rpm macros: where the rpmdb lives in MxOS trees.
    fn write_macros(&self) -> Result<()> {
        std::fs::write(
            self.dir.join("home/.rpmmacros"),
            format!("%_dbpath /{RPMDB_DIR}\n"),
        )
        .context("writing .rpmmacros")
    }
}

/// What [`Dnf::install`] did.
pub struct Installed {
    /// NEVRAs, sorted.
    pub nevras: Vec<String>,
    /// Packages unpacked into the cache by this compose; the rest came from it.
    pub imported: usize,
    /// The cache's objects by inode, for the commit.
    pub known: mxos_repo::KnownInodes,
    /// Cache links the scriptlets wrote through: the cache must be dropped.
    pub changed_links: Vec<PathBuf>,
}

/// Every top-level entry of the assembled root: rpm matches net-shared paths by directory
/// prefix, and `/` itself does not match a deeper path.
fn net_shared_paths(root: &Path) -> Result<String> {
    let mut names: Vec<String> = std::fs::read_dir(root)
        .with_context(|| format!("listing {}", root.display()))?
        .map(|e| e.map(|e| format!("/{}", e.file_name().to_string_lossy())))
        .collect::<std::io::Result<_>>()?;
    names.sort();
    Ok(names.join(":"))
}

/// Removes what rpm would not have installed and gives files their packaged owners, by the
/// ids the scriptlets created in the root's passwd and group.
fn apply_fixups(root: &Path, fixups: &rpmfiles::FileFixups) -> Result<()> {
    for path in &fixups.remove {
        let p = root.join(path.trim_start_matches('/'));
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => {
                // rpm leaves a directory another package still fills.
                if std::fs::read_dir(&p)?.next().is_none() {
                    std::fs::remove_dir(&p).with_context(|| format!("removing {}", p.display()))?;
                }
            }
            Ok(_) => {
                std::fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?
            }
            Err(_) => {}
        }
    }
    if fixups.owners.is_empty() {
        return Ok(());
    }
    let users = rpmfiles::ids_by_name(
        &std::fs::read_to_string(root.join("etc/passwd")).unwrap_or_default(),
    );
    let groups =
        rpmfiles::ids_by_name(&std::fs::read_to_string(root.join("etc/group")).unwrap_or_default());
    for (path, user, group) in &fixups.owners {
        let p = root.join(path.trim_start_matches('/'));
        if std::fs::symlink_metadata(&p).is_err() {
            continue;
        }
        // As rpm does: an owner the scriptlets did not create falls back to root.
        let uid = users.get(user).copied().unwrap_or(0);
        let gid = groups.get(group).copied().unwrap_or(0);
        if !users.contains_key(user) || !groups.contains_key(group) {
            eprintln!(
                "warning: {path}: owner {user}:{group} does not exist in the tree; using root"
            );
        }
        make_private(&p)?;
        let meta = std::fs::symlink_metadata(&p)?;
        std::os::unix::fs::lchown(&p, Some(uid), Some(gid))
            .with_context(|| format!("chown {user}:{group} {}", p.display()))?;
        if !meta.is_symlink() {
            // chown cleared any setuid/setgid bit; rpm, too, sets the mode after the owner.
            std::fs::set_permissions(&p, meta.permissions())?;
        }
    }
    Ok(())
}

/// A fingerprint of the metadata every enabled repo publishes (`repodata/repomd.xml`, which
/// holds the checksums of the package lists), fetched without dnf: with the plan, it decides
/// what dnf would resolve, so an unchanged tree is recognised before resolving. `None` when
/// a repo is only reachable through a metalink or mirrorlist, or a fetch fails: then dnf
/// resolves, and reports what is wrong.
pub fn metadata_fingerprint(plan: &Plan, work: &Path) -> Result<Option<String>> {
    let Some(urls) = repomd_urls(plan) else {
        return Ok(None);
    };
    std::fs::create_dir_all(work)?;
    let mut hasher = blake3::Hasher::new();
    for (id, url) in urls {
        let Ok(bytes) = mxos_process::fetch(&url, &work.join(format!("repomd-{id}.xml"))) else {
            return Ok(None);
        };
        hasher.update(id.as_bytes());
        hasher.update(&[0]);
        hasher.update(blake3::hash(&bytes).as_bytes());
    }
    Ok(Some(hasher.finalize().to_hex().to_string()))
}

/// `repomd.xml` URL of each repo the plan enables, from the first `baseurl` of its section
/// with dnf's `$releasever`, `$basearch` and `$arch` filled in.
fn repomd_urls(plan: &Plan) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    for id in &plan.repos {
        let mut baseurl = None;
        for f in &plan.repo_files {
            let mut in_section = false;
            for line in f.contents.lines() {
                let l = line.trim();
                if l.starts_with('[') && l.ends_with(']') {
                    in_section = &l[1..l.len() - 1] == id;
                } else if in_section {
                    if let Some((k, v)) = l.split_once('=') {
                        if k.trim() == "baseurl" {
                            baseurl = v
                                .split([',', ' '])
                                .map(str::trim)
                                .find(|u| !u.is_empty())
                                .map(str::to_owned);
                        }
                    }
                }
            }
        }
        let url = baseurl?
            .replace("$releasever", plan.releasever.as_deref().unwrap_or(""))
            .replace("$basearch", &plan.basearch)
            .replace("$arch", &plan.basearch);
        out.push((
            id.clone(),
            format!("{}/repodata/repomd.xml", url.trim_end_matches('/')),
        ));
    }
    Some(out)
}

fn dnf_conf(plan: &Plan, reposdir: &Path) -> String {
    let mut s = String::from("[main]\n");
    // Test and MxOS-internal repos are unsigned; production repos set gpgcheck in their
    // .repo file, which overrides this per repo.
    let _ = writeln!(s, "gpgcheck=0");
    let _ = writeln!(s, "reposdir={}", reposdir.display());
    // Relative to the installroot: dnf's own state lands in /var, which postprocess drops.
    let _ = writeln!(s, "cachedir=/var/cache/dnf");
    let _ = writeln!(s, "keepcache=0");
    let _ = writeln!(s, "install_weak_deps={}", plan.recommends);
    if !plan.documentation {
        let _ = writeln!(s, "tsflags=nodocs");
    }
    s
}

/// Every repo id the treefile enables must be defined in a `.repo` file beside it.
fn check_repos(plan: &Plan) -> Result<()> {
    if plan.repos.is_empty() {
        bail!(
            "{}: no `repos` listed; name the repo ids (from .repo files next to the treefile) to install from",
            plan.treefile_name
        );
    }
    let defined: Vec<String> = plan
        .repo_files
        .iter()
        .flat_map(|f| {
            f.contents.lines().filter_map(|l| {
                let l = l.trim();
                (l.starts_with('[') && l.ends_with(']') && l != "[main]")
                    .then(|| l[1..l.len() - 1].to_owned())
            })
        })
        .collect();
    for r in &plan.repos {
        if !defined.contains(r) {
            bail!(
                "{}: repo `{r}` is not defined in any .repo file next to the treefile (defined: {})",
                plan.treefile_name,
                if defined.is_empty() { "none".to_owned() } else { defined.join(", ") }
            );
        }
    }
    Ok(())
}

/// The lines in which rpm or dnf report a failed scriptlet.
pub fn scriptlet_failures(stdout: &str, stderr: &str) -> Vec<String> {
    stdout
        .lines()
        .chain(stderr.lines())
        .filter(|l| {
            l.contains("scriptlet failed") || (l.contains("Error in") && l.contains("scriptlet"))
        })
        .map(|l| l.trim().to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_with_repos(repos: &[&str], repo_file: &str) -> Plan {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("r.repo"), repo_file).unwrap();
        let repo_list = repos.join(", ");
        std::fs::write(
            t.path().join("t.yaml"),
            format!("ref: x\nreleasever: 10\nrepos: [{repo_list}]\npackages: [a]\n"),
        )
        .unwrap();
        mxos_treefile::load(&t.path().join("t.yaml"), "x86_64").unwrap()
    }

    #[test]
    fn repomd_urls_fill_in_dnf_variables_and_give_up_on_metalinks() {
        let plan = plan_with_repos(
            &["baseos", "local"],
            "[baseos]\nbaseurl=https://mirror.example/$releasever-stream/BaseOS/$basearch/os/ https://other/\n\
             [local]\nname=x\nbaseurl = file:///srv/rpms\n[meta]\nmetalink=https://m/?repo=x\n",
        );
        assert_eq!(
            repomd_urls(&plan).unwrap(),
            vec![
                (
                    "baseos".to_owned(),
                    "https://mirror.example/10-stream/BaseOS/x86_64/os/repodata/repomd.xml"
                        .to_owned()
                ),
                (
                    "local".to_owned(),
                    "file:///srv/rpms/repodata/repomd.xml".to_owned()
                ),
            ]
        );
        let plan = plan_with_repos(
            &["local", "meta"],
            "[local]\nbaseurl=file:///srv/rpms\n[meta]\nmetalink=https://m/?repo=x\n",
        );
        assert_eq!(repomd_urls(&plan), None);
    }

    #[test]
    fn finds_scriptlet_warnings_dnf_ignores() {
        let out = "Running scriptlet: x\nwarning: %post(mxos-bad-1.0-1.noarch) scriptlet failed, exit status 3\n\nError in POSTIN scriptlet in rpm package mxos-bad\n  Installing: y";
        assert_eq!(
            scriptlet_failures(out, ""),
            vec![
                "warning: %post(mxos-bad-1.0-1.noarch) scriptlet failed, exit status 3",
                "Error in POSTIN scriptlet in rpm package mxos-bad"
            ]
        );
        assert!(scriptlet_failures("Running scriptlet: ok\nComplete!", "").is_empty());
    }
}
