//! `automatic_version` expansion and `InputHasher` framing.

use mxos_treefile::{automatic_version, load_str, InputHasher};

/// 2026-11-29T00:00:00Z.
const NOV_29_2026: i64 = 1_795_910_400;

#[test]
fn automatic_version_counter() {
    let p = "10.<date:%Y%m%d>";
    assert_eq!(
        automatic_version(p, None, NOV_29_2026, None).unwrap(),
        "10.20261129.0"
    );
    assert_eq!(
        automatic_version(p, Some("10.20261129.0"), NOV_29_2026, None).unwrap(),
        "10.20261129.1"
    );
    assert_eq!(
        automatic_version(p, Some("10.20261129.41"), NOV_29_2026 + 86_399, None).unwrap(),
        "10.20261129.42"
    );
    assert_eq!(
        automatic_version(p, Some("10.20261128.4"), NOV_29_2026, None).unwrap(),
        "10.20261129.0"
    );
    // A previous version that merely shares a textual prefix is not a predecessor.
    assert_eq!(
        automatic_version(p, Some("10.202611290.3"), NOV_29_2026, None).unwrap(),
        "10.20261129.0"
    );
    assert_eq!(
        automatic_version("10", Some("10.7"), 0, None).unwrap(),
        "10.8"
    );
    // automatic-version-suffix replaces the `.` before the counter.
    assert_eq!(
        automatic_version(p, Some("10.20261129-3"), NOV_29_2026, Some("-")).unwrap(),
        "10.20261129-4"
    );
}

#[test]
fn automatic_version_dates() {
    assert_eq!(
        automatic_version("<date:%Y-%m-%d %H:%M:%S>", None, 0, None).unwrap(),
        "1970-01-01 00:00:00.0"
    );
    // 2024-02-29T13:14:15Z, a leap day.
    assert_eq!(
        automatic_version("v<date:%Y%m%d.%H%M%S>", None, 1_709_212_455, None).unwrap(),
        "v20240229.131415.0"
    );
    assert_eq!(
        automatic_version("<date:%Y%m%d>", None, -1, None).unwrap(),
        "19691231.0"
    );
}

#[test]
fn automatic_version_errors() {
    assert_eq!(
        automatic_version("10.<date:%Y", None, 0, None)
            .unwrap_err()
            .to_string(),
        "automatic-version-prefix `10.<date:%Y`: unterminated `<date:`; expected `<date:FORMAT>`"
    );
    assert_eq!(
        automatic_version("<date:%j>", None, 0, None).unwrap_err().to_string(),
        "automatic-version-prefix `<date:%j>`: unsupported `%j` in `<date:%j>`; accepted: %Y %m %d %H %M %S %%"
    );
}

#[test]
fn input_hash_frames_labels_and_bytes() {
    let plan = load_str("t.yaml", "ref: r\n", "x86_64").unwrap();
    let hash = |parts: &[(&str, &[u8])]| {
        let mut h = InputHasher::new(&plan);
        for (label, bytes) in parts {
            h.add(label, bytes);
        }
        h.finish()
    };
    let a = hash(&[("ab", b"c")]);
    assert_eq!(a.0.len(), 64);
    assert!(a
        .0
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    assert_eq!(a.to_string(), a.0);
    assert_eq!(a, hash(&[("ab", b"c")]));
    assert_ne!(a, hash(&[("a", b"bc")]));
    assert_ne!(
        hash(&[("x", b"ab"), ("y", b"")]),
        hash(&[("x", b"a"), ("y", b"b")])
    );

    let other = load_str("t.yaml", "ref: r2\n", "x86_64").unwrap();
    assert_ne!(
        InputHasher::new(&plan).finish(),
        InputHasher::new(&other).finish()
    );
}
