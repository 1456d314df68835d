//! `landfall validate`: an environment's configuration, checked offline.

use super::*;

pub type Outcome = (Sources, Result<(Resolved, ResourceGraph), Diagnostics>);

/// Loads and resolves an environment; `Err` is an exit code when nothing could be loaded at all.
pub fn resolve_env(cwd: &std::path::Path, env: &str, color: bool) -> Result<Outcome, ExitCode> {
    let root = match load::find_root(cwd) {
        Ok(r) => r,
        Err(e) => {
            return Err(fail(
                color,
                Diagnostic::error(e.to_string())
                    .help("run landfall in a project folder, or pass -C DIR"),
            ));
        }
    };
    let loaded = match load::load(&root, env) {
        Ok(l) => l,
        Err(LoadError::Invalid(sources, mut diags)) => {
            diags.sort();
            return Ok((sources, Err(diags)));
        }
        Err(e @ LoadError::NoEnvironment { .. }) => {
            let LoadError::NoEnvironment { name, known, .. } = &e else {
                unreachable!()
            };
            let d = Diagnostic::error(e.to_string())
                .suggest(name, known.iter().map(String::as_str))
                .note(
                    None,
                    format!(
                        "environments: {}",
                        if known.is_empty() {
                            "(none)".into()
                        } else {
                            known.join(", ")
                        }
                    ),
                );
            return Err(fail(color, d));
        }
        Err(e) => return Err(fail(color, Diagnostic::error(e.to_string()))),
    };
    // The backend settings are checked offline too: a misspelled `kind` must not wait for `plan`.
    let backend =
        crate::state::BackendConfig::from_table(&loaded.env.backend, &loaded.project.home_region)
            .err()
            .unwrap_or_default();
    let (sources, resolved) = resolve::resolve(loaded);
    let result = match resolved {
        Ok(_) if !backend.is_empty() => Err(Diagnostics(backend)),
        Ok(r) => match ResourceGraph::new(&r) {
            Ok(g) => Ok((r, g)),
            Err(e) => return Err(fail(color, Diagnostic::error(e.to_string()))),
        },
        Err(mut d) => {
            d.0.extend(backend);
            d.sort();
            Err(d)
        }
    };
    Ok((sources, result))
}

pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn summary_json(resolved: &Resolved, g: &ResourceGraph) -> serde_json::Value {
    serde_json::json!({ "stacks": resolved.stacks.len(), "resources": resolved.instances.len(), "dependencies": g.edge_count() })
}
