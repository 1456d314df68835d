//! The live terminal view: a spinner per step in flight (what it does, for how long), and a line per
//! step finished above them.

use crate::engine::events::{Event, Reporter};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::time::Duration;

/// Renders events with indicatif.
pub struct Terminal {
    multi: MultiProgress,
    /// The spinner of each step in flight, by address and operation.
    running: HashMap<(String, &'static str), ProgressBar>,
    /// Whether spinners tick by themselves (a live terminal) or only when an event comes (a test).
    steady: bool,
}

impl Terminal {
    /// The view on stderr, spinners ticking.
    pub fn stderr() -> Terminal {
        Terminal::new(ProgressDrawTarget::stderr(), true)
    }

    /// The view drawn on `target` (a test draws into a buffer with `ProgressDrawTarget::term_like`).
    pub fn new(target: ProgressDrawTarget, steady: bool) -> Terminal {
        Terminal {
            multi: MultiProgress::with_draw_target(target),
            running: HashMap::new(),
            steady,
        }
    }

    fn spinner(&mut self, address: &str, doing: &'static str) {
        let bar = self.multi.add(ProgressBar::new_spinner());
        let style = ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.set_message(format!("{address}: {doing}"));
        if self.steady {
            bar.enable_steady_tick(Duration::from_millis(120));
        } else {
            bar.tick();
        }
        self.running.insert((address.to_string(), doing), bar);
    }

    fn finish(&mut self, address: &str, doing: &'static str) {
        if let Some(bar) = self.running.remove(&(address.to_string(), doing)) {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
    }
}

impl Reporter for Terminal {
    fn event(&mut self, event: &Event) {
        match event {
            Event::Started { address, operation } => self.spinner(address, operation.doing()),
            Event::Done {
                address, operation, ..
            }
            | Event::Failed {
                address, operation, ..
            } => self.finish(address, operation.doing()),
            // The spinner shows the elapsed time already.
            Event::StillRunning { .. } => return,
            _ => {}
        }
        if let Some(line) = super::line(event) {
            let _ = self.multi.println(line);
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        for (_, bar) in self.running.drain() {
            bar.finish_and_clear();
        }
        let _ = self.multi.clear();
    }
}
