//! The value types of treefile keys: how each is written, how it reads back in errors, and
//! the enums whose accepted values are rpm-ostree's.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::schema::RawTreefile;

/// How a key's expected type is described in "expected ..." errors.
pub(crate) trait Describe {
    const WHAT: &'static str;
}

impl Describe for String {
    const WHAT: &'static str = "a string";
}
impl Describe for bool {
    const WHAT: &'static str = "a boolean (`true` or `false`)";
}
impl Describe for u32 {
    const WHAT: &'static str = "a non-negative integer";
}
impl Describe for Vec<String> {
    const WHAT: &'static str = "a list of strings";
}
impl Describe for BTreeMap<String, String> {
    const WHAT: &'static str = "a mapping of names to strings";
}
impl Describe for BTreeMap<String, serde_json::Value> {
    const WHAT: &'static str = "a mapping of names to values";
}
impl Describe for serde_json::Value {
    const WHAT: &'static str = "any value";
}

/// A scalar kept as text, because rpm-ostree accepts `releasever: 10` as well as `"10"`;
/// whether it was written as a number matters to `if:` conditions.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum VarValue {
    Bool(bool),
    Number(u64),
    String(String),
}

impl VarValue {
    pub fn as_text(&self) -> String {
        match self {
            VarValue::Bool(b) => b.to_string(),
            VarValue::Number(n) => n.to_string(),
            VarValue::String(s) => s.clone(),
        }
    }

    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            VarValue::Bool(_) => "a boolean",
            VarValue::Number(_) => "a number",
            VarValue::String(_) => "a string",
        }
    }
}

impl fmt::Display for VarValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VarValue::String(s) => write!(f, "\"{s}\""),
            other => f.write_str(&other.as_text()),
        }
    }
}

impl Serialize for VarValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            VarValue::Bool(b) => s.serialize_bool(*b),
            VarValue::Number(n) => s.serialize_u64(*n),
            VarValue::String(v) => s.serialize_str(v),
        }
    }
}

impl<'de> Deserialize<'de> for VarValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = VarValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(<VarValue as Describe>::WHAT)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<VarValue, E> {
                Ok(VarValue::String(v.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<VarValue, E> {
                Ok(VarValue::Bool(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<VarValue, E> {
                Ok(VarValue::Number(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<VarValue, E> {
                u64::try_from(v)
                    .map(VarValue::Number)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

impl schemars::JsonSchema for VarValue {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "VarValue".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A string, a non-negative integer or a boolean.",
            "type": ["string", "integer", "boolean"]
        })
    }
}

impl Describe for VarValue {
    const WHAT: &'static str = "a string, a non-negative integer or a boolean";
}
impl Describe for BTreeMap<String, VarValue> {
    const WHAT: &'static str = "a mapping of names to strings, non-negative integers or booleans";
}

/// One path or a list of them (`include`, the values of `arch-include`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Includes(pub Vec<String>);

impl<'de> Deserialize<'de> for Includes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Includes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(<Includes as Describe>::WHAT)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Includes, E> {
                Ok(Includes(vec![v.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Includes, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    out.push(item);
                }
                Ok(Includes(out))
            }
        }
        d.deserialize_any(V)
    }
}

impl Describe for Includes {
    const WHAT: &'static str = "a file name or a list of file names";
}
impl Describe for BTreeMap<String, Includes> {
    const WHAT: &'static str = "a mapping of architectures to a file name or a list of file names";
}

/// `if:` of a conditional include: one condition or a list that must all hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conditions(pub Vec<String>);

impl<'de> Deserialize<'de> for Conditions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Conditions;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a condition like `basearch == \"x86_64\"` or a list of them")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Conditions, E> {
                Ok(Conditions(vec![v.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Conditions, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    out.push(item);
                }
                Ok(Conditions(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// What a conditional include brings in: files, or a treefile written in place.
#[derive(Debug)]
pub enum IncludeTarget {
    Files(Includes),
    Inline(Box<RawTreefile>),
}

impl<'de> Deserialize<'de> for IncludeTarget {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = IncludeTarget;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a file name, a list of file names, or treefile keys")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<IncludeTarget, E> {
                Ok(IncludeTarget::Files(Includes(vec![v.to_owned()])))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<IncludeTarget, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    out.push(item);
                }
                Ok(IncludeTarget::Files(Includes(out)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<IncludeTarget, A::Error> {
                let raw = RawTreefile::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(IncludeTarget::Inline(Box::new(raw)))
            }
        }
        d.deserialize_any(V)
    }
}

/// One entry of `conditional-include`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionalInclude {
    #[serde(rename = "if")]
    pub condition: Conditions,
    pub include: IncludeTarget,
}

impl Describe for Vec<ConditionalInclude> {
    const WHAT: &'static str = "a list of `{if: CONDITION, include: FILE(S) or keys}` entries";
}

/// A file a treefile names (`postprocess-script`, `add-files`, `check-passwd` of type
/// `file`), read relative to the treefile that names it. Only its name as written and its
/// content hash reach the plan's canonical form; the host path stays out of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ExternalFile {
    /// As written in the treefile.
    pub name: String,
    /// blake3 of the content: a changed file changes the input hash.
    pub blake3: String,
    #[serde(skip)]
    pub path: PathBuf,
    /// Executable on the build host (postprocess scripts must be).
    #[serde(skip)]
    pub executable: bool,
}

impl ExternalFile {
    pub(crate) fn unresolved(name: String) -> ExternalFile {
        ExternalFile {
            name,
            blake3: String::new(),
            path: PathBuf::new(),
            executable: false,
        }
    }

    /// The content, for the composer.
    pub fn read(&self) -> std::io::Result<Vec<u8>> {
        std::fs::read(&self.path)
    }
}

impl<'de> Deserialize<'de> for ExternalFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(ExternalFile::unresolved)
    }
}

impl Describe for ExternalFile {
    const WHAT: &'static str = "a file name (relative to this treefile)";
}

/// One `add-files` entry: `[source, destination]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct AddFile {
    pub source: ExternalFile,
    /// Path in the tree, relative to `/`.
    pub dest: String,
}

impl<'de> Deserialize<'de> for AddFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let pair = <(String, String)>::deserialize(d)?;
        Ok(AddFile {
            source: ExternalFile::unresolved(pair.0),
            dest: pair.1,
        })
    }
}

impl Describe for Vec<AddFile> {
    const WHAT: &'static str = "a list of `[source, destination]` pairs";
}

/// `repo-packages` entry: these packages come from that repo only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepoPackages {
    pub repo: String,
    pub packages: Vec<String>,
}

impl Describe for Vec<RepoPackages> {
    const WHAT: &'static str = "a list of `{repo: ID, packages: [NAMES]}` entries";
}

impl Describe for Vec<Vec<String>> {
    const WHAT: &'static str = "a list of `[package, regex, ...]` lists";
}

/// `rojig`: kept by rpm-ostree for old treefiles; no effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rojig {
    pub name: String,
    pub summary: String,
    pub license: String,
    #[serde(default)]
    pub description: Option<String>,
}

impl Describe for Rojig {
    const WHAT: &'static str = "a mapping `{name, summary, license, description}`";
}

/// A uid (and gid) `check-passwd: {type: data}` expects: `N`, `[N]` or `[UID, GID]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct IdPair {
    pub uid: u32,
    pub gid: u32,
}

impl<'de> Deserialize<'de> for IdPair {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = IdPair;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a uid, `[uid]` or `[uid, gid]`")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<IdPair, E> {
                let id = u32::try_from(v)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))?;
                Ok(IdPair { uid: id, gid: id })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<IdPair, A::Error> {
                let uid: u32 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let gid: u32 = seq.next_element()?.unwrap_or(uid);
                if seq.next_element::<u32>()?.is_some() {
                    return Err(de::Error::invalid_length(3, &self));
                }
                Ok(IdPair { uid, gid })
            }
        }
        d.deserialize_any(V)
    }
}

/// `check-passwd`: what the tree's users are compared with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum CheckPasswd {
    None,
    Previous,
    File { filename: ExternalFile },
    Data { entries: BTreeMap<String, IdPair> },
}

/// `check-groups`: what the tree's groups are compared with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum CheckGroups {
    None,
    Previous,
    File { filename: ExternalFile },
    Data { entries: BTreeMap<String, u32> },
}

/// Both checks as written; read through a plain struct rather than serde's internally
/// tagged enums, which lose the position and key of a mistake.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck<E> {
    #[serde(rename = "type")]
    kind: CheckType,
    #[serde(default)]
    filename: Option<ExternalFile>,
    #[serde(default = "Option::default")]
    entries: Option<BTreeMap<String, E>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum CheckType {
    None,
    Previous,
    File,
    Data,
}

/// `(filename, entries)` checked against `type`, or what is wrong.
fn check_fields<E>(raw: RawCheck<E>) -> Result<CheckFields<E>, &'static str> {
    match (raw.kind, raw.filename, raw.entries) {
        (CheckType::None, None, None) => Ok(CheckFields::None),
        (CheckType::Previous, None, None) => Ok(CheckFields::Previous),
        (CheckType::File, Some(f), None) => Ok(CheckFields::File(f)),
        (CheckType::Data, None, Some(e)) => Ok(CheckFields::Data(e)),
        (CheckType::File, None, _) => Err("`type: file` needs `filename: FILE`"),
        (CheckType::Data, _, None) => Err("`type: data` needs `entries: {NAME: ID}`"),
        (_, Some(_), _) => Err("only `type: file` takes `filename`"),
        (_, _, Some(_)) => Err("only `type: data` takes `entries`"),
    }
}

enum CheckFields<E> {
    None,
    Previous,
    File(ExternalFile),
    Data(BTreeMap<String, E>),
}

/// Reads a check inside serde_yaml's own map call, so a mistake found after reading the
/// fields still carries the key and position.
struct CheckVisitor<E>(std::marker::PhantomData<E>);

impl<'de, E: Deserialize<'de>> Visitor<'de> for CheckVisitor<E> {
    type Value = CheckFields<E>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping with `type`")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<CheckFields<E>, A::Error> {
        let raw = RawCheck::<E>::deserialize(de::value::MapAccessDeserializer::new(map))?;
        check_fields(raw).map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for CheckPasswd {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(
            match d.deserialize_map(CheckVisitor::<IdPair>(std::marker::PhantomData))? {
                CheckFields::None => CheckPasswd::None,
                CheckFields::Previous => CheckPasswd::Previous,
                CheckFields::File(filename) => CheckPasswd::File { filename },
                CheckFields::Data(entries) => CheckPasswd::Data { entries },
            },
        )
    }
}

impl<'de> Deserialize<'de> for CheckGroups {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(
            match d.deserialize_map(CheckVisitor::<u32>(std::marker::PhantomData))? {
                CheckFields::None => CheckGroups::None,
                CheckFields::Previous => CheckGroups::Previous,
                CheckFields::File(filename) => CheckGroups::File { filename },
                CheckFields::Data(entries) => CheckGroups::Data { entries },
            },
        )
    }
}

impl Describe for CheckPasswd {
    const WHAT: &'static str = "`{type: none}`, `{type: previous}`, `{type: file, filename: F}` or `{type: data, entries: {NAME: UID or [UID, GID]}}`";
}
impl Describe for CheckGroups {
    const WHAT: &'static str = "`{type: none}`, `{type: previous}`, `{type: file, filename: F}` or `{type: data, entries: {NAME: GID}}`";
}

/// Declares a string enum whose accepted spellings are exactly rpm-ostree's.
macro_rules! string_enum {
    ($(#[doc = $doc:literal])* $name:ident { $($variant:ident = $text:literal $(| $alias:literal)*),* $(,)? }) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
        pub enum $name {
            $( #[serde(rename = $text $(, alias = $alias)*)] $variant, )*
        }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $text, )* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Describe for $name {
            const WHAT: &'static str = concat!("one of" $(, " `", $text, "`")*);
        }
    };
}

string_enum! {
    /// Which package backend installs the packages (MxOS).
    Backend { Dnf = "dnf", Apt = "apt" }
}

string_enum! {
    /// What mmdebstrap installs besides `packages` (MxOS, apt backend): Debian's `minbase`,
    /// or nothing (`custom`: only `packages`, unpacked by the build host's dpkg, for
    /// data-only trees and layers).
    AptVariant { Minbase = "minbase", Custom = "custom" }
}

string_enum! {
    /// Where the kernel and initramfs live in the tree. `both` and `legacy` are spellings
    /// older rpm-ostree releases took; they read as `new`, with a warning.
    BootLocation { New = "new" | "both" | "legacy", Modules = "modules", KernelInstall = "kernel-install" }
}

string_enum! {
    /// What `/opt` and `/usr/local` are on the booted system.
    OptUsrlocal { Var = "var", Root = "root", StateOverlay = "state-overlay" | "stateoverlay" }
}

string_enum! {
    /// The rpm database format; every value but `host` means the target's own.
    Rpmdb { Bdb = "bdb" | "b-d-b", Sqlite = "sqlite", Ndb = "ndb", Target = "target", Host = "host" }
}

string_enum! {
    /// When `systemd-sysusers` runs at compose time.
    Sysusers { ComposeAuto = "compose-auto", ComposeForced = "compose-forced" }
}

string_enum! {
    /// The treefile edition: `2024` changes two defaults (see the reference).
    Edition { E2014 = "2014", E2024 = "2024" }
}

string_enum! {
    /// Where repository and advisory metadata is recorded.
    MetadataMode { Inline = "inline", Detached = "detached", Disabled = "disabled" }
}

string_enum! {
    /// The programs `cliwrap` replaces with rpm-ostree's wrappers.
    CliwrapBinary { Rpm = "rpm", Dracut = "dracut", Grubby = "grubby", Yum = "yum", Dnf = "dnf", KernelInstall = "kernel-install" }
}

impl Describe for Vec<CliwrapBinary> {
    const WHAT: &'static str =
        "a list of `rpm`, `dracut`, `grubby`, `yum`, `dnf`, `kernel-install`";
}
