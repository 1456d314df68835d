//! `cloudtrail_trail`: a trail delivering to an S3 bucket, e.g. the organization trail created in the
//! management account and delivering to the log-archive account's bucket.
//!
//! The id is the trail's name, unique per account and region, so a trail missing from state is
//! recognised by its name. `read` is one DescribeTrails per account and region (trails whose home is
//! that region; shared by every trail read of a refresh), one ListTags for up to 20 trails, and one
//! GetTrailStatus per trail asked for (whether it is logging). The name forces a replacement; every
//! other setting changes in place (UpdateTrail, Start/StopLogging, AddTags/RemoveTags).

use crate::aws::{AwsError, call};
use crate::provider::attrs::{ignore_not_found, required, str_or_empty};
use crate::provider::iam::{applied_attrs, tag_changes};
use crate::provider::{Attrs, Cx, Live};
use aws_sdk_cloudtrail::Client;
use aws_sdk_cloudtrail::types::{Tag, Trail};
use futures_util::future::join_all;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

/// ListTags takes at most this many trails.
const TAGS_PER_CALL: usize = 20;

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ct = cx.cloudtrail().await?;
    let wanted: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
    let all = cx
        .cached("cloudtrail:DescribeTrails", || trails(&ct))
        .await?;
    let found: Vec<&Trail> = all
        .iter()
        .filter(|t| t.name().is_some_and(|n| wanted.contains(n)))
        .collect();
    let arns: Vec<String> = found
        .iter()
        .filter_map(|t| t.trail_arn().map(str::to_string))
        .collect();
    let mut tags = HashMap::new();
    for chunk in arns.chunks(TAGS_PER_CALL) {
        let out = call("ListTags", || {
            ct.list_tags()
                .set_resource_id_list(Some(chunk.to_vec()))
                .send()
        })
        .await?;
        for r in out.resource_tag_list() {
            let pairs = r.tags_list().iter().map(|t| {
                (
                    t.key().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            });
            tags.insert(
                r.resource_id().unwrap_or_default().to_string(),
                pairs.collect::<Vec<_>>(),
            );
        }
    }
    let statuses = join_all(
        found
            .iter()
            .map(|t| logging(&ct, t.name().unwrap_or_default())),
    )
    .await;
    let mut out = Vec::new();
    for (trail, logging) in found.into_iter().zip(statuses) {
        let Some(logging) = logging? else { continue };
        let arn = trail.trail_arn().unwrap_or_default();
        out.push(to_live(
            trail,
            logging,
            tags.remove(arn).unwrap_or_default(),
        ));
    }
    Ok(out)
}

/// The trails whose home is the client's region (DescribeTrails without shadow trails).
async fn trails(ct: &Client) -> Result<Vec<Trail>, AwsError> {
    let out = call("DescribeTrails", || {
        ct.describe_trails().include_shadow_trails(false).send()
    })
    .await?;
    Ok(out.trail_list().to_vec())
}

/// Whether the trail is logging; `None` when it is gone.
async fn logging(ct: &Client, name: &str) -> Result<Option<bool>, AwsError> {
    let out =
        ignore_not_found(call("GetTrailStatus", || ct.get_trail_status().name(name).send()).await)?;
    Ok(out.map(|s| s.is_logging().unwrap_or(false)))
}

fn to_live(trail: &Trail, logging: bool, tags: Vec<(String, String)>) -> Live {
    let name = trail.name().unwrap_or_default();
    let (tags, address, lineage) = Live::split_tags(tags);
    let mut attrs = Attrs::new();
    let mut set = |k: &str, v: Value| {
        attrs.insert(k.into(), v);
    };
    set("name", name.into());
    set(
        "s3_bucket_name",
        trail.s3_bucket_name().unwrap_or_default().into(),
    );
    set(
        "s3_key_prefix",
        trail.s3_key_prefix().unwrap_or_default().into(),
    );
    set(
        "is_multi_region_trail",
        trail.is_multi_region_trail().unwrap_or(false).into(),
    );
    set(
        "include_global_service_events",
        trail
            .include_global_service_events()
            .unwrap_or(false)
            .into(),
    );
    set(
        "enable_log_file_validation",
        trail.log_file_validation_enabled().unwrap_or(false).into(),
    );
    set("kms_key_id", trail.kms_key_id().unwrap_or_default().into());
    set(
        "is_organization_trail",
        trail.is_organization_trail().unwrap_or(false).into(),
    );
    set("enable_logging", logging.into());
    set("tags", tags);
    set("id", name.into());
    set("arn", trail.trail_arn().unwrap_or_default().into());
    Live {
        id: name.to_string(),
        attrs,
        address,
        lineage,
    }
}

fn flag(attrs: &Attrs, name: &str) -> Option<bool> {
    attrs.get(name).and_then(Value::as_bool)
}

/// An optional string: empty means unset (AWS takes an empty string to clear prefixes and keys).
fn text(attrs: &Attrs, name: &str) -> Option<String> {
    attrs.get(name).and_then(Value::as_str).map(str::to_string)
}

fn ct_tags(
    tags: impl IntoIterator<Item = (String, String)>,
    op: &str,
) -> Result<Vec<Tag>, AwsError> {
    tags.into_iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| AwsError::other(op, e.to_string()))
        })
        .collect()
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let ct = cx.cloudtrail().await?;
    let name = required(desired, "name", "CreateTrail")?;
    let tags = ct_tags(cx.creation_tags(address, desired), "CreateTrail")?;
    let created = call("CreateTrail", || {
        ct.create_trail()
            .name(name)
            .s3_bucket_name(str_or_empty(desired, "s3_bucket_name"))
            .set_s3_key_prefix(text(desired, "s3_key_prefix").filter(|p| !p.is_empty()))
            .set_is_multi_region_trail(flag(desired, "is_multi_region_trail"))
            .set_include_global_service_events(flag(desired, "include_global_service_events"))
            .set_enable_log_file_validation(flag(desired, "enable_log_file_validation"))
            .set_kms_key_id(text(desired, "kms_key_id").filter(|k| !k.is_empty()))
            .set_is_organization_trail(flag(desired, "is_organization_trail"))
            .set_tags_list(Some(tags.clone()))
            .send()
    })
    .await;
    let arn = match created {
        Ok(out) => out.trail_arn().unwrap_or_default().to_string(),
        // A retry after a lost answer, or a run that stopped before saving state: the name is this
        // configuration's (refresh adopts a trail by name), so bring it to the configuration.
        Err(e) if e.is("TrailAlreadyExistsException") => update_trail(&ct, name, desired).await?,
        Err(e) => return Err(e),
    };
    set_logging(&ct, name, desired).await?;
    Ok(Live {
        id: name.to_string(),
        attrs: applied_attrs(desired, name, &arn),
        address: Some(address.to_string()),
        lineage: Some(cx.lineage.to_string()),
    })
}

/// UpdateTrail with every setting; returns the trail's ARN.
async fn update_trail(ct: &Client, name: &str, desired: &Attrs) -> Result<String, AwsError> {
    let out = call("UpdateTrail", || {
        ct.update_trail()
            .name(name)
            .s3_bucket_name(str_or_empty(desired, "s3_bucket_name"))
            .s3_key_prefix(str_or_empty(desired, "s3_key_prefix"))
            .set_is_multi_region_trail(flag(desired, "is_multi_region_trail"))
            .set_include_global_service_events(flag(desired, "include_global_service_events"))
            .set_enable_log_file_validation(flag(desired, "enable_log_file_validation"))
            .kms_key_id(str_or_empty(desired, "kms_key_id"))
            .set_is_organization_trail(flag(desired, "is_organization_trail"))
            .send()
    })
    .await?;
    Ok(out.trail_arn().unwrap_or_default().to_string())
}

async fn set_logging(ct: &Client, name: &str, desired: &Attrs) -> Result<(), AwsError> {
    if flag(desired, "enable_logging") == Some(false) {
        call("StopLogging", || ct.stop_logging().name(name).send()).await?;
    } else {
        call("StartLogging", || ct.start_logging().name(name).send()).await?;
    }
    Ok(())
}

/// Settings UpdateTrail changes.
const TRAIL_SETTINGS: &[&str] = &[
    "s3_bucket_name",
    "s3_key_prefix",
    "is_multi_region_trail",
    "include_global_service_events",
    "enable_log_file_validation",
    "kms_key_id",
    "is_organization_trail",
];

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    let ct = cx.cloudtrail().await?;
    let mut arn = str_or_empty(current, "arn").to_string();
    if TRAIL_SETTINGS
        .iter()
        .any(|a| current.get(*a) != desired.get(*a))
    {
        arn = update_trail(&ct, id, desired).await?;
    }
    if current.get("enable_logging") != desired.get("enable_logging") {
        set_logging(&ct, id, desired).await?;
    }
    let tags = tag_changes(current, desired);
    if !tags.put.is_empty() {
        let put = ct_tags(tags.put, "AddTags")?;
        call("AddTags", || {
            ct.add_tags()
                .resource_id(&arn)
                .set_tags_list(Some(put.clone()))
                .send()
        })
        .await?;
    }
    if !tags.remove.is_empty() {
        // Keys only: a value would remove the tag only while it still has that value.
        let remove = tags
            .remove
            .iter()
            .map(|k| Tag::builder().key(k).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| AwsError::other("RemoveTags", e.to_string()))?;
        call("RemoveTags", || {
            ct.remove_tags()
                .resource_id(&arn)
                .set_tags_list(Some(remove.clone()))
                .send()
        })
        .await?;
    }
    Ok(Live {
        id: id.to_string(),
        attrs: applied_attrs(desired, id, &arn),
        address: None,
        lineage: None,
    })
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let ct = cx.cloudtrail().await?;
    ignore_not_found(call("DeleteTrail", || ct.delete_trail().name(id).send()).await).map(drop)
}
