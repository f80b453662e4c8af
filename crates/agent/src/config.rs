//! Update settings merged from TOML fragments: the image's in /usr/lib, the admin's in /etc.
//!
//! Fragments are applied in order: every `/usr/lib/mxos/update.d/*.toml` sorted by file
//! name, then every `/etc/mxos/update.d/*.toml` sorted by file name; later ones override
//! earlier ones key by key. An /etc fragment with the same file name as a /usr/lib one
//! replaces it entirely, so an admin can mask what the image ships. The caller reads the
//! files; everything here is pure so that each error text can be tested.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;

mod spans;
use spans::{position, Kind, Node};
use std::str::FromStr;

use crate::i18n::Text;
use crate::t;

pub const USR_LIB_DIR: &str = "/usr/lib/mxos/update.d";
pub const ETC_DIR: &str = "/etc/mxos/update.d";

/// One file's contents, as read by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    pub path: String,
    pub text: String,
}

impl Fragment {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        Fragment {
            path: path.into(),
            text: text.into(),
        }
    }

    fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

/// When a staged update may restart the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RebootPolicy {
    /// The person restarts the machine; the update applies then.
    Never,
    /// Restart automatically, but only inside the configured reboot window.
    Window,
    /// Restart as soon as the update is staged.
    Now,
}

const REBOOT_ACCEPTED: &str = "never, window, now";

impl RebootPolicy {
    /// For `--reboot never|window|now`; the error lists what is accepted.
    pub fn parse(s: &str) -> Result<RebootPolicy, Text> {
        match s {
            "never" => Ok(RebootPolicy::Never),
            "window" => Ok(RebootPolicy::Window),
            "now" => Ok(RebootPolicy::Now),
            _ => Err(t!(
                "config-reboot-unknown",
                value = s,
                accepted = REBOOT_ACCEPTED
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RebootPolicy::Never => "never",
            RebootPolicy::Window => "window",
            RebootPolicy::Now => "now",
        }
    }
}

impl FromStr for RebootPolicy {
    type Err = Text;
    fn from_str(s: &str) -> Result<Self, Text> {
        RebootPolicy::parse(s)
    }
}

impl fmt::Display for RebootPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The merged settings of the update agent.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `[updates] channel`; `None` follows the ref without a fleet manifest. An empty string
    /// sets it back to `None`, which is how an /etc fragment undoes an image's channel.
    pub channel: Option<String>,
    pub reboot: RebootPolicy,
    /// `false` only checks and reports; nothing is downloaded.
    pub enabled: bool,
    pub health_timeout_seconds: u32,
    /// GRUB boot counting: failed boots before falling back to the previous deployment.
    pub max_boot_attempts: u8,
    pub allow_downgrade: bool,
    /// `[sources]`: where updates may come from, in order.
    pub sources: SourceSettings,
}

/// A kind of place updates come from; `[sources] order` lists them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// A mounted drive written by `mxos-compose usb`.
    Usb,
    /// The school's mirror or a machine of the lab, from `[sources] lan`.
    Lan,
    /// The URL the remote was set up with.
    Main,
}

const SOURCES_ACCEPTED: &str = "\"usb\", \"lan\", \"main\"";

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Usb => "usb",
            SourceKind::Lan => "lan",
            SourceKind::Main => "main",
        }
    }
}

/// `[sources]`: the order to try, the LAN servers, where drives are mounted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSettings {
    pub order: Vec<SourceKind>,
    /// `http(s)://` URLs of the school mirror or peers, tried in this order.
    pub lan: Vec<String>,
    /// Absolute patterns (`*` stands for one path component) of where drives are mounted;
    /// a drive is a source when it holds `mxos/summary`.
    pub usb_paths: Vec<String>,
}

impl Default for SourceSettings {
    fn default() -> Self {
        SourceSettings {
            order: vec![SourceKind::Usb, SourceKind::Lan, SourceKind::Main],
            lan: Vec::new(),
            usb_paths: vec!["/run/media/*/*".into(), "/media/*".into()],
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            channel: None,
            reboot: RebootPolicy::Window,
            enabled: true,
            health_timeout_seconds: 300,
            max_boot_attempts: 3,
            allow_downgrade: false,
            sources: SourceSettings::default(),
        }
    }
}

/// A fragment that could not be used: which file, where in it, and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    /// 1-based line and column (in characters), when the problem has a place in the text.
    pub position: Option<(usize, usize)>,
    pub message: Text,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, col)) => write!(f, "{}:{line}:{col}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Merges the fragments found in /usr/lib and /etc (see the module docs for the order).
/// Names that do not end in `.toml` are skipped, as the directories' contract says.
pub fn load(usr_lib: Vec<Fragment>, etc: Vec<Fragment>) -> Result<Settings, ConfigError> {
    let is_toml = |f: &Fragment| f.file_name().ends_with(".toml");
    let mut etc: Vec<Fragment> = etc.into_iter().filter(is_toml).collect();
    let masked: BTreeSet<String> = etc.iter().map(|f| f.file_name().to_string()).collect();
    let mut usr_lib: Vec<Fragment> = usr_lib
        .into_iter()
        .filter(|f| is_toml(f) && !masked.contains(f.file_name()))
        .collect();
    // Stable sorts: with two fragments of the same name in one list, the later one wins.
    usr_lib.sort_by(|a, b| a.file_name().cmp(b.file_name()));
    etc.sort_by(|a, b| a.file_name().cmp(b.file_name()));

    let mut settings = Settings::default();
    for fragment in usr_lib.iter().chain(etc.iter()) {
        apply(&mut settings, fragment)?;
    }
    Ok(settings)
}

// Keys per table, in the order they are listed to a person.
const TABLES: &[(&str, &[&str])] = &[
    (
        "updates",
        &["channel", "reboot", "enabled", "allow_downgrade"],
    ),
    ("health", &["timeout_seconds", "max_boot_attempts"]),
    ("sources", &["order", "lan", "usb_paths"]),
];

fn apply(settings: &mut Settings, fragment: &Fragment) -> Result<(), ConfigError> {
    let err = |span: Option<Range<usize>>, message: Text| ConfigError {
        file: fragment.path.clone(),
        position: span.map(|s| position(&fragment.text, s.start)),
        message,
    };
    let root = match toml::from_str::<Node>(&fragment.text) {
        Ok(Node {
            kind: Kind::Table(entries),
            ..
        }) => entries,
        Ok(_) => Vec::new(),
        Err(e) => {
            // toml's message spans lines; an error is reported on one.
            let message = e.message().trim_end().replace('\n', "; ");
            return Err(err(e.span(), t!("config-invalid-toml", detail = message)));
        }
    };

    for (name, node) in root {
        let Some((table, keys)) = TABLES.iter().find(|(t, _)| *t == name.name) else {
            let (span, name) = (name.span.or(node.span), name.name);
            let key_of = TABLES
                .iter()
                .find(|(_, keys)| keys.contains(&name.as_str()));
            let message = match key_of {
                Some((table, _)) if matches!(node.kind, Kind::Value(_)) => {
                    t!("config-key-outside-table", key = &name, table = table)
                }
                _ if matches!(node.kind, Kind::Value(_)) => {
                    t!(
                        "config-key-no-table",
                        key = &name,
                        accepted = bracketed(&table_names())
                    )
                }
                _ => {
                    let names = table_names();
                    let hint = match nearest(&name, &names) {
                        Some(near) => t!("config-did-you-mean", near = format!("[{near}]")),
                        None => t!("config-accepted", accepted = bracketed(&names)),
                    };
                    t!("config-unknown-table", table = &name).nested("hint", hint)
                }
            };
            return Err(err(span, message));
        };
        let entries = match node.kind {
            Kind::Table(entries) => entries,
            Kind::Value(v) => {
                return Err(err(
                    node.span.or(name.span),
                    t!("config-not-a-table", table = table).nested("found", kind(&v)),
                ))
            }
        };
        // Dotted keys carry no place of their own; the table's name is the nearest one.
        let fallback = name.span.or(node.span);
        for (key, value) in entries {
            if !keys.contains(&key.name.as_str()) {
                let hint = match nearest(&key.name, keys) {
                    Some(near) => t!("config-did-you-mean", near = format!("`{near}`")),
                    None => t!("config-accepted", accepted = keys.join(", ")),
                };
                return Err(err(
                    key.span.or(value.span).or(fallback.clone()),
                    t!("config-unknown-key", key = &key.name, table = table).nested("hint", hint),
                ));
            }
            let span = value.span.clone().or(key.span).or(fallback.clone());
            set(settings, table, &key.name, value.kind).map_err(|m| err(span, m))?;
        }
    }
    Ok(())
}

/// Sets one known key, or says what the key would accept.
fn set(settings: &mut Settings, table: &str, key: &str, node: Kind) -> Result<(), Text> {
    let value = match node {
        Kind::Value(v) => v,
        Kind::Table(_) => toml::Value::Table(toml::Table::new()),
    };
    let wrong_type = |expected: Text, accepted: Text| {
        t!("config-wrong-type", table = table, key = key)
            .nested("expected", expected)
            .nested("found", kind(&value))
            .nested("accepted", accepted)
    };
    let range = |min: i64, max: i64| -> Result<i64, Text> {
        let between = t!("config-range", min = min, max = max);
        match &value {
            toml::Value::Integer(n) if (min..=max).contains(n) => Ok(*n),
            toml::Value::Integer(n) => {
                Err(
                    t!("config-out-of-range", table = table, key = key, value = n)
                        .nested("accepted", between),
                )
            }
            _ => Err(wrong_type(t!("kind-integer"), between)),
        }
    };
    let boolean = || match &value {
        toml::Value::Boolean(b) => Ok(*b),
        _ => Err(wrong_type(
            t!("kind-boolean"),
            t!("literal", text = "true, false"),
        )),
    };
    match (table, key) {
        ("updates", "channel") => match &value {
            toml::Value::String(s) if s.is_empty() => settings.channel = None,
            toml::Value::String(s) => settings.channel = Some(s.clone()),
            _ => return Err(wrong_type(t!("kind-string"), t!("config-channel-accepted"))),
        },
        ("updates", "reboot") => match &value {
            toml::Value::String(s) => {
                settings.reboot = RebootPolicy::parse(s).map_err(|e| {
                    t!("config-bad-value", table = table, key = key).nested("detail", e)
                })?
            }
            _ => {
                return Err(wrong_type(
                    t!("kind-string"),
                    t!("literal", text = REBOOT_ACCEPTED),
                ))
            }
        },
        ("updates", "enabled") => settings.enabled = boolean()?,
        ("updates", "allow_downgrade") => settings.allow_downgrade = boolean()?,
        // The ranges make these conversions lossless.
        ("health", "timeout_seconds") => settings.health_timeout_seconds = range(1, 3600)? as u32,
        ("health", "max_boot_attempts") => settings.max_boot_attempts = range(1, 9)? as u8,
        ("sources", _) => {
            let accepted = match key {
                "order" => t!("literal", text = SOURCES_ACCEPTED),
                "lan" => t!("config-lan-accepted"),
                _ => t!("config-usb-paths-accepted"),
            };
            let toml::Value::Array(items) = &value else {
                return Err(wrong_type(t!("kind-array"), accepted));
            };
            let mut strings = Vec::new();
            for item in items {
                let toml::Value::String(s) = item else {
                    return Err(wrong_type(t!("kind-array"), accepted));
                };
                strings.push(s.clone());
            }
            let bad = |v: &str| {
                t!("config-bad-value", table = table, key = key).nested(
                    "detail",
                    t!("config-bad-item", value = v).nested("accepted", accepted.clone()),
                )
            };
            match key {
                "order" => {
                    let mut order = Vec::new();
                    for s in &strings {
                        let kind = match s.as_str() {
                            "usb" => SourceKind::Usb,
                            "lan" => SourceKind::Lan,
                            "main" => SourceKind::Main,
                            _ => return Err(bad(s)),
                        };
                        if order.contains(&kind) {
                            return Err(bad(s));
                        }
                        order.push(kind);
                    }
                    if order.is_empty() {
                        return Err(bad("[]"));
                    }
                    settings.sources.order = order;
                }
                "lan" => {
                    if let Some(s) = strings.iter().find(|s| {
                        !(s.starts_with("http://") || s.starts_with("https://"))
                            || s.contains(char::is_whitespace)
                    }) {
                        return Err(bad(s));
                    }
                    settings.sources.lan = strings;
                }
                _ => {
                    if let Some(s) = strings.iter().find(|s| !s.starts_with('/')) {
                        return Err(bad(s));
                    }
                    settings.sources.usb_paths = strings;
                }
            }
        }
        _ => unreachable!("TABLES and set() list the same keys"),
    }
    Ok(())
}

fn kind(v: &toml::Value) -> Text {
    match v {
        toml::Value::String(_) => t!("kind-string"),
        toml::Value::Integer(_) => t!("kind-integer"),
        toml::Value::Float(_) => t!("kind-float"),
        toml::Value::Boolean(_) => t!("kind-boolean"),
        toml::Value::Datetime(_) => t!("kind-datetime"),
        toml::Value::Array(_) => t!("kind-array"),
        toml::Value::Table(_) => t!("kind-table"),
    }
}

fn table_names() -> Vec<&'static str> {
    TABLES.iter().map(|(t, _)| *t).collect()
}

fn bracketed(names: &[&str]) -> String {
    let names: Vec<String> = names.iter().map(|n| format!("[{n}]")).collect();
    names.join(", ")
}

/// The closest candidate, if close enough to be a typo rather than a different word.
fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (levenshtein(word, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    fn usr(name: &str, text: &str) -> Fragment {
        Fragment::new(format!("{USR_LIB_DIR}/{name}"), text)
    }
    fn etc(name: &str, text: &str) -> Fragment {
        Fragment::new(format!("{ETC_DIR}/{name}"), text)
    }
    fn error(text: &str) -> String {
        load(vec![], vec![etc("10-escuela.toml", text)])
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn defaults_without_fragments() {
        let s = load(vec![], vec![]).unwrap();
        assert_eq!(s, Settings::default());
        assert_eq!(s.channel, None);
        assert_eq!(s.reboot, RebootPolicy::Window);
        assert!(s.enabled);
        assert_eq!(s.health_timeout_seconds, 300);
        assert_eq!(s.max_boot_attempts, 3);
        assert!(!s.allow_downgrade);
        // Empty files and empty tables change nothing.
        let s = load(
            vec![usr("a.toml", "")],
            vec![etc("b.toml", "[updates]\n[health]\n")],
        );
        assert_eq!(s.unwrap(), Settings::default());
    }

    #[test]
    fn every_key_is_read() {
        let s = load(
            vec![usr(
                "50-mxos.toml",
                "# shipped\n[updates]\nchannel = \"mxos/10/x86_64/escuelas/estable\"\n\
                 reboot = \"now\"\nenabled = false\nallow_downgrade = true\n\
                 [health]\ntimeout_seconds = 3600\nmax_boot_attempts = 9\n",
            )],
            vec![],
        )
        .unwrap();
        assert_eq!(
            s,
            Settings {
                channel: Some("mxos/10/x86_64/escuelas/estable".into()),
                reboot: RebootPolicy::Now,
                enabled: false,
                health_timeout_seconds: 3600,
                max_boot_attempts: 9,
                allow_downgrade: true,
                sources: SourceSettings::default(),
            }
        );
        // Dotted keys and inline tables are the same TOML.
        let s = load(
            vec![usr(
                "a.toml",
                "updates.reboot = \"never\"\nhealth = { max_boot_attempts = 1 }",
            )],
            vec![],
        );
        let s = s.unwrap();
        assert_eq!((s.reboot, s.max_boot_attempts), (RebootPolicy::Never, 1));
    }

    #[test]
    fn order_masking_and_key_by_key_override() {
        let usr_lib = vec![
            usr("60-late.toml", "[updates]\nreboot = \"never\"\n"),
            usr("10-base.toml", "[updates]\nreboot = \"now\"\nchannel = \"mxos/10/x86_64/base/estable\"\n[health]\ntimeout_seconds = 60\n"),
            usr("20-masked.toml", "[health]\nmax_boot_attempts = 5\n"),
        ];
        // Sorted by name: 10-base then 60-late; 60-late wins the reboot key only.
        let s = load(usr_lib.clone(), vec![]).unwrap();
        assert_eq!(s.reboot, RebootPolicy::Never);
        assert_eq!(s.channel.as_deref(), Some("mxos/10/x86_64/base/estable"));
        assert_eq!((s.health_timeout_seconds, s.max_boot_attempts), (60, 5));

        let s = load(
            usr_lib,
            vec![
                // Same name as a /usr/lib fragment: replaces it, so max_boot_attempts = 5 is gone.
                etc("20-masked.toml", "[updates]\nenabled = false\n"),
                // /etc comes after every /usr/lib fragment, whatever the names say.
                etc(
                    "05-admin.toml",
                    "[updates]\nreboot = \"window\"\nchannel = \"\"\n",
                ),
                etc("README", "not toml, not read"),
            ],
        )
        .unwrap();
        assert_eq!(
            s,
            Settings {
                channel: None,
                reboot: RebootPolicy::Window,
                enabled: false,
                health_timeout_seconds: 60,
                max_boot_attempts: 3,
                allow_downgrade: false,
                sources: SourceSettings::default(),
            }
        );

        // Within /etc, by name: 90 beats 10 regardless of the order given.
        let s = load(
            vec![],
            vec![
                etc("90-b.toml", "[updates]\nreboot = \"now\""),
                etc("10-a.toml", "[updates]\nreboot = \"never\""),
            ],
        );
        assert_eq!(s.unwrap().reboot, RebootPolicy::Now);
    }

    #[test]
    fn a_masking_fragment_is_checked_and_the_masked_one_is_not() {
        let s = load(
            vec![usr("30-x.toml", "this is not toml")],
            vec![etc("30-x.toml", "[health]\ntimeout_seconds = 10")],
        );
        assert_eq!(s.unwrap().health_timeout_seconds, 10);
        let e = load(
            vec![usr("10-ok.toml", "")],
            vec![etc("30-x.toml", "[updates]\nenabled = \"yes\"")],
        );
        let e = e.unwrap_err();
        assert_eq!(
            (e.file.as_str(), e.position, e.message.render(Lang::Es)),
            (
                "/etc/mxos/update.d/30-x.toml",
                Some((2, 11)),
                "[updates] enabled: se esperaba un valor booleano y se encontró una cadena; se acepta: true, false".into()
            )
        );
        assert_eq!(
            e.to_string(),
            "/etc/mxos/update.d/30-x.toml:2:11: [updates] enabled: expected a boolean, found a string; accepted: true, false"
        );
    }

    #[test]
    fn unknown_keys_and_tables() {
        assert_eq!(
            error("[updates]\nchannel = \"mxos/10/x86_64/escuelas/estable\"\nrebot = \"now\"\n"),
            "/etc/mxos/update.d/10-escuela.toml:3:1: unknown key `rebot` in [updates]; did you mean `reboot`?"
        );
        assert_eq!(
            error("[health]\n  timeout = 30"),
            "/etc/mxos/update.d/10-escuela.toml:2:3: unknown key `timeout` in [health]; accepted: timeout_seconds, max_boot_attempts"
        );
        assert_eq!(
            error("updates.enable = true"),
            "/etc/mxos/update.d/10-escuela.toml:1:9: unknown key `enable` in [updates]; did you mean `enabled`?"
        );
        assert_eq!(
            error("[helth]\n"),
            "/etc/mxos/update.d/10-escuela.toml:1:2: unknown table [helth]; did you mean [health]?"
        );
        assert_eq!(
            error("\n[window]\nstart = 1"),
            "/etc/mxos/update.d/10-escuela.toml:2:2: unknown table [window]; accepted: [updates], [health], [sources]"
        );
        assert_eq!(
            error("reboot = \"now\""),
            "/etc/mxos/update.d/10-escuela.toml:1:1: key `reboot` must be inside a table; put it under [updates]"
        );
        assert_eq!(
            error("verbose = true"),
            "/etc/mxos/update.d/10-escuela.toml:1:1: key `verbose` is outside any table; accepted tables: [updates], [health], [sources]"
        );
    }

    #[test]
    fn sources_in_order() {
        let s = load(
            vec![],
            vec![etc(
                "20-escuela.toml",
                "[sources]\norder = [\"lan\", \"main\"]\nlan = [\"http://servidor-escuela.local/mxos\"]\n\
                 usb_paths = [\"/mnt/*\"]\n",
            )],
        )
        .unwrap();
        assert_eq!(
            s.sources,
            SourceSettings {
                order: vec![SourceKind::Lan, SourceKind::Main],
                lan: vec!["http://servidor-escuela.local/mxos".into()],
                usb_paths: vec!["/mnt/*".into()],
            }
        );
        assert_eq!(
            error("[sources]\norder = [\"usb\", \"cloud\"]"),
            "/etc/mxos/update.d/10-escuela.toml:2:9: [sources] order: `cloud` is not accepted (each at most once); accepted: \"usb\", \"lan\", \"main\""
        );
        assert_eq!(
            error("[sources]\norder = [\"main\", \"main\"]"),
            "/etc/mxos/update.d/10-escuela.toml:2:9: [sources] order: `main` is not accepted (each at most once); accepted: \"usb\", \"lan\", \"main\""
        );
        assert_eq!(
            error("[sources]\nlan = \"http://x\""),
            "/etc/mxos/update.d/10-escuela.toml:2:7: [sources] lan: expected an array, found a string; accepted: a list of http:// or https:// URLs, such as [\"http://servidor-escuela.local/mxos\"]"
        );
        assert_eq!(
            error("[sources]\nlan = [\"servidor-escuela.local\"]"),
            "/etc/mxos/update.d/10-escuela.toml:2:7: [sources] lan: `servidor-escuela.local` is not accepted (each at most once); accepted: a list of http:// or https:// URLs, such as [\"http://servidor-escuela.local/mxos\"]"
        );
        assert_eq!(
            error("[sources]\nusb_paths = [\"media/*\"]"),
            "/etc/mxos/update.d/10-escuela.toml:2:13: [sources] usb_paths: `media/*` is not accepted (each at most once); accepted: absolute paths where drives are mounted, `*` for one directory level, such as [\"/run/media/*/*\", \"/media/*\"]"
        );
    }

    #[test]
    fn wrong_values_and_types() {
        assert_eq!(
            error("[updates]\nreboot = \"sometimes\""),
            "/etc/mxos/update.d/10-escuela.toml:2:10: [updates] reboot: unknown value `sometimes`; accepted: never, window, now"
        );
        assert_eq!(
            error("[updates]\nreboot = false"),
            "/etc/mxos/update.d/10-escuela.toml:2:10: [updates] reboot: expected a string, found a boolean; accepted: never, window, now"
        );
        assert_eq!(
            error("[updates]\nchannel = 10"),
            "/etc/mxos/update.d/10-escuela.toml:2:11: [updates] channel: expected a string, found an integer; \
             accepted: a channel such as \"mxos/10/x86_64/escuelas/estable\", or \"\" for none"
        );
        assert_eq!(
            error("[updates]\nallow_downgrade = 1979-05-27"),
            "/etc/mxos/update.d/10-escuela.toml:2:19: [updates] allow_downgrade: expected a boolean, found a date-time; accepted: true, false"
        );
        assert_eq!(
            error("[health]\ntimeout_seconds = \"5m\""),
            "/etc/mxos/update.d/10-escuela.toml:2:19: [health] timeout_seconds: expected an integer, found a string; accepted: 1 to 3600"
        );
        assert_eq!(
            error("[health]\ntimeout_seconds = 2.5"),
            "/etc/mxos/update.d/10-escuela.toml:2:19: [health] timeout_seconds: expected an integer, found a float; accepted: 1 to 3600"
        );
        assert_eq!(
            error("updates = [1]"),
            "/etc/mxos/update.d/10-escuela.toml:1:11: [updates] must be a table, found an array"
        );
        assert_eq!(
            error("[updates]\nreboot.at = \"18:00\""),
            "/etc/mxos/update.d/10-escuela.toml:2:1: [updates] reboot: expected a string, found a table; accepted: never, window, now"
        );
    }

    #[test]
    fn out_of_range() {
        assert_eq!(
            error("[health]\nmax_boot_attempts = 12"),
            "/etc/mxos/update.d/10-escuela.toml:2:21: [health] max_boot_attempts = 12 is out of range; accepted: 1 to 9"
        );
        assert_eq!(
            error("[health]\nmax_boot_attempts = 0"),
            "/etc/mxos/update.d/10-escuela.toml:2:21: [health] max_boot_attempts = 0 is out of range; accepted: 1 to 9"
        );
        assert_eq!(
            error("[health]\ntimeout_seconds = 3601"),
            "/etc/mxos/update.d/10-escuela.toml:2:19: [health] timeout_seconds = 3601 is out of range; accepted: 1 to 3600"
        );
        assert_eq!(
            error("[health]\ntimeout_seconds = -1"),
            "/etc/mxos/update.d/10-escuela.toml:2:19: [health] timeout_seconds = -1 is out of range; accepted: 1 to 3600"
        );
    }

    #[test]
    fn syntax_errors_and_positions_in_characters() {
        assert_eq!(
            error("[updates\n"),
            "/etc/mxos/update.d/10-escuela.toml:1:9: invalid TOML: invalid table header; expected `.`, `]`"
        );
        assert_eq!(
            error("[updates]\nreboot = \"now\"\nreboot = \"never\""),
            "/etc/mxos/update.d/10-escuela.toml:3:1: invalid TOML: duplicate key `reboot` in table `updates`"
        );
        // Columns count characters, not bytes: "ñ" is two bytes.
        assert_eq!(
            error("# señal\n[updates]\nchannel = \"ñ\" ; rebot = 1"),
            "/etc/mxos/update.d/10-escuela.toml:3:15: invalid TOML: expected newline, `#`"
        );
        assert_eq!(
            error("[updates] # año\n  \"año\" = 1"),
            "/etc/mxos/update.d/10-escuela.toml:2:3: unknown key `año` in [updates]; accepted: channel, reboot, enabled, allow_downgrade"
        );
    }

    #[test]
    fn reboot_policy_flag() {
        assert_eq!(RebootPolicy::parse("never"), Ok(RebootPolicy::Never));
        assert_eq!("window".parse(), Ok(RebootPolicy::Window));
        assert_eq!(RebootPolicy::parse("now"), Ok(RebootPolicy::Now));
        assert_eq!(
            RebootPolicy::parse("Now").unwrap_err().to_string(),
            "unknown value `Now`; accepted: never, window, now"
        );
        for p in [RebootPolicy::Never, RebootPolicy::Window, RebootPolicy::Now] {
            assert_eq!(RebootPolicy::parse(&p.to_string()), Ok(p));
        }
    }

    #[test]
    fn typo_distance() {
        assert_eq!(levenshtein("rebot", "reboot"), 1);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(nearest("enabel", &["enabled", "reboot"]), Some("enabled"));
        assert_eq!(nearest("x", &["enabled", "reboot"]), None);
    }
}
