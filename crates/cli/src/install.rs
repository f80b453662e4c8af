//! `mxos-update install`: what the installer stick's `mxos-install.service` runs. Each step
//! is a line on the console, in the stick's language; a failure ends with a headline the
//! technician sees from across the room and whether anything was written.

use std::path::Path;

use anyhow::{Context, Result};
use mxos_agent::t;
use mxos_media::install::{self, InstallRequest};

pub fn run(payload: &Path) -> Result<()> {
    // The payload lies in the stick's physical root, beside its repo.
    let physical_root = payload.parent().unwrap_or(Path::new("/"));
    // Under /mnt: the new root is mounted in the work dir, and SELinux lets mount(8) mount
    // on the policy's mount point type (mnt_t), not on a service's temporary files. By its
    // real path: on OSTree systems /mnt is a link to /var/mnt.
    let mnt = std::fs::canonicalize("/mnt").context("resolving /mnt")?;
    let work = tempfile::Builder::new()
        .prefix("mxos-install-")
        .tempdir_in(&mnt)
        .with_context(|| format!("creating a work dir under {}", mnt.display()))?;
    let req = InstallRequest {
        payload,
        source_repo: &physical_root.join("ostree/repo"),
        boot_disk: install::disk_of_mount(&physical_root.to_string_lossy()),
        disks: install::list_disks(Path::new("/sys/block"))?,
        root_bytes_needed: install::used_bytes(physical_root),
        facts: install::machine_facts(),
        work: work.path(),
    };
    match install::install(&req, &mut |line| println!("{line}")) {
        Ok(_) => Ok(()),
        Err(e) => {
            eprintln!("{}", t!("install-failed"));
            Err(e)
        }
    }
}
