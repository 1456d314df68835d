//! The work of one step: prepare it (its inputs, resolved with every value produced so far in this
//! run), perform it against AWS, checkpoint the result. [`Changes`] is the [`Work`] the executor runs.

use super::Workspace;
use super::checkpoint::{PendingRecorder, StackState};
use super::events::Operation;
use super::executor::Work;
use super::schedule::Step;
use crate::aws::{Aws, AwsError};
use crate::expr::Value;
use crate::plan::{Action, Change, Plan, account_of, desired_json};
use crate::provider::{self, Attrs, BoxFuture, Cx, Location};
use crate::resolve::{Known, Resolved};
use crate::schema::{self, Scope};
use crate::state::ResourceState;
use indexmap::IndexMap;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The changes of a plan as work for the executor, with what the run has learnt so far.
pub(super) struct Changes<'a> {
    pub(super) plan: &'a Plan,
    pub(super) ws: &'a Workspace,
    pub(super) aws: Arc<Aws>,
    pub(super) stacks: &'a IndexMap<String, Arc<StackState>>,
    /// The last resolution; resolved again when a step needs a value produced since.
    pub(super) values: Resolution,
    /// Every value known: from state, then from each step as it finishes.
    pub(super) known: Known,
    /// Addresses whose delete is of an object beside the one state holds there (deposed, orphan copies).
    pub(super) beside: HashSet<String>,
}

impl Work for Changes<'_> {
    type Output = Option<ResourceState>;

    fn describe(&self, step: Step) -> (String, Operation) {
        let c = &self.plan.resource_changes[step.change()];
        (c.address.clone(), Operation::of(step, c.action))
    }

    fn start(
        &mut self,
        step: Step,
    ) -> Result<BoxFuture<'static, Result<Self::Output, String>>, String> {
        let c = &self.plan.resource_changes[step.change()];
        let stack = self.stacks[&c.stack].clone();
        let job = prepare(step, c, &mut self.values, self.ws, &self.known, &stack)?;
        Ok(Box::pin(run_job(job, self.aws.clone(), stack)))
    }

    fn finished(&mut self, step: Step, stored: Option<ResourceState>) {
        let c = &self.plan.resource_changes[step.change()];
        match stored {
            Some(r) => {
                self.known.attrs.remove(&r.address);
                self.known.learn(&r.address, &r.kind, &r.attributes);
            }
            // The old object of a replacement, a deposed object or an orphan copy went; the values of
            // the object at that address stay known.
            None if c.action == Action::Replace || self.beside.contains(&c.address) => {}
            None => {
                self.known.attrs.remove(&c.address);
            }
        }
        self.values.stale = true;
    }
}

/// A resolution of the configuration during an apply, with its instances by address.
pub(super) struct Resolution {
    resolved: Resolved,
    /// Index in `resolved.instances` by address: a step finds its instance without a scan.
    at: HashMap<String, usize>,
    /// Whether a step finished since `resolved` was made.
    stale: bool,
}

impl Resolution {
    pub(super) fn new(resolved: Resolved) -> Resolution {
        let at = resolved
            .instances
            .iter()
            .enumerate()
            .map(|(i, inst)| (inst.address.clone(), i))
            .collect();
        Resolution {
            resolved,
            at,
            stale: false,
        }
    }

    /// Drops the instances (the bulk of a resolution) before the next is made; still stale.
    fn clear(&mut self) {
        self.resolved.instances = Vec::new();
        self.at = HashMap::new();
        self.stale = true;
    }

    /// The instance at `address`.
    fn find(&self, address: &str) -> Result<usize, String> {
        self.at
            .get(address)
            .copied()
            .ok_or_else(|| format!("{address} is no longer in the configuration"))
    }

    /// Whether the instance at `i` has a value not known yet (its account included).
    fn needs_values(&self, i: usize) -> bool {
        let inst = &self.resolved.instances[i];
        inst.account.has_unknown() || inst.attrs.values().any(Value::has_unknown)
    }
}

/// What a step task needs, detached from the scheduler.
struct Job {
    step: Step,
    change: Change,
    loc: Location,
    desired: Attrs,
    deps: Vec<String>,
    lineage: String,
    pending: Option<String>,
    moves: Vec<crate::resolve::Move>,
}

/// Performs a step against AWS and checkpoints what it did. Returns the resource as now stored (None:
/// removed from state).
async fn run_job(
    job: Job,
    aws: Arc<Aws>,
    stack: Arc<StackState>,
) -> Result<Option<ResourceState>, String> {
    let recorder = PendingRecorder {
        stack: stack.clone(),
        address: job.change.address.clone(),
    };
    let cx = Cx {
        aws: &aws,
        loc: &job.loc,
        lineage: &job.lineage,
        pending: job.pending.as_deref(),
        record_pending: &recorder,
        cache: None,
        moves: &job.moves,
    };
    let result = perform(&job, &cx).await.map_err(|e| e.to_string())?;
    checkpoint(&stack, &job.change, &result);
    Ok(result)
}

/// What the step does in AWS.
async fn perform(job: &Job, cx: &Cx<'_>) -> Result<Option<ResourceState>, AwsError> {
    let c = &job.change;
    let kind = c.kind.as_str();
    let empty = Attrs::new();
    let before = c
        .before
        .as_ref()
        .and_then(|b| b.as_object())
        .unwrap_or(&empty);
    let stored = |live: provider::Live| {
        let mut attributes = job.desired.clone();
        for (k, v) in live.attrs {
            attributes.insert(k, v);
        }
        // Grown by the computed attributes: kept at its exact size, as it stays in state for the
        // rest of the run (a quarter of its memory was spare room).
        crate::state::compact_attrs(&mut attributes);
        ResourceState {
            address: c.address.clone(),
            kind: c.kind.clone(),
            id: live.id,
            account: job.loc.account.clone(),
            region: schema::kind(kind)
                .is_some_and(|k| k.scope == Scope::Regional)
                .then(|| job.loc.region.clone()),
            attributes,
            dependencies: job.deps.clone(),
        }
    };
    match (job.step, c.action) {
        (Step::Delete(_), Action::Forget) => Ok(None),
        (Step::Delete(_), _) => {
            let id = c.id.clone().unwrap_or_default();
            provider::delete(kind, cx, &id, before).await.map(|()| None)
        }
        (Step::Apply(_), Action::Import) => Ok(Some(stored(provider::Live {
            id: c.id.clone().unwrap_or_default(),
            attrs: before.clone(),
            address: None,
            lineage: None,
        }))),
        (Step::Apply(_), Action::Update) => {
            let id = c.id.clone().unwrap_or_default();
            provider::update(kind, cx, &id, before, &job.desired)
                .await
                .map(|l| Some(stored(l)))
        }
        (Step::Apply(_), _) => provider::create(kind, cx, &c.address, &job.desired)
            .await
            .map(|l| Some(stored(l))),
    }
}

/// Records a step's result in the stack's state (written with the next checkpoint).
fn checkpoint(stack: &StackState, c: &Change, result: &Option<ResourceState>) {
    stack.change(&c.address, |s| {
        let old_id = c.id.as_deref().unwrap_or_default();
        match result {
            // The old object of a create-before-destroy replacement stays, deposed, until its delete.
            Some(res) if c.action == Action::Replace => s.replace_object(old_id, res.clone()),
            Some(res) => s.put(res.clone()),
            // Only the object this change was about: the replacement under the same address stays.
            None => s.remove_object(&c.address, old_id),
        }
        s.pending.retain(|p| p.address != c.address);
    });
}

/// Works out what a step needs: for creates and updates, the desired attributes with every value now
/// known (resolving again if something finished since the last resolution).
fn prepare(
    step: Step,
    c: &Change,
    values: &mut Resolution,
    ws: &Workspace,
    known: &Known,
    stack: &StackState,
) -> Result<Job, String> {
    let lineage = stack.state.lock().unwrap().lineage.clone();
    let home = ws.home_region().to_string();
    if let Step::Delete(_) = step {
        // Where the object to delete is (a replacement may have put its new one elsewhere already).
        let id = c.id.as_deref().unwrap_or_default();
        let (account, region) = match stack.state.lock().unwrap().find_object(&c.address, id) {
            Some(r) => (r.account.clone(), r.region.clone()),
            None => (c.account.clone(), c.region.clone()),
        };
        return Ok(Job {
            step,
            change: c.clone(),
            loc: Location {
                account,
                region: region.unwrap_or(home),
            },
            desired: Attrs::new(),
            deps: Vec::new(),
            lineage,
            pending: None,
            moves: Vec::new(),
        });
    }
    let mut at = values.find(&c.address);
    if values.stale && at.as_ref().map_or(true, |i| values.needs_values(*i)) {
        // One resolution serves every step started before the next one finishes (the executor takes
        // all the steps that finished meanwhile first). The old one goes first: two at once were
        // the apply's peak of memory. (If resolving fails, the next step tries again.)
        values.clear();
        let (_, fresh) = ws.resolve(known).map_err(|e| e.to_string())?;
        *values = Resolution::new(fresh);
        at = values.find(&c.address);
    }
    let at = at?;
    let resolved = &values.resolved;
    let inst = &resolved.instances[at];
    if values.needs_values(at) {
        let unknown: Vec<&str> = inst
            .attrs
            .iter()
            .filter(|(_, v)| v.has_unknown())
            .map(|(k, _)| *k)
            .collect();
        return Err(format!(
            "values still unknown at apply time ({}); a resource it depends on did not produce them",
            if unknown.is_empty() {
                "account".into()
            } else {
                unknown.join(", ")
            }
        ));
    }
    let pending = stack
        .state
        .lock()
        .unwrap()
        .pending
        .iter()
        .find(|p| p.address == c.address)
        .map(|p| p.request_id.clone());
    Ok(Job {
        step,
        change: c.clone(),
        loc: Location {
            account: account_of(inst),
            region: inst.region.clone().unwrap_or(home),
        },
        desired: desired_json(inst),
        deps: inst
            .deps
            .iter()
            .map(|d| resolved.instances[d.0 as usize].address.clone())
            .collect(),
        lineage,
        pending,
        moves: resolved.moves.clone(),
    })
}
