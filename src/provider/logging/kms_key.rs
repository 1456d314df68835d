//! `kms_key`: a customer managed KMS key with its key policy, automatic rotation and tags.
//!
//! The id is the key id (a UUID); `arn` is reported too. `read` asks DescribeKey, GetKeyPolicy,
//! GetKeyRotationStatus and ListResourceTags of each key state knows (KMS lists none of these in
//! bulk), and lists every key of the account and region (ListKeys, then ListResourceTags per key)
//! only when a configured key is missing from state and must be recognised by its address tag. A key
//! pending deletion counts as gone. `deletion_window_in_days` is not readable (it only matters when
//! the key is destroyed): it is compared against state.
//!
//! Destroy schedules the deletion (ScheduleKeyDeletion with the configured window, 7 to 30 days):
//! KMS never deletes a key at once. Everything else changes in place.

use super::is_ours;
use crate::aws::{AwsError, Created, call, call_create};
use crate::provider::attrs::{ignore_not_found, str_or_empty};
use crate::provider::iam::{
    applied_attrs, decode_document, document_text, same_document, tag_changes,
};
use crate::provider::{Attrs, Cx, Live, paginate};
use aws_sdk_kms::Client;
use aws_sdk_kms::types::{KeyManagerType, KeyState, Tag};
use futures_util::future::join_all;
use serde_json::Value;
use std::collections::BTreeSet;

/// The only name a key policy has.
const POLICY_NAME: &str = "default";
const DEFAULT_WINDOW_DAYS: i32 = 30;

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let kms = cx.kms().await?;
    let mut wanted: BTreeSet<String> = ids.iter().cloned().collect();
    // Only a refresh that looks for a configured key state lacks pays for the full listing.
    if cx.hints("kms_key").is_some_and(|h| !h.missing.is_empty()) {
        for key in tagged_keys(&kms).await? {
            if key.1.iter().any(|(k, _)| k == crate::provider::ADDRESS_TAG) {
                wanted.insert(key.0);
            }
        }
    }
    let found = join_all(wanted.iter().map(|id| describe(&kms, id))).await;
    found.into_iter().filter_map(|r| r.transpose()).collect()
}

/// Every key id of the account and region (ListKeys, all pages).
async fn key_ids(kms: &Client) -> Result<Vec<String>, AwsError> {
    paginate(|marker| async move {
        let out = call("ListKeys", || {
            kms.list_keys().set_marker(marker.clone()).send()
        })
        .await?;
        let next = out
            .truncated()
            .then(|| out.next_marker().map(str::to_string));
        let ids = out
            .keys()
            .iter()
            .filter_map(|k| k.key_id().map(str::to_string));
        Ok((ids.collect(), next.flatten()))
    })
    .await
}

/// Every key with its tags (ListKeys, then ListResourceTags per key): for recognising by tag.
async fn tagged_keys(kms: &Client) -> Result<Vec<(String, Vec<(String, String)>)>, AwsError> {
    let mut keys = Vec::new();
    for id in key_ids(kms).await? {
        // AWS managed keys refuse ListResourceTags to callers without access: not ours anyway.
        match tags_of(kms, &id).await {
            Ok(tags) => keys.push((id, tags)),
            Err(e) if e.is_not_found() || e.is("AccessDeniedException") => {}
            Err(e) => return Err(e),
        }
    }
    Ok(keys)
}

async fn tags_of(kms: &Client, id: &str) -> Result<Vec<(String, String)>, AwsError> {
    let out = call("ListResourceTags", || {
        kms.list_resource_tags().key_id(id).send()
    })
    .await?;
    Ok(out
        .tags()
        .iter()
        .map(|t| (t.tag_key().to_string(), t.tag_value().to_string()))
        .collect())
}

/// One customer managed key as it is now; `None` when gone, pending deletion, or AWS managed.
async fn describe(kms: &Client, id: &str) -> Result<Option<Live>, AwsError> {
    let Some(out) =
        ignore_not_found(call("DescribeKey", || kms.describe_key().key_id(id).send()).await)?
    else {
        return Ok(None);
    };
    let Some(meta) = out.key_metadata() else {
        return Ok(None);
    };
    let pending = matches!(
        meta.key_state(),
        Some(KeyState::PendingDeletion | KeyState::PendingReplicaDeletion)
    );
    if pending || meta.key_manager() == Some(&KeyManagerType::Aws) {
        return Ok(None);
    }
    let policy = call("GetKeyPolicy", || {
        kms.get_key_policy()
            .key_id(id)
            .policy_name(POLICY_NAME)
            .send()
    })
    .await?;
    let rotation = call("GetKeyRotationStatus", || {
        kms.get_key_rotation_status().key_id(id).send()
    })
    .await?;
    let (tags, address, lineage) = Live::split_tags(tags_of(kms, id).await?);
    let mut attrs = Attrs::new();
    attrs.insert(
        "description".into(),
        meta.description().unwrap_or_default().into(),
    );
    attrs.insert(
        "policy".into(),
        decode_document(policy.policy().unwrap_or_default()),
    );
    attrs.insert(
        "enable_key_rotation".into(),
        rotation.key_rotation_enabled().into(),
    );
    attrs.insert("tags".into(), tags);
    attrs.insert("id".into(), meta.key_id().into());
    attrs.insert("arn".into(), meta.arn().unwrap_or_default().into());
    Ok(Some(Live {
        id: meta.key_id().to_string(),
        attrs,
        address,
        lineage,
    }))
}

fn kms_tags(
    tags: impl IntoIterator<Item = (String, String)>,
    op: &str,
) -> Result<Vec<Tag>, AwsError> {
    tags.into_iter()
        .map(|(k, v)| {
            Tag::builder()
                .tag_key(k)
                .tag_value(v)
                .build()
                .map_err(|e| AwsError::other(op, e.to_string()))
        })
        .collect()
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let kms = cx.kms().await?;
    let tags = kms_tags(cx.creation_tags(address, desired), "CreateKey")?;
    let policy = desired.get("policy").map(document_text);
    let outcome = call_create(
        "CreateKey",
        || {
            kms.create_key()
                .description(str_or_empty(desired, "description"))
                .set_policy(policy.clone())
                .set_tags(Some(tags.clone()))
                .send()
        },
        // A lost answer: the key AWS may have made carries this address and lineage.
        || async {
            let keys = tagged_keys(&kms).await?;
            Ok(keys
                .into_iter()
                .find(|(_, t)| is_ours(cx, t, address))
                .map(|k| k.0))
        },
    )
    .await?;
    let id = match outcome {
        Created::Sent(out) => out
            .key_metadata()
            .map(|m| m.key_id().to_string())
            .ok_or_else(|| AwsError::other("CreateKey", "the response holds no key"))?,
        Created::Found(id) => id,
    };
    set_rotation(&kms, &id, desired).await?;
    let arn = call("DescribeKey", || kms.describe_key().key_id(&id).send())
        .await?
        .key_metadata()
        .and_then(|m| m.arn().map(str::to_string))
        .unwrap_or_default();
    Ok(Live {
        id: id.clone(),
        attrs: applied_attrs(desired, &id, &arn),
        address: Some(address.to_string()),
        lineage: Some(cx.lineage.to_string()),
    })
}

async fn set_rotation(kms: &Client, id: &str, desired: &Attrs) -> Result<(), AwsError> {
    if desired.get("enable_key_rotation").and_then(Value::as_bool) == Some(false) {
        call("DisableKeyRotation", || {
            kms.disable_key_rotation().key_id(id).send()
        })
        .await?;
    } else {
        call("EnableKeyRotation", || {
            kms.enable_key_rotation().key_id(id).send()
        })
        .await?;
    }
    Ok(())
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    let kms = cx.kms().await?;
    let description = str_or_empty(desired, "description");
    if description != str_or_empty(current, "description") {
        call("UpdateKeyDescription", || {
            kms.update_key_description()
                .key_id(id)
                .description(description)
                .send()
        })
        .await?;
    }
    if let Some(policy) = desired.get("policy")
        && !same_document(current.get("policy").unwrap_or(&Value::Null), policy)
    {
        let text = document_text(policy);
        call("PutKeyPolicy", || {
            kms.put_key_policy()
                .key_id(id)
                .policy_name(POLICY_NAME)
                .policy(&text)
                .send()
        })
        .await?;
    }
    if current.get("enable_key_rotation") != desired.get("enable_key_rotation") {
        set_rotation(&kms, id, desired).await?;
    }
    let tags = tag_changes(current, desired);
    if !tags.put.is_empty() {
        let put = kms_tags(tags.put, "TagResource")?;
        call("TagResource", || {
            kms.tag_resource()
                .key_id(id)
                .set_tags(Some(put.clone()))
                .send()
        })
        .await?;
    }
    if !tags.remove.is_empty() {
        call("UntagResource", || {
            kms.untag_resource()
                .key_id(id)
                .set_tag_keys(Some(tags.remove.clone()))
                .send()
        })
        .await?;
    }
    Ok(Live {
        id: id.to_string(),
        attrs: applied_attrs(desired, id, str_or_empty(current, "arn")),
        address: None,
        lineage: None,
    })
}

pub async fn delete(cx: &Cx<'_>, id: &str, current: &Attrs) -> Result<(), AwsError> {
    let kms = cx.kms().await?;
    let window = crate::provider::iam::int_attr(current, "deletion_window_in_days")
        .unwrap_or(DEFAULT_WINDOW_DAYS);
    let result = call("ScheduleKeyDeletion", || {
        kms.schedule_key_deletion()
            .key_id(id)
            .pending_window_in_days(window)
            .send()
    })
    .await;
    match result {
        // Already scheduled (a retried destroy): done.
        Err(e) if e.is("KMSInvalidStateException") => Ok(()),
        other => ignore_not_found(other).map(drop),
    }
}
