//! `landfall graph`: the resource graph as Graphviz dot, Mermaid or JSON.

use super::ResourceGraph;
use crate::resolve::{Instance, Resolved};
use std::fmt::Write as _;

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
