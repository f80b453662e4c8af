//! Sysroot deployments: the device side of libostree, on a real `/` or a test directory.
//!
//! MxOS keeps two deployments per stateroot, as rpm-ostree does: the default one and the
//! one it replaced, so that a rollback is always one step away.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ostree::gio;

use crate::{gerr, Repo};

/// One deployment as the agent sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Deployment {
    /// Boot order position: 0 is what the next boot uses.
    pub index: usize,
    pub stateroot: String,
    pub checksum: String,
    pub serial: i32,
    /// `remote:ref` this deployment follows, from its origin file.
    pub refspec: Option<String>,
    pub booted: bool,
    pub staged: bool,
}

pub struct Sysroot {
    inner: ostree::Sysroot,
    path: PathBuf,
}

impl Sysroot {
    /// Prepares an empty directory as a sysroot with one stateroot, as
    /// `ostree admin init-fs` followed by `ostree admin os-init` does.
    pub fn init(path: &Path, stateroot: &str) -> Result<Sysroot> {
        for (dir, mode) in [
            ("boot", 0o755),
            ("dev", 0o755),
            ("home", 0o755),
            ("proc", 0o555),
            ("run", 0o755),
            ("sys", 0o555),
            ("tmp", 0o1777),
            ("root", 0o700),
        ] {
            let p = path.join(dir);
            std::fs::create_dir_all(&p).with_context(|| format!("creating {}", p.display()))?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode))
                .with_context(|| format!("setting mode of {}", p.display()))?;
        }
        let inner = ostree::Sysroot::new(Some(&gio::File::for_path(path)));
        inner
            .ensure_initialized(gio::Cancellable::NONE)
            .map_err(gerr)
            .with_context(|| crate::Step::InitSysroot {
                path: path.display().to_string(),
            })?;
        inner
            .load(gio::Cancellable::NONE)
            .map_err(gerr)
            .with_context(|| crate::Step::LoadSysroot {
                path: path.display().to_string(),
            })?;
        inner
            .init_osname(stateroot, gio::Cancellable::NONE)
            .map_err(gerr)
            .with_context(|| crate::Step::CreateStateroot {
                stateroot: stateroot.to_owned(),
            })?;
        Ok(Sysroot {
            inner,
            path: path.to_owned(),
        })
    }

    pub fn load(path: &Path) -> Result<Sysroot> {
        if !path.join("ostree/repo/config").exists() {
            return Err(crate::SysrootRefusal::NotASysroot {
                path: path.display().to_string(),
            }
            .into());
        }
        let inner = ostree::Sysroot::new(Some(&gio::File::for_path(path)));
        inner
            .load(gio::Cancellable::NONE)
            .map_err(gerr)
            .with_context(|| crate::Step::LoadSysroot {
                path: path.display().to_string(),
            })?;
        Ok(Sysroot {
            inner,
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn repo(&self) -> Repo {
        Repo::from_inner(self.inner.repo(), self.path.join("ostree/repo"))
    }

    pub fn deployments(&self) -> Vec<Deployment> {
        let booted = self.inner.booted_deployment();
        self.inner
            .deployments()
            .iter()
            .enumerate()
            .map(|(index, d)| Deployment {
                index,
                stateroot: d.osname().to_string(),
                checksum: d.csum().to_string(),
                serial: d.deployserial(),
                refspec: d
                    .origin()
                    .and_then(|o| o.string("origin", "refspec").ok())
                    .map(|s| s.to_string()),
                booted: booted.as_ref().is_some_and(|b| b.equal(d)),
                staged: d.is_staged(),
            })
            .collect()
    }

    /// The directory a deployment's tree is checked out in.
    pub fn deployment_dir(&self, d: &Deployment) -> PathBuf {
        self.path.join(format!(
            "ostree/deploy/{}/deploy/{}.{}",
            d.stateroot, d.checksum, d.serial
        ))
    }

    /// Deploys `commit` following `refspec` as the new default, merging `/etc` from the
    /// current default and keeping its kernel arguments; the current default stays as the
    /// rollback target. On a booted system the deployment is staged instead, and libostree's
    /// ostree-finalize-staged.service writes it at shutdown, so nothing changes under the
    /// running system.
    pub fn deploy(&self, stateroot: &str, commit: &str, refspec: &str) -> Result<Deployment> {
        let _lock = self.lock()?;
        let current = self.inner.deployments();
        let merge = self.inner.merge_deployment(Some(stateroot));
        let origin = self.inner.origin_new_from_refspec(refspec);
        // Default options: kernel arguments come from the merge deployment.
        let opts = ostree::SysrootDeployTreeOpts::default();
        if self.inner.is_booted() {
            self.inner
                .stage_tree_with_options(
                    Some(stateroot),
                    commit,
                    Some(&origin),
                    merge.as_ref(),
                    &opts,
                    gio::Cancellable::NONE,
                )
                .map_err(gerr)
                .with_context(|| crate::Step::Stage {
                    commit: commit.to_owned(),
                })?;
        } else {
            let new = self
                .inner
                .deploy_tree_with_options(
                    Some(stateroot),
                    commit,
                    Some(&origin),
                    merge.as_ref(),
                    Some(&opts),
                    gio::Cancellable::NONE,
                )
                .map_err(gerr)
                .with_context(|| crate::Step::Deploy {
                    commit: commit.to_owned(),
                })?;
            let mut list = vec![new];
            if let Some(first) = current.first() {
                list.push(first.clone());
            }
            self.write(&list)?;
        }
        self.inner.load(gio::Cancellable::NONE).map_err(gerr)?;
        self.deployments()
            .into_iter()
            .next()
            .context("no deployment after deploying")
    }

    /// Makes the second deployment the default again, keeping the first as the rollback.
    pub fn rollback(&self) -> Result<Deployment> {
        let _lock = self.lock()?;
        let mut list = self.inner.deployments();
        if list.len() < 2 {
            return Err(crate::SysrootRefusal::NothingToRollBackTo {
                deployments: list.len(),
            }
            .into());
        }
        list.swap(0, 1);
        self.write(&list)?;
        self.inner.load(gio::Cancellable::NONE).map_err(gerr)?;
        self.deployments()
            .into_iter()
            .next()
            .context("no deployment after rollback")
    }

    fn write(&self, list: &[ostree::Deployment]) -> Result<()> {
        self.inner
            .write_deployments(list, gio::Cancellable::NONE)
            .map_err(gerr)
            .context(crate::Step::WriteBootOrder)?;
        self.inner
            .cleanup(gio::Cancellable::NONE)
            .map_err(gerr)
            .context(crate::Step::CleanUp)
    }

    fn lock(&self) -> Result<SysrootLock<'_>> {
        if !self.inner.try_lock().map_err(gerr)? {
            return Err(crate::SysrootRefusal::Locked {
                path: self.path.display().to_string(),
            }
            .into());
        }
        Ok(SysrootLock(&self.inner))
    }
}

struct SysrootLock<'a>(&'a ostree::Sysroot);

impl Drop for SysrootLock<'_> {
    fn drop(&mut self) {
        self.0.unlock();
    }
}
