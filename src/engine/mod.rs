//! The online stages: read state, refresh from AWS, plan, apply, destroy, import.
//!
//! ```text
//! state (backend) + resolved config --refresh--> live resources --diff--> Plan --apply--> AWS + state
//! ```
//!
//! Values AWS assigns (ids, ARNs) come from state into resolution ([`Known`]); a resource that will be
//! created or replaced has them unknown again, which is repeated until it settles, so "known after
//! apply" flows through every stack of the environment.

mod apply;
mod checkpoint;
pub mod events;
pub mod executor;
mod refresh;
pub mod schedule;
mod signal;
mod step;

pub use apply::{ApplyOptions, ApplyReport, Execution, apply, apply_with};
pub use refresh::{Refreshed, refresh};
pub use signal::Interrupts;

use crate::aws::{Aws, AwsError};
use crate::diag::Diagnostics;
use crate::load::{self, LoadError, Loaded};
use crate::plan::{self, Action, Basis, Filter, Observed, Plan};
use crate::resolve::{self, Known, Resolved};
use crate::source::Sources;
use crate::state::{Backend, BackendConfig, State, StateError, Stored};
use indexmap::IndexMap;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Everything that can stop a command after the configuration loaded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Load(#[from] LoadError),
    #[error("the configuration has errors")]
    Config(Box<Sources>, Diagnostics),
    #[error(transparent)]
    State(#[from] Box<StateError>),
    #[error(transparent)]
    Aws(#[from] Box<AwsError>),
    #[error("{}", .0.iter().map(|r| r.message.clone()).collect::<Vec<_>>().join("\n"))]
    Refused(Vec<plan::Refusal>),
    #[error("the saved plan is stale: {0}. Run `landfall plan` again")]
    Stale(String),
    /// A saved plan whose changes are not those configuration and state imply, each difference
    /// named ([`plan::verify`]).
    #[error(
        "the plan file does not match what configuration and state imply:\n  {}\nthe plan file was edited or is stale; run `landfall plan` again",
        .0.join("\n  ")
    )]
    PlanEdited(Vec<String>),
    /// A task of the run (a state read) panicked or was cancelled.
    #[error(transparent)]
    Task(#[from] tokio::task::JoinError),
    /// A `[[moved]]` entry of the configuration that state cannot take.
    #[error("cannot record the [[moved]] entry from {from} to {to}: {error}")]
    MoveEntry {
        from: String,
        to: String,
        error: Box<crate::state::MoveError>,
    },
    /// Apply could not install its SIGINT/SIGTERM handlers, so it does not start.
    #[error("could not listen for SIGINT/SIGTERM: {0}")]
    Signals(std::io::Error),
    /// The last checkpoints of an apply could not be written (`stack: cause`).
    #[error(
        "could not save state ({0}); the changes made are tagged and will be adopted by the next run"
    )]
    StateNotSaved(String),
    /// The resource graph or the apply schedule could not be built (a cycle validate missed).
    #[error("the resource graph cannot be built: {0}")]
    Graph(String),
}

impl From<StateError> for Error {
    fn from(e: StateError) -> Error {
        Error::State(Box::new(e))
    }
}

impl From<AwsError> for Error {
    fn from(e: AwsError) -> Error {
        Error::Aws(Box::new(e))
    }
}

/// A project and one of its environments, loaded and checked.
pub struct Workspace {
    pub root: PathBuf,
    pub env: String,
    loaded: Loaded,
    pub backend: BackendConfig,
}

impl Workspace {
    pub fn open(root: &Path, env: &str) -> Result<Workspace, Error> {
        let loaded = load::load(root, env)?;
        let backend =
            BackendConfig::from_table(&loaded.env.backend, &loaded.project.home_region)
                .map_err(|d| Error::Config(Box::new(loaded.sources.clone()), Diagnostics(d)))?;
        Ok(Workspace {
            root: loaded.project.root.clone(),
            env: env.to_string(),
            loaded,
            backend,
        })
    }

    pub fn home_region(&self) -> &str {
        &self.loaded.project.home_region
    }

    pub fn project(&self) -> &crate::load::Project {
        &self.loaded.project
    }

    pub fn access_role(&self) -> &str {
        &self.loaded.project.access_role
    }

    pub fn parallelism(&self) -> usize {
        self.loaded.project.parallelism
    }

    pub fn stacks(&self) -> Vec<String> {
        self.loaded
            .env
            .stacks
            .iter()
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// The `[[moved]]` entries of every stack, with full addresses.
    pub fn moves(&self) -> Vec<resolve::Move> {
        resolve::moves(&self.loaded.stacks)
    }

    /// Resolves the configuration with the given known values.
    pub fn resolve(&self, known: &Known) -> Result<(Sources, Resolved), Error> {
        match resolve::resolve_with(self.loaded.clone(), known) {
            (sources, Ok(resolved)) => Ok((sources, resolved)),
            (sources, Err(diags)) => Err(Error::Config(Box::new(sources), diags)),
        }
    }

    pub fn backend(&self, aws: Option<Arc<Aws>>) -> Backend {
        Backend::new(self.backend.clone(), &self.root, aws)
    }

    /// The backend holding environment `env`'s state: its own `[backend]` settings (an environment
    /// may keep its state in another bucket or account), read without loading its stacks.
    pub fn backend_of(&self, env: &str, this: &Backend) -> Result<Backend, Error> {
        let (table, home_region) = load::environment_backend(&self.root, env)?;
        let config = BackendConfig::from_table(&table, &home_region)
            .map_err(|d| Error::Config(Box::new(self.loaded.sources.clone()), Diagnostics(d)))?;
        Ok(this.with_config(config))
    }

    /// The environments whose outputs `remote.ENV.STACK.OUTPUT` references read, with their stacks.
    fn remote_stacks(&self) -> Vec<(String, String)> {
        self.loaded
            .remotes
            .iter()
            .filter_map(|(env, stacks)| Some((env, stacks.as_ref()?)))
            .flat_map(|(env, stacks)| {
                stacks
                    .iter()
                    .filter(|(_, outputs)| !outputs.is_empty())
                    .map(move |(s, _)| (env.clone(), s.clone()))
            })
            .collect()
    }
}

/// Reads the state of every stack of the environment, in parallel.
pub async fn read_states(
    ws: &Workspace,
    backend: &Backend,
) -> Result<IndexMap<String, Stored>, Error> {
    let mut reads = tokio::task::JoinSet::new();
    for (i, stack) in ws.stacks().into_iter().enumerate() {
        let (backend, env) = (backend.clone(), ws.env.clone());
        reads.spawn(async move { (i, backend.read(&env, &stack).await, stack) });
    }
    let mut found = Vec::new();
    while let Some(joined) = reads.join_next().await {
        let (i, result, stack) = joined?;
        if let Some(stored) = result? {
            found.push((i, stack, stored));
        }
    }
    found.sort_by_key(|(i, _, _)| *i);
    Ok(found.into_iter().map(|(_, s, st)| (s, st)).collect())
}

/// What AWS assigned, from state, and other environments' outputs (one state read per stack).
pub async fn known_values(
    ws: &Workspace,
    backend: &Backend,
    states: &IndexMap<String, Stored>,
) -> Result<Known, Error> {
    let mut known = Known::default();
    for stored in states.values() {
        for r in &stored.state.resources {
            known.learn(&r.address, &r.kind, &r.attributes);
        }
    }
    let mut backends: HashMap<String, Backend> = HashMap::new();
    for (env, stack) in ws.remote_stacks() {
        if !backends.contains_key(&env) {
            backends.insert(env.clone(), ws.backend_of(&env, backend)?);
        }
        let other = &backends[&env];
        match other.read(&env, &stack).await? {
            Some(stored) => {
                known
                    .remote_outputs
                    .insert((env, stack), stored.state.outputs);
            }
            None => {
                let looked = other.describe(&env, &stack);
                known.remote_missing.insert((env, stack), looked);
            }
        }
    }
    Ok(known)
}

/// Applies the configuration's `[[moved]]` entries to the states read (in memory; the caller writes them
/// if it is an apply). An entry whose `from` is not in state was recorded before, or never applied: it
/// does nothing, so entries can stay in the configuration. Returns the resources moved.
pub fn apply_moves(
    moves: &[resolve::Move],
    stored: &mut IndexMap<String, Stored>,
) -> Result<Vec<plan::Move>, Error> {
    if moves.is_empty() {
        return Ok(Vec::new());
    }
    let mut states: IndexMap<String, State> = stored
        .iter()
        .map(|(k, v)| (k.clone(), v.state.clone()))
        .collect();
    let mut out = Vec::new();
    for m in moves {
        // Nothing to move (recorded before, never applied, or no state at all: a new environment, or
        // state lost): the entry does nothing, even for a stack that has no state document yet.
        let held = states.values().any(|s| {
            s.resources
                .iter()
                .map(|r| &r.address)
                .chain(s.pending.iter().map(|p| &p.address))
                .any(|a| crate::address::covers(&m.from, a))
        });
        if !held {
            continue;
        }
        match crate::state::move_addresses(&mut states, &m.from, &m.to) {
            Ok(moved) => out.extend(moved.into_iter().map(|m| plan::Move {
                from: m.from,
                to: m.to,
            })),
            // Nothing at `from` (already moved, or never created), or no state at all for the
            // stack (a state document deleted): nothing to record.
            Err(
                crate::state::MoveError::NotInState { .. }
                | crate::state::MoveError::NoStack { .. },
            ) => {}
            Err(error) => {
                return Err(Error::MoveEntry {
                    from: m.from.clone(),
                    to: m.to.clone(),
                    error: Box::new(error),
                });
            }
        }
    }
    for (stack, state) in states {
        if let Some(s) = stored.get_mut(&stack) {
            s.state = state;
        }
    }
    Ok(out)
}

/// The state each stack's plan is made against (lineage and serial; none for a stack without state)
/// and the digest of its resolved configuration, for apply to refuse the plan if either moved.
fn bases(
    ws: &Workspace,
    states: &IndexMap<String, State>,
    digests: &IndexMap<String, String>,
) -> IndexMap<String, Basis> {
    ws.stacks()
        .into_iter()
        .map(|s| {
            let basis = Basis {
                lineage: states.get(&s).map(|st| st.lineage.clone()),
                serial: states.get(&s).map(|st| st.serial),
                config: digests.get(&s).cloned(),
            };
            (s, basis)
        })
        .collect()
}

/// How to plan.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub filter: Filter,
    pub refresh: bool,
    pub parallelism: usize,
}

/// Reads state, refreshes, and computes the plan.
pub async fn make_plan(
    ws: &Workspace,
    aws: &Arc<Aws>,
    backend: &Backend,
    options: &PlanOptions,
) -> Result<Plan, Error> {
    let stored = read_states(ws, backend).await?;
    derive_plan(ws, aws, backend, stored, options).await
}

/// Computes the plan from the states read: refreshes (unless told not to), diffs, and records what
/// the plan was derived from ([`plan::basis`]). The same code makes a plan and, at `apply FILE`,
/// derives a saved one again.
pub async fn derive_plan(
    ws: &Workspace,
    aws: &Arc<Aws>,
    backend: &Backend,
    mut stored: IndexMap<String, Stored>,
    options: &PlanOptions,
) -> Result<Plan, Error> {
    // `[[moved]]` entries: plan against state as it will be once they are recorded.
    let moved = apply_moves(&ws.moves(), &mut stored)?;
    let mut known = known_values(ws, backend, &stored).await?;
    let remote_outputs = plan::basis::remote_values(&known);
    // The states alone from here on (not a copy: at 26,000 resources one is 100 MB).
    let states: IndexMap<String, State> = stored.into_iter().map(|(k, v)| (k, v.state)).collect();
    let refreshed = observe(ws, aws, &mut known, &states, options).await?;
    let observed = Observed {
        states: &states,
        live: &refreshed.live,
        adopted: &refreshed.adopted,
        duplicates: &refreshed.duplicates,
        copies: &refreshed.copies,
    };
    // Resources that will be (re)created get new ids: forget the old ones and resolve again until
    // nothing more becomes unknown.
    let (resolved, diffed) = loop {
        let (_, resolved) = ws.resolve(&known)?;
        let diffed = plan::diff(&resolved, &observed, &options.filter).map_err(Error::Refused)?;
        let renewed: Vec<&str> = diffed
            .changes
            .iter()
            .filter(|c| matches!(c.action, Action::Create | Action::Replace))
            .map(|c| c.address.as_str())
            .filter(|a| known.attrs.contains_key(*a))
            .collect();
        if renewed.is_empty() {
            break (resolved, diffed);
        }
        for a in renewed {
            known.attrs.remove(a);
        }
    };
    let digests = plan::basis::config_digests(&resolved);
    Ok(Plan {
        format_version: plan::FORMAT_VERSION,
        environment: ws.env.clone(),
        created: crate::state::now(),
        config_digest: plan::basis::combined(&digests),
        destroy: options.filter.destroy,
        stacks: bases(ws, &states, &digests),
        derived_from: Some(plan::basis::Derivation {
            options: plan::basis::Options {
                filter: options.filter.clone(),
                refresh: options.refresh,
            },
            remote_outputs,
            observed: plan::basis::Observations::record(
                refreshed.live,
                refreshed.adopted,
                refreshed.duplicates,
                refreshed.copies,
            ),
        }),
        summary: Plan::summarize(&diffed.changes, &diffed.drift, &moved),
        moved,
        resource_changes: diffed.changes,
        drift: diffed.drift,
        kept: diffed.kept,
        duplicates: diffed.duplicates,
        copies: diffed.copies,
        names: plan::names::collect(states.values()),
    })
}

/// Refreshes (unless `--refresh=false`) and adds what AWS reports to the known values.
async fn observe(
    ws: &Workspace,
    aws: &Arc<Aws>,
    known: &mut Known,
    states: &IndexMap<String, State>,
    options: &PlanOptions,
) -> Result<Refreshed, Error> {
    if !options.refresh {
        return Ok(Refreshed::default());
    }
    let (home, parallelism) = (ws.home_region(), options.parallelism);
    let (_, first) = ws.resolve(known)?;
    let mut refreshed = refresh(aws, home, &first, states, parallelism).await?;
    // What was adopted can make more accounts known (an account found by its tag, so the VPCs
    // configured in it can be looked for): resolve again and look there, until nothing new is found.
    let mut adopted = 0;
    while refreshed.adopted.len() > adopted {
        adopted = refreshed.adopted.len();
        for (address, live) in &refreshed.adopted {
            known.attrs.insert(address.clone(), live.attrs.clone());
        }
        let (_, again) = ws.resolve(known)?;
        if !refresh::refresh_missing(aws, home, &again, states, parallelism, &mut refreshed).await?
        {
            break;
        }
    }
    for state in states.values() {
        for r in &state.resources {
            if let Some(Some(live)) = refreshed.live.get(&r.address) {
                known.learn(&r.address, &r.kind, &live.attrs);
            }
        }
    }
    Ok(refreshed)
}
