//! Progress of long steps, from tracing: a library wraps a step in a span named
//! `mxos.step` (field `step`, optionally `total`) and reports `done` (and `bytes`) in events
//! with target `mxos::progress`. On a terminal each step is a bar with rate and estimate;
//! otherwise a step that took two seconds or more leaves one line when it ends. Everything
//! goes to stderr, so `--json` output stays clean.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

pub const SPAN: &str = "mxos.step";
pub const TARGET: &str = "mxos::progress";

/// Steps shorter than this leave no line behind.
const QUIET_BELOW: Duration = Duration::from_secs(2);

/// Every bar is drawn through this, and log lines are written around it, so neither
/// overwrites the other.
static BARS: std::sync::LazyLock<MultiProgress> = std::sync::LazyLock::new(MultiProgress::new);

/// Stderr for log lines: each line is written with the bars lifted out of the way.
pub struct AroundBars;

impl std::io::Write for AroundBars {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        BARS.suspend(|| std::io::stderr().write_all(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

struct Step {
    name: String,
    total: Option<u64>,
    done: u64,
    bytes: u64,
    started: Instant,
    bar: Option<ProgressBar>,
}

pub struct ProgressLayer {
    terminal: bool,
    quiet: bool,
    steps: Mutex<HashMap<Id, Step>>,
}

impl ProgressLayer {
    pub fn new(quiet: bool) -> Self {
        ProgressLayer {
            terminal: std::io::stderr().is_terminal(),
            quiet,
            steps: Mutex::new(HashMap::new()),
        }
    }
}

#[derive(Default)]
struct Values {
    step: Option<String>,
    total: Option<u64>,
    done: Option<u64>,
    bytes: Option<u64>,
}

impl tracing::field::Visit for Values {
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        match field.name() {
            "total" => self.total = Some(value),
            "done" => self.done = Some(value),
            "bytes" => self.bytes = Some(value),
            _ => {}
        }
    }

    fn record_i64(&mut self, field: &tracing::field::Field, value: i64) {
        self.record_u64(field, value.max(0) as u64);
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "step" {
            self.step = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "step" {
            self.step = Some(format!("{value:?}").trim_matches('"').to_owned());
        }
    }
}

impl<S> Layer<S> for ProgressLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _ctx: Context<'_, S>) {
        if attrs.metadata().name() != SPAN {
            return;
        }
        let mut v = Values::default();
        attrs.record(&mut v);
        let name = v.step.unwrap_or_else(|| "working".to_owned());
        let bar = (self.terminal && !self.quiet).then(|| {
            let bar = match v.total {
                Some(total) => ProgressBar::new(total).with_style(
                    ProgressStyle::with_template(
                        "{msg} [{bar:30}] {pos}/{len} ({per_sec}, {eta} left)",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                ),
                None => ProgressBar::new_spinner().with_style(
                    ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                ),
            };
            let bar = BARS.add(bar);
            bar.set_message(name.clone());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        if let Ok(mut steps) = self.steps.lock() {
            steps.insert(
                id.clone(),
                Step {
                    name,
                    total: v.total,
                    done: 0,
                    bytes: 0,
                    started: Instant::now(),
                    bar,
                },
            );
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if event.metadata().target() != TARGET {
            return;
        }
        let Some(span) = ctx.event_span(event) else {
            return;
        };
        let mut v = Values::default();
        event.record(&mut v);
        let Ok(mut steps) = self.steps.lock() else {
            return;
        };
        // The event may come from a span nested in the step.
        let id = span
            .scope()
            .find(|s| steps.contains_key(&s.id()))
            .map(|s| s.id());
        let Some(step) = id.and_then(|id| steps.get_mut(&id)) else {
            return;
        };
        if let Some(total) = v.total {
            step.total = Some(total);
            if let Some(bar) = &step.bar {
                bar.set_length(total);
            }
        }
        if let Some(done) = v.done {
            step.done = done;
            if let Some(bar) = &step.bar {
                bar.set_position(done);
            }
        }
        if let Some(bytes) = v.bytes {
            step.bytes = bytes;
        }
    }

    fn on_close(&self, id: Id, _ctx: Context<'_, S>) {
        let Some(step) = self.steps.lock().ok().and_then(|mut s| s.remove(&id)) else {
            return;
        };
        let elapsed = step.started.elapsed();
        if let Some(bar) = &step.bar {
            bar.finish_and_clear();
            BARS.remove(bar);
        }
        if self.quiet || elapsed < QUIET_BELOW {
            return;
        }
        let count = match step.total {
            // No words: the step's name carries the language (the device's come from its catalogue).
            Some(total) => format!(", {}/{total}", step.done),
            None => String::new(),
        };
        let bytes = match step.bytes {
            0 => String::new(),
            b => format!(", {:.1} MB", b as f64 / 1e6),
        };
        let line = format!(
            "{}: {:.1} s{count}{bytes}\n",
            step.name,
            elapsed.as_secs_f64()
        );
        std::io::Write::write_all(&mut AroundBars, line.as_bytes()).ok();
    }
}
