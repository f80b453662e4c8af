//! The agent's decisions as structured log events. Under systemd they reach the journal with
//! `MXOS_COMMIT`, `MXOS_CHANNEL` and `MXOS_REASON` fields, and the four an admin searches a
//! fleet's logs for carry a fixed `MESSAGE_ID` (`journalctl MESSAGE_ID=…`), as bootc does.

use crate::i18n::Text;

/// An update was deployed (staged) for the next boot.
pub const UPGRADE_ID: &str = "5b0e4f52c2c84e6f9a7d2f1b6c3e8a01";
/// The previous deployment became the default again (by hand, health check, or boot counting).
pub const ROLLBACK_ID: &str = "8d3a91f0e47b4c2d8e5f6a7b9c0d1e02";
/// The version on trial failed its health checks.
pub const HEALTH_FAILED_ID: &str = "c4f2a8e61b9d4e3fa0b7c5d2e8f91a03";

/// A staged update was lost at shutdown (libostree's finalization failed).
pub const NOT_FINALIZED_ID: &str = "e1b7d40c9a2f4c6b8d3e5f7a9b1c2d04";

/// A decision without a message id: what a check found, what the cycle did and why.
pub fn decision(what: &'static str, commit: Option<&str>, channel: Option<&str>, text: &Text) {
    tracing::info!(
        target: "mxos::agent",
        mxos_decision = what,
        mxos_commit = commit.unwrap_or(""),
        mxos_channel = channel.unwrap_or(""),
        mxos_reason = text.id(),
        "{text}"
    );
}

pub fn upgraded(commit: &str, channel: Option<&str>, text: &Text) {
    tracing::info!(
        target: "mxos::agent",
        message_id = UPGRADE_ID,
        mxos_decision = "deployed",
        mxos_commit = commit,
        mxos_channel = channel.unwrap_or(""),
        "{text}"
    );
}

pub fn rolled_back(commit: &str, reason: &'static str, text: &Text) {
    tracing::info!(
        target: "mxos::agent",
        message_id = ROLLBACK_ID,
        mxos_decision = "rolled-back",
        mxos_commit = commit,
        mxos_reason = reason,
        "{text}"
    );
}

pub fn health_failed(commit: &str, text: &Text) {
    failure(HEALTH_FAILED_ID, "health-failed", commit, text);
}

pub fn not_finalized(commit: &str, text: &Text) {
    failure(NOT_FINALIZED_ID, "not-finalized", commit, text);
}

/// An error-level event about one commit, under its fixed message id.
fn failure(message_id: &'static str, decision: &'static str, commit: &str, text: &Text) {
    tracing::error!(
        target: "mxos::agent",
        message_id,
        mxos_decision = decision,
        mxos_commit = commit,
        "{text}"
    );
}
