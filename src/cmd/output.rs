//! `landfall output`: the outputs the last apply recorded.

use super::{Ctx, Error, Exit, Result, open_to_read, runtime};
use crate::engine;

/// `landfall output --env ENV [--stack STACK] [--json]`: `stack.name = value` lines, or JSON
/// `{stack: {output: value}}`.
pub fn output(ctx: &Ctx, env: &str, stack: Option<&str>, json: bool) -> Result {
    runtime().block_on(async {
        let (ws, _aws, backend) = open_to_read(ctx, env).await?;
        if let Some(stack) = stack
            && !ws.stacks().iter().any(|s| s == stack)
        {
            return Err(Error::usage(
                format!("environment `{env}` has no stack `{stack}`"),
                format!("its stacks: {}", ws.stacks().join(", ")),
            ));
        }
        let states = engine::read_states(&ws, &backend).await?;
        let mut all = serde_json::Map::new();
        for (name, stored) in &states {
            if stack.is_some_and(|s| s != name) {
                continue;
            }
            let outputs = serde_json::Value::Object(stored.state.outputs.clone());
            all.insert(name.clone(), outputs);
        }
        if json {
            println!("{}", serde_json::to_string_pretty(&all).unwrap_or_default());
        } else {
            for (name, outputs) in &all {
                for (k, v) in outputs.as_object().into_iter().flatten() {
                    println!("{name}.{k} = {v}");
                }
            }
        }
        Ok(Exit::Success)
    })
}
