//! The one way MxOS tools run a program: logged, stdin closed, stderr's tail in the error.
//!
//! The command line is an `info` event (target `mxos::cmd`); with `debug` enabled, every
//! line the program writes is an event too (target `mxos::cmd::output`), as it comes.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use anyhow::{bail, Context, Result};

/// Runs `cmd` to completion; a non-zero exit is an error carrying the command line and the
/// last lines of its output, which is where dnf, rpm and scripts say what went wrong.
pub fn run(cmd: &mut Command) -> Result<Output> {
    let line = command_line(cmd);
    let out = run_unchecked(cmd)?;
    if !out.status.success() {
        bail!("`{line}` failed ({}):\n{}", out.status, tail(&out, 25));
    }
    Ok(out)
}

/// [`run`] for a caller that reads the output before judging the exit status.
pub fn run_unchecked(cmd: &mut Command) -> Result<Output> {
    let line = command_line(cmd);
    tracing::info!(target: "mxos::cmd", "+ {line}");
    cmd.stdin(Stdio::null());
    if !tracing::enabled!(target: "mxos::cmd::output", tracing::Level::DEBUG) {
        return cmd.output().with_context(|| format!("starting `{line}`"));
    }
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting `{line}`"))?;
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let (out, err) = std::thread::scope(|s| {
        let out = s.spawn(|| stream(stdout, &program, "stdout"));
        let err = s.spawn(|| stream(stderr, &program, "stderr"));
        (out.join(), err.join())
    });
    let status = child
        .wait()
        .with_context(|| format!("waiting for `{line}`"))?;
    Ok(Output {
        status,
        stdout: out.unwrap_or_default(),
        stderr: err.unwrap_or_default(),
    })
}

/// Reads a child's pipe to the end, logging each line as it arrives, and returns it all.
fn stream(pipe: Option<impl Read>, program: &str, stream: &'static str) -> Vec<u8> {
    let mut all = Vec::new();
    let Some(pipe) = pipe else {
        return all;
    };
    let mut reader = BufReader::new(pipe);
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
        let text = String::from_utf8_lossy(&line);
        tracing::debug!(target: "mxos::cmd::output", program, stream, "{}", text.trim_end());
        all.extend_from_slice(&line);
        line.clear();
    }
    all
}

/// Downloads `url` (http, https or file) to `dest` with apt's own fetcher, which every
/// Debian build host has, and returns the bytes.
pub fn fetch(url: &str, dest: &Path) -> Result<Vec<u8>> {
    run(Command::new("/usr/lib/apt/apt-helper")
        .arg("download-file")
        .arg(url)
        .arg(dest))
    .with_context(|| format!("fetching {url}"))?;
    std::fs::read(dest).with_context(|| format!("reading {}", dest.display()))
}

/// The last `n` lines of stderr, or of stdout when stderr is empty.
pub fn tail(out: &Output, n: usize) -> String {
    let text = if out.stderr.iter().any(|b| !b.is_ascii_whitespace()) {
        String::from_utf8_lossy(&out.stderr)
    } else {
        String::from_utf8_lossy(&out.stdout)
    };
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn command_line(cmd: &Command) -> String {
    let mut parts: Vec<String> = cmd
        .get_envs()
        .filter_map(|(k, v)| Some(format!("{}={}", k.to_string_lossy(), v?.to_string_lossy())))
        .collect();
    parts.push(cmd.get_program().to_string_lossy().into_owned());
    parts.extend(cmd.get_args().map(|a| {
        let a = a.to_string_lossy();
        if a.contains(' ') || a.is_empty() {
            format!("'{a}'")
        } else {
            a.into_owned()
        }
    }));
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_names_command_and_stderr_tail() {
        let err = run(Command::new("sh").args(["-c", "echo one >&2; echo two >&2; exit 3"]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "`sh -c 'echo one >&2; echo two >&2; exit 3'` failed (exit status: 3):\none\ntwo"
        );
    }
}
