//! Committing directory trees: a package root unioned with layer commits, in one transaction.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use ostree::gio;
use ostree::glib;
use ostree::prelude::*;

use crate::checkout::{CommitReport, KnownInodes};
use crate::parallel::Reuse;
use crate::selinux::Labelling;
use crate::{gerr, MetaValue, Repo};

/// A commit of `root` with the trees of `layers` laid over it in order (later layers win).
pub struct CommitRequest<'a> {
    /// The ref to move to the new commit; `None` writes the commit alone (a treefile
    /// without `ref`, composed for a container image).
    pub reference: Option<&'a str>,
    pub root: &'a Path,
    pub layers: &'a [String],
    pub parent: Option<&'a str>,
    pub subject: &'a str,
    pub metadata: &'a BTreeMap<String, MetaValue>,
    /// Seconds since the epoch; callers pass a reproducible time, never "now".
    pub timestamp: u64,
    /// Inodes of a package cache the root was checked out from (see [`crate::checkout`]).
    pub known: Option<&'a KnownInodes>,
    /// Label every file and directory, layers included, from this policy; the commit then
    /// records the policy in [`KEY_SELINUX_POLICY`].
    pub selinux: Option<&'a Labelling>,
}

/// Commit metadata: the SELinux policy a labelled commit was labelled with, `NAME:CHECKSUM`
/// (libostree's checksum of the policy files).
pub const KEY_SELINUX_POLICY: &str = "mxos.selinux-policy";

/// A standalone layer commit (e.g. an overlay): every file is owned by root, whoever owns
/// the source checkout, because layers describe the target system, not the build host.
pub struct LayerCommit<'a> {
    pub reference: &'a str,
    pub dir: &'a Path,
    /// Previous commit of the same history (e.g. the channel's last manifest), if any.
    pub parent: Option<&'a str>,
    pub metadata: &'a BTreeMap<String, MetaValue>,
    pub timestamp: u64,
}

impl Repo {
    /// Writes the commit and moves the ref to it; nothing is visible unless all of it lands.
    /// Content objects are written from every core (see [`crate::parallel`]).
    pub fn commit_tree(&self, req: &CommitRequest) -> Result<String> {
        self.commit_tree_report(req).map(|r| r.checksum)
    }

    /// [`Repo::commit_tree`], also saying what the inode index of `req.known` saved and
    /// which of its links were changed in place.
    pub fn commit_tree_report(&self, req: &CommitRequest) -> Result<CommitReport> {
        self.commit_tree_inner(req, Some(crate::parallel::default_threads()))
    }

    /// [`Repo::commit_tree`] through libostree's own single-threaded directory walk: the
    /// reference the parallel writer must match checksum for checksum (tests, benchmarks).
    pub fn commit_tree_serial(&self, req: &CommitRequest) -> Result<String> {
        self.commit_tree_with(req, None)
    }

    /// `threads: None` is libostree's walk; `Some(n)` is our walk with n writer threads.
    pub fn commit_tree_with(&self, req: &CommitRequest, threads: Option<usize>) -> Result<String> {
        self.commit_tree_inner(req, threads).map(|r| r.checksum)
    }

    fn commit_tree_inner(
        &self,
        req: &CommitRequest,
        threads: Option<usize>,
    ) -> Result<CommitReport> {
        let mut reuse = Reuse::default();
        let mut metadata = req.metadata.clone();
        self.bind(req.reference, &mut metadata);
        if let Some(l) = req.selinux {
            let id = crate::selinux::Policy::load(l)?.id();
            metadata.insert(
                KEY_SELINUX_POLICY.into(),
                MetaValue::Str(format!("{}:{}", id.name, id.checksum)),
            );
        }
        let threads = match (threads, req.selinux) {
            // libostree's walk cannot label /usr/etc as /etc: labelled commits use ours.
            (None, Some(_)) => Some(1),
            (t, _) => t,
        };
        let checksum = self.in_transaction(req.reference, || {
            let mtree = ostree::MutableTree::new();
            match threads {
                Some(n) => {
                    reuse = crate::parallel::write_dir_to_mtree(
                        &self.inner,
                        req.root,
                        &mtree,
                        n,
                        req.known,
                        req.selinux,
                    )
                    .with_context(|| {
                        format!("writing {} into the repository", req.root.display())
                    })?
                }
                None => {
                    let modifier = ostree::RepoCommitModifier::new(
                        ostree::RepoCommitModifierFlags::SKIP_XATTRS,
                        None,
                    );
                    self.inner
                        .write_directory_to_mtree(
                            &gio::File::for_path(req.root),
                            &mtree,
                            Some(&modifier),
                            gio::Cancellable::NONE,
                        )
                        .map_err(gerr)
                        .with_context(|| {
                            format!("writing {} into the repository", req.root.display())
                        })?
                }
            }
            for layer in req.layers {
                if let Some(labels) = req.selinux {
                    self.lay_labelled(layer, &mtree, labels)?;
                    continue;
                }
                let (layer_root, _) = self
                    .inner
                    .read_commit(layer, gio::Cancellable::NONE)
                    .map_err(gerr)
                    .with_context(|| format!("reading layer {layer}"))?;
                self.inner
                    .write_directory_to_mtree(&layer_root, &mtree, None, gio::Cancellable::NONE)
                    .map_err(gerr)
                    .with_context(|| format!("laying {layer} over the tree"))?;
            }
            self.finish_commit(&mtree, req.parent, req.subject, &metadata, req.timestamp)
        })?;
        Ok(CommitReport {
            checksum,
            reused: reuse.reused,
            changed_links: reuse.changed_links,
        })
    }

    /// Lays `layer` over `mtree` with labels: checked out (it is small: an overlay) and
    /// written again through the labelling writer, since its objects carry no labels.
    fn lay_labelled(
        &self,
        layer: &str,
        mtree: &ostree::MutableTree,
        labels: &Labelling,
    ) -> Result<()> {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = self
            .path()
            .join(format!("tmp/mxos-layer-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let commit = self.require(layer)?;
        let options = ostree::RepoCheckoutAtOptions {
            mode: ostree::RepoCheckoutMode::None,
            ..Default::default()
        };
        let result = self
            .inner
            .checkout_at(Some(&options), -100, &dir, &commit, gio::Cancellable::NONE)
            .map_err(gerr)
            .with_context(|| format!("checking out layer {layer}"))
            .and_then(|()| {
                crate::parallel::write_dir_to_mtree(
                    &self.inner,
                    &dir,
                    mtree,
                    crate::parallel::default_threads(),
                    None,
                    Some(labels),
                )
                .with_context(|| format!("laying {layer} over the tree"))
            });
        let _ = std::fs::remove_dir_all(&dir);
        result.map(|_| ())
    }

    pub fn commit_layer(&self, req: &LayerCommit) -> Result<String> {
        let mut metadata = req.metadata.clone();
        self.bind(Some(req.reference), &mut metadata);
        self.in_transaction(Some(req.reference), || {
            let mtree = ostree::MutableTree::new();
            let modifier = ostree::RepoCommitModifier::new(
                ostree::RepoCommitModifierFlags::SKIP_XATTRS,
                Some(Box::new(
                    |_repo: &ostree::Repo, _path: &str, info: &gio::FileInfo| {
                        info.set_attribute_uint32("unix::uid", 0);
                        info.set_attribute_uint32("unix::gid", 0);
                        ostree::RepoCommitFilterResult::Allow
                    },
                )),
            );
            self.inner
                .write_directory_to_mtree(
                    &gio::File::for_path(req.dir),
                    &mtree,
                    Some(&modifier),
                    gio::Cancellable::NONE,
                )
                .map_err(gerr)
                .with_context(|| {
                    format!("writing layer {} from {}", req.reference, req.dir.display())
                })?;
            self.finish_commit(&mtree, req.parent, req.reference, &metadata, req.timestamp)
        })
    }

    /// Commits the tree of `source` again as a new head of `reference`, with new metadata
    /// and time: how an old version is re-issued so devices move "forward" to it.
    pub fn recommit(
        &self,
        source: &str,
        reference: &str,
        subject: &str,
        metadata: &BTreeMap<String, MetaValue>,
        timestamp: u64,
    ) -> Result<String> {
        let source = self.require(source)?;
        let parent = self.resolve(reference)?;
        let mut metadata = metadata.clone();
        self.bind(Some(reference), &mut metadata);
        self.in_transaction(Some(reference), || {
            let (root, _) = self
                .inner
                .read_commit(&source, gio::Cancellable::NONE)
                .map_err(gerr)
                .with_context(|| format!("reading commit {source}"))?;
            self.commit_root(root, parent.as_deref(), subject, &metadata, timestamp)
                .with_context(|| format!("re-committing the tree of {source}"))
        })
    }

    /// Runs `write` (which returns the new commit) in one transaction and moves `reference`
    /// to it; if anything fails, the transaction is aborted and the repo is as before.
    fn in_transaction(
        &self,
        reference: Option<&str>,
        write: impl FnOnce() -> Result<String>,
    ) -> Result<String> {
        let tx = self
            .inner
            .auto_transaction(gio::Cancellable::NONE)
            .map_err(gerr)
            .context("starting transaction")?;
        let checksum = write()?;
        if let Some(reference) = reference {
            self.inner
                .transaction_set_refspec(reference, Some(&checksum));
        }
        tx.commit(gio::Cancellable::NONE)
            .map_err(gerr)
            .context("committing transaction")?;
        Ok(checksum)
    }

    fn finish_commit(
        &self,
        mtree: &ostree::MutableTree,
        parent: Option<&str>,
        subject: &str,
        metadata: &BTreeMap<String, MetaValue>,
        timestamp: u64,
    ) -> Result<String> {
        let root = self
            .inner
            .write_mtree(mtree, gio::Cancellable::NONE)
            .map_err(gerr)
            .context("writing the tree's directory objects")?;
        self.commit_root(root, parent, subject, metadata, timestamp)
    }

    /// Writes the commit object for an already written root tree.
    fn commit_root(
        &self,
        root: gio::File,
        parent: Option<&str>,
        subject: &str,
        metadata: &BTreeMap<String, MetaValue>,
        timestamp: u64,
    ) -> Result<String> {
        let root = root
            .downcast::<ostree::RepoFile>()
            .map_err(|_| anyhow::anyhow!("libostree returned a root that is not a RepoFile"))?;
        let dict = glib::VariantDict::new(None);
        for (k, v) in metadata {
            dict.insert_value(k, &v.to_variant());
        }
        let checksum = self
            .inner
            .write_commit_with_time(
                parent,
                Some(subject),
                None,
                Some(&dict.end()),
                &root,
                timestamp,
                gio::Cancellable::NONE,
            )
            .map_err(gerr)
            .context("writing the commit object")?;
        Ok(checksum.to_string())
    }
}
