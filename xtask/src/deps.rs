//! The machine's system dependencies, in one list, installed with apt only when missing.

use std::process::Command;

use anyhow::{bail, Result};

use crate::run;

/// Every Debian package the build, the product and the tests use, and why.
const PACKAGES: &[(&str, &str)] = &[
    ("pkg-config", "finds libostree for the ostree crate"),
    (
        "libostree-dev",
        "libostree 2022.7 headers: the OSTree format",
    ),
    (
        "libglib2.0-dev",
        "GLib/GIO, which libostree's API is built on",
    ),
    (
        "ostree",
        "the reference CLI the tests use as an independent client",
    ),
    (
        "rpm",
        "rpm, rpmbuild, rpmkeys and rpmsign: installing, building, signing and checking packages",
    ),
    (
        "gnupg",
        "gpg: reads the treefile's package keys; makes and uses the tests' throw-away signing keys",
    ),
    (
        "debian-archive-keyring",
        "Debian's own keyring, what apt trees' mirrors are checked with by default",
    ),
    ("dnf", "the RPM package backend"),
    (
        "rpm2cpio",
        "unpacks each RPM once into the compose package cache",
    ),
    ("cpio", "extracts rpm2cpio's payload stream"),
    (
        "apt",
        "apt-helper fetches InRelease and repomd.xml for the no-change checks",
    ),
    ("createrepo-c", "repo metadata for test packages"),
    (
        "bubblewrap",
        "sandbox for scriptlets and postprocess scripts",
    ),
    ("busybox-static", "a static /bin/sh for the demo packages"),
    (
        "curl",
        "fetches the static deltas and keys a school mirror copies (libostree fetches the rest)",
    ),
    (
        "nginx-light",
        "the web server that serves published repos in tests",
    ),
    (
        "libzstd-dev",
        "zstd for ostree-ext's layer (de)compression (zstd-sys links it via pkg-config)",
    ),
    ("libssl-dev", "OpenSSL headers for ostree-ext's hashing"),
    (
        "skopeo",
        "ostree-ext's image proxy; copies OCI images to archives and registries",
    ),
    (
        "docker-registry",
        "a real OCI registry on loopback for the container tests",
    ),
    ("umoci", "unpacks OCI images into a rootfs in tests"),
    (
        "buildah",
        "builds the derived bootc image in tests (vfs, chroot)",
    ),
    ("mmdebstrap", "the apt package backend (Debian roots)"),
    (
        "grub-pc-bin",
        "BIOS GRUB modules and boot.img for disk images",
    ),
    ("grub-common", "grub-mkimage for disk images"),
    ("e2fsprogs", "mkfs.ext4 for disk images"),
    ("gdisk", "sgdisk writes disk images' GPT"),
    (
        "dosfstools",
        "mkfs.fat for disk images' EFI system partition",
    ),
    (
        "mtools",
        "mcopy puts shim and GRUB on the EFI system partition without mounting it",
    ),
    (
        "faketime",
        "runs a device check days ahead, to meet an expired manifest on an old USB drive",
    ),
    (
        "ovmf",
        "UEFI firmware with Secure Boot and Microsoft's keys enrolled, for vm-test's UEFI boots",
    ),
    ("systemd", "systemd-analyze verify for the update units"),
    (
        "dpkg-dev",
        "dpkg-shlibdeps and dpkg-scanpackages for the tools' .deb packages and the test mirror",
    ),
    ("binutils", "strip for the packaged binaries"),
    (
        "gnupg",
        "gpg: exports the GPG public key publish puts beside the repo; throw-away keys in tests",
    ),
];

/// From bookworm-backports: the machine's qemu-utils 10 comes from there, and bookworm's
/// qemu-system-x86 7.2 cannot be installed beside it.
const BACKPORTS: &[(&str, &str)] = &[
    (
        "qemu-system-x86",
        "boots disk images in `cargo xtask vm-test`",
    ),
    ("qemu-utils", "qemu-img: qcow2 disk images"),
];

const BACKPORTS_SOURCE: &str = "/etc/apt/sources.list.d/mxos-backports.sources";

pub fn install() -> Result<()> {
    let missing = |list: &[(&'static str, &str)]| -> Vec<&'static str> {
        list.iter()
            .map(|(p, _)| *p)
            .filter(|p| !installed(p))
            .collect()
    };
    let (main, backports) = (missing(PACKAGES), missing(BACKPORTS));
    if main.is_empty() && backports.is_empty() {
        return Ok(());
    }
    if !is_root() {
        bail!(
            "missing packages: {}; run `cargo xtask deps` as root (it uses apt-get)",
            [main.clone(), backports.clone()].concat().join(" ")
        );
    }
    if !backports.is_empty() && !std::path::Path::new(BACKPORTS_SOURCE).exists() {
        std::fs::write(
            BACKPORTS_SOURCE,
            "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n",
        )?;
    }
    run(Command::new("apt-get").args(["update", "-q"]))?;
    let apt_install = |target: Option<&str>, pkgs: &[&str]| -> Result<()> {
        if pkgs.is_empty() {
            return Ok(());
        }
        let mut cmd = Command::new("apt-get");
        cmd.env("DEBIAN_FRONTEND", "noninteractive").args([
            "install",
            "-y",
            "-q",
            "--no-install-recommends",
        ]);
        if let Some(t) = target {
            cmd.args(["-t", t]);
        }
        run(cmd.args(pkgs))
    };
    apt_install(None, &main)?;
    apt_install(Some("bookworm-backports"), &backports)
}

fn installed(pkg: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", pkg])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
