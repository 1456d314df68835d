//! landfall provisions multi-account AWS landing zones from declarative TOML.
//!
//! The stages, each a module with a narrow input and output:
//!
//! ```text
//! files --load--> declarations (spans kept)          load/     landfall.toml, environments, stacks, modules
//!       --resolve--> resource instances               resolve/  expressions, count/for_each, modules, checks
//!       --graph--> DAG across all stacks              graph/    petgraph, cycle-free, dot/mermaid/json
//! ```
//!
//! Refresh, diff, plan files and apply build on these and are the only stages that talk to AWS. Everything
//! here runs offline, without credentials. Supporting modules: [`source`] (files and spans), [`address`] (resource addresses), [`diag`]
//! (diagnostics), [`expr`] (the expression language), [`schema`] (the resource kinds).

pub mod address;
pub mod aws;
pub mod complete;
pub mod diag;
pub mod engine;
pub mod expr;
pub mod graph;
pub mod load;
pub mod plan;
pub mod provider;
pub mod resolve;
pub mod schema;
pub mod source;
pub mod state;
