//! `identitystore_group`: a group of the Identity Store behind IAM Identity Center, to assign
//! permission sets to.
//!
//! The id is the **group id** AWS assigns (a UUID). Groups take no tags, but the Identity Store allows
//! one group per display name, so a group missing from state is recognised by its `display_name`
//! ([`crate::provider::Identity::Unique`]), and a create whose name is taken fails with the command
//! that imports the group instead of making a second one. `read` is one paginated `ListGroups` per
//! Identity Store, whatever the number of groups.
//!
//! `display_name` forces a replacement (assignments follow the new group); `description` is changed
//! in place with `UpdateGroup`.

use super::{instance, instances_to_read};
use crate::aws::{AwsError, call};
use crate::provider::attrs::{ignore_not_found, required, str_or_empty};
use crate::provider::{Attrs, Cx, Live, paginate};
use aws_sdk_identitystore::types::{AttributeOperation, Group};
use aws_smithy_types::Document;
use std::collections::BTreeSet;

const KIND: &str = "identitystore_group";

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let ids: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
    let names = cx.hints(KIND).and_then(|h| h.all_strings("display_name"));
    let store = cx.identitystore().await?;
    let mut found = Vec::new();
    for inst in instances_to_read(cx, KIND).await? {
        let groups = paginate(|token| {
            let (store, id) = (&store, inst.identity_store_id.clone());
            async move {
                let out = call("ListGroups", || {
                    store
                        .list_groups()
                        .identity_store_id(&id)
                        .set_next_token(token.clone())
                        .send()
                })
                .await?;
                Ok((out.groups().to_vec(), out.next_token().map(str::to_string)))
            }
        })
        .await?;
        for group in groups {
            let name = group.display_name().unwrap_or_default();
            let adopt = names.as_ref().is_some_and(|n| n.contains(name));
            if ids.contains(group.group_id()) || adopt {
                found.push(live(&group));
            }
        }
    }
    Ok(found)
}

fn live(group: &Group) -> Live {
    let mut attrs = Attrs::new();
    attrs.insert(
        "display_name".into(),
        group.display_name().unwrap_or_default().into(),
    );
    attrs.insert(
        "description".into(),
        group.description().unwrap_or_default().into(),
    );
    attrs.insert("id".into(), group.group_id().into());
    Live {
        id: group.group_id().to_string(),
        attrs,
        address: None,
        lineage: None,
    }
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let store = cx.identitystore().await?;
    let inst = instance(cx, desired).await?;
    let name = required(desired, "display_name", "CreateGroup")?;
    let description = str_or_empty(desired, "description");
    let created = call("CreateGroup", || {
        store
            .create_group()
            .identity_store_id(&inst.identity_store_id)
            .display_name(name)
            .set_description((!description.is_empty()).then(|| description.to_string()))
            .send()
    })
    .await;
    let id = match created {
        Ok(out) => out.group_id().to_string(),
        // The name is taken: by a group made outside landfall, or by this very create whose answer
        // was lost. Either way the next plan imports it (it is recognised by its name); creating
        // another is not possible.
        Err(e) if e.is("ConflictException") => {
            let existing = group_id(&store, &inst.identity_store_id, name).await?;
            return Err(AwsError {
                message: format!(
                    "{}; a group named {name:?} exists: to manage it, run `landfall import {address} {}`",
                    e.message,
                    existing.as_deref().unwrap_or("GROUP_ID")
                ),
                ..e
            });
        }
        Err(e) => return Err(e),
    };
    let mut attrs = desired.clone();
    attrs.insert("id".into(), id.clone().into());
    Ok(Live {
        id,
        attrs,
        address: None,
        lineage: None,
    })
}

/// The id of the group with this display name, if there is one.
async fn group_id(
    store: &aws_sdk_identitystore::Client,
    identity_store_id: &str,
    name: &str,
) -> Result<Option<String>, AwsError> {
    use aws_sdk_identitystore::types::{AlternateIdentifier, UniqueAttribute};
    let unique = UniqueAttribute::builder()
        .attribute_path("displayName")
        .attribute_value(Document::String(name.to_string()))
        .build()
        .map_err(|e| AwsError::other("GetGroupId", e.to_string()))?;
    let out = ignore_not_found(
        call("GetGroupId", || {
            store
                .get_group_id()
                .identity_store_id(identity_store_id)
                .alternate_identifier(AlternateIdentifier::UniqueAttribute(unique.clone()))
                .send()
        })
        .await,
    )?;
    Ok(out.map(|o| o.group_id().to_string()))
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    let description = str_or_empty(desired, "description");
    if description != str_or_empty(current, "description") {
        let store = cx.identitystore().await?;
        let inst = instance(cx, desired).await?;
        let operation = AttributeOperation::builder()
            .attribute_path("description")
            .attribute_value(Document::String(description.to_string()))
            .build()
            .map_err(|e| AwsError::other("UpdateGroup", e.to_string()))?;
        call("UpdateGroup", || {
            store
                .update_group()
                .identity_store_id(&inst.identity_store_id)
                .group_id(id)
                .operations(operation.clone())
                .send()
        })
        .await?;
    }
    let mut attrs = desired.clone();
    attrs.insert("id".into(), id.into());
    Ok(Live {
        id: id.to_string(),
        attrs,
        address: None,
        lineage: None,
    })
}

pub async fn delete(cx: &Cx<'_>, id: &str, current: &Attrs) -> Result<(), AwsError> {
    let store = cx.identitystore().await?;
    let inst = instance(cx, current).await?;
    ignore_not_found(
        call("DeleteGroup", || {
            store
                .delete_group()
                .identity_store_id(&inst.identity_store_id)
                .group_id(id)
                .send()
        })
        .await,
    )
    .map(drop)
}
