//! `landfall plan`: what apply would change. Read-only: works with read-only credentials and takes
//! no lock.

use super::{Ctx, Error, Exit, Result, open_to_read, print_stats, runtime};
use crate::aws::Aws;
use crate::engine::{self, PlanOptions, Workspace};
use crate::plan::{Filter, Plan, render};
use crate::state::Backend;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;

/// How `plan` prints the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
    Markdown,
}

/// Options shared by plan, apply and destroy.
#[derive(clap::Args, Debug, Clone)]
pub struct Scoping {
    /// Only this resource (or module, or stack prefix) and what it depends on. Repeatable.
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
    /// Leave out this resource and everything that depends on it. Repeatable.
    #[arg(long = "exclude", value_name = "ADDR")]
    pub excludes: Vec<String>,
    /// Only resources of this stack. Repeatable.
    #[arg(long = "stack", value_name = "STACK")]
    pub stacks: Vec<String>,
    /// Replace this resource (or every resource inside this module or prefix) although nothing forces
    /// it, e.g. one broken in a way refresh cannot see; what depends on it follows the new id. Repeatable.
    #[arg(long = "replace", value_name = "ADDR")]
    pub replace: Vec<String>,
    /// Read the real state from AWS before planning (`--refresh=false` plans from state alone).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1,
          default_missing_value = "true", require_equals = true)]
    pub refresh: bool,
    /// How many changes (and reads) run at once; default from landfall.toml, else 10.
    #[arg(long)]
    pub parallelism: Option<usize>,
    /// Print the AWS API requests made, by service and operation.
    #[arg(long)]
    pub stats: bool,
}

impl Default for Scoping {
    /// Everything, refreshed, at the project's parallelism.
    fn default() -> Scoping {
        Scoping {
            targets: Vec::new(),
            excludes: Vec::new(),
            stacks: Vec::new(),
            replace: Vec::new(),
            refresh: true,
            parallelism: None,
            stats: false,
        }
    }
}

impl Scoping {
    /// Whether any option that changes what is planned was given (a saved plan cannot take them).
    pub(crate) fn narrows(&self) -> bool {
        !(self.targets.is_empty()
            && self.excludes.is_empty()
            && self.stacks.is_empty()
            && self.replace.is_empty()
            && self.refresh)
    }
}

/// `landfall plan`'s options.
#[derive(Debug, Clone)]
pub struct PlanArgs {
    pub env: String,
    /// Save the plan here, for `landfall apply FILE`.
    pub out: Option<PathBuf>,
    pub format: PlanFormat,
    /// Exit 2 (instead of 0) when there are changes.
    pub detailed_exitcode: bool,
    /// A destroy plan, as `landfall destroy` would make it.
    pub destroy: bool,
    pub allow_account_closure: bool,
    pub scoping: Scoping,
}

/// `landfall plan --env ENV`: prints the plan and saves it with `--out`. A plan holding a change
/// landfall refuses to make is printed, not saved, and is an error.
pub fn plan(ctx: &Ctx, args: PlanArgs) -> Result {
    runtime().block_on(async {
        let (ws, aws, backend) = open_to_read(ctx, &args.env).await?;
        let made = make(
            &ws,
            &aws,
            &backend,
            &args.scoping,
            args.destroy,
            args.allow_account_closure,
        )
        .await
        .and_then(|plan| show(ctx, &args, &plan).map(|()| plan));
        print_stats(&aws, args.scoping.stats);
        if made?.has_changes() && args.detailed_exitcode {
            Ok(Exit::Changes)
        } else {
            Ok(Exit::Success)
        }
    })
}

/// Prints the plan in the format asked for, then saves it unless it holds a refusal.
fn show(ctx: &Ctx, args: &PlanArgs, plan: &Plan) -> Result<()> {
    print_plan(plan, args.format, ctx.stdout_color)?;
    if let Some(message) = plan.refusal() {
        return Err(Error::Refused {
            message,
            applying: false,
        });
    }
    let Some(out) = &args.out else {
        return Ok(());
    };
    let write = || -> std::io::Result<()> {
        let mut file = BufWriter::new(std::fs::File::create(out)?);
        plan.write_json(&mut file)?;
        file.flush()
    };
    write().map_err(|error| Error::WritePlan {
        path: out.clone(),
        error,
    })?;
    if args.format == PlanFormat::Text {
        println!(
            "\nSaved the plan to {}. Apply exactly this plan with:\n    landfall apply {}",
            out.display(),
            out.display()
        );
    }
    Ok(())
}

/// Prints the plan to stdout in `format`, as it is rendered (not built whole in memory first).
pub(crate) fn print_plan(plan: &Plan, format: PlanFormat, color: bool) -> Result<()> {
    let mut out = BufWriter::new(std::io::stdout().lock());
    match format {
        PlanFormat::Text => render::write_text(&mut out, plan, color),
        PlanFormat::Json => plan.write_json(&mut out),
        PlanFormat::Markdown => out.write_all(render::markdown(plan).as_bytes()),
    }
    .and_then(|()| out.flush())
    .map_err(Error::Stdout)
}

/// Reads state, refreshes (unless `--refresh=false`) and computes the plan, for plan, apply and destroy.
pub(crate) async fn make(
    ws: &Workspace,
    aws: &Arc<Aws>,
    backend: &Backend,
    scoping: &Scoping,
    destroy: bool,
    allow_account_closure: bool,
) -> Result<Plan> {
    let options = PlanOptions {
        filter: Filter {
            targets: scoping.targets.clone(),
            excludes: scoping.excludes.clone(),
            stacks: scoping.stacks.clone(),
            destroy,
            allow_account_closure,
            replace: scoping.replace.clone(),
        },
        refresh: scoping.refresh,
        parallelism: scoping.parallelism.unwrap_or(ws.parallelism()),
    };
    Ok(engine::make_plan(ws, aws, backend, &options).await?)
}
