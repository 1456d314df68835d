//! `landfall output`: the outputs the last apply recorded.

use super::*;

pub fn output(ctx: &Ctx, env: &str, stack: Option<&str>, json: bool) -> ExitCode {
    runtime().block_on(async {
        let (ws, _aws, backend) = match open(ctx, env).await {
            Ok(x) => x,
            Err(e) => return error(ctx, e),
        };
        let states = match engine::read_states(&ws, &backend).await {
            Ok(s) => s,
            Err(e) => return error(ctx, e),
        };
        let mut all = serde_json::Map::new();
        for (name, stored) in &states {
            if stack.is_some_and(|s| s != name) {
                continue;
            }
            all.insert(
                name.clone(),
                serde_json::Value::Object(stored.state.outputs.clone()),
            );
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
        ExitCode::SUCCESS
    })
}
