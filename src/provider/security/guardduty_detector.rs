//! `guardduty_detector`: GuardDuty in one account and region (there is at most one detector there).
//!
//! The id is the detector id. `read` is GetDetector (status, finding frequency, tags) of the detector
//! state knows: one call per account and region where one is managed. There is at most one detector
//! there, so no other can be a copy or the one to adopt: ListDetectors is sent only where state knows
//! none, or the one it knows is gone (GuardDuty answers 400 "not owned by the current account", read
//! as gone, as Terraform does), to find the one there is. As there is only one, a detector missing
//! from state is recognised as the one there is (untagged, or tagged with its address), and a create that AWS refuses because one exists
//! takes it over. CreateDetector
//! carries a client token derived from the address, so a retried create makes no second detector.
//! Everything changes in place (UpdateDetector, TagResource/UntagResource).

use crate::aws::{AwsError, call};
use crate::provider::attrs::{LandfallTags, ignore_not_found, str_or_empty, tag_map};
use crate::provider::iam::{applied_attrs, tag_changes};
use crate::provider::{Attrs, Cx, Live, paginate};
use aws_sdk_guardduty::Client;
use aws_sdk_guardduty::types::{DetectorStatus, FindingPublishingFrequency};
use serde_json::Value;

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let gd = cx.guardduty().await?;
    if !ids.is_empty() {
        let found = get_detectors(&gd, ids).await?;
        if !found.is_empty() {
            return Ok(found);
        }
    }
    get_detectors(&gd, &detector_ids(&gd).await?).await
}

/// The detectors of `ids` that exist, each read with GetDetector.
async fn get_detectors(gd: &Client, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let mut found = Vec::new();
    for id in ids {
        let answer = call("GetDetector", || gd.get_detector().detector_id(id).send()).await;
        let out = match answer {
            Ok(out) => out,
            Err(e) if e.is_not_found() || unknown_detector(&e) => continue,
            Err(e) => return Err(e),
        };
        let tags = out.tags().cloned().unwrap_or_default();
        let (tags, address, lineage) = Live::split_tags(tags);
        let mut attrs = Attrs::new();
        attrs.insert(
            "enable".into(),
            (out.status() == Some(&DetectorStatus::Enabled)).into(),
        );
        attrs.insert(
            "finding_publishing_frequency".into(),
            out.finding_publishing_frequency()
                .map(|f| f.as_str())
                .unwrap_or_default()
                .into(),
        );
        attrs.insert("tags".into(), tags);
        attrs.insert("id".into(), id.clone().into());
        found.push(Live {
            id: id.clone(),
            attrs,
            address,
            lineage,
        });
    }
    Ok(found)
}

/// GuardDuty answers a detector id it does not know (deleted) with a 400 saying it is "not owned by
/// the current account": that is the detector gone.
fn unknown_detector(e: &AwsError) -> bool {
    e.status == Some(400) && e.message.contains("not owned by the current account")
}

async fn detector_ids(gd: &Client) -> Result<Vec<String>, AwsError> {
    paginate(|token| async move {
        let out = call("ListDetectors", || {
            gd.list_detectors().set_next_token(token.clone()).send()
        })
        .await?;
        Ok((
            out.detector_ids().to_vec(),
            out.next_token().map(str::to_string),
        ))
    })
    .await
}

fn frequency(desired: &Attrs) -> Option<FindingPublishingFrequency> {
    let f = str_or_empty(desired, "finding_publishing_frequency");
    (!f.is_empty()).then(|| FindingPublishingFrequency::from(f))
}

fn enabled(desired: &Attrs) -> bool {
    desired
        .get("enable")
        .and_then(Value::as_bool)
        .unwrap_or(true)
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let gd = cx.guardduty().await?;
    let tags: std::collections::HashMap<String, String> =
        cx.creation_tags(address, desired).into_iter().collect();
    let created = call("CreateDetector", || {
        gd.create_detector()
            .enable(enabled(desired))
            .set_finding_publishing_frequency(frequency(desired))
            .client_token(cx.client_token(address))
            .set_tags(Some(tags.clone()))
            .send()
    })
    .await;
    let id = match created {
        Ok(out) => out.detector_id().unwrap_or_default().to_string(),
        // One detector per account and region, made before state knew of it: bring it to the
        // configuration (tags included, so it is recognised as this address's from now on).
        Err(e) if e.is("BadRequestException") => {
            let Some(id) = detector_ids(&gd).await?.into_iter().next() else {
                return Err(e);
            };
            update_detector(&gd, &id, desired).await?;
            tag(cx, &gd, &id, cx.creation_tags(address, desired)).await?;
            id
        }
        Err(e) => return Err(e),
    };
    Ok(Live {
        id: id.clone(),
        attrs: applied_attrs(desired, &id, ""),
        address: Some(address.to_string()),
        lineage: Some(cx.lineage.to_string()),
    })
}

async fn update_detector(gd: &Client, id: &str, desired: &Attrs) -> Result<(), AwsError> {
    call("UpdateDetector", || {
        gd.update_detector()
            .detector_id(id)
            .enable(enabled(desired))
            .set_finding_publishing_frequency(frequency(desired))
            .send()
    })
    .await?;
    Ok(())
}

async fn arn(cx: &Cx<'_>, id: &str) -> Result<String, AwsError> {
    let account = cx.account_id().await?;
    Ok(format!(
        "arn:aws:guardduty:{}:{account}:detector/{id}",
        cx.loc.region
    ))
}

async fn tag(
    cx: &Cx<'_>,
    gd: &Client,
    id: &str,
    tags: Vec<(String, String)>,
) -> Result<(), AwsError> {
    let arn = arn(cx, id).await?;
    let tags: std::collections::HashMap<String, String> = tags.into_iter().collect();
    call("TagResource", || {
        gd.tag_resource()
            .resource_arn(&arn)
            .set_tags(Some(tags.clone()))
            .send()
    })
    .await?;
    Ok(())
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    let gd = cx.guardduty().await?;
    let settings = ["enable", "finding_publishing_frequency"];
    if settings.iter().any(|a| current.get(*a) != desired.get(*a)) {
        update_detector(&gd, id, desired).await?;
    }
    if tag_map(current, LandfallTags::Drop) != tag_map(desired, LandfallTags::Drop) {
        let changes = tag_changes(current, desired);
        if !changes.put.is_empty() {
            tag(cx, &gd, id, changes.put).await?;
        }
        if !changes.remove.is_empty() {
            let arn = arn(cx, id).await?;
            call("UntagResource", || {
                gd.untag_resource()
                    .resource_arn(&arn)
                    .set_tag_keys(Some(changes.remove.clone()))
                    .send()
            })
            .await?;
        }
    }
    Ok(Live {
        id: id.to_string(),
        attrs: applied_attrs(desired, id, ""),
        address: None,
        lineage: None,
    })
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let gd = cx.guardduty().await?;
    let result = call("DeleteDetector", || {
        gd.delete_detector().detector_id(id).send()
    })
    .await;
    match result {
        // GuardDuty answers 400 for a detector id it does not know.
        Err(e) if e.is("BadRequestException") && e.message.contains("does not exist") => Ok(()),
        other => ignore_not_found(other).map(drop),
    }
}
