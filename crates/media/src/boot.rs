//! The boot code a disk carries outside its file systems: GRUB's boot.img code in the
//! protective MBR and its core image in the BIOS boot partition, and the EFI system
//! partition's FAT image with the tree's shim and GRUB. Built on the build host (it needs
//! grub-mkimage, mtools and the host's GRUB modules), then written as plain bytes: into a disk
//! image by `mxos-compose disk`, or kept on an installer stick and written onto each
//! machine's disk, which therefore needs none of those tools.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};
use mxos_process::run;

use crate::esp::EfiBinaries;
use crate::layout::{Layout, Partition, SECTOR};

const GRUB_MODULES: &[&str] = &[
    "biosdisk",
    "part_gpt",
    "ext2",
    "normal",
    "boot",
    "linux",
    "configfile",
    "echo",
    "test",
    "serial",
    "terminal",
    "search",
    "search_label",
    "loadenv",
    "ls",
    "cat",
    "halt",
    "reboot",
];

/// Where boot.img keeps the sector of core.img, and where core.img's first sector keeps the
/// sector of the rest of it (GRUB's `kernel_sector` and diskboot's block list): grub-setup
/// writes them, and grub-setup needs a real block device.
const BOOT_IMG_KERNEL_SECTOR: usize = 0x5c;
const DISKBOOT_BLOCKLIST_START: usize = 500;
/// Bytes 440.. of the MBR hold the disk signature and the partition entries, not code.
pub const MBR_CODE_LEN: usize = 440;

/// The boot code of one disk layout, ready to be written at the layout's offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootCode {
    /// BIOS: boot.img's code for the MBR and the core image for the BIOS boot partition,
    /// both already told where the core image lies.
    pub bios: Option<(Vec<u8>, Vec<u8>)>,
    /// UEFI: the whole EFI system partition.
    pub esp: Option<Vec<u8>>,
}

const MBR_FILE: &str = "mbr-code.bin";
const CORE_FILE: &str = "core.img";
const ESP_FILE: &str = "esp.img";

impl BootCode {
    /// Builds the boot code for `layout`; GRUB finds the root by `root_label` on UEFI and by
    /// partition number on BIOS.
    pub fn build(
        layout: &Layout,
        efi: Option<&EfiBinaries>,
        root_label: &str,
        work: &Path,
    ) -> Result<BootCode> {
        let bios = match &layout.bios_boot {
            Some(bios_boot) => Some(bios_grub(work, bios_boot, &layout.root)?),
            None => None,
        };
        let esp = match (&layout.esp, efi) {
            (Some(esp), Some(bins)) => {
                let image = work.join("esp.img");
                if image.exists() {
                    fs::remove_file(&image)?;
                }
                crate::esp::build(&image, esp.size, bins, root_label, work)?;
                Some(fs::read(&image)?)
            }
            (Some(_), None) => bail!("a UEFI layout needs the tree's shim and GRUB"),
            _ => None,
        };
        Ok(BootCode { bios, esp })
    }

    /// Keeps the boot code as files in `dir` (an installer stick's).
    pub fn save(&self, dir: &Path) -> Result<()> {
        fs::create_dir_all(dir)?;
        if let Some((mbr, core)) = &self.bios {
            fs::write(dir.join(MBR_FILE), mbr)?;
            fs::write(dir.join(CORE_FILE), core)?;
        }
        if let Some(esp) = &self.esp {
            fs::write(dir.join(ESP_FILE), esp)?;
        }
        Ok(())
    }

    /// What [`save`](Self::save) kept, checked against the layout it is for.
    pub fn load(dir: &Path, layout: &Layout) -> Result<BootCode> {
        let read = |name: &str| {
            let p = dir.join(name);
            fs::read(&p).with_context(|| format!("reading the boot code {}", p.display()))
        };
        let bios = match &layout.bios_boot {
            Some(part) => {
                let (mbr, core) = (read(MBR_FILE)?, read(CORE_FILE)?);
                if mbr.len() != MBR_CODE_LEN || core.len() as u64 > part.size {
                    bail!(
                        "the BIOS boot code in {} does not match the disk layout ({} and {} bytes)",
                        dir.display(),
                        mbr.len(),
                        core.len()
                    );
                }
                Some((mbr, core))
            }
            None => None,
        };
        let esp = match &layout.esp {
            Some(part) => {
                let esp = read(ESP_FILE)?;
                if esp.len() as u64 != part.size {
                    bail!(
                        "the EFI system partition image in {} has {} bytes; the layout's partition has {}",
                        dir.display(),
                        esp.len(),
                        part.size
                    );
                }
                Some(esp)
            }
            None => None,
        };
        Ok(BootCode { bios, esp })
    }

    /// The bytes to write and where, in the order that leaves the disk unbootable until the
    /// last one is on it.
    pub fn writes<'a>(&'a self, layout: &Layout) -> Vec<(u64, &'a [u8])> {
        let mut out = Vec::new();
        if let (Some(esp), Some(part)) = (&self.esp, &layout.esp) {
            out.push((part.start, esp.as_slice()));
        }
        if let (Some((mbr, core)), Some(part)) = (&self.bios, &layout.bios_boot) {
            out.push((part.start, core.as_slice()));
            out.push((0, mbr.as_slice()));
        }
        out
    }
}

/// BIOS GRUB without grub-install (which cannot use a loop device at an offset): core.img for
/// the BIOS boot partition and boot.img's code for the MBR, both told where core.img is, the
/// prefix pointing at the root's /boot/grub2.
fn bios_grub(work: &Path, bios_boot: &Partition, root: &Partition) -> Result<(Vec<u8>, Vec<u8>)> {
    let core = work.join("core.img");
    run(Command::new("grub-mkimage")
        .args(["-O", "i386-pc", "-p"])
        .arg(format!("(hd0,gpt{})/boot/grub2", root.number))
        .arg("-o")
        .arg(&core)
        .args(GRUB_MODULES))
    .context("building GRUB's core image")?;
    let mut core_bytes = fs::read(&core)?;
    if core_bytes.len() as u64 > bios_boot.size {
        bail!(
            "GRUB's core image ({} bytes) does not fit in the {} KiB BIOS boot partition; give a larger --bios-boot-mib",
            core_bytes.len(),
            bios_boot.size / 1024
        );
    }
    let first = bios_boot.first_sector();
    core_bytes[DISKBOOT_BLOCKLIST_START..DISKBOOT_BLOCKLIST_START + 8]
        .copy_from_slice(&(first + 1).to_le_bytes());
    let mut boot_img = fs::read("/usr/lib/grub/i386-pc/boot.img")
        .context("reading /usr/lib/grub/i386-pc/boot.img (package grub-pc-bin)")?;
    boot_img[BOOT_IMG_KERNEL_SECTOR..BOOT_IMG_KERNEL_SECTOR + 8]
        .copy_from_slice(&first.to_le_bytes());
    boot_img.truncate(MBR_CODE_LEN);
    debug_assert_eq!(bios_boot.start, first * SECTOR);
    Ok((boot_img, core_bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{layout, Firmware, Sizes};

    #[test]
    fn the_mbr_code_goes_last_and_saved_code_loads_back_only_for_its_layout() {
        let l = layout(2048 << 20, Firmware::Both, Sizes::default()).unwrap();
        let esp_size = l.esp.as_ref().unwrap().size as usize;
        let code = BootCode {
            bios: Some((vec![1; MBR_CODE_LEN], vec![2; 4096])),
            esp: Some(vec![3; esp_size]),
        };
        let order: Vec<(u64, usize)> = code
            .writes(&l)
            .iter()
            .map(|(at, b)| (*at, b.len()))
            .collect();
        // Nothing boots until the MBR's code is there, and that comes last.
        assert_eq!(
            order,
            [(2 << 20, esp_size), (1 << 20, 4096), (0, MBR_CODE_LEN)]
        );
        let t = tempfile::tempdir().unwrap();
        code.save(t.path()).unwrap();
        assert_eq!(BootCode::load(t.path(), &l).unwrap(), code);
        let bigger_esp = Sizes {
            esp_mib: 128,
            ..Sizes::default()
        };
        let other = layout(2048 << 20, Firmware::Both, bigger_esp).unwrap();
        let err = BootCode::load(t.path(), &other).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "the EFI system partition image in {} has 67108864 bytes; the layout's partition has 134217728",
                t.path().display()
            )
        );
    }
}
