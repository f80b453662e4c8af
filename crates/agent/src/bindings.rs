//! The device's check that a fetched commit is the one it asked for by name: bound
//! (`ostree.collection-binding`, signed with the commit) to the collection its remote config
//! names, and (`ostree.ref-binding`) to the ref it was fetched as. A mirror, a stick or a
//! peer could otherwise hand over a genuinely signed commit of another product or channel.

use anyhow::Result;
use mxos_repo::Bindings;

use crate::refuse;

/// Judges the bindings of `commit`, fetched as `reference`, for a remote whose config expects
/// `collection` (`None`: a remote published before collection IDs, whose commits need only
/// not name another ref). Pure: the caller read the commit.
pub fn judge(
    collection: Option<&str>,
    reference: &str,
    commit: &str,
    bindings: &Bindings,
) -> Result<()> {
    if let Some(expected) = collection {
        match bindings.collection.as_deref() {
            None => refuse!(
                "refused-unbound",
                commit = commit,
                reference = reference,
                collection = expected
            ),
            Some(found) if found != expected => refuse!(
                "refused-other-collection",
                commit = commit,
                found = found,
                collection = expected
            ),
            Some(_) => {}
        }
    }
    let names_ref = bindings.refs.iter().any(|r| r == reference);
    if (collection.is_some() || !bindings.refs.is_empty()) && !names_ref {
        refuse!(
            "refused-other-ref",
            commit = commit,
            reference = reference,
            found = if bindings.refs.is_empty() {
                "-".to_owned()
            } else {
                bindings.refs.join(", ")
            }
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound(collection: Option<&str>, refs: &[&str]) -> Bindings {
        Bindings {
            collection: collection.map(str::to_owned),
            refs: refs.iter().map(|r| r.to_string()).collect(),
        }
    }

    #[test]
    fn refuses_other_collections_refs_and_unbound_commits() {
        let r = "mxos/10/x86_64/escuelas";
        judge(
            Some("mx.mxos.Os"),
            r,
            "c1",
            &bound(Some("mx.mxos.Os"), &[r]),
        )
        .unwrap();
        // A remote from before collection IDs takes unbound commits, and bound ones of its ref.
        judge(None, r, "c1", &bound(None, &[])).unwrap();
        judge(None, r, "c1", &bound(Some("org.other.Os"), &[r])).unwrap();
        let err = |c: Option<&str>, b: Bindings| judge(c, r, "c1", &b).unwrap_err().to_string();
        assert_eq!(
            err(Some("mx.mxos.Os"), bound(Some("org.other.Os"), &[r])),
            "refused commit c1: it belongs to collection `org.other.Os`, and this machine follows `mx.mxos.Os`; whoever served it (a mirror, a USB stick, another machine) is not serving MxOS for this machine"
        );
        assert_eq!(
            err(Some("mx.mxos.Os"), bound(None, &[])),
            "refused commit c1 for `mxos/10/x86_64/escuelas`: it is bound to no collection, and this machine accepts only commits of `mx.mxos.Os`"
        );
        assert_eq!(
            err(Some("mx.mxos.Os"), bound(Some("mx.mxos.Os"), &["mxos/10/x86_64/lab"])),
            "refused commit c1: it was published as `mxos/10/x86_64/lab`, not as `mxos/10/x86_64/escuelas` which this machine asked for"
        );
        assert_eq!(
            err(None, bound(None, &["mxos/fleet/beta"])),
            "refused commit c1: it was published as `mxos/fleet/beta`, not as `mxos/10/x86_64/escuelas` which this machine asked for"
        );
    }
}
