//! `iam_role`: a role with its trust policy, settings, permissions boundary, exclusive managed policy
//! attachments, exclusive inline policies and tags.
//!
//! The id is the role's **name** (every role API takes the name; the ARN is reported as `arn`).
//!
//! `read` costs a constant number of calls per account, however many roles there are:
//! `GetAccountAuthorizationDetails` filtered to roles (trust policy, attachments, inline policies,
//! boundary, tags; all pages) and, when any role is reported, `ListRoles` (all pages) for the two
//! settings the former leaves out, `description` and `max_session_duration`. During a refresh the
//! authorization details are shared with `iam_group` and `iam_policy` (see [`super::account_details`]),
//! so they cost one listing per account for the three kinds, and `ListRoles` is sent only when a role
//! is being adopted: the description and maximum session duration of roles in state are compared
//! against state, not AWS. That keeps a refresh at one IAM listing per account; the trade-off is that
//! **a description or maximum session duration changed outside landfall is not shown as drift** (an
//! `import`, or any update of the role, reads them). A role reported without those two attributes has
//! them compared against state. Role tags come with the authorization details, so
//! adoption by the `landfall:address` tag needs no further call.
//!
//! `path` and `name` force a replacement; everything else is changed in place.

use super::{
    Principal, account_details, applied_attrs, decode_document, document_text, ignore_not_found,
    inline_policies, int_attr, non_empty, object, same_document, sdk_tags, str_or_empty,
    string_list, tag_changes, tag_pairs, take_over, wanted,
};
use crate::aws::{AwsError, call};
use crate::provider::{Attrs, Cx, Live};
use aws_sdk_iam::Client;
use aws_sdk_iam::types::EntityType;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};

const DEFAULT_MAX_SESSION: i32 = 3600;

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let iam = cx.iam().await?;
    let ids: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
    let details = account_details(cx, &iam, EntityType::Role).await?;

    let mut found = Vec::new();
    for role in &details.roles {
        let (Some(name), Some(arn)) = (role.role_name(), role.arn()) else {
            continue;
        };
        let (tags, address, lineage) = Live::split_tags(tag_pairs(role.tags()));
        if !wanted(&ids, name, address.as_deref()) {
            continue;
        }
        let mut attrs = object(json!({
            "name": name,
            "path": role.path().unwrap_or("/"),
            "permissions_boundary": role
                .permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn())
                .unwrap_or_default(),
            "managed_policy_arns": string_list(
                role.attached_managed_policies().iter().filter_map(|p| p.policy_arn()),
            ),
            "inline_policies": inline_policies(
                role.role_policy_list().iter().map(|p| (p.policy_name(), p.policy_document())),
            ),
            "tags": tags,
            "id": name,
            "arn": arn,
        }));
        if let Some(trust) = role.assume_role_policy_document() {
            attrs.insert("assume_role_policy".into(), decode_document(trust));
        }
        found.push(Live {
            id: name.to_string(),
            attrs,
            address,
            lineage,
        });
    }

    // During a refresh, the settings of roles in state are compared against state (see the module
    // docs); only adopted roles need them read.
    let need_settings = if cx.cache.is_some() {
        found.iter().any(|live| !ids.contains(live.id.as_str()))
    } else {
        !found.is_empty()
    };
    if need_settings {
        let settings = cx.cached("iam:ListRoles", || role_settings(&iam)).await?;
        for live in &mut found {
            if let Some((description, max_session)) = settings.get(&live.id) {
                live.attrs
                    .insert("description".into(), description.clone().into());
                live.attrs
                    .insert("max_session_duration".into(), (*max_session).into());
            }
        }
    }
    Ok(found)
}

/// Description and maximum session duration of every role, by name (`ListRoles`, all pages).
async fn role_settings(iam: &Client) -> Result<HashMap<String, (String, i32)>, AwsError> {
    let mut settings = HashMap::new();
    let mut marker: Option<String> = None;
    loop {
        let out = call("ListRoles", || {
            iam.list_roles().set_marker(marker.clone()).send()
        })
        .await?;
        for role in out.roles() {
            settings.insert(
                role.role_name().to_string(),
                (
                    role.description().unwrap_or_default().to_string(),
                    role.max_session_duration().unwrap_or(DEFAULT_MAX_SESSION),
                ),
            );
        }
        match out.marker() {
            Some(next) if out.is_truncated() => marker = Some(next.to_string()),
            _ => return Ok(settings),
        }
    }
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let iam = cx.iam().await?;
    let name = str_or_empty(desired, "name");
    let path = non_empty(str_or_empty(desired, "path")).unwrap_or("/");
    let trust = desired
        .get("assume_role_policy")
        .map(document_text)
        .unwrap_or_default();
    let tags = sdk_tags(cx.creation_tags(address, desired), "CreateRole")?;
    let created = call("CreateRole", || {
        iam.create_role()
            .role_name(name)
            .path(path)
            .assume_role_policy_document(&trust)
            .set_description(non_empty(str_or_empty(desired, "description")).map(str::to_string))
            .set_max_session_duration(int_attr(desired, "max_session_duration"))
            .set_permissions_boundary(
                non_empty(str_or_empty(desired, "permissions_boundary")).map(str::to_string),
            )
            .set_tags(Some(tags.clone()))
            .send()
    })
    .await;
    let arn = match created {
        Ok(out) => out.role().map(|r| r.arn().to_string()).unwrap_or_default(),
        // A retry after an answer that was lost on its way back (AWS did create the role): the
        // role is landfall's if it carries this address and lineage. Anyone else's is an error.
        Err(e) if e.is("EntityAlreadyExists") => {
            let out = call("GetRole", || iam.get_role().role_name(name).send()).await?;
            let role = out
                .role()
                .ok_or_else(|| AwsError::other("GetRole", "no role"))?;
            take_over(e, tag_pairs(role.tags()), cx, address, "role", name)?;
            role.arn().to_string()
        }
        Err(e) => return Err(e),
    };

    Principal::Role(name)
        .sync_permissions(&iam, &Attrs::new(), desired)
        .await?;
    Ok(Live {
        address: Some(address.to_string()),
        lineage: Some(cx.lineage.to_string()),
        ..applied(name, &arn, desired)
    })
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    let iam = cx.iam().await?;

    let trust = desired.get("assume_role_policy").unwrap_or(&Value::Null);
    let old_trust = current.get("assume_role_policy").unwrap_or(&Value::Null);
    if !same_document(old_trust, trust) {
        let text = document_text(trust);
        call("UpdateAssumeRolePolicy", || {
            iam.update_assume_role_policy()
                .role_name(id)
                .policy_document(&text)
                .send()
        })
        .await?;
    }

    let description = str_or_empty(desired, "description");
    let max_session = int_attr(desired, "max_session_duration");
    if description != str_or_empty(current, "description")
        || max_session != int_attr(current, "max_session_duration")
    {
        call("UpdateRole", || {
            iam.update_role()
                .role_name(id)
                .description(description)
                .set_max_session_duration(max_session)
                .send()
        })
        .await?;
    }

    let boundary = str_or_empty(desired, "permissions_boundary");
    if boundary != str_or_empty(current, "permissions_boundary") {
        if boundary.is_empty() {
            ignore_not_found(
                call("DeleteRolePermissionsBoundary", || {
                    iam.delete_role_permissions_boundary().role_name(id).send()
                })
                .await
                .map(drop),
            )?;
        } else {
            call("PutRolePermissionsBoundary", || {
                iam.put_role_permissions_boundary()
                    .role_name(id)
                    .permissions_boundary(boundary)
                    .send()
            })
            .await?;
        }
    }

    let tags = tag_changes(current, desired);
    if !tags.put.is_empty() {
        let put = sdk_tags(tags.put, "TagRole")?;
        call("TagRole", || {
            iam.tag_role()
                .role_name(id)
                .set_tags(Some(put.clone()))
                .send()
        })
        .await?;
    }
    if !tags.remove.is_empty() {
        call("UntagRole", || {
            iam.untag_role()
                .role_name(id)
                .set_tag_keys(Some(tags.remove.clone()))
                .send()
        })
        .await?;
    }

    Principal::Role(id)
        .sync_permissions(&iam, current, desired)
        .await?;
    Ok(applied(id, str_or_empty(current, "arn"), desired))
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let iam = cx.iam().await?;
    match detach_everything(&iam, id).await {
        // Only the listing calls can fail this way (the changes ignore what is gone): the role is gone.
        Err(e) if e.is_not_found() => return Ok(()),
        other => other?,
    }
    ignore_not_found(
        call("DeleteRole", || iam.delete_role().role_name(id).send())
            .await
            .map(drop),
    )
    .map(drop)
}

/// Removes the role from its instance profiles and strips its policies: IAM refuses to delete a role
/// that still has any of them.
async fn detach_everything(iam: &Client, name: &str) -> Result<(), AwsError> {
    // All pages first: removing the role while paging would shift the pages.
    let mut profiles = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = call("ListInstanceProfilesForRole", || {
            iam.list_instance_profiles_for_role()
                .role_name(name)
                .set_marker(marker.clone())
                .send()
        })
        .await?;
        let page = out.instance_profiles().iter();
        profiles.extend(page.map(|p| p.instance_profile_name().to_string()));
        match out.marker() {
            Some(next) if out.is_truncated() => marker = Some(next.to_string()),
            _ => break,
        }
    }
    for profile in &profiles {
        ignore_not_found(
            call("RemoveRoleFromInstanceProfile", || {
                iam.remove_role_from_instance_profile()
                    .instance_profile_name(profile)
                    .role_name(name)
                    .send()
            })
            .await
            .map(drop),
        )?;
    }
    Principal::Role(name).strip_permissions(iam).await
}

/// The role as it is after a create or update applied `desired` (no need to read it back).
fn applied(name: &str, arn: &str, desired: &Attrs) -> Live {
    let mut attrs = applied_attrs(desired, name, arn);
    let max_session = int_attr(desired, "max_session_duration").unwrap_or(DEFAULT_MAX_SESSION);
    attrs.insert("max_session_duration".into(), max_session.into());
    Live {
        id: name.to_string(),
        attrs,
        address: None,
        lineage: None,
    }
}
