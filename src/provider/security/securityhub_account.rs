//! `securityhub_account`: Security Hub enabled in one account and region.
//!
//! The id is the hub's ARN. `read` is one DescribeHub per account and region; a hub not enabled
//! answers InvalidAccessException, read as absent. There is one hub per account and region, so one
//! missing from state is recognised as the one there is, and enabling it again is harmless (AWS
//! answers ResourceConflictException, taken as done). `enable_default_standards` only matters when
//! the hub is enabled (AWS does not report it): it is compared against state and forces a replacement.

use crate::aws::{AwsError, call};
use crate::provider::{Attrs, Cx, Live};
use aws_sdk_securityhub::Client;
use serde_json::Value;

pub async fn read(cx: &Cx<'_>, _ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let hub = cx.securityhub().await?;
    Ok(describe(&hub).await?.into_iter().collect())
}

/// The account's hub, if enabled.
async fn describe(hub: &Client) -> Result<Option<Live>, AwsError> {
    let out = match call("DescribeHub", || hub.describe_hub().send()).await {
        Err(e) if e.is("InvalidAccessException") || e.is_not_found() => return Ok(None),
        other => other?,
    };
    let arn = out.hub_arn().unwrap_or_default();
    let mut attrs = Attrs::new();
    attrs.insert("id".into(), arn.into());
    attrs.insert("arn".into(), arn.into());
    Ok(Some(Live {
        id: arn.to_string(),
        attrs,
        address: None,
        lineage: None,
    }))
}

pub async fn create(cx: &Cx<'_>, _address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let hub = cx.securityhub().await?;
    let standards = desired
        .get("enable_default_standards")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let result = call("EnableSecurityHub", || {
        hub.enable_security_hub()
            .enable_default_standards(standards)
            .send()
    })
    .await;
    match result {
        // Already enabled (a retried create, or enabled before landfall managed it): the same hub.
        Err(e) if e.is("ResourceConflictException") => {}
        other => drop(other?),
    }
    let mut live = describe(&hub).await?.ok_or_else(|| {
        AwsError::other(
            "DescribeHub",
            "the hub is not enabled after EnableSecurityHub",
        )
    })?;
    live.attrs.extend(desired.clone());
    Ok(live)
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    // Every setting forces a replacement: nothing to change in place.
    let _ = cx;
    let mut attrs = current.clone();
    attrs.extend(desired.clone());
    Ok(Live {
        id: id.to_string(),
        attrs,
        address: None,
        lineage: None,
    })
}

pub async fn delete(cx: &Cx<'_>, _id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let hub = cx.securityhub().await?;
    match call("DisableSecurityHub", || hub.disable_security_hub().send()).await {
        Err(e) if e.is("InvalidAccessException") || e.is_not_found() => Ok(()),
        other => other.map(drop),
    }
}
