//! The expression language inside `${...}`: its syntax tree, parser, values, functions and evaluator.
//!
//! Configuration values are all [`Expr`]s: a TOML table becomes a map expression, a plain string a literal,
//! a string with `${...}` a template. Evaluation is pure; references are answered by a [`Scope`] that the
//! resolver implements, so this module knows nothing about stacks, modules or resources.

mod ast;
mod eval;
mod funcs;
mod parse;
mod value;

pub use ast::{BinOp, Expr, ExprKind, MapEntry, Part, Step, Traversal, UnOp};
pub use eval::{EvalStep, Scope, eval, preview};
pub use funcs::FUNCTIONS;
pub use parse::{MAX_DEPTH, StrOrigin, parse_reference, parse_template};
pub use value::{
    InstanceId, Value, format_number, has_unknown_json, is_unknown_json, unknown_json,
};
