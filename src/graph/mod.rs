//! Dependency graphs: one type, [`Dag`], for every "X waits for Y" relation landfall orders by.
//!
//! - The resolver orders the declarations of a scope with it (cycles become diagnostics with the path).
//! - [`ResourceGraph`] is the sealed graph of an environment's resource instances: what `validate` and
//!   `graph` show, and what the executor's schedule is derived from.
//! - The executor's schedule (`engine::schedule`) is a sealed `Dag` of steps.
//!
//! A `Dag` is built mutable, then [`Dag::seal`]ed: sealing refuses a cycle (naming one), and a sealed
//! graph cannot change, so its order and its dependents stay true for as long as it lives.

mod render;

pub use render::{Format, render};

use crate::expr::InstanceId;
use crate::resolve::Instance;
use petgraph::Direction;
use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;

/// A directed graph under construction; an edge goes from a node to a node it waits for (depends on).
#[derive(Debug, Clone)]
pub struct Dag<N, E = ()> {
    graph: DiGraph<N, E>,
    /// Where each node is: nodes are values (an address index, a step), added once.
    index: HashMap<N, NodeIndex>,
}

/// A cycle found while sealing, as the nodes along it (the first is repeated at the end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle<N>(pub Vec<N>);

impl<N: Copy + Eq + Hash, E> Default for Dag<N, E> {
    fn default() -> Self {
        Dag {
            graph: DiGraph::new(),
            index: HashMap::new(),
        }
    }
}

impl<N: Copy + Eq + Hash, E> Dag<N, E> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `n` (once; adding it again does nothing).
    pub fn add_node(&mut self, n: N) {
        if !self.index.contains_key(&n) {
            let i = self.graph.add_node(n);
            self.index.insert(n, i);
        }
    }

    pub fn contains(&self, n: N) -> bool {
        self.index.contains_key(&n)
    }

    /// Makes `from` wait for `to`, once (a second edge between them is dropped, and so is an edge to or
    /// from a node not in the graph: callers add the nodes they order first). Returns whether it was added.
    pub fn add_edge(&mut self, from: N, to: N, weight: E) -> bool {
        let (Some(&f), Some(&t)) = (self.index.get(&from), self.index.get(&to)) else {
            return false;
        };
        if self.graph.find_edge(f, t).is_some() {
            return false;
        }
        self.graph.add_edge(f, t, weight);
        true
    }

    /// What `n` waits for directly.
    pub fn waits_for(&self, n: N) -> impl Iterator<Item = N> + '_ {
        self.neighbors(n, Direction::Outgoing)
    }

    /// What waits for `n` directly.
    pub fn dependents(&self, n: N) -> impl Iterator<Item = N> + '_ {
        self.neighbors(n, Direction::Incoming)
    }

    fn neighbors(&self, n: N, dir: Direction) -> impl Iterator<Item = N> + '_ {
        self.index
            .get(&n)
            .into_iter()
            .flat_map(move |i| self.graph.neighbors_directed(*i, dir))
            .map(|i| self.graph[i])
    }

    /// Removes the edge `from -> to` if there is one.
    pub fn remove_edge(&mut self, from: N, to: N) {
        if let (Some(&f), Some(&t)) = (self.index.get(&from), self.index.get(&to))
            && let Some(e) = self.graph.find_edge(f, t)
        {
            self.graph.remove_edge(e);
        }
    }

    /// Whether `from` waits for `to`, directly or through other nodes.
    pub fn reaches(&self, from: N, to: N) -> bool {
        let mut seen = HashSet::new();
        let mut todo = vec![from];
        while let Some(n) = todo.pop() {
            if n == to {
                return true;
            }
            if seen.insert(n) {
                todo.extend(self.waits_for(n));
            }
        }
        false
    }

    /// The strongly connected components, each node's dependencies before it (an evaluation order when
    /// there is no cycle); a component of more than one node, or of a node waiting for itself, is a cycle.
    pub fn components(&self) -> Vec<Vec<N>> {
        tarjan_scc(&self.graph)
            .into_iter()
            .map(|c| c.into_iter().map(|i| self.graph[i]).collect())
            .collect()
    }

    /// Whether a component from [`Dag::components`] is a cycle.
    pub fn is_cycle(&self, component: &[N]) -> bool {
        component.len() > 1
            || component
                .first()
                .is_some_and(|n| self.waits_for(*n).any(|m| m == *n))
    }

    /// The shortest cycle through `start` staying within `members` (a cyclic component), as the edges
    /// along it: (from, to, weight), from `start` back to `start`.
    pub fn cycle_through(&self, start: N, members: &[N]) -> Vec<(N, N, &E)> {
        let members: HashSet<N> = members.iter().copied().collect();
        let mut prev: HashMap<N, N> = HashMap::new();
        let mut queue = VecDeque::from([start]);
        let mut closing = None;
        'search: while let Some(n) = queue.pop_front() {
            for next in self.waits_for(n) {
                if next == start {
                    closing = Some(n);
                    break 'search;
                }
                if members.contains(&next) && !prev.contains_key(&next) {
                    prev.insert(next, n);
                    queue.push_back(next);
                }
            }
        }
        let mut path = vec![start];
        let mut cur = closing.unwrap_or(start);
        while cur != start {
            path.push(cur);
            cur = prev[&cur];
        }
        path[1..].reverse();
        path.push(start);
        path.windows(2)
            .filter_map(|p| {
                let e = self.graph.find_edge(self.index[&p[0]], self.index[&p[1]])?;
                Some((p[0], p[1], &self.graph[e]))
            })
            .collect()
    }

    /// Seals the graph: refuses a cycle, naming the nodes along one.
    pub fn seal(self) -> Result<Sealed<N, E>, Cycle<N>> {
        match toposort(&self.graph, None) {
            Ok(order) => {
                // toposort puts a node before what it points to: dependents first. Reverse it.
                let order = order.into_iter().rev().map(|i| self.graph[i]).collect();
                Ok(Sealed { dag: self, order })
            }
            Err(cycle) => {
                let at = self.graph[cycle.node_id()];
                let component = self
                    .components()
                    .into_iter()
                    .find(|c| c.contains(&at))
                    .unwrap_or_else(|| vec![at]);
                let mut nodes: Vec<N> = self
                    .cycle_through(at, &component)
                    .into_iter()
                    .map(|(from, _, _)| from)
                    .collect();
                nodes.push(at);
                Err(Cycle(nodes))
            }
        }
    }
}

/// A [`Dag`] known to be acyclic, and frozen.
#[derive(Debug, Clone)]
pub struct Sealed<N, E = ()> {
    dag: Dag<N, E>,
    /// Every node after everything it waits for.
    order: Vec<N>,
}

impl<N: Copy + Eq + Hash, E> Sealed<N, E> {
    /// Every node, each after everything it waits for.
    pub fn order(&self) -> &[N] {
        &self.order
    }

    pub fn waits_for(&self, n: N) -> impl Iterator<Item = N> + '_ {
        self.dag.waits_for(n)
    }

    pub fn dependents(&self, n: N) -> impl Iterator<Item = N> + '_ {
        self.dag.dependents(n)
    }

    pub fn contains(&self, n: N) -> bool {
        self.dag.contains(n)
    }

    pub fn reaches(&self, from: N, to: N) -> bool {
        self.dag.reaches(from, to)
    }

    pub fn node_count(&self) -> usize {
        self.dag.graph.node_count()
    }

    pub fn edge_count(&self) -> usize {
        self.dag.graph.edge_count()
    }

    /// Every edge, (from, to), in insertion order.
    pub fn edges(&self) -> impl Iterator<Item = (N, N)> + '_ {
        let g = &self.dag.graph;
        g.raw_edges()
            .iter()
            .map(move |e| (g[e.source()], g[e.target()]))
    }
}

/// The sealed graph of an environment's resource instances; node `i` is instance `i`, an edge goes from
/// an instance to each instance it depends on. The resolver reports cycles with their references;
/// [`ResourceGraph::new`] checks again.
pub struct ResourceGraph {
    pub graph: Sealed<InstanceId>,
}

impl std::fmt::Debug for ResourceGraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceGraph")
            .field("nodes", &self.node_count())
            .field("edges", &self.edge_count())
            .finish()
    }
}

/// The resolver let a cycle through; a bug, reported instead of looping forever later.
#[derive(Debug, thiserror::Error)]
#[error("internal error: the resource graph has a cycle that resolution did not report")]
pub struct CycleError;

impl ResourceGraph {
    /// Built once by the resolver, sealed, and kept in [`crate::resolve::Resolved::graph`]: validate, `graph`, plan and
    /// the executor all read that one.
    pub fn new(instances: &[Instance]) -> Result<Self, CycleError> {
        let mut dag = Dag::new();
        for i in 0..instances.len() {
            dag.add_node(InstanceId(i as u32));
        }
        for (i, inst) in instances.iter().enumerate() {
            for d in &inst.deps {
                dag.add_edge(InstanceId(i as u32), *d, ());
            }
        }
        let graph = dag.seal().map_err(|_| CycleError)?;
        Ok(ResourceGraph { graph })
    }

    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Every dependency, as (dependent, dependency) instance indices.
    pub fn edges(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.graph
            .edges()
            .map(|(a, b)| (a.0 as usize, b.0 as usize))
    }

    /// The instances `i` depends on directly.
    pub fn deps(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.graph
            .waits_for(InstanceId(i as u32))
            .map(|d| d.0 as usize)
    }

    /// `start` and everything it depends on, directly or not (what `--target` takes along).
    pub fn with_dependencies(&self, start: impl IntoIterator<Item = usize>) -> HashSet<usize> {
        self.closure(start, |n| self.graph.waits_for(n).collect())
    }

    /// `start` and everything that depends on it, directly or not (what `--exclude` leaves out).
    pub fn with_dependents(&self, start: impl IntoIterator<Item = usize>) -> HashSet<usize> {
        self.closure(start, |n| self.graph.dependents(n).collect())
    }

    fn closure(
        &self,
        start: impl IntoIterator<Item = usize>,
        next: impl Fn(InstanceId) -> Vec<InstanceId>,
    ) -> HashSet<usize> {
        let mut seen = HashSet::new();
        let mut todo: Vec<usize> = start.into_iter().collect();
        while let Some(i) = todo.pop() {
            if seen.insert(i) {
                todo.extend(next(InstanceId(i as u32)).into_iter().map(|d| d.0 as usize));
            }
        }
        seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealing_orders_dependencies_first() {
        let mut dag = Dag::new();
        for n in [1, 2, 3] {
            dag.add_node(n);
        }
        dag.add_edge(1, 2, ());
        dag.add_edge(2, 3, ());
        let sealed = dag.seal().unwrap();
        assert_eq!(sealed.order(), &[3, 2, 1]);
        assert!(sealed.reaches(1, 3));
        assert_eq!(sealed.dependents(3).collect::<Vec<_>>(), vec![2]);
    }

    #[test]
    fn sealing_refuses_a_cycle_and_names_it() {
        let mut dag = Dag::new();
        for n in [1, 2, 3, 4] {
            dag.add_node(n);
        }
        dag.add_edge(4, 1, ());
        dag.add_edge(1, 2, ());
        dag.add_edge(2, 3, ());
        dag.add_edge(3, 1, ());
        let Cycle(path) = dag.seal().unwrap_err();
        assert_eq!(path.first(), path.last());
        assert_eq!(path.len(), 4, "{path:?}");
        assert!(!path.contains(&4));
    }
}
