//! `landfall init`: prepares the state backend.

use super::{Ctx, Exit, Result, open, runtime};

/// `landfall init --env ENV`: creates the S3 state bucket when missing (versioned, encrypted,
/// private); nothing to do for local state.
pub fn init(ctx: &Ctx, env: &str) -> Result {
    runtime().block_on(async {
        let (ws, _aws, backend) = open(ctx, env).await?;
        let place = backend.describe(&ws.env, "*");
        if backend.init().await? {
            println!(
                "Created state bucket for {place} (versioning, default encryption, public access blocked)."
            );
        } else {
            println!("State backend ready: {place}");
        }
        Ok(Exit::Success)
    })
}
