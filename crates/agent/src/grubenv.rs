//! GRUB's environment block (`/boot/grub2/grubenv`): how MxOS counts boot attempts of a new
//! deployment. GRUB reads it at every boot and decrements `mxos_boot_tries`; at 0 it boots
//! the previous entry instead (see the `mx-boot` overlay's generator).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::{refuse, t};

/// The variable GRUB's config decrements; unset means "no new deployment on trial".
pub const TRIES: &str = "mxos_boot_tries";
const HEADER: &str = "# GRUB Environment Block\n";
/// GRUB requires exactly this size and rewrites the file in place.
const SIZE: usize = 1024;

/// Parses an environment block; lines after the header are `name=value`, padding is `#`.
pub fn parse(bytes: &[u8]) -> BTreeMap<String, String> {
    let text = String::from_utf8_lossy(bytes);
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect()
}

/// Renders a 1024-byte environment block.
pub fn render(vars: &BTreeMap<String, String>) -> Result<Vec<u8>> {
    let mut out = HEADER.as_bytes().to_vec();
    for (k, v) in vars {
        if k.contains(['=', '\n']) || v.contains('\n') {
            refuse!("grubenv-bad-variable", name = format!("{k:?}"));
        }
        out.extend_from_slice(format!("{k}={v}\n").as_bytes());
    }
    if out.len() > SIZE {
        refuse!("grubenv-full", size = SIZE);
    }
    out.resize(SIZE, b'#');
    Ok(out)
}

/// `boot/grub2/grubenv` under a sysroot, if that sysroot boots with MxOS's GRUB setup.
pub fn path(sysroot: &Path) -> Option<PathBuf> {
    let dir = sysroot.join("boot/grub2");
    dir.is_dir().then(|| dir.join("grubenv"))
}

/// Sets (`Some`) or clears (`None`) one variable, keeping the others.
pub fn set(file: &Path, name: &str, value: Option<&str>) -> Result<()> {
    let mut vars = match std::fs::read(file) {
        Ok(b) => parse(&b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
        Err(e) => return Err(e).with_context(|| t!("reading-file", path = file.display())),
    };
    match value {
        Some(v) => vars.insert(name.to_owned(), v.to_owned()),
        None => vars.remove(name),
    };
    let tmp = file.with_extension("new");
    std::fs::write(&tmp, render(&vars)?)
        .with_context(|| t!("writing-file", path = tmp.display()))?;
    std::fs::rename(&tmp, file).with_context(|| t!("installing-file", path = file.display()))
}

pub fn get(file: &Path, name: &str) -> Option<String> {
    std::fs::read(file)
        .ok()
        .and_then(|b| parse(&b).remove(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_is_1024_bytes_and_round_trips() {
        let mut vars = BTreeMap::new();
        vars.insert(TRIES.to_owned(), "3".to_owned());
        let block = render(&vars).unwrap();
        assert_eq!(block.len(), 1024);
        assert!(block.starts_with(b"# GRUB Environment Block\nmxos_boot_tries=3\n###"));
        assert_eq!(parse(&block), vars);
        assert!(render(&BTreeMap::from([("a=b".to_owned(), "x".to_owned())])).is_err());
    }

    #[test]
    fn set_and_clear_keep_other_variables() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("grubenv");
        set(&f, "saved_entry", Some("0")).unwrap();
        set(&f, TRIES, Some("2")).unwrap();
        assert_eq!(get(&f, TRIES).as_deref(), Some("2"));
        set(&f, TRIES, None).unwrap();
        assert_eq!(get(&f, TRIES), None);
        assert_eq!(get(&f, "saved_entry").as_deref(), Some("0"));
        assert_eq!(std::fs::metadata(&f).unwrap().len(), 1024);
    }
}
