//! `landfall apply` and `landfall destroy`: a saved plan exactly, or a plan made now and confirmed.

use super::plan::{PlanFormat, Scoping, make};
use super::{Ctx, Error, Exit, Result, open, print_stats, runtime};
use crate::engine::{self, ApplyOptions, ApplyReport};
use crate::plan::{self, Plan};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// `landfall apply`'s options.
#[derive(Debug, Clone, Default)]
pub struct ApplyArgs {
    /// A plan saved with `plan --out`: derived again and applied without asking if the file says the
    /// same, refused otherwise.
    pub plan_file: Option<PathBuf>,
    /// Plan this environment now and apply after confirmation (or with `--env`, the saved plan's).
    pub env: Option<String>,
    pub auto_approve: bool,
    pub scoping: Scoping,
    /// What the command line acknowledges of a saved plan that goes beyond the configuration:
    /// `--destroy`, `--allow-account-closure`; `scoping.replace` names the `--replace` addresses.
    pub acknowledge: Acknowledged,
}

/// The options of a saved plan that make it do more than configuration and state imply: a destroy
/// plan, account closure, replacements on request. The plan file comes from a pipeline its author
/// controls, so `apply FILE` carries them out only when its own command line says the same.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Acknowledged {
    pub destroy: bool,
    pub allow_account_closure: bool,
}

/// `landfall destroy`'s options.
#[derive(Debug, Clone, Default)]
pub struct DestroyArgs {
    pub env: String,
    pub auto_approve: bool,
    /// Close accounts that have `close_on_destroy = true`; others are only removed from state.
    pub allow_account_closure: bool,
    pub scoping: Scoping,
}

/// `landfall apply [PLAN_FILE] [--env ENV]`.
pub fn apply(ctx: &Ctx, args: ApplyArgs) -> Result {
    let saved = match &args.plan_file {
        Some(file) => Some(read_plan(file, args.env.as_deref(), &args)?),
        None => None,
    };
    let env = match (&saved, &args.env) {
        (Some(plan), _) => plan.environment.clone(),
        (None, Some(env)) => env.clone(),
        (None, None) => {
            return Err(Error::usage(
                "apply needs a plan file or --env ENV",
                "landfall apply plan.json, or landfall apply --env dev",
            ));
        }
    };
    run(
        ctx,
        &env,
        saved,
        &args.scoping,
        args.auto_approve,
        (false, false),
    )
}

/// `landfall destroy --env ENV`: deletes every resource of the environment (or of the scope), in
/// reverse dependency order, after confirmation.
pub fn destroy(ctx: &Ctx, args: DestroyArgs) -> Result {
    let how = (true, args.allow_account_closure);
    run(ctx, &args.env, None, &args.scoping, args.auto_approve, how)
}

/// A plan file saved by `plan --out`, of this landfall's format version.
pub(crate) fn load_plan(file: &Path) -> Result<Plan> {
    let not_a_plan = |reason: String| Error::PlanFile {
        path: file.to_path_buf(),
        reason,
    };
    // The version first: a plan of another format may not even parse as this one.
    let doc: serde_json::Value = std::fs::read_to_string(file)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
        .map_err(not_a_plan)?;
    let version = &doc["format_version"];
    if version.as_u64() != Some(plan::FORMAT_VERSION.into()) {
        return Err(Error::PlanVersion {
            path: file.to_path_buf(),
            found: version.to_string(),
            expected: plan::FORMAT_VERSION,
        });
    }
    serde_json::from_value(doc).map_err(|e| not_a_plan(e.to_string()))
}

/// A saved plan, checked against what the command line says.
fn read_plan(file: &Path, env: Option<&str>, args: &ApplyArgs) -> Result<Plan> {
    let scoping = Scoping {
        replace: Vec::new(),
        ..args.scoping.clone()
    };
    if scoping.narrows() {
        return Err(Error::usage(
            "a saved plan is applied as it was made: --target, --exclude, --stack and --refresh \
             cannot change it",
            "give those options to `landfall plan --out FILE`, or apply with --env ENV instead of a file",
        ));
    }
    let plan = load_plan(file)?;
    acknowledged(file, &plan, args)?;
    match env {
        Some(env) if env != plan.environment => Err(Error::PlanEnvironment {
            plan: plan.environment,
            given: env.to_string(),
        }),
        _ => Ok(plan),
    }
}

/// Refuses a saved plan whose options do more than configuration and state imply (destroy, account
/// closure, `--replace`) unless the command line says the same options.
fn acknowledged(file: &Path, plan: &Plan, args: &ApplyArgs) -> Result<()> {
    let filter = plan
        .derived_from
        .as_ref()
        .map(|d| d.options.filter.clone())
        .unwrap_or_default();
    let set = |v: &[String]| v.iter().cloned().collect::<std::collections::BTreeSet<_>>();
    let said = Acknowledged {
        destroy: plan.destroy,
        allow_account_closure: filter.allow_account_closure,
    };
    if said == args.acknowledge && set(&filter.replace) == set(&args.scoping.replace) {
        return Ok(());
    }
    let mut flags: Vec<String> = [
        (said.destroy, "--destroy"),
        (said.allow_account_closure, "--allow-account-closure"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, flag)| flag.to_string())
    .collect();
    flags.extend(
        set(&filter.replace)
            .iter()
            .map(|a| format!("--replace {a}")),
    );
    Err(Error::Unacknowledged {
        path: file.to_path_buf(),
        says: match flags.is_empty() {
            true => "none of --destroy, --allow-account-closure, --replace".into(),
            false => flags.join(" "),
        },
        flags: flags.iter().map(|f| format!(" {f}")).collect(),
    })
}

/// Applies `saved`, or a plan made now (`how`: destroy, allow account closure) once confirmed.
fn run(
    ctx: &Ctx,
    env: &str,
    saved: Option<Plan>,
    scoping: &Scoping,
    auto_approve: bool,
    (destroy, allow_account_closure): (bool, bool),
) -> Result {
    runtime().block_on(async {
        let (ws, aws, backend) = open(ctx, env).await?;
        let saved_plan = saved.is_some();
        let plan = match saved {
            Some(plan) => plan,
            None => {
                // With --lock-timeout: after the run before this one, so that the plan is not stale.
                backend.wait_unlocked(env, &ws.stacks()).await?;
                let plan =
                    make(&ws, &aws, &backend, scoping, destroy, allow_account_closure).await?;
                super::plan::print_plan(&plan, PlanFormat::Text, ctx.stdout_color)?;
                if let Some(message) = plan.refusal() {
                    return Err(Error::Refused {
                        message,
                        applying: true,
                    });
                }
                if !plan.has_changes() {
                    print_stats(&aws, scoping.stats);
                    return Ok(Exit::Success);
                }
                if !auto_approve {
                    let verb = if destroy { "destroy" } else { "apply" };
                    confirm(&format!(
                        "\nDo you want to {verb} these changes to `{env}`?"
                    ))?;
                }
                plan
            }
        };
        if !plan.has_changes() {
            println!("No changes to apply.");
            return Ok(Exit::Success);
        }
        let options = ApplyOptions {
            parallelism: scoping.parallelism.unwrap_or(ws.parallelism()),
            operation: if plan.destroy { "destroy" } else { "apply" }.into(),
            saved: saved_plan,
        };
        let (moved, environment) = (plan.moved.len(), plan.environment.clone());
        let result = engine::apply(&ws, &aws, &backend, plan, &options).await;
        print_stats(&aws, scoping.stats);
        finish(&result?, moved, &environment)
    })
}

/// Asks for "yes" on the terminal; anything else cancels. Without a terminal, refuses.
fn confirm(question: &str) -> Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::NoTerminal);
    }
    print!("{question}\n  Only 'yes' will be accepted: ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(Error::Confirm)?;
    if line.trim() == "yes" {
        return Ok(());
    }
    eprintln!("Cancelled; nothing was changed.");
    Err(Error::Reported)
}

/// Says what was done; an apply that did not make every change is an error.
fn finish(r: &ApplyReport, moved: usize, environment: &str) -> Result {
    if !(r.failed.is_empty() && r.skipped.is_empty() && !r.interrupted) {
        return Err(Error::Incomplete {
            done: r.done,
            failed: r.failed.clone(),
            skipped: r.skipped.clone(),
            interrupted: r.interrupted,
        });
    }
    let moved = match moved {
        0 => String::new(),
        1 => " (and 1 move recorded in state)".into(),
        n => format!(" (and {n} moves recorded in state)"),
    };
    println!(
        "\nApply complete: {} change{} made to environment `{}`{moved}.",
        r.done,
        if r.done == 1 { "" } else { "s" },
        environment
    );
    Ok(Exit::Success)
}
