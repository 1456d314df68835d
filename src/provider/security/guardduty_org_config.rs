//! `guardduty_organization_configuration`: which member accounts GuardDuty enables by itself, set
//! in the delegated administrator's account and region through its detector.
//!
//! The id is the administrator's detector id; there is one configuration per detector, recognised by
//! it. `read` is one DescribeOrganizationConfiguration per configuration (one per administrator
//! account and region). Create and update are UpdateOrganizationConfiguration with the whole
//! configuration (doing it again after a lost answer is harmless); a feature left out of `features`
//! is set to `NONE`. There is nothing to delete: destroy sets auto-enable to `NONE` for members and
//! every feature, which is GuardDuty's state before anyone configured it. Only the administrator
//! account's detector may make these calls; GuardDuty answers any other with BadRequestException.

use crate::aws::{AwsError, call};
use crate::provider::attrs::required;
use crate::provider::{Attrs, Cx, Live};
use aws_sdk_guardduty::Client;
use aws_sdk_guardduty::types::{
    AutoEnableMembers, OrgFeature, OrgFeatureStatus, OrganizationFeatureConfiguration,
};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

const OP: &str = "UpdateOrganizationConfiguration";

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let gd = cx.guardduty().await?;
    let mut found = Vec::new();
    for id in ids {
        let out = call("DescribeOrganizationConfiguration", || {
            gd.describe_organization_configuration()
                .detector_id(id)
                .send()
        })
        .await;
        let out = match out {
            Ok(out) => out,
            // The detector is gone, or its account is no longer the administrator: no configuration.
            Err(e) if e.is("BadRequestException") || e.is_not_found() => continue,
            Err(e) => return Err(e),
        };
        let members = out
            .auto_enable_organization_members()
            .map_or("NONE", |m| m.as_str())
            .to_string();
        let features: Map<String, Value> = out
            .features()
            .iter()
            .filter_map(|f| Some((f.name()?.as_str(), f.auto_enable()?.as_str())))
            .filter(|(_, auto)| *auto != "NONE")
            .map(|(name, auto)| (name.to_string(), auto.into()))
            .collect();
        found.push(live(id, members, features));
    }
    Ok(found)
}

fn live(id: &str, members: String, features: Map<String, Value>) -> Live {
    let mut attrs = Attrs::new();
    attrs.insert("detector_id".into(), id.into());
    attrs.insert("auto_enable_organization_members".into(), members.into());
    attrs.insert("features".into(), Value::Object(features));
    attrs.insert("id".into(), id.into());
    Live {
        id: id.to_string(),
        attrs,
        address: None,
        lineage: None,
    }
}

/// The `features` attribute: feature name -> auto-enable (NEW or ALL).
fn features(attrs: &Attrs) -> BTreeMap<String, String> {
    attrs
        .get("features")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect()
}

/// Sets the configuration to `desired`'s: features `current` has and `desired` lacks go to NONE.
async fn put(gd: &Client, id: &str, current: &Attrs, desired: &Attrs) -> Result<Live, AwsError> {
    let members = required(desired, "auto_enable_organization_members", OP)?.to_string();
    let mut wanted = features(desired);
    for name in features(current).into_keys() {
        wanted.entry(name).or_insert_with(|| "NONE".into());
    }
    let configs: Vec<OrganizationFeatureConfiguration> = wanted
        .iter()
        .map(|(name, auto)| {
            OrganizationFeatureConfiguration::builder()
                .name(OrgFeature::from(name.as_str()))
                .auto_enable(OrgFeatureStatus::from(auto.as_str()))
                .build()
        })
        .collect();
    call(OP, || {
        gd.update_organization_configuration()
            .detector_id(id)
            .auto_enable_organization_members(AutoEnableMembers::from(members.as_str()))
            .set_features((!configs.is_empty()).then(|| configs.clone()))
            .send()
    })
    .await?;
    let on = features(desired)
        .into_iter()
        .map(|(k, v)| (k, v.into()))
        .collect();
    Ok(live(id, members, on))
}

pub async fn create(cx: &Cx<'_>, _address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let gd = cx.guardduty().await?;
    let id = required(desired, "detector_id", OP)?;
    put(&gd, id, &Attrs::new(), desired).await
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    let gd = cx.guardduty().await?;
    put(&gd, id, current, desired).await
}

pub async fn delete(cx: &Cx<'_>, id: &str, current: &Attrs) -> Result<(), AwsError> {
    let gd = cx.guardduty().await?;
    let mut none = Attrs::new();
    none.insert("auto_enable_organization_members".into(), "NONE".into());
    match put(&gd, id, current, &none).await {
        // The detector is gone or no longer the administrator's: nothing is auto-enabled through it.
        Err(e) if e.is("BadRequestException") => Ok(()),
        other => other.map(drop),
    }
}
