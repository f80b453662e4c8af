//! `mxos-compose` subcommands: plan, tree, keygen, sign, verify, publish, prune.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{CommandFactory, Parser, Subcommand};
use mxos_compose::{ComposeRequest, Outcome};
use mxos_repo::{Repo, RepoMode};

use crate::output;
use crate::reports::{
    CacheReport, DeltaReport, KeygenReport, PruneReport, PublishReport, PublishedRef, SignReport,
    TreeOutcome, TreeReport, VerifyReport,
};
use crate::source_date_epoch;

#[derive(Parser)]
#[command(
    name = "mxos-compose",
    version,
    about = "Compose, sign and publish MxOS OSTree commits",
    after_long_help = "Exit status: 0 on success, 1 when the command failed (the error says why, \
with every cause), 2 for a command line that does not parse.\n\n\
Environment: MXOS_LOG sets what is logged (tracing's filter syntax, e.g. MXOS_LOG=debug); \
SOURCE_DATE_EPOCH fixes the time composes record.\n\n\
--json prints each result as one JSON object on stdout whose `schema` field names its \
schema (docs/json/); logs and progress go to stderr."
)]
struct Cli {
    #[command(flatten)]
    verbosity: crate::log::Verbosity,
    /// Print the result as JSON (one object on stdout; schemas in docs/json/).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and validate a treefile; print its canonical plan as JSON.
    Plan {
        treefile: PathBuf,
        #[arg(long, default_value = std::env::consts::ARCH)]
        basearch: String,
        #[command(flatten)]
        lockfiles: LockfileArgs,
        /// Indent the JSON (same content, for reading).
        #[arg(long)]
        pretty: bool,
    },
    /// Compose a treefile into a commit on its ref.
    Tree {
        treefile: PathBuf,
        /// Build repository (created if missing).
        #[arg(long)]
        repo: PathBuf,
        /// Mode of a new repository: bare-user or archive.
        #[arg(long, default_value = "bare-user")]
        mode: String,
        /// Scratch directory (default: a fresh one inside --cachedir, removed afterwards).
        /// Keep it on the cache's filesystem: roots are assembled by hard links.
        #[arg(long)]
        workdir: Option<PathBuf>,
        /// What dnf trees keep between composes: the package cache and dnf's repo
        /// metadata (safe to delete at any time).
        #[arg(long, default_value = "/var/cache/mxos/compose")]
        cachedir: PathBuf,
        /// Directory holding overlays (default: ../overlays from the treefile's directory).
        #[arg(long)]
        overlays: Option<PathBuf>,
        /// Sign the new commit with this ed25519 secret key.
        #[arg(long)]
        sign_key: Option<PathBuf>,
        /// Compose even if the inputs did not change.
        #[arg(long)]
        force_nocache: bool,
        #[arg(long, default_value = std::env::consts::ARCH)]
        basearch: String,
        #[command(flatten)]
        lockfiles: LockfileArgs,
        /// Only locked packages may be installed (rpm-ostree's `--ex-lockfile-strict`).
        #[arg(long)]
        lockfile_strict: bool,
        /// Write the resolved packages as an rpm-ostree lockfile (`--ex-write-lockfile-to`).
        #[arg(long, value_name = "FILE")]
        write_lockfile_to: Option<PathBuf>,
        /// Touch FILE (create it, or update its time) when a new commit was written, as
        /// rpm-ostree does: scripts tell a no-op from a change without parsing output.
        #[arg(long, value_name = "FILE")]
        touch_if_changed: Option<PathBuf>,
        /// Collection the commits are bound to (`ostree.collection-binding`); a new build
        /// repo takes it as its `core.collection-id`.
        #[arg(long, value_name = "ID", default_value = mxos_repo::DEFAULT_COLLECTION_ID)]
        collection_id: String,
    },
    /// Create an ed25519 key pair: BASE.secret and BASE.pub.
    Keygen {
        base: PathBuf,
    },
    /// Sign a commit (ref or checksum) in a repository, with ed25519 and/or GPG.
    Sign {
        #[arg(long)]
        repo: PathBuf,
        rev: String,
        /// ed25519 secret key (ostree's format).
        #[arg(long, required_unless_present = "gpg_key_id")]
        key: Option<PathBuf>,
        /// Also (or only) sign with this GPG key, through libostree.
        #[arg(long, value_name = "ID", requires = "gpg_homedir")]
        gpg_key_id: Option<String>,
        /// GnuPG home directory holding the GPG secret key.
        #[arg(long, value_name = "DIR", requires = "gpg_key_id")]
        gpg_homedir: Option<PathBuf>,
    },
    /// Verify a commit's ed25519 signature against trusted public keys.
    Verify {
        #[arg(long)]
        repo: PathBuf,
        rev: String,
        /// File with one base64 public key per line.
        #[arg(long)]
        pubkey: PathBuf,
    },
    /// Steer machines: channels, rollouts, pause, fleet rollback.
    Fleet(crate::fleet::FleetArgs),
    /// Write a bootable disk image (raw or qcow2) of a commit.
    Disk(crate::disk::DiskArgs),
    /// Write a USB stick image (raw or qcow2) that installs a commit on every machine it boots.
    Installer(crate::disk::InstallerArgs),
    Container(crate::container::ContainerArgs),
    ContainerDiff(crate::container::DiffArgs),
    ContainerImport(crate::container::ImportArgs),
    /// Copy what channels need from a published repo into a school mirror any web server serves.
    Mirror(crate::mirror::MirrorArgs),
    /// Write what channels need onto a mounted USB drive, for machines without network.
    Usb(crate::mirror::UsbArgs),
    /// Publish refs to a static archive repository with a signed summary.
    Publish {
        #[arg(long)]
        repo: PathBuf,
        #[arg(long)]
        to: PathBuf,
        #[arg(long)]
        sign_key: PathBuf,
        /// URL devices use to reach the published repo (for the remote config).
        #[arg(long)]
        url: Option<String>,
        /// Refs to publish (default: all composed refs).
        #[arg(long = "ref")]
        refs: Vec<String>,
        #[arg(long, default_value = "mxos")]
        remote_name: String,
        /// Static deltas from each of the previous N published commits of a ref to its new
        /// head (0: none).
        #[arg(long, default_value_t = 1)]
        deltas: usize,
        /// Also a from-scratch delta for first installs (slow on large trees).
        #[arg(long)]
        delta_from_scratch: bool,
        /// Days devices accept the summary (`ostree.summary.expires`); 0 makes it expired
        /// at once, which withdraws the repo from devices.
        #[arg(long, value_name = "N", default_value_t = mxos_publish::summary::DEFAULT_VALID_DAYS)]
        summary_valid_days: u32,
        /// Also sign the published heads and the summary with this GPG key (libostree's
        /// gpgme signatures, beside the ed25519 ones); the remote config then requires GPG.
        #[arg(long, value_name = "ID", requires = "gpg_homedir")]
        gpg_sign: Option<String>,
        /// GnuPG home directory holding the --gpg-sign secret key.
        #[arg(long, value_name = "DIR", requires = "gpg_sign")]
        gpg_homedir: Option<PathBuf>,
        /// Collection ID of the published repo; every published commit must be bound to it.
        #[arg(long, value_name = "ID", default_value = mxos_repo::DEFAULT_COLLECTION_ID)]
        collection_id: String,
    },
    /// Commit a directory as it is (benchmarks and debugging; composes use `tree`).
    #[command(hide = true)]
    CommitDir {
        dir: PathBuf,
        #[arg(long)]
        repo: PathBuf,
        /// Mode of a new repository: bare-user or archive.
        #[arg(long, default_value = "bare-user")]
        mode: String,
        #[arg(long = "ref")]
        reference: String,
        /// Writer threads (default: every core); 0 means libostree's own single-threaded walk.
        #[arg(long)]
        threads: Option<usize>,
        /// Label from the SELinux policy inside DIR (/usr/etc as /etc), as composes do.
        #[arg(long)]
        selinux: bool,
    },
    /// Delete old commits, their deltas and unreachable objects from a published repo;
    /// heads and commits pinned by fleet manifests stay. The summary is re-signed.
    Prune {
        /// The published (archive) repository.
        #[arg(long)]
        public: PathBuf,
        /// Keep this many commits of each ref, the head included.
        #[arg(long)]
        keep: Option<usize>,
        /// Keep commits younger than this many days.
        #[arg(long)]
        keep_younger_than: Option<u64>,
        #[arg(long)]
        sign_key: PathBuf,
        /// Also GPG-sign the re-listed summary (a repo published with `--gpg-sign`).
        #[arg(long, value_name = "ID", requires = "gpg_homedir")]
        gpg_sign: Option<String>,
        /// GnuPG home directory holding the --gpg-sign secret key.
        #[arg(long, value_name = "DIR", requires = "gpg_sign")]
        gpg_homedir: Option<PathBuf>,
    },
}

/// Which lockfiles pin the packages: by default `NAME-lock.ARCH.json` and its overrides
/// beside the treefile (`manifest-lock.*` for `manifest.yaml`, as coreos-assembler names them).
#[derive(clap::Args)]
struct LockfileArgs {
    /// Use this lockfile instead of those beside the treefile (repeatable; later ones win).
    #[arg(long = "lockfile", value_name = "FILE", conflicts_with = "no_lockfile")]
    files: Vec<PathBuf>,
    /// Ignore lockfiles beside the treefile.
    #[arg(long)]
    no_lockfile: bool,
}

impl LockfileArgs {
    fn choice(self) -> mxos_treefile::Lockfiles {
        if self.no_lockfile {
            mxos_treefile::Lockfiles::None
        } else if self.files.is_empty() {
            mxos_treefile::Lockfiles::Beside
        } else {
            mxos_treefile::Lockfiles::Files(self.files)
        }
    }
}

/// The command line as clap knows it: man pages and completions are generated from it.
pub fn command() -> clap::Command {
    Cli::command()
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    crate::log::init("mxos-compose", &cli.verbosity);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            crate::report(&e);
            ExitCode::FAILURE
        }
    }
}

fn tree_report(outcome: Outcome) -> TreeReport {
    match outcome {
        Outcome::Unchanged {
            reference,
            checksum,
        } => TreeReport {
            outcome: TreeOutcome::Unchanged,
            reference: Some(reference),
            checksum,
            version: None,
            packages: None,
            signed: None,
            package_cache: None,
        },
        Outcome::Committed {
            reference,
            checksum,
            version,
            packages,
            signed,
            cache,
        } => TreeReport {
            outcome: TreeOutcome::Committed,
            reference,
            checksum,
            version,
            packages: Some(packages),
            signed: Some(signed),
            package_cache: cache.map(|c| CacheReport {
                imported: c.imported,
                reused_files: c.reused_files,
                forgotten: c.forgotten,
                discarded_for: c
                    .discarded_for
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect(),
            }),
        },
    }
}

/// `touch FILE`: created if missing, its times set to now.
fn touch(path: &std::path::Path) -> Result<()> {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("--touch-if-changed: opening {}", path.display()))?;
    f.set_modified(std::time::SystemTime::now())
        .with_context(|| format!("--touch-if-changed: touching {}", path.display()))
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Plan {
            treefile,
            basearch,
            lockfiles,
            pretty,
        } => {
            let plan = mxos_treefile::load_with(&treefile, &basearch, &lockfiles.choice())?;
            for w in &plan.warnings {
                tracing::warn!("{w}");
            }
            if pretty {
                println!("{}", plan.pretty_json());
            } else {
                println!("{}", plan.canonical_json());
            }
        }
        Command::Tree {
            treefile,
            repo,
            mode,
            workdir,
            cachedir,
            overlays,
            sign_key,
            force_nocache,
            basearch,
            lockfiles,
            lockfile_strict,
            write_lockfile_to,
            touch_if_changed,
            collection_id,
        } => {
            // dnf takes its install root only as an absolute path.
            let cachedir = std::path::absolute(&cachedir)
                .with_context(|| format!("resolving {}", cachedir.display()))?;
            let tmp;
            let workdir = match workdir {
                Some(w) => {
                    std::path::absolute(&w).with_context(|| format!("resolving {}", w.display()))?
                }
                None => {
                    std::fs::create_dir_all(&cachedir)
                        .with_context(|| format!("creating {}", cachedir.display()))?;
                    tmp = tempfile::Builder::new()
                        .prefix("work-")
                        .tempdir_in(&cachedir)
                        .with_context(|| {
                            format!("creating a work dir under {}", cachedir.display())
                        })?;
                    tmp.path().to_owned()
                }
            };
            let outcome = mxos_compose::compose(&ComposeRequest {
                treefile,
                repo,
                mode: RepoMode::parse(&mode)?,
                workdir,
                cachedir: Some(cachedir),
                overlays_dir: overlays,
                sign_key,
                force: force_nocache,
                basearch,
                source_date_epoch: source_date_epoch()?,
                lockfiles: lockfiles.choice(),
                lock_mode: if lockfile_strict {
                    mxos_compose::LockMode::Strict
                } else {
                    mxos_compose::LockMode::Relaxed
                },
                write_lockfile_to,
                collection_id: Some(collection_id),
            })?;
            let report = tree_report(outcome);
            if let Some(c) = report
                .package_cache
                .as_ref()
                .filter(|c| !c.discarded_for.is_empty())
            {
                tracing::warn!(
                    "the package cache was deleted: scriptlets or postprocessing wrote in place to {} (the commit hashed their new content)",
                    c.discarded_for.join(", ")
                );
            }
            if let (Some(path), TreeOutcome::Committed) = (&touch_if_changed, report.outcome) {
                touch(path)?;
            }
            output::emit(cli.json, &report);
        }
        Command::Keygen { base } => {
            let secret = base.with_extension("secret");
            let public = base.with_extension("pub");
            let key = mxos_sign::write_keypair(&secret, &public)?;
            output::emit(
                cli.json,
                &KeygenReport {
                    secret_key: secret.display().to_string(),
                    public_key_file: public.display().to_string(),
                    public_key: key.to_string(),
                },
            );
        }
        Command::Sign {
            repo,
            rev,
            key,
            gpg_key_id,
            gpg_homedir,
        } => {
            let repo = Repo::open(&repo)?;
            let checksum = repo.require(&rev)?;
            // Read the ed25519 key first: a bad key file must not leave a half-signed commit.
            let key = key.map(|k| mxos_sign::SecretKey::read(&k)).transpose()?;
            let mut report = SignReport {
                checksum,
                ed25519: None,
                gpg_key_id: None,
            };
            if let (Some(id), Some(homedir)) = (gpg_key_id, gpg_homedir) {
                let signer = mxos_publish::summary::GpgSigner {
                    key_id: id,
                    homedir,
                };
                let public_key = signer.export_public()?;
                repo.gpg_sign_commit(&report.checksum, &signer.key(), &public_key)?;
                report.gpg_key_id = Some(signer.key_id);
            }
            if let Some(key) = key {
                mxos_sign::sign_commit(&repo, &report.checksum, &key)?;
                report.ed25519 = Some(key.public().to_string());
            }
            output::emit(cli.json, &report);
        }
        Command::Verify { repo, rev, pubkey } => {
            let repo = Repo::open(&repo)?;
            let keys = mxos_sign::PublicKey::read_all(&pubkey)?;
            let key = mxos_sign::verify_commit(&repo, &rev, &keys)?;
            output::emit(
                cli.json,
                &VerifyReport {
                    checksum: repo.require(&rev)?,
                    key: key.to_string(),
                },
            );
        }
        Command::Disk(a) => crate::disk::run(a, cli.json)?,
        Command::Installer(a) => crate::disk::run_installer(a, cli.json)?,
        Command::Fleet(a) => crate::fleet::run(a, cli.json)?,
        Command::Mirror(a) => crate::mirror::run_mirror(a, cli.json)?,
        Command::Usb(a) => crate::mirror::run_usb(a, cli.json)?,
        Command::Container(a) => crate::container::run(a, cli.json)?,
        Command::ContainerDiff(a) => crate::container::diff(a, cli.json)?,
        Command::ContainerImport(a) => crate::container::import(a, cli.json)?,
        Command::Publish {
            repo,
            to,
            sign_key,
            url,
            refs,
            remote_name,
            deltas,
            delta_from_scratch,
            summary_valid_days,
            gpg_sign,
            gpg_homedir,
            collection_id,
        } => {
            let report = mxos_publish::publish(&mxos_publish::PublishRequest {
                build_repo: repo,
                public_dir: to,
                refs,
                sign_key,
                url,
                remote_name,
                deltas: mxos_publish::DeltaPolicy {
                    from_previous: deltas,
                    from_scratch: delta_from_scratch,
                },
                summary_valid_days,
                now: crate::now().max(0) as u64,
                gpg: gpg_sign
                    .zip(gpg_homedir)
                    .map(|(key_id, homedir)| mxos_publish::summary::GpgSigner { key_id, homedir }),
                collection_id,
            })?;
            output::emit(
                cli.json,
                &PublishReport {
                    refs: report
                        .refs
                        .iter()
                        .map(|(r, c)| PublishedRef {
                            reference: r.clone(),
                            checksum: c.clone(),
                        })
                        .collect(),
                    deltas: report.deltas.iter().map(DeltaReport::of).collect(),
                    remote_config: report.remote_conf.display().to_string(),
                    public_key: report.public_key.display().to_string(),
                    gpg_public_key: report
                        .gpg_public_key
                        .as_ref()
                        .map(|k| k.display().to_string()),
                },
            );
        }
        Command::CommitDir {
            dir,
            repo,
            mode,
            reference,
            threads,
            selinux,
        } => {
            let repo = Repo::open_or_create(&repo, RepoMode::parse(&mode)?)?;
            let labels = selinux.then(|| mxos_repo::Labelling {
                policy_root: dir.clone(),
                version: mxos_repo::LabelVersion::UsrEtcAsEtc,
            });
            let req = mxos_repo::CommitRequest {
                reference: Some(&reference),
                root: &dir,
                layers: &[],
                parent: None,
                subject: "commit-dir",
                metadata: &Default::default(),
                timestamp: source_date_epoch()?.unwrap_or(0),
                known: None,
                selinux: labels.as_ref(),
            };
            let checksum = match threads {
                None => repo.commit_tree(&req)?,
                Some(0) => repo.commit_tree_serial(&req)?,
                Some(n) => repo.commit_tree_with(&req, Some(n))?,
            };
            println!("{checksum}");
        }
        Command::Prune {
            public,
            keep,
            keep_younger_than,
            sign_key,
            gpg_sign,
            gpg_homedir,
        } => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .context("reading the clock")?
                .as_secs();
            let report = mxos_publish::prune::prune(&mxos_publish::prune::PruneRequest {
                public_dir: public,
                keep,
                keep_younger_than_days: keep_younger_than,
                sign_key,
                now,
                gpg: gpg_sign
                    .zip(gpg_homedir)
                    .map(|(key_id, homedir)| mxos_publish::summary::GpgSigner { key_id, homedir }),
            })?;
            output::emit(
                cli.json,
                &PruneReport {
                    commits_deleted: report.commits_deleted,
                    deltas_deleted: report.deltas_deleted.iter().map(DeltaReport::of).collect(),
                    objects_deleted: report.objects_deleted.max(0) as u64,
                    bytes_freed: report.bytes_freed,
                },
            );
        }
    }
    Ok(())
}
