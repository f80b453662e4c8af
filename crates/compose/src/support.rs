//! What this composer cannot carry out, refused before any work with the reason: a key
//! that would otherwise do nothing is an error, never a silent no-op.

use anyhow::{bail, Result};
use mxos_treefile::{Backend, BootLocation, MetadataMode, Plan};

pub fn check(plan: &Plan) -> Result<()> {
    let t = &plan.treefile;
    let name = &plan.treefile_name;
    if t.ima {
        bail!("{name}: `ima: true` asks for IMA signatures in the commit; MxOS composes write none (there is no IMA signing key or evmctl in the compose); remove `ima`");
    }
    if t.boot_location == BootLocation::KernelInstall {
        bail!("{name}: `boot-location: kernel-install` needs kernel-install's OSTree layout plugin to run the kernel's scripts; the MxOS composer places the kernel itself in /usr/lib/modules: use `boot-location: modules`");
    }
    if t.gpg_key.is_some() {
        bail!("{name}: `gpg-key` signs the commit with GPG at compose time, which this composer does not do; sign the composed commit with `mxos-compose sign`, or compose with `--sign-key` (ed25519)");
    }
    if t.repo_metadata == MetadataMode::Detached || t.advisories_metadata == MetadataMode::Detached
    {
        bail!("{name}: `detached` repo or advisory metadata: MxOS keeps a commit's detached metadata for its signatures only; use `inline` or `disabled`");
    }
    if let Some(p) = t.packages.iter().find(|p| t.exclude_packages.contains(p)) {
        bail!(
            "{name}: `{p}` is in `packages` and in `exclude-packages`; dnf could never install it"
        );
    }
    if t.backend == Backend::Apt {
        let dnf_only = [
            ("exclude-packages", !t.exclude_packages.is_empty()),
            ("repo-packages", !t.repo_packages.is_empty()),
            ("lockfile-repos", !t.lockfile_repos.is_empty()),
            ("repovars", !t.repovars.is_empty()),
            ("install-langs", t.install_langs.is_some()),
            ("repos", t.repos.is_some()),
            ("lockfile", plan.lockfile.is_some()),
        ];
        if let Some((key, _)) = dnf_only.iter().find(|(_, set)| *set) {
            bail!("{name}: `{key}` is about RPM repositories and packages; `backend: apt` builds from the Debian `mirror` and `suite` and cannot use it");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(yaml: &str) -> String {
        let plan = mxos_treefile::load_str("t.yaml", yaml, "x86_64").unwrap();
        check(&plan).unwrap_err().to_string()
    }

    #[test]
    fn refusals_say_why() {
        assert_eq!(
            err("ref: r\nboot-location: kernel-install\n"),
            "t.yaml: `boot-location: kernel-install` needs kernel-install's OSTree layout plugin to run the kernel's scripts; the MxOS composer places the kernel itself in /usr/lib/modules: use `boot-location: modules`"
        );
        assert_eq!(
            err("ref: r\nbackend: apt\nsuite: bookworm\nexclude-packages: [x]\n"),
            "t.yaml: `exclude-packages` is about RPM repositories and packages; `backend: apt` builds from the Debian `mirror` and `suite` and cannot use it"
        );
        let plan = mxos_treefile::load_str("t.yaml", "ref: r\nboot-location: modules\n", "x86_64")
            .unwrap();
        check(&plan).unwrap();
    }
}
