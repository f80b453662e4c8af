//! Where the tools' log goes: structured events to journald when systemd runs the tool
//! (with fields such as `MXOS_COMMIT` and `MESSAGE_ID`), readable lines on stderr otherwise.
//! `-q` keeps warnings and errors, `-v` adds debug (every line a subprocess writes), `-vv`
//! trace; `MXOS_LOG` (tracing's filter syntax, e.g. `MXOS_LOG=debug` or
//! `MXOS_LOG=mxos::cmd=warn`) overrides both.

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::{Layer as _, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::progress::{self, ProgressLayer};

/// `-v`/`-q`, shared by both tools.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Verbosity {
    /// More detail: -v shows every line subprocesses print, -vv everything.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only warnings and errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

impl Verbosity {
    fn level(&self) -> &'static str {
        match (self.quiet, self.verbose) {
            (true, _) => "warn",
            (false, 0) => "info",
            (false, 1) => "debug",
            (false, _) => "trace",
        }
    }
}

/// Installs the subscriber for `tool` (its journald identifier).
pub fn init(tool: &'static str, verbosity: &Verbosity) {
    let filter = || match std::env::var("MXOS_LOG") {
        Ok(v) if !v.trim().is_empty() => EnvFilter::new(v),
        _ => EnvFilter::new(verbosity.level()),
    };
    if under_journald() {
        if let Ok(journald) = tracing_journald::layer() {
            // Field names go to the journal as they are, upper-cased (MXOS_COMMIT, MESSAGE_ID).
            let journald = journald
                .with_field_prefix(None)
                .with_syslog_identifier(tool.to_owned());
            tracing_subscriber::registry()
                .with(journald.with_filter(filter()))
                .try_init()
                .ok();
            return;
        }
    }
    // On a terminal the agent's decision events repeat what the command prints on stdout;
    // they are for the journal, and for -v.
    let terminal_filter = match std::env::var("MXOS_LOG") {
        Ok(v) if !v.trim().is_empty() => EnvFilter::new(v),
        _ if verbosity.level() == "info" => EnvFilter::new("info,mxos::agent=off"),
        _ => EnvFilter::new(verbosity.level()),
    };
    let lines = tracing_subscriber::fmt::layer()
        .with_writer(|| progress::AroundBars)
        .with_ansi(false)
        .event_format(Lines)
        .with_filter(terminal_filter);
    let progress = ProgressLayer::new(verbosity.quiet).with_filter(filter_fn(|meta| {
        meta.name() == progress::SPAN || meta.target() == progress::TARGET
    }));
    tracing_subscriber::registry()
        .with(lines)
        .with(progress)
        .try_init()
        .ok();
}

/// systemd sets `JOURNAL_STREAM` (`DEVICE:INODE` of the stream) when a unit's output goes
/// to the journal; a child whose stderr was redirected elsewhere inherits the variable, so
/// it counts only while stderr is still that stream, as systemd's documentation says.
fn under_journald() -> bool {
    use std::os::unix::fs::MetadataExt;
    let Some(stream) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Some((dev, ino)) = stream.to_str().and_then(|s| s.split_once(':')) else {
        return false;
    };
    let Ok(stderr) = std::fs::metadata("/proc/self/fd/2") else {
        return false;
    };
    dev.parse() == Ok(stderr.dev())
        && ino.parse() == Ok(stderr.ino())
        && std::path::Path::new("/run/systemd/journal/socket").exists()
}

/// Lines as people read them: the message alone for information, `warning: ` and `error: `
/// before the others, target and fields only at debug level.
struct Lines;

impl<S, N> FormatEvent<S, N> for Lines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let level = *event.metadata().level();
        match level {
            Level::ERROR => write!(writer, "error: ")?,
            Level::WARN => write!(writer, "warning: ")?,
            Level::INFO => {}
            Level::DEBUG | Level::TRACE if event.metadata().target() == "mxos::cmd::output" => {
                write!(writer, "  ")?
            }
            Level::DEBUG | Level::TRACE => write!(
                writer,
                "{}: {}: ",
                level.as_str().to_lowercase(),
                event.metadata().target()
            )?,
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        if level <= Level::INFO {
            return writeln!(writer, "{}", fields.message);
        }
        if event.metadata().target() == "mxos::cmd::output" {
            // A subprocess's own line, under the program that wrote it.
            let program = fields.take("program").unwrap_or_default();
            let program = program.rsplit('/').next().unwrap_or(&program).to_owned();
            return writeln!(writer, "{program}| {}", fields.message);
        }
        write!(writer, "{}", fields.message)?;
        for (k, v) in &fields.others {
            write!(writer, " {k}={v}")?;
        }
        writeln!(writer)
    }
}

/// An event's `message` and its other fields (the journal's; shown at debug level).
#[derive(Default)]
struct Fields {
    message: String,
    others: Vec<(&'static str, String)>,
}

impl Fields {
    fn take(&mut self, name: &str) -> Option<String> {
        let i = self.others.iter().position(|(k, _)| *k == name)?;
        Some(self.others.remove(i).1)
    }
}

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.others.push((field.name(), format!("{value:?}")));
        }
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.others.push((field.name(), value.to_owned()));
        }
    }
}
