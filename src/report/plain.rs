//! Plain lines, for logs that are not a terminal (CI).

use crate::engine::events::{Event, Reporter};
use std::io::Write;

/// Writes [`super::line`] of every event that has one.
pub struct Plain<W: Write + Send> {
    out: W,
}

impl<W: Write + Send> Plain<W> {
    pub fn new(out: W) -> Plain<W> {
        Plain { out }
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write + Send> Reporter for Plain<W> {
    fn event(&mut self, event: &Event) {
        if let Some(line) = super::line(event) {
            // A log that cannot be written to is no reason to stop changing AWS.
            let _ = writeln!(self.out, "{line}");
            let _ = self.out.flush();
        }
    }
}
