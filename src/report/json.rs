//! JSON lines: one object per event, for machines.

use crate::engine::events::{Event, Reporter};
use std::io::Write;

/// Writes every event as one line of JSON.
pub struct Json<W: Write + Send> {
    out: W,
}

impl<W: Write + Send> Json<W> {
    pub fn new(out: W) -> Json<W> {
        Json { out }
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write + Send> Reporter for Json<W> {
    fn event(&mut self, event: &Event) {
        if let Ok(line) = serde_json::to_string(event) {
            let _ = writeln!(self.out, "{line}");
            let _ = self.out.flush();
        }
    }
}
