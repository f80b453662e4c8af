//! Rollout buckets, progress over time, and when a waiting device's turn comes.

mod common;

use common::{manifest, release, CHANNEL};
use mxos_fleet::{decide, rollout_bucket, rollout_progress, Decision, DeviceView, Rollout};

#[test]
fn bucket_is_pinned() {
    // Changing the hash input reshuffles every fleet's rollout order: this must not move.
    let b = rollout_bucket("4c4c4544004d3510804bb4c04f4d3132", CHANNEL);
    assert_eq!(b, PINNED, "{b:?}");
    // The documented formula, spelled out independently of the implementation.
    let input = format!("mxos-rollout\0{CHANNEL}\04c4c4544004d3510804bb4c04f4d3132");
    let hash = blake3::hash(input.as_bytes());
    let first = u64::from_be_bytes(hash.as_bytes()[..8].try_into().unwrap());
    assert!((first as f64 / 2f64.powi(64) * 100.0 - b).abs() < 1e-12);
}

const PINNED: f64 = 54.1817950004569;

fn machine(i: u32) -> String {
    format!("{:032x}", u128::from(i) * 0x9e37_79b9_7f4a_7c15)
}

#[test]
fn buckets_spread_evenly() {
    let ids: Vec<String> = (0..10_000).map(machine).collect();
    let eligible = ids
        .iter()
        .filter(|id| rollout_bucket(id, CHANNEL) < 25.0)
        .count();
    assert!((2300..=2700).contains(&eligible), "{eligible}");
    assert!(ids
        .iter()
        .map(|id| rollout_bucket(id, CHANNEL))
        .all(|b| (0.0..100.0).contains(&b)));
}

#[test]
fn channels_give_independent_buckets() {
    let ids: Vec<String> = (0..10_000).map(machine).collect();
    let other = "mxos/10/x86_64/escuelas/pruebas";
    let early_here: Vec<&String> = ids
        .iter()
        .filter(|id| rollout_bucket(id, CHANNEL) < 25.0)
        .collect();
    // Independent: about a quarter of this channel's early quarter is early in the other.
    let early_both = early_here
        .iter()
        .filter(|id| rollout_bucket(id, other) < 25.0)
        .count();
    let share = early_both as f64 / early_here.len() as f64;
    assert!((0.21..=0.29).contains(&share), "{share}");
}

fn rollout() -> Rollout {
    Rollout {
        start: 10_000,
        start_percentage: 10,
        duration_minutes: 100,
    }
}

#[test]
fn progress_over_time() {
    let r = rollout();
    assert_eq!(rollout_progress(&r, 0), 10.0);
    assert_eq!(rollout_progress(&r, 9_999), 10.0);
    assert_eq!(rollout_progress(&r, 10_000), 10.0);
    assert_eq!(rollout_progress(&r, 10_000 + 3_000), 55.0);
    assert_eq!(rollout_progress(&r, 10_000 + 6_000), 100.0);
    assert_eq!(rollout_progress(&r, 10_000 + 60_000), 100.0);
    let instant = Rollout {
        duration_minutes: 0,
        ..r
    };
    assert_eq!(rollout_progress(&instant, 9_999), 10.0);
    assert_eq!(rollout_progress(&instant, 10_000), 100.0);
}

/// A machine whose bucket lies in `range`, found by trying synthetic ids.
fn machine_in(range: std::ops::Range<f64>) -> (String, f64) {
    (0..)
        .map(machine)
        .map(|id| {
            let b = rollout_bucket(&id, CHANNEL);
            (id, b)
        })
        .find(|(_, b)| range.contains(b))
        .unwrap()
}

#[test]
fn waiting_device_gets_its_eta() {
    let mut m = manifest();
    m.rollout = Some(rollout());
    let current = release('a', "10.1", 1000);
    let (id, bucket) = machine_in(60.0..70.0);
    let device = DeviceView {
        machine_id: &id,
        current: &current,
    };
    let Decision::WaitForRollout {
        percent_now,
        bucket_percent,
        eta: Some(eta),
    } = decide(&m, &device, 10_000 + 3_000)
    else {
        panic!("expected to wait");
    };
    assert_eq!((percent_now, bucket_percent), (55.0, bucket));
    let r = rollout();
    assert!(rollout_progress(&r, eta) > bucket);
    assert!(rollout_progress(&r, eta - 1) <= bucket);
    assert!(matches!(
        decide(&m, &device, eta - 1),
        Decision::WaitForRollout { .. }
    ));
    assert_eq!(
        decide(&m, &device, eta),
        Decision::Update {
            to: m.target.clone(),
            via_barrier: false
        }
    );
    // Before the start, the device waits for the same instant.
    assert!(matches!(
        decide(&m, &device, 0),
        Decision::WaitForRollout { percent_now, eta: Some(e), .. } if percent_now == 10.0 && e == eta
    ));
}

#[test]
fn early_buckets_update_before_the_start() {
    let mut m = manifest();
    m.rollout = Some(rollout());
    let current = release('a', "10.1", 1000);
    let (id, _) = machine_in(0.0..10.0);
    let device = DeviceView {
        machine_id: &id,
        current: &current,
    };
    assert!(matches!(decide(&m, &device, 0), Decision::Update { .. }));
}

#[test]
fn zero_duration_opens_everyone_at_the_start() {
    let mut m = manifest();
    m.rollout = Some(Rollout {
        start: 10_000,
        start_percentage: 0,
        duration_minutes: 0,
    });
    let current = release('a', "10.1", 1000);
    let (id, bucket) = machine_in(50.0..60.0);
    let device = DeviceView {
        machine_id: &id,
        current: &current,
    };
    assert_eq!(
        decide(&m, &device, 9_000),
        Decision::WaitForRollout {
            percent_now: 0.0,
            bucket_percent: bucket,
            eta: Some(10_000)
        }
    );
    assert!(matches!(
        decide(&m, &device, 10_000),
        Decision::Update { .. }
    ));
}

#[test]
fn eta_is_the_first_eligible_second_for_every_bucket() {
    let r = Rollout {
        start: 1_000_000,
        start_percentage: 3,
        duration_minutes: 7 * 24 * 60,
    };
    let mut m = manifest();
    m.rollout = Some(r.clone());
    let current = release('a', "10.1", 1000);
    for i in 0..500 {
        let id = machine(i);
        let device = DeviceView {
            machine_id: &id,
            current: &current,
        };
        match decide(&m, &device, r.start) {
            Decision::Update { .. } => assert!(rollout_bucket(&id, CHANNEL) < 3.0),
            Decision::WaitForRollout {
                bucket_percent,
                eta: Some(eta),
                ..
            } => {
                assert!(rollout_progress(&r, eta) > bucket_percent);
                assert!(rollout_progress(&r, eta - 1) <= bucket_percent);
                assert!(matches!(decide(&m, &device, eta), Decision::Update { .. }));
            }
            other => panic!("{other:?}"),
        }
    }
}
