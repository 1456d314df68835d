//! `landfall state`: list, show, rm, mv; and the locked state edits import uses too.

use super::*;

pub enum StateCommand {
    List,
    Show(String),
    Rm(Vec<String>),
    Mv(String, String),
}

pub fn state(ctx: &Ctx, env: &str, command: StateCommand) -> ExitCode {
    runtime().block_on(async {
        let (ws, aws, backend) = match open(ctx, env).await {
            Ok(x) => x,
            Err(e) => return error(ctx, e),
        };
        let result: Result<(), Error> = async {
            match command {
                StateCommand::List => {
                    for stored in engine::read_states(&ws, &backend).await?.values() {
                        for r in &stored.state.resources {
                            println!("{}", r.address);
                        }
                    }
                    Ok(())
                }
                StateCommand::Show(address) => {
                    let states = engine::read_states(&ws, &backend).await?;
                    let found = states
                        .values()
                        .find_map(|s| s.state.resource(&address).cloned())
                        .ok_or_else(|| Error::Other(format!("{address} is not in state")))?;
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&found).unwrap_or_default()
                    );
                    Ok(())
                }
                StateCommand::Rm(addresses) => {
                    for address in addresses {
                        let stack = crate::address::stack_of(&address).to_string();
                        edit_state(&ws, &aws, &backend, &stack, "state rm", |s| {
                            s.remove(&address)
                                .map(|_| {
                                    format!("Removed {address} from state (AWS was not touched).")
                                })
                                .ok_or_else(|| format!("{address} is not in state"))
                        })
                        .await?;
                    }
                    Ok(())
                }
                StateCommand::Mv(from, to) => {
                    crate::state::check_shapes(&from, &to)
                        .map_err(|e| Error::Other(e.to_string()))?;
                    let stacks = ws.stacks();
                    edit_states(&ws, &aws, &backend, &stacks, "state mv", |states| {
                        let moved = crate::state::move_addresses(states, &from, &to)
                            .map_err(|e| e.to_string())?;
                        if moved.is_empty() {
                            return Ok(format!("Moved the create in progress at {from} to {to}."));
                        }
                        Ok(moved
                            .iter()
                            .map(|m| format!("Moved {} to {}.", m.from, m.to))
                            .collect::<Vec<_>>()
                            .join("\n"))
                    })
                    .await
                }
            }
        }
        .await;
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => error(ctx, e),
        }
    })
}

/// Changes several stacks' state under their locks (all taken first, all released at the end); only the
/// documents that changed are written.
pub(crate) async fn edit_states(
    ws: &Workspace,
    aws: &Aws,
    backend: &Backend,
    stacks: &[String],
    operation: &str,
    edit: impl FnOnce(&mut IndexMap<String, State>) -> Result<String, String>,
) -> Result<(), Error> {
    let who = aws
        .caller()
        .await
        .map(|c| c.arn.clone())
        .unwrap_or_else(|_| "unknown".into());
    let lock = LockInfo::new(&who, operation);
    let mut locked = Vec::new();
    let mut result: Result<(), Error> = Ok(());
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
        result = async {
            let mut states = IndexMap::new();
            let mut etags = HashMap::new();
            for stack in stacks {
                match backend.read(&ws.env, stack).await? {
                    Some(s) => {
                        etags.insert(stack.clone(), s.etag);
                        states.insert(stack.clone(), s.state);
                    }
                    None => {
                        states.insert(stack.clone(), State::new(&ws.env, stack));
                    }
                }
            }
            let before = states.clone();
            let message = edit(&mut states).map_err(Error::Other)?;
            for (stack, mut state) in states {
                if before.get(&stack) != Some(&state) {
                    state.serial += 1;
                    backend
                        .write(&state, etags.get(&stack).map(String::as_str))
                        .await?;
                }
            }
            println!("{message}");
            Ok(())
        }
        .await;
    }
    for stack in &locked {
        if let Err(e) = backend.unlock(&ws.env, stack, &lock.id).await {
            eprintln!("warning: could not release the lock of {stack}: {e}");
        }
    }
    result
}

/// Changes one stack's state under its lock.
pub(crate) async fn edit_state(
    ws: &Workspace,
    aws: &Aws,
    backend: &Backend,
    stack: &str,
    operation: &str,
    edit: impl FnOnce(&mut crate::state::State) -> Result<String, String>,
) -> Result<(), Error> {
    if !ws.stacks().iter().any(|s| s == stack) {
        return Err(Error::Other(format!(
            "environment `{}` has no stack `{stack}` (addresses start with their stack)",
            ws.env
        )));
    }
    let who = aws
        .caller()
        .await
        .map(|c| c.arn.clone())
        .unwrap_or_else(|_| "unknown".into());
    let lock = LockInfo::new(&who, operation);
    backend.lock(&ws.env, stack, &lock, &ws.stacks()).await?;
    let result: Result<(), Error> = async {
        let stored = backend.read(&ws.env, stack).await?;
        let (mut state, etag) = match stored {
            Some(s) => (s.state, Some(s.etag)),
            None => (crate::state::State::new(&ws.env, stack), None),
        };
        let message = edit(&mut state).map_err(Error::Other)?;
        state.serial += 1;
        backend.write(&state, etag.as_deref()).await?;
        println!("{message}");
        Ok(())
    }
    .await;
    let unlocked = backend.unlock(&ws.env, stack, &lock.id).await;
    result?;
    unlocked.map_err(Error::from)
}
