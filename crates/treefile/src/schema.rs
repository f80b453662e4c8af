//! The treefile keys, declared once: the serde struct of one file, the merged [`Treefile`]
//! with its defaults, the key list, the merge and the type descriptions all come from the
//! table at the bottom of this file. Adding a key is one line there (plus its test).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::Location;
use crate::merge;
use crate::values::*;

/// Where each key of one file (or of the merged result) was written: errors found after
/// merging point at the file and line that set the value.
pub(crate) type Origins = BTreeMap<&'static str, Location>;

/// The merged treefile's field type: `T` when the key has a default, `Option<T>` when not.
macro_rules! merged_ty {
    (none, $t:ty) => { Option<$t> };
    (($e:expr), $t:ty) => { $t };
}

macro_rules! merged_value {
    (none, $v:expr) => {
        $v
    };
    (($e:expr), $v:expr) => {
        $v.unwrap_or_else(|| $e)
    };
}

macro_rules! treefile_keys {
    (
        loader { $( $lfield:ident: $lkey:literal => $lty:ty; )* }
        refused { $( $rfield:ident: $rkey:literal; )* }
        keys { $( $(#[doc = $doc:literal])* $field:ident: $key:literal $(| $legacy:literal)* => $ty:ty, $merge:ident, $default:tt; )* }
    ) => {
        /// One treefile as written: every key optional, so that includes can be merged.
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub(crate) struct RawTreefile {
            $( #[serde(rename = $lkey, default)] pub(crate) $lfield: Option<$lty>, )*
            $( #[serde(rename = $rkey, default)] pub(crate) $rfield: Option<serde_json::Value>, )*
            $( #[serde(rename = $key, $(alias = $legacy,)* default)] pub(crate) $field: Option<$ty>, )*
            #[serde(skip)]
            pub(crate) origins: Origins,
        }

        /// Every key a treefile may use, for "did you mean" suggestions.
        pub(crate) const KNOWN_KEYS: &[&str] = &[$($lkey,)* $($rkey,)* $($key),*];

        /// Old spellings rpm-ostree still accepts, each with the key it stands for.
        pub(crate) const LEGACY_KEYS: &[(&str, &str)] = &[$($( ($legacy, $key), )*)*];

        /// Keys rpm-ostree reads only in client-side (derived) treefiles, never in composes.
        pub(crate) const REFUSED_KEYS: &[&str] = &[$($rkey),*];

        impl RawTreefile {
            /// rpm-ostree's merge: `self` is the including file, `src` a file it includes.
            pub(crate) fn merge_from(&mut self, src: Box<RawTreefile>) {
                let RawTreefile { $($field,)* origins, .. } = *src;
                $(
                    if merge::$merge(&mut self.$field, $field) {
                        if let Some(at) = origins.get($key) {
                            self.origins.entry($key).or_insert_with(|| at.clone());
                        }
                    }
                )*
            }

            /// The refused keys this file sets.
            pub(crate) fn refused_keys(&self) -> Vec<&'static str> {
                let mut out = Vec::new();
                $( if self.$rfield.is_some() { out.push($rkey); } )*
                out
            }

            pub(crate) fn into_treefile(self) -> Treefile {
                Treefile { $( $field: merged_value!($default, self.$field), )* }
            }
        }

        /// The merged treefile: every key of the table with rpm-ostree's default applied.
        #[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
        pub struct Treefile {
            $( $(#[doc = $doc])* #[serde(rename = $key)] pub $field: merged_ty!($default, $ty), )*
        }

        /// The expected type of `key` in words, if `key` is a treefile key.
        pub(crate) fn describe_key(key: &str) -> Option<&'static str> {
            match key {
                $( $lkey => Some(<$lty as Describe>::WHAT), )*
                $( $rkey => Some("a client-side key"), )*
                $( $key => Some(<$ty as Describe>::WHAT), )*
                _ => None,
            }
        }
    };
}

treefile_keys! {
    // Acted on while loading; never part of the merged treefile.
    loader {
        include: "include" => Includes;
        arch_include: "arch-include" => BTreeMap<String, Includes>;
        conditional_include: "conditional-include" => Vec<ConditionalInclude>;
        variables: "variables" => BTreeMap<String, VarValue>;
        bootstrap_packages: "bootstrap-packages" => Vec<String>;
        packages_x86_64: "packages-x86_64" => Vec<String>;
        packages_aarch64: "packages-aarch64" => Vec<String>;
        packages_ppc64le: "packages-ppc64le" => Vec<String>;
        packages_s390x: "packages-s390x" => Vec<String>;
        packages_riscv64: "packages-riscv64" => Vec<String>;
        packages_i686: "packages-i686" => Vec<String>;
        packages_armhfp: "packages-armhfp" => Vec<String>;
        packages_ppc64: "packages-ppc64" => Vec<String>;
        packages_loongarch64: "packages-loongarch64" => Vec<String>;
    }
    // rpm-ostree's derivation keys (`rpm-ostree install`, overrides): refused in composes.
    refused {
        base_refspec: "base-refspec";
        container_image_reference: "container-image-reference";
        packages_local: "packages-local";
        packages_local_fileoverride: "packages-local-fileoverride";
        override_remove: "override-remove";
        ex_override_replace: "ex-override-replace";
        override_replace_local: "override-replace-local";
        initramfs: "initramfs";
        custom: "custom";
        override_commit: "override-commit";
        unconfigured_state: "unconfigured-state";
    }
    // field: "key" | "old spelling" => type, merge rule (merge.rs), default (`none` keeps it
    // optional);
    // the reference in docs/treefile-reference.md must list every key.
    keys {
        /// The OSTree ref to commit to.
        reference: "ref" => String, basic, none;
        /// Must equal the architecture composed for.
        basearch: "basearch" => String, basic, none;
        releasever: "releasever" => VarValue, basic, none;
        edition: "edition" => Edition, basic, (Edition::E2014);
        packages: "packages" => Vec<String>, union, (Vec::new());
        repo_packages: "repo-packages" => Vec<RepoPackages>, repo_packages, (Vec::new());
        exclude_packages: "exclude-packages" => Vec<String>, append, (Vec::new());
        /// Unset: every repo enabled in the `.repo` files beside the treefiles.
        repos: "repos" => Vec<String>, append, none;
        lockfile_repos: "lockfile-repos" => Vec<String>, append, (Vec::new());
        repovars: "repovars" => BTreeMap<String, String>, map, (BTreeMap::new());
        /// Unset: label when the tree ships a policy.
        selinux: "selinux" => bool, basic, none;
        /// MxOS labels `/usr/etc` as `/etc` (1) unless told `0` (libostree's literal paths).
        selinux_label_version: "selinux-label-version" => u32, basic, (1);
        ima: "ima" => bool, basic, (false);
        ignore_devices: "ignore-devices" => bool, basic, (true);
        gpg_key: "gpg-key" | "gpg_key" => String, basic, none;
        ostree_layers: "ostree-layers" => Vec<String>, append, (Vec::new());
        ostree_override_layers: "ostree-override-layers" => Vec<String>, append, (Vec::new());
        platform_module: "platform-module" => String, unmerged, none;
        container: "container" => bool, basic, (false);
        container_cmd: "container-cmd" => Vec<String>, basic, none;
        recommends: "recommends" => bool, basic, (true);
        documentation: "documentation" => bool, basic, (true);
        /// Unset: every language.
        install_langs: "install-langs" => Vec<String>, append, none;
        initramfs_args: "initramfs-args" => Vec<String>, append, (Vec::new());
        no_initramfs: "no-initramfs" => bool, basic, (false);
        readonly_executables: "readonly-executables" => bool, basic, (false);
        boot_location: "boot-location" | "boot_location" => BootLocation, basic, (BootLocation::New);
        tmp_is_dir: "tmp-is-dir" => bool, basic, (false);
        opt_usrlocal: "opt-usrlocal" => OptUsrlocal, basic, (OptUsrlocal::Var);
        units: "units" => Vec<String>, append, (Vec::new());
        default_target: "default-target" | "default_target" => String, basic, none;
        machineid_compat: "machineid-compat" => bool, basic, (true);
        automatic_version_prefix: "automatic-version-prefix" | "automatic_version_prefix" => String, basic, none;
        automatic_version_suffix: "automatic-version-suffix" => String, basic, none;
        mutate_os_release: "mutate-os-release" => String, basic, none;
        etc_group_members: "etc-group-members" => Vec<String>, append, (Vec::new());
        preserve_passwd: "preserve-passwd" => bool, basic, (true);
        check_passwd: "check-passwd" => CheckPasswd, basic, (CheckPasswd::Previous);
        check_groups: "check-groups" => CheckGroups, basic, (CheckGroups::Previous);
        ignore_removed_users: "ignore-removed-users" => Vec<String>, union, (Vec::new());
        ignore_removed_groups: "ignore-removed-groups" => Vec<String>, union, (Vec::new());
        postprocess_script: "postprocess-script" => ExternalFile, basic, none;
        postprocess: "postprocess" => Vec<String>, append, (Vec::new());
        add_files: "add-files" => Vec<AddFile>, append, (Vec::new());
        remove_files: "remove-files" => Vec<String>, append, (Vec::new());
        remove_from_packages: "remove-from-packages" => Vec<Vec<String>>, append, (Vec::new());
        add_commit_metadata: "add-commit-metadata" => BTreeMap<String, serde_json::Value>, map, (BTreeMap::new());
        metadata: "metadata" => BTreeMap<String, serde_json::Value>, map, (BTreeMap::new());
        repo_metadata: "repo-metadata" => MetadataMode, basic, (MetadataMode::Inline);
        advisories_metadata: "advisories-metadata" => MetadataMode, basic, (MetadataMode::Inline);
        rpmdb: "rpmdb" => Rpmdb, basic, (Rpmdb::Target);
        rpmdb_normalize: "rpmdb-normalize" => bool, basic, (false);
        sysusers: "sysusers" => Sysusers, basic, (Sysusers::ComposeAuto);
        cliwrap: "cliwrap" => bool, basic, (false);
        cliwrap_binaries: "cliwrap-binaries" => Vec<CliwrapBinary>, append, (Vec::new());
        rojig: "rojig" => Rojig, basic, none;
        /// MxOS: overlay names under `overlays/`, laid over the tree in order.
        overlays: "overlays" => Vec<String>, append, (Vec::new());
        /// MxOS: the package backend.
        backend: "backend" => Backend, basic, (Backend::Dnf);
        /// MxOS, apt backend: the Debian suite.
        suite: "suite" => String, basic, none;
        /// MxOS, apt backend: the Debian mirror.
        mirror: "mirror" => String, basic, none;
        /// MxOS, apt backend: the keyring that signs the mirror's `Release` files, relative
        /// to the treefile. Unset: Debian's own keyring.
        keyring: "keyring" => ExternalFile, basic, none;
        /// MxOS, apt backend: what mmdebstrap installs besides `packages`.
        apt_variant: "apt-variant" => AptVariant, basic, (AptVariant::Minbase);
        /// MxOS, apt backend: more package sources, one sources.list line each.
        apt_sources: "apt-sources" => Vec<String>, append, (Vec::new());
        /// MxOS: `false` for trees that carry no kernel.
        bootable: "bootable" => bool, basic, (true);
    }
}

impl RawTreefile {
    /// Takes this file's `packages-ARCH` list for `basearch`; the others are dropped, as
    /// rpm-ostree does, since they belong to composes for other architectures.
    pub(crate) fn take_arch_packages(&mut self, basearch: &str) -> Vec<String> {
        let lists = [
            ("x86_64", self.packages_x86_64.take()),
            ("aarch64", self.packages_aarch64.take()),
            ("ppc64le", self.packages_ppc64le.take()),
            ("s390x", self.packages_s390x.take()),
            ("riscv64", self.packages_riscv64.take()),
            ("i686", self.packages_i686.take()),
            ("armhfp", self.packages_armhfp.take()),
            ("ppc64", self.packages_ppc64.take()),
            ("loongarch64", self.packages_loongarch64.take()),
        ];
        lists
            .into_iter()
            .find(|(arch, _)| *arch == basearch)
            .and_then(|(_, list)| list)
            .unwrap_or_default()
    }
}
