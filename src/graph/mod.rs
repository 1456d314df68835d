//! The dependency graph of an environment: one node per resource instance, across all its stacks, and an
//! edge from each instance to every instance it depends on. Sealed once built: the resolver guarantees it is
//! acyclic (cycles are reported with their references), and [`ResourceGraph::new`] checks it again.

use crate::expr::InstanceId;
use crate::resolve::{Instance, Resolved};
use petgraph::algo::is_cyclic_directed;
use petgraph::graph::{DiGraph, NodeIndex};
use std::fmt::Write as _;

/// A DAG over the instances of a [`Resolved`] environment; node `i` is instance `i`.
pub struct ResourceGraph {
    pub graph: DiGraph<InstanceId, ()>,
}

/// The resolver let a cycle through; a bug, reported instead of looping forever later.
#[derive(Debug, thiserror::Error)]
#[error("internal error: the resource graph has a cycle that resolution did not report")]
pub struct CycleError;

impl ResourceGraph {
    pub fn new(resolved: &Resolved) -> Result<Self, CycleError> {
        let n = resolved.instances.len();
        let edges: usize = resolved.instances.iter().map(|i| i.deps.len()).sum();
        let mut graph = DiGraph::with_capacity(n, edges);
        for i in 0..n {
            graph.add_node(InstanceId(i as u32));
        }
        for (i, inst) in resolved.instances.iter().enumerate() {
            for d in &inst.deps {
                graph.add_edge(NodeIndex::new(i), NodeIndex::new(d.0 as usize), ());
            }
        }
        if is_cyclic_directed(&graph) {
            return Err(CycleError);
        }
        Ok(ResourceGraph { graph })
    }

    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    fn edges(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.graph
            .raw_edges()
            .iter()
            .map(|e| (e.source().index(), e.target().index()))
    }
}

/// Output formats of `landfall graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Dot,
    Mermaid,
    Json,
}

/// Renders the graph; edges point from a resource to what it depends on.
pub fn render(resolved: &Resolved, graph: &ResourceGraph, format: Format) -> String {
    let insts = &resolved.instances;
    match format {
        Format::Dot => {
            let mut out = String::from(
                "digraph landfall {\n  rankdir = \"RL\";\n  node [shape = box, fontname = \"Helvetica\"];\n",
            );
            for stack in &resolved.stacks {
                let _ = writeln!(
                    out,
                    "  subgraph \"cluster_{stack}\" {{\n    label = \"{stack}\";"
                );
                for inst in insts.iter().filter(|i| i.stack == *stack) {
                    let _ = writeln!(out, "    {};", dot_id(&inst.address));
                }
                out.push_str("  }\n");
            }
            for (from, to) in graph.edges() {
                let _ = writeln!(
                    out,
                    "  {} -> {};",
                    dot_id(&insts[from].address),
                    dot_id(&insts[to].address)
                );
            }
            out.push_str("}\n");
            out
        }
        Format::Mermaid => {
            let mut out = String::from("flowchart RL\n");
            for stack in &resolved.stacks {
                let _ = writeln!(out, "  subgraph {stack}");
                for (i, inst) in insts.iter().enumerate().filter(|(_, i)| i.stack == *stack) {
                    let _ = writeln!(out, "    n{i}[\"{}\"]", inst.address.replace('"', "#quot;"));
                }
                out.push_str("  end\n");
            }
            for (from, to) in graph.edges() {
                let _ = writeln!(out, "  n{from} --> n{to}");
            }
            out
        }
        Format::Json => {
            let nodes: Vec<serde_json::Value> = insts.iter().map(node_json).collect();
            let edges: Vec<serde_json::Value> = graph
                .edges()
                .map(|(f, t)| serde_json::json!({ "from": insts[f].address, "to": insts[t].address }))
                .collect();
            let doc = serde_json::json!({
                "format_version": 1,
                "environment": resolved.environment,
                "nodes": nodes,
                "edges": edges,
                "stack_dependencies": resolved.stack_deps.iter().map(|(a, b)| serde_json::json!({"from": a, "to": b})).collect::<Vec<_>>(),
            });
            let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
            s.push('\n');
            s
        }
    }
}

fn node_json(inst: &Instance) -> serde_json::Value {
    serde_json::json!({
        "address": inst.address,
        "stack": inst.stack,
        "kind": inst.kind.name,
        "account": inst.account.to_json(),
        "region": inst.region,
    })
}

fn dot_id(address: &str) -> String {
    format!("\"{}\"", address.replace('\\', "\\\\").replace('"', "\\\""))
}
