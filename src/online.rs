//! The commands that talk to AWS or to state: init, plan, apply, destroy, state, output, import,
//! force-unlock.

use crate::{fail, report};
use indexmap::IndexMap;
use landfall::aws::{self, Aws};
use landfall::diag::Diagnostic;
use landfall::engine::{self, ApplyOptions, ApplyReport, Error, PlanOptions, Workspace};
use landfall::load::LoadError;
use landfall::plan::{self, Filter, Plan, render};
use landfall::provider::{self, Cx, Location};
use landfall::schema::{self, Scope};
use landfall::state::{Backend, LockInfo, ResourceState, State};
use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

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

fn filter(scoping: &Scoping, destroy: bool, allow_account_closure: bool) -> Filter {
    Filter {
        targets: scoping.targets.clone(),
        excludes: scoping.excludes.clone(),
        stacks: scoping.stacks.clone(),
        destroy,
        allow_account_closure,
        replace: scoping.replace.clone(),
    }
}

fn print_stats(aws: &Aws, enabled: bool) {
    if enabled {
        eprint!("{}", aws.stats().render());
    }
}

pub fn init(ctx: &Ctx, env: &str) -> ExitCode {
    runtime().block_on(async {
        let (ws, _aws, backend) = match open(ctx, env).await {
            Ok(x) => x,
            Err(e) => return error(ctx, e),
        };
        match backend.init().await {
            Ok(true) => println!(
                "Created state bucket for {} (versioning, default encryption, public access blocked).",
                backend.describe(&ws.env, "*")
            ),
            Ok(false) => println!("State backend ready: {}", backend.describe(&ws.env, "*")),
            Err(e) => return error(ctx, e.into()),
        }
        ExitCode::SUCCESS
    })
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

pub struct ApplyArgs {
    pub plan_file: Option<std::path::PathBuf>,
    pub env: Option<String>,
    pub auto_approve: bool,
    pub destroy: bool,
    pub allow_account_closure: bool,
    pub scoping: Scoping,
}

/// Asks for "yes" on the terminal. Without a terminal, refuses.
fn confirm(question: &str) -> Result<bool, String> {
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
                let plan = match read_plan_file(file) {
                    Ok(p) => p,
                    Err(d) => return fail(ctx.color, d),
                };
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

fn finish(ctx: &Ctx, r: &ApplyReport, plan: &Plan) -> ExitCode {
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

pub enum StateCommand {
    List,
    Show(String),
    Rm(Vec<String>),
    Mv(String, String),
}

pub fn state(ctx: &Ctx, env: &str, command: StateCommand) -> ExitCode {
    runtime().block_on(async {
        let (ws, aws, backend) = match open(ctx, env).await {
            Ok(x) => x,
            Err(e) => return error(ctx, e),
        };
        let result: Result<(), Error> = async {
            match command {
                StateCommand::List => {
                    for stored in engine::read_states(&ws, &backend).await?.values() {
                        for r in &stored.state.resources {
                            println!("{}", r.address);
                        }
                    }
                    Ok(())
                }
                StateCommand::Show(address) => {
                    let states = engine::read_states(&ws, &backend).await?;
                    let found = states
                        .values()
                        .find_map(|s| s.state.resource(&address).cloned())
                        .ok_or_else(|| Error::Other(format!("{address} is not in state")))?;
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&found).unwrap_or_default()
                    );
                    Ok(())
                }
                StateCommand::Rm(addresses) => {
                    for address in addresses {
                        let stack = landfall::address::stack_of(&address).to_string();
                        edit_state(&ws, &aws, &backend, &stack, "state rm", |s| {
                            s.remove(&address)
                                .map(|_| {
                                    format!("Removed {address} from state (AWS was not touched).")
                                })
                                .ok_or_else(|| format!("{address} is not in state"))
                        })
                        .await?;
                    }
                    Ok(())
                }
                StateCommand::Mv(from, to) => {
                    landfall::state::check_shapes(&from, &to)
                        .map_err(|e| Error::Other(e.to_string()))?;
                    let stacks = ws.stacks();
                    edit_states(&ws, &aws, &backend, &stacks, "state mv", |states| {
                        let moved = landfall::state::move_addresses(states, &from, &to)
                            .map_err(|e| e.to_string())?;
                        if moved.is_empty() {
                            return Ok(format!("Moved the create in progress at {from} to {to}."));
                        }
                        Ok(moved
                            .iter()
                            .map(|m| format!("Moved {} to {}.", m.from, m.to))
                            .collect::<Vec<_>>()
                            .join("\n"))
                    })
                    .await
                }
            }
        }
        .await;
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => error(ctx, e),
        }
    })
}

/// Changes several stacks' state under their locks (all taken first, all released at the end); only the
/// documents that changed are written.
async fn edit_states(
    ws: &Workspace,
    aws: &Aws,
    backend: &Backend,
    stacks: &[String],
    operation: &str,
    edit: impl FnOnce(&mut IndexMap<String, State>) -> Result<String, String>,
) -> Result<(), Error> {
    let who = aws
        .caller()
        .await
        .map(|c| c.arn.clone())
        .unwrap_or_else(|_| "unknown".into());
    let lock = LockInfo::new(&who, operation);
    let mut locked = Vec::new();
    let mut result: Result<(), Error> = Ok(());
    for stack in stacks {
        match backend.lock(&ws.env, stack, &lock, &ws.stacks()).await {
            Ok(()) => locked.push(stack.clone()),
            Err(e) => {
                result = Err(e.into());
                break;
            }
        }
    }
    if result.is_ok() {
        result = async {
            let mut states = IndexMap::new();
            let mut etags = HashMap::new();
            for stack in stacks {
                match backend.read(&ws.env, stack).await? {
                    Some(s) => {
                        etags.insert(stack.clone(), s.etag);
                        states.insert(stack.clone(), s.state);
                    }
                    None => {
                        states.insert(stack.clone(), State::new(&ws.env, stack));
                    }
                }
            }
            let before = states.clone();
            let message = edit(&mut states).map_err(Error::Other)?;
            for (stack, mut state) in states {
                if before.get(&stack) != Some(&state) {
                    state.serial += 1;
                    backend
                        .write(&state, etags.get(&stack).map(String::as_str))
                        .await?;
                }
            }
            println!("{message}");
            Ok(())
        }
        .await;
    }
    for stack in &locked {
        if let Err(e) = backend.unlock(&ws.env, stack, &lock.id).await {
            eprintln!("warning: could not release the lock of {stack}: {e}");
        }
    }
    result
}

/// Changes one stack's state under its lock.
async fn edit_state(
    ws: &Workspace,
    aws: &Aws,
    backend: &Backend,
    stack: &str,
    operation: &str,
    edit: impl FnOnce(&mut landfall::state::State) -> Result<String, String>,
) -> Result<(), Error> {
    if !ws.stacks().iter().any(|s| s == stack) {
        return Err(Error::Other(format!(
            "environment `{}` has no stack `{stack}` (addresses start with their stack)",
            ws.env
        )));
    }
    let who = aws
        .caller()
        .await
        .map(|c| c.arn.clone())
        .unwrap_or_else(|_| "unknown".into());
    let lock = LockInfo::new(&who, operation);
    backend.lock(&ws.env, stack, &lock, &ws.stacks()).await?;
    let result: Result<(), Error> = async {
        let stored = backend.read(&ws.env, stack).await?;
        let (mut state, etag) = match stored {
            Some(s) => (s.state, Some(s.etag)),
            None => (landfall::state::State::new(&ws.env, stack), None),
        };
        let message = edit(&mut state).map_err(Error::Other)?;
        state.serial += 1;
        backend.write(&state, etag.as_deref()).await?;
        println!("{message}");
        Ok(())
    }
    .await;
    let unlocked = backend.unlock(&ws.env, stack, &lock.id).await;
    result?;
    unlocked.map_err(Error::from)
}

pub fn output(ctx: &Ctx, env: &str, stack: Option<&str>, json: bool) -> ExitCode {
    runtime().block_on(async {
        let (ws, _aws, backend) = match open(ctx, env).await {
            Ok(x) => x,
            Err(e) => return error(ctx, e),
        };
        let states = match engine::read_states(&ws, &backend).await {
            Ok(s) => s,
            Err(e) => return error(ctx, e),
        };
        let mut all = serde_json::Map::new();
        for (name, stored) in &states {
            if stack.is_some_and(|s| s != name) {
                continue;
            }
            all.insert(
                name.clone(),
                serde_json::Value::Object(stored.state.outputs.clone()),
            );
        }
        if json {
            println!("{}", serde_json::to_string_pretty(&all).unwrap_or_default());
        } else {
            for (name, outputs) in &all {
                for (k, v) in outputs.as_object().into_iter().flatten() {
                    println!("{name}.{k} = {v}");
                }
            }
        }
        ExitCode::SUCCESS
    })
}

pub fn import(ctx: &Ctx, env: &str, address: &str, id: &str) -> ExitCode {
    runtime().block_on(async {
        let (ws, aws, backend) = match open(ctx, env).await {
            Ok(x) => x,
            Err(e) => return error(ctx, e),
        };
        let result: Result<(), Error> = async {
            let stored = engine::read_states(&ws, &backend).await?;
            let known = engine::known_values(&ws, &backend, &stored).await?;
            let (_, resolved) = ws.resolve(&known)?;
            let inst = resolved
                .instances
                .iter()
                .find(|i| i.address == address)
                .ok_or_else(|| {
                    Error::Other(format!(
                        "{address} is not in the configuration of `{env}`; declare it first, then import"
                    ))
                })?;
            if inst.account.has_unknown() {
                return Err(Error::Other(format!(
                    "the account of {address} is not known yet; import or create its account first"
                )));
            }
            let loc = Location {
                account: plan::account_of(inst),
                region: match inst.kind.scope {
                    Scope::Regional => inst.region.clone().unwrap_or_else(|| ws.home_region().into()),
                    Scope::Global => ws.home_region().into(),
                },
            };
            let cx = Cx::standalone(&aws, &loc, "");
            let found = provider::read(inst.kind.name, &cx, &[id.to_string()]).await?;
            let live = found.into_iter().find(|l| l.id == id).ok_or_else(|| {
                Error::Other(format!("no {} with id `{id}` found in {}", inst.kind.name, describe(&loc)))
            })?;
            let mut attributes = plan::desired_json(inst);
            attributes.retain(|_, v| v.as_str() != Some("(known after apply)"));
            for (k, v) in live.attrs {
                attributes.insert(k, v);
            }
            let resource = ResourceState {
                address: address.to_string(),
                kind: inst.kind.name.to_string(),
                id: live.id,
                account: loc.account.clone(),
                region: (schema::kind(inst.kind.name).map(|k| k.scope) == Some(Scope::Regional))
                    .then(|| loc.region.clone()),
                attributes,
                dependencies: inst.deps.iter().map(|d| resolved.instances[d.0 as usize].address.clone()).collect(),
            };
            edit_state(&ws, &aws, &backend, &inst.stack, "import", |s| {
                if s.resource(address).is_some() {
                    return Err(format!("{address} is already in state; `landfall state rm` it first to import another"));
                }
                s.put(resource);
                Ok(format!("Imported {address} ({id}). Run `landfall plan --env {env}` to see how it differs from the configuration."))
            })
            .await
        }
        .await;
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => error(ctx, e),
        }
    })
}

fn describe(loc: &Location) -> String {
    match &loc.account {
        Some(a) => format!("account {a}, {}", loc.region),
        None => format!("the management account, {}", loc.region),
    }
}

/// `landfall force-unlock`: releases the lock `id` of one stack, or of every stack of the environment
/// whose lock carries `id` (what a dead run left). A lock with another id is never released.
pub fn force_unlock(ctx: &Ctx, env: &str, stack: Option<&str>, id: &str) -> ExitCode {
    runtime().block_on(async {
        let (ws, _aws, backend) = match open(ctx, env).await {
            Ok(x) => x,
            Err(e) => return error(ctx, e),
        };
        let stacks = match stack {
            Some(stack) => vec![stack.to_string()],
            None => match backend.held_by(&ws.env, &ws.stacks(), id).await {
                Ok(held) if held.is_empty() => {
                    return fail(
                        ctx.color,
                        Diagnostic::error(format!(
                            "no stack of environment `{}` has a lock with id {id}",
                            ws.env
                        ))
                        .help(format!(
                            "the lock may have been released already; `landfall apply --env {}` says who holds a lock",
                            ws.env
                        )),
                    );
                }
                Ok(held) => held,
                Err(e) => return error(ctx, e.into()),
            },
        };
        for stack in &stacks {
            match backend.unlock(&ws.env, stack, id).await {
                Ok(()) => println!(
                    "Released the lock {id} of {}.",
                    backend.describe(&ws.env, stack)
                ),
                Err(e) => return error(ctx, e.into()),
            }
        }
        ExitCode::SUCCESS
    })
}

/// `landfall import-org`: see [`landfall::engine::import_org`]. Runs without a project too (it writes
/// one), so it takes the working folder rather than a [`Ctx`].
pub fn import_org(color: bool, dir: &std::path::Path, env: &str, stack: &str) -> ExitCode {
    use landfall::engine::import_org::{self, Request};
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

/// Reads a saved plan. The format version is checked before the rest of the file, so a plan saved by
/// another landfall version is named as such, not as a malformed file.
fn read_plan_file(file: &std::path::Path) -> Result<Plan, Diagnostic> {
    let not_a_plan = |e: String| {
        Diagnostic::error(format!(
            "{} is not a landfall plan file: {e}",
            file.display()
        ))
        .help("make one with `landfall plan --env ENV --out FILE`")
    };
    let doc: serde_json::Value = std::fs::read_to_string(file)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
        .map_err(not_a_plan)?;
    let version = &doc["format_version"];
    if version.as_u64() != Some(plan::FORMAT_VERSION.into()) {
        return Err(Diagnostic::error(format!(
            "{} has plan format version {version}; this landfall reads format version {}",
            file.display(),
            plan::FORMAT_VERSION
        ))
        .help("the plan was saved by another landfall version: run `landfall plan --env ENV --out FILE` again and apply the new file"));
    }
    serde_json::from_value(doc).map_err(|e| not_a_plan(e.to_string()))
}
