//! Static deltas at publish time: from the last N published commits of each ref to its new
//! head (and optionally from scratch), so a device that is a few versions behind downloads
//! only what changed. Devices need nothing: libostree's pull picks a delta listed in the
//! summary's index when it has the delta's starting commit.
//!
//! Deltas are not signed: libostree here has no ed25519, and devices verify the commit
//! they end up with (its signature) before deploying it, whatever path the objects took.

use std::collections::BTreeSet;

use anyhow::Result;
use mxos_repo::{Repo, StaticDelta};

/// Which deltas to generate for a new head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeltaPolicy {
    /// From each of the previous `from_previous` published commits of the ref.
    pub from_previous: usize,
    /// Also a from-scratch delta (one file set for a first install; slow to generate).
    pub from_scratch: bool,
}

impl Default for DeltaPolicy {
    fn default() -> Self {
        DeltaPolicy {
            from_previous: 1,
            from_scratch: false,
        }
    }
}

/// The previous `n` commits of `head`'s history that are published in `public`. The chain
/// is followed through `build` where `public` lacks a commit (composed but never published).
pub fn previous_published(
    build: &Repo,
    public: &Repo,
    head: &str,
    n: usize,
) -> Result<Vec<String>> {
    let mut found = Vec::new();
    let mut current = head.to_owned();
    while found.len() < n {
        let parent = if public.has_commit(&current)? {
            public.commit_info(&current)?.parent
        } else if build.has_commit(&current)? {
            build.commit_info(&current)?.parent
        } else {
            None
        };
        let Some(parent) = parent else { break };
        if public.has_commit(&parent)? {
            found.push(parent.clone());
        }
        current = parent;
    }
    Ok(found)
}

/// Generates the deltas `policy` asks for towards `head`, skipping those that exist.
/// Returns the ones generated. The summary must be regenerated afterwards to list them.
pub fn generate_for_head(
    build: &Repo,
    public: &Repo,
    head: &str,
    policy: DeltaPolicy,
) -> Result<Vec<StaticDelta>> {
    let existing: BTreeSet<StaticDelta> = public.static_deltas()?.into_iter().collect();
    let mut wanted: Vec<Option<String>> =
        previous_published(build, public, head, policy.from_previous)?
            .into_iter()
            .map(Some)
            .collect();
    if policy.from_scratch {
        wanted.push(None);
    }
    let mut generated = Vec::new();
    for from in wanted {
        let delta = StaticDelta {
            from,
            to: head.to_owned(),
        };
        if !existing.contains(&delta) {
            generated.push(public.generate_static_delta(delta.from.as_deref(), head)?);
        }
    }
    Ok(generated)
}
