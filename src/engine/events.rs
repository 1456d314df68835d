//! What an apply tells the world while it runs: a typed event per thing that happens, rendered by the
//! reporters of [`crate::report`] (live terminal view, plain CI lines, JSON lines).
//!
//! The JSON form of each event is stable (see docs/events.md): `event` names the variant, durations
//! are whole milliseconds in `elapsed_ms`.

use super::schedule::Step;
use crate::plan::Action;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What a step does to its resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    Create,
    Update,
    Import,
    /// The new object of a replacement.
    CreateReplacement,
    /// The old object of a replacement.
    DeleteReplaced,
    Delete,
    /// Removed from state, left in AWS.
    Forget,
}

impl Operation {
    /// What a step of a change with `action` does.
    pub fn of(step: Step, action: Action) -> Operation {
        match (step, action) {
            (Step::Delete(_), Action::Forget) => Operation::Forget,
            (Step::Delete(_), Action::Replace) => Operation::DeleteReplaced,
            (Step::Delete(_), _) => Operation::Delete,
            (Step::Apply(_), Action::Update) => Operation::Update,
            (Step::Apply(_), Action::Import) => Operation::Import,
            (Step::Apply(_), Action::Replace) => Operation::CreateReplacement,
            (Step::Apply(_), _) => Operation::Create,
        }
    }

    /// How a finished step reads: `vpc.main: created`.
    pub fn done(self) -> &'static str {
        match self {
            Operation::Forget => "forgotten (left in AWS)",
            Operation::DeleteReplaced => "old one deleted",
            Operation::Delete => "deleted",
            Operation::Update => "updated",
            Operation::Import => "imported",
            Operation::CreateReplacement => "created (replacement)",
            Operation::Create => "created",
        }
    }

    /// How a running step reads: `still creating`.
    pub fn doing(self) -> &'static str {
        match self {
            Operation::Forget => "forgetting",
            Operation::DeleteReplaced => "deleting the old one",
            Operation::Delete => "deleting",
            Operation::Update => "updating",
            Operation::Import => "importing",
            Operation::CreateReplacement => "creating the replacement",
            Operation::Create => "creating",
        }
    }
}

/// When a stop request (SIGINT/SIGTERM) was acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopPoint {
    /// While the locks were being taken: nothing changed.
    Locking,
    /// After the locks, before the first change started.
    BeforeStart,
    /// With changes in flight: they finish, nothing new starts.
    Running,
}

/// One thing that happened during an apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A `[[moved]]` entry was recorded in state (before any change).
    Moved { from: String, to: String },
    /// A step started.
    Started {
        address: String,
        operation: Operation,
    },
    /// A step is still running (a heartbeat, every interval).
    StillRunning {
        address: String,
        operation: Operation,
        #[serde(rename = "elapsed_ms", with = "millis")]
        elapsed: Duration,
    },
    Done {
        address: String,
        operation: Operation,
        #[serde(rename = "elapsed_ms", with = "millis")]
        elapsed: Duration,
    },
    Failed {
        address: String,
        operation: Operation,
        #[serde(rename = "elapsed_ms", with = "millis")]
        elapsed: Duration,
        message: String,
    },
    /// A step that will not run: what it waits for failed (`because` names it), or the apply stopped
    /// (`because` is None).
    Skipped {
        address: String,
        operation: Operation,
        because: Option<String>,
    },
    /// A stop request was acted on: nothing new starts; `in_flight` steps are let finish.
    Interrupted { at: StopPoint, in_flight: usize },
    /// A second stop request: the steps in flight are abandoned.
    Abandoned { in_flight: usize },
    /// Something worth knowing that changes nothing (a lock that could not be released).
    Warning { message: String },
    /// The end of the run.
    Finished(Summary),
}

/// How a run went, counted in changes (a replacement is one change, however many steps it took).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Changes with every step done.
    pub done: usize,
    /// Changes with a failed step.
    pub failed: usize,
    /// Changes not (fully) made, with no failed step of their own.
    pub skipped: usize,
    pub interrupted: bool,
    #[serde(rename = "elapsed_ms", with = "millis")]
    pub elapsed: Duration,
}

/// Durations as whole milliseconds.
mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

/// Where events go.
pub trait Reporter: Send {
    fn event(&mut self, event: &Event);
}

/// Keeps every event (for tests and for callers that render afterwards).
#[derive(Debug, Default, Clone)]
pub struct Recorder(pub Vec<Event>);

impl Reporter for Recorder {
    fn event(&mut self, event: &Event) {
        self.0.push(event.clone());
    }
}

/// Sends every event to two reporters.
pub struct Tee<'a>(pub &'a mut dyn Reporter, pub &'a mut dyn Reporter);

impl Reporter for Tee<'_> {
    fn event(&mut self, event: &Event) {
        self.0.event(event);
        self.1.event(event);
    }
}
