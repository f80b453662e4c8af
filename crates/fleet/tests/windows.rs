//! Reboot windows in local time, across midnight and daylight-saving changes.

mod common;

use common::utc;
use mxos_fleet::{
    in_reboot_window, next_reboot_window, parse_reboot_window, FleetError, RebootWindow, Weekday,
};

const MX: &str = "America/Mexico_City";
const TIJUANA: &str = "America/Tijuana";

fn w(spec: &str) -> RebootWindow {
    parse_reboot_window(spec).unwrap()
}

fn inside(spec: &str, tz: &str, now: i64) -> bool {
    in_reboot_window(&[w(spec)], tz, now).unwrap()
}

#[test]
fn no_windows_means_any_time() {
    assert!(in_reboot_window(&[], MX, 0).unwrap());
    assert_eq!(next_reboot_window(&[], MX, 42).unwrap(), Some(42));
}

#[test]
fn mexico_city_is_utc_minus_6_all_year() {
    // Monday 2 March and Friday 5 June 2026: 18:00 local is 00:00 UTC the next day.
    let spec = "mon-fri 18:00+240";
    assert!(!inside(spec, MX, utc(2026, 3, 2, 23, 59)));
    assert!(inside(spec, MX, utc(2026, 3, 3, 0, 0)));
    assert!(inside(spec, MX, utc(2026, 3, 3, 3, 59)));
    assert!(!inside(spec, MX, utc(2026, 3, 3, 4, 0)));
    // June would be UTC-5 under the old DST rules; since 2022 it is still UTC-6.
    assert!(inside(spec, MX, utc(2026, 6, 6, 0, 0)));
    assert!(!inside(spec, MX, utc(2026, 6, 5, 23, 0)));
}

#[test]
fn window_crossing_midnight_belongs_to_its_start_day() {
    // Friday 22:00 for 4 hours runs into Saturday 02:00; Saturday has no window of its own.
    let spec = "fri 22:00+240";
    assert!(inside(spec, MX, utc(2026, 6, 6, 7, 30))); // Sat 01:30 local
    assert!(!inside(spec, MX, utc(2026, 6, 6, 8, 0))); // Sat 02:00 local
    assert!(!inside(spec, MX, utc(2026, 6, 7, 5, 0))); // Sat 23:00 local
    assert!(inside(spec, MX, utc(2026, 6, 13, 4, 0))); // next Fri 22:00 local
}

#[test]
fn days_list() {
    let spec = "mon,wed,fri 12:00+60";
    let noon_tue = utc(2026, 3, 3, 18, 30);
    let noon_wed = utc(2026, 3, 4, 18, 30);
    assert!(!inside(spec, MX, noon_tue));
    assert!(inside(spec, MX, noon_wed));
    assert_eq!(
        next_reboot_window(&[w(spec)], MX, noon_tue).unwrap(),
        Some(utc(2026, 3, 4, 18, 0))
    );
}

#[test]
fn next_window_picks_the_soonest_of_several() {
    let windows = [w("sat 03:00+60"), w("mon-fri 18:00+240")];
    // Friday 5 June 2026, 21:00 local: Friday's window is open; at 22:00 it has closed.
    assert_eq!(
        next_reboot_window(&windows, MX, utc(2026, 6, 6, 3, 0)).unwrap(),
        Some(utc(2026, 6, 6, 3, 0))
    );
    assert_eq!(
        next_reboot_window(&windows, MX, utc(2026, 6, 6, 4, 0)).unwrap(),
        Some(utc(2026, 6, 6, 9, 0))
    );
    // Saturday 02:30 local: Saturday 03:00 comes before Monday 18:00.
    assert_eq!(
        next_reboot_window(&windows, MX, utc(2026, 6, 6, 8, 30)).unwrap(),
        Some(utc(2026, 6, 6, 9, 0))
    );
    // Saturday 04:00 local: next is Monday 8 June 18:00.
    assert_eq!(
        next_reboot_window(&windows, MX, utc(2026, 6, 6, 10, 0)).unwrap(),
        Some(utc(2026, 6, 9, 0, 0))
    );
}

#[test]
fn spring_forward_gap_opens_when_the_clock_jumps() {
    // Tijuana, Sunday 8 March 2026: 02:00 PST becomes 03:00 PDT at 10:00 UTC, so 02:30
    // never happens; the window opens at 03:00 PDT and still lasts 60 minutes.
    let spec = "sun 02:30+60";
    let before = utc(2026, 3, 8, 9, 59);
    assert!(!inside(spec, TIJUANA, before));
    assert_eq!(
        next_reboot_window(&[w(spec)], TIJUANA, before).unwrap(),
        Some(utc(2026, 3, 8, 10, 0))
    );
    assert!(inside(spec, TIJUANA, utc(2026, 3, 8, 10, 59)));
    assert!(!inside(spec, TIJUANA, utc(2026, 3, 8, 11, 0)));
    // A week later 02:30 PDT exists again: 09:30 UTC.
    assert_eq!(
        next_reboot_window(&[w(spec)], TIJUANA, utc(2026, 3, 8, 11, 0)).unwrap(),
        Some(utc(2026, 3, 15, 9, 30))
    );
}

#[test]
fn fall_back_uses_the_earlier_instant() {
    // Tijuana, Sunday 1 November 2026: 02:00 PDT becomes 01:00 PST at 09:00 UTC, so
    // 01:30 happens twice (08:30 and 09:30 UTC); the window opens once, at the first.
    let spec = "sun 01:30+60";
    assert_eq!(
        next_reboot_window(&[w(spec)], TIJUANA, utc(2026, 11, 1, 0, 0)).unwrap(),
        Some(utc(2026, 11, 1, 8, 30))
    );
    assert!(inside(spec, TIJUANA, utc(2026, 11, 1, 9, 29)));
    assert!(!inside(spec, TIJUANA, utc(2026, 11, 1, 9, 30)));
    assert_eq!(
        next_reboot_window(&[w(spec)], TIJUANA, utc(2026, 11, 1, 9, 30)).unwrap(),
        Some(utc(2026, 11, 8, 9, 30))
    );
    // 02:30 exists once that day, in PST: 10:30 UTC (it was 09:30 UTC the Sunday before).
    let spec = "sun 02:30+60";
    assert_eq!(
        next_reboot_window(&[w(spec)], TIJUANA, utc(2026, 10, 31, 12, 0)).unwrap(),
        Some(utc(2026, 11, 1, 10, 30))
    );
    assert!(!inside(spec, TIJUANA, utc(2026, 11, 1, 9, 45)));
    assert!(inside(spec, TIJUANA, utc(2026, 11, 1, 11, 29)));
    assert_eq!(
        next_reboot_window(&[w(spec)], TIJUANA, utc(2026, 10, 24, 12, 0)).unwrap(),
        Some(utc(2026, 10, 25, 9, 30))
    );
}

#[test]
fn parse_window_specs() {
    assert_eq!(
        w("mon-fri 18:00+240"),
        RebootWindow {
            days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri
            ],
            start: "18:00".into(),
            length_minutes: 240,
        }
    );
    assert_eq!(
        w("fri-mon,wed 02:00+1440").days,
        vec![
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
            Weekday::Mon,
            Weekday::Wed
        ]
    );
    assert_eq!(w("Sat,SUN 03:00+60").to_string(), "sat,sun 03:00+60");
}

#[test]
fn bad_window_specs_say_what_is_accepted() {
    let accepted = "expected DAYS HH:MM+MINUTES such as \"mon-fri 18:00+240\" (DAYS: mon tue wed \
                    thu fri sat sun, as a list \"mon,wed,fri\" or a range \"mon-fri\"; MINUTES: 1 \
                    to 1440)";
    let err = |spec: &str| parse_reboot_window(spec).unwrap_err().to_string();
    assert_eq!(
        err("lunes 18:00+60"),
        format!("reboot window \"lunes 18:00+60\": \"lunes\" is not a day; {accepted}")
    );
    assert_eq!(
        err("mon 25:00+60"),
        format!(
            "reboot window \"mon 25:00+60\": \"25:00\" is not a time of day as HH:MM, 00:00 to \
             23:59; {accepted}"
        )
    );
    assert_eq!(
        err("mon 18:00"),
        format!("reboot window \"mon 18:00\": \"18:00\" has no +MINUTES length; {accepted}")
    );
    assert_eq!(
        err("mon 18:00+0"),
        format!("reboot window \"mon 18:00+0\": 0 minutes is not between 1 and 1440; {accepted}")
    );
    assert_eq!(
        err("mon 18:00+2h"),
        format!("reboot window \"mon 18:00+2h\": \"2h\" is not a number of minutes; {accepted}")
    );
    assert_eq!(
        err("mon-fri"),
        format!(
            "reboot window \"mon-fri\": it needs two parts separated by a space, the days and \
             the start+minutes; {accepted}"
        )
    );
}

#[test]
fn bad_time_zone_and_window_are_errors() {
    assert_eq!(
        in_reboot_window(&[], "Mexico/Ciudad", 0).unwrap_err(),
        FleetError::Invalid {
            field: "time_zone".into(),
            problem: "\"Mexico/Ciudad\" is not an IANA time zone name (such as \
                      \"America/Mexico_City\")"
                .into()
        }
    );
    let mut bad = w("mon 18:00+60");
    bad.days.clear();
    assert_eq!(
        next_reboot_window(&[w("tue 18:00+60"), bad], MX, 0)
            .unwrap_err()
            .to_string(),
        "invalid reboot_windows[1].days: a window needs at least one day"
    );
}
