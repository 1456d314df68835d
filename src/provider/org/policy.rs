//! Organization policies (service control, tag, backup, resource control). Id: the policy id (`p-...`).
//!
//! **read**: `DescribePolicy` per policy in `ids` (the document is only in `DescribePolicy`), plus, for
//! adoption, one `ListPolicies` per policy type (once per refresh, [`cached_policies`]) and the tags of
//! each customer-managed policy not in `ids` (a `DescribePolicy` follows for those carrying a
//! `landfall:address` tag). During a refresh the adoption search covers only the types of configured
//! policies missing from state ([`Cx::hints`]), so a steady-state refresh makes no `ListPolicies`. The tags of policies in `ids` are read too outside a refresh (`import`);
//! during a refresh they are compared against state instead (the trade-off is in [`super`]).
//! Organizations hold tens of policies, not thousands, so this is cheap.
//! `content` is returned as the JSON text AWS holds; the engine compares it through
//! [`crate::provider::doc::canonical`].
//!
//! **create** sends the document as JSON text (a JSON value in the configuration is serialized; JSON
//! text is checked to parse, since a malformed document is something AWS rejects but the local
//! emulator accepts). **update** changes name, description and content in place (`UpdatePolicy`) and
//! syncs tags from what AWS holds to the configuration; a new `type` is a replacement. **delete** detaches the policy from every target
//! (`ListTargetsForPolicy`) and then deletes it.
//!
//! The AWS-managed policies, above all `FullAWSAccess` (the SCP AWS attaches to the root, every OU and
//! every account), are never read, adopted, detached or deleted here: landfall leaves them alone.
//! Attaching or detaching one explicitly is a `policy_attachment` naming its id (`p-FullAWSAccess`).

use super::{
    NOT_IN_USE, created_here, has_address, live_untagged, live_with_tags, refreshing, required,
    sdk_tags, str_attr, sync_tags, tags_of,
};
use crate::aws::{AwsError, Created, call, call_create};
use crate::provider::doc::canonical;
use crate::provider::{Attrs, Cx, Live};
use aws_sdk_organizations::Client;
use aws_sdk_organizations::types::{Policy, PolicyType};
use serde_json::Value;
use std::sync::Arc;

/// The policy types the schema offers; adoption lists each.
const POLICY_TYPES: [&str; 4] = [
    "SERVICE_CONTROL_POLICY",
    "TAG_POLICY",
    "BACKUP_POLICY",
    "RESOURCE_CONTROL_POLICY",
];

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let client = cx.organizations();
    let mut found = Vec::new();
    // One read per policy, all in flight at once.
    let reads = futures_util::future::join_all(ids.iter().map(|id| {
        let client = &client;
        async move {
            if refreshing(cx) {
                describe(client, id)
                    .await
                    .and_then(|policy| live_of(&policy, None))
            } else {
                read_one(client, id).await
            }
        }
    }))
    .await;
    for read in reads {
        match read {
            Ok(live) => found.push(live),
            Err(e) if is_gone(&e) => {}
            Err(e) => return Err(e),
        }
    }
    for policy_type in types_to_adopt(cx) {
        let listed = match cached_policies(cx, policy_type).await {
            Ok(listed) => listed,
            Err(e) if e.is(NOT_IN_USE) => return Ok(found),
            Err(e) => return Err(e),
        };
        for id in listed.iter() {
            if ids.contains(id) {
                continue;
            }
            let tags = tags_of(&client, id).await?;
            if has_address(&tags) {
                found.push(live(&describe(&client, id).await?, tags)?);
            }
        }
    }
    Ok(found)
}

/// The policy types `read` lists to find adoption candidates: every type outside a refresh; during one,
/// the types of configured policies missing from state (none in a steady state).
fn types_to_adopt(cx: &Cx<'_>) -> Vec<&'static str> {
    let Some(hints) = cx.hints("policy") else {
        return POLICY_TYPES.to_vec();
    };
    let mut types = Vec::new();
    for missing in &hints.missing {
        let known = missing
            .get("type")
            .and_then(Value::as_str)
            .and_then(|t| POLICY_TYPES.iter().find(|p| **p == t));
        match known {
            Some(t) if !types.contains(t) => types.push(*t),
            Some(_) => {}
            None => return POLICY_TYPES.to_vec(),
        }
    }
    types
}

/// The ids of the customer-managed policies of one type ([`list_policies`]), listed once per refresh.
pub(crate) async fn cached_policies(
    cx: &Cx<'_>,
    policy_type: &str,
) -> Result<Arc<Vec<String>>, AwsError> {
    let client = cx.organizations();
    cx.cached(
        &format!("organizations:policies:{policy_type}"),
        || async move { list_policies(&client, policy_type).await },
    )
    .await
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    const OP: &str = "CreatePolicy";
    let client = cx.organizations();
    let name = required(desired, "name", OP)?;
    let description = str_attr(desired, "description").unwrap_or_default();
    let policy_type = str_attr(desired, "type").unwrap_or("SERVICE_CONTROL_POLICY");
    let content = content_text(desired, OP)?;
    let tags = cx.creation_tags(address, desired);
    let sdk_tags = sdk_tags(tags.clone(), OP)?;
    let outcome = call_create(
        OP,
        || {
            client
                .create_policy()
                .name(name)
                .description(description)
                .r#type(PolicyType::from(policy_type))
                .content(&content)
                .set_tags(Some(sdk_tags.clone()))
                .send()
        },
        || async {
            for id in list_policies(&client, policy_type).await? {
                if created_here(&client, cx, &id, address).await?.is_some() {
                    return Ok(Some(describe(&client, &id).await?));
                }
            }
            Ok(None)
        },
    )
    .await?;
    let policy = match outcome {
        Created::Sent(out) => out.policy().cloned(),
        Created::Found(policy) => Some(policy),
    };
    let policy = &policy.ok_or_else(|| AwsError::other(OP, "AWS returned no policy"))?;
    live(policy, tags)
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    const OP: &str = "UpdatePolicy";
    let client = cx.organizations();
    if str_attr(current, "type") != str_attr(desired, "type") {
        return Err(AwsError::other(
            OP,
            format!("policy {id}: AWS cannot change a policy's type; it must be replaced"),
        ));
    }
    let changed = |attr: &str| str_attr(current, attr) != str_attr(desired, attr);
    let name = changed("name").then(|| str_attr(desired, "name")).flatten();
    let description = changed("description")
        .then(|| str_attr(desired, "description"))
        .flatten();
    let content = match (current.get("content"), desired.get("content")) {
        (Some(was), Some(wants)) if canonical(was) == canonical(wants) => None,
        _ => Some(content_text(desired, OP)?),
    };
    if name.is_some() || description.is_some() || content.is_some() {
        call(OP, || {
            client
                .update_policy()
                .policy_id(id)
                .set_name(name.map(str::to_string))
                .set_description(description.map(str::to_string))
                .set_content(content.clone())
                .send()
        })
        .await?;
    }
    sync_tags(&client, id, desired).await?;
    read_one(&client, id).await
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let client = cx.organizations();
    let targets = match targets_of(&client, id).await {
        Ok(targets) => targets,
        Err(e) if is_gone(&e) => return Ok(()),
        Err(e) => return Err(e),
    };
    for target in targets {
        let detached = call("DetachPolicy", || {
            client
                .detach_policy()
                .policy_id(id)
                .target_id(&target)
                .send()
        })
        .await;
        match detached {
            Err(e) if !e.is("PolicyNotAttachedException") && !e.is("TargetNotFoundException") => {
                return Err(e);
            }
            _ => {}
        }
    }
    match call("DeletePolicy", || {
        client.delete_policy().policy_id(id).send()
    })
    .await
    {
        Err(e) if is_gone(&e) => Ok(()),
        other => other.map(|_| ()),
    }
}

/// The ids of the roots, OUs and accounts a policy is attached to, paginated.
pub(crate) async fn targets_of(client: &Client, policy_id: &str) -> Result<Vec<String>, AwsError> {
    let mut targets = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = call("ListTargetsForPolicy", || {
            client
                .list_targets_for_policy()
                .policy_id(policy_id)
                .set_next_token(token.clone())
                .send()
        })
        .await?;
        targets.extend(
            out.targets()
                .iter()
                .filter_map(|t| t.target_id())
                .map(str::to_string),
        );
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(targets);
        }
    }
}

/// Errors meaning the policy (or the organization) no longer exists.
pub(crate) fn is_gone(e: &AwsError) -> bool {
    e.is("PolicyNotFoundException") || e.is(NOT_IN_USE)
}

/// The ids of the customer-managed policies of one type, paginated.
async fn list_policies(client: &Client, policy_type: &str) -> Result<Vec<String>, AwsError> {
    let mut ids = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = call("ListPolicies", || {
            client
                .list_policies()
                .filter(PolicyType::from(policy_type))
                .set_next_token(token.clone())
                .send()
        })
        .await?;
        ids.extend(
            out.policies()
                .iter()
                .filter(|p| !p.aws_managed())
                .filter_map(|p| p.id())
                .map(str::to_string),
        );
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(ids);
        }
    }
}

async fn describe(client: &Client, id: &str) -> Result<Policy, AwsError> {
    let out = call("DescribePolicy", || {
        client.describe_policy().policy_id(id).send()
    })
    .await?;
    out.policy()
        .cloned()
        .ok_or_else(|| AwsError::other("DescribePolicy", format!("policy {id} not returned")))
}

async fn read_one(client: &Client, id: &str) -> Result<Live, AwsError> {
    let policy = describe(client, id).await?;
    let tags = tags_of(client, id).await?;
    live(&policy, tags)
}

/// The desired document as JSON text, checked to be JSON.
fn content_text(desired: &Attrs, op: &str) -> Result<String, AwsError> {
    let malformed = |why: String| AwsError {
        code: Some("MalformedPolicyDocumentException".into()),
        ..AwsError::other(op, why)
    };
    match desired.get("content") {
        Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
            Ok(_) => Ok(text.clone()),
            Err(e) => Err(malformed(format!(
                "the policy document is not valid JSON: {e}"
            ))),
        },
        Some(value @ Value::Object(_)) => serde_json::to_string(value)
            .map_err(|e| malformed(format!("the policy document cannot be serialized: {e}"))),
        Some(_) => Err(malformed(
            "the policy document must be a JSON object".into(),
        )),
        None => Err(malformed("the attribute `content` is missing".into())),
    }
}

fn live(policy: &Policy, tags: Vec<(String, String)>) -> Result<Live, AwsError> {
    live_of(policy, Some(tags))
}

/// A policy as read; with `tags: None` (not read), `tags` is left out of its attributes.
fn live_of(policy: &Policy, tags: Option<Vec<(String, String)>>) -> Result<Live, AwsError> {
    let summary = policy
        .policy_summary()
        .ok_or_else(|| AwsError::other("DescribePolicy", "the policy has no summary"))?;
    let id = summary
        .id()
        .ok_or_else(|| AwsError::other("DescribePolicy", "the policy has no id"))?
        .to_string();
    let mut attrs = Attrs::new();
    attrs.insert("name".into(), summary.name().unwrap_or_default().into());
    attrs.insert(
        "description".into(),
        summary.description().unwrap_or_default().into(),
    );
    attrs.insert(
        "type".into(),
        summary
            .r#type()
            .map(|t| t.as_str())
            .unwrap_or_default()
            .into(),
    );
    attrs.insert(
        "content".into(),
        policy.content().unwrap_or_default().into(),
    );
    attrs.insert("id".into(), id.clone().into());
    attrs.insert("arn".into(), summary.arn().unwrap_or_default().into());
    Ok(match tags {
        Some(tags) => live_with_tags(id, attrs, tags),
        None => live_untagged(id, attrs),
    })
}
