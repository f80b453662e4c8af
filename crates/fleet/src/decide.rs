//! Whether a device should update now, and to which commit.
//!
//! [`decide`] applies these rules in order:
//! 1. On the target commit → [`Decision::UpToDate`].
//! 2. On a dead-end commit → [`Decision::DeadEnd`]: no automatic update; a person must act.
//! 3. Manifest paused → [`Decision::Paused`]: no device starts a new update.
//! 4. Target older than the current commit (by commit timestamp) → [`Decision::UpToDate`]:
//!    updates never go backwards. A fleet rollback is published as a new commit with a newer
//!    timestamp, so an older target only comes from a stale or odd manifest. Equal
//!    timestamps with a different commit do update.
//! 5. The step is the oldest barrier strictly between the current commit and the target (by
//!    timestamp), else the target itself; a barrier with the target's timestamp is the target.
//! 6. A rollout gates every step, barriers included: the device's stable bucket in
//!    `[0, 100)` must be below the rollout's progress, else [`Decision::WaitForRollout`] says
//!    when its bucket opens.

use crate::{FleetManifest, Release, Rollout};

/// What a device knows about its position, to decide.
#[derive(Debug, Clone, Copy)]
pub struct DeviceView<'a> {
    /// `/etc/machine-id`: stable for the device's life and unique across the fleet.
    pub machine_id: &'a str,
    pub current: &'a Release,
}

/// The decision for one device at one instant.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    UpToDate,
    Update {
        to: Release,
        via_barrier: bool,
    },
    Paused,
    DeadEnd {
        reason: String,
    },
    WaitForRollout {
        percent_now: f64,
        bucket_percent: f64,
        /// When this device's bucket opens, if the rollout will reach it.
        eta: Option<i64>,
    },
}

pub fn decide(m: &FleetManifest, device: &DeviceView, now: i64) -> Decision {
    let current = device.current;
    if current.commit == m.target.commit {
        return Decision::UpToDate;
    }
    if let Some(d) = m.dead_ends.iter().find(|d| d.commit == current.commit) {
        return Decision::DeadEnd {
            reason: d.reason.clone(),
        };
    }
    if m.paused {
        return Decision::Paused;
    }
    if m.target.timestamp < current.timestamp {
        return Decision::UpToDate;
    }
    // min_by_key keeps the first of equals, so ties follow the manifest's order.
    let barrier = m
        .barriers
        .iter()
        .filter(|b| {
            b.release.timestamp > current.timestamp && b.release.timestamp < m.target.timestamp
        })
        .min_by_key(|b| b.release.timestamp);
    let (to, via_barrier) = match barrier {
        Some(b) => (b.release.clone(), true),
        None => (m.target.clone(), false),
    };
    if let Some(r) = &m.rollout {
        let bucket = rollout_bucket(device.machine_id, &m.channel);
        let percent_now = rollout_progress(r, now);
        if bucket >= percent_now {
            return Decision::WaitForRollout {
                percent_now,
                bucket_percent: bucket,
                eta: rollout_eta(r, bucket),
            };
        }
    }
    Decision::Update { to, via_barrier }
}

/// Stable position of a machine in a channel's rollout, in `[0, 100)`:
/// blake3("mxos-rollout\0" + channel + "\0" + machine_id), first 8 bytes as a big-endian u64,
/// scaled. Hashing the channel in makes a device early in one channel's rollouts no more
/// likely to be early in another's.
pub fn rollout_bucket(machine_id: &str, channel: &str) -> f64 {
    let mut h = blake3::Hasher::new();
    h.update(b"mxos-rollout\0");
    h.update(channel.as_bytes());
    h.update(b"\0");
    h.update(machine_id.as_bytes());
    let hash = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash.as_bytes()[..8]);
    let x = u64::from_be_bytes(first);
    // The top 53 bits fit an f64 exactly; the clamp guards the rounding of the last step.
    let scaled = (x >> 11) as f64 / (1u64 << 53) as f64 * 100.0;
    scaled.min(f64::from_bits(100f64.to_bits() - 1))
}

/// Percentage of the fleet allowed to update at `now`: `start_percentage` until `start`,
/// then growing linearly to 100 over `duration_minutes` (0 = everyone at `start`).
pub fn rollout_progress(r: &Rollout, now: i64) -> f64 {
    let start = f64::from(r.start_percentage.min(100));
    if now < r.start {
        return start;
    }
    let span = i64::from(r.duration_minutes) * 60;
    if span == 0 {
        return 100.0;
    }
    let elapsed = now.saturating_sub(r.start) as f64;
    (start + (100.0 - start) * elapsed / span as f64).min(100.0)
}

/// First second at which progress exceeds `bucket`.
fn rollout_eta(r: &Rollout, bucket: f64) -> Option<i64> {
    if rollout_progress(r, r.start) > bucket {
        return Some(r.start);
    }
    let start = f64::from(r.start_percentage.min(100));
    let span = f64::from(r.duration_minutes) * 60.0;
    // Solve start + (100 - start) * x / span = bucket, then fix float rounding by stepping.
    let x = (bucket - start) * span / (100.0 - start);
    let mut t = r.start.checked_add(x.floor() as i64)?;
    while rollout_progress(r, t) <= bucket {
        t = t.checked_add(1)?;
    }
    while t > r.start && rollout_progress(r, t - 1) > bucket {
        t -= 1;
    }
    Some(t)
}
