//! The executor: performs a plan's changes in dependency order with bounded concurrency, checkpointing
//! state as each change completes.
//!
//! - Every stack of the plan is locked first (and always unlocked at the end, on error, SIGINT and
//!   SIGTERM).
//! - The plan is refused as stale if any stack's state or the configuration moved since it was made.
//! - A stack without state gets an empty one written before anything is created, so the lineage on the
//!   resources' tags always matches a stored state (that is what lets refresh adopt them).
//! - Creates and updates wait for the changes of what they depend on; deletes wait for the deletes (and
//!   updates) of what depended on them; a replacement deletes, then creates.
//! - A failed change skips everything that depends on it; independent branches go on.
//! - State writes are coalesced per stack, one in flight at a time; a change AWS confirmed is in memory
//!   at once and on the backend with the next write.
//! - First stop request (Ctrl-C/SIGINT or SIGTERM, from the first lock on): stop scheduling, let
//!   in-flight changes finish, save state, unlock. Second: abandon them.

use super::signal::Interrupts;
use super::{Error, Workspace, read_states};
use crate::aws::{Aws, AwsError};
use crate::expr::Value;
use crate::plan::{Action, Change, Plan, account_of, desired_json};
use crate::provider::{self, Attrs, BoxFuture, Cx, Location, RecordPending};
use crate::resolve::{Known, Resolved};
use crate::schema::{self, Scope};
use crate::state::{Backend, LockInfo, Pending, ResourceState, State};
use indexmap::IndexMap;
use std::collections::{HashMap, HashSet};
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{Notify, watch};

#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub parallelism: usize,
    pub operation: String,
}

/// How an apply went.
#[derive(Debug, Default)]
pub struct ApplyReport {
    pub done: usize,
    pub failed: Vec<(String, String)>,
    pub skipped: Vec<String>,
    pub interrupted: bool,
}

/// One stack's state, written by a single background task that coalesces checkpoints.
struct StackState {
    state: Mutex<State>,
    /// Bumped by every change to `state`.
    version: Mutex<u64>,
    wake: Notify,
    /// The last version durably written, or the write error.
    written: watch::Sender<Result<u64, String>>,
}

impl StackState {
    fn change(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.state.lock().unwrap());
        *self.version.lock().unwrap() += 1;
        self.wake.notify_one();
    }

    /// Waits until everything changed so far is written.
    async fn flush(&self) -> Result<(), String> {
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

struct PendingRecorder {
    stack: Arc<StackState>,
    address: String,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Step {
    /// Delete (or forget) the resource of change `usize`.
    Delete(usize),
    /// Create, update or import the resource of change `usize`.
    Apply(usize),
}

/// Builds the step graph: for each step, the steps it waits for.
fn steps(
    plan: &Plan,
    resolved: &Resolved,
    states: &IndexMap<String, Arc<StackState>>,
) -> IndexMap<Step, Vec<Step>> {
    let changes = &plan.resource_changes;
    // The first change of an address (a deposed copy's delete may follow it under the same address).
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, c) in changes.iter().enumerate() {
        index.entry(c.address.as_str()).or_insert(i);
    }
    let mut graph: IndexMap<Step, Vec<Step>> = IndexMap::new();
    let cbd = create_before_destroy(plan, resolved);
    for (i, c) in changes.iter().enumerate() {
        match c.action {
            Action::Create | Action::Update | Action::Import => {
                graph.insert(Step::Apply(i), Vec::new());
            }
            Action::Replace if cbd.contains(&i) => {
                graph.insert(Step::Apply(i), Vec::new());
                graph.insert(Step::Delete(i), vec![Step::Apply(i)]);
            }
            Action::Replace => {
                graph.insert(Step::Delete(i), Vec::new());
                graph.insert(Step::Apply(i), vec![Step::Delete(i)]);
            }
            Action::Delete | Action::Forget => {
                graph.insert(Step::Delete(i), Vec::new());
            }
        }
    }
    // Creates and updates wait for the changes of what they depend on (through unchanged resources too).
    let by_address: HashMap<&str, usize> = resolved
        .instances
        .iter()
        .enumerate()
        .map(|(i, inst)| (inst.address.as_str(), i))
        .collect();
    for (i, c) in changes.iter().enumerate() {
        if !graph.contains_key(&Step::Apply(i)) {
            continue;
        }
        let Some(&inst) = by_address.get(c.address.as_str()) else {
            continue;
        };
        let mut seen = HashSet::new();
        let mut todo: Vec<usize> = resolved.instances[inst]
            .deps
            .iter()
            .map(|d| d.0 as usize)
            .collect();
        while let Some(d) = todo.pop() {
            if !seen.insert(d) {
                continue;
            }
            let dep = &resolved.instances[d];
            match index.get(dep.address.as_str()) {
                Some(&j) if graph.contains_key(&Step::Apply(j)) => {
                    graph[&Step::Apply(i)].push(Step::Apply(j));
                }
                _ => todo.extend(dep.deps.iter().map(|x| x.0 as usize)),
            }
        }
        // Stack-level depends_on: wait for every create and update of the stacks this one follows.
        for (s, after) in &resolved.stack_deps {
            if *s == c.stack {
                for (j, other) in changes.iter().enumerate() {
                    if other.stack == *after && graph.contains_key(&Step::Apply(j)) {
                        graph[&Step::Apply(i)].push(Step::Apply(j));
                    }
                }
            }
        }
    }
    // Deletes wait for whatever depended on the resource to be deleted or changed first.
    let dependents: HashMap<String, Vec<String>> = {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for stack in states.values() {
            for r in &stack.state.lock().unwrap().resources {
                for d in &r.dependencies {
                    map.entry(d.clone()).or_default().push(r.address.clone());
                }
            }
        }
        map
    };
    for (i, c) in changes.iter().enumerate() {
        if !graph.contains_key(&Step::Delete(i)) {
            continue;
        }
        for dependent in dependents.get(&c.address).into_iter().flatten() {
            if let Some(&j) = index.get(dependent.as_str()) {
                for step in [Step::Delete(j), Step::Apply(j)] {
                    if step != Step::Apply(i)
                        && graph.contains_key(&step)
                        && step != Step::Delete(i)
                    {
                        graph[&Step::Delete(i)].push(step);
                    }
                }
            }
        }
    }
    // A resource replaced delete-first: its dependents that are updated (not replaced) cannot wait for
    // the delete (they need the new resource, which needs the delete): they only wait for the new one.
    for (i, c) in changes.iter().enumerate() {
        if c.action == Action::Replace && !cbd.contains(&i) {
            let deps = graph[&Step::Delete(i)].clone();
            graph[&Step::Delete(i)] = deps
                .into_iter()
                .filter(|s| match s {
                    Step::Apply(j) => !waits_for(&graph, *j, i),
                    Step::Delete(_) => true,
                })
                .collect();
        }
    }
    graph
}

/// The replacements that create the new resource before deleting the old one: those of kinds that
/// allow it ([`schema::Kind::create_before_destroy`]) when nothing they depend on is replaced
/// delete-first (its delete would wait for theirs, and their create for its create: a cycle).
/// Dependencies replaced create-before-destroy themselves are fine, so this is a fixpoint.
fn create_before_destroy(plan: &Plan, resolved: &Resolved) -> HashSet<usize> {
    let replaced: HashMap<&str, usize> = plan
        .resource_changes
        .iter()
        .enumerate()
        .filter(|(_, c)| c.action == Action::Replace)
        .map(|(i, c)| (c.address.as_str(), i))
        .collect();
    let deps: HashMap<&str, Vec<&str>> = resolved
        .instances
        .iter()
        .filter(|inst| replaced.contains_key(inst.address.as_str()))
        .map(|inst| {
            let names = inst
                .deps
                .iter()
                .map(|d| resolved.instances[d.0 as usize].address.as_str())
                .collect();
            (inst.address.as_str(), names)
        })
        .collect();
    let mut cbd: HashSet<&str> = replaced
        .iter()
        .filter(|(_, i)| {
            schema::kind(&plan.resource_changes[**i].kind).is_some_and(|k| k.create_before_destroy)
        })
        .map(|(a, _)| *a)
        .collect();
    loop {
        let delete_first = |a: &str| replaced.contains_key(a) && !cbd.contains(a);
        let blocked: Vec<&str> = cbd
            .iter()
            .filter(|a| {
                deps.get(**a)
                    .is_none_or(|ds| ds.iter().any(|d| delete_first(d)))
            })
            .copied()
            .collect();
        if blocked.is_empty() {
            break;
        }
        for a in blocked {
            cbd.remove(a);
        }
    }
    cbd.iter().map(|a| replaced[a]).collect()
}

/// Whether `Apply(j)` (transitively) waits for `Apply(i)`.
fn waits_for(graph: &IndexMap<Step, Vec<Step>>, j: usize, i: usize) -> bool {
    let mut seen = HashSet::new();
    let mut todo = vec![Step::Apply(j)];
    while let Some(s) = todo.pop() {
        if s == Step::Apply(i) {
            return true;
        }
        if seen.insert(s) {
            todo.extend(graph.get(&s).into_iter().flatten().copied());
        }
    }
    false
}

/// What a step task needs, detached from the scheduler.
struct Job {
    step: Step,
    change: Change,
    loc: Location,
    desired: Attrs,
    deps: Vec<String>,
    lineage: String,
    pending: Option<String>,
    moves: Vec<crate::resolve::Move>,
}

enum Outcome {
    /// The resource as now stored (None: removed from state).
    Done(Option<ResourceState>),
    Failed(String),
}

async fn run_job(job: Job, aws: Arc<Aws>, stack: Arc<StackState>) -> Outcome {
    let recorder = PendingRecorder {
        stack: stack.clone(),
        address: job.change.address.clone(),
    };
    let cx = Cx {
        aws: &aws,
        loc: &job.loc,
        lineage: &job.lineage,
        pending: job.pending.as_deref(),
        record_pending: &recorder,
        cache: None,
        moves: &job.moves,
    };
    let c = &job.change;
    let kind = c.kind.as_str();
    let empty = Attrs::new();
    let before = c
        .before
        .as_ref()
        .and_then(|b| b.as_object())
        .unwrap_or(&empty);
    let stored = |live: provider::Live| {
        let mut attributes = job.desired.clone();
        for (k, v) in live.attrs {
            attributes.insert(k, v);
        }
        ResourceState {
            address: c.address.clone(),
            kind: c.kind.clone(),
            id: live.id,
            account: job.loc.account.clone(),
            region: schema::kind(kind)
                .is_some_and(|k| k.scope == Scope::Regional)
                .then(|| job.loc.region.clone()),
            attributes,
            dependencies: job.deps.clone(),
        }
    };
    let result = match (job.step, c.action) {
        (Step::Delete(_), Action::Forget) => Ok(None),
        (Step::Delete(_), _) => {
            let id = c.id.clone().unwrap_or_default();
            provider::delete(kind, &cx, &id, before)
                .await
                .map(|()| None)
        }
        (Step::Apply(_), Action::Import) => Ok(Some(stored(provider::Live {
            id: c.id.clone().unwrap_or_default(),
            attrs: before.clone(),
            address: None,
            lineage: None,
        }))),
        (Step::Apply(_), Action::Update) => {
            let id = c.id.clone().unwrap_or_default();
            provider::update(kind, &cx, &id, before, &job.desired)
                .await
                .map(|l| Some(stored(l)))
        }
        (Step::Apply(_), _) => provider::create(kind, &cx, &c.address, &job.desired)
            .await
            .map(|l| Some(stored(l))),
    };
    match result {
        Ok(r) => {
            stack.change(|s| {
                let old_id = c.id.as_deref().unwrap_or_default();
                match &r {
                    // The old object of a create-before-destroy replacement stays, deposed, until its delete.
                    Some(res) if c.action == Action::Replace => {
                        s.replace_object(old_id, res.clone())
                    }
                    Some(res) => s.put(res.clone()),
                    // Only the object this change was about: the replacement under the same address stays.
                    None => s.remove_object(&c.address, old_id),
                }
                s.pending.retain(|p| p.address != c.address);
            });
            Outcome::Done(r)
        }
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

fn verb(step: Step, action: Action) -> &'static str {
    match (step, action) {
        (Step::Delete(_), Action::Forget) => "forgotten (left in AWS)",
        (Step::Delete(_), Action::Replace) => "old one deleted",
        (Step::Delete(_), _) => "deleted",
        (Step::Apply(_), Action::Update) => "updated",
        (Step::Apply(_), Action::Import) => "imported",
        (Step::Apply(_), Action::Replace) => "created (replacement)",
        (Step::Apply(_), _) => "created",
    }
}

/// Records the configuration's `[[moved]]` entries in state (every stack they change, dependencies
/// rewritten) before any other step, derived again from the configuration and the state just verified
/// (a plan file's `moved` list is not trusted). Returns whether anything moved.
async fn record_moves(
    ws: &Workspace,
    backend: &Backend,
    stored: &mut IndexMap<String, crate::state::Stored>,
) -> Result<bool, Error> {
    let before: HashMap<String, State> = stored
        .iter()
        .map(|(k, v)| (k.clone(), v.state.clone()))
        .collect();
    let moved = super::apply_moves(&ws.moves(), stored)?;
    for (stack, s) in stored.iter_mut() {
        if before.get(stack) != Some(&s.state) {
            s.state.serial += 1;
            s.etag = backend.write(&s.state, Some(&s.etag)).await?;
        }
    }
    for m in &moved {
        eprintln!("{}: moved from {} (state only)", m.to, m.from);
    }
    Ok(!moved.is_empty())
}

/// Whether the object a change is about is the one state holds under its address (not an orphan copy
/// or a deposed old object beside it).
fn holds(stored: &IndexMap<String, crate::state::Stored>, c: &Change) -> bool {
    stored.values().any(|s| {
        s.state
            .resources
            .iter()
            .any(|r| r.address == c.address && Some(&r.id) == c.id.as_ref())
    })
}

/// Every resource a change replaces or creates gets new values: unknown to its dependents until its
/// step is done. They must be forgotten before resolving, or dependents would be handed the old ids.
/// The delete of an object state does not hold under that address (an orphan copy, or the deposed
/// old object of an interrupted create-before-destroy replacement) leaves the values of its address alone.
fn forget_renewed(known: &mut Known, plan: &Plan, stored: &IndexMap<String, crate::state::Stored>) {
    for c in &plan.resource_changes {
        let renewed = match c.action {
            Action::Create | Action::Replace => true,
            Action::Delete => holds(stored, c),
            _ => false,
        };
        if renewed {
            known.attrs.remove(&c.address);
        }
    }
}

/// Applies a plan. Takes the locks, checks staleness, runs, saves, unlocks.
pub async fn apply(
    ws: &Workspace,
    aws: &Arc<Aws>,
    backend: &Backend,
    plan: &Plan,
    options: &ApplyOptions,
) -> Result<ApplyReport, Error> {
    if plan.environment != ws.env {
        return Err(Error::Stale(format!(
            "it was made for environment `{}`, not `{}`",
            plan.environment, ws.env
        )));
    }
    let who = aws
        .caller()
        .await
        .map(|c| c.arn.clone())
        .unwrap_or_else(|_| std::env::var("USER").unwrap_or_else(|_| "unknown".into()));
    let lock = LockInfo::new(&who, &options.operation);
    let stacks: Vec<String> = plan.stacks.keys().cloned().collect();
    // From before the first lock until the last is released, SIGINT and SIGTERM are stop requests,
    // never the end of the process: whenever one comes, the locks are released below.
    let interrupts = Interrupts::listen().map_err(Error::Signals)?;
    let mut locked = Vec::new();
    let mut result = Ok(ApplyReport::default());
    for stack in &stacks {
        if interrupts.pending() {
            eprintln!("Interrupted while taking the locks: nothing was changed.");
            result = Ok(ApplyReport {
                interrupted: true,
                ..ApplyReport::default()
            });
            break;
        }
        match backend.lock(&ws.env, stack, &lock, &ws.stacks()).await {
            Ok(()) => locked.push(stack.clone()),
            Err(e) => {
                result = Err(e.into());
                break;
            }
        }
    }
    if matches!(&result, Ok(r) if !r.interrupted) {
        result = run(ws, aws, backend, plan, options, &interrupts).await;
    }
    for stack in &locked {
        if let Err(e) = backend.unlock(&ws.env, stack, &lock.id).await {
            eprintln!("warning: could not release the lock of {stack}: {e}");
        }
    }
    result
}

async fn run(
    ws: &Workspace,
    aws: &Arc<Aws>,
    backend: &Backend,
    plan: &Plan,
    options: &ApplyOptions,
    interrupts: &Interrupts,
) -> Result<ApplyReport, Error> {
    let mut stored = read_states(ws, backend).await?;
    // Also for a plan made by this same command: someone may have applied between the plan and the lock.
    for (stack, basis) in &plan.stacks {
        let now = stored
            .get(stack)
            .map(|s| (s.state.lineage.clone(), s.state.serial));
        let then = basis.lineage.clone().zip(basis.serial);
        if now != then {
            let describe = |b: &Option<(String, u64)>| match b {
                Some((l, s)) => format!("lineage {}…, serial {s}", &l[..l.len().min(8)]),
                None => "no state".into(),
            };
            return Err(Error::Stale(format!(
                "the state of stack `{stack}` changed since the plan was made ({} then, {} now)",
                describe(&then),
                describe(&now)
            )));
        }
    }
    let mut known = super::known_values(ws, backend, &stored).await?;
    forget_renewed(&mut known, plan, &stored);
    let (sources, mut resolved) = ws.resolve(&known)?;
    if sources.digest() != plan.config_digest {
        // Changes made by the plan itself (new ids) do not alter the files read, so the digest of a
        // resolution with state values equals the plan's unless the files changed.
        return Err(Error::Stale(
            "the configuration changed since the plan was made".into(),
        ));
    }
    if record_moves(ws, backend, &mut stored).await? {
        known = super::known_values(ws, backend, &stored).await?;
        forget_renewed(&mut known, plan, &stored);
        resolved = ws.resolve(&known)?.1;
    }

    // The state of every stack, with a writer each. Stacks without state get one first.
    let mut states: IndexMap<String, Arc<StackState>> = IndexMap::new();
    let mut writers = Vec::new();
    let touched: HashSet<&str> = plan
        .resource_changes
        .iter()
        .map(|c| c.stack.as_str())
        .collect();
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
        writers.push(tokio::spawn(write_loop(
            shared.clone(),
            backend.clone(),
            etag,
        )));
        states.insert(stack, shared);
    }

    let graph = steps(plan, &resolved, &states);
    // Deletes of objects beside the one state holds at their address (deposed, orphan copies).
    let beside: HashSet<String> = plan
        .resource_changes
        .iter()
        .filter(|c| c.action == Action::Delete && !holds(&stored, c))
        .map(|c| c.address.clone())
        .collect();
    let mut waiting: HashMap<Step, usize> = graph.iter().map(|(s, d)| (*s, d.len())).collect();
    let mut dependents: HashMap<Step, Vec<Step>> = HashMap::new();
    for (s, deps) in &graph {
        for d in deps {
            dependents.entry(*d).or_default().push(*s);
        }
    }
    let mut ready: Vec<Step> = graph
        .keys()
        .filter(|s| waiting[s] == 0)
        .copied()
        .rev()
        .collect();
    let total = graph.len();
    let mut report = ApplyReport::default();
    let mut running = tokio::task::JoinSet::new();
    let mut in_flight: HashMap<tokio::task::Id, (Step, Instant)> = HashMap::new();
    let mut stale_resolution = false;
    let mut stopping = false;
    let tty = std::io::stderr().is_terminal();
    let parallelism = options.parallelism.max(1);
    let mut ctrl_c = Box::pin(interrupts.next());
    if interrupts.pending() {
        // Stopped while the locks were taken or state read: not one change starts.
        stopping = true;
        report.interrupted = true;
        eprintln!("Interrupted before any change started; releasing the locks.");
    }

    loop {
        while !stopping && running.len() < parallelism {
            let Some(step) = ready.pop() else { break };
            let (Step::Delete(i) | Step::Apply(i)) = step;
            let c = &plan.resource_changes[i];
            let stack = states[&c.stack].clone();
            let job = match prepare(
                step,
                c,
                &mut resolved,
                &mut stale_resolution,
                ws,
                &known,
                &stack,
            ) {
                Ok(job) => job,
                Err(message) => {
                    fail(
                        step,
                        c,
                        message,
                        &mut report,
                        &dependents,
                        &mut waiting,
                        &plan.resource_changes,
                    );
                    continue;
                }
            };
            let handle = running.spawn(run_job(job, aws.clone(), stack));
            in_flight.insert(handle.id(), (step, Instant::now()));
            if tty {
                progress(&report, total, running.len());
            }
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            joined = running.join_next_with_id() => {
                let Some(joined) = joined else { continue };
                let (id, outcome) = match joined {
                    Ok((id, outcome)) => (id, outcome),
                    Err(e) => (e.id(), Outcome::Failed(format!("task failed: {e}"))),
                };
                let Some((step, started)) = in_flight.remove(&id) else { continue };
                let c = match step { Step::Delete(i) | Step::Apply(i) => &plan.resource_changes[i] };
                match outcome {
                    Outcome::Done(stored) => {
                        report.done += 1;
                        match stored {
                            Some(r) => { known.attrs.insert(r.address.clone(), r.attributes.clone()); }
                            // The old object of a replacement, a deposed object or an orphan copy went;
                            // the values of the object at that address stay known.
                            None if c.action == Action::Replace || beside.contains(&c.address) => {}
                            None => { known.attrs.remove(&c.address); }
                        }
                        stale_resolution = true;
                        if tty { eprint!("\r\x1b[K"); }
                        eprintln!("{}: {} [{:.1}s]", c.address, verb(step, c.action), started.elapsed().as_secs_f64());
                        for d in dependents.get(&step).into_iter().flatten() {
                            let w = waiting.get_mut(d).expect("dependent is a step");
                            // Zero already: skipped because something else it waits for failed.
                            if *w == 0 { continue; }
                            *w -= 1;
                            if *w == 0 { ready.push(*d); }
                        }
                    }
                    Outcome::Failed(message) => {
                        if tty { eprint!("\r\x1b[K"); }
                        fail(step, c, message, &mut report, &dependents, &mut waiting, &plan.resource_changes);
                    }
                }
                if tty && !running.is_empty() { progress(&report, total, running.len()); }
            }
            _ = &mut ctrl_c => {
                if stopping {
                    eprintln!("\nSecond interrupt: abandoning {} change(s) in flight; their results are unknown to state until the next refresh.", running.len());
                    running.abort_all();
                    report.interrupted = true;
                    break;
                }
                stopping = true;
                report.interrupted = true;
                eprintln!("\nInterrupted: no new changes start; waiting for {} in flight (Ctrl-C or SIGTERM again to abandon them).", running.len());
                ctrl_c = Box::pin(interrupts.next());
            }
        }
    }
    if tty {
        eprint!("\r\x1b[K");
    }
    let unfinished: Vec<String> = waiting
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(s, _)| match s {
            Step::Delete(i) | Step::Apply(i) => plan.resource_changes[*i].address.clone(),
        })
        .collect();
    for a in unfinished {
        if !report.skipped.contains(&a) && !report.failed.iter().any(|(f, _)| *f == a) {
            report.skipped.push(a);
        }
    }
    if stopping {
        for s in ready {
            let (Step::Delete(i) | Step::Apply(i)) = s;
            report
                .skipped
                .push(plan.resource_changes[i].address.clone());
        }
    }

    // Outputs, with every value now known.
    if report.failed.is_empty()
        && !report.interrupted
        && let Ok((_, final_resolved)) = ws.resolve(&known)
    {
        for (stack, outputs) in &final_resolved.outputs {
            if let Some(shared) = states.get(stack) {
                let outputs: serde_json::Map<String, serde_json::Value> = outputs
                    .iter()
                    .filter(|(_, v)| !v.has_unknown())
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect();
                if shared.state.lock().unwrap().outputs != outputs {
                    shared.change(|s| s.outputs = outputs);
                }
            }
        }
    }
    let mut write_error = None;
    for (stack, shared) in &states {
        if let Err(e) = shared.flush().await {
            write_error = Some(format!("{stack}: {e}"));
        }
    }
    for w in writers {
        w.abort();
    }
    if let Some(e) = write_error {
        return Err(Error::StateNotSaved(e));
    }
    Ok(report)
}

fn progress(report: &ApplyReport, total: usize, running: usize) {
    eprint!(
        "\r\x1b[K[{}/{}] {} in progress…",
        report.done + report.failed.len() + report.skipped.len(),
        total,
        running
    );
    let _ = std::io::stderr().flush();
}

/// Marks a step failed and everything waiting on it (transitively) skipped.
fn fail(
    step: Step,
    c: &Change,
    message: String,
    report: &mut ApplyReport,
    dependents: &HashMap<Step, Vec<Step>>,
    waiting: &mut HashMap<Step, usize>,
    changes: &[Change],
) {
    eprintln!("{}: failed: {message}", c.address);
    report.failed.push((c.address.clone(), message));
    waiting.insert(step, 0);
    let mut todo: Vec<Step> = dependents.get(&step).cloned().unwrap_or_default();
    let mut seen = HashSet::new();
    while let Some(s) = todo.pop() {
        if !seen.insert(s) {
            continue;
        }
        waiting.insert(s, 0);
        let (Step::Delete(i) | Step::Apply(i)) = s;
        let address = changes[i].address.clone();
        if !report.skipped.contains(&address) {
            eprintln!("{address}: skipped (depends on {})", c.address);
            report.skipped.push(address);
        }
        todo.extend(dependents.get(&s).into_iter().flatten().copied());
    }
}

/// Works out what a step needs: for creates and updates, the desired attributes with every value now
/// known (resolving again if something finished since the last resolution).
fn prepare(
    step: Step,
    c: &Change,
    resolved: &mut Resolved,
    stale: &mut bool,
    ws: &Workspace,
    known: &Known,
    stack: &StackState,
) -> Result<Job, String> {
    let lineage = stack.state.lock().unwrap().lineage.clone();
    let home = ws.home_region().to_string();
    if let Step::Delete(_) = step {
        // Where the object to delete is (a replacement may have put its new one elsewhere already).
        let id = c.id.as_deref().unwrap_or_default();
        let (account, region) = match stack.state.lock().unwrap().find_object(&c.address, id) {
            Some(r) => (r.account.clone(), r.region.clone()),
            None => (c.account.clone(), c.region.clone()),
        };
        return Ok(Job {
            step,
            change: c.clone(),
            loc: Location {
                account,
                region: region.unwrap_or(home),
            },
            desired: Attrs::new(),
            deps: Vec::new(),
            lineage,
            pending: None,
            moves: Vec::new(),
        });
    }
    let find = |r: &Resolved| r.instances.iter().position(|i| i.address == c.address);
    let needs_values = |r: &Resolved, i: usize| {
        let inst = &r.instances[i];
        inst.account.has_unknown() || inst.attrs.values().any(Value::has_unknown)
    };
    let mut at =
        find(resolved).ok_or_else(|| format!("{} is no longer in the configuration", c.address))?;
    if needs_values(resolved, at) && *stale {
        let (_, fresh) = ws.resolve(known).map_err(|e| e.to_string())?;
        *resolved = fresh;
        *stale = false;
        at = find(resolved)
            .ok_or_else(|| format!("{} is no longer in the configuration", c.address))?;
    }
    let inst = &resolved.instances[at];
    if needs_values(resolved, at) {
        let unknown: Vec<&str> = inst
            .attrs
            .iter()
            .filter(|(_, v)| v.has_unknown())
            .map(|(k, _)| k.as_str())
            .collect();
        return Err(format!(
            "values still unknown at apply time ({}); a resource it depends on did not produce them",
            if unknown.is_empty() {
                "account".into()
            } else {
                unknown.join(", ")
            }
        ));
    }
    let pending = stack
        .state
        .lock()
        .unwrap()
        .pending
        .iter()
        .find(|p| p.address == c.address)
        .map(|p| p.request_id.clone());
    Ok(Job {
        step,
        change: c.clone(),
        loc: Location {
            account: account_of(inst),
            region: inst.region.clone().unwrap_or(home),
        },
        desired: desired_json(inst),
        deps: inst
            .deps
            .iter()
            .map(|d| resolved.instances[d.0 as usize].address.clone())
            .collect(),
        lineage,
        pending,
        moves: resolved.moves.clone(),
    })
}
