//! `landfall import`: records an existing AWS resource in state under a configured address.

use super::state::edit_state;
use super::{Ctx, Error, Exit, Result, open, runtime};
use crate::engine::{self, Workspace};
use crate::plan;
use crate::provider::{self, Cx, Live, Location};
use crate::resolve::{Instance, Resolved};
use crate::schema::Scope;
use crate::state::ResourceState;

/// `landfall import --env ENV ADDRESS ID`: reads the resource from AWS where the configuration puts it,
/// and records it in its stack's state, as apply would have.
pub fn import(ctx: &Ctx, env: &str, address: &str, id: &str) -> Result {
    runtime().block_on(async {
        let (ws, aws, backend) = open(ctx, env).await?;
        let stored = engine::read_states(&ws, &backend).await?;
        let known = engine::known_values(&ws, &backend, &stored).await?;
        let (_, resolved) = ws.resolve(&known)?;
        let inst = resolved
            .instances
            .iter()
            .find(|i| i.address == address)
            .ok_or_else(|| Error::NotConfigured {
                address: address.to_string(),
                env: env.to_string(),
            })?;
        if inst.account.has_unknown() {
            return Err(Error::AccountUnknown {
                address: address.to_string(),
            });
        }
        let loc = location(&ws, inst);
        let cx = Cx::standalone(&aws, &loc, "");
        let found = provider::read(inst.kind.name, &cx, &[id.to_string()]).await?;
        let live = found
            .into_iter()
            .find(|l| l.id == id)
            .ok_or_else(|| Error::NotInAws {
                kind: inst.kind.name.to_string(),
                id: id.to_string(),
                place: describe(&loc),
            })?;
        let resource = recorded(&resolved, inst, &live, ws.home_region());
        edit_state(&ws, &aws, &backend, &inst.stack, "import", |s| {
            if s.resource(address).is_some() {
                return Err(Error::AlreadyInState {
                    address: address.to_string(),
                });
            }
            s.put(resource);
            Ok(format!(
                "Imported {address} ({id}). Run `landfall plan --env {env}` to see how it differs from the configuration."
            ))
        })
        .await?;
        Ok(Exit::Success)
    })
}

/// Where the configuration puts `inst`: its account, and its region (the home region for global kinds).
fn location(ws: &Workspace, inst: &Instance) -> Location {
    Location {
        account: plan::account_of(inst),
        region: region_of(inst, ws.home_region()).unwrap_or_else(|| ws.home_region().into()),
    }
}

/// A regional resource's region (the home region when not configured); `None` for global kinds.
fn region_of(inst: &Instance, home_region: &str) -> Option<String> {
    (inst.kind.scope == Scope::Regional)
        .then(|| inst.region.clone().unwrap_or_else(|| home_region.into()))
}

/// The state entry apply would have written for `inst`, with what AWS has (`live`): the configured
/// attributes overlaid with the live ones. A configured value not known yet that AWS did not report is
/// left out (the next refresh reads it).
pub(crate) fn recorded(
    resolved: &Resolved,
    inst: &Instance,
    live: &Live,
    home_region: &str,
) -> ResourceState {
    let mut attributes: provider::Attrs = inst
        .attrs
        .iter()
        .filter(|(_, v)| !v.has_unknown())
        .map(|(k, v)| (k.to_string(), v.to_json()))
        .collect();
    for (k, v) in &live.attrs {
        attributes.insert(k.clone(), v.clone());
    }
    ResourceState {
        address: inst.address.clone(),
        kind: inst.kind.name.to_string(),
        id: live.id.clone(),
        account: plan::account_of(inst),
        region: region_of(inst, home_region),
        attributes,
        dependencies: inst
            .deps
            .iter()
            .map(|d| resolved.instances[d.0 as usize].address.clone())
            .collect(),
    }
}

/// A location as users read it.
fn describe(loc: &Location) -> String {
    match &loc.account {
        Some(a) => format!("account {a}, {}", loc.region),
        None => format!("the management account, {}", loc.region),
    }
}
