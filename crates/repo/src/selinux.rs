//! SELinux labels for commits, from the policy inside the tree being committed, as rpm-ostree
//! labels its composes: each file's and directory's `security.selinux` goes into its object
//! (content header or dirmeta), so a deployment checked out on an SELinux machine is
//! labelled without a relabel at boot.
//!
//! The policy is libostree's `SePolicy` over the tree (it finds `etc/selinux` or
//! `usr/etc/selinux`); the file contexts are looked up by the path the file has in the
//! commit, except that `/usr/etc/…` is looked up as `/etc/…` (labelling version 1), because
//! that is where the deployment's three-way merge puts it.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use ostree::gio;
use ostree::glib;
use ostree::prelude::*;

use crate::gerr;

/// How commit paths map to file-context paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelVersion {
    /// libostree's: every path as it is in the commit.
    Literal,
    /// `/usr/etc` labelled as `/etc` (rpm-ostree's `selinux-label-version: 1`).
    UsrEtcAsEtc,
}

/// Label the commit with the policy found in the committed tree itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labelling {
    /// Where the policy is read from: the root being committed.
    pub policy_root: PathBuf,
    pub version: LabelVersion,
}

/// The policy a tree ships: its name (`SELINUXTYPE`) and libostree's checksum of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyId {
    pub name: String,
    pub checksum: String,
}

/// The policy of the tree at `root`, if it ships one.
pub fn tree_policy(root: &Path) -> Result<Option<PolicyId>> {
    if !["etc/selinux/config", "usr/etc/selinux/config"]
        .iter()
        .any(|c| root.join(c).exists())
    {
        return Ok(None);
    }
    let policy = Policy::load(&Labelling {
        policy_root: root.to_owned(),
        version: LabelVersion::Literal,
    })?;
    Ok(Some(policy.id()))
}

/// The file-context path of `path` (absolute, as in the commit).
pub fn context_path(path: &str, version: LabelVersion) -> std::borrow::Cow<'_, str> {
    match version {
        LabelVersion::UsrEtcAsEtc if path == "/usr/etc" => "/etc".into(),
        LabelVersion::UsrEtcAsEtc if path.starts_with("/usr/etc/") => {
            format!("/etc/{}", &path["/usr/etc/".len()..]).into()
        }
        _ => path.into(),
    }
}

/// A loaded policy. libostree's `SePolicy` is not `Send`: every writer thread loads its own.
pub(crate) struct Policy {
    /// `None` only while dropping.
    inner: Option<ostree::SePolicy>,
    version: LabelVersion,
}

/// Loading a policy sets libselinux's process-wide policy root (`selinux_set_policy_root`)
/// and opening or closing a handle is not safe to race with that (libselinux 3.4 corrupts
/// its heap): loads and closes take turns; lookups on separate handles run in parallel.
static LOADING: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Drop for Policy {
    fn drop(&mut self) {
        let _turn = LOADING.lock();
        drop(self.inner.take());
    }
}

impl Policy {
    pub(crate) fn load(l: &Labelling) -> Result<Policy> {
        let has_config = ["etc/selinux/config", "usr/etc/selinux/config"]
            .iter()
            .any(|c| l.policy_root.join(c).exists());
        if !has_config {
            bail!(
                "{} has no SELinux policy (no etc/selinux/config naming one)",
                l.policy_root.display()
            );
        }
        let _turn = LOADING
            .lock()
            .map_err(|_| anyhow::anyhow!("a policy load panicked"))?;
        let inner =
            ostree::SePolicy::new(&gio::File::for_path(&l.policy_root), gio::Cancellable::NONE)
                .map_err(gerr)
                .with_context(|| {
                    format!("loading the SELinux policy of {}", l.policy_root.display())
                })?;
        if inner.csum().is_none() {
            bail!(
                "{} has no SELinux policy (no etc/selinux/config naming one)",
                l.policy_root.display()
            );
        }
        Ok(Policy {
            inner: Some(inner),
            version: l.version,
        })
    }

    fn handle(&self) -> &ostree::SePolicy {
        // Set in `load`, taken only by `drop`.
        self.inner
            .as_ref()
            .expect("policy handle present until drop")
    }

    pub(crate) fn id(&self) -> PolicyId {
        PolicyId {
            name: self.handle().name().to_string(),
            checksum: self
                .handle()
                .csum()
                .map(|c| c.to_string())
                .unwrap_or_default(),
        }
    }

    /// The xattrs libostree stores for a labelled object: `security.selinux` with the label,
    /// both as NUL-terminated byte strings. `None` when the policy has no label for it.
    pub(crate) fn xattrs(&self, path: &str, mode: u32) -> Result<Option<glib::Variant>> {
        let lookup = context_path(path, self.version);
        let label = self
            .handle()
            .label(&lookup, mode, gio::Cancellable::NONE)
            .map_err(gerr)
            .with_context(|| format!("looking up the SELinux label of {path}"))?;
        Ok(label.map(|l| {
            let mut name = b"security.selinux".to_vec();
            name.push(0);
            let mut value = l.as_bytes().to_vec();
            value.push(0);
            vec![(name, value)].to_variant()
        }))
    }
}

/// Labels `dir` and everything under it on disk as if it were at `as_path` on the machine
/// (`deploy/…/etc` as `/etc`), from the policy of `labelling`; returns how many entries it
/// labelled. For what a deployment gets outside its commit: the `/etc` libostree copies from
/// `/usr/etc` and the stateroot's `/var`, which a build host without SELinux leaves unlabelled.
pub fn label_on_disk(dir: &Path, as_path: &str, labelling: &Labelling) -> Result<usize> {
    let policy = Policy::load(labelling)?;
    let mut n = 0;
    let mut stack = vec![(dir.to_path_buf(), as_path.to_owned())];
    while let Some((path, on_machine)) = stack.pop() {
        let is_dir = label_one(&policy, &path, &on_machine, labelling.version)?;
        n += 1;
        if is_dir {
            for e in
                std::fs::read_dir(&path).with_context(|| format!("listing {}", path.display()))?
            {
                let e = e?;
                let name = e.file_name().to_string_lossy().into_owned();
                let child = match on_machine.as_str() {
                    "/" => format!("/{name}"),
                    p => format!("{p}/{name}"),
                };
                stack.push((e.path(), child));
            }
        }
    }
    Ok(n)
}

/// Labels each of `entries` (a path on disk and where it is seen from on the machine) and
/// nothing under it. For the physical root, whose `ostree/repo` objects are hard links of
/// every deployment's files: relabelling those would relabel the commits' files.
pub fn label_entries_on_disk(entries: &[(PathBuf, String)], labelling: &Labelling) -> Result<()> {
    let policy = Policy::load(labelling)?;
    for (path, on_machine) in entries {
        label_one(&policy, path, on_machine, labelling.version)?;
    }
    Ok(())
}

/// Returns whether `path` is a directory.
fn label_one(
    policy: &Policy,
    path: &Path,
    on_machine: &str,
    version: LabelVersion,
) -> Result<bool> {
    let meta =
        std::fs::symlink_metadata(path).with_context(|| format!("reading {}", path.display()))?;
    let lookup = context_path(on_machine, version);
    policy
        .handle()
        .restorecon(
            &lookup,
            None,
            &gio::File::for_path(path),
            ostree::SePolicyRestoreconFlags::ALLOW_NOLABEL,
            gio::Cancellable::NONE,
        )
        .map_err(gerr)
        .with_context(|| format!("labelling {} as {lookup}", path.display()))?;
    Ok(meta.is_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usr_etc_is_looked_up_as_etc_in_version_1_only() {
        use LabelVersion::*;
        assert_eq!(context_path("/usr/etc", UsrEtcAsEtc), "/etc");
        assert_eq!(context_path("/usr/etc/passwd", UsrEtcAsEtc), "/etc/passwd");
        assert_eq!(context_path("/usr/etcetera", UsrEtcAsEtc), "/usr/etcetera");
        assert_eq!(context_path("/usr/bin/bash", UsrEtcAsEtc), "/usr/bin/bash");
        assert_eq!(context_path("/usr/etc/passwd", Literal), "/usr/etc/passwd");
    }
}
