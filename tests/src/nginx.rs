//! A real nginx serving a directory on 127.0.0.1, for tests that fetch over HTTP.

use std::fs::{self, File};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tempfile::TempDir;

use crate::cmd::{command_line, tail};
use crate::run;

const NGINX: &str = "/usr/sbin/nginx";
const BIND_ATTEMPTS: usize = 5;
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// A running nginx; stopped (and its workers with it) on drop.
pub struct Nginx {
    pub port: u16,
    child: Child,
    // Held for its Drop: config, logs and temp paths live here.
    dir: TempDir,
}

impl Nginx {
    /// Starts nginx serving `root` (with directory listings) on a free loopback port.
    pub fn serve(root: &Path) -> Result<Nginx> {
        Self::serve_at_rate(root, None)
    }

    /// [`Nginx::serve`], sending each response at most `bytes_per_second` (nginx's
    /// `limit_rate`): a school's slow link, for tests of what a long download shows.
    pub fn serve_at_rate(root: &Path, bytes_per_second: Option<u64>) -> Result<Nginx> {
        let root = root
            .canonicalize()
            .with_context(|| format!("resolving nginx root {}", root.display()))?;
        let mut last_err = None;
        for _ in 0..BIND_ATTEMPTS {
            let dir = tempfile::Builder::new()
                .prefix("mxos-nginx-")
                .tempdir()
                .context("creating nginx prefix dir")?;
            let port = free_port()?;
            match start(dir, &root, port, bytes_per_second)? {
                Started::Up(nginx) => return Ok(nginx),
                // Another process took the port between our probe and nginx's bind.
                Started::PortTaken(err) => last_err = Some(err),
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow::anyhow!("nginx never started")))
            .with_context(|| format!("no free port for nginx after {BIND_ATTEMPTS} attempts"))
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// nginx's error log so far, for diagnosing a failed test.
    pub fn error_log(&self) -> String {
        fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    /// nginx's access log so far (combined format: request line, status, bytes sent), for
    /// tests that check what a client fetched.
    pub fn access_log(&self) -> String {
        fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM, not Child::kill's SIGKILL: only a live master stops its workers, and an
        // orphaned worker would keep serving the port.
        let _ = run(Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string()));
        let deadline = Instant::now() + SHUTDOWN_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            sleep(Duration::from_millis(20));
        }
        eprintln!("nginx {} ignored SIGTERM; killing it", self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

enum Started {
    Up(Nginx),
    PortTaken(anyhow::Error),
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("binding a probe socket")?;
    let port = listener
        .local_addr()
        .context("reading probe socket address")?
        .port();
    Ok(port)
}

fn write_config(dir: &Path, root: &Path, port: u16, rate: Option<u64>) -> Result<PathBuf> {
    let p = dir.display();
    let limit = rate.map_or(String::new(), |r| format!("limit_rate {r};"));
    let config = format!(
        r#"user root;
worker_processes 1;
pid {p}/nginx.pid;
error_log {p}/error.log info;

events {{
    worker_connections 64;
}}

http {{
    access_log {p}/access.log;
    client_body_temp_path {p}/client_body;
    proxy_temp_path {p}/proxy;
    fastcgi_temp_path {p}/fastcgi;
    uwsgi_temp_path {p}/uwsgi;
    scgi_temp_path {p}/scgi;
    types {{ }}
    default_type application/octet-stream;
    sendfile on;

    server {{
        listen 127.0.0.1:{port};
        root {root};
        autoindex on;
        {limit}
    }}
}}
"#,
        root = root.display()
    );
    let path = dir.join("nginx.conf");
    fs::write(&path, config).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

fn start(dir: TempDir, root: &Path, port: u16, rate: Option<u64>) -> Result<Started> {
    let conf = write_config(dir.path(), root, port, rate)?;
    let error_log = dir.path().join("error.log");
    let base_args = |cmd: &mut Command| {
        // -e keeps nginx away from the packaged /var/log/nginx before it reads our config.
        cmd.arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(&error_log);
    };
    // Config errors come back through run() with a readable message instead of a
    // server that never answers.
    let mut check = Command::new(NGINX);
    base_args(&mut check);
    run(check.arg("-t")).context("nginx rejected its generated config")?;

    let mut cmd = Command::new(NGINX);
    base_args(&mut cmd);
    cmd.args(["-g", "daemon off;"]);
    let stderr_path = dir.path().join("stderr.log");
    let stderr = File::create(&stderr_path)
        .with_context(|| format!("creating {}", stderr_path.display()))?;
    // A long-running child cannot go through run(); log it the same way.
    eprintln!("+ {} &", command_line(&cmd));
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .with_context(|| format!("spawning {}", command_line(&cmd)))?;

    let logs = || {
        let log = fs::read_to_string(&error_log).unwrap_or_default();
        let err = fs::read_to_string(&stderr_path).unwrap_or_default();
        format!("{}\n{}", tail(&log, 20), tail(&err, 20))
            .trim()
            .to_owned()
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().context("polling nginx")? {
            let logs = logs();
            let err = anyhow::anyhow!("nginx on port {port} exited with {status}:\n{logs}");
            if logs.contains("Address already in use") {
                return Ok(Started::PortTaken(err));
            }
            return Err(err);
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(Started::Up(Nginx { port, child, dir }));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "nginx did not accept connections on port {port} within {STARTUP_TIMEOUT:?}:\n{}",
                logs()
            );
        }
        sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;

    fn get(port: u16, path: &str) -> Result<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        Ok(response)
    }

    #[test]
    fn serves_files_and_stops_on_drop() {
        let root = tempfile::tempdir().unwrap();
        fs::create_dir(root.path().join("sub")).unwrap();
        fs::write(root.path().join("sub/hello.txt"), "hola nginx\n").unwrap();

        let nginx = Nginx::serve(root.path()).unwrap();
        assert_eq!(nginx.url(), format!("http://127.0.0.1:{}", nginx.port));
        let response = get(nginx.port, "/sub/hello.txt").unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.ends_with("\r\n\r\nhola nginx\n"), "{response}");
        let listing = get(nginx.port, "/sub/").unwrap();
        assert!(listing.contains("hello.txt"), "autoindex: {listing}");
        let missing = get(nginx.port, "/nope").unwrap();
        assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");

        let (port, pid) = (nginx.port, nginx.pid());
        drop(nginx);
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "master {pid} still exists"
        );
        // Workers hold the listening socket too, so a refused connection means they are gone.
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "port {port} still served"
        );
    }
}
