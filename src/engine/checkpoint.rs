//! State checkpoints during an apply: what a checkpoint writes is what changed.
//!
//! A change AWS confirmed is in memory at once ([`StackState::change`], which notes the address) and
//! on the backend with the next write of the stack's writer task. The first write of a run is the
//! whole document, naming this run's journal; every later one is a [`Batch`] of the addresses changed
//! since (one appended line or one object, see `state::journal`), one write in flight per stack, so
//! changes made meanwhile share the next batch. At the end ([`Checkpoints::close`]) the whole
//! document is written again without the journal, which is then deleted. A run killed at any moment
//! leaves a state that knows every change that reached a batch: readers replay the journal.
//!
//! A long-running create records its request id ([`PendingRecorder`]) without waiting for the write:
//! polling starts at once, the id reaches the backend with the next batch.

use super::{Error, Workspace};
use crate::aws::AwsError;
use crate::plan::Plan;
use crate::provider::{BoxFuture, RecordPending};
use crate::state::{Backend, Batch, Pending, State, StateError, Stored};
use indexmap::{IndexMap, IndexSet};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, watch};

/// One stack's state during an apply, written by a single background task that coalesces checkpoints.
pub(super) struct StackState {
    /// The state as this run has made it so far (ahead of the backend by the changes in flight).
    pub(super) state: Mutex<State>,
    /// What changed since the writer last took it.
    dirty: Mutex<Dirty>,
    wake: Notify,
    /// The last version durably written, or the write error.
    written: watch::Sender<Result<u64, String>>,
}

#[derive(Default)]
struct Dirty {
    /// Bumped by every change.
    version: u64,
    /// The addresses changed since the last write was taken.
    addresses: IndexSet<String>,
    outputs: bool,
    /// The run is over: write the whole document without a journal, then stop.
    finish: bool,
}

impl StackState {
    /// Changes what state holds at `address`; the change reaches the backend with the next write.
    pub(super) fn change(&self, address: &str, f: impl FnOnce(&mut State)) {
        f(&mut self.state.lock().unwrap());
        self.mark(|d| {
            d.addresses.insert(address.to_string());
        });
    }

    pub(super) fn set_outputs(&self, outputs: serde_json::Map<String, serde_json::Value>) {
        self.state.lock().unwrap().outputs = outputs;
        self.mark(|d| d.outputs = true);
    }

    /// Notes a change for the writer; returns the version it makes.
    fn mark(&self, f: impl FnOnce(&mut Dirty)) -> u64 {
        let version = {
            let mut dirty = self.dirty.lock().unwrap();
            f(&mut dirty);
            dirty.version += 1;
            dirty.version
        };
        self.wake.notify_one();
        version
    }

    /// Waits until version `target` is written.
    async fn wait(&self, target: u64) -> Result<(), String> {
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

/// What one write takes from a [`StackState`].
enum Write {
    /// The whole document ([`State::to_json`]), naming the run's journal or (compacted) none, and
    /// whether it names one.
    Whole {
        text: String,
        journaled: bool,
    },
    Batch(Batch),
}

/// The background task writing one stack's checkpoints.
struct Writer {
    backend: Backend,
    env: String,
    stack: String,
    /// The version of the document as last written whole (None: never written).
    etag: Option<String>,
    /// This run's journal id.
    journal: String,
    /// Whether the stored document names this run's journal (batches may be appended to it).
    journaled: bool,
    /// A dead run's journal that the state includes: deleted once the document no longer names it.
    replayed: Option<String>,
}

impl Writer {
    async fn run(mut self, stack: Arc<StackState>) {
        let mut written = 0u64;
        loop {
            let (version, addresses, outputs, finish) = {
                let mut d = stack.dirty.lock().unwrap();
                let taken = (
                    std::mem::take(&mut d.addresses),
                    std::mem::take(&mut d.outputs),
                );
                (d.version, taken.0, taken.1, d.finish)
            };
            if version == written {
                stack.wake.notified().await;
                continue;
            }
            // Nothing written by this run and nothing to write: the stored document stays as it is.
            let idle = !self.journaled && self.replayed.is_none();
            if finish && idle && addresses.is_empty() && !outputs {
                let _ = stack.written.send_replace(Ok(version));
                return;
            }
            let write = self.take(&stack, finish, &addresses, outputs);
            if let Err(e) = self.write(write).await {
                let _ = stack.written.send_replace(Err(e.to_string()));
                return;
            }
            written = version;
            let _ = stack.written.send_replace(Ok(written));
            if finish {
                return;
            }
        }
    }

    /// The next write: the whole document first and last, a batch of what changed in between.
    fn take(
        &self,
        stack: &StackState,
        finish: bool,
        addresses: &IndexSet<String>,
        outputs: bool,
    ) -> Write {
        let mut s = stack.state.lock().unwrap();
        s.serial += 1;
        if finish || !self.journaled {
            // Serialized here, under the lock, rather than copied (at 26,000 resources a copy of
            // the state is 100 MB).
            let journal = (!finish).then(|| self.journal.clone());
            let journaled = journal.is_some();
            let own = std::mem::replace(&mut s.journal, journal);
            let text = s.to_json();
            s.journal = own;
            return Write::Whole { text, journaled };
        }
        Write::Batch(Batch {
            serial: s.serial,
            entries: addresses.iter().map(|a| s.entry(a)).collect(),
            outputs: outputs.then(|| s.outputs.clone()),
        })
    }

    async fn write(&mut self, write: Write) -> Result<(), StateError> {
        let (text, journaled) = match write {
            Write::Batch(batch) => {
                let (env, stack, id) = (&self.env, &self.stack, &self.journal);
                self.backend.append_journal(env, stack, id, &batch).await?;
                return Ok(());
            }
            Write::Whole { text, journaled } => (text, journaled),
        };
        let (env, stack, etag) = (&self.env, &self.stack, self.etag.as_deref());
        self.etag = Some(self.backend.write_text(env, stack, text, etag).await?);
        let was_journaled = std::mem::replace(&mut self.journaled, journaled);
        // Journals the document no longer names: garbage, whose deletion may fail harmlessly.
        let mut gone: Vec<String> = self.replayed.take().into_iter().collect();
        if was_journaled && !self.journaled {
            gone.push(self.journal.clone());
        }
        for id in gone {
            let (env, stack) = (&self.env, &self.stack);
            self.backend.discard_journal(env, stack, &id).await;
        }
        Ok(())
    }
}

pub(super) struct PendingRecorder {
    pub(super) stack: Arc<StackState>,
    pub(super) address: String,
}

impl RecordPending for PendingRecorder {
    fn record<'a>(&'a self, request_id: &'a str) -> BoxFuture<'a, Result<(), AwsError>> {
        Box::pin(async move {
            self.stack.change(&self.address, |s| {
                s.pending.retain(|p| p.address != self.address);
                s.pending.push(Pending {
                    address: self.address.clone(),
                    operation: "create".into(),
                    request_id: request_id.to_string(),
                    started: crate::state::now(),
                });
            });
            Ok(())
        })
    }

    fn clear(&self) -> BoxFuture<'_, Result<(), AwsError>> {
        Box::pin(async move {
            self.stack.change(&self.address, |s| {
                s.pending.retain(|p| p.address != self.address)
            });
            Ok(())
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
            let (state, etag, replayed) = match stored.get(&stack) {
                Some(s) => (s.state.clone(), Some(s.etag.clone()), s.journal.clone()),
                None if touched.contains(stack.as_str()) => {
                    let mut state = State::new(&ws.env, &stack);
                    state.serial = 1;
                    let etag = backend.write(&state, None).await?;
                    (state, Some(etag), None)
                }
                None => continue,
            };
            let (tx, _) = watch::channel(Ok(0));
            let shared = Arc::new(StackState {
                state: Mutex::new(state),
                // A dead run's journal is compacted away by a first write, whatever this run does.
                dirty: Mutex::new(Dirty {
                    version: u64::from(replayed.is_some()),
                    ..Dirty::default()
                }),
                wake: Notify::new(),
                written: tx,
            });
            let writer = Writer {
                backend: backend.clone(),
                env: ws.env.clone(),
                stack: stack.clone(),
                etag,
                journal: crate::state::new_lineage(),
                journaled: false,
                replayed,
            };
            out.writers.push(tokio::spawn(writer.run(shared.clone())));
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

    /// Ends the run: every stack's document is written whole, without the journal (deleted), once
    /// every change is written; then the writers stop.
    pub(super) async fn close(self) -> Result<(), Error> {
        let targets: Vec<u64> = self
            .stacks
            .values()
            .map(|s| s.mark(|d| d.finish = true))
            .collect();
        let mut write_error = None;
        for ((stack, shared), target) in self.stacks.iter().zip(targets) {
            if let Err(e) = shared.wait(target).await {
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
