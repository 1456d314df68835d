//! `landfall force-unlock`: releases the locks a dead run left.

use super::{Ctx, Error, Exit, Result, open, runtime};

/// `landfall force-unlock --env ENV [--stack STACK] LOCK_ID`: releases the lock `id` of one stack, or of
/// every stack of the environment whose lock carries `id`. A lock with another id is never released.
pub fn force_unlock(ctx: &Ctx, env: &str, stack: Option<&str>, id: &str) -> Result {
    runtime().block_on(async {
        let (ws, _aws, backend) = open(ctx, env).await?;
        let stacks = match stack {
            Some(stack) => vec![stack.to_string()],
            None => backend.held_by(&ws.env, &ws.stacks(), id).await?,
        };
        if stacks.is_empty() {
            return Err(Error::NoLock {
                env: ws.env.clone(),
                id: id.to_string(),
            });
        }
        for stack in &stacks {
            backend.unlock(&ws.env, stack, id).await?;
            let place = backend.describe(&ws.env, stack);
            println!("Released the lock {id} of {place}.");
        }
        Ok(Exit::Success)
    })
}
