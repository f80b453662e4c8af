//! Shared fixtures for the fleet tests: releases, a valid manifest, and instants in UTC.
#![allow(dead_code)]

use chrono::{TimeZone, Utc};
use mxos_fleet::{FleetManifest, Release};

pub const CHANNEL: &str = "mxos/10/x86_64/escuelas/estable";

/// A commit checksum made of one repeated hex digit, easy to tell apart in failures.
pub fn commit(c: char) -> String {
    c.to_string().repeat(64)
}

pub fn release(c: char, version: &str, timestamp: i64) -> Release {
    Release {
        commit: commit(c),
        version: version.to_string(),
        timestamp,
    }
}

pub fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .unwrap()
        .timestamp()
}

/// Issued 2026-03-01, expires 2026-04-01, targets 10.2 (commit "c...").
pub fn manifest() -> FleetManifest {
    FleetManifest {
        schema: 1,
        channel: CHANNEL.to_string(),
        reference: "mxos/10/x86_64/escuelas".to_string(),
        serial: 7,
        issued: utc(2026, 3, 1, 0, 0),
        expires: utc(2026, 4, 1, 0, 0),
        target: release('c', "10.2", 3000),
        rollout: None,
        paused: false,
        barriers: vec![],
        dead_ends: vec![],
        reboot_windows: vec![],
        time_zone: "America/Mexico_City".to_string(),
    }
}
