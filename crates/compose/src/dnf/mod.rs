//! The dnf backend: the real dnf resolves the plan's packages against its repos, then
//! exactly that resolved set becomes a root, assembled from the package cache, with the real
//! rpm writing its database and running its scriptlets.
//!
//! Debian's dnf/rpm need help to build a CentOS-style root (see DESIGN.md): the rpmdb path
//! comes from a private `~/.rpmmacros`, scriptlets need a real `/dev` and `/proc` (bwrap),
//! and a failing `%post` is only a warning to rpm, so its output is checked here.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use mxos_treefile::Plan;

pub mod keys;
mod lock;
pub mod repos;
mod signatures;

use sha2::Digest as _;

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
    pub name: String,
    /// `[E:]V-R`, epoch only when not 0.
    pub evr: String,
    pub arch: String,
    /// The source package's name (from its SRPM file name), for lockfiles.
    pub source_name: Option<String>,
    /// `sha256:HEX` of the .rpm file, as lockfiles pin it.
    pub digest: String,
}

/// BUILDTIME, NAME, EPOCH:VERSION-RELEASE, ARCH, SOURCERPM, then one `s` per install-time
/// scriptlet or trigger the header carries (a `-p` program without a body counts too).
const HEADER_QUERY: &str = concat!(
    "%{BUILDTIME}\\t%{NAME}\\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\\t%{ARCH}\\t%{SOURCERPM}\\t",
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
    /// The repos dnf read.
    pub repos: Vec<String>,
}

/// How a compose uses the plan's lockfile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LockMode {
    /// Locked names resolve to their pins; anything else resolves freely (rpm-ostree's default).
    #[default]
    Relaxed,
    /// Only locked packages are installable (`--ex-lockfile-strict`).
    Strict,
}

/// The private dnf configuration of one compose.
pub struct Dnf {
    dir: PathBuf,
    resolve_root: PathBuf,
    /// The keys the enabled repos trust, for explaining a refused package.
    keys: Vec<keys::RepoKey>,
}

impl Dnf {
    /// Writes the configuration under `work/dnf`: the treefile's `.repo` files only (never
    /// the host's), `repovars` as dnf variables, and the options the plan asks for. dnf
    /// resolves in `resolve_root`, an empty root whose `/var/cache/dnf` keeps repo metadata
    /// from one compose to the next.
    pub fn prepare(plan: &Plan, work: &Path, resolve_root: &Path) -> Result<Dnf> {
        let dir = work.join("dnf");
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
        }
        for sub in ["repos.d", "vars", "home", "packages"] {
            std::fs::create_dir_all(dir.join(sub))
                .with_context(|| format!("creating {}", dir.join(sub).display()))?;
        }
        std::fs::create_dir_all(resolve_root)
            .with_context(|| format!("creating {}", resolve_root.display()))?;
        repos::enabled_repos(plan)?;
        let enabled = repos::enabled_repos(plan)?;
        let policy = keys::policy(plan, &enabled, &|t| repos::expand(plan, t))?;
        for (name, contents) in &policy.files {
            std::fs::write(dir.join("repos.d").join(name), contents)
                .with_context(|| format!("writing repo file {name}"))?;
        }
        // dnf imports each repo's keys into the resolve root's rpmdb as it needs them; keys
        // a treefile named before must not stay trusted, so the rpmdb is kept only while
        // the set of keys is the same.
        let mut keyset = blake3::Hasher::new();
        for key in &policy.keys {
            let bytes = std::fs::read(&key.path)
                .with_context(|| format!("reading {}", key.path.display()))?;
            keyset.update(key.repo.as_bytes());
            keyset.update(&[0]);
            keyset.update(blake3::hash(&bytes).as_bytes());
        }
        let keyset = keyset.finalize().to_hex().to_string();
        let stamp = resolve_root.join(".mxos-trusted-keys");
        if std::fs::read_to_string(&stamp).ok().as_deref() != Some(keyset.as_str()) {
            for db in [RPMDB_DIR, "var/lib/rpm"] {
                let db = resolve_root.join(db);
                if db.exists() {
                    std::fs::remove_dir_all(&db)
                        .with_context(|| format!("clearing the keys in {}", db.display()))?;
                }
            }
            std::fs::write(&stamp, &keyset)
                .with_context(|| format!("writing {}", stamp.display()))?;
        }
        for (name, value) in &plan.treefile.repovars {
            std::fs::write(dir.join("vars").join(name), value)
                .with_context(|| format!("writing repovars `{name}`"))?;
        }
        std::fs::write(
            dir.join("dnf.conf"),
            repos::dnf_conf(plan, &dir.join("repos.d"), &dir.join("vars")),
        )
        .context("writing dnf.conf")?;
        let dnf = Dnf {
            dir,
            resolve_root: resolve_root.to_owned(),
            keys: policy.keys,
        };
        dnf.write_macros(plan)?;
        Ok(dnf)
    }

    /// The environment dnf runs with: our rpm macros, and messages we can parse.
    fn env(&self) -> Vec<(OsString, OsString)> {
        vec![
            ("HOME".into(), self.dir.join("home").into()),
            ("LC_ALL".into(), "C.UTF-8".into()),
        ]
    }

    /// dnf's arguments up to the subcommand: our configuration, and only the plan's repos.
    fn args(&self, plan: &Plan, installroot: &Path, repos: &[String]) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            "-c".into(),
            self.dir.join("dnf.conf").into(),
            "--installroot".into(),
            installroot.into(),
            "-y".into(),
        ];
        if let Some(rv) = plan.releasever() {
            args.push("--releasever".into());
            args.push(rv.into());
        }
        args.push("--disablerepo=*".into());
        for r in repos {
            args.push(format!("--enablerepo={r}").into());
        }
        args
    }

    /// Resolves and downloads the plan's packages without installing anything, with the
    /// lockfile's pins applied, and checks what came against them.
    pub fn resolve(&self, plan: &Plan, lock_mode: LockMode) -> Result<Resolution> {
        if plan.treefile.packages.is_empty() {
            bail!("{}: the treefile lists no packages", plan.treefile_name);
        }
        let repos = repos::enabled_repos(plan)?;
        let mut options = repos::repo_package_options(plan, &repos);
        if let Some(lock) = &plan.lockfile {
            options.extend(self.lock_options(plan, lock, &repos, lock_mode)?);
        }
        let pkgdir = self.dir.join("packages");
        let mut cmd = Command::new("dnf");
        // The metadata cache outlives the compose: `--refresh` makes dnf check every repo's
        // repomd.xml now (lists are fetched again only when it changed), whenever the
        // cache was last written, even a moment ago.
        cmd.envs(self.env())
            .args(self.args(plan, &self.resolve_root, &repos))
            .args(&options)
            .args(["--refresh", "install", "--downloadonly", "--destdir"])
            .arg(&pkgdir)
            .args(&plan.treefile.packages);
        let resolved = run(&mut cmd);
        if let Err(e) = &resolved {
            // dnf checked the signatures of what it downloaded and said which failed.
            if let Some(refusal) =
                signatures::explain(&format!("{e:#}"), &pkgdir, &self.keys, &self.dir)?
            {
                bail!("{refusal}");
            }
        }
        resolved.context("resolving packages with dnf")?;
        let mut files: Vec<PathBuf> = std::fs::read_dir(&pkgdir)
            .with_context(|| format!("listing {}", pkgdir.display()))?
            .map(|e| e.map(|e| e.path()))
            .collect::<std::io::Result<_>>()?;
        files.retain(|p| p.extension().is_some_and(|e| e == "rpm"));
        files.sort();
        if files.is_empty() {
            bail!(
                "dnf resolved no packages for {}",
                plan.treefile.packages.join(" ")
            );
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
            let mut f = header.splitn(6, '\t');
            let (buildtime, name, evr, arch, srpm, scripts) = (
                f.next().unwrap_or_default(),
                f.next().unwrap_or_default(),
                f.next().unwrap_or_default(),
                f.next().unwrap_or_default(),
                f.next().unwrap_or_default(),
                f.next().unwrap_or_default(),
            );
            newest_buildtime = newest_buildtime.max(buildtime.trim().parse::<u64>().unwrap_or(0));
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            packages.push(ResolvedPackage {
                checksum: blake3::hash(&bytes).to_hex().to_string(),
                digest: format!("sha256:{}", hex(&sha2::Sha256::digest(&bytes))),
                scripted: !scripts.is_empty(),
                name: name.to_owned(),
                evr: evr.strip_prefix("0:").unwrap_or(evr).to_owned(),
                arch: arch.to_owned(),
                source_name: source_name(srpm),
                file,
            });
        }
        if let Some(lock) = &plan.lockfile {
            let downloaded: Vec<lock::Downloaded> = packages
                .iter()
                .map(|p| lock::Downloaded {
                    name: &p.name,
                    evr: &p.evr,
                    arch: &p.arch,
                    digest: &p.digest,
                })
                .collect();
            lock::check_downloads(lock, &downloaded)?;
        }
        Ok(Resolution {
            packages,
            newest_buildtime,
            repos,
        })
    }

    /// The options that hold dnf to the lockfile: other versions of locked names excluded,
    /// `lockfile-repos` limited to locked packages, and (strict) everything unlocked excluded.
    fn lock_options(
        &self,
        plan: &Plan,
        lock: &mxos_treefile::Lockfile,
        repos: &[String],
        mode: LockMode,
    ) -> Result<Vec<String>> {
        let mut cmd = Command::new("dnf");
        cmd.envs(self.env())
            .args(self.args(plan, &self.resolve_root, repos))
            .args([
                "--refresh",
                "repoquery",
                "--quiet",
                "--qf",
                lock::CANDIDATE_QUERY,
            ])
            .args(lock.packages.keys());
        let out =
            run(&mut cmd).context("listing the versions the repos offer of locked packages")?;
        let candidates = lock::parse_candidates(&String::from_utf8_lossy(&out.stdout));
        let excluded = lock::excludes(lock, &candidates)?;
        tracing::info!("{}", lock::summary(lock, &excluded));
        let specs = lock::pinned_specs(lock).join(",");
        let mut options: Vec<String> = excluded.iter().map(|e| format!("--exclude={e}")).collect();
        for r in &plan.treefile.lockfile_repos {
            options.push(format!("--setopt={r}.includepkgs={specs}"));
        }
        if mode == LockMode::Strict {
            options.push(format!("--setopt=includepkgs={specs}"));
        }
        Ok(options)
    }

    /// The lockfile rpm-ostree's `--ex-write-lockfile-to` would write for `resolution`.
    pub fn lockfile_text(&self, resolution: &Resolution, epoch: u64) -> String {
        let pins: Vec<mxos_treefile::lockfile::ResolvedPin> = resolution
            .packages
            .iter()
            .map(|p| mxos_treefile::lockfile::ResolvedPin {
                name: p.name.clone(),
                evra: format!("{}.{}", p.evr, p.arch),
                digest: p.digest.clone(),
                source_name: p.source_name.clone(),
            })
            .collect();
        mxos_treefile::lockfile::render(&pins, &self.repos_generated(resolution), epoch as i64)
    }

    /// When the metadata of each repo dnf read was generated: from the `repomd.xml` the
    /// no-change check fetched into the work dir, else from dnf's cache when it holds one
    /// copy for the repo (it keeps one per URL, and an old URL's would be wrong).
    pub fn repos_generated(
        &self,
        resolution: &Resolution,
    ) -> std::collections::BTreeMap<String, i64> {
        let work = self.dir.parent().unwrap_or(&self.dir);
        let cache = self.resolve_root.join("var/cache/dnf");
        let cached: Vec<(String, PathBuf)> = std::fs::read_dir(&cache)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
                    .collect()
            })
            .unwrap_or_default();
        let mut generated = std::collections::BTreeMap::new();
        for id in &resolution.repos {
            let fetched = work.join(format!("repomd-{id}.xml"));
            let text = match std::fs::read_to_string(&fetched) {
                Ok(t) => t,
                Err(_) => {
                    // dnf names each cache directory `ID-HEXHASH` (`fedora-…` is not
                    // `fedora-updates-…`).
                    let mut dirs = cached.iter().filter(|(name, _)| {
                        name.strip_prefix(id.as_str())
                            .and_then(|r| r.strip_prefix('-'))
                            .is_some_and(|h| {
                                !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit())
                            })
                    });
                    match (dirs.next(), dirs.next()) {
                        (Some((_, dir)), None) => {
                            std::fs::read_to_string(dir.join("repodata/repomd.xml"))
                                .unwrap_or_default()
                        }
                        _ => continue,
                    }
                }
            };
            if let Some(t) = repos::repomd_generated(&text) {
                generated.insert(id.clone(), t);
            }
        }
        generated
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
        ids: &IdSeed,
    ) -> Result<Installed> {
        let assembly = cache.ensure_all(&resolution.packages, &self.dir)?;
        cache.assemble(&assembly, root)?;
        let known = cache.known_inodes()?;
        // `preserve-passwd`: the reference's users exist before any %pre runs `useradd`.
        for (rel, reference) in [("etc/passwd", &ids.passwd), ("etc/group", &ids.group)] {
            let Some(reference) = reference else {
                continue;
            };
            let path = root.join(rel);
            let current = std::fs::read_to_string(&path).unwrap_or_default();
            if path.exists() {
                make_private(&path)?;
            }
            std::fs::write(
                &path,
                crate::postprocess::preserved_ids(&current, reference),
            )
            .with_context(|| format!("preserve-passwd: writing /{rel}"))?;
        }
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
        self.justdb(root, epoch, &all, !plan.treefile.documentation)
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

    /// Our rpm macros: where the rpmdb lives in MxOS trees, and `install-langs` (rpm then
    /// marks other languages' files "not installed", and the fixups drop them).
    fn write_macros(&self, plan: &Plan) -> Result<()> {
        let mut macros = format!("%_dbpath /{RPMDB_DIR}\n");
        if let Some(langs) = &plan.treefile.install_langs {
            macros.push_str(&format!("%_install_langs {}\n", langs.join(":")));
        }
        std::fs::write(self.dir.join("home/.rpmmacros"), macros).context("writing .rpmmacros")
    }
}

/// Users and groups to carry into the tree before packages create theirs
/// (`preserve-passwd`), as passwd/group texts.
#[derive(Debug, Default, Clone)]
pub struct IdSeed {
    pub passwd: Option<String>,
    pub group: Option<String>,
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
            tracing::warn!("{path}: owner {user}:{group} does not exist in the tree; using root");
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `NAME-VERSION-RELEASE.src.rpm` → `NAME`.
fn source_name(srpm: &str) -> Option<String> {
    let stem = srpm.strip_suffix(".rpm")?;
    let mut parts = stem.rsplitn(3, '-');
    let (_release_arch, _version, name) = (parts.next()?, parts.next()?, parts.next()?);
    (!name.is_empty()).then(|| name.to_owned())
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
