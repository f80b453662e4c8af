//! Large package sets for benchmarks: a host directory's files split into packages, so a
//! compose handles hundreds of megabytes of real binaries without any download.

use std::path::{Path, PathBuf};

use anyhow::{ensure, Context, Result};

use crate::rpms::{FileEntry, PackageSpec};

/// Where the bulk packages install their files.
pub const BULK_PREFIX: &str = "/usr/lib/mxos-bulk";

/// Regular files of `source` (sorted, names rpm's `%files` can list), up to `max_bytes`,
/// split into `count` packages `mxos-bulk-NN` that require `mxos-filesystem`.
pub fn bulk_packages(source: &Path, max_bytes: u64, count: usize) -> Result<Vec<PackageSpec>> {
    ensure!(count > 0, "a bulk repo needs at least one package");
    let mut files = Vec::new();
    collect(source, &mut files)?;
    files.sort();
    let mut chosen = Vec::new();
    let mut total = 0;
    for (path, size) in files {
        if total + size > max_bytes {
            continue;
        }
        total += size;
        chosen.push(path);
    }
    ensure!(
        !chosen.is_empty(),
        "{} has no files to package within {max_bytes} bytes",
        source.display()
    );
    let per = chosen.len().div_ceil(count);
    Ok(chosen
        .chunks(per)
        .enumerate()
        .map(|(i, chunk)| {
            let mut pkg = PackageSpec::new(
                &format!("mxos-bulk-{i:02}"),
                &format!("Bulk files from {}", source.display()),
            );
            pkg.requires = vec!["mxos-filesystem".to_owned()];
            pkg.files = chunk
                .iter()
                .map(|p| FileEntry::HostFile {
                    path: format!(
                        "{BULK_PREFIX}/{}",
                        p.strip_prefix(source).unwrap_or(p).display()
                    ),
                    source: p.clone(),
                    mode: 0o644,
                })
                .collect();
            pkg
        })
        .collect())
}

fn collect(dir: &Path, out: &mut Vec<(PathBuf, u64)>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let entry = entry?;
        let ft = entry.file_type()?;
        let path = entry.path();
        let listable = path.to_str().is_some_and(|s| {
            s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "/._+-@:".contains(c))
        });
        if ft.is_dir() && listable {
            collect(&path, out)?;
        } else if ft.is_file() && listable {
            out.push((path, entry.metadata()?.len()));
        }
    }
    Ok(())
}
