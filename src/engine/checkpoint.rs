//! State checkpoints during an apply: one writer task per stack coalesces the changes made in memory
//! into backend writes, one at a time, each with the ETag of the write before (`Backend::write`).
//!
//! A change AWS confirmed is in memory at once ([`StackState::change`]) and on the backend with the
//! next write; [`StackState::flush`] waits for it. A long-running create records its request id
//! durably before polling ([`PendingRecorder`]).

use super::{Error, Workspace};
use crate::aws::AwsError;
use crate::plan::Plan;
use crate::provider::{BoxFuture, RecordPending};
use crate::state::{Backend, Pending, State, Stored};
use indexmap::IndexMap;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, watch};

/// One stack's state, written by a single background task that coalesces checkpoints.
pub(super) struct StackState {
    /// The state as this run has made it so far.
    pub(super) state: Mutex<State>,
    /// Bumped by every change to `state`.
    version: Mutex<u64>,
    wake: Notify,
    /// The last version durably written, or the write error.
    written: watch::Sender<Result<u64, String>>,
}

impl StackState {
    pub(super) fn change(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.state.lock().unwrap());
        *self.version.lock().unwrap() += 1;
        self.wake.notify_one();
    }

    /// Waits until everything changed so far is written.
    pub(super) async fn flush(&self) -> Result<(), String> {
        let target = *self.version.lock().unwrap();
        self.wake.notify_one();
        let mut rx = self.written.subscribe();
        loop {
            match &*rx.borrow_and_update() {
                Ok(v) if *v >= target => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(e.clone()),
            }
            if rx.changed().await.is_err() {
                return Err("state writer stopped".into());
            }
        }
    }
}

/// The writer loop of one stack: writes the latest state whenever it changed, one write at a time.
async fn write_loop(stack: Arc<StackState>, backend: Backend, mut etag: Option<String>) {
    let mut written = 0u64;
    loop {
        let version = *stack.version.lock().unwrap();
        if version == written {
            stack.wake.notified().await;
            continue;
        }
        let snapshot = {
            let mut s = stack.state.lock().unwrap();
            s.serial += 1;
            s.clone()
        };
        match backend.write(&snapshot, etag.as_deref()).await {
            Ok(new) => {
                etag = Some(new);
                written = version;
                let _ = stack.written.send_replace(Ok(written));
            }
            Err(e) => {
                let _ = stack.written.send_replace(Err(e.to_string()));
                return;
            }
        }
    }
}

pub(super) struct PendingRecorder {
    pub(super) stack: Arc<StackState>,
    pub(super) address: String,
}

impl RecordPending for PendingRecorder {
    fn record<'a>(&'a self, request_id: &'a str) -> BoxFuture<'a, Result<(), AwsError>> {
        Box::pin(async move {
            self.stack.change(|s| {
                s.pending.retain(|p| p.address != self.address);
                s.pending.push(Pending {
                    address: self.address.clone(),
                    operation: "create".into(),
                    request_id: request_id.to_string(),
                    started: crate::state::now(),
                });
            });
            self.stack
                .flush()
                .await
                .map_err(|e| AwsError::other("record pending request", e))
        })
    }

    fn clear(&self) -> BoxFuture<'_, Result<(), AwsError>> {
        Box::pin(async move {
            self.stack
                .change(|s| s.pending.retain(|p| p.address != self.address));
            self.stack
                .flush()
                .await
                .map_err(|e| AwsError::other("clear pending request", e))
        })
    }
}

/// The states of the stacks an apply writes, each with its writer task.
pub(super) struct Checkpoints {
    pub(super) stacks: IndexMap<String, Arc<StackState>>,
    writers: Vec<tokio::task::JoinHandle<()>>,
}

impl Checkpoints {
    /// Starts a writer for every stack with state; a stack the plan changes that has none gets an
    /// empty state written first, so the lineage tagged on its resources always matches a stored state.
    pub(super) async fn open(
        ws: &Workspace,
        backend: &Backend,
        plan: &Plan,
        stored: &IndexMap<String, Stored>,
    ) -> Result<Checkpoints, Error> {
        let touched: HashSet<&str> = plan
            .resource_changes
            .iter()
            .map(|c| c.stack.as_str())
            .collect();
        let mut out = Checkpoints {
            stacks: IndexMap::new(),
            writers: Vec::new(),
        };
        for stack in ws.stacks() {
            let (state, etag) = match stored.get(&stack) {
                Some(s) => (s.state.clone(), Some(s.etag.clone())),
                None if touched.contains(stack.as_str()) => {
                    let mut state = State::new(&ws.env, &stack);
                    state.serial = 1;
                    let etag = backend.write(&state, None).await?;
                    (state, Some(etag))
                }
                None => continue,
            };
            let (tx, _) = watch::channel(Ok(0));
            let shared = Arc::new(StackState {
                state: Mutex::new(state),
                version: Mutex::new(0),
                wake: Notify::new(),
                written: tx,
            });
            let writer = write_loop(shared.clone(), backend.clone(), etag);
            out.writers.push(tokio::spawn(writer));
            out.stacks.insert(stack, shared);
        }
        Ok(out)
    }

    /// Every address in state with the addresses it depended on.
    pub(super) fn dependencies(&self) -> Vec<(String, Vec<String>)> {
        self.stacks
            .values()
            .flat_map(|s| {
                let state = s.state.lock().unwrap();
                state
                    .resources
                    .iter()
                    .map(|r| (r.address.clone(), r.dependencies.clone()))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Waits until every change is written, then stops the writers.
    pub(super) async fn close(self) -> Result<(), Error> {
        let mut write_error = None;
        for (stack, shared) in &self.stacks {
            if let Err(e) = shared.flush().await {
                write_error = Some(format!("{stack}: {e}"));
            }
        }
        for w in self.writers {
            w.abort();
        }
        match write_error {
            Some(e) => Err(Error::StateNotSaved(e)),
            None => Ok(()),
        }
    }
}
