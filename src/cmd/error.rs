//! What stops a command, typed: the one place ([`Error::report`]) turns each into the message the user
//! reads (with what to do) and the exit code: 2 for usage mistakes, 1 for everything else.

use super::import_org;
use crate::diag::{self, Diagnostic, Diagnostics};
use crate::engine;
use crate::load::LoadError;
use crate::source::Sources;
use crate::state::MoveError;
use std::path::PathBuf;

/// Everything a command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The arguments do not make sense together (exit 2, like clap's own usage errors).
    #[error("{message}")]
    Usage { message: String, help: String },
    /// Already told the user (invalid configuration as JSON, a cancelled confirmation): exit 1.
    #[error("failed")]
    Reported,
    #[error(transparent)]
    Engine(Box<engine::Error>),
    #[error("cannot determine the working folder: {0}")]
    WorkingFolder(std::io::Error),
    #[error("the resource graph cannot be built: {0}")]
    Graph(String),
    #[error("unknown resource kind `{0}`")]
    UnknownKind(String),
    #[error("{address} is not in state")]
    NotInState { address: String },
    #[error("{address} is already in state; `landfall state rm` it first to import another")]
    AlreadyInState { address: String },
    #[error("environment `{env}` has no stack `{stack}` (addresses start with their stack)")]
    NoStack { env: String, stack: String },
    #[error(transparent)]
    Move(#[from] MoveError),
    #[error("{address} is not in the configuration of `{env}`; declare it first, then import")]
    NotConfigured { address: String, env: String },
    #[error("the account of {address} is not known yet; import or create its account first")]
    AccountUnknown { address: String },
    #[error("no {kind} with id `{id}` found in {place}")]
    NotInAws {
        kind: String,
        id: String,
        place: String,
    },
    #[error("{} is not a landfall plan file: {reason}", .path.display())]
    PlanFile { path: PathBuf, reason: String },
    #[error(
        "{} has plan format version {found}; this landfall reads format version {expected}",
        .path.display()
    )]
    PlanVersion {
        path: PathBuf,
        found: String,
        expected: u32,
    },
    /// A saved plan whose options do more than configuration implies, not repeated on the command line.
    #[error("{} was planned with {says}; the command line does not say the same", .path.display())]
    Unacknowledged {
        path: PathBuf,
        says: String,
        flags: String,
    },
    #[error("the plan is for environment `{plan}`, not `{given}`")]
    PlanEnvironment { plan: String, given: String },
    #[error("cannot write {}: {error}", .path.display())]
    WriteFile {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot write the plan to {}: {error}", .path.display())]
    WritePlan {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The plan holds a change landfall refuses to make (`applying`: met by apply, else by plan).
    #[error("cannot write to standard output: {0}")]
    Stdout(std::io::Error),
    #[error("{message}")]
    Refused { message: String, applying: bool },
    #[error("no terminal to confirm on: pass --auto-approve, or apply a saved plan file")]
    NoTerminal,
    #[error("cannot read the confirmation: {0}")]
    Confirm(std::io::Error),
    /// Apply stopped before every change was made.
    #[error(
        "apply {}: {done} done, {} failed, {} skipped",
        if *.interrupted { "interrupted" } else { "incomplete" },
        .failed.len(),
        .skipped.len()
    )]
    Incomplete {
        done: usize,
        failed: Vec<(String, String)>,
        skipped: Vec<String>,
        interrupted: bool,
    },
    #[error("no stack of environment `{env}` has a lock with id {id}")]
    NoLock { env: String, id: String },
    #[error(transparent)]
    ImportOrg(#[from] import_org::Error),
    /// `affected` could not read the repository (not one, an unknown revision, git missing).
    #[error("{message}")]
    Git { message: String, help: String },
}

impl From<engine::Error> for Error {
    fn from(e: engine::Error) -> Error {
        Error::Engine(Box::new(e))
    }
}

impl From<crate::state::StateError> for Error {
    fn from(e: crate::state::StateError) -> Error {
        engine::Error::from(e).into()
    }
}

impl From<crate::aws::AwsError> for Error {
    fn from(e: crate::aws::AwsError) -> Error {
        engine::Error::from(e).into()
    }
}

impl From<LoadError> for Error {
    fn from(e: LoadError) -> Error {
        engine::Error::from(e).into()
    }
}

impl Error {
    /// A usage mistake, with what to do instead.
    pub fn usage(message: impl Into<String>, help: impl Into<String>) -> Error {
        Error::Usage {
            message: message.into(),
            help: help.into(),
        }
    }

    /// The exit code: 2 for usage mistakes, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage { .. } => 2,
            _ => 1,
        }
    }

    /// Prints the error to stderr and returns the exit code.
    pub fn report(self, color: bool) -> u8 {
        let code = self.exit_code();
        match self.diagnostics() {
            // Configuration problems that are all warnings exit 0, as `validate` always did.
            Some((sources, diags)) if code == 1 => report(&sources, &diags, color),
            Some((sources, diags)) => report(&sources, &diags, color).max(code),
            None => code,
        }
    }

    /// What the user reads; `None` when it was printed already.
    fn diagnostics(self) -> Option<(Sources, Diagnostics)> {
        let one = |d: Diagnostic| Some((Sources::default(), Diagnostics(vec![d])));
        let d = match self {
            Error::Reported => return None,
            Error::Engine(e) => return engine_diagnostics(*e),
            Error::Usage { message, help } => Diagnostic::error(message).help(help),
            Error::UnknownKind(ref name) => Diagnostic::error(self.to_string())
                .suggest(name, crate::schema::KINDS.iter().map(|k| k.name)),
            Error::PlanVersion { .. } => Diagnostic::error(self.to_string()).help(
                "the plan was saved by another landfall version: run `landfall plan --env ENV --out FILE` again and apply the new file",
            ),
            Error::PlanFile { .. } => Diagnostic::error(self.to_string())
                .help("make one with `landfall plan --env ENV --out FILE`"),
            Error::Refused { applying, .. } => {
                Diagnostic::error(self.to_string()).help(if applying {
                    "nothing was changed"
                } else {
                    "this plan was not saved"
                })
            }
            Error::Incomplete { .. } => incomplete(&self),
            Error::Unacknowledged { ref flags, .. } => Diagnostic::error(self.to_string()).help(
                format!(
                    "nothing was changed: a saved plan that destroys, closes accounts or replaces on \
                     request is applied only with the same options; check it (`landfall show FILE`), \
                     then run `landfall apply FILE{flags}`"
                ),
            ),
            Error::Git { message, help } => Diagnostic::error(message).help(help),
            Error::NoLock { ref env, .. } => Diagnostic::error(self.to_string()).help(format!(
                "the lock may have been released already; `landfall apply --env {env}` says who holds a lock"
            )),
            other => Diagnostic::error(other.to_string()),
        };
        one(d)
    }
}

/// An engine error as diagnostics: configuration problems with their locations.
fn engine_diagnostics(e: engine::Error) -> Option<(Sources, Diagnostics)> {
    let d = match e {
        engine::Error::Config(sources, diags) => return Some((*sources, diags)),
        engine::Error::Load(e) => return load_diagnostics(e),
        e @ engine::Error::Stale(_) => Diagnostic::error(e.to_string()).help(
            "a saved plan can only be applied to the state and configuration it was made from",
        ),
        other => Diagnostic::error(other.to_string()),
    };
    Some((Sources::default(), Diagnostics(vec![d])))
}

/// Problems loading the project or environment, as diagnostics.
fn load_diagnostics(e: LoadError) -> Option<(Sources, Diagnostics)> {
    let d = match e {
        LoadError::Invalid(sources, mut diags) => {
            diags.sort();
            return Some((sources, diags));
        }
        LoadError::NoEnvironment {
            ref name,
            ref known,
            ..
        } => {
            let listed = if known.is_empty() {
                "(none)".into()
            } else {
                known.join(", ")
            };
            Diagnostic::error(e.to_string())
                .suggest(name, known.iter().map(String::as_str))
                .note(None, format!("environments: {listed}"))
        }
        LoadError::NoProject(_) => Diagnostic::error(e.to_string())
            .help("run landfall in a project folder, or pass -C DIR"),
        other => Diagnostic::error(other.to_string()),
    };
    Some((Sources::default(), Diagnostics(vec![d])))
}

fn incomplete(e: &Error) -> Diagnostic {
    let mut d = Diagnostic::error(e.to_string());
    if let Error::Incomplete {
        failed, skipped, ..
    } = e
    {
        for (address, message) in failed {
            d = d.note(None, format!("{address}: {message}"));
        }
        if !skipped.is_empty() {
            d = d.note(None, format!("skipped: {}", skipped.join(", ")));
        }
    }
    d.help("state holds everything that was done; fix the cause and run the command again")
}

/// Prints diagnostics to stderr, with a count of the errors; exit code 1 when any is an error, else 0.
pub fn report(sources: &Sources, diags: &Diagnostics, color: bool) -> u8 {
    let mut text = diag::render(sources, diags, color);
    let errors = diags.error_count();
    if errors > 0 {
        text.push_str(&format!(
            "Found {errors} error{}.\n",
            if errors == 1 { "" } else { "s" }
        ));
    }
    eprint!("{text}");
    u8::from(errors > 0)
}
