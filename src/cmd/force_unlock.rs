//! `landfall force-unlock`: releases the locks a dead run left.

use super::*;

/// `landfall force-unlock`: releases the lock `id` of one stack, or of every stack of the environment
/// whose lock carries `id` (what a dead run left). A lock with another id is never released.
pub fn force_unlock(ctx: &Ctx, env: &str, stack: Option<&str>, id: &str) -> ExitCode {
    runtime().block_on(async {
        let (ws, _aws, backend) = match open(ctx, env).await {
            Ok(x) => x,
            Err(e) => return error(ctx, e),
        };
        let stacks = match stack {
            Some(stack) => vec![stack.to_string()],
            None => match backend.held_by(&ws.env, &ws.stacks(), id).await {
                Ok(held) if held.is_empty() => {
                    return fail(
                        ctx.color,
                        Diagnostic::error(format!(
                            "no stack of environment `{}` has a lock with id {id}",
                            ws.env
                        ))
                        .help(format!(
                            "the lock may have been released already; `landfall apply --env {}` says who holds a lock",
                            ws.env
                        )),
                    );
                }
                Ok(held) => held,
                Err(e) => return error(ctx, e.into()),
            },
        };
        for stack in &stacks {
            match backend.unlock(&ws.env, stack, id).await {
                Ok(()) => println!(
                    "Released the lock {id} of {}.",
                    backend.describe(&ws.env, stack)
                ),
                Err(e) => return error(ctx, e.into()),
            }
        }
        ExitCode::SUCCESS
    })
}
