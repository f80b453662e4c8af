//! Publishing: copy signed refs from a build repo into a static archive repo that any web
//! server can serve, with a signed summary, the public key and a ready remote config; and
//! bootc container images of the same commits ([`container`]).
//!
//! Publishing only adds: objects already published stay, so devices mid-pull keep working.

pub mod container;
pub mod disk;
pub mod fleet;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use mxos_repo::{Repo, RepoMode};
use mxos_sign::SecretKey;

/// Name of the public key file in the published tree.
pub const PUBLIC_KEY_FILE: &str = "mxos.ed25519.pub";

pub struct PublishRequest {
    pub build_repo: PathBuf,
    pub public_dir: PathBuf,
    /// Refs to publish; empty means every ref of the build repo except overlay layers.
    pub refs: Vec<String>,
    pub sign_key: PathBuf,
    /// The URL devices will use; written into the remote config. Default: `file://` of
    /// the public directory.
    pub url: Option<String>,
    pub remote_name: String,
}

#[derive(Debug)]
pub struct PublishReport {
    /// (ref, commit) as now published.
    pub refs: Vec<(String, String)>,
    pub remote_conf: PathBuf,
    pub public_key: PathBuf,
}

pub fn publish(req: &PublishRequest) -> Result<PublishReport> {
    let key = SecretKey::read(&req.sign_key)?;
    let build = Repo::open(&req.build_repo)?;
    let refs = if req.refs.is_empty() {
        build
            .refs()?
            .into_iter()
            .map(|(r, _)| r)
            .filter(|r| !r.starts_with("mxos/overlay/") && !r.contains(':'))
            .collect()
    } else {
        req.refs.clone()
    };
    if refs.is_empty() {
        bail!(
            "{} has no refs to publish; compose a tree first",
            req.build_repo.display()
        );
    }
    // Refuse before copying anything: a published unsigned commit is one devices must reject.
    for r in &refs {
        mxos_sign::verify_commit(&build, r, &[key.public()]).with_context(|| {
            format!("ref `{r}` is not signed by the publishing key; sign it with `mxos-compose sign --repo {} {r} --key ...`", req.build_repo.display())
        })?;
    }
    let public = Repo::open_or_create(&req.public_dir, RepoMode::Archive)?;
    if public.mode() != RepoMode::Archive {
        bail!(
            "{} is a {:?} repo; a published repo must be `archive` so web servers can serve it",
            req.public_dir.display(),
            public.mode()
        );
    }
    public.pull_local(&build, &refs)?;
    public.regenerate_summary()?;
    mxos_sign::sign_summary(&req.public_dir, &key)?;

    let public_key = req.public_dir.join(PUBLIC_KEY_FILE);
    write_atomic(&public_key, &format!("{}\n", key.public()))?;
    let url = match &req.url {
        Some(u) => u.clone(),
        None => format!("file://{}", req.public_dir.canonicalize()?.display()),
    };
    let remote_conf = req.public_dir.join(format!("{}.conf", req.remote_name));
    write_atomic(
        &remote_conf,
        &remote_config(&req.remote_name, &url, &key.public().to_base64()),
    )?;
    let refs = refs
        .into_iter()
        .map(|r| Ok((r.clone(), public.require(&r)?)))
        .collect::<Result<_>>()?;
    Ok(PublishReport {
        refs,
        remote_conf,
        public_key,
    })
}

/// The remote as libostree reads it from `/etc/ostree/remotes.d/`: commits and summary
/// must carry an ed25519 signature by the embedded key.
pub fn remote_config(name: &str, url: &str, public_key_b64: &str) -> String {
    format!(
        "# MxOS remote: install as /etc/ostree/remotes.d/{name}.conf\n\
         [remote \"{name}\"]\n\
         url={url}\n\
         gpg-verify=false\n\
         sign-verify=ed25519\n\
         sign-verify-summary=true\n\
         verification-ed25519-key={public_key_b64}\n"
    )
}

fn write_atomic(path: &Path, contents: &str) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, contents).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("installing {}", path.display()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn remote_config_is_libostree_keyfile() {
        assert_eq!(
            super::remote_config("mxos", "http://127.0.0.1:8080", "KEY="),
            "# MxOS remote: install as /etc/ostree/remotes.d/mxos.conf\n[remote \"mxos\"]\nurl=http://127.0.0.1:8080\ngpg-verify=false\nsign-verify=ed25519\nsign-verify-summary=true\nverification-ed25519-key=KEY=\n"
        );
    }
}
