//! The command layer: one module per `landfall` command, each a function that takes the parsed options
//! and returns a [`Result`], so tests can call commands without the binary. `main.rs` only parses the
//! arguments, calls one of these, and turns the result into an exit code with [`exit_code`].
//!
//! ```text
//! offline  validate, graph, kinds       load -> resolve -> graph
//! online   plan                         ... -> read state -> refresh -> diff -> Plan (printed, saved)
//!          apply, destroy               Plan -> engine::apply -> AWS + state
//!          state, output, import,       state documents, under their locks
//!          force-unlock, init
//!          import-org                   AWS (read) -> discover -> render -> write (files, state)
//! ```
//!
//! Commands print what the user asked for (plans, outputs, listings) to stdout; problems travel back as
//! [`Error`], which says what went wrong and is printed, with what to do, in one place.

mod affected;
mod apply;
mod error;
mod force_unlock;
mod graph;
mod import;
pub mod import_org;
mod init;
mod kinds;
mod output;
mod plan;
mod show;
mod state;
mod validate;

pub use affected::{Affected, AffectedFormat, affected};
pub use apply::{Acknowledged, ApplyArgs, DestroyArgs, apply, destroy};
pub use error::{Error, report};
pub use force_unlock::force_unlock;
pub use graph::graph;
pub use import::import;
pub use import_org::import_org;
pub use init::init;
pub use kinds::kinds;
pub use output::output;
pub use plan::{PlanArgs, PlanFormat, Scoping, plan};
pub use show::{ShowArgs, show};
pub use state::{StateCommand, state};
pub use validate::{ValidateFormat, validate};

use crate::aws::{self, Aws};
use crate::engine::Workspace;
use crate::state::Backend;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a command that ran to the end reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Exit 0.
    Success,
    /// `plan --detailed-exitcode` found changes: exit 2.
    Changes,
}

/// A command's result.
pub type Result<T = Exit> = std::result::Result<T, Error>;

/// The exit code of a command's result, printing its error (if any) to stderr: 0 success, 1 errors
/// (in the configuration or at run time), 2 usage mistakes (and changes, with `--detailed-exitcode`).
pub fn exit_code(result: Result, color: bool) -> u8 {
    match result {
        Ok(Exit::Success) => 0,
        Ok(Exit::Changes) => 2,
        Err(e) => e.report(color),
    }
}

/// Where a command runs: the project root, and whether to colour what it prints.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Colour on stderr (diagnostics, progress).
    pub color: bool,
    /// Colour on stdout (the plan); decided apart, since stdout may be a file while stderr is not.
    pub stdout_color: bool,
    /// The folder holding `landfall.toml`.
    pub root: PathBuf,
    /// How long a command that locks state waits for a lock someone else holds (`--lock-timeout`).
    pub lock_timeout: std::time::Duration,
}

impl Ctx {
    /// The project that `dir` (the project root or a folder below it) belongs to; stdout coloured
    /// like stderr until [`Ctx::with_stdout_color`] says otherwise.
    pub fn find(dir: &Path, color: bool) -> Result<Ctx> {
        let root = crate::load::find_root(dir)?;
        Ok(Ctx {
            color,
            stdout_color: color,
            root,
            lock_timeout: std::time::Duration::ZERO,
        })
    }

    pub fn with_stdout_color(self, stdout_color: bool) -> Ctx {
        Ctx {
            stdout_color,
            ..self
        }
    }

    pub fn with_lock_timeout(self, lock_timeout: std::time::Duration) -> Ctx {
        Ctx {
            lock_timeout,
            ..self
        }
    }
}

/// The runtime the online commands block on.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("start the async runtime")
}

/// The environment's workspace, AWS clients and state backend, for a command that may change member
/// accounts (it assumes `access_role` in them).
async fn open(ctx: &Ctx, env: &str) -> Result<(Workspace, Arc<Aws>, Backend)> {
    open_for(ctx, env, aws::Access::Change).await
}

/// Like [`open`], for a command that only reads: it assumes `plan_role` in member accounts when the
/// project names one, so read-only credentials suffice.
async fn open_to_read(ctx: &Ctx, env: &str) -> Result<(Workspace, Arc<Aws>, Backend)> {
    open_for(ctx, env, aws::Access::Read).await
}

async fn open_for(
    ctx: &Ctx,
    env: &str,
    access: aws::Access,
) -> Result<(Workspace, Arc<Aws>, Backend)> {
    let ws = Workspace::open(&ctx.root, env)?;
    let aws = Arc::new(
        Aws::load(aws::Options {
            access_role: ws.access_role().to_string(),
            plan_role: ws.project().plan_role.clone(),
            access,
            access_role_timeout: ws.project().access_role_timeout,
            account_creation_timeout: ws.project().account_creation_timeout,
            ..aws::Options::new(ws.home_region())
        })
        .await,
    );
    let backend = ws
        .backend(Some(aws.clone()))
        .with_lock_timeout(ctx.lock_timeout);
    Ok((ws, aws, backend))
}

/// Prints the AWS requests made (`--stats`).
fn print_stats(aws: &Aws, enabled: bool) {
    if enabled {
        eprint!("{}", aws.stats().render());
    }
}
