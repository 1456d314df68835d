//! `s3_bucket`: a bucket for the log archive with versioning, default encryption (SSE-S3, or SSE-KMS
//! with a given key), the public access block, lifecycle rules, the bucket policy and tags.
//!
//! The id is the bucket name, unique across AWS, so a bucket missing from state is recognised by its
//! name. `read` lists the account's buckets once per refresh (ListBuckets, shared by every bucket read
//! in the account and region) and reads the sub-configurations (versioning, encryption, public access
//! block, lifecycle, policy, tags: one Get each) only of the buckets it is asked for, i.e. those
//! landfall manages. A bucket another account owns is not in the listing and counts as absent.
//!
//! `policy` is managed only when configured (an unset policy is left as it is). The name forces a
//! replacement; everything else changes in place. Destroy deletes the bucket, which AWS refuses while
//! it holds objects: a log archive is never emptied by landfall.

use crate::aws::{AwsError, call};
use crate::provider::attrs::{LandfallTags, is_landfall_tag, required, str_or_empty, tag_map};
use crate::provider::iam::{decode_document, document_text, int_attr, same_document};
use crate::provider::{Attrs, Cx, Live, paginate};
use aws_sdk_s3::Client;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketLocationConstraint, BucketVersioningStatus,
    CreateBucketConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter, NoncurrentVersionExpiration, PublicAccessBlockConfiguration,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule, Tag, Tagging, VersioningConfiguration,
};
use futures_util::future::join_all;
use serde_json::{Value, json};
use std::collections::BTreeSet;

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let s3 = cx.s3().await?;
    let owned = cx.cached("s3:ListBuckets", || bucket_names(&s3)).await?;
    let wanted: BTreeSet<&String> = ids.iter().filter(|id| owned.contains(*id)).collect();
    let found = join_all(wanted.into_iter().map(|name| describe(&s3, name))).await;
    found.into_iter().filter_map(Result::transpose).collect()
}

/// The names of the account's buckets (ListBuckets, all pages).
async fn bucket_names(s3: &Client) -> Result<BTreeSet<String>, AwsError> {
    let names = paginate(|token| async move {
        let out = call("ListBuckets", || {
            s3.list_buckets()
                .set_continuation_token(token.clone())
                .send()
        })
        .await?;
        let names = out
            .buckets()
            .iter()
            .filter_map(|b| b.name().map(str::to_string));
        Ok((
            names.collect(),
            out.continuation_token().map(str::to_string),
        ))
    })
    .await?;
    Ok(names.into_iter().collect())
}

/// An S3 "not configured" answer (404 with its own code) as `None`; a gone bucket stays an error.
fn unset<T>(result: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match result {
        Err(e) if e.status == Some(404) && !e.is("NoSuchBucket") => Ok(None),
        other => other.map(Some),
    }
}

/// One bucket's sub-configurations; `None` if it went away meanwhile.
async fn describe(s3: &Client, name: &str) -> Result<Option<Live>, AwsError> {
    match settings(s3, name).await {
        Err(e) if e.is("NoSuchBucket") => Ok(None),
        other => other.map(Some),
    }
}

/// Whether versioning is enabled. An answer the SDK cannot parse (moto 5.2.5 wraps it in another
/// root element, which the SDK refuses) is read from its `<Status>` element.
async fn versioning_enabled(s3: &Client, name: &str) -> Result<bool, AwsError> {
    let answer = call("GetBucketVersioning", || {
        s3.get_bucket_versioning().bucket(name).send()
    })
    .await;
    match answer {
        Ok(out) => Ok(out.status() == Some(&BucketVersioningStatus::Enabled)),
        Err(e) if e.status == Some(200) => Ok(e.message.contains("<Status>Enabled</Status>")),
        Err(e) => Err(e),
    }
}

async fn settings(s3: &Client, name: &str) -> Result<Live, AwsError> {
    let versioning = versioning_enabled(s3, name).await?;
    let encryption = unset(
        call("GetBucketEncryption", || {
            s3.get_bucket_encryption().bucket(name).send()
        })
        .await,
    )?;
    let block = unset(
        call("GetPublicAccessBlock", || {
            s3.get_public_access_block().bucket(name).send()
        })
        .await,
    )?;
    let lifecycle = unset(
        call("GetBucketLifecycleConfiguration", || {
            s3.get_bucket_lifecycle_configuration().bucket(name).send()
        })
        .await,
    )?;
    let policy = unset(
        call("GetBucketPolicy", || {
            s3.get_bucket_policy().bucket(name).send()
        })
        .await,
    )?;
    let tagging = unset(
        call("GetBucketTagging", || {
            s3.get_bucket_tagging().bucket(name).send()
        })
        .await,
    )?;

    let kms_key = encryption
        .as_ref()
        .and_then(|e| e.server_side_encryption_configuration())
        .and_then(|c| c.rules().first())
        .and_then(|r| r.apply_server_side_encryption_by_default())
        .and_then(|d| d.kms_master_key_id())
        .unwrap_or_default();
    let blocked = block
        .as_ref()
        .and_then(|b| b.public_access_block_configuration())
        .is_some_and(|c| {
            [
                c.block_public_acls(),
                c.ignore_public_acls(),
                c.block_public_policy(),
                c.restrict_public_buckets(),
            ]
            .iter()
            .all(|v| *v == Some(true))
        });
    let rules: Vec<Value> = lifecycle
        .as_ref()
        .map(|l| l.rules().iter().map(rule_attrs).collect())
        .unwrap_or_default();
    let tags = tagging.as_ref().map(|t| t.tag_set()).unwrap_or_default();
    let (tags, address, lineage) = Live::split_tags(
        tags.iter()
            .map(|t| (t.key().to_string(), t.value().to_string())),
    );
    let mut attrs = Attrs::new();
    attrs.insert("bucket".into(), name.into());
    attrs.insert("versioning".into(), versioning.into());
    attrs.insert("kms_master_key_id".into(), kms_key.into());
    attrs.insert("block_public_access".into(), blocked.into());
    attrs.insert("lifecycle_rules".into(), Value::Array(rules));
    // No policy reads as null: a policy deleted outside landfall shows as drift when one is configured.
    let policy = policy.as_ref().and_then(|p| p.policy());
    attrs.insert("policy".into(), policy.map_or(Value::Null, decode_document));
    attrs.insert("tags".into(), tags);
    attrs.insert("id".into(), name.into());
    attrs.insert("arn".into(), arn(name).into());
    Ok(Live {
        id: name.to_string(),
        attrs,
        address,
        lineage,
    })
}

fn arn(name: &str) -> String {
    format!("arn:aws:s3:::{name}")
}

/// A lifecycle rule as the configuration writes it: only the fields that are set.
fn rule_attrs(rule: &LifecycleRule) -> Value {
    let mut out = json!({"id": rule.id().unwrap_or_default()});
    let prefix = rule.filter().and_then(|f| f.prefix());
    if let Some(prefix) = prefix.filter(|p| !p.is_empty()) {
        out["prefix"] = prefix.into();
    }
    if let Some(days) = rule.expiration().and_then(|e| e.days()) {
        out["expiration_days"] = days.into();
    }
    if let Some(days) = rule
        .noncurrent_version_expiration()
        .and_then(|e| e.noncurrent_days())
    {
        out["noncurrent_version_expiration_days"] = days.into();
    }
    out
}

fn built<T>(result: Result<T, aws_sdk_s3::error::BuildError>, op: &str) -> Result<T, AwsError> {
    result.map_err(|e| AwsError::other(op, e.to_string()))
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let s3 = cx.s3().await?;
    let name = required(desired, "bucket", "CreateBucket")?;
    // us-east-1 takes no location constraint; every other region needs its own.
    let location = (cx.loc.region != "us-east-1").then(|| {
        CreateBucketConfiguration::builder()
            .location_constraint(BucketLocationConstraint::from(cx.loc.region.as_str()))
            .build()
    });
    let created = call("CreateBucket", || {
        s3.create_bucket()
            .bucket(name)
            .set_create_bucket_configuration(location.clone())
            .send()
    })
    .await;
    match created {
        // A retry after a lost answer (or a run that stopped before saving state): the account
        // already owns it, and the tags put below mark it as this address's.
        Err(e) if e.is("BucketAlreadyOwnedByYou") => {}
        other => drop(other?),
    }
    let tags = cx.creation_tags(address, desired);
    put_tags(&s3, name, tags).await?;
    configure(&s3, name, &Attrs::new(), desired).await?;
    Ok(Live {
        address: Some(address.to_string()),
        lineage: Some(cx.lineage.to_string()),
        ..applied(name, desired)
    })
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    let s3 = cx.s3().await?;
    if tag_map(current, LandfallTags::Drop) != tag_map(desired, LandfallTags::Drop) {
        // PutBucketTagging replaces the whole set: keep landfall's own tags as they are.
        let now = unset(
            call("GetBucketTagging", || {
                s3.get_bucket_tagging().bucket(id).send()
            })
            .await,
        )?;
        let mut tags: Vec<(String, String)> = now
            .iter()
            .flat_map(|t| t.tag_set())
            .filter(|t| is_landfall_tag(t.key()))
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect();
        tags.extend(tag_map(desired, LandfallTags::Drop));
        put_tags(&s3, id, tags).await?;
    }
    configure(&s3, id, current, desired).await?;
    Ok(applied(id, desired))
}

fn applied(name: &str, desired: &Attrs) -> Live {
    let mut attrs = crate::provider::iam::applied_attrs(desired, name, &arn(name));
    attrs.insert("bucket".into(), name.into());
    Live {
        id: name.to_string(),
        attrs,
        address: None,
        lineage: None,
    }
}

async fn put_tags(s3: &Client, name: &str, tags: Vec<(String, String)>) -> Result<(), AwsError> {
    if tags.is_empty() {
        call("DeleteBucketTagging", || {
            s3.delete_bucket_tagging().bucket(name).send()
        })
        .await?;
        return Ok(());
    }
    let set = tags
        .into_iter()
        .map(|(k, v)| built(Tag::builder().key(k).value(v).build(), "PutBucketTagging"))
        .collect::<Result<Vec<_>, _>>()?;
    let tagging = built(
        Tagging::builder().set_tag_set(Some(set)).build(),
        "PutBucketTagging",
    )?;
    call("PutBucketTagging", || {
        s3.put_bucket_tagging()
            .bucket(name)
            .tagging(tagging.clone())
            .send()
    })
    .await?;
    Ok(())
}

/// Brings each sub-configuration that differs from `current` (empty for a new bucket) to `desired`.
async fn configure(
    s3: &Client,
    name: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<(), AwsError> {
    let differs = |attr: &str| current.get(attr) != desired.get(attr) || current.is_empty();
    if differs("versioning") {
        put_versioning(s3, name, desired).await?;
    }
    if differs("kms_master_key_id") {
        put_encryption(s3, name, str_or_empty(desired, "kms_master_key_id")).await?;
    }
    if differs("block_public_access") {
        put_public_access_block(s3, name, desired).await?;
    }
    if differs("lifecycle_rules") {
        put_lifecycle(s3, name, desired).await?;
    }
    if let Some(policy) = desired.get("policy")
        && !same_document(current.get("policy").unwrap_or(&Value::Null), policy)
    {
        let text = document_text(policy);
        call("PutBucketPolicy", || {
            s3.put_bucket_policy().bucket(name).policy(&text).send()
        })
        .await?;
    }
    Ok(())
}

async fn put_versioning(s3: &Client, name: &str, desired: &Attrs) -> Result<(), AwsError> {
    let on = desired.get("versioning").and_then(Value::as_bool) == Some(true);
    let status = if on {
        BucketVersioningStatus::Enabled
    } else {
        BucketVersioningStatus::Suspended
    };
    let config = VersioningConfiguration::builder().status(status).build();
    call("PutBucketVersioning", || {
        s3.put_bucket_versioning()
            .bucket(name)
            .versioning_configuration(config.clone())
            .send()
    })
    .await?;
    Ok(())
}

/// SSE-KMS with `key` (and an S3 bucket key, which cuts KMS requests), or SSE-S3 when `key` is empty.
async fn put_encryption(s3: &Client, name: &str, key: &str) -> Result<(), AwsError> {
    let op = "PutBucketEncryption";
    let default = if key.is_empty() {
        ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256)
    } else {
        ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::AwsKms)
            .kms_master_key_id(key)
    };
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(built(default.build(), op)?)
        .bucket_key_enabled(!key.is_empty())
        .build();
    let config = built(
        ServerSideEncryptionConfiguration::builder()
            .rules(rule)
            .build(),
        op,
    )?;
    call(op, || {
        s3.put_bucket_encryption()
            .bucket(name)
            .server_side_encryption_configuration(config.clone())
            .send()
    })
    .await?;
    Ok(())
}

async fn put_public_access_block(s3: &Client, name: &str, desired: &Attrs) -> Result<(), AwsError> {
    if desired.get("block_public_access").and_then(Value::as_bool) == Some(false) {
        let result = call("DeletePublicAccessBlock", || {
            s3.delete_public_access_block().bucket(name).send()
        })
        .await;
        return unset(result).map(drop);
    }
    let config = PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .ignore_public_acls(true)
        .block_public_policy(true)
        .restrict_public_buckets(true)
        .build();
    call("PutPublicAccessBlock", || {
        s3.put_public_access_block()
            .bucket(name)
            .public_access_block_configuration(config.clone())
            .send()
    })
    .await?;
    Ok(())
}

async fn put_lifecycle(s3: &Client, name: &str, desired: &Attrs) -> Result<(), AwsError> {
    let op = "PutBucketLifecycleConfiguration";
    let rules = desired
        .get("lifecycle_rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .map(|r| lifecycle_rule(r, op))
        .collect::<Result<Vec<_>, _>>()?;
    if rules.is_empty() {
        let result = call("DeleteBucketLifecycle", || {
            s3.delete_bucket_lifecycle().bucket(name).send()
        })
        .await;
        return unset(result).map(drop);
    }
    let config = built(
        BucketLifecycleConfiguration::builder()
            .set_rules(Some(rules))
            .build(),
        op,
    )?;
    call(op, || {
        s3.put_bucket_lifecycle_configuration()
            .bucket(name)
            .lifecycle_configuration(config.clone())
            .send()
    })
    .await?;
    Ok(())
}

fn lifecycle_rule(rule: &Attrs, op: &str) -> Result<LifecycleRule, AwsError> {
    let mut b = LifecycleRule::builder()
        .id(str_or_empty(rule, "id"))
        .status(ExpirationStatus::Enabled)
        .filter(
            LifecycleRuleFilter::builder()
                .prefix(str_or_empty(rule, "prefix"))
                .build(),
        );
    if let Some(days) = int_attr(rule, "expiration_days") {
        b = b.expiration(LifecycleExpiration::builder().days(days).build());
    }
    if let Some(days) = int_attr(rule, "noncurrent_version_expiration_days") {
        b = b.noncurrent_version_expiration(
            NoncurrentVersionExpiration::builder()
                .noncurrent_days(days)
                .build(),
        );
    }
    built(b.build(), op)
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let s3 = cx.s3().await?;
    match call("DeleteBucket", || s3.delete_bucket().bucket(id).send()).await {
        Err(e) if e.is("NoSuchBucket") => Ok(()),
        other => other.map(drop),
    }
}
