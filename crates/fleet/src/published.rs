//! Where a published manifest lives in an OSTree repo, so publisher and devices agree.
//!
//! Each channel has the ref `mxos/fleet/<channel>`; its head commit (an empty tree) carries
//! the manifest JSON and the base64 ed25519 signature over exactly those bytes.

/// Commit metadata key holding the manifest JSON (type `s`).
pub const KEY_MANIFEST: &str = "mxos.fleet.manifest";
/// Commit metadata key holding the signature, base64 (type `s`).
pub const KEY_SIGNATURE: &str = "mxos.fleet.signature-ed25519";

/// What every channel's manifest ref starts with.
pub const REF_PREFIX: &str = "mxos/fleet/";

/// The ref a channel's manifests are committed on.
pub fn fleet_ref(channel: &str) -> String {
    format!("{REF_PREFIX}{channel}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn channel_ref() {
        assert_eq!(
            super::fleet_ref("mxos/10/x86_64/escuelas/estable"),
            "mxos/fleet/mxos/10/x86_64/escuelas/estable"
        );
    }
}
