//! The declaration graph of a scope: which declarations (resources, module instances, locals, outputs)
//! reference which, the order to evaluate them in, and the cycles that make an order impossible. The graph
//! is a [`Dag`], the one graph type of the project.

use crate::diag::{Diagnostic, Diagnostics};
use crate::expr::{Expr, Traversal};
use crate::graph::Dag;
use crate::load::{Meta, ScopeDef};
use crate::schema;
use crate::source::Span;

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
    let mut graph: Dag<Node, Span> = Dag::new();
    for n in &nodes {
        graph.add_node(*n);
    }
    for n in &nodes {
        for (target, span) in refs(*n) {
            graph.add_edge(*n, target, span);
        }
    }
    let mut in_cycle = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(nodes.len());
    // Components come dependencies-first: exactly an evaluation order.
    for scc in graph.components() {
        if graph.is_cycle(&scc) {
            diags.push(cycle_diagnostic(&graph, &scc, label));
            in_cycle.extend(scc.iter().copied());
        }
        out.extend(scc);
    }
    Order {
        nodes: out,
        in_cycle,
    }
}

/// Describes one cycle through a strongly connected component, each step with the reference that makes it.
fn cycle_diagnostic(
    graph: &Dag<Node, Span>,
    scc: &[Node],
    label: &dyn Fn(Node) -> String,
) -> Diagnostic {
    let start = *scc
        .iter()
        .min_by_key(|n| label(**n))
        .expect("components are not empty");
    let path = graph.cycle_through(start, scc);
    let mut names: Vec<String> = path.iter().map(|(from, _, _)| label(*from)).collect();
    names.push(label(start));
    let mut d = Diagnostic::error(format!("dependency cycle: {}", names.join(" -> ")));
    for (i, (from, to, span)) in path.iter().enumerate() {
        let text = format!("`{}` references `{}` here", label(*from), label(*to));
        d = if i == 0 {
            d.at(**span, text)
        } else {
            d.note(Some(**span), text)
        };
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
