//! The schedule: a plan's changes as steps, in a sealed [`Dag`], and a [`Walker`] that hands out the
//! steps whose waits are over, most urgent first.
//!
//! - A create, update or import is one `Apply` step; a delete or forget one `Delete` step; a replace is
//!   both (delete first, or create first for kinds that allow it: create-before-destroy).
//! - Applies wait for the applies of what they depend on (through unchanged resources too, and for
//!   stack-level `depends_on` every apply of the stacks followed, through one barrier per stack
//!   followed: edges grow with the changes, not with their product).
//! - Deletes wait for whatever depended on the resource (in state) to be deleted or changed first.
//! - Most urgent: the longest remaining chain of work, each step weighted by what it costs (creating an
//!   account takes minutes, most calls tens of milliseconds), so the critical path starts first.
//! - Steps AWS lets run only a few at a time (account creations: [`MAX_CONCURRENT_CREATIONS`]) are
//!   not handed out beyond that limit: one waiting for AWS's slot would hold a lane the other work
//!   could use.
//!
//! Everything here is pure: the schedule is derived from the plan and the resource graph, without AWS.

use crate::graph::{Cycle, Dag, ResourceGraph, Sealed};
use crate::plan::{Action, Change};
use crate::provider::MAX_CONCURRENT_CREATIONS;
use crate::resolve::Resolved;
use crate::schema;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

/// One unit of work: the change at index `usize` of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    /// Delete (or forget) the resource of the change.
    Delete(usize),
    /// Create, update or import the resource of the change.
    Apply(usize),
}

impl Step {
    /// The index of the change the step belongs to.
    pub fn change(self) -> usize {
        match self {
            Step::Delete(i) | Step::Apply(i) => i,
        }
    }
}

/// What the schedule needs to know of one change.
#[derive(Debug, Clone)]
pub struct Entry {
    pub kind: String,
    pub action: Action,
    /// A replacement that may create the new object before deleting the old one (its kind allows it).
    pub create_before_destroy: bool,
}

/// The relations between changes the schedule is derived from.
#[derive(Debug, Clone, Default)]
pub struct Input {
    pub changes: Vec<Entry>,
    /// For each change, the changes whose create or update its own create or update waits for.
    pub after: Vec<Vec<usize>>,
    /// For each change, the changes of resources that depended on it in state (deleted or changed first).
    pub dependents: Vec<Vec<usize>>,
    /// Groups of changes (a stack's creates and updates) other changes wait for as a whole.
    pub groups: Vec<Vec<usize>>,
    /// For each change, the groups every create or update of which its create or update waits for
    /// (stack-level `depends_on`); may be shorter than `changes`.
    pub after_groups: Vec<Vec<usize>>,
}

/// A node of the schedule's graph: a step, or the barrier of a group of changes ([`Input::groups`]),
/// which is passed as soon as every step it waits for is done (it is never handed out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Node {
    Step(Step),
    Barrier(usize),
}

/// The steps of a plan, sealed, with their urgency.
#[derive(Debug)]
pub struct Schedule {
    graph: Sealed<Node>,
    /// Estimated milliseconds from the start of a step to the end of the longest chain waiting for it.
    priority: HashMap<Node, u64>,
    /// Build order of the steps: ties in priority go in plan order.
    rank: HashMap<Step, usize>,
    /// The steps AWS runs only a few of at once, with that limit ([`limit`]).
    limits: HashMap<Step, Limit>,
}

/// The schedule has a cycle (a bug in the plan or in the ordering rules), named step by step.
#[derive(Debug, thiserror::Error)]
#[error("internal error: the steps of the plan wait for each other in a cycle: {0}")]
pub struct ScheduleCycle(pub String);

impl Schedule {
    /// Derives the steps and their order from a plan and the environment's resource graph; `state_deps`
    /// maps each address in state to the addresses it depended on.
    pub fn from_plan(
        changes: &[Change],
        resolved: &Resolved,
        graph: &ResourceGraph,
        state_deps: &[(String, Vec<String>)],
    ) -> Result<Schedule, ScheduleCycle> {
        let input = input(changes, resolved, graph, state_deps);
        Schedule::build(&input).map_err(|Cycle(steps)| {
            let names: Vec<String> = steps
                .iter()
                .map(|s| {
                    let c = &changes[s.change()];
                    let phase = if matches!(s, Step::Delete(_)) {
                        "delete"
                    } else {
                        "apply"
                    };
                    format!("{phase} {}", c.address)
                })
                .collect();
            ScheduleCycle(names.join(" -> "))
        })
    }

    /// Builds the schedule; refuses a cycle (named by its steps).
    pub fn build(input: &Input) -> Result<Schedule, Cycle<Step>> {
        let cbd = create_before_destroy(input);
        let mut dag = Dag::new();
        let order = add_steps(&mut dag, input, &cbd);
        add_waits(&mut dag, input, &cbd);
        let graph = dag.seal().map_err(|Cycle(nodes)| {
            Cycle(
                nodes
                    .into_iter()
                    .filter_map(|n| match n {
                        Node::Step(s) => Some(s),
                        Node::Barrier(_) => None,
                    })
                    .collect(),
            )
        })?;
        let priority = priorities(&graph, input);
        let limits = order
            .iter()
            .filter_map(|s| {
                let c = &input.changes[s.change()];
                limit(&c.kind, *s, c.action).map(|l| (*s, l))
            })
            .collect();
        let rank = order.into_iter().enumerate().map(|(r, s)| (s, r)).collect();
        Ok(Schedule {
            graph,
            priority,
            rank,
            limits,
        })
    }

    /// Every step, in plan order.
    pub fn steps(&self) -> impl Iterator<Item = Step> + '_ {
        let mut steps: Vec<Step> = self.rank.keys().copied().collect();
        steps.sort_by_key(|s| self.rank[s]);
        steps.into_iter()
    }

    pub fn len(&self) -> usize {
        self.rank.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The estimated length (ms) of the longest chain starting with `step`.
    pub fn priority(&self, step: Step) -> u64 {
        self.priority
            .get(&Node::Step(step))
            .copied()
            .unwrap_or_default()
    }
}

/// Adds the steps of every change to `dag`; returns them in plan order.
fn add_steps(dag: &mut Dag<Node>, input: &Input, cbd: &HashSet<usize>) -> Vec<Step> {
    let mut order = Vec::new();
    for (i, c) in input.changes.iter().enumerate() {
        let steps = match c.action {
            Action::Create | Action::Update | Action::Import => vec![Step::Apply(i)],
            Action::Replace if cbd.contains(&i) => vec![Step::Apply(i), Step::Delete(i)],
            Action::Replace => vec![Step::Delete(i), Step::Apply(i)],
            Action::Delete | Action::Forget => vec![Step::Delete(i)],
        };
        for s in &steps {
            dag.add_node(Node::Step(*s));
            order.push(*s);
        }
        if let [first, second] = steps[..] {
            dag.add_edge(Node::Step(second), Node::Step(first), ());
        }
    }
    order
}

/// Adds what each step waits for: the applies of its dependencies (directly or through a group's
/// barrier), and for deletes what depended on the resource in state.
fn add_waits(dag: &mut Dag<Node>, input: &Input, cbd: &HashSet<usize>) {
    let apply = |i: usize| Node::Step(Step::Apply(i));
    let delete = |i: usize| Node::Step(Step::Delete(i));
    for (i, after) in input.after.iter().enumerate() {
        for j in after {
            dag.add_edge(apply(i), apply(*j), ());
        }
    }
    for (g, members) in input.groups.iter().enumerate() {
        dag.add_node(Node::Barrier(g));
        for j in members {
            dag.add_edge(Node::Barrier(g), apply(*j), ());
        }
    }
    for (i, groups) in input.after_groups.iter().enumerate() {
        for g in groups {
            dag.add_edge(apply(i), Node::Barrier(*g), ());
        }
    }
    for (i, dependents) in input.dependents.iter().enumerate() {
        for &j in dependents.iter().filter(|j| **j != i) {
            dag.add_edge(delete(i), delete(j), ());
            dag.add_edge(delete(i), apply(j), ());
        }
    }
    // A resource replaced delete-first: its dependents that are updated (not replaced) cannot wait
    // for the delete (they need the new resource, which needs the delete): they only wait for the new one.
    for (i, c) in input.changes.iter().enumerate() {
        if c.action == Action::Replace && !cbd.contains(&i) {
            for j in input.dependents.get(i).into_iter().flatten() {
                if dag.reaches(apply(*j), apply(i)) {
                    dag.remove_edge(delete(i), apply(*j));
                }
            }
        }
    }
}

/// What a step is expected to cost, in milliseconds: only the proportions matter.
pub fn cost(kind: &str, step: Step, action: Action) -> u64 {
    let creates =
        matches!(step, Step::Apply(_)) && action != Action::Update && action != Action::Import;
    match (kind, creates, step) {
        (_, _, Step::Delete(_)) if action == Action::Forget => 1,
        (_, false, Step::Apply(_)) if action == Action::Import => 1,
        // CreateAccount, then polling until the account exists: minutes.
        ("account", true, _) => 240_000,
        // Closing an account, moving it out: tens of seconds.
        ("account", _, Step::Delete(_)) => 20_000,
        // NAT gateways take a minute or two to become available, and as long to go.
        ("nat_gateway", true, _) | ("nat_gateway", _, Step::Delete(_)) => 90_000,
        ("organization", true, _) => 5_000,
        _ => 50,
    }
}

/// A kind of step AWS runs only a few of at once (per organization or account): its name and how many.
pub type Limit = (&'static str, usize);

/// The limit a step falls under, if any: account creations (AWS refuses more in progress at once).
pub fn limit(kind: &str, step: Step, action: Action) -> Option<Limit> {
    (kind == "account" && matches!(step, Step::Apply(_)) && action == Action::Create)
        .then_some(("account creations", MAX_CONCURRENT_CREATIONS))
}

/// The longest chain (by cost) from each step to the end of the schedule.
fn priorities(graph: &Sealed<Node>, input: &Input) -> HashMap<Node, u64> {
    let mut priority: HashMap<Node, u64> = HashMap::new();
    // Dependents come after what they wait for in `order`: walk it backwards.
    for &node in graph.order().iter().rev() {
        let own = match node {
            Node::Step(step) => {
                let c = &input.changes[step.change()];
                cost(&c.kind, step, c.action)
            }
            Node::Barrier(_) => 0,
        };
        let longest = graph
            .dependents(node)
            .map(|d| priority[&d])
            .max()
            .unwrap_or_default();
        priority.insert(node, own + longest);
    }
    priority
}

/// The replacements that create the new resource before deleting the old one: those of kinds that
/// allow it when nothing they wait for is replaced delete-first (its delete would wait for theirs, and
/// their create for its create: a cycle). Dependencies replaced create-before-destroy themselves are
/// fine, so this is a fixpoint.
fn create_before_destroy(input: &Input) -> HashSet<usize> {
    let replaced = |i: usize| input.changes[i].action == Action::Replace;
    let mut cbd: HashSet<usize> = (0..input.changes.len())
        .filter(|i| replaced(*i) && input.changes[*i].create_before_destroy)
        .collect();
    loop {
        let blocking = |d: &usize| replaced(*d) && !cbd.contains(d);
        let blocking_groups: HashSet<usize> = (0..input.groups.len())
            .filter(|g| input.groups[*g].iter().any(blocking))
            .collect();
        let blocked: Vec<usize> = cbd
            .iter()
            .filter(|i| {
                let after = input.after.get(**i).map(Vec::as_slice).unwrap_or_default();
                let groups = input.after_groups.get(**i).map(Vec::as_slice);
                after.iter().any(blocking)
                    || groups
                        .unwrap_or_default()
                        .iter()
                        .any(|g| blocking_groups.contains(g))
            })
            .copied()
            .collect();
        if blocked.is_empty() {
            return cbd;
        }
        for i in blocked {
            cbd.remove(&i);
        }
    }
}

/// The relations between a plan's changes, from the resource graph and the dependencies held in state.
fn input(
    changes: &[Change],
    resolved: &Resolved,
    graph: &ResourceGraph,
    state_deps: &[(String, Vec<String>)],
) -> Input {
    // The first change of an address (a deposed copy's delete may follow it under the same address).
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, c) in changes.iter().enumerate() {
        index.entry(c.address.as_str()).or_insert(i);
    }
    let instance: HashMap<&str, usize> = resolved
        .instances
        .iter()
        .enumerate()
        .map(|(i, inst)| (inst.address.as_str(), i))
        .collect();
    let applies = |c: &Change| c.action != Action::Delete && c.action != Action::Forget;
    let entries = changes
        .iter()
        .map(|c| Entry {
            kind: c.kind.clone(),
            action: c.action,
            create_before_destroy: instance.contains_key(c.address.as_str())
                && schema::kind(&c.kind).is_some_and(|k| k.create_before_destroy),
        })
        .collect();
    let after = changes
        .iter()
        .map(|c| match instance.get(c.address.as_str()) {
            Some(&inst) if applies(c) => changed_deps(graph, resolved, inst, &|a| {
                index.get(a).copied().filter(|j| applies(&changes[*j]))
            }),
            _ => Vec::new(),
        })
        .collect();
    // Stack-level depends_on: every create and update of the stacks followed, one group per stack.
    let mut group_of: HashMap<&str, usize> = HashMap::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (_, followed) in &resolved.stack_deps {
        group_of.entry(followed.as_str()).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
    }
    for (j, c) in changes.iter().enumerate() {
        if let Some(g) = group_of.get(c.stack.as_str()).filter(|_| applies(c)) {
            groups[*g].push(j);
        }
    }
    let after_groups = changes
        .iter()
        .map(|c| match applies(c) {
            true => (resolved.stack_deps.iter())
                .filter(|(s, _)| *s == c.stack)
                .map(|(_, followed)| group_of[followed.as_str()])
                .collect(),
            false => Vec::new(),
        })
        .collect();
    let mut at: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, c) in changes.iter().enumerate() {
        at.entry(c.address.as_str()).or_default().push(i);
    }
    let mut dependents = vec![Vec::new(); changes.len()];
    for (address, deps) in state_deps {
        let Some(&j) = index.get(address.as_str()) else {
            continue;
        };
        for i in deps.iter().flat_map(|d| at.get(d.as_str())).flatten() {
            dependents[*i].push(j);
        }
    }
    Input {
        changes: entries,
        after,
        dependents,
        groups,
        after_groups,
    }
}

/// The changes an instance waits for: its dependencies that change, looking through unchanged ones.
fn changed_deps(
    graph: &ResourceGraph,
    resolved: &Resolved,
    inst: usize,
    change_of: &dyn Fn(&str) -> Option<usize>,
) -> Vec<usize> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut todo: Vec<usize> = graph.deps(inst).collect();
    while let Some(d) = todo.pop() {
        if !seen.insert(d) {
            continue;
        }
        match change_of(&resolved.instances[d].address) {
            Some(j) => out.push(j),
            None => todo.extend(graph.deps(d)),
        }
    }
    out
}

/// How the failure of one step affects the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailurePolicy {
    /// Nothing new starts; the steps in flight finish.
    StopAll,
    /// What waits for the failed step (transitively) is skipped; independent branches go on.
    #[default]
    SkipDependents,
}

/// Where a step is in a walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Waiting(usize),
    Ready,
    Running,
    Done,
    Failed,
    Skipped,
}

/// A ready step in a queue: highest priority first, then plan order.
type Queued = (u64, Reverse<usize>, Step);

/// Walks a schedule: hands out ready steps, most urgent first, and learns how each went.
pub struct Walker<'s> {
    schedule: &'s Schedule,
    status: HashMap<Node, Status>,
    /// Ready steps: highest priority first, then plan order.
    ready: BinaryHeap<Queued>,
    /// Per [`Limit`]: how many of its steps are running, and its ready steps held back meanwhile.
    limited: HashMap<&'static str, (usize, BinaryHeap<Queued>)>,
}

impl<'s> Walker<'s> {
    pub fn new(schedule: &'s Schedule) -> Walker<'s> {
        let mut walker = Walker {
            schedule,
            status: HashMap::new(),
            ready: BinaryHeap::new(),
            limited: HashMap::new(),
        };
        let graph = &schedule.graph;
        for &node in graph.order() {
            let n = graph.waits_for(node).count();
            walker.status.insert(node, Status::Waiting(n));
        }
        for &node in graph.order() {
            if walker.status[&node] == Status::Waiting(0) {
                walker.make_ready(node);
            }
        }
        walker
    }

    /// A node whose waits are over: a step is queued, a barrier passed at once.
    fn make_ready(&mut self, node: Node) {
        let Node::Step(step) = node else {
            return self.pass(node);
        };
        self.status.insert(node, Status::Ready);
        let s = self.schedule;
        self.ready
            .push((s.priority(step), Reverse(s.rank[&step]), step));
    }

    /// A node is done: what waited only for it becomes ready.
    fn pass(&mut self, node: Node) {
        self.status.insert(node, Status::Done);
        let dependents: Vec<Node> = self.schedule.graph.dependents(node).collect();
        for d in dependents {
            if let Some(Status::Waiting(n)) = self.status.get(&d).copied() {
                if n <= 1 {
                    self.make_ready(d);
                } else {
                    self.status.insert(d, Status::Waiting(n - 1));
                }
            }
        }
    }

    /// The most urgent ready step, now running (steps of a [`Limit`] at its limit are held back).
    pub fn next_step(&mut self) -> Option<Step> {
        while let Some(queued) = self.ready.pop() {
            let step = queued.2;
            if self.status[&Node::Step(step)] != Status::Ready {
                continue;
            }
            if let Some((name, max)) = self.schedule.limits.get(&step).copied() {
                let (running, held) = self.limited.entry(name).or_default();
                if *running >= max {
                    held.push(queued);
                    continue;
                }
                *running += 1;
            }
            self.status.insert(Node::Step(step), Status::Running);
            return Some(step);
        }
        None
    }

    /// A running step ended: a step of its [`Limit`] held back, if any, is ready again.
    fn release(&mut self, step: Step) {
        let Some((name, _)) = self.schedule.limits.get(&step) else {
            return;
        };
        let Some((running, held)) = self.limited.get_mut(name) else {
            return;
        };
        *running = running.saturating_sub(1);
        while let Some(queued) = held.pop() {
            if self.status[&Node::Step(queued.2)] == Status::Ready {
                self.ready.push(queued);
                return;
            }
        }
    }

    /// A step succeeded: what waited only for it becomes ready.
    pub fn done(&mut self, step: Step) {
        self.release(step);
        self.pass(Node::Step(step));
    }

    /// A step failed: returns the steps skipped because of it, in plan order.
    pub fn failed(&mut self, step: Step, policy: FailurePolicy) -> Vec<Step> {
        self.status.insert(Node::Step(step), Status::Failed);
        self.release(step);
        match policy {
            FailurePolicy::StopAll => self.stop(),
            FailurePolicy::SkipDependents => {
                let mut skipped = Vec::new();
                let graph = &self.schedule.graph;
                let mut todo: Vec<Node> = graph.dependents(Node::Step(step)).collect();
                while let Some(node) = todo.pop() {
                    if matches!(self.status[&node], Status::Waiting(_) | Status::Ready) {
                        self.status.insert(node, Status::Skipped);
                        if let Node::Step(s) = node {
                            skipped.push(s);
                        }
                        todo.extend(graph.dependents(node));
                    }
                }
                skipped.sort_by_key(|s| self.schedule.rank[s]);
                skipped
            }
        }
    }

    /// Nothing new starts: every step not started yet is skipped; returns them in plan order.
    pub fn stop(&mut self) -> Vec<Step> {
        let skipped: Vec<Step> = self
            .schedule
            .steps()
            .filter(|s| {
                matches!(
                    self.status[&Node::Step(*s)],
                    Status::Waiting(_) | Status::Ready
                )
            })
            .collect();
        for s in &skipped {
            self.status.insert(Node::Step(*s), Status::Skipped);
        }
        self.ready.clear();
        self.limited.clear();
        skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &str, action: Action, cbd: bool) -> Entry {
        Entry {
            kind: kind.into(),
            action,
            create_before_destroy: cbd,
        }
    }

    fn input(changes: Vec<Entry>) -> Input {
        let n = changes.len();
        Input {
            changes,
            after: vec![Vec::new(); n],
            dependents: vec![Vec::new(); n],
            ..Input::default()
        }
    }

    /// Runs a walk to the end, every step succeeding except those in `fail`; returns the steps in the
    /// order handed out and the skipped ones.
    fn walk(schedule: &Schedule, fail: &[Step]) -> (Vec<Step>, Vec<Step>) {
        let mut walker = Walker::new(schedule);
        let (mut order, mut skipped) = (Vec::new(), Vec::new());
        while let Some(step) = walker.next_step() {
            order.push(step);
            if fail.contains(&step) {
                skipped.extend(walker.failed(step, FailurePolicy::SkipDependents));
            } else {
                walker.done(step);
            }
        }
        (order, skipped)
    }

    fn position(order: &[Step], step: Step) -> usize {
        order.iter().position(|s| *s == step).unwrap()
    }

    #[test]
    fn creates_follow_what_they_depend_on() {
        // 0: vpc, 1: subnet (needs the vpc), 2: route table (needs the subnet).
        let mut i = input(vec![
            entry("vpc", Action::Create, false),
            entry("subnet", Action::Create, false),
            entry("route_table", Action::Create, false),
        ]);
        i.after[1] = vec![0];
        i.after[2] = vec![1];
        let (order, skipped) = walk(&Schedule::build(&i).unwrap(), &[]);
        assert_eq!(order, vec![Step::Apply(0), Step::Apply(1), Step::Apply(2)]);
        assert!(skipped.is_empty());
    }

    #[test]
    fn deletes_go_in_reverse_order() {
        // 1 depended on 0 in state, 2 on 1.
        let mut i = input(vec![
            entry("vpc", Action::Delete, false),
            entry("subnet", Action::Delete, false),
            entry("route_table", Action::Delete, false),
        ]);
        i.dependents[0] = vec![1];
        i.dependents[1] = vec![2];
        let (order, _) = walk(&Schedule::build(&i).unwrap(), &[]);
        assert_eq!(
            order,
            vec![Step::Delete(2), Step::Delete(1), Step::Delete(0)]
        );
    }

    #[test]
    fn a_replacement_deletes_first_unless_its_kind_creates_before_destroying() {
        let i = input(vec![
            entry("organizational_unit", Action::Replace, false),
            entry("iam_policy", Action::Replace, true),
        ]);
        let schedule = Schedule::build(&i).unwrap();
        let (order, _) = walk(&schedule, &[]);
        assert!(position(&order, Step::Delete(0)) < position(&order, Step::Apply(0)));
        assert!(position(&order, Step::Apply(1)) < position(&order, Step::Delete(1)));
    }

    #[test]
    fn create_before_destroy_falls_back_when_a_dependency_is_replaced_delete_first() {
        // 1 (create-before-destroy kind) needs 0, which is replaced delete-first.
        let mut i = input(vec![
            entry("organizational_unit", Action::Replace, false),
            entry("iam_policy", Action::Replace, true),
        ]);
        i.after[1] = vec![0];
        i.dependents[0] = vec![1];
        let (order, _) = walk(&Schedule::build(&i).unwrap(), &[]);
        assert!(position(&order, Step::Delete(1)) < position(&order, Step::Apply(1)));
        assert!(position(&order, Step::Delete(1)) < position(&order, Step::Delete(0)));
        assert!(position(&order, Step::Apply(0)) < position(&order, Step::Apply(1)));
    }

    #[test]
    fn an_update_of_a_dependent_waits_only_for_the_new_object() {
        // 0 replaced delete-first; 1 depended on it and is updated to point at the new one.
        let mut i = input(vec![
            entry("vpc", Action::Replace, false),
            entry("subnet", Action::Update, false),
        ]);
        i.after[1] = vec![0];
        i.dependents[0] = vec![1];
        let (order, _) = walk(&Schedule::build(&i).unwrap(), &[]);
        assert_eq!(order, vec![Step::Delete(0), Step::Apply(0), Step::Apply(1)]);
    }

    #[test]
    fn a_cycle_is_refused() {
        let mut i = input(vec![
            entry("vpc", Action::Create, false),
            entry("subnet", Action::Create, false),
        ]);
        i.after[0] = vec![1];
        i.after[1] = vec![0];
        let Cycle(steps) = Schedule::build(&i).unwrap_err();
        assert!(steps.contains(&Step::Apply(0)) && steps.contains(&Step::Apply(1)));
    }

    #[test]
    fn a_failure_skips_exactly_its_dependents() {
        // 0 -> 1 -> 2 and 0 -> 3; 4 independent. 1 fails: 2 skipped, 3 and 4 go on.
        let mut i = input(
            (0..5)
                .map(|_| entry("vpc", Action::Create, false))
                .collect(),
        );
        i.after[1] = vec![0];
        i.after[2] = vec![1];
        i.after[3] = vec![0];
        let (order, skipped) = walk(&Schedule::build(&i).unwrap(), &[Step::Apply(1)]);
        assert_eq!(skipped, vec![Step::Apply(2)]);
        for s in [0, 1, 3, 4] {
            assert!(order.contains(&Step::Apply(s)), "{s} ran: {order:?}");
        }
        assert!(!order.contains(&Step::Apply(2)));
    }

    #[test]
    fn stop_all_skips_everything_not_started() {
        let i = input(
            (0..3)
                .map(|_| entry("vpc", Action::Create, false))
                .collect(),
        );
        let schedule = Schedule::build(&i).unwrap();
        let mut walker = Walker::new(&schedule);
        let first = walker.next_step().unwrap();
        assert_eq!(walker.failed(first, FailurePolicy::StopAll).len(), 2);
        assert_eq!(walker.next_step(), None);
    }

    /// Hands out steps until none is ready, finishing none of them.
    fn take_all(walker: &mut Walker) -> Vec<Step> {
        std::iter::from_fn(|| walker.next_step()).collect()
    }

    #[test]
    fn account_creations_beyond_aws_limit_are_held_back_for_other_work() {
        // 0..8: account creations (the most urgent steps); 8, 9: quick independent changes;
        // 10: an account moved (an update, not a creation).
        let mut changes: Vec<Entry> = (0..8)
            .map(|_| entry("account", Action::Create, false))
            .collect();
        changes.push(entry("iam_group", Action::Create, false));
        changes.push(entry("iam_group", Action::Create, false));
        changes.push(entry("account", Action::Update, false));
        let schedule = Schedule::build(&input(changes)).unwrap();
        let mut walker = Walker::new(&schedule);
        let first = take_all(&mut walker);
        let max = MAX_CONCURRENT_CREATIONS;
        assert_eq!(first[..max], (0..max).map(Step::Apply).collect::<Vec<_>>());
        assert_eq!(
            first[max..],
            [Step::Apply(8), Step::Apply(9), Step::Apply(10)]
        );
        // A creation that ends, whether it succeeded or failed, lets the next one start.
        walker.done(Step::Apply(0));
        assert_eq!(take_all(&mut walker), [Step::Apply(max)]);
        walker.failed(Step::Apply(1), FailurePolicy::SkipDependents);
        assert_eq!(take_all(&mut walker), [Step::Apply(max + 1)]);
        walker.done(Step::Apply(8));
        assert_eq!(take_all(&mut walker), []);
        for s in (2..max + 2).map(Step::Apply) {
            walker.done(s);
        }
        assert_eq!(take_all(&mut walker), [Step::Apply(7)]);
    }

    #[test]
    fn a_stack_waits_for_every_apply_of_the_stack_it_follows_through_one_barrier() {
        // 0..3: the followed stack's creates (group 0); 3..7: the following stack's, each waiting
        // for the whole group; 7: the following stack's delete, which waits for nothing.
        let mut changes: Vec<Entry> = (0..7)
            .map(|_| entry("vpc", Action::Create, false))
            .collect();
        changes.push(entry("vpc", Action::Delete, false));
        let mut i = input(changes);
        i.groups = vec![vec![0, 1, 2]];
        i.after_groups = (0..7)
            .map(|c| if c < 3 { vec![] } else { vec![0] })
            .collect();
        let schedule = Schedule::build(&i).unwrap();
        // 3 + 4 edges through the barrier, not 3 x 4.
        let graph = &schedule.graph;
        let edges: usize = graph
            .order()
            .iter()
            .map(|n| graph.dependents(*n).count())
            .sum();
        assert_eq!(edges, 7);
        assert_eq!(schedule.len(), 8);
        let mut walker = Walker::new(&schedule);
        let ready = take_all(&mut walker);
        let first = [
            Step::Apply(0),
            Step::Apply(1),
            Step::Apply(2),
            Step::Delete(7),
        ];
        assert_eq!(ready, first);
        walker.done(Step::Apply(0));
        walker.done(Step::Apply(1));
        assert_eq!(take_all(&mut walker), []);
        walker.done(Step::Apply(2));
        assert_eq!(
            take_all(&mut walker),
            (3..7).map(Step::Apply).collect::<Vec<_>>()
        );
        // A failure in the followed stack skips the whole following stack, barrier aside.
        let mut walker = Walker::new(&schedule);
        take_all(&mut walker);
        let skipped = walker.failed(Step::Apply(1), FailurePolicy::SkipDependents);
        assert_eq!(skipped, (3..7).map(Step::Apply).collect::<Vec<_>>());
        assert_eq!(walker.stop(), []);
    }

    #[test]
    fn the_longest_weighted_chain_starts_first() {
        // Declared first: three quick independent changes. Declared last: an account, then a role in it.
        let mut i = input(vec![
            entry("iam_group", Action::Create, false),
            entry("iam_group", Action::Create, false),
            entry("iam_group", Action::Create, false),
            entry("account", Action::Create, false),
            entry("iam_role", Action::Create, false),
        ]);
        i.after[4] = vec![3];
        let schedule = Schedule::build(&i).unwrap();
        let (order, _) = walk(&schedule, &[]);
        assert_eq!(order[0], Step::Apply(3));
        // Equal priorities keep plan order.
        assert_eq!(
            &order[1..4],
            &[Step::Apply(0), Step::Apply(1), Step::Apply(2)]
        );
        assert!(schedule.priority(Step::Apply(3)) > schedule.priority(Step::Apply(4)));
    }
}
