//! A real OCI registry (Debian's `docker-registry`) on 127.0.0.1, plain http, storing blobs
//! in a temp dir, for tests that push and pull images.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tempfile::TempDir;

use crate::cmd::{command_line, tail};

const REGISTRY: &str = "/usr/bin/docker-registry";
const BIND_ATTEMPTS: usize = 5;
const STARTUP_TIMEOUT: Duration = Duration::from_secs(15);

/// A running registry; killed on drop, its storage removed with it.
pub struct Registry {
    pub port: u16,
    child: Child,
    // Held for its Drop: config, log and blob storage live here.
    dir: TempDir,
}

impl Registry {
    /// Starts a registry on a free loopback port and waits until `/v2/` answers.
    pub fn start() -> Result<Registry> {
        let mut last_err = None;
        for _ in 0..BIND_ATTEMPTS {
            let dir = tempfile::Builder::new()
                .prefix("mxos-registry-")
                .tempdir()
                .context("creating registry dir")?;
            let port = free_port()?;
            match spawn(dir, port)? {
                Ok(r) => return Ok(r),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow::anyhow!("registry never started"))).with_context(
            || format!("no free port for docker-registry after {BIND_ATTEMPTS} attempts"),
        )
    }

    /// `127.0.0.1:PORT`, the host part of `docker://` references.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The registry's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// The storage directory (blobs and repositories as the registry keeps them).
    pub fn storage(&self) -> std::path::PathBuf {
        self.dir.path().join("storage")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        // A single process with nothing to flush: SIGKILL is enough.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("binding a probe socket")?;
    Ok(listener
        .local_addr()
        .context("reading probe socket address")?
        .port())
}

fn write_config(dir: &Path, port: u16) -> Result<std::path::PathBuf> {
    let config = format!(
        "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
        dir.join("storage").display()
    );
    let path = dir.join("config.yml");
    fs::write(&path, config).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// Inner error: this port did not work (try another); outer error: the registry is broken.
fn spawn(dir: TempDir, port: u16) -> Result<Result<Registry>> {
    let conf = write_config(dir.path(), port)?;
    let log_path = dir.path().join("registry.log");
    let log =
        File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
    let mut cmd = Command::new(REGISTRY);
    cmd.arg("serve").arg(&conf);
    // A long-running child cannot go through run(); log it the same way.
    eprintln!("+ {} &", command_line(&cmd));
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(log.try_clone().context("duplicating log handle")?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("spawning {}", command_line(&cmd)))?;
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().context("polling docker-registry")? {
            let text = fs::read_to_string(&log_path).unwrap_or_default();
            let err = anyhow::anyhow!(
                "docker-registry on port {port} exited with {status}:\n{}",
                tail(&text, 20)
            );
            if text.contains("address already in use") {
                return Ok(Err(err));
            }
            return Err(err);
        }
        if v2_answers(port) {
            return Ok(Ok(Registry { port, child, dir }));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "docker-registry did not answer /v2/ on port {port} within {STARTUP_TIMEOUT:?}:\n{}",
                tail(&fs::read_to_string(&log_path).unwrap_or_default(), 20)
            );
        }
        sleep(Duration::from_millis(50));
    }
}

/// Whether `GET /v2/` returns 200, the registry API's "I am here".
fn v2_answers(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if write!(s, "GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
        return false;
    }
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf.starts_with("HTTP/1.0 200") || buf.starts_with("HTTP/1.1 200")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_v2_and_stops_on_drop() {
        let r = Registry::start().unwrap();
        assert!(v2_answers(r.port), "{}", r.log());
        assert!(r.host().starts_with("127.0.0.1:"));
        let (port, pid) = (r.port, r.pid());
        drop(r);
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "{pid} still runs"
        );
        assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    }
}
