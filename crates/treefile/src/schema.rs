//! The treefile keys, declared once: the serde struct, the key list and the merge all come from `treefile_keys!`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::merge;

/// Which build backend installs the packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    #[default]
    Dnf,
    /// Debian packages through mmdebstrap: the second base, and the bootable test OS.
    Apt,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Dnf => "dnf",
            Backend::Apt => "apt",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A YAML scalar kept as text, because rpm-ostree accepts `releasever: 10` as well as `"10"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                // serde_yaml's rendering keeps `10.0` as written rather than `10`.
                Ok(Text(serde_yaml::Number::from(v).to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `include:` takes one path or a list of them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Includes(pub Vec<String>);

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
impl Describe for Vec<String> {
    const WHAT: &'static str = "a list of strings";
}
impl Describe for Text {
    const WHAT: &'static str = "a string or number";
}
impl Describe for Includes {
    const WHAT: &'static str = "a file name or a list of file names";
}
impl Describe for Backend {
    const WHAT: &'static str = "one of `dnf`, `apt`";
}
impl Describe for Check {
    const WHAT: &'static str = "a mapping `{type: none}` or `{type: previous}`";
}

/// `check-passwd` / `check-groups`: how uid/gid stability is checked (rpm-ostree's shape).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    #[serde(rename = "type")]
    pub kind: CheckKind,
}

/// `previous`: a user or group in both the previous commit and the new tree must keep its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckKind {
    None,
    #[default]
    Previous,
}
impl Describe for BTreeMap<String, Text> {
    const WHAT: &'static str = "a mapping of names to strings or numbers";
}
impl Describe for BTreeMap<String, serde_json::Value> {
    const WHAT: &'static str = "a mapping of names to values";
}

/// Which file last set each key, so errors found after merging can point at it.
pub(crate) type Origins = BTreeMap<&'static str, PathBuf>;

macro_rules! treefile_keys {
    ($( $(#[doc = $doc:literal])* $field:ident: $key:literal => $ty:ty, $strategy:ident; )*) => {
        /// One treefile as written; every key optional so that includes can be merged.
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields, rename_all = "kebab-case")]
        pub(crate) struct RawTreefile {
            $( $(#[doc = $doc])* #[serde(rename = $key, default)] pub(crate) $field: Option<$ty>, )*
        }

        /// Every key a treefile may use, for "did you mean" suggestions.
        pub(crate) const KNOWN_KEYS: &[&str] = &[$($key),*];

        impl RawTreefile {
            /// Merge `over` (read from `path`) on top of `self`, rpm-ostree style.
            pub(crate) fn merge_over(&mut self, over: RawTreefile, path: &Path, origins: &mut Origins) {
                $( merge::$strategy(&mut self.$field, over.$field, $key, path, origins); )*
            }
        }

        /// The expected type of `key` in words, if `key` is a treefile key.
        pub(crate) fn describe_key(key: &str) -> Option<&'static str> {
            match key {
                $( $key => Some(<$ty as Describe>::WHAT), )*
                _ => None,
            }
        }
    };
}

// Add a key here (name, YAML spelling, type, merge strategy from merge.rs) and use it in plan.rs.
treefile_keys! {
    reference: "ref" => String, scalar;
    include: "include" => Includes, consumed;
    backend: "backend" => Backend, scalar;
    variables: "variables" => BTreeMap<String, Text>, map;
    releasever: "releasever" => Text, scalar;
    packages: "packages" => Vec<String>, append;
    packages_x86_64: "packages-x86_64" => Vec<String>, append;
    packages_aarch64: "packages-aarch64" => Vec<String>, append;
    packages_ppc64le: "packages-ppc64le" => Vec<String>, append;
    packages_s390x: "packages-s390x" => Vec<String>, append;
    repos: "repos" => Vec<String>, append;
    add_commit_metadata: "add-commit-metadata" => BTreeMap<String, serde_json::Value>, map;
    automatic_version_prefix: "automatic-version-prefix" => String, scalar;
    documentation: "documentation" => bool, scalar;
    recommends: "recommends" => bool, scalar;
    remove_files: "remove-files" => Vec<String>, append;
    units: "units" => Vec<String>, append;
    default_target: "default-target" => String, scalar;
    postprocess: "postprocess" => Vec<String>, append;
    /// MxOS extension: directories under the project's `overlays/`.
    overlays: "overlays" => Vec<String>, append;
    /// MxOS extension (apt backend): Debian suite, e.g. `bookworm`.
    suite: "suite" => String, scalar;
    /// MxOS extension (apt backend): Debian mirror URL.
    mirror: "mirror" => String, scalar;
    /// MxOS extension: `false` for trees that carry no kernel (containers, tests).
    bootable: "bootable" => bool, scalar;
    initramfs_args: "initramfs-args" => Vec<String>, append;
    tmp_is_dir: "tmp-is-dir" => bool, scalar;
    machineid_compat: "machineid-compat" => bool, scalar;
    readonly_executables: "readonly-executables" => bool, scalar;
    etc_group_members: "etc-group-members" => Vec<String>, append;
    check_passwd: "check-passwd" => Check, scalar;
    check_groups: "check-groups" => Check, scalar;
}

impl RawTreefile {
    /// The arch-specific package list for `basearch`, if the schema has one.
    pub(crate) fn arch_packages(&mut self, basearch: &str) -> Option<Vec<String>> {
        match basearch {
            "x86_64" => self.packages_x86_64.take(),
            "aarch64" => self.packages_aarch64.take(),
            "ppc64le" => self.packages_ppc64le.take(),
            "s390x" => self.packages_s390x.take(),
            _ => None,
        }
    }
}
