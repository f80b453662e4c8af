//! Static deltas and history pruning: what makes a one-package update a small download, and
//! what keeps a published repo from growing forever.
//!
//! libostree (≥ 2020.7) re-indexes deltas when the summary is regenerated, and a pull uses a
//! delta whenever the index lists one from a commit the client already has; so publishing
//! only has to generate the delta files and regenerate the summary.

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use base64::Engine;
use ostree::gio;
use ostree::glib;

use crate::{gerr, Repo};

/// A static delta: from `from` (or from nothing, "from scratch") to `to`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StaticDelta {
    pub from: Option<String>,
    pub to: String,
}

impl StaticDelta {
    /// libostree's delta name: `FROM-TO`, or `TO` for a from-scratch delta.
    pub fn name(&self) -> String {
        match &self.from {
            Some(f) => format!("{f}-{}", self.to),
            None => self.to.clone(),
        }
    }

    /// Reads libostree's name of a delta, as the summary lists it.
    pub fn parse(name: &str) -> Result<StaticDelta> {
        match name.split_once('-') {
            Some((f, t)) => Ok(StaticDelta {
                from: Some(f.to_owned()),
                to: t.to_owned(),
            }),
            None if name.len() == 64 => Ok(StaticDelta {
                from: None,
                to: name.to_owned(),
            }),
            None => bail!("libostree listed a static delta with an unexpected name `{name}`"),
        }
    }

    /// Where libostree keeps it: `deltas/` + the checksums in "modified base64" (`/` → `_`),
    /// split after two characters like loose objects.
    pub fn relative_dir(&self) -> Result<String> {
        let mb64 = |hex: &str| -> Result<String> {
            let bytes = hex_bytes(hex)?;
            Ok(B64.encode(bytes).replace('/', "_"))
        };
        let to = mb64(&self.to)?;
        let full = match &self.from {
            Some(f) => format!("{}-{to}", mb64(f)?),
            None => to,
        };
        Ok(format!("deltas/{}/{}", &full[..2], &full[2..]))
    }
}

/// Where libostree (≥ 2020.7) indexes the deltas towards `to`:
/// `delta-indexes/` + its checksum in modified base64, split after two characters.
pub fn delta_index_path(to: &str) -> Result<String> {
    let to = B64.encode(hex_bytes(to)?).replace('/', "_");
    Ok(format!("delta-indexes/{}/{}.index", &to[..2], &to[2..]))
}

/// The SHA-256 (hex) the superblock gives each of a delta's parts, in order (part `N` is
/// the file `N` beside it). The bytes are untrusted: the caller checked them against the
/// signed summary first.
pub fn delta_part_checksums(superblock: &[u8]) -> Result<Vec<String>> {
    let ty = glib::VariantTy::new(SUPERBLOCK_TYPE).expect("a valid type string");
    let v = glib::Variant::from_bytes_with_type(&glib::Bytes::from(superblock), ty);
    if !v.is_normal_form() {
        bail!("not a static delta superblock (not a normal-form {SUPERBLOCK_TYPE})");
    }
    v.child_value(6)
        .iter()
        .map(|part| {
            let sum: Vec<u8> = part.child_value(1).get().unwrap_or_default();
            if sum.len() != 32 {
                bail!(
                    "a delta part has a {}-byte checksum; expected 32",
                    sum.len()
                );
            }
            Ok(hex(&sum))
        })
        .collect()
}

/// libostree's `OSTREE_STATIC_DELTA_SUPERBLOCK_FORMAT`: metadata, timestamp, from, to, the
/// target commit, dependencies, part headers `(version, checksum, size, usize, objects)`,
/// fallback objects.
const SUPERBLOCK_TYPE: &str = "(a{sv}tayay(a{sv}aya(say)sstayay)aya(uayttay)a(yaytt))";

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of `bytes`, hex: how libostree names what it checks (deltas, objects).
pub fn sha256_hex(bytes: &[u8]) -> String {
    glib::compute_checksum_for_data(glib::ChecksumType::Sha256, bytes)
        .map(|s| s.to_string())
        .unwrap_or_default()
}

fn hex_bytes(hex: &str) -> Result<Vec<u8>> {
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("`{hex}` is not a commit checksum (64 hex digits)");
    }
    (0..32)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(Into::into))
        .collect()
}

impl Repo {
    /// Generates a static delta (libostree's default "major" tuning). `from: None` gives a
    /// from-scratch delta: minutes and single-threaded on large trees, so callers opt in.
    pub fn generate_static_delta(&self, from: Option<&str>, to: &str) -> Result<StaticDelta> {
        // libostree reads its tuning from this dict; an empty one means its defaults.
        let params = glib::VariantDict::new(None).end();
        self.inner
            .static_delta_generate(
                ostree::StaticDeltaGenerateOpt::Major,
                from,
                to,
                None,
                Some(&params),
                gio::Cancellable::NONE,
            )
            .map_err(gerr)
            .with_context(|| {
                format!(
                    "generating the static delta {} → {to} in {}",
                    from.unwrap_or("(scratch)"),
                    self.path().display()
                )
            })?;
        Ok(StaticDelta {
            from: from.map(str::to_owned),
            to: to.to_owned(),
        })
    }

    /// Every static delta in the repository, sorted.
    pub fn static_deltas(&self) -> Result<Vec<StaticDelta>> {
        let mut deltas = self
            .inner
            .list_static_delta_names(gio::Cancellable::NONE)
            .map_err(gerr)
            .with_context(|| format!("listing static deltas of {}", self.path().display()))?
            .iter()
            .map(|n| StaticDelta::parse(n))
            .collect::<Result<Vec<_>>>()?;
        deltas.sort();
        Ok(deltas)
    }

    /// Deletes one static delta. Its index entry goes at the next summary regeneration.
    pub fn delete_static_delta(&self, delta: &StaticDelta) -> Result<()> {
        let dir = self.path().join(delta.relative_dir()?);
        if !dir.is_dir() {
            bail!(
                "static delta {} is not at {} as expected",
                delta.name(),
                dir.display()
            );
        }
        std::fs::remove_dir_all(&dir)
            .with_context(|| format!("deleting static delta {}", dir.display()))
    }

    /// Deletes a commit object and its detached metadata; its content stays until
    /// [`Repo::prune_unreachable`] finds it unreferenced.
    pub fn delete_commit(&self, checksum: &str) -> Result<()> {
        self.inner
            .delete_object(ostree::ObjectType::Commit, checksum, gio::Cancellable::NONE)
            .map_err(gerr)
            .with_context(|| format!("deleting commit {checksum}"))
        // libostree deletes the detached metadata (our signatures) with the commit.
    }

    /// Deletes every object no ref reaches (full history of the commits that remain).
    /// Returns (objects before, objects deleted, bytes freed).
    pub fn prune_unreachable(&self) -> Result<(i32, i32, u64)> {
        self.inner
            .prune(
                ostree::RepoPruneFlags::REFS_ONLY,
                -1,
                gio::Cancellable::NONE,
            )
            .map_err(gerr)
            .with_context(|| format!("pruning unreachable objects of {}", self.path().display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_names_and_paths_follow_libostree() {
        let to = "0".repeat(63) + "1";
        let d = StaticDelta::parse(&to).unwrap();
        assert_eq!(d.from, None);
        assert_eq!(d.name(), to);
        assert_eq!(
            d.relative_dir().unwrap(),
            "deltas/AA/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE"
        );
        let from = "ff".repeat(32);
        let d = StaticDelta::parse(&format!("{from}-{to}")).unwrap();
        assert_eq!(d.from.as_deref(), Some(from.as_str()));
        assert!(d
            .relative_dir()
            .unwrap()
            .starts_with("deltas/__/________________________________________8-AAAA"));
        assert!(StaticDelta::parse("nonsense").is_err());
    }
}
