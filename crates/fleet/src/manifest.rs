//! The fleet manifest: the JSON document a channel's publisher signs and devices read.
//!
//! Per-field rules are checked while deserializing, so serde_json can point at the offending
//! line and column; [`FleetManifest::validate`] repeats them (for manifests built in code)
//! and adds the rules that span several fields.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::FleetError;

/// The only manifest schema this crate reads and writes.
pub const SCHEMA: u32 = 1;

/// Where most MxOS schools are; used when a manifest names no `time_zone`.
pub const DEFAULT_TIME_ZONE: &str = "America/Mexico_City";

/// What a channel's devices should run, and how and when they get there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FleetManifest {
    #[serde(deserialize_with = "de::schema")]
    pub schema: u32,
    pub channel: String,
    #[serde(rename = "ref")]
    pub reference: String,
    pub serial: u64,
    pub issued: i64,
    pub expires: i64,
    pub target: Release,
    #[serde(default)]
    pub rollout: Option<Rollout>,
    #[serde(default)]
    pub paused: bool,
    #[serde(default)]
    pub barriers: Vec<Barrier>,
    #[serde(default)]
    pub dead_ends: Vec<DeadEnd>,
    #[serde(default)]
    pub reboot_windows: Vec<RebootWindow>,
    #[serde(default = "default_time_zone", deserialize_with = "de::time_zone")]
    pub time_zone: String,
}

/// One OSTree commit of the channel's ref.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Release {
    #[serde(deserialize_with = "de::commit")]
    pub commit: String,
    pub version: String,
    /// The commit's own timestamp: it orders releases, so updates never go backwards.
    pub timestamp: i64,
}

/// A staged rollout: `start_percentage` of devices may update from the start (even before
/// `start`), growing linearly to all of them over `duration_minutes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rollout {
    pub start: i64,
    #[serde(deserialize_with = "de::percentage")]
    pub start_percentage: u8,
    pub duration_minutes: u32,
}

/// A release every device must pass through before going further (e.g. one that migrates
/// data the later ones rely on).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Barrier {
    pub release: Release,
    pub reason: String,
}

/// A commit from which no automatic update is safe; a person must act on those devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeadEnd {
    #[serde(deserialize_with = "de::commit")]
    pub commit: String,
    pub reason: String,
}

/// A weekly period, in the manifest's time zone, when devices may reboot into an update.
/// It opens on each of `days` at `start` and lasts `length_minutes` of elapsed time, possibly
/// past midnight; it belongs to the day it opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RebootWindow {
    #[serde(deserialize_with = "de::days")]
    pub days: Vec<Weekday>,
    #[serde(deserialize_with = "de::start")]
    pub start: String,
    #[serde(deserialize_with = "de::length")]
    pub length_minutes: u32,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    /// The JSON and command-line spelling: "mon" … "sun".
    pub fn as_str(self) -> &'static str {
        match self {
            Weekday::Mon => "mon",
            Weekday::Tue => "tue",
            Weekday::Wed => "wed",
            Weekday::Thu => "thu",
            Weekday::Fri => "fri",
            Weekday::Sat => "sat",
            Weekday::Sun => "sun",
        }
    }

    pub fn from_abbrev(s: &str) -> Option<Weekday> {
        Weekday::ALL.into_iter().find(|d| d.as_str() == s)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    pub(crate) fn from_chrono(d: chrono::Weekday) -> Weekday {
        Weekday::ALL[d.num_days_from_monday() as usize]
    }
}

impl fmt::Display for Weekday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for RebootWindow {
    /// The same form [`crate::parse_reboot_window`] reads, e.g. `mon,tue 18:00+240`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days: Vec<&str> = self.days.iter().map(|d| d.as_str()).collect();
        write!(
            f,
            "{} {}+{}",
            days.join(","),
            self.start,
            self.length_minutes
        )
    }
}

fn default_time_zone() -> String {
    DEFAULT_TIME_ZONE.to_string()
}

impl FleetManifest {
    /// Reads and validates a manifest; errors name `source` and, for schema errors, the line
    /// and column.
    pub fn parse(json: &[u8], source: &str) -> Result<FleetManifest, FleetError> {
        let manifest: FleetManifest = serde_json::from_slice(json).map_err(|e| {
            // serde_json appends the position to its message; we print it our own way.
            let message = e.to_string();
            let suffix = format!(" at line {} column {}", e.line(), e.column());
            FleetError::Parse {
                origin: source.to_string(),
                line: e.line(),
                column: e.column(),
                message: message
                    .strip_suffix(&suffix)
                    .unwrap_or(&message)
                    .to_string(),
            }
        })?;
        manifest.validate().map_err(|e| FleetError::InFile {
            origin: source.to_string(),
            error: Box::new(e),
        })?;
        Ok(manifest)
    }

    pub fn validate(&self) -> Result<(), FleetError> {
        if self.schema != SCHEMA {
            return Err(FleetError::invalid(
                "schema",
                schema_problem(self.schema.into()),
            ));
        }
        check_name("channel", &self.channel)?;
        check_name("ref", &self.reference)?;
        if self.expires <= self.issued {
            return Err(FleetError::invalid(
                "expires",
                format!("{} is not after issued ({})", self.expires, self.issued),
            ));
        }
        check_release("target", &self.target)?;
        if let Some(r) = &self.rollout {
            if r.start_percentage > 100 {
                return Err(FleetError::invalid(
                    "rollout.start_percentage",
                    percentage_problem(r.start_percentage.into()),
                ));
            }
        }
        for (i, b) in self.barriers.iter().enumerate() {
            check_release(&format!("barriers[{i}].release"), &b.release)?;
        }
        for (i, d) in self.dead_ends.iter().enumerate() {
            let field = format!("dead_ends[{i}].commit");
            check_commit(&d.commit).map_err(|p| FleetError::invalid(&field, p))?;
            // Devices elsewhere would be sent to a commit nobody may leave automatically.
            if d.commit == self.target.commit {
                return Err(FleetError::invalid(
                    field,
                    format!("{} is also the target commit", d.commit),
                ));
            }
        }
        for (i, w) in self.reboot_windows.iter().enumerate() {
            check_window(i, w)?;
        }
        check_time_zone(&self.time_zone).map_err(|p| FleetError::invalid("time_zone", p))?;
        Ok(())
    }

    /// Canonical form: pretty JSON, fields in declaration order, every field present, ending
    /// with a newline, so that two publishers produce the same bytes to sign.
    pub fn to_json(&self) -> Vec<u8> {
        // Only strings, integers, bools and sequences: serializing cannot fail.
        let mut out = serde_json::to_vec_pretty(self).expect("fleet manifest serializes");
        out.push(b'\n');
        out
    }
}

fn check_name(field: &str, value: &str) -> Result<(), FleetError> {
    if value.is_empty() {
        return Err(FleetError::invalid(field, "it is empty"));
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(FleetError::invalid(
            field,
            format!("{value:?} contains whitespace or control characters"),
        ));
    }
    Ok(())
}

fn check_release(field: &str, r: &Release) -> Result<(), FleetError> {
    check_commit(&r.commit).map_err(|p| FleetError::invalid(format!("{field}.commit"), p))
}

pub(crate) fn check_window(i: usize, w: &RebootWindow) -> Result<(), FleetError> {
    let field = |name: &str| format!("reboot_windows[{i}].{name}");
    if w.days.is_empty() {
        return Err(FleetError::invalid(field("days"), DAYS_PROBLEM));
    }
    parse_hhmm(&w.start).map_err(|p| FleetError::invalid(field("start"), p))?;
    check_length(w.length_minutes).map_err(|p| FleetError::invalid(field("length_minutes"), p))
}

pub(crate) fn check_commit(c: &str) -> Result<(), String> {
    if c.len() == 64 && c.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(())
    } else {
        Err(format!(
            "{c:?} is not an OSTree commit checksum (64 lowercase hexadecimal characters)"
        ))
    }
}

pub(crate) fn check_time_zone(name: &str) -> Result<chrono_tz::Tz, String> {
    name.parse::<chrono_tz::Tz>().map_err(|_| {
        format!("{name:?} is not an IANA time zone name (such as \"America/Mexico_City\")")
    })
}

/// Hours and minutes of a strict 24-hour "HH:MM".
pub(crate) fn parse_hhmm(s: &str) -> Result<(u32, u32), String> {
    let problem = || format!("{s:?} is not a time of day as HH:MM, 00:00 to 23:59");
    let b = s.as_bytes();
    if b.len() != 5 || b[2] != b':' || ![0, 1, 3, 4].iter().all(|&i| b[i].is_ascii_digit()) {
        return Err(problem());
    }
    let num = |i: usize| u32::from(b[i] - b'0') * 10 + u32::from(b[i + 1] - b'0');
    let (h, m) = (num(0), num(3));
    if h > 23 || m > 59 {
        return Err(problem());
    }
    Ok((h, m))
}

pub(crate) fn check_length(minutes: u32) -> Result<(), String> {
    if (1..=1440).contains(&minutes) {
        Ok(())
    } else {
        Err(format!("{minutes} minutes is not between 1 and 1440"))
    }
}

const DAYS_PROBLEM: &str = "a window needs at least one day";

fn schema_problem(schema: u64) -> String {
    format!("{schema} is not supported (this MxOS reads schema {SCHEMA})")
}

fn percentage_problem(p: u64) -> String {
    format!("{p} is more than 100")
}

/// Deserializers that apply the per-field rules, so the error carries a position.
mod de {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer};

    use super::Weekday;

    fn custom<E: Error>(field: &str, problem: impl std::fmt::Display) -> E {
        E::custom(format!("invalid {field}: {problem}"))
    }

    pub fn schema<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        let v = u64::deserialize(d)?;
        match u32::try_from(v) {
            Ok(s) if s == super::SCHEMA => Ok(s),
            _ => Err(custom("schema", super::schema_problem(v))),
        }
    }

    pub fn commit<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        let s = String::deserialize(d)?;
        super::check_commit(&s).map_err(|p| custom("commit", p))?;
        Ok(s)
    }

    pub fn percentage<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
        let v = u64::deserialize(d)?;
        match u8::try_from(v) {
            Ok(p) if p <= 100 => Ok(p),
            _ => Err(custom(
                "rollout.start_percentage",
                super::percentage_problem(v),
            )),
        }
    }

    pub fn time_zone<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        let s = String::deserialize(d)?;
        super::check_time_zone(&s).map_err(|p| custom("time_zone", p))?;
        Ok(s)
    }

    pub fn days<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Weekday>, D::Error> {
        let days = Vec::<Weekday>::deserialize(d)?;
        if days.is_empty() {
            return Err(custom("reboot window days", super::DAYS_PROBLEM));
        }
        Ok(days)
    }

    pub fn start<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_hhmm(&s).map_err(|p| custom("reboot window start", p))?;
        Ok(s)
    }

    pub fn length<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        let v = u32::deserialize(d)?;
        super::check_length(v).map_err(|p| custom("reboot window length_minutes", p))?;
        Ok(v)
    }
}
