//! The single entry point for running subprocesses, so every command is logged and fails loudly.

use std::ffi::OsStr;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

/// How many lines of a failed command's output end up in the error.
const TAIL_LINES: usize = 20;

/// Runs `cmd` to completion and returns its stdout.
///
/// Stdin is null so a tool that unexpectedly prompts fails instead of hanging a test run.
pub fn run(cmd: &mut Command) -> Result<String> {
    let line = command_line(cmd);
    eprintln!("+ {line}");
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("spawning `{line}`"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        // Some tools (rpm among them) report on stdout, so fall back to it rather than
        // handing back an empty error.
        let (which, text) = if stderr.trim().is_empty() {
            ("stdout", stdout.as_str())
        } else {
            ("stderr", stderr.as_ref())
        };
        bail!(
            "`{line}` failed with {}; last lines of {which}:\n{}",
            output.status,
            tail(text, TAIL_LINES)
        );
    }
    Ok(stdout)
}

/// Renders a command as a shell-pastable line, including environment overrides, so a
/// failure can be reproduced by hand.
pub fn command_line(cmd: &Command) -> String {
    let mut parts = Vec::new();
    for (key, value) in cmd.get_envs() {
        match value {
            Some(value) => parts.push(format!("{}={}", key.to_string_lossy(), quote(value))),
            None => parts.push(format!("-u {}", key.to_string_lossy())),
        }
    }
    if !parts.is_empty() {
        parts.insert(0, "env".to_owned());
    }
    parts.push(quote(cmd.get_program()));
    parts.extend(cmd.get_args().map(quote));
    parts.join(" ")
}

fn quote(arg: &OsStr) -> String {
    let arg = arg.to_string_lossy();
    let safe = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if safe {
        arg.into_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_reports_command_status_and_stderr_tail() {
        let err = run(Command::new("sh").args([
            "-c",
            "for i in $(seq 1 30); do echo line$i >&2; done; exit 3",
        ]))
        .unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("sh -c 'for i in"), "{msg}");
        assert!(msg.contains("exit status: 3"), "{msg}");
        assert!(msg.contains("line30") && msg.contains("line11"), "{msg}");
        assert!(!msg.contains("line10\n"), "{msg}");
    }

    #[test]
    fn success_returns_stdout() {
        assert_eq!(run(Command::new("echo").arg("hi")).unwrap(), "hi\n");
    }
}
