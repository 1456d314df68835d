//! `sso_permission_set`: an IAM Identity Center permission set: the role Identity Center creates in
//! each account it is assigned in, with AWS managed policies, customer managed policy references (by
//! name, resolved in each account), an inline policy, session duration and relay state.
//!
//! The id is the permission set's **ARN**. Names are unique in an instance, so a permission set missing
//! from state is recognised by `name` ([`crate::provider::Identity::Unique`]), and a create whose name
//! is taken fails with the command that imports it. `name` forces a replacement; everything else is
//! changed in place, after which the permission set is provisioned again to every account it is
//! assigned in (`ProvisionPermissionSet`, polled until done), as the console does.
//!
//! Identity Center has no bulk read: `read` is one paginated `ListPermissionSets` per instance, then
//! up to three calls per permission set in state, sent together: its managed policies, and its
//! customer managed references and inline policy when state holds any (Terraform's convention: they
//! are resources of their own there, not read unless managed). A permission set with no customer
//! managed references or no inline policy in state is therefore not watched for one added outside
//! landfall; one in state is read, so a change or removal outside shows as drift. Its description, session
//! duration and relay state (`DescribePermissionSet`, a fourth call) are read outside a refresh and
//! for permission sets being adopted; during a refresh those of permission sets in state are compared
//! with state. Tags are set at creation and changed in place, but not read back (a fifth call):
//! settings and tags changed outside landfall are not shown as drift.

use super::{Instance, instance, instances_to_read, wait};
use crate::aws::{AwsError, call};
use crate::provider::attrs::{ignore_not_found, required, str_or_empty, string_set};
use crate::provider::iam::{document_text, same_document, set_changes, string_list, tag_changes};
use crate::provider::{Attrs, Cx, Live, paginate};
use aws_sdk_ssoadmin::Client;
use aws_sdk_ssoadmin::types::{CustomerManagedPolicyReference, ProvisionTargetType, Tag};
use serde_json::Value;
use std::collections::BTreeSet;

const KIND: &str = "sso_permission_set";

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let ids: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
    let names = cx
        .hints(KIND)
        .and_then(|h| (!h.missing.is_empty()).then(|| h.all_strings("name").unwrap_or_default()));
    let sso = cx.ssoadmin().await?;
    let mut found = Vec::new();
    for inst in instances_to_read(cx, KIND).await? {
        for arn in list(&sso, &inst.arn).await? {
            // Adopting by name needs every permission set's name: each is described.
            if !ids.contains(arn.as_str()) && names.is_none() {
                continue;
            }
            // During a refresh the settings of permission sets in state are compared with state
            // (see the module docs); only those being adopted need them (their name) read.
            let settings = cx.cache.is_none() || !ids.contains(arn.as_str());
            let parts = Parts::to_read(cx, &arn, settings);
            let Some(live) = describe(&sso, &inst, &arn, parts).await? else {
                continue;
            };
            let name = live
                .attrs
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if ids.contains(arn.as_str()) || names.as_ref().is_some_and(|n| n.contains(name)) {
                found.push(live);
            }
        }
    }
    Ok(found)
}

/// Every permission set ARN of an instance.
async fn list(sso: &Client, instance_arn: &str) -> Result<Vec<String>, AwsError> {
    paginate(|token| async move {
        let out = call("ListPermissionSets", || {
            sso.list_permission_sets()
                .instance_arn(instance_arn)
                .set_next_token(token.clone())
                .send()
        })
        .await?;
        Ok((
            out.permission_sets().to_vec(),
            out.next_token().map(str::to_string),
        ))
    })
    .await
}

/// What of one permission set is read (see the module docs).
#[derive(Clone, Copy)]
struct Parts {
    /// Description, session duration, relay state (DescribePermissionSet).
    settings: bool,
    customer: bool,
    inline: bool,
}

impl Parts {
    /// Everything when `settings` (outside a refresh, or a permission set being adopted); else the
    /// sub-configurations state holds for it.
    fn to_read(cx: &Cx<'_>, arn: &str, settings: bool) -> Parts {
        let state = cx
            .hints(KIND)
            .and_then(|h| h.in_state().iter().find(|a| str_or_empty(a, "arn") == arn));
        match state {
            Some(state) if !settings => Parts {
                settings,
                customer: state
                    .get("customer_managed_policies")
                    .and_then(Value::as_array)
                    .is_some_and(|a| !a.is_empty()),
                inline: state.get("inline_policy").is_some_and(|v| !v.is_null()),
            },
            _ => Parts {
                settings: true,
                customer: true,
                inline: true,
            },
        }
    }
}

/// One permission set with its policies (`None`: it does not exist).
async fn describe(
    sso: &Client,
    inst: &Instance,
    arn: &str,
    parts: Parts,
) -> Result<Option<Live>, AwsError> {
    let (i, a) = (inst.arn.as_str(), arn);
    let described = async {
        if !parts.settings {
            return Ok(None);
        }
        let out = call("DescribePermissionSet", || {
            sso.describe_permission_set()
                .instance_arn(i)
                .permission_set_arn(a)
                .send()
        })
        .await?;
        Ok::<_, AwsError>(out.permission_set().cloned())
    };
    let managed = paginate(|token| async move {
        let out = call("ListManagedPoliciesInPermissionSet", || {
            sso.list_managed_policies_in_permission_set()
                .instance_arn(i)
                .permission_set_arn(a)
                .set_next_token(token.clone())
                .send()
        })
        .await?;
        let arns = out
            .attached_managed_policies()
            .iter()
            .filter_map(|p| p.arn());
        Ok((
            arns.map(str::to_string).collect(),
            out.next_token().map(str::to_string),
        ))
    });
    let customer = paginate(|token| async move {
        if !parts.customer {
            return Ok((Vec::new(), None));
        }
        let out = call("ListCustomerManagedPolicyReferencesInPermissionSet", || {
            sso.list_customer_managed_policy_references_in_permission_set()
                .instance_arn(i)
                .permission_set_arn(a)
                .set_next_token(token.clone())
                .send()
        })
        .await?;
        let refs = out
            .customer_managed_policy_references()
            .iter()
            .map(reference_json);
        Ok((
            refs.collect::<Vec<Value>>(),
            out.next_token().map(str::to_string),
        ))
    });
    let inline = async {
        if !parts.inline {
            return Ok(None);
        }
        let out = call("GetInlinePolicyForPermissionSet", || {
            sso.get_inline_policy_for_permission_set()
                .instance_arn(i)
                .permission_set_arn(a)
                .send()
        })
        .await?;
        Ok::<_, AwsError>(Some(out.inline_policy().unwrap_or_default().to_string()))
    };
    let joined = tokio::try_join!(described, managed, customer, inline);
    let Some((described, managed, customer, inline)) = ignore_not_found(joined)? else {
        return Ok(None);
    };
    let mut attrs = Attrs::new();
    if let Some(set) = described {
        let text = |v: Option<&str>| Value::from(v.unwrap_or_default());
        attrs.insert("name".into(), text(set.name()));
        attrs.insert("description".into(), text(set.description()));
        attrs.insert("session_duration".into(), text(set.session_duration()));
        attrs.insert("relay_state".into(), text(set.relay_state()));
    }
    attrs.insert(
        "managed_policy_arns".into(),
        string_list(managed.iter().map(String::as_str)),
    );
    if parts.customer {
        attrs.insert("customer_managed_policies".into(), Value::Array(customer));
    }
    // Reported even when there is none (null), so an inline policy deleted outside shows as drift.
    if let Some(inline) = inline {
        let inline = match inline.as_str() {
            "" => Value::Null,
            text => crate::provider::iam::decode_document(text),
        };
        attrs.insert("inline_policy".into(), inline);
    }
    attrs.insert("id".into(), arn.into());
    attrs.insert("arn".into(), arn.into());
    Ok(Some(Live {
        id: arn.to_string(),
        attrs,
        address: None,
        lineage: None,
    }))
}

/// A customer managed policy reference as the schema writes it: `path` only when it is not `/`.
fn reference_json(r: &CustomerManagedPolicyReference) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("name".into(), r.name().into());
    if let Some(path) = r.path().filter(|p| *p != "/") {
        m.insert("path".into(), path.into());
    }
    Value::Object(m)
}

/// The references an attribute value holds, as (name, path) pairs.
fn references(attrs: &Attrs) -> BTreeSet<(String, String)> {
    attrs
        .get("customer_managed_policies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let name = r.get("name")?.as_str()?.to_string();
            let path = r.get("path").and_then(Value::as_str).unwrap_or("/");
            Some((name, path.to_string()))
        })
        .collect()
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let sso = cx.ssoadmin().await?;
    let inst = instance(cx, desired).await?;
    let name = required(desired, "name", "CreatePermissionSet")?;
    let tags = sdk_tags(cx.creation_tags(address, desired))?;
    let optional = |attr: &str| {
        let v = str_or_empty(desired, attr);
        (!v.is_empty()).then(|| v.to_string())
    };
    let created = call("CreatePermissionSet", || {
        sso.create_permission_set()
            .instance_arn(&inst.arn)
            .name(name)
            .set_description(optional("description"))
            .set_session_duration(optional("session_duration"))
            .set_relay_state(optional("relay_state"))
            .set_tags(Some(tags.clone()))
            .send()
    })
    .await;
    let arn = match created {
        Ok(out) => out
            .permission_set()
            .and_then(|s| s.permission_set_arn())
            .ok_or_else(|| AwsError::other("CreatePermissionSet", "the answer holds no ARN"))?
            .to_string(),
        // The name is taken (by a permission set made outside landfall, or by this create whose
        // answer was lost): the next plan imports it, recognised by its name.
        Err(e) if e.is("ConflictException") => {
            return Err(AwsError {
                message: format!(
                    "{}; a permission set named {name:?} exists: plan again to import it, or choose another name",
                    e.message
                ),
                ..e
            });
        }
        Err(e) => return Err(e),
    };
    sync_policies(&sso, &inst.arn, &arn, &Attrs::new(), desired).await?;
    Ok(applied(&arn, desired))
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    let sso = cx.ssoadmin().await?;
    let inst = instance(cx, desired).await?;
    let settings = ["description", "session_duration", "relay_state"];
    if settings
        .iter()
        .any(|s| str_or_empty(current, s) != str_or_empty(desired, s))
    {
        let value = |attr: &str| Some(str_or_empty(desired, attr).to_string());
        call("UpdatePermissionSet", || {
            sso.update_permission_set()
                .instance_arn(&inst.arn)
                .permission_set_arn(id)
                .set_description(value("description"))
                .set_session_duration(value("session_duration").filter(|v| !v.is_empty()))
                .set_relay_state(value("relay_state"))
                .send()
        })
        .await?;
    }
    sync_policies(&sso, &inst.arn, id, current, desired).await?;
    sync_tags(&sso, &inst.arn, id, current, desired).await?;
    provision(&sso, &inst.arn, id).await?;
    Ok(applied(id, desired))
}

/// Brings managed policies, customer managed references and the inline policy from `current` to
/// `desired`.
async fn sync_policies(
    sso: &Client,
    instance_arn: &str,
    arn: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<(), AwsError> {
    let (i, a) = (instance_arn, arn);
    let managed = set_changes(
        &string_set(current, "managed_policy_arns"),
        &string_set(desired, "managed_policy_arns"),
    );
    for policy in &managed.put {
        call("AttachManagedPolicyToPermissionSet", || {
            sso.attach_managed_policy_to_permission_set()
                .instance_arn(i)
                .permission_set_arn(a)
                .managed_policy_arn(policy)
                .send()
        })
        .await?;
    }
    for policy in &managed.remove {
        ignore_not_found(
            call("DetachManagedPolicyFromPermissionSet", || {
                sso.detach_managed_policy_from_permission_set()
                    .instance_arn(i)
                    .permission_set_arn(a)
                    .managed_policy_arn(policy)
                    .send()
            })
            .await,
        )?;
    }
    sync_references(sso, i, a, current, desired).await?;
    sync_inline(sso, i, a, current, desired).await
}

async fn sync_references(
    sso: &Client,
    i: &str,
    a: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<(), AwsError> {
    let (have, want) = (references(current), references(desired));
    let reference = |(name, path): &(String, String)| {
        CustomerManagedPolicyReference::builder()
            .name(name)
            .path(path)
            .build()
            .map_err(|e| AwsError::other("CustomerManagedPolicyReference", e.to_string()))
    };
    for r in want.difference(&have) {
        let r = reference(r)?;
        call(
            "AttachCustomerManagedPolicyReferenceToPermissionSet",
            || {
                sso.attach_customer_managed_policy_reference_to_permission_set()
                    .instance_arn(i)
                    .permission_set_arn(a)
                    .customer_managed_policy_reference(r.clone())
                    .send()
            },
        )
        .await?;
    }
    for r in have.difference(&want) {
        let r = reference(r)?;
        ignore_not_found(
            call(
                "DetachCustomerManagedPolicyReferenceFromPermissionSet",
                || {
                    sso.detach_customer_managed_policy_reference_from_permission_set()
                        .instance_arn(i)
                        .permission_set_arn(a)
                        .customer_managed_policy_reference(r.clone())
                        .send()
                },
            )
            .await,
        )?;
    }
    Ok(())
}

async fn sync_inline(
    sso: &Client,
    i: &str,
    a: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<(), AwsError> {
    let (old, new) = (
        current.get("inline_policy").unwrap_or(&Value::Null),
        desired.get("inline_policy").unwrap_or(&Value::Null),
    );
    if same_document(old, new) {
        return Ok(());
    }
    if new.is_null() {
        ignore_not_found(
            call("DeleteInlinePolicyFromPermissionSet", || {
                sso.delete_inline_policy_from_permission_set()
                    .instance_arn(i)
                    .permission_set_arn(a)
                    .send()
            })
            .await,
        )?;
        return Ok(());
    }
    let text = document_text(new);
    call("PutInlinePolicyToPermissionSet", || {
        sso.put_inline_policy_to_permission_set()
            .instance_arn(i)
            .permission_set_arn(a)
            .inline_policy(&text)
            .send()
    })
    .await?;
    Ok(())
}

async fn sync_tags(
    sso: &Client,
    i: &str,
    a: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<(), AwsError> {
    let changes = tag_changes(current, desired);
    if !changes.put.is_empty() {
        let tags = sdk_tags(changes.put)?;
        call("TagResource", || {
            sso.tag_resource()
                .instance_arn(i)
                .resource_arn(a)
                .set_tags(Some(tags.clone()))
                .send()
        })
        .await?;
    }
    if !changes.remove.is_empty() {
        call("UntagResource", || {
            sso.untag_resource()
                .instance_arn(i)
                .resource_arn(a)
                .set_tag_keys(Some(changes.remove.clone()))
                .send()
        })
        .await?;
    }
    Ok(())
}

/// Provisions the permission set again in every account it is provisioned to, so the accounts' roles
/// get the change, and waits for it.
async fn provision(sso: &Client, i: &str, a: &str) -> Result<(), AwsError> {
    let out = call("ProvisionPermissionSet", || {
        sso.provision_permission_set()
            .instance_arn(i)
            .permission_set_arn(a)
            .target_type(ProvisionTargetType::AllProvisionedAccounts)
            .send()
    })
    .await?;
    let status = out.permission_set_provisioning_status();
    let request = status.and_then(|s| s.request_id()).unwrap_or_default();
    let first = status.and_then(|s| s.status()).cloned();
    wait(first, "ProvisionPermissionSet", || async {
        let out = call("DescribePermissionSetProvisioningStatus", || {
            sso.describe_permission_set_provisioning_status()
                .instance_arn(i)
                .provision_permission_set_request_id(request)
                .send()
        })
        .await?;
        let s = out.permission_set_provisioning_status();
        Ok((
            s.and_then(|s| s.status()).cloned(),
            s.and_then(|s| s.failure_reason()).map(str::to_string),
        ))
    })
    .await
}

pub async fn delete(cx: &Cx<'_>, id: &str, current: &Attrs) -> Result<(), AwsError> {
    let sso = cx.ssoadmin().await?;
    let inst = instance(cx, current).await?;
    ignore_not_found(
        call("DeletePermissionSet", || {
            sso.delete_permission_set()
                .instance_arn(&inst.arn)
                .permission_set_arn(id)
                .send()
        })
        .await,
    )
    .map(drop)
}

fn sdk_tags(tags: impl IntoIterator<Item = (String, String)>) -> Result<Vec<Tag>, AwsError> {
    tags.into_iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| AwsError::other("Tag", e.to_string()))
        })
        .collect()
}

/// The permission set as it is after a create or update applied `desired`, in `read`'s form.
fn applied(arn: &str, desired: &Attrs) -> Live {
    let mut attrs = crate::provider::iam::applied_attrs(desired, arn, arn);
    let refs: Vec<Value> = references(desired)
        .into_iter()
        .map(|(name, path)| {
            let r = CustomerManagedPolicyReference::builder()
                .name(name)
                .path(path)
                .build();
            r.map(|r| reference_json(&r)).unwrap_or(Value::Null)
        })
        .collect();
    attrs.insert("customer_managed_policies".into(), Value::Array(refs));
    Live {
        id: arn.to_string(),
        attrs,
        address: None,
        lineage: None,
    }
}
