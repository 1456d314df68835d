//! `landfall validate`: an environment's configuration, checked offline (syntax, types, references,
//! cycles, AWS limits, backend settings). Also the loading `graph` shares.

use super::{Ctx, Error, Exit, Result};
use crate::diag::{self, Diagnostics};
use crate::load::{self, LoadError};
use crate::resolve::{self, Resolved};
use crate::source::Sources;

/// How `validate` prints its verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ValidateFormat {
    Text,
    Json,
}

/// An environment loaded and resolved offline: its sources, and its resources and graph or every
/// problem found.
pub(crate) type Checked = (Sources, std::result::Result<Resolved, Diagnostics>);

/// `landfall validate --env ENV`: prints the verdict; an invalid configuration is an error.
pub fn validate(ctx: &Ctx, env: &str, format: ValidateFormat) -> Result {
    let (sources, checked) = check(ctx, env)?;
    let json = format == ValidateFormat::Json;
    match checked {
        Ok(resolved) if json => print_json(&serde_json::json!({
            "valid": true,
            "environment": env,
            "summary": {
                "stacks": resolved.stacks.len(),
                "resources": resolved.instances.len(),
                "dependencies": resolved.graph.edge_count(),
            },
            "diagnostics": [],
        })),
        Ok(resolved) => println!(
            "Success! Environment `{env}` is valid: {}, {}, {}.",
            plural(resolved.stacks.len(), "stack", "stacks"),
            plural(resolved.instances.len(), "resource", "resources"),
            plural(resolved.graph.edge_count(), "dependency", "dependencies"),
        ),
        Err(diags) if json => {
            print_json(&serde_json::json!({
                "valid": false,
                "environment": env,
                "diagnostics": diag::to_json(&sources, &diags),
            }));
            return Err(Error::Reported);
        }
        Err(diags) => return Err(crate::engine::Error::Config(Box::new(sources), diags).into()),
    }
    Ok(Exit::Success)
}

fn print_json(doc: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(doc).unwrap_or_default());
}

/// Loads and resolves an environment. `Err` when nothing could be loaded at all (no such environment);
/// problems in the configuration are the `Err` of the [`Checked`] result, all of them.
pub(crate) fn check(ctx: &Ctx, env: &str) -> Result<Checked> {
    let loaded = match load::load(&ctx.root, env) {
        Ok(l) => l,
        Err(LoadError::Invalid(sources, mut diags)) => {
            diags.sort();
            return Ok((sources, Err(diags)));
        }
        Err(e) => return Err(e.into()),
    };
    // The backend settings are checked offline too: a misspelled `kind` must not wait for `plan`.
    let backend =
        crate::state::BackendConfig::from_table(&loaded.env.backend, &loaded.project.home_region)
            .err()
            .unwrap_or_default();
    let (sources, resolved) = resolve::resolve(loaded);
    let result = match resolved {
        Ok(_) if !backend.is_empty() => Err(Diagnostics(backend)),
        Ok(r) => Ok(r),
        Err(mut d) => {
            d.0.extend(backend);
            d.sort();
            Err(d)
        }
    };
    Ok((sources, result))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
