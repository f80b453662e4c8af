//! The dnf backend: resolve the plan's packages against its repos, then install exactly
//! that resolved set into a fresh root with the real dnf and rpm.
//!
//! Debian's dnf/rpm need help to build a CentOS-style root (see DESIGN.md): the rpmdb path
//! comes from a private `~/.rpmmacros`, scriptlets need a real `/dev` and `/proc` (bwrap),
//! and a failing `%post` is only a warning to dnf, so its output is checked here.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use mxos_treefile::Plan;

use crate::cmd::run;

/// Where the rpmdb lives in MxOS trees, as in Fedora and CentOS Stream 10.
pub const RPMDB_DIR: &str = "usr/lib/sysimage/rpm";

/// One package of the resolved set, as downloaded.
#[derive(Debug, Clone)]
pub struct ResolvedPackage {
    pub file: PathBuf,
    /// blake3 of the .rpm file: a rebuilt package with the same NEVRA still changes the hash.
    pub checksum: String,
}

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
}

impl Dnf {
    /// Writes the configuration under `work/dnf`: the treefile's `.repo` files only (never
    /// the host's), and the options the plan asks for.
    pub fn prepare(plan: &Plan, work: &Path) -> Result<Dnf> {
        let dir = work.join("dnf");
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
        }
        for sub in ["repos.d", "home", "resolve-root", "packages"] {
            std::fs::create_dir_all(dir.join(sub))
                .with_context(|| format!("creating {}", dir.join(sub).display()))?;
        }
        check_repos(plan)?;
        for f in &plan.repo_files {
            std::fs::write(dir.join("repos.d").join(&f.name), &f.contents)
                .with_context(|| format!("writing repo file {}", f.name))?;
        }
        std::fs::write(
            dir.join("home/.rpmmacros"),
            format!("%_dbpath /{RPMDB_DIR}\n"),
        )
        .context("writing .rpmmacros")?;
        std::fs::write(dir.join("dnf.conf"), dnf_conf(plan, &dir.join("repos.d")))
            .context("writing dnf.conf")?;
        Ok(Dnf { dir })
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
            .args(self.args(plan, &self.dir.join("resolve-root")))
            .arg("--disablerepo=*");
        for r in &plan.repos {
            cmd.arg(format!("--enablerepo={r}"));
        }
        cmd.args(["install", "--downloadonly", "--destdir"])
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
        let mut packages = Vec::new();
        for file in files {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            packages.push(ResolvedPackage {
                checksum: blake3::hash(&bytes).to_hex().to_string(),
                file,
            });
        }
        let out = run(Command::new("rpm")
            .args(["-qp", "--nosignature", "--qf", "%{BUILDTIME}\\n"])
            .args(packages.iter().map(|p| &p.file)))?;
        let newest_buildtime = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.trim().parse::<u64>().ok())
            .max()
            .unwrap_or(0);
        Ok(Resolution {
            packages,
            newest_buildtime,
        })
    }

    /// Installs exactly the resolved set into `root`. `epoch` becomes rpm's install time, so
    /// the rpmdb comes out byte-identical for identical inputs.
    pub fn install(
        &self,
        plan: &Plan,
        resolution: &Resolution,
        root: &Path,
        epoch: u64,
    ) -> Result<Vec<String>> {
        for d in ["dev", "proc"] {
            std::fs::create_dir_all(root.join(d))?;
        }
        // Scriptlets need a real /dev and /proc in the root; bwrap gives them without
        // touching the host's mounts. `env` carries dnf's environment into the sandbox.
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
        cmd.arg("dnf")
            .args(self.args(plan, root))
            .args(["--disablerepo=*", "install"])
            .args(resolution.packages.iter().map(|p| &p.file));
        let out = run(&mut cmd).context("installing packages with dnf")?;
        let failures = scriptlet_failures(
            &String::from_utf8_lossy(&out.stdout),
            &String::from_utf8_lossy(&out.stderr),
        );
        if !failures.is_empty() {
            bail!(
                "package scriptlets failed (dnf only warns; MxOS refuses the tree):\n{}",
                failures.join("\n")
            );
        }
        if !root.join(RPMDB_DIR).join("rpmdb.sqlite").exists() {
            bail!(
                "dnf finished but left no rpmdb at /{RPMDB_DIR}; the `%_dbpath` macro did not apply"
            );
        }
        let out = run(Command::new("rpm").arg("--root").arg(root).args([
            "--dbpath",
            &format!("/{RPMDB_DIR}"),
            "-qa",
            "--qf",
            "%{NEVRA}\\n",
        ]))
        .context("listing installed packages")?;
        let mut nevras: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        nevras.sort();
        Ok(nevras)
    }
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
