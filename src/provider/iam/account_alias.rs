//! `iam_account_alias`: the account's alias, the name in its sign-in URL (one per account).
//!
//! The id is the constant [`ID`], `account-alias`, not the alias itself: there is one alias per account
//! and its location already names the account, and a constant id turns a changed alias into an update
//! (the plan shows old and new alias) rather than a resource that vanished. `read` is one
//! `ListAccountAliases` call and reports the alias when its id is asked for and the account has one.
//! Aliases take no tags, so the alias is never adopted by tag; creating it again after a crash is
//! harmless (`CreateAccountAlias` with the account's own alias succeeds).
//!
//! An account has at most one alias and a new one replaces the old, so an update is a create of the new
//! alias.

use super::{ignore_not_found, object, str_or_empty};
use crate::aws::{AwsError, call};
use crate::provider::{Attrs, Cx, Live};
use serde_json::json;

/// The id of the account's one alias.
pub const ID: &str = "account-alias";

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    if !ids.iter().any(|id| id == ID) {
        return Ok(Vec::new());
    }
    let iam = cx.iam().await?;
    // At most one alias: no second page to follow.
    let out = call("ListAccountAliases", || iam.list_account_aliases().send()).await?;
    Ok(out
        .account_aliases()
        .first()
        .map(|alias| live(alias))
        .into_iter()
        .collect())
}

pub async fn create(cx: &Cx<'_>, _address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let iam = cx.iam().await?;
    let alias = str_or_empty(desired, "alias");
    call("CreateAccountAlias", || {
        iam.create_account_alias().account_alias(alias).send()
    })
    .await?;
    Ok(live(alias))
}

pub async fn update(
    cx: &Cx<'_>,
    _id: &str,
    _current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    create(cx, "", desired).await
}

pub async fn delete(cx: &Cx<'_>, _id: &str, current: &Attrs) -> Result<(), AwsError> {
    let iam = cx.iam().await?;
    let alias = str_or_empty(current, "alias");
    let deleted = call("DeleteAccountAlias", || {
        iam.delete_account_alias().account_alias(alias).send()
    })
    .await;
    ignore_not_found(deleted.map(drop)).map(drop)
}

fn live(alias: &str) -> Live {
    Live {
        id: ID.to_string(),
        attrs: object(json!({ "alias": alias, "id": ID })),
        address: None,
        lineage: None,
    }
}
