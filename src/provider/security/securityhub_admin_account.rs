//! `securityhub_organization_admin_account`: the member account (the audit account) that administers
//! Security Hub for the organization, set from the management account.
//!
//! The id is the account id, recognised by it. `read` is one ListOrganizationAdminAccounts per
//! refresh; moto 5.2.5 lacks it and DisableOrganizationAdminAccount, which the emulator extension
//! `securityhub_organization_admin` adds. Everything forces a replacement.

use super::{admin_live, admin_one};
use crate::aws::{AwsError, call};
use crate::provider::attrs::{ignore_not_found, required};
use crate::provider::{Attrs, Cx, Live, paginate};
use aws_sdk_securityhub::types::AdminStatus;

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let hub = cx.securityhub().await?;
    let admins = paginate(|token| {
        let hub = &hub;
        async move {
            let out = call("ListOrganizationAdminAccounts", || {
                hub.list_organization_admin_accounts()
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
            let enabled = out
                .admin_accounts()
                .iter()
                .filter(|a| a.status() == Some(&AdminStatus::Enabled))
                .filter_map(|a| a.account_id().map(str::to_string));
            Ok((enabled.collect(), out.next_token().map(str::to_string)))
        }
    })
    .await?;
    Ok(admin_live(admins, ids))
}

pub async fn create(cx: &Cx<'_>, _address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let hub = cx.securityhub().await?;
    let account = required(
        desired,
        "admin_account_id",
        "EnableOrganizationAdminAccount",
    )?;
    call("EnableOrganizationAdminAccount", || {
        hub.enable_organization_admin_account()
            .admin_account_id(account)
            .send()
    })
    .await?;
    Ok(admin_one(account.to_string()))
}

pub(crate) use super::admin_update as update;

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let hub = cx.securityhub().await?;
    let result = call("DisableOrganizationAdminAccount", || {
        hub.disable_organization_admin_account()
            .admin_account_id(id)
            .send()
    })
    .await;
    ignore_not_found(result).map(drop)
}
