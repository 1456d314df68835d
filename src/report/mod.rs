//! Reporters: how the events of an apply ([`crate::engine::events`]) reach people and machines.
//!
//! - [`Terminal`]: a live view (indicatif): one line per step in flight with its elapsed time, and a
//!   line per step finished, failed or skipped above them.
//! - [`Plain`]: one line per thing that happened, for CI logs, with a heartbeat line for long steps
//!   (`org.account.prod: still creating [2m10s]`).
//! - [`Json`]: one JSON object per event per line (fields in docs/events.md).
//!
//! [`for_stderr`] picks the terminal view when stderr is a terminal and plain lines otherwise.

mod json;
mod plain;
mod terminal;

pub use json::Json;
pub use plain::Plain;
pub use terminal::Terminal;

use crate::engine::events::{Event, Reporter, StopPoint, Summary};
use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Duration;

/// How people read a value not known until apply (plans, messages); data holds it as
/// [`crate::expr::unknown_json`] or [`crate::expr::Value::Unknown`].
pub const KNOWN_AFTER_APPLY: &str = "(known after apply)";

/// How apply and destroy report progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// For people: the live terminal view on a terminal, plain lines otherwise (on stderr).
    #[default]
    Text,
    /// One JSON object per event per line, on stdout.
    Json,
}

/// How this process reports (chosen from the command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub format: Format,
    /// How often a long step is reported as still running.
    pub heartbeat: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            format: Format::Text,
            heartbeat: HEARTBEAT,
        }
    }
}

/// How often a long step is reported as still running, unless told otherwise.
pub const HEARTBEAT: Duration = Duration::from_secs(30);

/// The settings chosen for this process (by `--format` and `--heartbeat`), read by [`selected`].
static SELECTED: OnceLock<Settings> = OnceLock::new();

/// Chooses how this process reports (the first choice stands).
pub fn select(settings: Settings) {
    let _ = SELECTED.set(settings);
}

/// The settings chosen with [`select`] (the defaults if none were).
pub fn settings() -> Settings {
    SELECTED.get().copied().unwrap_or_default()
}

/// The reporter for the format chosen with [`select`] (text if none was).
pub fn selected() -> Box<dyn Reporter> {
    match settings().format {
        Format::Json => Box::new(Json::new(std::io::stdout())),
        Format::Text => for_stderr(),
    }
}

/// The live view when stderr is a terminal, plain lines otherwise.
pub fn for_stderr() -> Box<dyn Reporter> {
    if std::io::stderr().is_terminal() {
        Box::new(Terminal::stderr())
    } else {
        Box::new(Plain::new(std::io::stderr()))
    }
}

/// The line a person reads for an event, or None for events shown only as live state (a start) or
/// not at all (a step skipped because the apply stopped: the interruption says it).
pub fn line(event: &Event) -> Option<String> {
    Some(match event {
        Event::Moved { from, to } => format!("{to}: moved from {from} (state only)"),
        Event::Started { .. } => return None,
        Event::StillRunning {
            address,
            operation,
            elapsed,
        } => format!(
            "{address}: still {} [{}]",
            operation.doing(),
            clock(*elapsed)
        ),
        Event::Done {
            address,
            operation,
            elapsed,
        } => format!(
            "{address}: {} [{:.1}s]",
            operation.done(),
            elapsed.as_secs_f64()
        ),
        Event::Failed {
            address, message, ..
        } => format!("{address}: failed: {message}"),
        Event::Skipped {
            address,
            because: Some(failed),
            ..
        } => format!("{address}: skipped (depends on {failed})"),
        Event::Skipped { because: None, .. } => return None,
        Event::Interrupted { at, in_flight } => match at {
            StopPoint::Locking => "Interrupted while taking the locks: nothing was changed.".into(),
            StopPoint::BeforeStart => {
                "Interrupted before any change started; releasing the locks.".into()
            }
            StopPoint::Running => format!(
                "\nInterrupted: no new changes start; waiting for {in_flight} in flight (Ctrl-C or SIGTERM again to abandon them)."
            ),
        },
        Event::Abandoned { in_flight } => format!(
            "\nSecond interrupt: abandoning {in_flight} change(s) in flight; their results are unknown to state until the next refresh."
        ),
        Event::Warning { message } => format!("warning: {message}"),
        Event::Finished(summary) => summary_line(summary),
    })
}

/// `3 changes done, 1 failed, 2 skipped in 12.4s` (a replacement is one change).
pub fn summary_line(s: &Summary) -> String {
    let mut text = format!(
        "{} change{} done",
        s.done,
        if s.done == 1 { "" } else { "s" }
    );
    if s.failed > 0 || s.skipped > 0 {
        text.push_str(&format!(", {} failed, {} skipped", s.failed, s.skipped));
    }
    if s.interrupted {
        text.push_str(" (interrupted)");
    }
    format!("{text} in {}", clock(s.elapsed))
}

/// A duration as people read it on a clock: `0.4s`, `12.3s`, `2m10s`, `1h02m`.
pub fn clock(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..60 => format!("{:.1}s", d.as_secs_f64()),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_clock() {
        assert_eq!(clock(Duration::from_millis(400)), "0.4s");
        assert_eq!(clock(Duration::from_secs(130)), "2m10s");
        assert_eq!(clock(Duration::from_secs(3720)), "1h02m");
    }
}
