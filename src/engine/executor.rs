//! The executor: runs the steps a [`Walker`] hands out, at most `parallelism` at a time, and says what
//! happens as [`Event`]s. It knows nothing of AWS or state: the work is a [`Work`] value.
//!
//! - The failure policy is a value ([`FailurePolicy`]): skip what depends on a failed step and go on
//!   (the default), or start nothing new.
//! - Stop requests ([`Interrupts`]: SIGINT, SIGTERM): the first starts nothing new and lets the steps in
//!   flight finish; the second abandons them (their futures are dropped at their next `.await`).
//! - A step running longer than the heartbeat interval is reported again (`StillRunning`) every interval.
//! - Steps that finished while the executor was busy are all taken before new ones start, so the work
//!   of starting steps is shared by everything that finished meanwhile (group commit).

use super::events::{Event, Operation, Reporter, StopPoint};
use super::schedule::{FailurePolicy, Schedule, Step, Walker};
use super::signal::Interrupts;
use crate::provider::BoxFuture;
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// What the executor runs: one future per step.
pub trait Work {
    /// What a step produces when it succeeds (handed back to [`Work::finished`]).
    type Output: Send + 'static;

    /// The address and operation of a step, for events.
    fn describe(&self, step: Step) -> (String, Operation);

    /// Prepares a step and returns its future; an `Err` fails the step without running anything.
    fn start(
        &mut self,
        step: Step,
    ) -> Result<BoxFuture<'static, Result<Self::Output, String>>, String>;

    /// A step succeeded (called before any step waiting for it starts).
    fn finished(&mut self, step: Step, output: Self::Output);
}

/// How to run a schedule.
#[derive(Debug, Clone, Copy)]
pub struct Executor {
    /// At most this many steps at once (at least one).
    pub parallelism: usize,
    pub policy: FailurePolicy,
    /// How often a long step is reported as still running.
    pub heartbeat: Duration,
}

/// How the steps went.
#[derive(Debug, Default)]
pub struct Outcome {
    pub done: BTreeSet<Step>,
    pub failed: Vec<(Step, String)>,
    /// Steps not run (or abandoned in flight), in the order they were given up.
    pub skipped: Vec<Step>,
    pub interrupted: bool,
}

/// What the task of a step ends with.
type Joined<T> = Result<(tokio::task::Id, (Step, Result<T, String>)), tokio::task::JoinError>;

/// The state of one run of [`Executor::run`].
struct Run<'a, W: Work> {
    executor: Executor,
    walker: Walker<'a>,
    work: &'a mut W,
    reporter: &'a mut dyn Reporter,
    running: JoinSet<(Step, Result<W::Output, String>)>,
    /// The steps in flight, by task, with when they started.
    in_flight: HashMap<tokio::task::Id, (Step, Instant)>,
    stopping: bool,
    outcome: Outcome,
}

impl Executor {
    /// Runs every step of `schedule` (or as many as failures and stop requests let run).
    pub async fn run<W: Work>(
        self,
        schedule: &Schedule,
        work: &mut W,
        interrupts: &Interrupts,
        reporter: &mut dyn Reporter,
    ) -> Outcome {
        let mut run = Run {
            executor: self,
            walker: Walker::new(schedule),
            work,
            reporter,
            running: JoinSet::new(),
            in_flight: HashMap::new(),
            stopping: false,
            outcome: Outcome::default(),
        };
        if interrupts.pending() {
            // Stopped while the locks were taken or state read: not one change starts.
            run.stop(StopPoint::BeforeStart);
        }
        let mut stop_request = Box::pin(interrupts.next());
        let beat = self.heartbeat.max(Duration::from_millis(1));
        let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + beat, beat);
        loop {
            run.start_ready();
            if run.running.is_empty() {
                break;
            }
            tokio::select! {
                joined = run.running.join_next_with_id() => {
                    run.joined(joined);
                    // Every step that finished meanwhile is taken before anything starts: the steps
                    // they release then share one resolution of the values produced (see
                    // `step::prepare`), instead of one resolution of the whole configuration each.
                    while let Some(more) = run.running.try_join_next_with_id() {
                        run.joined(Some(more));
                    }
                }
                _ = heartbeat.tick() => run.heartbeat(),
                _ = &mut stop_request => {
                    if run.stopping {
                        run.abandon();
                        break;
                    }
                    run.stop(StopPoint::Running);
                    stop_request = Box::pin(interrupts.next());
                }
            }
        }
        run.outcome
    }
}

impl<W: Work> Run<'_, W> {
    /// Starts ready steps while there is room.
    fn start_ready(&mut self) {
        while !self.stopping && self.running.len() < self.executor.parallelism.max(1) {
            let Some(step) = self.walker.next_step() else {
                break;
            };
            let (address, operation) = self.work.describe(step);
            self.reporter.event(&Event::Started { address, operation });
            match self.work.start(step) {
                Ok(future) => {
                    let handle = self.running.spawn(async move { (step, future.await) });
                    self.in_flight.insert(handle.id(), (step, Instant::now()));
                }
                Err(message) => self.fail(step, message, Duration::ZERO),
            }
        }
    }

    fn joined(&mut self, joined: Option<Joined<W::Output>>) {
        let (id, result) = match joined {
            Some(Ok((id, (_, result)))) => (id, result),
            Some(Err(e)) => (e.id(), Err(format!("task failed: {e}"))),
            None => return,
        };
        let Some((step, started)) = self.in_flight.remove(&id) else {
            return;
        };
        let elapsed = started.elapsed();
        match result {
            Ok(output) => {
                self.work.finished(step, output);
                self.walker.done(step);
                self.outcome.done.insert(step);
                let (address, operation) = self.work.describe(step);
                self.reporter.event(&Event::Done {
                    address,
                    operation,
                    elapsed,
                });
            }
            Err(message) => self.fail(step, message, elapsed),
        }
    }

    /// A step failed: the policy decides what else will not run.
    fn fail(&mut self, step: Step, message: String, elapsed: Duration) {
        let (address, operation) = self.work.describe(step);
        self.reporter.event(&Event::Failed {
            address: address.clone(),
            operation,
            elapsed,
            message: message.clone(),
        });
        self.outcome.failed.push((step, message));
        let skipped = self.walker.failed(step, self.executor.policy);
        self.skip(skipped, Some(&address), step.change());
    }

    /// Records and reports skipped steps; those of the change `own` (the rest of a failed replacement)
    /// are not reported twice.
    fn skip(&mut self, steps: Vec<Step>, because: Option<&str>, own: usize) {
        for s in steps {
            self.outcome.skipped.push(s);
            if s.change() == own {
                continue;
            }
            let (address, operation) = self.work.describe(s);
            self.reporter.event(&Event::Skipped {
                address,
                operation,
                because: because.map(str::to_string),
            });
        }
    }

    /// The first stop request: nothing new starts.
    fn stop(&mut self, at: StopPoint) {
        self.stopping = true;
        self.outcome.interrupted = true;
        self.reporter.event(&Event::Interrupted {
            at,
            in_flight: self.running.len(),
        });
        let skipped = self.walker.stop();
        self.skip(skipped, None, usize::MAX);
    }

    /// The second stop request: the steps in flight are given up.
    fn abandon(&mut self) {
        self.reporter.event(&Event::Abandoned {
            in_flight: self.running.len(),
        });
        self.running.abort_all();
        let abandoned: Vec<Step> = self.in_flight.drain().map(|(_, (s, _))| s).collect();
        self.outcome.skipped.extend(abandoned);
    }

    /// Reports the steps running for longer than the interval.
    fn heartbeat(&mut self) {
        let mut long: Vec<(Step, Duration)> = self
            .in_flight
            .values()
            .map(|(s, started)| (*s, started.elapsed()))
            .filter(|(_, elapsed)| *elapsed >= self.executor.heartbeat)
            .collect();
        long.sort();
        for (step, elapsed) in long {
            let (address, operation) = self.work.describe(step);
            self.reporter.event(&Event::StillRunning {
                address,
                operation,
                elapsed,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::events::Recorder;
    use crate::engine::schedule::{Entry, Input};
    use crate::plan::Action;

    /// Steps that succeed at once, except those listed, which fail.
    struct Fake {
        failing: Vec<usize>,
        finished: Vec<Step>,
        /// Each step started, with how many had finished by then.
        started: Vec<(Step, usize)>,
    }

    impl Work for Fake {
        type Output = ();
        fn describe(&self, step: Step) -> (String, Operation) {
            (format!("vpc.n{}", step.change()), Operation::Create)
        }
        fn start(&mut self, step: Step) -> Result<BoxFuture<'static, Result<(), String>>, String> {
            self.started.push((step, self.finished.len()));
            let fails = self.failing.contains(&step.change());
            Ok(Box::pin(async move {
                tokio::task::yield_now().await;
                if fails { Err("refused".into()) } else { Ok(()) }
            }))
        }
        fn finished(&mut self, step: Step, _: ()) {
            self.finished.push(step);
        }
    }

    /// `n` creates; `after[i]` lists the changes change `i` waits for.
    fn graph(n: usize, after: Vec<Vec<usize>>) -> Schedule {
        let changes = (0..n)
            .map(|_| Entry {
                kind: "vpc".into(),
                action: Action::Create,
                create_before_destroy: false,
            })
            .collect();
        Schedule::build(&Input {
            changes,
            after,
            dependents: vec![Vec::new(); n],
            ..Input::default()
        })
        .unwrap()
    }

    fn chain(n: usize) -> Schedule {
        graph(n, (0..n).map(|i| (0..i).rev().take(1).collect()).collect())
    }

    async fn execute(
        schedule: &Schedule,
        fake: &mut Fake,
        policy: FailurePolicy,
    ) -> (Outcome, Vec<Event>) {
        let (_tx, interrupts) = Interrupts::manual();
        let mut recorder = Recorder::default();
        let executor = Executor {
            parallelism: 2,
            policy,
            heartbeat: Duration::from_secs(30),
        };
        let outcome = executor
            .run(schedule, fake, &interrupts, &mut recorder)
            .await;
        (outcome, recorder.0)
    }

    #[tokio::test]
    async fn every_step_runs_once_in_order() {
        let schedule = chain(3);
        let mut fake = Fake {
            failing: vec![],
            finished: vec![],
            started: vec![],
        };
        let (outcome, events) = execute(&schedule, &mut fake, FailurePolicy::SkipDependents).await;
        assert_eq!(
            fake.finished,
            vec![Step::Apply(0), Step::Apply(1), Step::Apply(2)]
        );
        assert_eq!(outcome.done.len(), 3);
        assert_eq!(
            events
                .iter()
                .filter(|e| matches!(e, Event::Done { .. }))
                .count(),
            3
        );
    }

    #[tokio::test]
    async fn a_failure_skips_what_follows_and_is_reported() {
        let schedule = chain(3);
        let mut fake = Fake {
            failing: vec![1],
            finished: vec![],
            started: vec![],
        };
        let (outcome, events) = execute(&schedule, &mut fake, FailurePolicy::SkipDependents).await;
        assert_eq!(outcome.failed.len(), 1);
        assert_eq!(outcome.skipped, vec![Step::Apply(2)]);
        assert!(events.contains(&Event::Skipped {
            address: "vpc.n2".into(),
            operation: Operation::Create,
            because: Some("vpc.n1".into()),
        }));
    }

    #[tokio::test]
    async fn a_stop_request_before_the_start_runs_nothing() {
        let schedule = chain(2);
        let mut fake = Fake {
            failing: vec![],
            finished: vec![],
            started: vec![],
        };
        let (tx, interrupts) = Interrupts::manual();
        tx.send_modify(|n| *n += 1);
        let mut recorder = Recorder::default();
        let executor = Executor {
            parallelism: 1,
            policy: FailurePolicy::SkipDependents,
            heartbeat: Duration::from_secs(30),
        };
        let outcome = executor
            .run(&schedule, &mut fake, &interrupts, &mut recorder)
            .await;
        assert!(outcome.interrupted);
        assert!(fake.finished.is_empty());
        assert_eq!(outcome.skipped.len(), 2);
    }

    #[tokio::test]
    async fn steps_finished_meanwhile_are_all_taken_before_the_next_start() {
        // 0 and 1 run together and finish before the executor looks again: 2 (after 0) and 3
        // (after 1) start only once both are taken, so they share one resolution of values.
        let schedule = graph(4, vec![vec![], vec![], vec![0], vec![1]]);
        let mut fake = Fake {
            failing: vec![],
            finished: vec![],
            started: vec![],
        };
        let (outcome, _) = execute(&schedule, &mut fake, FailurePolicy::SkipDependents).await;
        assert_eq!(outcome.done.len(), 4);
        let later: Vec<(Step, usize)> = fake.started[2..].to_vec();
        assert_eq!(later.len(), 2);
        assert!(
            later.iter().all(|(_, finished)| *finished == 2),
            "{later:?}"
        );
    }
}
