//! A member account registered as delegated administrator of a service. Id:
//! `ACCOUNT_ID/SERVICE_PRINCIPAL`, e.g. `123456789012/guardduty.amazonaws.com`.
//!
//! Registrations take no tags, so `read` finds only those in `ids`: one
//! `ListDelegatedServicesForAccount` per distinct account among `ids` (an account that is no
//! administrator at all answers `AccountNotRegisteredException`). Both attributes are replacements; `update` has nothing
//! to change. Registering what is already registered adopts it. AWS requires trusted access for the
//! service first (the organization's `aws_service_access_principals`).

use super::{NOT_IN_USE, required, split_id};
use crate::aws::{AwsError, call};
use crate::provider::{Attrs, Cx, Live};
use aws_sdk_organizations::Client;
use std::collections::{BTreeMap, BTreeSet};

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let client = cx.organizations();
    let mut by_account: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for id in ids {
        let (account_id, principal) = split_id(id, "ListDelegatedAdministrators")?;
        by_account.entry(account_id).or_default().push(principal);
    }
    let mut found = Vec::new();
    for (account_id, wanted) in by_account {
        let services = match services_of(&client, account_id).await {
            Ok(services) => services,
            // Not an administrator, not (or no longer) a member, or no organization at all (moto
            // answers the latter for an account it does not know).
            Err(e)
                if e.is("AccountNotRegisteredException")
                    || e.is("AccountNotFoundException")
                    || e.is(NOT_IN_USE) =>
            {
                continue;
            }
            Err(e) => return Err(e),
        };
        for principal in wanted {
            if services.contains(principal) {
                found.push(live(account_id, principal));
            }
        }
    }
    Ok(found)
}

pub async fn create(cx: &Cx<'_>, _address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    const OP: &str = "RegisterDelegatedAdministrator";
    let client = cx.organizations();
    let account_id = required(desired, "account_id", OP)?;
    let principal = required(desired, "service_principal", OP)?;
    let registered = call(OP, || {
        client
            .register_delegated_administrator()
            .account_id(account_id)
            .service_principal(principal)
            .send()
    })
    .await;
    match registered {
        Err(e) if !e.is("AccountAlreadyRegisteredException") => return Err(e),
        _ => {}
    }
    Ok(live(account_id, principal))
}

pub async fn update(
    _cx: &Cx<'_>,
    id: &str,
    _current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    const OP: &str = "RegisterDelegatedAdministrator";
    let (account_id, principal) = split_id(id, OP)?;
    if required(desired, "account_id", OP)? != account_id
        || required(desired, "service_principal", OP)? != principal
    {
        return Err(AwsError::other(
            OP,
            format!("delegated administrator {id}: a new account or service is a replacement"),
        ));
    }
    Ok(live(account_id, principal))
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    const OP: &str = "DeregisterDelegatedAdministrator";
    let client = cx.organizations();
    let (account_id, principal) = split_id(id, OP)?;
    match call(OP, || {
        client
            .deregister_delegated_administrator()
            .account_id(account_id)
            .service_principal(principal)
            .send()
    })
    .await
    {
        Err(e)
            if e.is("AccountNotRegisteredException")
                || e.is("AccountNotFoundException")
                || e.is(NOT_IN_USE) =>
        {
            Ok(())
        }
        other => other.map(|_| ()),
    }
}

/// The service principals an account administers, paginated.
async fn services_of(client: &Client, account_id: &str) -> Result<BTreeSet<String>, AwsError> {
    let mut services = BTreeSet::new();
    let mut token: Option<String> = None;
    loop {
        let out = call("ListDelegatedServicesForAccount", || {
            client
                .list_delegated_services_for_account()
                .account_id(account_id)
                .set_next_token(token.clone())
                .send()
        })
        .await?;
        services.extend(
            out.delegated_services()
                .iter()
                .filter_map(|s| s.service_principal())
                .map(str::to_string),
        );
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(services);
        }
    }
}

fn live(account_id: &str, principal: &str) -> Live {
    let id = format!("{account_id}/{principal}");
    let mut attrs = Attrs::new();
    attrs.insert("account_id".into(), account_id.into());
    attrs.insert("service_principal".into(), principal.into());
    attrs.insert("id".into(), id.clone().into());
    Live {
        id,
        attrs,
        address: None,
        lineage: None,
    }
}
