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
}

impl Repo {
    /// Pulls from `source`, a remote configured in this repo or a `file://`/`http://` URL.
    pub fn pull(&self, source: &str, opts: &PullOptions) -> Result<()> {
        let mut flags = ostree::RepoPullFlags::NONE;
        if opts.commit_only {
            flags |= ostree::RepoPullFlags::COMMIT_ONLY;
        }
        if opts.mirror {
            flags |= ostree::RepoPullFlags::MIRROR;
        }
        let dict = glib::VariantDict::new(None);
        dict.insert_value("refs", &opts.refs.to_variant());
        dict.insert_value("flags", &(flags.bits() as i32).to_variant());
        if !opts.commits.is_empty() {
            dict.insert_value("override-commit-ids", &opts.commits.to_variant());
        }
        self.inner
            .pull_with_options(source, &dict.end(), None, gio::Cancellable::NONE)
            .map_err(crate::gerr)
            .with_context(|| crate::Step::Pull {
                refs: opts.refs.join(", "),
                source: source.to_owned(),
            })
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
