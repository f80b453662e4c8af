//! Device-side acceptance of signed manifests, and every refusal in English (the device's catalogue has the Spanish).

mod common;

use common::{manifest, utc, CHANNEL};
use mxos_fleet::{accept, next_serial, sign, Acceptance, FleetError, FleetManifest, Refusal};
use mxos_sign::{PublicKey, SecretKey};

struct Setup {
    key: SecretKey,
    trusted: Vec<PublicKey>,
    json: Vec<u8>,
}

fn setup() -> Setup {
    let key = SecretKey::generate();
    let trusted = vec![SecretKey::generate().public(), key.public()];
    Setup {
        key,
        trusted,
        json: manifest().to_json(),
    }
}

fn acceptance(trusted: &[PublicKey]) -> Acceptance<'_> {
    Acceptance {
        trusted_keys: trusted,
        expected_channel: CHANNEL,
        highest_serial_seen: Some(6),
        now: utc(2026, 3, 15, 12, 0),
    }
}

fn refusal(s: &Setup, json: &[u8], acc: &Acceptance) -> Refusal {
    let sig = sign(json, &s.key);
    accept(json, &[sig], "estable.json", acc).unwrap_err()
}

#[test]
fn happy_path() {
    let s = setup();
    let sig = sign(&s.json, &s.key);
    assert_eq!(sig.len(), 64);
    // A malformed signature before the good one does not hide it.
    let m = accept(
        &s.json,
        &[vec![1, 2, 3], sig],
        "estable.json",
        &acceptance(&s.trusted),
    )
    .unwrap();
    assert_eq!(m, manifest());
}

#[test]
fn unsigned() {
    let s = setup();
    let r = accept(&s.json, &[], "estable.json", &acceptance(&s.trusted)).unwrap_err();
    assert_eq!(r, Refusal::Unsigned);
    assert_eq!(
        r.to_string(),
        "the fleet manifest is not signed (no ed25519 signature)"
    );
}

#[test]
fn unknown_key_or_altered_content() {
    let s = setup();
    let stranger = SecretKey::generate();
    let by_stranger = sign(&s.json, &stranger);
    let acc = acceptance(&s.trusted);
    let r = accept(&s.json, &[by_stranger], "estable.json", &acc).unwrap_err();
    assert_eq!(r, Refusal::UnknownKey);
    let mut altered = s.json.clone();
    *altered.last_mut().unwrap() = b' ';
    let good = sign(&s.json, &s.key);
    assert_eq!(
        accept(&altered, &[good], "estable.json", &acc).unwrap_err(),
        Refusal::UnknownKey
    );
    assert_eq!(
        accept(&s.json, &[vec![0; 63]], "estable.json", &acc).unwrap_err(),
        Refusal::UnknownKey
    );
    assert_eq!(
        r.to_string(),
        "the fleet manifest is not signed by a trusted key (wrong key, or the manifest was \
         altered after signing)"
    );
}

#[test]
fn invalid() {
    let s = setup();
    let json = b"{\"schema\": 1}";
    let r = refusal(&s, json, &acceptance(&s.trusted));
    assert_eq!(
        r,
        Refusal::Invalid(FleetError::Parse {
            origin: "estable.json".into(),
            line: 1,
            column: 13,
            message: "missing field `channel`".into()
        })
    );
    assert_eq!(
        r.to_string(),
        "the fleet manifest is invalid: estable.json, line 1, column 13: missing field `channel`"
    );
}

#[test]
fn wrong_channel() {
    let s = setup();
    let mut acc = acceptance(&s.trusted);
    acc.expected_channel = "mxos/10/x86_64/escuelas/pruebas";
    let r = refusal(&s, &s.json, &acc);
    assert_eq!(
        r.to_string(),
        "the fleet manifest is for channel \"mxos/10/x86_64/escuelas/estable\", but this device \
         follows \"mxos/10/x86_64/escuelas/pruebas\""
    );
}

#[test]
fn equal_serial_accepted_lower_refused() {
    let s = setup();
    let mut acc = acceptance(&s.trusted);
    let sigs = [sign(&s.json, &s.key)];
    for seen in [None, Some(0), Some(6), Some(7)] {
        acc.highest_serial_seen = seen;
        assert!(accept(&s.json, &sigs, "estable.json", &acc).is_ok());
    }
    acc.highest_serial_seen = Some(8);
    let r = refusal(&s, &s.json, &acc);
    assert_eq!(
        r,
        Refusal::Replay {
            serial: 7,
            highest_seen: 8
        }
    );
    assert_eq!(
        r.to_string(),
        "the fleet manifest has serial 7, older than serial 8 already seen (an old manifest was \
         replayed)"
    );
}

#[test]
fn expired() {
    let s = setup();
    let mut acc = acceptance(&s.trusted);
    let expires = manifest().expires;
    acc.now = expires - 1;
    assert!(accept(&s.json, &[sign(&s.json, &s.key)], "estable.json", &acc).is_ok());
    acc.now = expires;
    assert_eq!(
        refusal(&s, &s.json, &acc),
        Refusal::Expired {
            expires,
            now: expires
        }
    );
    acc.now = utc(2026, 4, 2, 18, 30);
    let r = refusal(&s, &s.json, &acc);
    assert_eq!(
        r.to_string(),
        "the fleet manifest expired at 2026-04-01T00:00:00Z (it is now 2026-04-02T18:30:00Z); \
         its publisher must sign it again with a later expiry"
    );
}

#[test]
fn unsigned_target() {
    let r = Refusal::UnsignedTarget;
    assert_eq!(
        r.to_string(),
        "the fleet manifest's target commit is not signed by a trusted key; refusing to update \
         to it"
    );
}

#[test]
fn checks_run_in_variant_order() {
    // Wrong channel, replayed and expired at once: the channel is reported first.
    let s = setup();
    let mut acc = acceptance(&s.trusted);
    acc.expected_channel = "otro";
    acc.highest_serial_seen = Some(100);
    acc.now = i64::MAX;
    assert!(matches!(
        refusal(&s, &s.json, &acc),
        Refusal::WrongChannel { .. }
    ));
    acc.expected_channel = CHANNEL;
    assert!(matches!(refusal(&s, &s.json, &acc), Refusal::Replay { .. }));
    // An unsigned invalid manifest is reported as unsigned.
    assert_eq!(
        accept(b"nope", &[], "x", &acc).unwrap_err(),
        Refusal::Unsigned
    );
}

#[test]
fn next_serial_counts_up() {
    assert_eq!(next_serial(None), 1);
    let m: FleetManifest = manifest();
    assert_eq!(next_serial(Some(&m)), 8);
}
