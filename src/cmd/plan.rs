//! `landfall plan`: what apply would change.

use super::*;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
    Markdown,
}

/// Options shared by plan, apply and destroy.
#[derive(clap::Args, Clone)]
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

pub(crate) fn filter(scoping: &Scoping, destroy: bool, allow_account_closure: bool) -> Filter {
    Filter {
        targets: scoping.targets.clone(),
        excludes: scoping.excludes.clone(),
        stacks: scoping.stacks.clone(),
        destroy,
        allow_account_closure,
        replace: scoping.replace.clone(),
    }
}

pub struct PlanArgs {
    pub env: String,
    pub out: Option<std::path::PathBuf>,
    pub format: PlanFormat,
    pub detailed_exitcode: bool,
    /// A destroy plan, as `landfall destroy` would make it.
    pub destroy: bool,
    pub allow_account_closure: bool,
    pub scoping: Scoping,
}

pub fn plan(ctx: &Ctx, args: PlanArgs) -> ExitCode {
    runtime().block_on(async {
        let (ws, aws, backend) = match open(ctx, &args.env).await {
            Ok(x) => x,
            Err(e) => return error(ctx, e),
        };
        let options = PlanOptions {
            filter: filter(&args.scoping, args.destroy, args.allow_account_closure),
            refresh: args.scoping.refresh,
            parallelism: args.scoping.parallelism.unwrap_or(ws.parallelism()),
        };
        let plan = match engine::make_plan(&ws, &aws, &backend, &options).await {
            Ok(p) => p,
            Err(e) => {
                print_stats(&aws, args.scoping.stats);
                return error(ctx, e);
            }
        };
        match args.format {
            PlanFormat::Text => print!("{}", render::text(&plan, ctx.color)),
            PlanFormat::Json => print!("{}", plan.to_json()),
            PlanFormat::Markdown => print!("{}", render::markdown(&plan)),
        }
        if let Some(refusal) = plan.refusal() {
            print_stats(&aws, args.scoping.stats);
            return fail(
                ctx.color,
                Diagnostic::error(refusal).help("this plan was not saved"),
            );
        }
        if let Some(out) = &args.out {
            if let Err(e) = std::fs::write(out, plan.to_json()) {
                return fail(
                    ctx.color,
                    Diagnostic::error(format!("cannot write the plan to {}: {e}", out.display())),
                );
            }
            if args.format == PlanFormat::Text {
                println!(
                    "\nSaved the plan to {}. Apply exactly this plan with:\n    landfall apply {}",
                    out.display(),
                    out.display()
                );
            }
        }
        print_stats(&aws, args.scoping.stats);
        if args.detailed_exitcode && plan.has_changes() {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        }
    })
}
