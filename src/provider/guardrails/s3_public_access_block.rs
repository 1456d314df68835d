//! `s3_account_public_access_block`: the S3 public access block of a whole account (S3 Control), which
//! every bucket of the account is held to whatever its own settings say.
//!
//! The id is the constant [`ID`]: one block per account, which the location names. `read` is one
//! `GetPublicAccessBlock`; an account without one reads as absent. Create and update put all four
//! settings at once; delete removes the block (AWS's default: no account-level block).

use super::setting;
use crate::aws::{AwsError, call};
use crate::provider::attrs::ignore_not_found;
use crate::provider::{Attrs, Cx, Live};
use aws_sdk_s3control::types::PublicAccessBlockConfiguration;
use serde_json::Value;

/// The id of an account's one block.
pub const ID: &str = "s3-account-public-access-block";

/// The four settings, all `true` by default in the schema.
const SETTINGS: [&str; 4] = [
    "block_public_acls",
    "ignore_public_acls",
    "block_public_policy",
    "restrict_public_buckets",
];

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    if !ids.iter().any(|id| id == ID) {
        return Ok(Vec::new());
    }
    let (s3, account) = (cx.s3control().await?, account_id(cx).await?);
    let out = ignore_not_found(
        call("GetPublicAccessBlock", || {
            s3.get_public_access_block().account_id(&account).send()
        })
        .await,
    )?;
    let Some(block) = out
        .as_ref()
        .and_then(|o| o.public_access_block_configuration())
    else {
        return Ok(Vec::new());
    };
    let values = [
        block.block_public_acls(),
        block.ignore_public_acls(),
        block.block_public_policy(),
        block.restrict_public_buckets(),
    ];
    let attrs = SETTINGS
        .iter()
        .zip(values)
        .map(|(name, v)| (name.to_string(), v.unwrap_or(false).into()))
        .collect();
    Ok(vec![setting(ID, attrs)])
}

/// The id of the location's account: S3 Control names it in every request.
async fn account_id(cx: &Cx<'_>) -> Result<String, AwsError> {
    match &cx.loc.account {
        Some(account) => Ok(account.clone()),
        None => Ok(cx.aws.caller().await?.account.clone()),
    }
}

pub async fn create(cx: &Cx<'_>, _address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    put(cx, desired).await
}

pub async fn update(
    cx: &Cx<'_>,
    _id: &str,
    _current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    put(cx, desired).await
}

pub async fn delete(cx: &Cx<'_>, _id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let (s3, account) = (cx.s3control().await?, account_id(cx).await?);
    ignore_not_found(
        call("DeletePublicAccessBlock", || {
            s3.delete_public_access_block().account_id(&account).send()
        })
        .await,
    )
    .map(drop)
}

async fn put(cx: &Cx<'_>, desired: &Attrs) -> Result<Live, AwsError> {
    let (s3, account) = (cx.s3control().await?, account_id(cx).await?);
    let value = |name: &str| desired.get(name).and_then(Value::as_bool).unwrap_or(true);
    let block = PublicAccessBlockConfiguration::builder()
        .block_public_acls(value(SETTINGS[0]))
        .ignore_public_acls(value(SETTINGS[1]))
        .block_public_policy(value(SETTINGS[2]))
        .restrict_public_buckets(value(SETTINGS[3]))
        .build();
    call("PutPublicAccessBlock", || {
        s3.put_public_access_block()
            .account_id(&account)
            .public_access_block_configuration(block.clone())
            .send()
    })
    .await?;
    let attrs = SETTINGS
        .iter()
        .map(|name| (name.to_string(), value(name).into()))
        .collect();
    Ok(setting(ID, attrs))
}
