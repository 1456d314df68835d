//! landfall provisions multi-account AWS landing zones from declarative TOML.
//!
//! The stages, each a module with a narrow input and output:
//!
//! ```text
//! files --load--> declarations (spans kept)          load/     landfall.toml, environments, stacks, modules
//!       --resolve--> resource instances               resolve/  expressions, count/for_each, modules, checks
//!       --graph--> DAG across all stacks              graph/    petgraph, cycle-free, dot/mermaid/json
//!       --refresh--> what AWS has                     engine/   batched reads through provider/ (kinds)
//!       --diff--> Plan (saved as JSON)                plan/     create/update/replace/delete, drift, render
//!       --apply--> AWS changes + state checkpoints    engine/   the concurrent executor; state/ (S3/local, locks)
//! ```
//!
//! Everything up to `graph` runs offline, without credentials. The commands users run (validate, graph,
//! kinds, init, plan, apply, destroy, state, output, import, import-org, force-unlock) are [`cmd`]: one
//! module each, called by `main.rs` after parsing the arguments, and by tests directly. Supporting modules:
//! [`source`] (files and spans), [`address`] (resource addresses), [`diag`] (diagnostics), [`expr`] (the
//! expression language), [`schema`] (the resource kinds), [`aws`] (credentials, clients, retries).
//!
//! Apply: `engine::schedule` (steps derived from the sealed graph) -> `engine::executor` (bounded, failure
//! policy, stop requests) -> `engine::events` -> [`report`] (live terminal, plain CI lines, JSON lines).

pub mod address;
pub mod aws;
pub mod cmd;
pub mod complete;
pub mod diag;
pub mod engine;
pub mod expr;
pub mod graph;
pub mod load;
pub mod plan;
pub mod provider;
pub mod report;
pub mod resolve;
pub mod schema;
pub mod source;
pub mod state;
