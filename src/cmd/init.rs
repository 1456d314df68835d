//! `landfall init`: prepares the state backend.

use super::*;

pub fn init(ctx: &Ctx, env: &str) -> ExitCode {
    runtime().block_on(async {
        let (ws, _aws, backend) = match open(ctx, env).await {
            Ok(x) => x,
            Err(e) => return error(ctx, e),
        };
        match backend.init().await {
            Ok(true) => println!(
                "Created state bucket for {} (versioning, default encryption, public access blocked).",
                backend.describe(&ws.env, "*")
            ),
            Ok(false) => println!("State backend ready: {}", backend.describe(&ws.env, "*")),
            Err(e) => return error(ctx, e.into()),
        }
        ExitCode::SUCCESS
    })
}
