//! The disk's partitions: a GPT with, as the firmware needs them, a BIOS boot partition
//! (GRUB's core image), an EFI system partition (shim and GRUB) and the root filling the
//! rest, all MiB-aligned. Computed here as plain arithmetic; written by sgdisk.

use std::fmt;

pub const SECTOR: u64 = 512;
const MIB: u64 = 1 << 20;
/// The primary GPT (protective MBR, header, 128 entries) fits in the first MiB; the backup
/// copy takes the disk's last 33 sectors.
const GPT_BACKUP: u64 = 33 * SECTOR;
/// The smallest root MxOS accepts: one deployment, its repo objects and /var.
pub const MIN_ROOT_MIB: u64 = 512;
/// The root partition's GPT name while the system is being written onto it; it becomes
/// `root` only once everything, boot code included, is on the disk. An installer that finds
/// this name knows the disk holds its own unfinished work, not somebody's data.
pub const INCOMPLETE_ROOT_NAME: &str = "mxos-incomplete";
pub const ROOT_NAME: &str = "root";

/// Which firmware the disk boots on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Firmware {
    Bios,
    Uefi,
    Both,
}

impl Firmware {
    pub fn parse(s: &str) -> Result<Firmware, String> {
        match s {
            "bios" => Ok(Firmware::Bios),
            "uefi" => Ok(Firmware::Uefi),
            "both" => Ok(Firmware::Both),
            other => Err(format!(
                "unknown firmware `{other}`; accepted: uefi, bios, both"
            )),
        }
    }

    pub fn bios(self) -> bool {
        matches!(self, Firmware::Bios | Firmware::Both)
    }

    pub fn uefi(self) -> bool {
        matches!(self, Firmware::Uefi | Firmware::Both)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Firmware::Bios => "bios",
            Firmware::Uefi => "uefi",
            Firmware::Both => "both",
        }
    }
}

/// Partition sizes the command line may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    pub esp_mib: u64,
    pub bios_boot_mib: u64,
}

impl Default for Sizes {
    fn default() -> Self {
        // 64 MiB holds shim, MokManager and GRUB many times over, and is FAT16-sized.
        Sizes {
            esp_mib: 64,
            bios_boot_mib: 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    pub number: u32,
    /// Byte offset from the start of the disk.
    pub start: u64,
    pub size: u64,
    /// sgdisk's type code: ef02 BIOS boot, ef00 EFI system, 8300 Linux.
    pub type_code: &'static str,
    pub name: &'static str,
}

impl Partition {
    pub fn first_sector(&self) -> u64 {
        self.start / SECTOR
    }

    pub fn last_sector(&self) -> u64 {
        (self.start + self.size) / SECTOR - 1
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub bios_boot: Option<Partition>,
    pub esp: Option<Partition>,
    pub root: Partition,
}

/// Why the partitions do not fit, with the figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoesNotFit {
    pub disk_mib: u64,
    pub needed_mib: u64,
    pub parts: String,
}

impl fmt::Display for DoesNotFit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the partitions do not fit in {} MiB: {} need {} MiB with the partition tables; give a larger --size-mib or smaller partitions",
            self.disk_mib, self.parts, self.needed_mib
        )
    }
}

impl std::error::Error for DoesNotFit {}

pub fn layout(disk_bytes: u64, firmware: Firmware, sizes: Sizes) -> Result<Layout, DoesNotFit> {
    let mut next = MIB;
    let mut number = 0;
    let mut part = |size: u64, type_code, name| {
        number += 1;
        let p = Partition {
            number,
            start: next,
            size,
            type_code,
            name,
        };
        next += size;
        p
    };
    let bios_boot = firmware
        .bios()
        .then(|| part(sizes.bios_boot_mib * MIB, "ef02", "BIOS boot"));
    let esp = firmware
        .uefi()
        .then(|| part(sizes.esp_mib * MIB, "ef00", "EFI system"));
    let root_start = next;
    let end = (disk_bytes.saturating_sub(GPT_BACKUP) / MIB) * MIB;
    if end < root_start + MIN_ROOT_MIB * MIB {
        let mut parts = Vec::new();
        if let Some(b) = &bios_boot {
            parts.push(format!("BIOS boot {} MiB", b.size / MIB));
        }
        if let Some(e) = &esp {
            parts.push(format!("EFI system {} MiB", e.size / MIB));
        }
        parts.push(format!("root at least {MIN_ROOT_MIB} MiB"));
        return Err(DoesNotFit {
            disk_mib: disk_bytes / MIB,
            // The first MiB, the partitions, and one more MiB for the backup table's alignment.
            needed_mib: root_start / MIB + MIN_ROOT_MIB + 1,
            parts: parts.join(" + "),
        });
    }
    number += 1;
    let root = Partition {
        number,
        start: root_start,
        size: end - root_start,
        type_code: "8300",
        name: ROOT_NAME,
    };
    Ok(Layout {
        bios_boot,
        esp,
        root,
    })
}

/// sgdisk's arguments (before the file name) for `layout`: a fresh GPT with those
/// partitions at those sectors, the root still named [`INCOMPLETE_ROOT_NAME`].
pub fn sgdisk_args(layout: &Layout) -> Vec<String> {
    let mut args = vec!["--clear".to_owned()];
    for p in [&layout.bios_boot, &layout.esp]
        .into_iter()
        .flatten()
        .chain([&layout.root])
    {
        args.push(format!(
            "--new={}:{}:{}",
            p.number,
            p.first_sector(),
            p.last_sector()
        ));
        args.push(format!("--typecode={}:{}", p.number, p.type_code));
        let name = if p.number == layout.root.number {
            INCOMPLETE_ROOT_NAME
        } else {
            p.name
        };
        args.push(format!("--change-name={}:{name}", p.number));
    }
    args
}

/// sgdisk's arguments that mark the written system complete.
pub fn sgdisk_finish_args(layout: &Layout) -> Vec<String> {
    vec![format!("--change-name={}:{ROOT_NAME}", layout.root.number)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_firmwares_get_bios_boot_esp_and_root_in_that_order() {
        let l = layout(3072 * MIB, Firmware::Both, Sizes::default()).unwrap();
        let b = l.bios_boot.as_ref().unwrap();
        let e = l.esp.as_ref().unwrap();
        assert_eq!(
            (b.number, b.first_sector(), b.last_sector()),
            (1, 2048, 4095)
        );
        assert_eq!(
            (e.number, e.first_sector(), e.last_sector()),
            (2, 4096, 135167)
        );
        assert_eq!((l.root.number, l.root.first_sector()), (3, 135168));
        // The root ends on the last MiB boundary before the backup GPT.
        assert_eq!(l.root.start + l.root.size, 3071 * MIB);
        assert_eq!(
            sgdisk_args(&l).join(" "),
            "--clear --new=1:2048:4095 --typecode=1:ef02 --change-name=1:BIOS boot \
             --new=2:4096:135167 --typecode=2:ef00 --change-name=2:EFI system \
             --new=3:135168:6289407 --typecode=3:8300 --change-name=3:mxos-incomplete"
        );
        assert_eq!(sgdisk_finish_args(&l), ["--change-name=3:root"]);
    }

    #[test]
    fn one_firmware_gets_only_its_partition() {
        let bios = layout(1024 * MIB, Firmware::Bios, Sizes::default()).unwrap();
        assert!(bios.esp.is_none());
        assert_eq!(bios.root.number, 2);
        let uefi = layout(1024 * MIB, Firmware::Uefi, Sizes::default()).unwrap();
        assert!(uefi.bios_boot.is_none());
        assert_eq!(uefi.esp.as_ref().unwrap().first_sector(), 2048);
        assert_eq!(uefi.root.number, 2);
    }

    #[test]
    fn partitions_larger_than_the_disk_are_refused_with_the_figures() {
        let sizes = Sizes {
            esp_mib: 300,
            bios_boot_mib: 1,
        };
        let err = layout(600 * MIB, Firmware::Both, sizes).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the partitions do not fit in 600 MiB: BIOS boot 1 MiB + EFI system 300 MiB + root at least 512 MiB need 815 MiB with the partition tables; give a larger --size-mib or smaller partitions"
        );
        assert!(layout(815 * MIB, Firmware::Both, sizes).is_ok());
        assert!(layout(814 * MIB, Firmware::Both, sizes).is_err());
    }
}
