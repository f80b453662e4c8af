//! The device's own check of a remote's summary before it believes anything the summary
//! says: signed (`summary.sig`, ed25519, libostree's format) by a key this machine trusts,
//! not older than the last summary it accepted (a replay), not past its
//! `ostree.summary.expires` (a freeze). libostree 2022.7 here has no ed25519, so it cannot.

use anyhow::{Context, Result};
use mxos_repo::{FetchedSummary, SummaryInfo};
use mxos_sign::PublicKey;

use crate::{refuse, t};

/// Judges a fetched summary; returns what it says when it can be used. Pure: the caller
/// fetched it, and keeps `last_accepted` (unix seconds) in the agent state.
pub fn judge(
    remote: &str,
    fetched: &FetchedSummary,
    trusted: &[PublicKey],
    last_accepted: Option<u64>,
    now: i64,
) -> Result<SummaryInfo> {
    let Some(sig_file) = &fetched.signatures else {
        refuse!("summary-unsigned", remote = remote);
    };
    let sigs = mxos_repo::decode_signature_file(sig_file, mxos_sign::METADATA_KEY);
    mxos_sign::verify(&fetched.summary, &sigs, trusted)
        .map_err(|e| anyhow::Error::new(e).context(t!("summary-untrusted", remote = remote)))?;
    let info = mxos_repo::parse_summary(&fetched.summary)
        .with_context(|| t!("summary-unreadable", remote = remote))?;
    let Some(made) = info.last_modified else {
        refuse!(
            "summary-undated",
            remote = remote,
            key = mxos_repo::LAST_MODIFIED_KEY
        );
    };
    if let Some(accepted) = last_accepted.filter(|a| made < *a) {
        refuse!(
            "summary-replayed",
            remote = remote,
            made = utc(made),
            accepted = utc(accepted)
        );
    }
    let Some(expires) = info.expires else {
        refuse!(
            "summary-no-expiry",
            remote = remote,
            key = mxos_repo::EXPIRES_KEY
        );
    };
    if now >= expires as i64 {
        refuse!(
            "summary-expired",
            remote = remote,
            expires = utc(expires),
            now = mxos_fleet::utc(now)
        );
    }
    Ok(info)
}

fn utc(secs: u64) -> String {
    mxos_fleet::utc(secs.min(i64::MAX as u64) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetched(repo: &mxos_repo::Repo, key: &mxos_sign::SecretKey) -> FetchedSummary {
        mxos_sign::sign_summary(repo.path(), key).unwrap();
        FetchedSummary {
            summary: std::fs::read(repo.path().join("summary")).unwrap(),
            signatures: Some(std::fs::read(repo.path().join("summary.sig")).unwrap()),
        }
    }

    #[test]
    fn refuses_unsigned_untrusted_replayed_and_expired_summaries() {
        let tmp = tempfile::tempdir().unwrap();
        let repo =
            mxos_repo::Repo::open_or_create(&tmp.path().join("r"), mxos_repo::RepoMode::Archive)
                .unwrap();
        let key = mxos_sign::SecretKey::generate();
        let trusted = [key.public()];
        repo.regenerate_summary_expiring(Some(2_000_000_000))
            .unwrap();
        let good = fetched(&repo, &key);
        let info = judge("mxos", &good, &trusted, None, 1_900_000_000).unwrap();
        let made = info.last_modified.unwrap();
        assert_eq!(info.expires, Some(2_000_000_000));
        // The same summary again is fine; one older than the last accepted is not.
        judge("mxos", &good, &trusted, Some(made), 1_900_000_000).unwrap();
        let err = judge("mxos", &good, &trusted, Some(made + 1), 1_900_000_000).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "the summary of remote `mxos` was made {}, before the one this machine last accepted ({}); refusing an old (replayed) summary",
                utc(made),
                utc(made + 1)
            )
        );
        let err = judge("mxos", &good, &trusted, None, 2_000_000_000).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the summary of remote `mxos` expired 2033-05-18T03:33:20Z (now 2033-05-18T03:33:20Z); the server has not published a fresh one, so this machine does not use it"
        );
        let stranger = mxos_sign::SecretKey::generate();
        let err = judge("mxos", &good, &[stranger.public()], None, 0).unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "the summary of remote `mxos` is not signed by a key this machine trusts; not using it: none of its 1 ed25519 signature(s) was made by a trusted key (wrong key, or the content was altered after signing)"
        );
        let unsigned = FetchedSummary {
            signatures: None,
            ..good.clone()
        };
        assert_eq!(
            judge("mxos", &unsigned, &trusted, None, 0).unwrap_err().to_string(),
            "remote `mxos` has no summary.sig: its list of versions is not signed, so this machine does not use it"
        );
        repo.regenerate_summary_expiring(None).unwrap();
        let err = judge("mxos", &fetched(&repo, &key), &trusted, None, 0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the summary of remote `mxos` has no ostree.summary.expires, so it could be replayed forever; refusing it (publish again with mxos-compose publish)"
        );
    }
}
