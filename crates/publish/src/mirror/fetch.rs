//! Reading single files of an upstream repo that libostree does not fetch for a mirror:
//! static delta superblocks and parts, delta indexes, the public keys. `http(s)://` through
//! curl (libostree's own fetcher is not exposed), `file://` from disk.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// Where a mirror reads from.
#[derive(Debug, Clone)]
pub enum Upstream {
    Http(String),
    Dir(PathBuf),
}

impl Upstream {
    /// Accepts what libostree accepts as a remote URL: `http://`, `https://`, `file://`.
    pub fn parse(url: &str) -> Result<Upstream> {
        let url = url.trim_end_matches('/');
        if let Some(path) = url.strip_prefix("file://") {
            return Ok(Upstream::Dir(PathBuf::from(path)));
        }
        if url.starts_with("http://") || url.starts_with("https://") {
            return Ok(Upstream::Http(url.to_owned()));
        }
        if url.starts_with('/') {
            return Ok(Upstream::Dir(PathBuf::from(url)));
        }
        bail!("`{url}` is not a repository URL: give http://, https:// or file:// (or an absolute path)")
    }

    /// The URL libostree pulls from.
    pub fn url(&self) -> String {
        match self {
            Upstream::Http(u) => u.clone(),
            Upstream::Dir(d) => format!("file://{}", d.display()),
        }
    }

    /// The file at `path` (relative to the repo), `None` when the upstream has none (404).
    /// Any other failure is an error: a mirror never serves what it could not read whole.
    pub fn get(&self, path: &str, scratch: &Path) -> Result<Option<Vec<u8>>> {
        match self {
            Upstream::Dir(d) => match std::fs::read(d.join(path)) {
                Ok(b) => Ok(Some(b)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e).with_context(|| format!("reading {}", d.join(path).display())),
            },
            Upstream::Http(base) => {
                let url = format!("{base}/{path}");
                let out = scratch.join("fetch.tmp");
                let code = curl(&url, &out, false);
                let body = std::fs::read(&out).unwrap_or_default();
                let _ = std::fs::remove_file(&out);
                match code?.as_str() {
                    "200" => Ok(Some(body)),
                    "404" | "410" => Ok(None),
                    code => bail!("fetching {url}: the server answered HTTP {code}"),
                }
            }
        }
    }

    /// A static delta part, whose sha256 the superblock gives as `sum`. Parts are the large
    /// files of a mirror, so a download cut off half-way is kept in `partial_dir` and the
    /// next run asks only for the rest (an HTTP range); a kept piece that does not end up
    /// matching `sum` is dropped and the part fetched whole.
    pub fn get_part(&self, path: &str, partial_dir: &Path, sum: &str) -> Result<Option<Vec<u8>>> {
        let Upstream::Http(base) = self else {
            return self.get(path, partial_dir);
        };
        let url = format!("{base}/{path}");
        std::fs::create_dir_all(partial_dir)
            .with_context(|| format!("creating {}", partial_dir.display()))?;
        let partial = partial_dir.join(path.replace('/', "_"));
        let take = |partial: &Path| -> Result<Vec<u8>> {
            let b =
                std::fs::read(partial).with_context(|| format!("reading {}", partial.display()))?;
            std::fs::remove_file(partial)
                .with_context(|| format!("removing {}", partial.display()))?;
            Ok(b)
        };
        if partial.exists() {
            let resumed = curl(&url, &partial, true);
            if matches!(resumed.as_deref(), Ok("200" | "206"))
                && std::fs::read(&partial).is_ok_and(|b| mxos_repo::sha256_hex(&b) == sum)
            {
                return take(&partial).map(Some);
            }
            let _ = std::fs::remove_file(&partial);
        }
        match curl(&url, &partial, false)?.as_str() {
            "200" => take(&partial).map(Some),
            "404" | "410" => {
                let _ = std::fs::remove_file(&partial);
                Ok(None)
            }
            code => bail!("fetching {url}: the server answered HTTP {code}"),
        }
    }
}

/// Downloads `url` into `out` (appending to what is there when `resume`) and returns the
/// HTTP status.
fn curl(url: &str, out: &Path, resume: bool) -> Result<String> {
    let mut cmd = Command::new("curl");
    cmd.args(["--silent", "--show-error", "--location"]).args([
        "--retry",
        "3",
        "--connect-timeout",
        "30",
    ]);
    if resume {
        cmd.args(["--continue-at", "-"]);
    }
    cmd.args(["--write-out", "%{http_code}", "--output"])
        .arg(out)
        .arg(url);
    let result = mxos_process::run(&mut cmd).with_context(|| format!("fetching {url}"))?;
    Ok(String::from_utf8_lossy(&result.stdout).trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::Upstream;

    #[test]
    fn urls() {
        assert!(
            matches!(Upstream::parse("http://h/x/").unwrap(), Upstream::Http(u) if u == "http://h/x")
        );
        assert!(
            matches!(Upstream::parse("file:///srv/r").unwrap(), Upstream::Dir(d) if d.to_str() == Some("/srv/r"))
        );
        assert_eq!(
            Upstream::parse("ftp://h").unwrap_err().to_string(),
            "`ftp://h` is not a repository URL: give http://, https:// or file:// (or an absolute path)"
        );
    }
}
