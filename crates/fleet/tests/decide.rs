//! Which step a device takes: barriers, dead-ends, pauses and never going backwards.

mod common;

use common::{commit, manifest, release};
use mxos_fleet::{decide, Barrier, DeadEnd, Decision, DeviceView, FleetManifest, Release};

const NOW: i64 = 1_780_000_000;

fn decide_from(m: &FleetManifest, current: &Release) -> Decision {
    let device = DeviceView {
        machine_id: "0123456789abcdef0123456789abcdef",
        current,
    };
    decide(m, &device, NOW)
}

fn barrier(c: char, version: &str, timestamp: i64) -> Barrier {
    Barrier {
        release: release(c, version, timestamp),
        reason: format!("{version} migrates /var"),
    }
}

fn update(to: Release, via_barrier: bool) -> Decision {
    Decision::Update { to, via_barrier }
}

#[test]
fn on_target_is_up_to_date() {
    let m = manifest();
    assert_eq!(decide_from(&m, &m.target.clone()), Decision::UpToDate);
}

#[test]
fn older_device_updates_to_target() {
    let m = manifest();
    let current = release('a', "10.1", 1000);
    assert_eq!(decide_from(&m, &current), update(m.target.clone(), false));
}

#[test]
fn equal_timestamp_other_commit_updates() {
    let m = manifest();
    let current = release('a', "10.2-rebuild", m.target.timestamp);
    assert_eq!(decide_from(&m, &current), update(m.target.clone(), false));
}

#[test]
fn downgrade_is_refused() {
    let m = manifest();
    let current = release('d', "10.3", m.target.timestamp + 1);
    assert_eq!(decide_from(&m, &current), Decision::UpToDate);
}

#[test]
fn device_older_than_barrier_goes_to_barrier_first() {
    let mut m = manifest();
    m.barriers = vec![barrier('b', "10.1.5", 2000)];
    let current = release('a', "10.1", 1000);
    assert_eq!(
        decide_from(&m, &current),
        update(m.barriers[0].release.clone(), true)
    );
}

#[test]
fn device_past_barrier_goes_to_target() {
    let mut m = manifest();
    m.barriers = vec![barrier('b', "10.1.5", 2000)];
    let on_barrier = m.barriers[0].release.clone();
    assert_eq!(
        decide_from(&m, &on_barrier),
        update(m.target.clone(), false)
    );
    let past = release('e', "10.1.7", 2500);
    assert_eq!(decide_from(&m, &past), update(m.target.clone(), false));
}

#[test]
fn oldest_relevant_barrier_is_the_step() {
    let mut m = manifest();
    m.barriers = vec![
        barrier('7', "10.1.7", 2700),
        barrier('3', "10.0.3", 500),
        barrier('5', "10.1.5", 2000),
        barrier('9', "10.1.9", 2900),
    ];
    let current = release('a', "10.1", 1000);
    assert_eq!(
        decide_from(&m, &current),
        update(m.barriers[2].release.clone(), true)
    );
    let later = release('6', "10.1.6", 2500);
    assert_eq!(
        decide_from(&m, &later),
        update(m.barriers[0].release.clone(), true)
    );
}

#[test]
fn barrier_equal_to_target_is_the_target() {
    let mut m = manifest();
    m.barriers = vec![Barrier {
        release: m.target.clone(),
        reason: "10.2 migrates /var".into(),
    }];
    let current = release('a', "10.1", 1000);
    assert_eq!(decide_from(&m, &current), update(m.target.clone(), false));
}

#[test]
fn dead_end_stops_automatic_updates() {
    let mut m = manifest();
    m.dead_ends = vec![DeadEnd {
        commit: commit('a'),
        reason: "10.1 breaks the bootloader on Lenovo M70e; reinstall from USB".into(),
    }];
    let current = release('a', "10.1", 1000);
    assert_eq!(
        decide_from(&m, &current),
        Decision::DeadEnd {
            reason: "10.1 breaks the bootloader on Lenovo M70e; reinstall from USB".into()
        }
    );
    m.paused = true;
    assert!(matches!(
        decide_from(&m, &current),
        Decision::DeadEnd { .. }
    ));
}

#[test]
fn paused_stops_new_updates_but_not_up_to_date() {
    let mut m = manifest();
    m.paused = true;
    let current = release('a', "10.1", 1000);
    assert_eq!(decide_from(&m, &current), Decision::Paused);
    assert_eq!(decide_from(&m, &m.target.clone()), Decision::UpToDate);
}

#[test]
fn rollout_gates_barrier_steps_too() {
    let mut m = manifest();
    m.barriers = vec![barrier('b', "10.1.5", 2000)];
    m.rollout = Some(mxos_fleet::Rollout {
        start: NOW,
        start_percentage: 0,
        duration_minutes: 60,
    });
    let current = release('a', "10.1", 1000);
    assert!(matches!(
        decide_from(&m, &current),
        Decision::WaitForRollout { percent_now, .. } if percent_now == 0.0
    ));
}
