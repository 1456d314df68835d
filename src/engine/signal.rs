//! Stop requests: SIGINT (Ctrl-C) and SIGTERM (what CI runners send on cancel), counted alike.
//!
//! [`Interrupts::listen`] installs the handlers; from then on neither signal ends the process. An apply
//! listens from before it takes its first lock until it has released the last one, so a stop request
//! at any moment in between still releases every lock: the first request stops new changes, the
//! second abandons those in flight (the apply loop decides what each means).
//!
//! Requests are counted, not queued per listener: one that arrives while nobody waits (while locks are
//! being taken, or state read) is seen by the next [`Interrupts::pending`] or [`Interrupts::next`].

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use tokio::sync::watch;

/// The stop requests received since [`Interrupts::listen`].
#[derive(Clone)]
pub struct Interrupts {
    /// How many SIGINT/SIGTERM arrived; written by the listening task only.
    received: watch::Receiver<u32>,
    /// How many of them [`Interrupts::next`] has handed out, shared by the clones so that each request
    /// is acted on once.
    taken: Arc<AtomicU32>,
}

impl Interrupts {
    /// Installs the SIGINT and SIGTERM handlers (for the rest of the process) and starts counting.
    /// Needs a Tokio runtime.
    pub fn listen() -> std::io::Result<Interrupts> {
        let (tx, interrupts) = Interrupts::manual();
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            for kind in [SignalKind::interrupt(), SignalKind::terminate()] {
                let mut stream = signal(kind)?;
                let tx = tx.clone();
                tokio::spawn(async move {
                    while stream.recv().await.is_some() {
                        tx.send_modify(|n| *n += 1);
                    }
                });
            }
        }
        #[cfg(not(unix))]
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                tx.send_modify(|n| *n += 1);
            }
        });
        Ok(interrupts)
    }

    /// Stop requests counted by whoever holds the sender (`send_modify(|n| *n += 1)` is one request),
    /// not by signal handlers: for a caller with its own idea of "stop" (a server, a test).
    pub fn manual() -> (watch::Sender<u32>, Interrupts) {
        let (tx, rx) = watch::channel(0u32);
        let interrupts = Interrupts {
            received: rx,
            taken: Arc::new(AtomicU32::new(0)),
        };
        (tx, interrupts)
    }

    /// Whether a stop request arrived that [`Interrupts::next`] has not handed out yet.
    pub fn pending(&self) -> bool {
        *self.received.borrow() > self.taken.load(Ordering::SeqCst)
    }

    /// Resolves at the next stop request not handed out yet (at once if one is pending). Dropping the
    /// future before it resolves takes nothing, so it can sit in a `select!` loop and be re-armed.
    pub fn next(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut received = self.received.clone();
        let taken = self.taken.clone();
        async move {
            loop {
                let now = *received.borrow_and_update();
                let seen = taken.load(Ordering::SeqCst);
                if now > seen {
                    if taken
                        .compare_exchange(seen, seen + 1, Ordering::SeqCst, Ordering::SeqCst)
                        .is_ok()
                    {
                        return;
                    }
                    continue;
                }
                if received.changed().await.is_err() {
                    // The listeners are gone (the runtime is shutting down): no request will come.
                    std::future::pending::<()>().await;
                }
            }
        }
    }
}
