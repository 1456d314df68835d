//! `landfall graph`: the dependency graph of an environment's resources, as dot, mermaid or JSON.

use super::validate::check;
use super::{Ctx, Exit, Result};
use crate::graph::{self, Format};

/// `landfall graph --env ENV`: prints the graph; an invalid configuration is an error.
pub fn graph(ctx: &Ctx, env: &str, format: Format) -> Result {
    let (sources, checked) = check(ctx, env)?;
    match checked {
        Ok(resolved) => {
            print!("{}", graph::render(&resolved, &resolved.graph, format));
            Ok(Exit::Success)
        }
        Err(diags) => Err(crate::engine::Error::Config(Box::new(sources), diags).into()),
    }
}
