//! `landfall import`: records an existing AWS resource in state.

use super::*;
use crate::plan;

pub fn import(ctx: &Ctx, env: &str, address: &str, id: &str) -> ExitCode {
    runtime().block_on(async {
        let (ws, aws, backend) = match open(ctx, env).await {
            Ok(x) => x,
            Err(e) => return error(ctx, e),
        };
        let result: Result<(), Error> = async {
            let stored = engine::read_states(&ws, &backend).await?;
            let known = engine::known_values(&ws, &backend, &stored).await?;
            let (_, resolved) = ws.resolve(&known)?;
            let inst = resolved
                .instances
                .iter()
                .find(|i| i.address == address)
                .ok_or_else(|| {
                    Error::Other(format!(
                        "{address} is not in the configuration of `{env}`; declare it first, then import"
                    ))
                })?;
            if inst.account.has_unknown() {
                return Err(Error::Other(format!(
                    "the account of {address} is not known yet; import or create its account first"
                )));
            }
            let loc = Location {
                account: plan::account_of(inst),
                region: match inst.kind.scope {
                    Scope::Regional => inst.region.clone().unwrap_or_else(|| ws.home_region().into()),
                    Scope::Global => ws.home_region().into(),
                },
            };
            let cx = Cx::standalone(&aws, &loc, "");
            let found = provider::read(inst.kind.name, &cx, &[id.to_string()]).await?;
            let live = found.into_iter().find(|l| l.id == id).ok_or_else(|| {
                Error::Other(format!("no {} with id `{id}` found in {}", inst.kind.name, describe(&loc)))
            })?;
            let mut attributes = plan::desired_json(inst);
            attributes.retain(|_, v| v.as_str() != Some("(known after apply)"));
            for (k, v) in live.attrs {
                attributes.insert(k, v);
            }
            let resource = ResourceState {
                address: address.to_string(),
                kind: inst.kind.name.to_string(),
                id: live.id,
                account: loc.account.clone(),
                region: (schema::kind(inst.kind.name).map(|k| k.scope) == Some(Scope::Regional))
                    .then(|| loc.region.clone()),
                attributes,
                dependencies: inst.deps.iter().map(|d| resolved.instances[d.0 as usize].address.clone()).collect(),
            };
            edit_state(&ws, &aws, &backend, &inst.stack, "import", |s| {
                if s.resource(address).is_some() {
                    return Err(format!("{address} is already in state; `landfall state rm` it first to import another"));
                }
                s.put(resource);
                Ok(format!("Imported {address} ({id}). Run `landfall plan --env {env}` to see how it differs from the configuration."))
            })
            .await
        }
        .await;
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => error(ctx, e),
        }
    })
}

pub(crate) fn describe(loc: &Location) -> String {
    match &loc.account {
        Some(a) => format!("account {a}, {}", loc.region),
        None => format!("the management account, {}", loc.region),
    }
}
