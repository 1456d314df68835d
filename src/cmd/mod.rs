//! The commands that talk to AWS or to state: init, plan, apply, destroy, state, output, import,
//! force-unlock.

mod force_unlock;
pub mod import_org;
pub use force_unlock::*;
mod import;
pub use import::*;
mod output;
pub use output::*;
mod state;
pub use state::*;
mod apply;
pub use apply::*;
mod plan;
pub use plan::*;
mod init;
pub use init::*;
mod validate;
pub use validate::*;
mod kinds;
pub use kinds::*;

use crate::aws::{self, Aws};
use crate::diag::{self, Diagnostic, Diagnostics};
use crate::engine::{self, ApplyOptions, ApplyReport, Error, PlanOptions, Workspace};
use crate::graph::ResourceGraph;
use crate::load;
use crate::load::LoadError;
use crate::plan::{Filter, Plan, render};
use crate::provider::{self, Cx, Location};
use crate::resolve::{self, Resolved};
use crate::schema::{self, Scope};
use crate::source::Sources;
use crate::state::{Backend, LockInfo, ResourceState, State};
use indexmap::IndexMap;
use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

pub struct Ctx {
    pub color: bool,
    pub root: std::path::PathBuf,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("start the async runtime")
}

/// Prints an engine error the way the rest of the CLI prints problems. Exit code 1.
pub fn error(ctx: &Ctx, e: Error) -> ExitCode {
    match e {
        Error::Config(sources, diags) => report(&sources, &diags, ctx.color),
        Error::Load(LoadError::Invalid(sources, mut diags)) => {
            diags.sort();
            report(&sources, &diags, ctx.color)
        }
        Error::Load(LoadError::NoEnvironment { name, known, .. }) => fail(
            ctx.color,
            Diagnostic::error(format!("environment `{name}` not found"))
                .suggest(&name, known.iter().map(String::as_str))
                .note(None, format!("environments: {}", known.join(", "))),
        ),
        Error::Stale(_) => fail(
            ctx.color,
            Diagnostic::error(e.to_string()).help(
                "a saved plan can only be applied to the state and configuration it was made from",
            ),
        ),
        other => fail(ctx.color, Diagnostic::error(other.to_string())),
    }
}

async fn open(ctx: &Ctx, env: &str) -> Result<(Workspace, Arc<Aws>, Backend), Error> {
    let ws = Workspace::open(&ctx.root, env)?;
    let aws = Arc::new(
        Aws::load(aws::Options {
            access_role: ws.access_role().to_string(),
            access_role_timeout: ws.project().access_role_timeout,
            account_creation_timeout: ws.project().account_creation_timeout,
            ..aws::Options::new(ws.home_region())
        })
        .await,
    );
    let backend = ws.backend(Some(aws.clone()));
    Ok((ws, aws, backend))
}

fn print_stats(aws: &Aws, enabled: bool) {
    if enabled {
        eprint!("{}", aws.stats().render());
    }
}

/// `landfall import-org`: see [`crate::engine::import_org`]. Runs without a project too (it writes
/// one), so it takes the working folder rather than a [`Ctx`].
pub fn import_org(color: bool, dir: &std::path::Path, env: &str, stack: &str) -> ExitCode {
    use import_org::Request;
    runtime().block_on(async {
        let ctx = Ctx {
            color,
            root: dir.to_path_buf(),
        };
        let aws = Arc::new(Aws::load(import_org::aws_options(dir)).await);
        let request = Request {
            dir: dir.to_path_buf(),
            env: env.to_string(),
            stack: stack.to_string(),
        };
        let imported = match import_org::import_org(&request, &aws).await {
            Ok(i) => i,
            Err(e) => return error(&ctx, e),
        };
        let counts: Vec<String> = imported
            .counts
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(kind, n)| format!("{n} {kind}"))
            .collect();
        println!(
            "Imported organization {} into stack `{stack}` of environment `{env}`: {}.",
            imported.organization_id,
            counts.join(", ")
        );
        println!("Wrote (under {}):", imported.root.display());
        for file in &imported.written {
            println!("  {file}");
        }
        println!("State: {}", imported.state);
        for what in &imported.left_out {
            println!("Left out: {what}.");
        }
        for warning in &imported.warnings {
            eprintln!("warning: {warning}");
        }
        println!("AWS was only read. Check with: landfall plan --env {env}");
        ExitCode::SUCCESS
    })
}

/// Prints diagnostics to stderr; exit 1 when any is an error.
pub fn report(sources: &Sources, diags: &Diagnostics, color: bool) -> ExitCode {
    let mut text = diag::render(sources, diags, color);
    let errors = diags.error_count();
    if errors > 0 {
        text.push_str(&format!(
            "Found {errors} error{}.\n",
            if errors == 1 { "" } else { "s" }
        ));
    }
    eprint!("{text}");
    if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

pub fn fail(color: bool, d: Diagnostic) -> ExitCode {
    report(&Sources::default(), &Diagnostics(vec![d]), color)
}
