//! The `landfall` command line. Parses arguments, runs a command, and is the one place that turns
//! errors into messages and exit codes: 0 success, 1 errors (in configuration or at run time), 2 usage.

mod online;

use clap::{Parser, Subcommand, ValueEnum};
use landfall::diag::{self, Diagnostic, Diagnostics};
use landfall::graph::{self, ResourceGraph};
use landfall::load::{self, LoadError};
use landfall::resolve::{self, Resolved};
use landfall::schema;
use landfall::source::Sources;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "landfall",
    version,
    about = "Provision multi-account AWS landing zones from declarative TOML"
)]
struct Cli {
    /// Run as if started in DIR (the project root or a folder below it).
    #[arg(short = 'C', long = "chdir", global = true, value_name = "DIR")]
    chdir: Option<PathBuf>,
    /// When to colour output.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    color: Color,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand)]
enum Command {
    /// Check an environment's configuration offline: syntax, types, references, cycles and AWS limits.
    Validate {
        /// The environment (a folder under environments/).
        #[arg(short, long)]
        env: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ValidateFormat::Text)]
        format: ValidateFormat,
    },
    /// Print the dependency graph of an environment's resources.
    Graph {
        #[arg(short, long)]
        env: String,
        #[arg(long, value_enum, default_value_t = graph::Format::Dot)]
        format: graph::Format,
    },
    /// List the resource kinds and their attributes.
    Kinds {
        /// Show one kind only.
        kind: Option<String>,
    },
    /// Print the JSON Schema of a configuration file, for editors (taplo, Even Better TOML).
    Schema {
        /// Which file's schema to print.
        #[arg(long, value_enum, default_value_t = schema::json_schema::FileType::Stack)]
        file: schema::json_schema::FileType,
        /// Write every file's schema into DIR instead (project, env, stack and module.schema.json).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Print a shell completion script; environment and stack names are completed from the project.
    Completions { shell: clap_complete::Shell },
    /// Environment or stack names of the project, for completion scripts.
    #[command(name = "__complete", hide = true)]
    Complete { what: landfall::complete::Names },
    /// Prepare the state backend: create the S3 bucket if missing (versioned, encrypted, private).
    Init {
        #[arg(short, long)]
        env: String,
    },
    /// Show what apply would change. Read-only: works with read-only credentials and takes no lock.
    Plan {
        #[arg(short, long)]
        env: String,
        /// Save the plan, for `landfall apply FILE`.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = online::PlanFormat::Text)]
        format: online::PlanFormat,
        /// Exit 0 when there are no changes, 2 when there are, 1 on errors.
        #[arg(long)]
        detailed_exitcode: bool,
        /// Plan a destroy (what `landfall destroy` would do); save it with --out and apply the file.
        #[arg(long)]
        destroy: bool,
        /// With --destroy: close accounts that have `close_on_destroy = true`.
        #[arg(long, requires = "destroy")]
        allow_account_closure: bool,
        #[command(flatten)]
        scoping: online::Scoping,
    },
    /// Apply a saved plan exactly, or plan and apply an environment after confirmation.
    Apply {
        /// A plan saved with `plan --out`; applied without asking, or refused if stale.
        plan_file: Option<PathBuf>,
        #[arg(short, long)]
        env: Option<String>,
        /// Do not ask for confirmation.
        #[arg(long)]
        auto_approve: bool,
        #[command(flatten)]
        scoping: online::Scoping,
    },
    /// Delete every resource of an environment, in reverse dependency order.
    Destroy {
        #[arg(short, long)]
        env: String,
        #[arg(long)]
        auto_approve: bool,
        /// Close accounts that have `close_on_destroy = true` (AWS allows closing 10% of an
        /// organization's accounts per 30 days); others are only removed from state.
        #[arg(long)]
        allow_account_closure: bool,
        #[command(flatten)]
        scoping: online::Scoping,
    },
    /// Inspect or edit state: list, show, rm, mv.
    State {
        #[arg(short, long, global = true)]
        env: Option<String>,
        #[command(subcommand)]
        command: StateCmd,
    },
    /// Print the outputs recorded by the last apply.
    Output {
        #[arg(short, long)]
        env: String,
        #[arg(long)]
        stack: Option<String>,
        /// As JSON: {stack: {output: value}}.
        #[arg(long)]
        json: bool,
    },
    /// Record an existing AWS resource in state under a configured address.
    Import {
        #[arg(short, long)]
        env: String,
        /// The resource's address, as `landfall state list` or `plan` show it.
        address: String,
        /// The AWS id (vpc-..., a role name, an account id...).
        id: String,
    },
    /// Adopt an existing AWS organization: write a stack (OUs, accounts, policies, attachments) and its
    /// state from what AWS has, so the next plan shows no changes. Read-only in AWS. Works in an empty
    /// folder too (writes landfall.toml and the environment file when missing).
    ImportOrg {
        #[arg(short, long)]
        env: String,
        /// The new stack's name: writes stacks/STACK.toml (never overwritten).
        #[arg(long)]
        stack: String,
    },
    /// Release the locks left by a run that died. Use the id the lock error printed.
    ForceUnlock {
        #[arg(short, long)]
        env: String,
        /// Only this stack's lock. Without it, every stack of the environment whose lock carries
        /// LOCK_ID is released (locks with another id are never touched).
        #[arg(long)]
        stack: Option<String>,
        lock_id: String,
    },
}

#[derive(Subcommand)]
enum StateCmd {
    /// Every resource address in state.
    List,
    /// One resource as state records it.
    Show { address: String },
    /// Forget resources (AWS is not touched).
    Rm {
        #[arg(required = true)]
        addresses: Vec<String>,
    },
    /// Give a resource, a module instance (`stack.module.net["a"]`) or everything under a prefix another
    /// address in state, in any stack of the environment; other resources' dependencies follow. AWS is
    /// not touched. A `[[moved]]` entry in the configuration does the same, reviewed with the plan.
    Mv { from: String, to: String },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ValidateFormat {
    Text,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            std::io::stderr().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let code = run(cli, color);
    let _ = std::io::stdout().flush();
    code
}

fn run(cli: Cli, color: bool) -> ExitCode {
    let cwd = match cli.chdir.clone().map_or_else(std::env::current_dir, Ok) {
        Ok(d) => d,
        Err(e) => {
            return fail(
                color,
                Diagnostic::error(format!("cannot determine the working folder: {e}")),
            );
        }
    };
    let root = || match load::find_root(&cwd) {
        Ok(r) => Ok(online::Ctx { color, root: r }),
        Err(e) => Err(fail(
            color,
            Diagnostic::error(e.to_string())
                .help("run landfall in a project folder, or pass -C DIR"),
        )),
    };
    macro_rules! ctx {
        () => {
            match root() {
                Ok(c) => c,
                Err(code) => return code,
            }
        };
    }
    match cli.command {
        Command::Kinds { kind } => kinds(kind.as_deref(), color),
        Command::Schema { file, out: None } => {
            let doc = schema::json_schema::schema(file);
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Command::Schema { out: Some(dir), .. } => match schema::json_schema::write_all(&dir) {
            Ok(paths) => {
                paths.iter().for_each(|p| println!("{}", p.display()));
                ExitCode::SUCCESS
            }
            Err(e) => fail(
                color,
                Diagnostic::error(format!("cannot write {}: {e}", dir.display())),
            ),
        },
        Command::Completions { shell } => {
            use clap::CommandFactory;
            print!(
                "{}",
                landfall::complete::script(shell, &mut Cli::command(), "landfall")
            );
            ExitCode::SUCCESS
        }
        Command::Complete { what } => {
            print!("{}", landfall::complete::names(&cwd, what));
            ExitCode::SUCCESS
        }
        Command::Init { env } => online::init(&ctx!(), &env),
        Command::Plan {
            env,
            out,
            format,
            detailed_exitcode,
            destroy,
            allow_account_closure,
            scoping,
        } => online::plan(
            &ctx!(),
            online::PlanArgs {
                env,
                out,
                format,
                detailed_exitcode,
                destroy,
                allow_account_closure,
                scoping,
            },
        ),
        Command::Apply {
            plan_file,
            env,
            auto_approve,
            scoping,
        } => online::apply(
            &ctx!(),
            online::ApplyArgs {
                plan_file,
                env,
                auto_approve,
                destroy: false,
                allow_account_closure: false,
                scoping,
            },
        ),
        Command::Destroy {
            env,
            auto_approve,
            allow_account_closure,
            scoping,
        } => online::apply(
            &ctx!(),
            online::ApplyArgs {
                plan_file: None,
                env: Some(env),
                auto_approve,
                destroy: true,
                allow_account_closure,
                scoping,
            },
        ),
        Command::State { env, command } => {
            let Some(env) = env else {
                return fail(color, Diagnostic::error("state commands need --env ENV"));
            };
            let command = match command {
                StateCmd::List => online::StateCommand::List,
                StateCmd::Show { address } => online::StateCommand::Show(address),
                StateCmd::Rm { addresses } => online::StateCommand::Rm(addresses),
                StateCmd::Mv { from, to } => online::StateCommand::Mv(from, to),
            };
            online::state(&ctx!(), &env, command)
        }
        Command::Output { env, stack, json } => {
            online::output(&ctx!(), &env, stack.as_deref(), json)
        }
        Command::Import { env, address, id } => online::import(&ctx!(), &env, &address, &id),
        Command::ImportOrg { env, stack } => online::import_org(color, &cwd, &env, &stack),
        Command::ForceUnlock {
            env,
            stack,
            lock_id,
        } => online::force_unlock(&ctx!(), &env, stack.as_deref(), &lock_id),
        Command::Validate { env, format } => {
            let (sources, result) = match resolve_env(&cwd, &env, color) {
                Ok(r) => r,
                Err(code) => return code,
            };
            match result {
                Ok((resolved, g)) => {
                    if format == ValidateFormat::Json {
                        let doc = serde_json::json!({
                            "valid": true,
                            "environment": env,
                            "summary": summary_json(&resolved, &g),
                            "diagnostics": [],
                        });
                        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
                    } else {
                        println!(
                            "Success! Environment `{env}` is valid: {}, {}, {}.",
                            plural(resolved.stacks.len(), "stack", "stacks"),
                            plural(resolved.instances.len(), "resource", "resources"),
                            plural(g.edge_count(), "dependency", "dependencies"),
                        );
                    }
                    ExitCode::SUCCESS
                }
                Err(diags) => {
                    if format == ValidateFormat::Json {
                        let doc = serde_json::json!({
                            "valid": false,
                            "environment": env,
                            "diagnostics": diag::to_json(&sources, &diags),
                        });
                        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
                        ExitCode::FAILURE
                    } else {
                        report(&sources, &diags, color)
                    }
                }
            }
        }
        Command::Graph { env, format } => {
            let (sources, result) = match resolve_env(&cwd, &env, color) {
                Ok(r) => r,
                Err(code) => return code,
            };
            match result {
                Ok((resolved, g)) => {
                    print!("{}", graph::render(&resolved, &g, format));
                    ExitCode::SUCCESS
                }
                Err(diags) => report(&sources, &diags, color),
            }
        }
    }
}

type Outcome = (Sources, Result<(Resolved, ResourceGraph), Diagnostics>);

/// Loads and resolves an environment; `Err` is an exit code when nothing could be loaded at all.
fn resolve_env(cwd: &std::path::Path, env: &str, color: bool) -> Result<Outcome, ExitCode> {
    let root = match load::find_root(cwd) {
        Ok(r) => r,
        Err(e) => {
            return Err(fail(
                color,
                Diagnostic::error(e.to_string())
                    .help("run landfall in a project folder, or pass -C DIR"),
            ));
        }
    };
    let loaded = match load::load(&root, env) {
        Ok(l) => l,
        Err(LoadError::Invalid(sources, mut diags)) => {
            diags.sort();
            return Ok((sources, Err(diags)));
        }
        Err(e @ LoadError::NoEnvironment { .. }) => {
            let LoadError::NoEnvironment { name, known, .. } = &e else {
                unreachable!()
            };
            let d = Diagnostic::error(e.to_string())
                .suggest(name, known.iter().map(String::as_str))
                .note(
                    None,
                    format!(
                        "environments: {}",
                        if known.is_empty() {
                            "(none)".into()
                        } else {
                            known.join(", ")
                        }
                    ),
                );
            return Err(fail(color, d));
        }
        Err(e) => return Err(fail(color, Diagnostic::error(e.to_string()))),
    };
    // The backend settings are checked offline too: a misspelled `kind` must not wait for `plan`.
    let backend = landfall::state::BackendConfig::from_table(
        &loaded.env.backend,
        &loaded.project.home_region,
    )
    .err()
    .unwrap_or_default();
    let (sources, resolved) = resolve::resolve(loaded);
    let result = match resolved {
        Ok(_) if !backend.is_empty() => Err(Diagnostics(backend)),
        Ok(r) => match ResourceGraph::new(&r) {
            Ok(g) => Ok((r, g)),
            Err(e) => return Err(fail(color, Diagnostic::error(e.to_string()))),
        },
        Err(mut d) => {
            d.0.extend(backend);
            d.sort();
            Err(d)
        }
    };
    Ok((sources, result))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn summary_json(resolved: &Resolved, g: &ResourceGraph) -> serde_json::Value {
    serde_json::json!({ "stacks": resolved.stacks.len(), "resources": resolved.instances.len(), "dependencies": g.edge_count() })
}

/// Prints diagnostics to stderr; exit 1 when any is an error.
fn report(sources: &Sources, diags: &Diagnostics, color: bool) -> ExitCode {
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

fn fail(color: bool, d: Diagnostic) -> ExitCode {
    report(&Sources::default(), &Diagnostics(vec![d]), color)
}

fn kinds(only: Option<&str>, color: bool) -> ExitCode {
    let selected: Vec<&schema::Kind> = match only {
        Some(name) => match schema::kind(name) {
            Some(k) => vec![k],
            None => {
                return fail(
                    color,
                    Diagnostic::error(format!("unknown resource kind `{name}`"))
                        .suggest(name, schema::KINDS.iter().map(|k| k.name)),
                );
            }
        },
        None => schema::KINDS.iter().collect(),
    };
    let mut out = String::new();
    for k in selected {
        out.push_str(&format!("{} — {}\n", k.name, k.doc));
        for a in k.attrs {
            let mut flags = Vec::new();
            if a.required {
                flags.push("required".to_string());
            }
            if a.computed {
                flags.push("computed".to_string());
            }
            if a.force_new {
                flags.push("forces replacement".to_string());
            }
            if let Some(d) = a.default {
                flags.push(format!("default {}", resolve::default_display(d)));
            }
            flags.extend(a.constraints());
            let flags = if flags.is_empty() {
                String::new()
            } else {
                format!(" [{}]", flags.join(", "))
            };
            out.push_str(&format!(
                "  {:<30} {}{flags}{}\n",
                a.name,
                a.ty.describe(),
                if a.doc.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", a.doc)
                }
            ));
            // The keys of a nested block (a route, a security group rule).
            let fields: &[schema::Field] = match a.ty {
                schema::AttrType::Object(fields) => fields,
                schema::AttrType::List(schema::AttrType::Object(fields)) => fields,
                _ => continue,
            };
            for f in fields {
                let mut flags = Vec::new();
                if f.required {
                    flags.push("required".to_string());
                }
                if let Some((min, max)) = f.range {
                    flags.push(format!("{min} to {max}"));
                }
                flags.extend(f.text.map(|t| t.describe()));
                let flags = if flags.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", flags.join(", "))
                };
                out.push_str(&format!("    .{:<27} {}{flags}\n", f.name, f.ty.describe()));
            }
        }
        out.push('\n');
    }
    print!("{out}");
    ExitCode::SUCCESS
}
