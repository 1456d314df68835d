//! The `landfall` command line: parses the arguments (clap) and calls the command in
//! [`landfall::cmd`]; its result becomes the exit code: 0 success, 1 errors (in configuration or at
//! run time), 2 usage mistakes (and changes, with `plan --detailed-exitcode`).

use clap::{Parser, Subcommand, ValueEnum};
use landfall::cmd::{self, Ctx, Error, PlanFormat, Scoping, StateCommand, ValidateFormat};
use landfall::graph;
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

impl Color {
    /// Whether to colour a stream: `auto` colours a terminal unless `NO_COLOR` is set. Each stream
    /// decides for itself (stdout may be a file while stderr is a terminal).
    fn on(self, terminal: bool) -> bool {
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }
}

/// A command that only prints ends quietly when its reader goes away (`landfall plan | head`), as
/// other command-line tools do, instead of failing on the broken pipe. Apply and destroy keep the
/// broken pipe an error they survive: they hold locks and must finish writing state.
fn quiet_on_closed_pipe() {
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// `--lock-timeout`, on the commands that lock state.
#[derive(clap::Args, Clone, Copy)]
struct LockWait {
    /// Wait this long for a state lock someone else holds (e.g. 30s, 5m), saying who holds it, instead
    /// of failing at once (the default, 0s).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration,
          default_value = "0s", global = true)]
    lock_timeout: std::time::Duration,
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
        #[arg(long, value_enum, default_value_t = landfall::schema::json_schema::FileType::Stack)]
        file: landfall::schema::json_schema::FileType,
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
        #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
        format: PlanFormat,
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
        scoping: Scoping,
    },
    /// Apply a saved plan exactly, or plan and apply an environment after confirmation.
    Apply {
        /// A plan saved with `plan --out`: derived again from configuration, state and AWS, and
        /// applied without asking only if it says exactly the same; refused otherwise.
        plan_file: Option<PathBuf>,
        #[arg(short, long)]
        env: Option<String>,
        /// Do not ask for confirmation.
        #[arg(long)]
        auto_approve: bool,
        /// How progress is reported: text (a live view on a terminal, plain lines otherwise, on
        /// stderr) or json (one JSON object per event per line on stdout; see docs/events.md).
        #[arg(long, value_enum, default_value_t = landfall::report::Format::Text)]
        format: landfall::report::Format,
        /// How often a change that takes long is reported as still running (plain and JSON output).
        #[arg(long, value_parser = humantime::parse_duration, default_value = "30s")]
        heartbeat: std::time::Duration,
        /// With a saved plan: it is a destroy plan (made with `plan --destroy`); a saved destroy plan is
        /// applied only with this flag.
        #[arg(long, requires = "plan_file")]
        destroy: bool,
        /// With a saved plan: it allows closing accounts (made with `--allow-account-closure`).
        #[arg(long, requires = "destroy")]
        allow_account_closure: bool,
        #[command(flatten)]
        scoping: Scoping,
        #[command(flatten)]
        lock: LockWait,
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
        /// How progress is reported: text (a live view on a terminal, plain lines otherwise, on
        /// stderr) or json (one JSON object per event per line on stdout; see docs/events.md).
        #[arg(long, value_enum, default_value_t = landfall::report::Format::Text)]
        format: landfall::report::Format,
        /// How often a change that takes long is reported as still running (plain and JSON output).
        #[arg(long, value_parser = humantime::parse_duration, default_value = "30s")]
        heartbeat: std::time::Duration,
        #[command(flatten)]
        scoping: Scoping,
        #[command(flatten)]
        lock: LockWait,
    },
    /// Inspect or edit state: list, show, rm, mv.
    State {
        #[arg(short, long, global = true)]
        env: Option<String>,
        #[command(subcommand)]
        command: StateCmd,
        #[command(flatten)]
        lock: LockWait,
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
        #[command(flatten)]
        lock: LockWait,
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
    /// Render a saved plan again (what the apply job is about to apply, or the merge-request comment
    /// from the plan artifact). Needs no project or credentials.
    Show {
        /// A plan saved with `plan --out`.
        plan_file: PathBuf,
        #[arg(long, value_enum, default_value_t = cmd::PlanFormat::Text)]
        format: cmd::PlanFormat,
        /// With --format markdown: write each comment-sized part to DIR/plan-N.md.
        #[arg(long, value_name = "DIR")]
        parts_dir: Option<PathBuf>,
    },
    /// List the environments and stacks whose desired resources differ between git revision REF and
    /// the working tree (offline: no AWS call, no state read), for pipelines that plan only those.
    Affected {
        /// The revision to compare with (the merge request's base: `origin/main`, a commit).
        #[arg(long, value_name = "REF")]
        base: String,
        #[arg(long, value_enum, default_value_t = cmd::AffectedFormat::Text)]
        format: cmd::AffectedFormat,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_log();
    if !matches!(cli.command, Command::Apply { .. } | Command::Destroy { .. }) {
        quiet_on_closed_pipe();
    }
    let color = cli.color.on(std::io::stderr().is_terminal());
    let stdout_color = cli.color.on(std::io::stdout().is_terminal());
    let code = cmd::exit_code(run(cli, color, stdout_color), color);
    let _ = std::io::stdout().flush();
    ExitCode::from(code)
}

/// `LANDFALL_LOG=debug` logs every AWS request to stderr (service, operation, account, region,
/// status, latency, attempt); a bare level applies to landfall, a filter (`landfall=debug,aws_smithy_runtime=trace`)
/// is used as written.
fn init_log() {
    let Some(spec) = std::env::var("LANDFALL_LOG").ok().filter(|s| !s.is_empty()) else {
        return;
    };
    let spec = if spec.contains('=') {
        spec
    } else {
        format!("landfall={spec}")
    };
    match tracing_subscriber::EnvFilter::try_new(&spec) {
        Ok(filter) => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .init(),
        Err(e) => eprintln!("warning: LANDFALL_LOG={spec} is not a log filter ({e}); not logging"),
    }
}

/// Calls the command. Every command but `kinds` and `import-org` runs in a project, found from the
/// working folder (`-C DIR`).
fn run(cli: Cli, color: bool, stdout_color: bool) -> cmd::Result {
    let cwd = match cli.chdir {
        Some(dir) => dir,
        None => std::env::current_dir().map_err(Error::WorkingFolder)?,
    };
    let lock_timeout = lock_timeout(&cli.command);
    let ctx = || {
        Ctx::find(&cwd, color).map(|c| {
            c.with_stdout_color(stdout_color)
                .with_lock_timeout(lock_timeout)
        })
    };
    select_reporter(&cli.command);
    match cli.command {
        Command::Validate { env, format } => cmd::validate(&ctx()?, &env, format),
        Command::Graph { env, format } => cmd::graph(&ctx()?, &env, format),
        Command::Kinds { kind } => cmd::kinds(kind.as_deref()),
        Command::Init { env } => cmd::init(&ctx()?, &env),
        c @ (Command::Schema { .. } | Command::Completions { .. } | Command::Complete { .. }) => {
            authoring(c, &cwd)
        }
        Command::Plan {
            env,
            out,
            format,
            detailed_exitcode,
            destroy,
            allow_account_closure,
            scoping,
        } => cmd::plan(
            &ctx()?,
            cmd::PlanArgs {
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
            destroy,
            allow_account_closure,
            ..
        } => cmd::apply(
            &ctx()?,
            cmd::ApplyArgs {
                plan_file,
                env,
                auto_approve,
                scoping,
                acknowledge: cmd::Acknowledged {
                    destroy,
                    allow_account_closure,
                },
            },
        ),
        Command::Destroy {
            env,
            auto_approve,
            allow_account_closure,
            scoping,
            ..
        } => cmd::destroy(
            &ctx()?,
            cmd::DestroyArgs {
                env,
                auto_approve,
                allow_account_closure,
                scoping,
            },
        ),
        Command::State { env, command, .. } => {
            let env = env.ok_or_else(|| {
                Error::usage(
                    "state commands need --env ENV",
                    "landfall state list --env dev",
                )
            })?;
            let command = match command {
                StateCmd::List => StateCommand::List,
                StateCmd::Show { address } => StateCommand::Show(address),
                StateCmd::Rm { addresses } => StateCommand::Rm(addresses),
                StateCmd::Mv { from, to } => StateCommand::Mv(from, to),
            };
            cmd::state(&ctx()?, &env, command)
        }
        Command::Output { env, stack, json } => cmd::output(&ctx()?, &env, stack.as_deref(), json),
        Command::Import {
            env, address, id, ..
        } => cmd::import(&ctx()?, &env, &address, &id),
        Command::ImportOrg { env, stack } => cmd::import_org(&cwd, &env, &stack),
        Command::ForceUnlock {
            env,
            stack,
            lock_id,
        } => cmd::force_unlock(&ctx()?, &env, stack.as_deref(), &lock_id),
        Command::Show {
            plan_file,
            format,
            parts_dir,
        } => cmd::show(cmd::ShowArgs {
            plan_file,
            format,
            parts_dir,
            color: stdout_color,
        }),
        Command::Affected { base, format } => cmd::affected(&ctx()?, &base, format),
    }
}

/// `--lock-timeout` of the commands that lock state (zero for the others).
fn lock_timeout(command: &Command) -> std::time::Duration {
    match command {
        Command::Apply { lock, .. }
        | Command::Destroy { lock, .. }
        | Command::Import { lock, .. }
        | Command::State { lock, .. } => lock.lock_timeout,
        _ => std::time::Duration::ZERO,
    }
}

/// Apply and destroy report through the reporter their `--format` and `--heartbeat` choose.
fn select_reporter(command: &Command) {
    if let Command::Apply {
        format, heartbeat, ..
    }
    | Command::Destroy {
        format, heartbeat, ..
    } = command
    {
        let (format, heartbeat) = (*format, *heartbeat);
        landfall::report::select(landfall::report::Settings { format, heartbeat });
    }
}

/// The commands that help write configuration: schemas for editors, shell completions.
fn authoring(command: Command, cwd: &std::path::Path) -> cmd::Result {
    match command {
        Command::Schema { file, out: None } => {
            let doc = landfall::schema::json_schema::schema(file);
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
            Ok(cmd::Exit::Success)
        }
        Command::Schema { out: Some(dir), .. } => {
            let paths = landfall::schema::json_schema::write_all(&dir)
                .map_err(|error| Error::WriteFile { path: dir, error })?;
            paths.iter().for_each(|p| println!("{}", p.display()));
            Ok(cmd::Exit::Success)
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            print!(
                "{}",
                landfall::complete::script(shell, &mut Cli::command(), "landfall")
            );
            Ok(cmd::Exit::Success)
        }
        Command::Complete { what } => {
            print!("{}", landfall::complete::names(cwd, what));
            Ok(cmd::Exit::Success)
        }
        _ => unreachable!("only the authoring commands are passed here"),
    }
}
