//! A one-partition MBR partition table, written by hand because it is 66 bytes of
//! arithmetic and the alternative (sfdisk on a file) needs stdin scripting.

/// Sectors before the first partition: GRUB's core.img lives in this gap.
pub const FIRST_LBA: u64 = 2048;
pub const SECTOR: u64 = 512;

/// Bytes 446..512 of the disk's first sector: one bootable Linux partition filling the disk
/// after the gap, three empty entries, and the 0x55AA signature.
pub fn partition_table(disk_bytes: u64) -> [u8; 66] {
    let mut t = [0u8; 66];
    let sectors = (disk_bytes / SECTOR)
        .saturating_sub(FIRST_LBA)
        .min(u32::MAX as u64) as u32;
    t[0] = 0x80; // bootable
                 // CHS fields say "use LBA" (0xFE/0xFF/0xFF), as every modern tool writes for big disks.
    t[1..4].copy_from_slice(&[0xFE, 0xFF, 0xFF]);
    t[4] = 0x83; // Linux
    t[5..8].copy_from_slice(&[0xFE, 0xFF, 0xFF]);
    t[8..12].copy_from_slice(&(FIRST_LBA as u32).to_le_bytes());
    t[12..16].copy_from_slice(&sectors.to_le_bytes());
    t[64] = 0x55;
    t[65] = 0xAA;
    t
}

/// The partition's size in bytes, as `partition_table` lays it out.
pub fn partition_bytes(disk_bytes: u64) -> u64 {
    (disk_bytes / SECTOR).saturating_sub(FIRST_LBA) * SECTOR
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_bootable_linux_partition_after_the_gap() {
        let disk: u64 = 4 << 30;
        let t = partition_table(disk);
        assert_eq!(t[0], 0x80);
        assert_eq!(t[4], 0x83);
        assert_eq!(u32::from_le_bytes(t[8..12].try_into().unwrap()), 2048);
        assert_eq!(
            u64::from(u32::from_le_bytes(t[12..16].try_into().unwrap())),
            disk / 512 - 2048
        );
        assert!(t[16..64].iter().all(|b| *b == 0), "other entries empty");
        assert_eq!(&t[64..], &[0x55, 0xAA]);
        assert_eq!(partition_bytes(disk), disk - (1 << 20));
    }
}
