//! The `landfall` command line. Parses arguments, runs a command, and is the one place that turns
//! errors into messages and exit codes: 0 success, 1 errors (in configuration or at run time), 2 usage.

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
    match cli.command {
        Command::Kinds { kind } => kinds(kind.as_deref(), color),
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
    let (sources, resolved) = resolve::resolve(loaded);
    let result = match resolved {
        Ok(r) => match ResourceGraph::new(&r) {
            Ok(g) => Ok((r, g)),
            Err(e) => return Err(fail(color, Diagnostic::error(e.to_string()))),
        },
        Err(d) => Err(d),
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
        }
        out.push('\n');
    }
    print!("{out}");
    ExitCode::SUCCESS
}
