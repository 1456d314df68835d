//! `guardduty_organization_admin_account`: the member account (the audit account) that administers
//! GuardDuty for the organization, set from the management account.
//!
//! The id is the account id; the organization has one such account, recognised by its id.
//! `read` is one ListOrganizationAdminAccounts per refresh. Create is EnableOrganizationAdminAccount
//! (refused by GuardDuty for an account that is already the administrator: taken as done, so a retry
//! after a lost answer succeeds);
//! destroy is DisableOrganizationAdminAccount (against moto through the emulator extension
//! `guardduty_organization`).
//! Everything forces a replacement.

use super::{admin_live, admin_one};
use crate::aws::{AwsError, call};
use crate::provider::attrs::{ignore_not_found, required};
use crate::provider::{Attrs, Cx, Live, paginate};
use aws_sdk_guardduty::Client;
use aws_sdk_guardduty::types::AdminStatus;

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let gd = cx.guardduty().await?;
    Ok(admin_live(enabled(&gd).await?, ids))
}

/// The organization's administrator accounts that are not being disabled (all pages).
async fn enabled(gd: &Client) -> Result<Vec<String>, AwsError> {
    paginate(|token| async move {
        let out = call("ListOrganizationAdminAccounts", || {
            gd.list_organization_admin_accounts()
                .set_next_token(token.clone())
                .send()
        })
        .await?;
        let enabled = out
            .admin_accounts()
            .iter()
            .filter(|a| a.admin_status() != Some(&AdminStatus::DisableInProgress))
            .filter_map(|a| a.admin_account_id().map(str::to_string));
        Ok((enabled.collect(), out.next_token().map(str::to_string)))
    })
    .await
}

pub async fn create(cx: &Cx<'_>, _address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let gd = cx.guardduty().await?;
    let account = required(
        desired,
        "admin_account_id",
        "EnableOrganizationAdminAccount",
    )?;
    let result = call("EnableOrganizationAdminAccount", || {
        gd.enable_organization_admin_account()
            .admin_account_id(account)
            .send()
    })
    .await;
    match result {
        // GuardDuty refuses to enable the administrator again: a retry whose first answer was lost
        // (or one enabled outside landfall) finds it done. Another account stays an error.
        Err(e)
            if e.is("BadRequestException") && enabled(&gd).await?.iter().any(|a| a == account) => {}
        other => drop(other?),
    }
    Ok(admin_one(account.to_string()))
}

pub(crate) use super::admin_update as update;

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let gd = cx.guardduty().await?;
    let result = call("DisableOrganizationAdminAccount", || {
        gd.disable_organization_admin_account()
            .admin_account_id(id)
            .send()
    })
    .await;
    ignore_not_found(result).map(drop)
}
