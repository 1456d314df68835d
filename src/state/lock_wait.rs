//! Waiting for a lock someone else holds (`--lock-timeout`, Terraform's `-lock-timeout`), so that
//! pipelines of one environment queue instead of failing.
//!
//! The lock is asked for again with a growing pause (half a second, doubling up to five seconds,
//! never past the deadline). Who holds it and since when is said on stderr once, then at most every
//! ten seconds. When the time is up, the error is the one a single attempt gives: the holder, the
//! stacks that run holds and the `force-unlock` command. A zero timeout (the default) asks once.

use super::backend::{Backend, LockInfo, StateError};
use std::time::{Duration, Instant};

/// The first pause between two attempts; it doubles up to [`LONGEST_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(500);
const LONGEST_PAUSE: Duration = Duration::from_secs(5);
/// How often a wait is reported while the same holder keeps the lock.
const REPORT_EVERY: Duration = Duration::from_secs(10);

impl Backend {
    /// The same backend, waiting up to `timeout` for a lock someone else holds.
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Backend {
        self.lock_timeout = timeout;
        self
    }

    /// Takes the lock of a stack, waiting up to the backend's lock timeout while someone else holds
    /// it; then reports who holds it, with every stack of `stacks` (the environment's) whose lock
    /// that same holder has.
    pub async fn lock(
        &self,
        env: &str,
        stack: &str,
        info: &LockInfo,
        stacks: &[String],
    ) -> Result<(), StateError> {
        self.waiting(async || self.try_lock(env, stack, info, stacks).await)
            .await
    }

    /// Waits (up to the lock timeout; not at all when it is zero) until no stack of `stacks` is
    /// locked, without taking the locks: `apply --env` and `destroy` plan only once the run before
    /// them is done, so that their plan is not stale by the time they get the locks.
    pub async fn wait_unlocked(&self, env: &str, stacks: &[String]) -> Result<(), StateError> {
        if self.lock_timeout.is_zero() {
            return Ok(());
        }
        for stack in stacks {
            let free = async || match self.read_lock(env, stack).await? {
                None => Ok(()),
                Some(holder) => Err(StateError::Locked {
                    what: self.describe(env, stack),
                    env: env.to_string(),
                    held: self.held_by(env, stacks, &holder.id).await?,
                    holder: Box::new(holder),
                }),
            };
            self.waiting(free).await?;
        }
        Ok(())
    }

    /// Calls `attempt` until it does not fail with [`StateError::Locked`] or the lock timeout is
    /// up, saying who holds the lock once, then at most every [`REPORT_EVERY`].
    async fn waiting(
        &self,
        mut attempt: impl AsyncFnMut() -> Result<(), StateError>,
    ) -> Result<(), StateError> {
        let started = Instant::now();
        let deadline = started + self.lock_timeout;
        let mut pause = FIRST_PAUSE;
        let mut reported: Option<(Instant, String)> = None;
        loop {
            let (what, holder) = match attempt().await {
                Err(StateError::Locked {
                    ref what,
                    ref holder,
                    ..
                }) if Instant::now() < deadline => (what.clone(), holder.clone()),
                Err(e @ StateError::Locked { .. }) if !self.lock_timeout.is_zero() => {
                    eprintln!(
                        "Gave up waiting for the lock after {}.",
                        humantime::format_duration(round(started.elapsed()))
                    );
                    return Err(e);
                }
                other => return other,
            };
            let due = reported
                .as_ref()
                .is_none_or(|(at, id)| *id != holder.id || at.elapsed() >= REPORT_EVERY);
            if due {
                eprintln!(
                    "state {what} is locked by {} on {} ({}, since {}); waiting up to {} for it ({} so far)",
                    holder.who,
                    holder.host,
                    holder.operation,
                    holder.created,
                    humantime::format_duration(self.lock_timeout),
                    humantime::format_duration(round(started.elapsed())),
                );
                reported = Some((Instant::now(), holder.id.clone()));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            tokio::time::sleep(pause.min(left)).await;
            pause = (pause * 2).min(LONGEST_PAUSE);
        }
    }
}

/// A duration in whole seconds, for messages.
fn round(d: Duration) -> Duration {
    Duration::from_secs(d.as_secs())
}
