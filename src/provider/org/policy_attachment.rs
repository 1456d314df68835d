//! A policy attached to a target (the root, an OU or an account). Id: `POLICY_ID/TARGET_ID`, e.g.
//! `p-abcd1234/ou-ab12-cdef3456`.
//!
//! Attachments take no tags, so `read` finds only those in `ids`, through few listings chosen to
//! cover them all ([`cover`]): `ListTargetsForPolicy` for a policy attached to many targets,
//! `ListPoliciesForTarget` (per target and policy type; the type comes from state's record of the
//! policy) for a target holding many policies, such as the root. A refresh costs at most one call per
//! distinct policy, often fewer. A target or policy that is gone simply lists nothing.
//! Both attributes are replacements; `update` has nothing to change. Attaching what is already attached adopts the attachment. Attaching a policy leaves every
//! other attachment alone, including AWS's default `FullAWSAccess` SCP: to restrict a target with an
//! allow-list SCP, detach `FullAWSAccess` outside landfall, or give it a `policy_attachment` of its own
//! (`p-FullAWSAccess`) and remove that.

use super::policy::{is_gone, targets_of};
use super::{refreshing, required, split_id, str_attr};
use crate::aws::{AwsError, call};
use crate::provider::{Attrs, Cx, Live, paginate};
use aws_sdk_organizations::Client;
use aws_sdk_organizations::types::PolicyType;
use std::collections::HashMap;

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let client = cx.organizations();
    let mut pairs = Vec::new();
    for id in ids {
        let (policy_id, target_id) = split_id(id, "ListTargetsForPolicy")?;
        pairs.push((policy_id, target_id));
    }
    let types = policy_types(cx);
    let mut found = Vec::new();
    // Every listing in flight at once.
    let listings =
        futures_util::future::join_all(cover(&pairs, &types).into_iter().map(|listing| {
            let client = &client;
            async move {
                match listing {
                    Listing::TargetsOf(policy_id) => {
                        targets_of(client, policy_id).await.map(|targets| {
                            targets
                                .into_iter()
                                .map(|t| (policy_id.to_string(), t))
                                .collect()
                        })
                    }
                    Listing::PoliciesOf(target_id, policy_type) => {
                        policies_of(client, target_id, policy_type)
                            .await
                            .map(|policies| {
                                policies
                                    .into_iter()
                                    .map(|p| (p, target_id.to_string()))
                                    .collect::<Vec<_>>()
                            })
                    }
                }
            }
        }))
        .await;
    for listed in listings {
        let listed: Vec<(String, String)> = match listed {
            Ok(listed) => listed,
            Err(e) if is_gone(&e) || target_gone(&e) => continue,
            Err(e) => return Err(e),
        };
        for (policy_id, target_id) in listed {
            let id = format!("{policy_id}/{target_id}");
            let wanted = ids.contains(&id);
            if wanted && !found.iter().any(|l: &Live| l.id == id) {
                found.push(live(&policy_id, &target_id));
            }
        }
    }
    Ok(found)
}

/// One listing that reveals attachments: a policy's targets, or a target's policies of one type.
#[derive(Debug, PartialEq)]
enum Listing<'a> {
    TargetsOf(&'a str),
    PoliciesOf(&'a str, &'a str),
}

/// The policy type of each policy state knows (from the refresh's hints on `policy`), and of AWS's
/// `FullAWSAccess` SCP; empty outside a refresh.
fn policy_types(cx: &Cx<'_>) -> HashMap<String, String> {
    if !refreshing(cx) {
        return HashMap::new();
    }
    let mut types: HashMap<String, String> = cx
        .hints("policy")
        .map(|h| {
            h.in_state()
                .iter()
                .filter_map(|a| Some((str_attr(a, "id")?.into(), str_attr(a, "type")?.into())))
                .collect()
        })
        .unwrap_or_default();
    types.insert("p-FullAWSAccess".into(), "SERVICE_CONTROL_POLICY".into());
    types
}

/// Few listings that between them show every attachment in `pairs`: each attachment is seen from its
/// policy (`ListTargetsForPolicy`) or from its target (`ListPoliciesForTarget`, one per target and
/// policy type, so only for policies whose type is known). Greedy: the listing that shows the most
/// attachments not yet covered goes first, a policy's on ties. Three SCPs on the root and one SCP on
/// five OUs cost two listings, where listing by policy alone costs four and by target alone six.
fn cover<'a>(pairs: &[(&'a str, &'a str)], types: &'a HashMap<String, String>) -> Vec<Listing<'a>> {
    let mut left: Vec<(&str, &str)> = pairs.to_vec();
    let mut listings = Vec::new();
    while !left.is_empty() {
        let mut best: Option<(usize, Listing)> = None;
        for &(policy_id, target_id) in &left {
            let by_policy = left.iter().filter(|(p, _)| *p == policy_id).count();
            if best.as_ref().is_none_or(|(n, _)| by_policy > *n) {
                best = Some((by_policy, Listing::TargetsOf(policy_id)));
            }
            if let Some(policy_type) = types.get(policy_id) {
                let by_target = left
                    .iter()
                    .filter(|(p, t)| *t == target_id && types.get(*p) == Some(policy_type))
                    .count();
                if best.as_ref().is_none_or(|(n, _)| by_target > *n) {
                    best = Some((by_target, Listing::PoliciesOf(target_id, policy_type)));
                }
            }
        }
        let Some((_, listing)) = best else { break };
        left.retain(|&(p, t)| match listing {
            Listing::TargetsOf(policy_id) => p != policy_id,
            Listing::PoliciesOf(target_id, policy_type) => {
                !(t == target_id && types.get(p).map(String::as_str) == Some(policy_type))
            }
        });
        listings.push(listing);
    }
    listings
}

/// Errors meaning the target (root, OU or account) no longer exists.
fn target_gone(e: &AwsError) -> bool {
    e.is("TargetNotFoundException")
        || e.is("OrganizationalUnitNotFoundException")
        || e.is("AccountNotFoundException")
}

/// The ids of the policies of one type attached to a target, paginated.
async fn policies_of(
    client: &Client,
    target_id: &str,
    policy_type: &str,
) -> Result<Vec<String>, AwsError> {
    paginate(|token| async move {
        let out = call("ListPoliciesForTarget", || {
            client
                .list_policies_for_target()
                .target_id(target_id)
                .filter(PolicyType::from(policy_type))
                .set_next_token(token.clone())
                .send()
        })
        .await?;
        let ids = out
            .policies()
            .iter()
            .filter_map(|p| p.id())
            .map(str::to_string);
        Ok((ids.collect(), out.next_token().map(str::to_string)))
    })
    .await
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cover_lists_from_whichever_side_shows_more() {
        let types: HashMap<String, String> = [
            ("p-a", "SERVICE_CONTROL_POLICY"),
            ("p-b", "SERVICE_CONTROL_POLICY"),
            ("p-c", "SERVICE_CONTROL_POLICY"),
            ("p-tag", "TAG_POLICY"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        // Two SCPs and a tag policy on the root, one SCP on three OUs, one policy of unknown type.
        let pairs = [
            ("p-a", "r-1"),
            ("p-b", "r-1"),
            ("p-tag", "r-1"),
            ("p-c", "ou-1"),
            ("p-c", "ou-2"),
            ("p-c", "ou-3"),
            ("p-unknown", "ou-9"),
        ];
        let listings = cover(&pairs, &types);
        assert_eq!(
            listings,
            vec![
                Listing::TargetsOf("p-c"),
                Listing::PoliciesOf("r-1", "SERVICE_CONTROL_POLICY"),
                Listing::TargetsOf("p-tag"),
                Listing::TargetsOf("p-unknown"),
            ]
        );
        // Without types (outside a refresh) every policy is listed once.
        assert_eq!(cover(&pairs, &HashMap::new()).len(), 5);
    }
}
