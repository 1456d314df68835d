//! Applying a plan: lock, verify, record moves, run the schedule, save, unlock.
//!
//! ```text
//! plan file --derive again (config + state + refresh) and compare, or refuse--> derived Plan
//! Plan + sealed resource graph --schedule--> steps --executor (bounded, failure policy)--> events
//!   each step: inputs resolved with the values produced in this run --checkpoint--> state
//! ```
//!
//! - Every stack of the plan is locked first (and always unlocked at the end, on error, SIGINT and
//!   SIGTERM). From before the first lock until the last is released, a stop request is never the end
//!   of the process: the first one starts nothing new (steps in flight finish, state is saved), the
//!   second abandons the steps in flight.
//! - The plan is refused as stale if any stack's state moved since it was made. A saved plan
//!   ([`ApplyOptions::saved`]) is derived again from configuration, state and a fresh refresh, and
//!   the derived plan runs only if the file says exactly the same ([`crate::plan::verify`]).
//! - The order of the steps is the [`Schedule`] (see there); what a step does is [`step`](super::step).

use super::checkpoint::Checkpoints;
use super::events::{Event, Reporter, StopPoint, Summary};
use super::executor::{Executor, Outcome};
use super::schedule::{FailurePolicy, Schedule};
use super::signal::Interrupts;
use super::step::Changes;
use super::{Error, Workspace, read_states};
use crate::aws::Aws;
use crate::plan::verify::{self, Mismatch};
use crate::plan::{Action, Change, Plan};
use crate::resolve::Known;
use crate::state::{Backend, LockInfo, State, Stored};
use indexmap::IndexMap;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub parallelism: usize,
    pub operation: String,
    /// The plan comes from a file (`apply FILE`), which is not trusted: once locked, the plan is
    /// derived again from configuration, state and AWS, and the derived plan is applied only if the
    /// file says exactly the same ([`crate::plan::verify`]).
    pub saved: bool,
}

/// How the run reports and reacts, beside [`ApplyOptions`].
pub struct Execution<'a> {
    /// Where the events go.
    pub reporter: &'a mut dyn Reporter,
    /// How often a long step is reported as still running.
    pub heartbeat: Duration,
    pub policy: FailurePolicy,
}

/// How an apply went, counted in changes (a replacement is one change).
#[derive(Debug, Default)]
pub struct ApplyReport {
    /// Changes made completely.
    pub done: usize,
    /// Changes that failed, with why.
    pub failed: Vec<(String, String)>,
    /// Changes not (completely) made, because what they wait for failed or the apply stopped.
    pub skipped: Vec<String>,
    pub interrupted: bool,
    pub elapsed: Duration,
}

/// Applies a plan, reporting as this process selected ([`crate::report::select`]).
pub async fn apply(
    ws: &Workspace,
    aws: &Arc<Aws>,
    backend: &Backend,
    plan: Plan,
    options: &ApplyOptions,
) -> Result<ApplyReport, Error> {
    let mut reporter = crate::report::selected();
    let execution = Execution {
        reporter: reporter.as_mut(),
        heartbeat: crate::report::settings().heartbeat,
        policy: FailurePolicy::SkipDependents,
    };
    apply_with(ws, aws, backend, plan, options, execution).await
}

/// Applies a plan. Takes the locks, checks staleness, runs, saves, unlocks; ends with a `Finished` event.
pub async fn apply_with(
    ws: &Workspace,
    aws: &Arc<Aws>,
    backend: &Backend,
    plan: Plan,
    options: &ApplyOptions,
    execution: Execution<'_>,
) -> Result<ApplyReport, Error> {
    let started = Instant::now();
    if plan.environment != ws.env {
        return Err(Error::Stale(format!(
            "it was made for environment `{}`, not `{}`",
            plan.environment, ws.env
        )));
    }
    let Execution {
        reporter,
        heartbeat,
        policy,
    } = execution;
    let executor = Executor {
        parallelism: options.parallelism,
        policy,
        heartbeat,
    };
    let who = aws
        .caller()
        .await
        .map(|c| c.arn.clone())
        .unwrap_or_else(|_| std::env::var("USER").unwrap_or_else(|_| "unknown".into()));
    let lock = LockInfo::new(&who, &options.operation);
    // From before the first lock until the last is released, SIGINT and SIGTERM are stop requests,
    // never the end of the process: whenever one comes, the locks are released below.
    let interrupts = Interrupts::listen().map_err(Error::Signals)?;
    let (locked, mut result) = lock_all(ws, backend, &plan, &lock, &interrupts, reporter).await;
    if matches!(&result, Ok(r) if !r.interrupted) {
        let what = (plan, options);
        result = run(ws, aws, backend, what, &interrupts, executor, reporter).await;
    }
    for stack in &locked {
        if let Err(e) = backend.unlock(&ws.env, stack, &lock.id).await {
            reporter.event(&Event::Warning {
                message: format!("could not release the lock of {stack}: {e}"),
            });
        }
    }
    if let Ok(report) = &mut result {
        report.elapsed = started.elapsed();
        reporter.event(&Event::Finished(Summary {
            done: report.done,
            failed: report.failed.len(),
            skipped: report.skipped.len(),
            interrupted: report.interrupted,
            elapsed: report.elapsed,
        }));
    }
    result
}

/// Takes the lock of every stack of the plan, stopping at the first that fails or at a stop request.
/// Returns the stacks locked, and an interrupted report or the error if it stopped.
async fn lock_all(
    ws: &Workspace,
    backend: &Backend,
    plan: &Plan,
    lock: &LockInfo,
    interrupts: &Interrupts,
    reporter: &mut dyn Reporter,
) -> (Vec<String>, Result<ApplyReport, Error>) {
    let mut locked = Vec::new();
    for stack in plan.stacks.keys() {
        if interrupts.pending() {
            reporter.event(&Event::Interrupted {
                at: StopPoint::Locking,
                in_flight: 0,
            });
            let report = ApplyReport {
                interrupted: true,
                ..ApplyReport::default()
            };
            return (locked, Ok(report));
        }
        match backend.lock(&ws.env, stack, lock, &ws.stacks()).await {
            Ok(()) => locked.push(stack.clone()),
            Err(e) => return (locked, Err(e.into())),
        }
    }
    (locked, Ok(ApplyReport::default()))
}

/// Verifies the plan against state (and a saved plan against everything it was derived from),
/// then performs it.
async fn run(
    ws: &Workspace,
    aws: &Arc<Aws>,
    backend: &Backend,
    (plan, options): (Plan, &ApplyOptions),
    interrupts: &Interrupts,
    executor: Executor,
    reporter: &mut dyn Reporter,
) -> Result<ApplyReport, Error> {
    let mut stored = read_states(ws, backend).await?;
    same_states(&plan, &stored)?;
    // What runs is the derived plan, never the file (they are the same if this point is reached).
    let plan = match options.saved {
        true => derive_again(ws, aws, backend, &plan, &stored, options.parallelism).await?,
        false => plan,
    }
    .into_applied();
    let plan = &plan;
    let mut known = super::known_values(ws, backend, &stored).await?;
    forget_renewed(&mut known, plan, &stored);
    let mut resolved = ws.resolve(&known)?.1;
    if record_moves(ws, backend, &mut stored, reporter).await? {
        known = super::known_values(ws, backend, &stored).await?;
        forget_renewed(&mut known, plan, &stored);
        resolved = ws.resolve(&known)?.1;
    }
    let checkpoints = Checkpoints::open(ws, backend, plan, &stored).await?;
    let schedule = Schedule::from_plan(
        &plan.resource_changes,
        &resolved,
        &resolved.graph,
        &checkpoints.dependencies(),
    )
    .map_err(|e| Error::Graph(e.to_string()))?;
    let mut work = Changes {
        plan,
        ws,
        aws: aws.clone(),
        stacks: &checkpoints.stacks,
        values: super::step::Resolution::new(resolved),
        known,
        // Deletes of objects beside the one state holds at their address (deposed, orphan copies).
        beside: plan
            .resource_changes
            .iter()
            .filter(|c| c.action == Action::Delete && !holds(&stored, c))
            .map(|c| c.address.clone())
            .collect(),
    };
    let outcome = executor
        .run(&schedule, &mut work, interrupts, reporter)
        .await;
    let report = report(plan, &outcome);
    // Outputs, with every value now known. The steps' resolution and the schedule go first: the
    // outputs resolve the configuration again, and both at once were the apply's peak of memory.
    let known = work.known;
    drop((work.values, schedule));
    if report.failed.is_empty() && !report.interrupted {
        save_outputs(ws, &known, &checkpoints);
    }
    checkpoints.close().await?;
    Ok(report)
}

/// Refuses the plan as stale if any stack's state moved since it was made (also a plan made by
/// this same command: someone may have applied between the plan and the lock).
fn same_states(plan: &Plan, stored: &IndexMap<String, Stored>) -> Result<(), Error> {
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
    Ok(())
}

/// Derives a saved plan again from the configuration, the states read and a fresh refresh, with
/// the options it records, and returns the derived plan if the file says exactly the same.
async fn derive_again(
    ws: &Workspace,
    aws: &Arc<Aws>,
    backend: &Backend,
    file: &Plan,
    stored: &IndexMap<String, Stored>,
    parallelism: usize,
) -> Result<Plan, Error> {
    let recorded = file.derived_from.as_ref();
    let options = super::PlanOptions {
        filter: recorded
            .map(|d| d.options.filter.clone())
            .unwrap_or_default(),
        refresh: recorded.is_none_or(|d| d.options.refresh),
        parallelism,
    };
    let derived = super::derive_plan(ws, aws, backend, stored.clone(), &options).await?;
    match verify::compare(file, &derived) {
        Ok(()) => Ok(derived),
        Err(Mismatch::Stale(found)) => Err(Error::Stale(found.join("; "))),
        Err(Mismatch::Changes(found)) => Err(Error::PlanEdited(found)),
    }
}

/// The executor's outcome counted in changes: a change is done when every step of it is, failed when
/// one of its steps failed, skipped otherwise.
fn report(plan: &Plan, outcome: &Outcome) -> ApplyReport {
    let changes = &plan.resource_changes;
    let failed: HashSet<usize> = outcome.failed.iter().map(|(s, _)| s.change()).collect();
    let mut report = ApplyReport {
        interrupted: outcome.interrupted,
        failed: outcome
            .failed
            .iter()
            .map(|(s, m)| (changes[s.change()].address.clone(), m.clone()))
            .collect(),
        ..ApplyReport::default()
    };
    let mut unfinished: HashSet<usize> = failed.clone();
    for s in &outcome.skipped {
        if unfinished.insert(s.change()) {
            let address = &changes[s.change()].address;
            if !report.skipped.contains(address) {
                report.skipped.push(address.clone());
            }
        }
    }
    let finished: HashSet<usize> = outcome.done.iter().map(|s| s.change()).collect();
    report.done = finished.difference(&unfinished).count();
    report
}

/// Records the stacks' outputs in their state (those whose values are all known).
fn save_outputs(ws: &Workspace, known: &Known, checkpoints: &Checkpoints) {
    let Ok((_, resolved)) = ws.resolve(known) else {
        return;
    };
    for (stack, outputs) in &resolved.outputs {
        if let Some(shared) = checkpoints.stacks.get(stack) {
            let outputs: serde_json::Map<String, serde_json::Value> = outputs
                .iter()
                .filter(|(_, v)| !v.has_unknown())
                .map(|(k, v)| (k.clone(), v.to_json()))
                .collect();
            if shared.state.lock().unwrap().outputs != outputs {
                shared.set_outputs(outputs);
            }
        }
    }
}

/// Records the configuration's `[[moved]]` entries in state (every stack they change, dependencies
/// rewritten) before any other step, derived again from the configuration and the state just verified
/// (a plan file's `moved` list is not trusted). Returns whether anything moved.
async fn record_moves(
    ws: &Workspace,
    backend: &Backend,
    stored: &mut IndexMap<String, Stored>,
    reporter: &mut dyn Reporter,
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
        reporter.event(&Event::Moved {
            from: m.from.clone(),
            to: m.to.clone(),
        });
    }
    Ok(!moved.is_empty())
}

/// Whether the object a change is about is the one state holds under its address (not an orphan copy
/// or a deposed old object beside it).
fn holds(stored: &IndexMap<String, Stored>, c: &Change) -> bool {
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
fn forget_renewed(known: &mut Known, plan: &Plan, stored: &IndexMap<String, Stored>) {
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
