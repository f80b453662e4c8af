//! The EFI system partition: the tree's shim (signed by Microsoft's UEFI CA, so Secure Boot
//! firmware runs it) at the removable-media path `EFI/BOOT/BOOTX64.EFI`, the distribution's
//! signed GRUB beside it (shim checks it against the distribution's key), and a grub.cfg
//! that hands over to the root's `/boot/grub2/grub.cfg`: UEFI and BIOS boot the same menu,
//! the same deployments and the same boot counter.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};
use mxos_process::run;
use mxos_repo::Repo;

/// Where trees carry the signed binaries: (vendor directory, shim, GRUB, MokManager).
const CANDIDATES: [(&str, &str, &str, &str); 4] = [
    // Debian: shim-signed, grub-efi-amd64-signed, shim-helpers-amd64-signed.
    (
        "debian",
        "usr/lib/shim/shimx64.efi.signed",
        "usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed",
        "usr/lib/shim/mmx64.efi.signed",
    ),
    // CentOS Stream and Fedora through bootupd (shim-x64, grub2-efi-x64).
    (
        "centos",
        "usr/lib/bootupd/updates/EFI/centos/shimx64.efi",
        "usr/lib/bootupd/updates/EFI/centos/grubx64.efi",
        "usr/lib/bootupd/updates/EFI/centos/mmx64.efi",
    ),
    // rpm-ostree moves /boot into the commit's /usr/lib/ostree-boot.
    (
        "centos",
        "usr/lib/ostree-boot/efi/EFI/centos/shimx64.efi",
        "usr/lib/ostree-boot/efi/EFI/centos/grubx64.efi",
        "usr/lib/ostree-boot/efi/EFI/centos/mmx64.efi",
    ),
    (
        "fedora",
        "usr/lib/bootupd/updates/EFI/fedora/shimx64.efi",
        "usr/lib/bootupd/updates/EFI/fedora/grubx64.efi",
        "usr/lib/bootupd/updates/EFI/fedora/mmx64.efi",
    ),
];

/// The signed boot chain a commit carries.
pub struct EfiBinaries {
    /// The directory the distribution's GRUB takes its prefix from (`EFI/debian`).
    pub vendor: &'static str,
    pub shim: Vec<u8>,
    pub grub: Vec<u8>,
    pub mok_manager: Option<Vec<u8>>,
}

/// A file of the commit; `None` when missing, empty (a symlink reads as empty) or absent.
fn read(repo: &Repo, commit: &str, path: &str) -> Result<Option<Vec<u8>>> {
    Ok(repo.read_file(commit, path)?.filter(|b| !b.is_empty()))
}

pub fn find(repo: &Repo, commit: &str) -> Result<EfiBinaries> {
    for (vendor, shim, grub, mm) in CANDIDATES {
        let (Some(shim), Some(grub)) = (read(repo, commit, shim)?, read(repo, commit, grub)?)
        else {
            continue;
        };
        return Ok(EfiBinaries {
            vendor,
            shim,
            grub,
            mok_manager: read(repo, commit, mm)?,
        });
    }
    let looked: Vec<String> = CANDIDATES
        .iter()
        .map(|(_, s, g, _)| format!("/{s} with /{g}"))
        .collect();
    bail!(
        "commit {commit} has no signed shim and GRUB for UEFI (looked for {}); add shim-signed and grub-efi-amd64-signed (Debian) or shim-x64 and grub2-efi-x64 (CentOS) to the treefile's packages, or write a BIOS-only disk with --firmware bios",
        looked.join(", ")
    )
}

/// The ESP's grub.cfg: find the root by its label and read its menu.
pub fn grub_cfg(root_label: &str) -> String {
    format!(
        "# Written by mxos-compose disk: the menu lives on the root, for UEFI and BIOS alike.\n\
         search --no-floppy --label {root_label} --set=root\n\
         set prefix=($root)/boot/grub2\n\
         configfile $prefix/grub.cfg\n"
    )
}

/// Writes a FAT file system of `size_bytes` holding the boot chain into `image`.
pub fn build(
    image: &Path,
    size_bytes: u64,
    bins: &EfiBinaries,
    root_label: &str,
    work: &Path,
) -> Result<()> {
    run(Command::new("mkfs.fat")
        .args(["-n", "MXOS-EFI", "-C"])
        .arg(image)
        .arg((size_bytes / 1024).to_string()))
    .context("creating the EFI system partition's file system")?;
    let staged = work.join("esp");
    if staged.exists() {
        fs::remove_dir_all(&staged)?;
    }
    let boot = staged.join("EFI/BOOT");
    let vendor = staged.join("EFI").join(bins.vendor);
    fs::create_dir_all(&boot)?;
    fs::create_dir_all(&vendor)?;
    fs::write(boot.join("BOOTX64.EFI"), &bins.shim)?;
    // shim loads grubx64.efi from its own directory.
    fs::write(boot.join("grubx64.efi"), &bins.grub)?;
    if let Some(mm) = &bins.mok_manager {
        fs::write(boot.join("mmx64.efi"), mm)?;
    }
    // The distribution's GRUB looks in its vendor directory first, then beside itself.
    for dir in [&boot, &vendor] {
        fs::write(dir.join("grub.cfg"), grub_cfg(root_label))?;
    }
    run(Command::new("mcopy")
        .args(["-s", "-Q", "-i"])
        .arg(image)
        .arg(staged.join("EFI"))
        .arg("::/"))
    .context("copying shim and GRUB onto the EFI system partition")?;
    Ok(())
}
