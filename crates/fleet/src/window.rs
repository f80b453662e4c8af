//! Reboot windows: when, in the school's local time, a device may reboot into an update.
//!
//! A window opens on each listed local day at local HH:MM and lasts `length_minutes` of
//! elapsed time, possibly past midnight; it belongs to the day it opens. Local times that do
//! not exist (a DST spring-forward gap) open at the first instant after the gap; ambiguous
//! ones (fall-back) open at the earlier instant, so a window never opens twice in one day.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, TimeZone};
use chrono_tz::Tz;

use crate::manifest::{check_length, check_time_zone, check_window, parse_hhmm};
use crate::{FleetError, RebootWindow, Weekday};

/// Whether `now` falls inside one of `windows`; an empty list allows rebooting at any time.
pub fn in_reboot_window(
    windows: &[RebootWindow],
    time_zone: &str,
    now: i64,
) -> Result<bool, FleetError> {
    Ok(next_reboot_window(windows, time_zone, now)? == Some(now))
}

/// When the device may next reboot: `Some(now)` inside a window (or with no windows),
/// else the unix time the next window opens.
pub fn next_reboot_window(
    windows: &[RebootWindow],
    time_zone: &str,
    now: i64,
) -> Result<Option<i64>, FleetError> {
    let tz = check_time_zone(time_zone).map_err(|p| FleetError::invalid("time_zone", p))?;
    for (i, w) in windows.iter().enumerate() {
        check_window(i, w)?;
    }
    if windows.is_empty() {
        return Ok(Some(now));
    }
    let today = DateTime::from_timestamp(now, 0)
        .ok_or_else(|| FleetError::invalid("now", format!("{now} is outside the supported dates")))?
        .with_timezone(&tz)
        .date_naive();
    let mut next: Option<i64> = None;
    for w in windows {
        let (h, m) = parse_hhmm(&w.start).map_err(|p| FleetError::invalid("start", p))?;
        let at = NaiveTime::from_hms_opt(h, m, 0).expect("parse_hhmm bounds hours and minutes");
        // Windows that opened up to two days ago may still be open (one lasts at most a
        // day); eight days ahead covers every weekday once more.
        for offset in -2..=8 {
            let Some(day) = today.checked_add_signed(TimeDelta::days(offset)) else {
                continue;
            };
            if !w
                .days
                .contains(&Weekday::from_chrono(chrono::Datelike::weekday(&day)))
            {
                continue;
            }
            let Some(opens) = local_instant(tz, day, at) else {
                continue;
            };
            let closes = opens + i64::from(w.length_minutes) * 60;
            if opens <= now && now < closes {
                return Ok(Some(now));
            }
            if opens >= now {
                next = Some(next.map_or(opens, |n| n.min(opens)));
            }
        }
    }
    Ok(next)
}

/// The instant local `day` `at` names in `tz`: the earlier of two in a fall-back overlap,
/// the end of the gap in a spring-forward one.
fn local_instant(tz: Tz, day: NaiveDate, at: NaiveTime) -> Option<i64> {
    let local = day.and_time(at);
    // Real gaps are at most a few hours and start and end on whole minutes; the first
    // existing minute after the named one is the instant the clocks jumped.
    (0..=1440).find_map(|k| {
        let t = local.checked_add_signed(TimeDelta::minutes(k))?;
        tz.from_local_datetime(&t).earliest().map(|d| d.timestamp())
    })
}

/// Reads a command-line window such as `mon-fri 18:00+240` or `sat,sun 02:00+120`.
pub fn parse_reboot_window(spec: &str) -> Result<RebootWindow, FleetError> {
    let bad = |problem: String| FleetError::BadRebootWindow {
        spec: spec.to_string(),
        problem,
    };
    let mut parts = spec.split_whitespace();
    let (Some(days_spec), Some(when), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad(
            "it needs two parts separated by a space, the days and the start+minutes".into(),
        ));
    };
    let days = parse_days(days_spec).map_err(bad)?;
    let Some((start, minutes)) = when.split_once('+') else {
        return Err(bad(format!("{when:?} has no +MINUTES length")));
    };
    parse_hhmm(start).map_err(bad)?;
    let length_minutes: u32 = minutes
        .parse()
        .map_err(|_| bad(format!("{minutes:?} is not a number of minutes")))?;
    check_length(length_minutes).map_err(bad)?;
    Ok(RebootWindow {
        days,
        start: start.to_string(),
        length_minutes,
    })
}

/// `mon,wed,fri`, `mon-fri`, or a mix; ranges may wrap past Sunday (`fri-mon`).
fn parse_days(spec: &str) -> Result<Vec<Weekday>, String> {
    let day = |s: &str| {
        Weekday::from_abbrev(&s.to_ascii_lowercase()).ok_or_else(|| format!("{s:?} is not a day"))
    };
    let mut days = Vec::new();
    for item in spec.split(',') {
        let span = match item.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (day(from)?.index(), day(to)?.index());
                let len = (to + 7 - from) % 7 + 1;
                (0..len).map(|k| Weekday::ALL[(from + k) % 7]).collect()
            }
            None => vec![day(item)?],
        };
        for d in span {
            if !days.contains(&d) {
                days.push(d);
            }
        }
    }
    Ok(days)
}
