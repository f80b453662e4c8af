//! Parsing, validation and the canonical form of fleet manifests.

mod common;

use common::{commit, manifest};
use mxos_fleet::{FleetError, FleetManifest, RebootWindow, Rollout, Weekday};

fn parse_err(json: &str) -> String {
    FleetManifest::parse(json.as_bytes(), "estable.json")
        .unwrap_err()
        .to_string()
}

#[test]
fn round_trip_is_canonical() {
    let mut m = manifest();
    m.rollout = Some(Rollout {
        start: 100,
        start_percentage: 5,
        duration_minutes: 1440,
    });
    m.reboot_windows = vec![RebootWindow {
        days: vec![Weekday::Mon, Weekday::Fri],
        start: "18:00".into(),
        length_minutes: 240,
    }];
    let json = m.to_json();
    assert!(json.ends_with(b"}\n"));
    let back = FleetManifest::parse(&json, "estable.json").unwrap();
    assert_eq!(back, m);
    assert_eq!(back.to_json(), json);
    let text = String::from_utf8(json).unwrap();
    let keys: Vec<usize> = [
        "\"schema\"",
        "\"channel\"",
        "\"ref\"",
        "\"serial\"",
        "\"issued\"",
        "\"expires\"",
        "\"target\"",
        "\"rollout\"",
        "\"paused\"",
        "\"barriers\"",
        "\"dead_ends\"",
        "\"reboot_windows\"",
        "\"time_zone\"",
    ]
    .iter()
    .map(|k| text.find(k).unwrap())
    .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "{text}");
    assert!(text.contains("\"days\": [\n        \"mon\",\n        \"fri\"\n      ]"));
}

#[test]
fn defaults_fill_optional_fields() {
    let json = format!(
        r#"{{"schema": 1, "channel": "c", "ref": "r", "serial": 1, "issued": 0, "expires": 10,
            "target": {{"commit": "{}", "version": "10.1", "timestamp": 5}}}}"#,
        commit('a')
    );
    let m = FleetManifest::parse(json.as_bytes(), "x").unwrap();
    assert_eq!(m.time_zone, "America/Mexico_City");
    assert!(!m.paused && m.rollout.is_none() && m.barriers.is_empty());
    assert!(m.dead_ends.is_empty() && m.reboot_windows.is_empty());
}

#[test]
fn unknown_field_names_line_and_column() {
    let json = broken("\"paused\"", "\"colour\": \"verde\",\n  \"paused\"");
    assert_eq!(
        parse_err(&json),
        "estable.json, line 18, column 10: unknown field `colour`, expected one of `schema`, \
         `channel`, `ref`, `serial`, `issued`, `expires`, `target`, `rollout`, `paused`, \
         `barriers`, `dead_ends`, `reboot_windows`, `time_zone`"
    );
    let nested = broken("\"version\"", "\"flavour\": 1,\n    \"version\"");
    assert_eq!(
        parse_err(&nested),
        "estable.json, line 10, column 13: unknown field `flavour`, expected one of `commit`, \
         `version`, `timestamp`"
    );
}

/// The canonical text of a manifest with every optional part present, to break one at a time:
/// line 9 holds the target commit, 15 the start percentage, 24 the window's day, 26 its
/// start, 27 its length and 30 the time zone.
fn manifest_text() -> String {
    let mut m = manifest();
    m.rollout = Some(Rollout {
        start: 0,
        start_percentage: 5,
        duration_minutes: 60,
    });
    m.reboot_windows = vec![RebootWindow {
        days: vec![Weekday::Mon],
        start: "18:00".into(),
        length_minutes: 240,
    }];
    String::from_utf8(m.to_json()).unwrap()
}

fn broken(from: &str, to: &str) -> String {
    let text = manifest_text();
    assert!(text.contains(from), "{from} not in {text}");
    text.replacen(from, to, 1)
}

#[test]
fn bad_commit_hex() {
    let json = broken(&commit('c'), "C0FFEE");
    assert_eq!(
        parse_err(&json),
        "estable.json, line 9, column 22: invalid commit: \"C0FFEE\" is not an OSTree commit \
         checksum (64 lowercase hexadecimal characters)"
    );
    let mut m = manifest();
    m.target.commit = "C0FFEE".into();
    assert_eq!(
        m.validate().unwrap_err().to_string(),
        "invalid target.commit: \"C0FFEE\" is not an OSTree commit checksum (64 lowercase \
         hexadecimal characters)"
    );
}

#[test]
fn bad_time_zone() {
    let json = broken("America/Mexico_City", "America/Ciudad_de_Mexico");
    assert_eq!(
        parse_err(&json),
        "estable.json, line 31, column 1: invalid time_zone: \"America/Ciudad_de_Mexico\" is \
         not an IANA time zone name (such as \"America/Mexico_City\")"
    );
}

#[test]
fn bad_window_start() {
    let json = broken("18:00", "25:00");
    assert_eq!(
        parse_err(&json),
        "estable.json, line 26, column 22: invalid reboot window start: \"25:00\" is not a time \
         of day as HH:MM, 00:00 to 23:59"
    );
    let mut m = manifest();
    m.reboot_windows = vec![RebootWindow {
        days: vec![Weekday::Mon],
        start: "7:00".into(),
        length_minutes: 60,
    }];
    assert_eq!(
        m.validate().unwrap_err(),
        FleetError::Invalid {
            field: "reboot_windows[0].start".into(),
            problem: "\"7:00\" is not a time of day as HH:MM, 00:00 to 23:59".into(),
        }
    );
}

#[test]
fn bad_window_days_and_length() {
    let json = broken("\"mon\"", "\"monday\"");
    assert_eq!(
        parse_err(&json),
        "estable.json, line 24, column 16: unknown variant `monday`, expected one of `mon`, \
         `tue`, `wed`, `thu`, `fri`, `sat`, `sun`"
    );
    let json = broken("240", "1441");
    assert_eq!(
        parse_err(&json),
        "estable.json, line 28, column 5: invalid reboot window length_minutes: 1441 minutes is \
         not between 1 and 1440"
    );
}

#[test]
fn start_percentage_over_100() {
    let json = broken("\"start_percentage\": 5", "\"start_percentage\": 101");
    assert_eq!(
        parse_err(&json),
        "estable.json, line 15, column 27: invalid rollout.start_percentage: 101 is more than 100"
    );
}

#[test]
fn schema_2_is_refused() {
    let json = broken("\"schema\": 1", "\"schema\": 2");
    assert_eq!(
        parse_err(&json),
        "estable.json, line 2, column 13: invalid schema: 2 is not supported (this MxOS reads \
         schema 1)"
    );
}

#[test]
fn cross_field_rules_name_the_file() {
    let mut m = manifest();
    m.expires = m.issued;
    assert_eq!(
        FleetManifest::parse(&m.to_json(), "estable.json")
            .unwrap_err()
            .to_string(),
        "estable.json: invalid expires: 1772323200 is not after issued (1772323200)"
    );
    let mut m = manifest();
    m.dead_ends = vec![mxos_fleet::DeadEnd {
        commit: commit('c'),
        reason: "x".into(),
    }];
    assert_eq!(
        m.validate().unwrap_err().to_string(),
        format!(
            "invalid dead_ends[0].commit: {} is also the target commit",
            commit('c')
        )
    );
    let mut m = manifest();
    m.channel = "mxos/10 estable".into();
    assert_eq!(
        m.validate().unwrap_err().to_string(),
        "invalid channel: \"mxos/10 estable\" contains whitespace or control characters"
    );
}

#[test]
fn syntax_errors_have_positions() {
    assert_eq!(
        parse_err("{\n  \"schema\": 1,\n}"),
        "estable.json, line 3, column 1: trailing comma"
    );
}
