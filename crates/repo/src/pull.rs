//! Pulling commits between repositories, by remote name or straight from a URL.

use anyhow::{Context, Result};
use ostree::gio;
use ostree::glib::{self, ToVariant};

use crate::Repo;

/// What to fetch and how.
#[derive(Debug, Clone, Default)]
pub struct PullOptions {
    pub refs: Vec<String>,
    /// Only the commit object and its detached metadata: enough to check a signature before
    /// downloading the tree.
    pub commit_only: bool,
    /// Write refs exactly as on the source (publishing); otherwise pulled refs land under
    /// the remote's name when pulling by remote.
    pub mirror: bool,
    /// Fetch exactly these commits for `refs` (same order), not whatever the refs point at
    /// now: after checking a commit's signature, the tree pulled must be that commit's.
    pub commits: Vec<String>,
    /// Fetch from this URL instead of the remote's own (libostree's `override-url`), keeping
    /// the remote's keys and checks: a school mirror, a peer or a stick offers the same
    /// signed content as the main server.
    pub url: Option<String>,
}

impl Repo {
    /// Pulls from `source`, a remote configured in this repo or a `file://`/`http://` URL.
    pub fn pull(&self, source: &str, opts: &PullOptions) -> Result<()> {
        self.pull_counted(source, opts).map(|_| ())
    }

    /// [`Repo::pull`], returning how many bytes were downloaded (libostree's count of what
    /// came over the wire; a local `file://` import counts none).
    pub fn pull_counted(&self, source: &str, opts: &PullOptions) -> Result<u64> {
        let mut flags = ostree::RepoPullFlags::NONE;
        if opts.commit_only {
            flags |= ostree::RepoPullFlags::COMMIT_ONLY;
        }
        if opts.mirror {
            flags |= ostree::RepoPullFlags::MIRROR;
        }
        // A drive may hold anything: every object read from one is checksummed on import,
        // as every object fetched over HTTP is.
        if opts
            .url
            .as_deref()
            .is_some_and(|u| u.starts_with("file://"))
        {
            flags |= ostree::RepoPullFlags::UNTRUSTED;
        }
        let dict = glib::VariantDict::new(None);
        dict.insert_value("refs", &opts.refs.to_variant());
        dict.insert_value("flags", &(flags.bits() as i32).to_variant());
        if !opts.commits.is_empty() {
            dict.insert_value("override-commit-ids", &opts.commits.to_variant());
        }
        if let Some(url) = &opts.url {
            dict.insert_value("override-url", &url.to_variant());
        }
        let options = dict.end();
        // libostree counts no bytes for a `file://` source; what a stick gave is measured as
        // the new objects' size there.
        let local = opts
            .url
            .as_deref()
            .or(Some(source))
            .and_then(|u| u.strip_prefix("file://"))
            .map(std::path::PathBuf::from);
        let before = match &local {
            Some(_) => Some(self.loose_objects()?),
            None => None,
        };
        // libostree runs the pull in the thread's default main context and emits progress
        // there: a context of our own makes both happen on this thread, inside the caller's
        // tracing span, as the `ostree pull` CLI arranges it.
        glib::MainContext::new()
            .with_thread_default(|| {
                let progress = ostree::AsyncProgress::new();
                progress.connect_changed(report_progress);
                let pulled = self.inner.pull_with_options(
                    source,
                    &options,
                    Some(&progress),
                    gio::Cancellable::NONE,
                );
                let bytes = progress.uint64("bytes-transferred");
                progress.finish();
                pulled.map(|()| bytes)
            })
            .context("taking a GLib main context for the pull")?
            .map_err(crate::gerr)
            .with_context(|| crate::Step::Pull {
                refs: opts.refs.join(", "),
                source: opts.url.clone().unwrap_or_else(|| source.to_owned()),
            })
            .and_then(|bytes| match (local, before) {
                (Some(from), Some(before)) => Ok(self.size_of_new_objects(&before, &from)?),
                _ => Ok(bytes),
            })
    }

    /// The names (`ab/cdef….file`) of the loose objects this repo holds.
    fn loose_objects(&self) -> Result<std::collections::HashSet<String>> {
        let mut names = std::collections::HashSet::new();
        let objects = self.path().join("objects");
        let Ok(dirs) = std::fs::read_dir(&objects) else {
            return Ok(names);
        };
        for d in dirs {
            let d = d?;
            let prefix = d.file_name().to_string_lossy().into_owned();
            if prefix.len() != 2 {
                continue;
            }
            for f in std::fs::read_dir(d.path())? {
                names.insert(format!("{prefix}/{}", f?.file_name().to_string_lossy()));
            }
        }
        Ok(names)
    }

    /// How many bytes the objects that arrived since `before` take in the repo at `from`
    /// (an archive repo keeps files as `.filez`).
    fn size_of_new_objects(
        &self,
        before: &std::collections::HashSet<String>,
        from: &std::path::Path,
    ) -> Result<u64> {
        let objects = from.join("objects");
        let size = |name: &str| std::fs::metadata(objects.join(name)).map(|m| m.len());
        Ok(self
            .loose_objects()?
            .difference(before)
            .map(|n| size(n).or_else(|_| size(&format!("{n}z"))).unwrap_or(0))
            .sum())
    }

    /// Pulls refs from another local repository, as `ostree pull-local` does.
    pub fn pull_local(&self, from: &Repo, refs: &[String]) -> Result<()> {
        let url = format!("file://{}", from.path().canonicalize()?.display());
        self.pull(
            &url,
            &PullOptions {
                refs: refs.to_vec(),
                mirror: true,
                ..Default::default()
            },
        )
    }
}

/// What a pull has done so far, as the progress events the binaries draw: delta parts when
/// the pull goes through a static delta, objects otherwise, and the bytes downloaded.
fn report_progress(p: &ostree::AsyncProgress) {
    let (done, total) = progress_counts(
        p.uint("fetched"),
        p.uint("requested"),
        p.uint("fetched-delta-parts"),
        p.uint("total-delta-parts"),
    );
    tracing::trace!(
        target: "mxos::progress",
        done,
        total,
        bytes = p.uint64("bytes-transferred")
    );
}

fn progress_counts(fetched: u32, requested: u32, delta_parts: u32, total_parts: u32) -> (u64, u64) {
    if total_parts > 0 {
        (u64::from(delta_parts), u64::from(total_parts))
    } else {
        (u64::from(fetched), u64::from(requested))
    }
}

#[cfg(test)]
mod tests {
    use super::progress_counts;

    #[test]
    fn a_delta_pull_counts_parts_and_an_object_pull_counts_objects() {
        assert_eq!(progress_counts(3, 10, 0, 0), (3, 10));
        assert_eq!(progress_counts(1, 1, 2, 4), (2, 4));
    }
}
