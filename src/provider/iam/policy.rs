//! `iam_policy`: a customer managed policy, its document (the default version) and tags.
//!
//! The id is the policy's **ARN** (every managed policy API takes the ARN).
//!
//! `read` is one `GetAccountAuthorizationDetails` filtered to customer managed policies (all pages) per
//! account (during a refresh, the listing shared with `iam_role` and `iam_group`, see
//! [`super::account_details`]): names, paths, descriptions and every version's document. Policy tags are
//! not part of that answer (in AWS as in moto), and no IAM call lists the tags of many policies at once,
//! so `read` then asks `ListPolicyTags` of each customer managed policy in the account, a few at a time.
//! That makes `read` cost 1 + N calls for N customer managed policies in the account rather than a
//! constant; it is the price of detecting tag drift and of adopting a policy by its `landfall:address`
//! tag after a crash. Accounts keep few customer managed policies (the default quota is 1,500 and
//! landing zones use tens), and the calls run concurrently.
//!
//! An update of the document creates a new default version; when the policy already has the maximum of
//! five versions, the oldest non-default version is deleted first. `name`, `path` and `description`
//! force a replacement (IAM cannot change them).

use super::{
    account_details, applied_attrs, decode_document, document_text, ignore_not_found, non_empty,
    object, same_document, sdk_tags, str_or_empty, tag_changes, tag_pairs, take_over, wanted,
};
use crate::aws::{AwsError, call};
use crate::provider::{Attrs, Cx, Live};
use aws_sdk_iam::Client;
use aws_sdk_iam::types::{EntityType, ManagedPolicyDetail, PolicyVersion};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use tokio::task::JoinSet;

/// IAM keeps at most this many versions of a managed policy.
const MAX_VERSIONS: usize = 5;
/// `ListPolicyTags` calls in flight at once during a read.
const TAG_READS_IN_FLIGHT: usize = 8;

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let iam = cx.iam().await?;
    let ids: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
    let details = account_details(cx, &iam, EntityType::LocalManagedPolicy).await?;
    let arns: Vec<String> = details
        .policies
        .iter()
        .filter_map(|p| p.arn().map(str::to_string))
        .collect();
    let mut tags = policy_tags(&iam, arns).await?;

    let mut found = Vec::new();
    for policy in &details.policies {
        let Some(arn) = policy.arn() else { continue };
        // Deleted between the two reads.
        let Some(tags) = tags.remove(arn) else {
            continue;
        };
        let (tags, address, lineage) = Live::split_tags(tags);
        if !wanted(&ids, arn, address.as_deref()) {
            continue;
        }
        let mut attrs = object(json!({
            "name": policy.policy_name().unwrap_or_else(|| name_from_arn(arn)),
            "path": policy.path().unwrap_or("/"),
            "description": policy.description().unwrap_or_default(),
            "tags": tags,
            "id": arn,
            "arn": arn,
        }));
        if let Some(document) = default_document(policy) {
            attrs.insert("policy".into(), document);
        }
        found.push(Live {
            id: arn.to_string(),
            attrs,
            address,
            lineage,
        });
    }
    Ok(found)
}

/// The default version's document, decoded.
fn default_document(policy: &ManagedPolicyDetail) -> Option<Value> {
    let versions = policy.policy_version_list();
    let default = versions
        .iter()
        .find(|v| v.is_default_version())
        .or_else(|| {
            let id = policy.default_version_id()?;
            versions.iter().find(|v| v.version_id() == Some(id))
        })?;
    default.document().map(decode_document)
}

/// A policy's name is the last part of its ARN (`arn:aws:iam::123:policy/some/path/name`).
fn name_from_arn(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// The tags of each policy, by ARN, a few `ListPolicyTags` calls at a time. A policy deleted meanwhile
/// is left out.
async fn policy_tags(
    iam: &Client,
    arns: Vec<String>,
) -> Result<HashMap<String, Vec<(String, String)>>, AwsError> {
    let mut tags = HashMap::new();
    let mut pending = arns.into_iter();
    let mut in_flight = JoinSet::new();
    loop {
        while in_flight.len() < TAG_READS_IN_FLIGHT {
            let Some(arn) = pending.next() else { break };
            let iam = iam.clone();
            in_flight.spawn(async move {
                let result = tags_of(&iam, &arn).await;
                (arn, result)
            });
        }
        let Some(joined) = in_flight.join_next().await else {
            return Ok(tags);
        };
        let (arn, result) = joined.map_err(|e| AwsError::other("ListPolicyTags", e.to_string()))?;
        match result {
            Ok(found) => {
                tags.insert(arn, found);
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
}

async fn tags_of(iam: &Client, arn: &str) -> Result<Vec<(String, String)>, AwsError> {
    let mut tags = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = call("ListPolicyTags", || {
            iam.list_policy_tags()
                .policy_arn(arn)
                .set_marker(marker.clone())
                .send()
        })
        .await?;
        tags.extend(tag_pairs(out.tags()));
        match out.marker() {
            Some(next) if out.is_truncated() => marker = Some(next.to_string()),
            _ => return Ok(tags),
        }
    }
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let iam = cx.iam().await?;
    let name = str_or_empty(desired, "name");
    let path = non_empty(str_or_empty(desired, "path")).unwrap_or("/");
    let document = desired.get("policy").map(document_text).unwrap_or_default();
    let tags = sdk_tags(cx.creation_tags(address, desired), "CreatePolicy")?;
    let created = call("CreatePolicy", || {
        iam.create_policy()
            .policy_name(name)
            .path(path)
            .set_description(non_empty(str_or_empty(desired, "description")).map(str::to_string))
            .policy_document(&document)
            .set_tags(Some(tags.clone()))
            .send()
    })
    .await;
    let arn = match created {
        Ok(out) => out
            .policy()
            .and_then(|p| p.arn())
            .ok_or_else(|| AwsError::other("CreatePolicy", "the answer has no policy ARN"))?
            .to_string(),
        // A retry after an answer lost on its way back: the policy is landfall's if it carries this
        // address and lineage. Anyone else's is an error.
        Err(e) if e.is("EntityAlreadyExists") => {
            let caller = cx.aws.caller().await?;
            let partition = caller.arn.split(':').nth(1).unwrap_or("aws");
            let account = cx.loc.account.as_deref().unwrap_or(&caller.account);
            let arn = format!("arn:{partition}:iam::{account}:policy{path}{name}");
            take_over(e, tags_of(&iam, &arn).await?, cx, address, "policy", &arn)?;
            arn
        }
        Err(e) => return Err(e),
    };
    let arn = arn.as_str();
    Ok(Live {
        address: Some(address.to_string()),
        lineage: Some(cx.lineage.to_string()),
        ..applied(arn, desired)
    })
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    let iam = cx.iam().await?;

    let document = desired.get("policy").unwrap_or(&Value::Null);
    if !same_document(current.get("policy").unwrap_or(&Value::Null), document) {
        let versions = versions(&iam, id).await?;
        if versions.len() >= MAX_VERSIONS
            && let Some(oldest) = oldest_non_default(&versions)
        {
            delete_version(&iam, id, oldest).await?;
        }
        let text = document_text(document);
        call("CreatePolicyVersion", || {
            iam.create_policy_version()
                .policy_arn(id)
                .policy_document(&text)
                .set_as_default(true)
                .send()
        })
        .await?;
    }

    let tags = tag_changes(current, desired);
    if !tags.put.is_empty() {
        let put = sdk_tags(tags.put, "TagPolicy")?;
        call("TagPolicy", || {
            iam.tag_policy()
                .policy_arn(id)
                .set_tags(Some(put.clone()))
                .send()
        })
        .await?;
    }
    if !tags.remove.is_empty() {
        call("UntagPolicy", || {
            iam.untag_policy()
                .policy_arn(id)
                .set_tag_keys(Some(tags.remove.clone()))
                .send()
        })
        .await?;
    }
    Ok(applied(id, desired))
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let iam = cx.iam().await?;
    match detach_everywhere(&iam, id).await {
        // Only the listing calls can fail this way (the changes ignore what is gone): the policy is gone.
        Err(e) if e.is_not_found() => return Ok(()),
        other => other?,
    }
    ignore_not_found(
        call("DeletePolicy", || iam.delete_policy().policy_arn(id).send())
            .await
            .map(drop),
    )
    .map(drop)
}

/// Detaches the policy from every role, group and user and deletes its non-default versions: IAM
/// refuses to delete a policy that has either.
async fn detach_everywhere(iam: &Client, arn: &str) -> Result<(), AwsError> {
    let (mut roles, mut groups, mut users) = (Vec::new(), Vec::new(), Vec::new());
    let mut marker: Option<String> = None;
    loop {
        let out = call("ListEntitiesForPolicy", || {
            iam.list_entities_for_policy()
                .policy_arn(arn)
                .set_marker(marker.clone())
                .send()
        })
        .await?;
        roles.extend(
            out.policy_roles()
                .iter()
                .filter_map(|r| r.role_name().map(str::to_string)),
        );
        groups.extend(
            out.policy_groups()
                .iter()
                .filter_map(|g| g.group_name().map(str::to_string)),
        );
        users.extend(
            out.policy_users()
                .iter()
                .filter_map(|u| u.user_name().map(str::to_string)),
        );
        match out.marker() {
            Some(next) if out.is_truncated() => marker = Some(next.to_string()),
            _ => break,
        }
    }
    for role in &roles {
        let detached = call("DetachRolePolicy", || {
            iam.detach_role_policy()
                .role_name(role)
                .policy_arn(arn)
                .send()
        })
        .await;
        ignore_not_found(detached.map(drop))?;
    }
    for group in &groups {
        let detached = call("DetachGroupPolicy", || {
            iam.detach_group_policy()
                .group_name(group)
                .policy_arn(arn)
                .send()
        })
        .await;
        ignore_not_found(detached.map(drop))?;
    }
    for user in &users {
        let detached = call("DetachUserPolicy", || {
            iam.detach_user_policy()
                .user_name(user)
                .policy_arn(arn)
                .send()
        })
        .await;
        ignore_not_found(detached.map(drop))?;
    }
    for version in versions(iam, arn).await? {
        if !version.is_default_version() {
            delete_version(iam, arn, &version).await?;
        }
    }
    Ok(())
}

/// Every version of the policy (`ListPolicyVersions`, all pages).
async fn versions(iam: &Client, arn: &str) -> Result<Vec<PolicyVersion>, AwsError> {
    let mut versions = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = call("ListPolicyVersions", || {
            iam.list_policy_versions()
                .policy_arn(arn)
                .set_marker(marker.clone())
                .send()
        })
        .await?;
        versions.extend(out.versions().iter().cloned());
        match out.marker() {
            Some(next) if out.is_truncated() => marker = Some(next.to_string()),
            _ => return Ok(versions),
        }
    }
}

/// The oldest version that is not the default: by creation time, then by version number (`v3`).
fn oldest_non_default(versions: &[PolicyVersion]) -> Option<&PolicyVersion> {
    versions
        .iter()
        .filter(|v| !v.is_default_version())
        .min_by_key(|v| {
            let created = v.create_date().map(|d| (d.secs(), d.subsec_nanos()));
            let number = v
                .version_id()
                .and_then(|id| id.trim_start_matches('v').parse::<u64>().ok());
            (created, number)
        })
}

async fn delete_version(iam: &Client, arn: &str, version: &PolicyVersion) -> Result<(), AwsError> {
    let Some(version_id) = version.version_id() else {
        return Ok(());
    };
    let deleted = call("DeletePolicyVersion", || {
        iam.delete_policy_version()
            .policy_arn(arn)
            .version_id(version_id)
            .send()
    })
    .await;
    ignore_not_found(deleted.map(drop)).map(drop)
}

fn applied(arn: &str, desired: &Attrs) -> Live {
    Live {
        id: arn.to_string(),
        attrs: applied_attrs(desired, arn, arn),
        address: None,
        lineage: None,
    }
}
