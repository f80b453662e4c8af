//! Which disk the installer writes to, and whether it may: pure decisions over what the
//! machine reports (`/sys/block`, `lsblk`), so that every refusal's text can be tested.

use mxos_agent::i18n::Text;
use mxos_agent::t;

/// A whole disk as `/sys/block/NAME` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskInfo {
    /// Kernel name, e.g. `sda`, `nvme0n1`, `vdb`.
    pub name: String,
    pub size_bytes: u64,
    pub removable: bool,
    pub read_only: bool,
    /// `device/model`, when the disk has one.
    pub model: Option<String>,
}

impl DiskInfo {
    pub fn path(&self) -> String {
        format!("/dev/{}", self.name)
    }

    /// How the technician sees it on the screen: `/dev/sda (500.1 GB, WDC WD5000)`.
    pub fn describe(&self) -> String {
        let gb = self.size_bytes as f64 / 1e9;
        match &self.model {
            Some(m) => format!("{} ({gb:.1} GB, {m})", self.path()),
            None => format!("{} ({gb:.1} GB)", self.path()),
        }
    }
}

/// Kernel names that are never a machine's disk: loop files, RAM disks, optical drives,
/// floppies, device-mapper and RAID members, network block devices.
const NOT_DISKS: [&str; 8] = ["loop", "ram", "zram", "sr", "fd", "dm-", "md", "nbd"];

pub fn is_candidate_name(name: &str) -> bool {
    !NOT_DISKS.iter().any(|p| name.starts_with(p))
}

/// The target: `wanted` (`auto` or a `/dev/…` path) among `disks`, never the disk the
/// installer itself runs from, and large enough for `min_bytes`. `auto` takes the largest
/// non-removable writable disk.
pub fn choose(
    disks: &[DiskInfo],
    boot_disk: Option<&str>,
    wanted: &str,
    min_bytes: u64,
) -> Result<DiskInfo, Text> {
    let usable = |d: &&DiskInfo| Some(d.name.as_str()) != boot_disk && !d.read_only;
    if wanted != "auto" {
        let name = wanted.strip_prefix("/dev/").unwrap_or(wanted);
        let Some(d) = disks.iter().find(|d| d.name == name) else {
            let seen: Vec<String> = disks.iter().map(DiskInfo::describe).collect();
            return Err(t!(
                "install-no-such-disk",
                disk = wanted,
                disks = list_or_none(&seen)
            ));
        };
        if Some(d.name.as_str()) == boot_disk {
            return Err(t!("install-disk-is-installer", disk = d.path()));
        }
        if d.read_only {
            return Err(t!("install-disk-read-only", disk = d.describe()));
        }
        return fits(d, min_bytes);
    }
    let best = disks
        .iter()
        .filter(usable)
        .filter(|d| !d.removable && d.size_bytes >= min_bytes)
        .max_by_key(|d| (d.size_bytes, std::cmp::Reverse(d.name.clone())));
    match best {
        Some(d) => Ok(d.clone()),
        None => {
            let seen: Vec<String> = disks
                .iter()
                .filter(usable)
                .map(DiskInfo::describe)
                .collect();
            Err(t!(
                "install-no-disk",
                min = format!("{:.1} GB", min_bytes as f64 / 1e9),
                disks = list_or_none(&seen)
            ))
        }
    }
}

fn fits(d: &DiskInfo, min_bytes: u64) -> Result<DiskInfo, Text> {
    if d.size_bytes < min_bytes {
        return Err(t!(
            "install-disk-too-small",
            disk = d.describe(),
            min = format!("{:.1} GB", min_bytes as f64 / 1e9)
        ));
    }
    Ok(d.clone())
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "-".to_owned()
    } else {
        items.join(", ")
    }
}

/// What the target disk holds now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiskState {
    /// No partition table, no filesystem: nothing to lose.
    Empty,
    /// An MxOS install that never finished (its root still named `mxos-incomplete`).
    Unfinished,
    /// Somebody's data: what was found, e.g. `vdb: ext4`, `sda1: ntfs`.
    Data(Vec<String>),
}

/// From `lsblk -P -n -o NAME,TYPE,FSTYPE,PTTYPE,PARTLABEL DISK` (one `KEY="value"` line per
/// disk and partition).
pub fn disk_state(lsblk: &str) -> DiskState {
    let mut found = Vec::new();
    let mut unfinished = false;
    for line in lsblk.lines() {
        let fields = pairs(line);
        let get = |k: &str| {
            fields
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
                .unwrap_or("")
        };
        let name = get("NAME");
        if get("PARTLABEL") == crate::layout::INCOMPLETE_ROOT_NAME {
            unfinished = true;
        }
        // A partition reports its disk's table type too: the table counts on the disk only.
        let table = if get("TYPE") == "part" {
            ""
        } else {
            get("PTTYPE")
        };
        for what in [table, get("FSTYPE")] {
            if !what.is_empty() {
                found.push(format!("{name}: {what}"));
            }
        }
    }
    if unfinished {
        DiskState::Unfinished
    } else if found.is_empty() {
        DiskState::Empty
    } else {
        DiskState::Data(found)
    }
}

/// `KEY="value"` pairs as lsblk -P writes them (values escaped as `\xNN`).
fn pairs(line: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = line.trim();
    while let Some(eq) = rest.find("=\"") {
        let key = rest[..eq].trim().to_owned();
        let after = &rest[eq + 2..];
        let end = after.find('"').unwrap_or(after.len());
        out.push((key, unescape(&after[..end])));
        rest = after.get(end + 1..).unwrap_or("");
    }
    out
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek() == Some(&'x') {
            chars.next();
            let hex: String = chars.by_ref().take(2).collect();
            if let Ok(b) = u8::from_str_radix(&hex, 16) {
                out.push(b as char);
                continue;
            }
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mxos_agent::i18n::Lang;

    fn disk(name: &str, gb: u64, removable: bool) -> DiskInfo {
        DiskInfo {
            name: name.into(),
            size_bytes: gb * 1_000_000_000,
            removable,
            read_only: false,
            model: None,
        }
    }

    const MIN: u64 = 2_000_000_000;

    #[test]
    fn auto_takes_the_largest_fixed_disk_that_is_not_the_stick() {
        let disks = [
            disk("sda", 64, false),
            disk("sdb", 500, false),
            disk("sdc", 1000, true),
            disk("vdb", 0, false),
        ];
        assert_eq!(
            choose(&disks, Some("sdc"), "auto", MIN).unwrap().name,
            "sdb"
        );
        // The stick is never a target, even as the largest fixed disk.
        assert_eq!(
            choose(&disks, Some("sdb"), "auto", MIN).unwrap().name,
            "sda"
        );
        assert!(is_candidate_name("nvme0n1") && !is_candidate_name("loop0"));
    }

    #[test]
    fn refusals_name_the_disks_in_both_languages() {
        let disks = [disk("sda", 1, false), disk("sdb", 32, true)];
        let err = choose(&disks, Some("sdb"), "auto", MIN).unwrap_err();
        assert_eq!(
            err.render(Lang::Es),
            "no hay un disco interno de al menos 2.0 GB donde instalar (discos vistos: /dev/sda (1.0 GB)); conecte o elija un disco con --target-disk al crear la memoria"
        );
        assert_eq!(
            err.render(Lang::En),
            "there is no internal disk of at least 2.0 GB to install on (disks seen: /dev/sda (1.0 GB)); connect one, or choose one with --target-disk when making the stick"
        );
        let err = choose(&disks, Some("sdb"), "/dev/sdb", MIN).unwrap_err();
        assert_eq!(
            err.render(Lang::Es),
            "/dev/sdb es la memoria del instalador; no se instala sobre ella"
        );
        let err = choose(&disks, Some("sdb"), "/dev/nvme0n1", MIN).unwrap_err();
        assert_eq!(
            err.render(Lang::En),
            "the stick says to install on /dev/nvme0n1, which this machine does not have (disks: /dev/sda (1.0 GB), /dev/sdb (32.0 GB))"
        );
        let err = choose(&disks, Some("sdb"), "sda", MIN).unwrap_err();
        assert_eq!(
            err.render(Lang::Es),
            "el disco /dev/sda (1.0 GB) es demasiado chico: MxOS necesita al menos 2.0 GB"
        );
        // An explicit removable disk is the technician's choice.
        assert_eq!(
            choose(&[disk("sdc", 64, true)], None, "/dev/sdc", MIN)
                .unwrap()
                .name,
            "sdc"
        );
    }

    #[test]
    fn a_disk_is_empty_unfinished_or_holds_data() {
        assert_eq!(
            disk_state("NAME=\"vdc\" FSTYPE=\"\" PTTYPE=\"\" PARTLABEL=\"\"\n"),
            DiskState::Empty
        );
        assert_eq!(
            disk_state("NAME=\"vdc\" FSTYPE=\"ext4\" PTTYPE=\"\" PARTLABEL=\"\"\n"),
            DiskState::Data(vec!["vdc: ext4".into()])
        );
        let windows = "NAME=\"sda\" TYPE=\"disk\" FSTYPE=\"\" PTTYPE=\"gpt\" PARTLABEL=\"\"\n\
                       NAME=\"sda1\" TYPE=\"part\" FSTYPE=\"vfat\" PTTYPE=\"gpt\" PARTLABEL=\"EFI\\x20system\\x20partition\"\n\
                       NAME=\"sda2\" TYPE=\"part\" FSTYPE=\"ntfs\" PTTYPE=\"gpt\" PARTLABEL=\"Basic\\x20data\"\n";
        assert_eq!(
            disk_state(windows),
            DiskState::Data(vec![
                "sda: gpt".into(),
                "sda1: vfat".into(),
                "sda2: ntfs".into()
            ])
        );
        let ours = "NAME=\"vdc\" TYPE=\"disk\" FSTYPE=\"\" PTTYPE=\"gpt\" PARTLABEL=\"\"\n\
                    NAME=\"vdc3\" TYPE=\"part\" FSTYPE=\"ext4\" PTTYPE=\"gpt\" PARTLABEL=\"mxos-incomplete\"\n";
        assert_eq!(disk_state(ours), DiskState::Unfinished);
    }
}
