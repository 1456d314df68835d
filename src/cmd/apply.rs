//! `landfall apply` and `landfall destroy`: a saved plan, or a plan made and confirmed now.

use super::*;
use crate::plan;

pub struct ApplyArgs {
    pub plan_file: Option<std::path::PathBuf>,
    pub env: Option<String>,
    pub auto_approve: bool,
    pub destroy: bool,
    pub allow_account_closure: bool,
    pub scoping: Scoping,
}

/// Asks for "yes" on the terminal. Without a terminal, refuses.
pub(crate) fn confirm(question: &str) -> Result<bool, String> {
    if !std::io::stdin().is_terminal() {
        return Err(
            "no terminal to confirm on: pass --auto-approve, or apply a saved plan file".into(),
        );
    }
    print!("{question}\n  Only 'yes' will be accepted: ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    Ok(line.trim() == "yes")
}

pub fn apply(ctx: &Ctx, args: ApplyArgs) -> ExitCode {
    runtime().block_on(async {
        // A saved plan names its environment.
        let (saved, env) = match (&args.plan_file, &args.env) {
            (Some(file), env) => {
                let plan = match std::fs::read_to_string(file)
                    .map_err(|e| e.to_string())
                    .and_then(|t| serde_json::from_str::<Plan>(&t).map_err(|e| e.to_string()))
                {
                    Ok(p) => p,
                    Err(e) => {
                        return fail(
                            ctx.color,
                            Diagnostic::error(format!(
                                "{} is not a landfall plan file: {e}",
                                file.display()
                            ))
                            .help("make one with `landfall plan --env ENV --out FILE`"),
                        );
                    }
                };
                if plan.format_version != plan::FORMAT_VERSION {
                    return fail(
                        ctx.color,
                        Diagnostic::error(format!(
                            "the plan file has format version {}; this landfall reads {}",
                            plan.format_version,
                            plan::FORMAT_VERSION
                        )),
                    );
                }
                if let Some(env) = env
                    && *env != plan.environment
                {
                    return fail(
                        ctx.color,
                        Diagnostic::error(format!(
                            "the plan is for environment `{}`, not `{env}`",
                            plan.environment
                        )),
                    );
                }
                let env = plan.environment.clone();
                (Some(plan), env)
            }
            (None, Some(env)) => (None, env.clone()),
            (None, None) => {
                return fail(
                    ctx.color,
                    Diagnostic::error("apply needs a plan file or --env ENV")
                        .help("landfall apply plan.json, or landfall apply --env dev"),
                );
            }
        };
        let (ws, aws, backend) = match open(ctx, &env).await {
            Ok(x) => x,
            Err(e) => return error(ctx, e),
        };
        let parallelism = args.scoping.parallelism.unwrap_or(ws.parallelism());
        let plan = match saved {
            Some(p) => p,
            None => {
                let options = PlanOptions {
                    filter: filter(&args.scoping, args.destroy, args.allow_account_closure),
                    refresh: args.scoping.refresh,
                    parallelism,
                };
                let plan = match engine::make_plan(&ws, &aws, &backend, &options).await {
                    Ok(p) => p,
                    Err(e) => return error(ctx, e),
                };
                print!("{}", render::text(&plan, ctx.color));
                if let Some(refusal) = plan.refusal() {
                    return fail(
                        ctx.color,
                        Diagnostic::error(refusal).help("nothing was changed"),
                    );
                }
                if !plan.has_changes() {
                    print_stats(&aws, args.scoping.stats);
                    return ExitCode::SUCCESS;
                }
                if !args.auto_approve {
                    let verb = if args.destroy { "destroy" } else { "apply" };
                    match confirm(&format!(
                        "\nDo you want to {verb} these changes to `{env}`?"
                    )) {
                        Ok(true) => {}
                        Ok(false) => {
                            eprintln!("Cancelled; nothing was changed.");
                            return ExitCode::FAILURE;
                        }
                        Err(e) => return fail(ctx.color, Diagnostic::error(e)),
                    }
                }
                plan
            }
        };
        if !plan.has_changes() {
            println!("No changes to apply.");
            return ExitCode::SUCCESS;
        }
        let options = ApplyOptions {
            parallelism,
            operation: if plan.destroy { "destroy" } else { "apply" }.into(),
        };
        let result = engine::apply(&ws, &aws, &backend, &plan, &options).await;
        print_stats(&aws, args.scoping.stats);
        match result {
            Ok(r) => finish(ctx, &r, &plan),
            Err(e) => error(ctx, e),
        }
    })
}

pub(crate) fn finish(ctx: &Ctx, r: &ApplyReport, plan: &Plan) -> ExitCode {
    if r.failed.is_empty() && r.skipped.is_empty() && !r.interrupted {
        let moved = match plan.moved.len() {
            0 => String::new(),
            1 => " (and 1 move recorded in state)".into(),
            n => format!(" (and {n} moves recorded in state)"),
        };
        println!(
            "\nApply complete: {} change{} made to environment `{}`{moved}.",
            r.done,
            if r.done == 1 { "" } else { "s" },
            plan.environment
        );
        return ExitCode::SUCCESS;
    }
    let mut d = Diagnostic::error(format!(
        "apply {}: {} done, {} failed, {} skipped",
        if r.interrupted {
            "interrupted"
        } else {
            "incomplete"
        },
        r.done,
        r.failed.len(),
        r.skipped.len()
    ));
    for (address, message) in &r.failed {
        d = d.note(None, format!("{address}: {message}"));
    }
    if !r.skipped.is_empty() {
        d = d.note(None, format!("skipped: {}", r.skipped.join(", ")));
    }
    fail(
        ctx.color,
        d.help("state holds everything that was done; fix the cause and run the command again"),
    )
}
