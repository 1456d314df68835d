//! The declaration graph of a scope: which declarations (resources, module instances, locals, outputs)
//! reference which, the order to evaluate them in, and the cycles that make an order impossible.

use crate::diag::{Diagnostic, Diagnostics};
use crate::expr::{Expr, Traversal};
use crate::load::{Meta, ScopeDef};
use crate::schema;
use crate::source::Span;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::HashMap;

/// A declaration within one scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decl {
    Resource(usize),
    Module(usize),
    Local(usize),
    Output(usize),
}

/// A declaration in the environment: the stack (or, inside a module, always 0) and the declaration.
pub type Node = (usize, Decl);

impl Decl {
    /// How the declaration is written in references, e.g. `vpc.main` or `module.network`.
    pub fn label(self, scope: &ScopeDef) -> String {
        match self {
            Decl::Resource(i) => format!(
                "{}.{}",
                scope.resources[i].kind.name, scope.resources[i].name
            ),
            Decl::Module(i) => format!("module.{}", scope.modules[i].name),
            Decl::Local(i) => format!("local.{}", scope.locals[i].name),
            Decl::Output(i) => format!("output.{}", scope.outputs[i].name),
        }
    }

    /// The expressions the declaration evaluates.
    pub fn exprs(self, scope: &ScopeDef) -> Vec<&Expr> {
        fn meta(m: &Meta) -> impl Iterator<Item = &Expr> {
            [&m.count, &m.for_each, &m.account, &m.region]
                .into_iter()
                .flatten()
                .chain(&m.depends_on)
        }
        match self {
            Decl::Resource(i) => {
                let r = &scope.resources[i];
                r.attrs
                    .iter()
                    .map(|a| &a.value)
                    .chain(meta(&r.meta))
                    .collect()
            }
            Decl::Module(i) => {
                let m = &scope.modules[i];
                m.inputs
                    .iter()
                    .map(|a| &a.value)
                    .chain(meta(&m.meta))
                    .collect()
            }
            Decl::Local(i) => vec![&scope.locals[i].expr],
            Decl::Output(i) => vec![&scope.outputs[i].expr],
        }
    }
}

/// Every declaration of a scope.
pub fn decls(scope: &ScopeDef) -> impl Iterator<Item = Decl> + '_ {
    (0..scope.resources.len())
        .map(Decl::Resource)
        .chain((0..scope.modules.len()).map(Decl::Module))
        .chain((0..scope.locals.len()).map(Decl::Local))
        .chain((0..scope.outputs.len()).map(Decl::Output))
}

/// The declaration a reference names within `scope`, if any. `steps` are the names after the root.
pub fn target(scope: &ScopeDef, root: &str, names: &[&str]) -> Option<Decl> {
    let first = *names.first()?;
    match root {
        "module" => scope
            .modules
            .iter()
            .position(|m| m.name == first)
            .map(Decl::Module),
        "local" => scope
            .locals
            .iter()
            .position(|l| l.name == first)
            .map(Decl::Local),
        "output" => scope
            .outputs
            .iter()
            .position(|o| o.name == first)
            .map(Decl::Output),
        kind if schema::kind(kind).is_some() => scope.resource(kind, first).map(Decl::Resource),
        _ => None,
    }
}

/// The declarations an `accounts_in(...)` argument makes a declaration depend on: every OU and account of
/// the scope the OU is declared in.
pub fn accounts_in_targets(scope: &ScopeDef) -> impl Iterator<Item = Decl> + '_ {
    scope
        .resources
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r.kind.name, "account" | "organizational_unit"))
        .map(|(i, _)| Decl::Resource(i))
}

/// An evaluation order over the nodes, and cycles found (already reported).
pub struct Order {
    pub nodes: Vec<Node>,
    /// Nodes that are part of a cycle: references between them read as unknown instead of failing again.
    pub in_cycle: std::collections::HashSet<Node>,
}

/// Builds the graph of `nodes` with the edges `refs` reports (node -> nodes it references, with the span of
/// the reference), reports every cycle, and returns an order in which each node follows what it references.
pub fn order(
    nodes: Vec<Node>,
    refs: &dyn Fn(Node) -> Vec<(Node, Span)>,
    label: &dyn Fn(Node) -> String,
    diags: &mut Diagnostics,
) -> Order {
    let mut graph: DiGraph<Node, Span> = DiGraph::with_capacity(nodes.len(), nodes.len());
    let index: HashMap<Node, NodeIndex> = nodes.iter().map(|n| (*n, graph.add_node(*n))).collect();
    for n in &nodes {
        for (target, span) in refs(*n) {
            if let Some(t) = index.get(&target)
                && graph.find_edge(index[n], *t).is_none()
            {
                graph.add_edge(index[n], *t, span);
            }
        }
    }
    let mut in_cycle = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(nodes.len());
    // tarjan_scc yields components dependencies-first: exactly an evaluation order.
    for scc in tarjan_scc(&graph) {
        let cyclic = scc.len() > 1 || graph.find_edge(scc[0], scc[0]).is_some();
        if cyclic {
            diags.push(cycle_diagnostic(&graph, &scc, label));
            in_cycle.extend(scc.iter().map(|i| graph[*i]));
        }
        out.extend(scc.iter().map(|i| graph[*i]));
    }
    Order {
        nodes: out,
        in_cycle,
    }
}

/// Describes one cycle through a strongly connected component, each step with the reference that makes it.
fn cycle_diagnostic(
    graph: &DiGraph<Node, Span>,
    scc: &[NodeIndex],
    label: &dyn Fn(Node) -> String,
) -> Diagnostic {
    let members: std::collections::HashSet<NodeIndex> = scc.iter().copied().collect();
    let start = *scc
        .iter()
        .min_by_key(|i| label(graph[**i]))
        .expect("components are not empty");
    // Breadth-first from start back to start, staying inside the component: the shortest cycle through it.
    let mut prev: HashMap<NodeIndex, NodeIndex> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    let mut closing = None;
    'search: while let Some(n) = queue.pop_front() {
        for next in graph.neighbors(n) {
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
    let names: Vec<String> = path.iter().map(|i| label(graph[*i])).collect();
    let mut d = Diagnostic::error(format!("dependency cycle: {}", names.join(" -> ")));
    for pair in path.windows(2) {
        let edge = graph
            .find_edge(pair[0], pair[1])
            .expect("consecutive nodes of the cycle are joined");
        let span = graph[edge];
        if d.primary.is_none() {
            d = d.at(
                span,
                format!("`{}` references `{}` here", names[0], label(graph[pair[1]])),
            );
        } else {
            d = d.note(
                Some(span),
                format!(
                    "`{}` references `{}` here",
                    label(graph[pair[0]]),
                    label(graph[pair[1]])
                ),
            );
        }
    }
    d.help("break the cycle: remove one of these references, or pass the value in another way")
}

/// References in `exprs`, as (root, names, span) triples, plus accounts_in arguments.
pub fn references<'e>(exprs: &[&'e Expr]) -> (Vec<Traversal<'e>>, Vec<Traversal<'e>>) {
    let mut refs = Vec::new();
    let mut accounts_in = Vec::new();
    for e in exprs {
        refs.extend(e.traversals());
        let mut calls = Vec::new();
        e.calls("accounts_in", &mut calls);
        for args in calls {
            if let Some(t) = args.first().and_then(Expr::as_traversal) {
                accounts_in.push(t);
            }
        }
    }
    (refs, accounts_in)
}
