//! A policy attached to a target (the root, an OU or an account). Id: `POLICY_ID/TARGET_ID`, e.g.
//! `p-abcd1234/ou-ab12-cdef3456`.
//!
//! Attachments take no tags, so `read` finds only those in `ids`: one `ListTargetsForPolicy` per
//! distinct policy among them (plus pagination), so a refresh costs O(policies). It needs neither the
//! tree walk nor the policy listings the other kinds share: a target or policy that is gone is simply
//! not among a policy's targets, and `ListPoliciesForTarget` would cost one call per target and type.
//! Both attributes are replacements; `update` has nothing to change. Attaching what is already attached adopts the attachment. Attaching a policy leaves every
//! other attachment alone, including AWS's default `FullAWSAccess` SCP: to restrict a target with an
//! allow-list SCP, detach `FullAWSAccess` outside landfall, or give it a `policy_attachment` of its own
//! (`p-FullAWSAccess`) and remove that.

use super::policy::{is_gone, targets_of};
use super::{required, split_id};
use crate::aws::{AwsError, call};
use crate::provider::{Attrs, Cx, Live};
use std::collections::BTreeMap;

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let client = cx.organizations();
    let mut by_policy: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for id in ids {
        let (policy_id, target_id) = split_id(id, "ListTargetsForPolicy")?;
        by_policy.entry(policy_id).or_default().push(target_id);
    }
    let mut found = Vec::new();
    for (policy_id, wanted) in by_policy {
        let targets = match targets_of(&client, policy_id).await {
            Ok(targets) => targets,
            Err(e) if is_gone(&e) => continue,
            Err(e) => return Err(e),
        };
        for target_id in wanted {
            if targets.iter().any(|t| t == target_id) {
                found.push(live(policy_id, target_id));
            }
        }
    }
    Ok(found)
}

pub async fn create(cx: &Cx<'_>, _address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    const OP: &str = "AttachPolicy";
    let client = cx.organizations();
    let policy_id = required(desired, "policy_id", OP)?;
    let target_id = required(desired, "target_id", OP)?;
    let attached = call(OP, || {
        client
            .attach_policy()
            .policy_id(policy_id)
            .target_id(target_id)
            .send()
    })
    .await;
    match attached {
        Err(e) if e.is("PolicyTypeNotEnabledException") => {
            return Err(AwsError {
                message: format!(
                    "{}; add the policy's type to the organization's enabled_policy_types",
                    e.message
                ),
                ..e
            });
        }
        Err(e) if !e.is("DuplicatePolicyAttachmentException") => return Err(e),
        _ => {}
    }
    Ok(live(policy_id, target_id))
}

pub async fn update(
    _cx: &Cx<'_>,
    id: &str,
    _current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    const OP: &str = "AttachPolicy";
    let (policy_id, target_id) = split_id(id, OP)?;
    if required(desired, "policy_id", OP)? != policy_id
        || required(desired, "target_id", OP)? != target_id
    {
        return Err(AwsError::other(
            OP,
            format!("attachment {id}: a new policy or target is a replacement"),
        ));
    }
    Ok(live(policy_id, target_id))
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    const OP: &str = "DetachPolicy";
    let client = cx.organizations();
    let (policy_id, target_id) = split_id(id, OP)?;
    match call(OP, || {
        client
            .detach_policy()
            .policy_id(policy_id)
            .target_id(target_id)
            .send()
    })
    .await
    {
        Err(e)
            if is_gone(&e)
                || e.is("PolicyNotAttachedException")
                || e.is("TargetNotFoundException") =>
        {
            Ok(())
        }
        other => other.map(|_| ()),
    }
}

fn live(policy_id: &str, target_id: &str) -> Live {
    let id = format!("{policy_id}/{target_id}");
    let mut attrs = Attrs::new();
    attrs.insert("policy_id".into(), policy_id.into());
    attrs.insert("target_id".into(), target_id.into());
    attrs.insert("id".into(), id.clone().into());
    Live {
        id,
        attrs,
        address: None,
        lineage: None,
    }
}
