//! `landfall state`: list, show, rm, mv; and the locked state edit that `import` uses too.

use super::{Ctx, Error, Exit, Result, open, runtime};
use crate::aws::Aws;
use crate::engine::{self, Workspace};
use crate::state::{Backend, LockInfo, State};
use indexmap::IndexMap;
use std::collections::HashMap;

/// What `landfall state` does.
#[derive(Debug, Clone)]
pub enum StateCommand {
    /// Every resource address in state.
    List,
    /// One resource as state records it.
    Show(String),
    /// Forget resources (AWS is not touched).
    Rm(Vec<String>),
    /// Give a resource, module instance or prefix another address (from, to).
    Mv(String, String),
}

/// `landfall state --env ENV ...`.
pub fn state(ctx: &Ctx, env: &str, command: StateCommand) -> Result {
    runtime().block_on(async {
        let (ws, aws, backend) = open(ctx, env).await?;
        match command {
            StateCommand::List => {
                for stored in engine::read_states(&ws, &backend).await?.values() {
                    for r in &stored.state.resources {
                        println!("{}", r.address);
                    }
                }
            }
            StateCommand::Show(address) => {
                let states = engine::read_states(&ws, &backend).await?;
                let found = states
                    .values()
                    .find_map(|s| s.state.resource(&address).cloned())
                    .ok_or(Error::NotInState { address })?;
                let text = serde_json::to_string_pretty(&found).unwrap_or_default();
                println!("{text}");
            }
            StateCommand::Rm(addresses) => {
                for address in addresses {
                    let stack = crate::address::stack_of(&address).to_string();
                    edit_state(&ws, &aws, &backend, &stack, "state rm", |s| {
                        s.remove(&address).ok_or_else(|| Error::NotInState {
                            address: address.clone(),
                        })?;
                        Ok(format!(
                            "Removed {address} from state (AWS was not touched)."
                        ))
                    })
                    .await?;
                }
            }
            StateCommand::Mv(from, to) => {
                crate::state::check_shapes(&from, &to)?;
                let stacks = ws.stacks();
                edit_states(&ws, &aws, &backend, &stacks, "state mv", |states| {
                    let moved = crate::state::move_addresses(states, &from, &to)?;
                    if moved.is_empty() {
                        return Ok(format!("Moved the create in progress at {from} to {to}."));
                    }
                    let lines: Vec<String> = moved
                        .iter()
                        .map(|m| format!("Moved {} to {}.", m.from, m.to))
                        .collect();
                    Ok(lines.join("\n"))
                })
                .await?;
            }
        }
        Ok(Exit::Success)
    })
}

/// Changes one stack's state under its lock; `edit` returns what to tell the user.
pub(crate) async fn edit_state(
    ws: &Workspace,
    aws: &Aws,
    backend: &Backend,
    stack: &str,
    operation: &str,
    edit: impl FnOnce(&mut State) -> Result<String>,
) -> Result<()> {
    if !ws.stacks().iter().any(|s| s == stack) {
        return Err(Error::NoStack {
            env: ws.env.clone(),
            stack: stack.to_string(),
        });
    }
    let stacks = [stack.to_string()];
    edit_states(ws, aws, backend, &stacks, operation, |states| {
        edit(&mut states[stack])
    })
    .await
}

/// Changes several stacks' state under their locks (all taken first, all released at the end); only the
/// documents that changed are written. A stack with no state yet starts from an empty document.
pub(crate) async fn edit_states(
    ws: &Workspace,
    aws: &Aws,
    backend: &Backend,
    stacks: &[String],
    operation: &str,
    edit: impl FnOnce(&mut IndexMap<String, State>) -> Result<String>,
) -> Result<()> {
    let who = aws
        .caller()
        .await
        .map(|c| c.arn.clone())
        .unwrap_or_else(|_| "unknown".into());
    let lock = LockInfo::new(&who, operation);
    let mut locked = Vec::new();
    let mut result = Ok(());
    for stack in stacks {
        match backend.lock(&ws.env, stack, &lock, &ws.stacks()).await {
            Ok(()) => locked.push(stack.clone()),
            Err(e) => {
                result = Err(e.into());
                break;
            }
        }
    }
    if result.is_ok() {
        result = read_edit_write(ws, backend, stacks, edit).await;
    }
    for stack in &locked {
        if let Err(e) = backend.unlock(&ws.env, stack, &lock.id).await {
            eprintln!("warning: could not release the lock of {stack}: {e}");
        }
    }
    result
}

/// The part of [`edit_states`] that runs under the locks.
async fn read_edit_write(
    ws: &Workspace,
    backend: &Backend,
    stacks: &[String],
    edit: impl FnOnce(&mut IndexMap<String, State>) -> Result<String>,
) -> Result<()> {
    let mut states = IndexMap::new();
    let mut read = HashMap::new();
    for stack in stacks {
        let state = match backend.read(&ws.env, stack).await? {
            Some(s) => {
                read.insert(stack.clone(), (s.etag, s.journal));
                s.state
            }
            None => State::new(&ws.env, stack),
        };
        states.insert(stack.clone(), state);
    }
    let before = states.clone();
    let message = edit(&mut states)?;
    for (stack, mut state) in states {
        if before.get(&stack) != Some(&state) {
            state.serial += 1;
            let (etag, journal) = match read.get(&stack) {
                Some((etag, journal)) => (Some(etag.as_str()), journal.as_deref()),
                None => (None, None),
            };
            backend.write(&state, etag).await?;
            // A dead apply's journal, replayed into the document just written: garbage now.
            if let Some(id) = journal {
                backend.discard_journal(&ws.env, &stack, id).await;
            }
        }
    }
    println!("{message}");
    Ok(())
}
