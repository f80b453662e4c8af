//! Device-side acceptance of a manifest, and the publisher's and admin's helpers around it.
//!
//! A device accepts a manifest only when, in this order: it is signed, by a trusted key,
//! over these exact bytes; it parses and validates; it is for the device's channel; its serial
//! is not older than one already seen (a replayed old manifest could roll the fleet back);
//! and it has not expired (a captured manifest replayed forever would freeze the fleet).

use chrono::{DateTime, SecondsFormat};

use crate::{FleetError, FleetManifest};

/// What the device knows to judge a manifest.
#[derive(Debug, Clone, Copy)]
pub struct Acceptance<'a> {
    pub trusted_keys: &'a [mxos_sign::PublicKey],
    pub expected_channel: &'a str,
    pub highest_serial_seen: Option<u64>,
    pub now: i64,
}

/// Why a device refused a manifest (or its target). `Display` is English, for logs and the
/// publisher's tools; the device says it in the person's language from its catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the fleet manifest is not signed (no ed25519 signature)")]
    Unsigned,
    #[error(
        "the fleet manifest is not signed by a trusted key (wrong key, or the manifest was \
         altered after signing)"
    )]
    UnknownKey,
    #[error("the fleet manifest is invalid: {0}")]
    Invalid(FleetError),
    #[error("the fleet manifest is for channel {found:?}, but this device follows {expected:?}")]
    WrongChannel { expected: String, found: String },
    #[error(
        "the fleet manifest has serial {serial}, older than serial {highest_seen} already seen \
         (an old manifest was replayed)"
    )]
    Replay { serial: u64, highest_seen: u64 },
    #[error(
        "the fleet manifest expired at {} (it is now {}); its publisher must sign it again with a \
         later expiry",
        utc(*.expires),
        utc(*.now)
    )]
    Expired { expires: i64, now: i64 },
    #[error(
        "the fleet manifest's target commit is not signed by a trusted key; refusing to update \
         to it"
    )]
    UnsignedTarget,
}

/// RFC 3339 in UTC, e.g. `2026-03-01T06:00:00Z`.
pub fn utc(t: i64) -> String {
    match DateTime::from_timestamp(t, 0) {
        Some(d) => d.to_rfc3339_opts(SecondsFormat::Secs, true),
        None => format!("unix time {t}"),
    }
}

/// Checks a manifest the way a device must before acting on it; see the module doc.
pub fn accept(
    json: &[u8],
    signatures: &[Vec<u8>],
    source: &str,
    acc: &Acceptance,
) -> Result<FleetManifest, Refusal> {
    if signatures.is_empty() {
        return Err(Refusal::Unsigned);
    }
    // A malformed signature must not hide a good one after it, so only 64-byte ones count.
    let usable: Vec<Vec<u8>> = signatures
        .iter()
        .filter(|s| s.len() == 64)
        .cloned()
        .collect();
    if usable.is_empty() || mxos_sign::verify(json, &usable, acc.trusted_keys).is_err() {
        return Err(Refusal::UnknownKey);
    }
    let m = FleetManifest::parse(json, source).map_err(Refusal::Invalid)?;
    if m.channel != acc.expected_channel {
        return Err(Refusal::WrongChannel {
            expected: acc.expected_channel.to_string(),
            found: m.channel,
        });
    }
    // Equal serials pass: re-reading the same manifest is normal.
    if let Some(highest_seen) = acc.highest_serial_seen {
        if m.serial < highest_seen {
            return Err(Refusal::Replay {
                serial: m.serial,
                highest_seen,
            });
        }
    }
    if acc.now >= m.expires {
        return Err(Refusal::Expired {
            expires: m.expires,
            now: acc.now,
        });
    }
    Ok(m)
}

/// The publisher's ed25519 signature (64 bytes) over the exact manifest bytes.
pub fn sign(json: &[u8], key: &mxos_sign::SecretKey) -> Vec<u8> {
    key.sign(json).to_vec()
}

/// The serial for a channel's next manifest: one more than the previous, or 1 for the first.
pub fn next_serial(previous: Option<&FleetManifest>) -> u64 {
    previous.map_or(1, |m| m.serial.saturating_add(1))
}
