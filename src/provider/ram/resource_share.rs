//! `ram_resource_share`: a resource share with its principals and resources, both exclusive.
//!
//! Read costs three calls per account and region, however many shares there are: GetResourceShares
//! (owned by the account, all pages) and GetResourceShareAssociations once for the principals and once
//! for the resources of every owned share. Shares deleted or being deleted are left out, and so are
//! associations that are not (being) made. The id is the share's ARN.
//!
//! The name and `allow_external_principals` change in place (UpdateResourceShare), principals and
//! resources by AssociateResourceShare/DisassociateResourceShare, tags by TagResource/UntagResource.
//! Sharing with the organization or its OUs needs RAM's sharing with AWS Organizations turned on:
//! create and update turn it on (EnableSharingWithAwsOrganization, from the management account, which
//! answers at once when it is on already) before associating an organization or OU principal.
//!
//! CreateResourceShare is idempotent under its client token, so a create whose answer was lost is sent
//! again with the same token and returns the same share. A share answered without any tags at all
//! cannot be one landfall created (it sets its address tag): its tags are compared against state.

use crate::aws::{AwsError, call};
use crate::provider::attrs::{
    LandfallTags, client_token, ignore_not_found, required, string_set, tag_map,
};
use crate::provider::ec2::{bool_attr, paginate};
use crate::provider::{Attrs, Cx, Live};
use aws_sdk_ram::Client;
use aws_sdk_ram::types::{
    ResourceOwner, ResourceShare, ResourceShareAssociationStatus as AssocStatus,
    ResourceShareAssociationType as AssocType, ResourceShareStatus, Tag,
};
use std::collections::{BTreeMap, BTreeSet, HashSet};

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let ram = cx.ram().await?;
    let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let shares = owned_shares(&ram).await?;
    let ours: Vec<&ResourceShare> = shares
        .iter()
        .filter(|s| {
            let arn = s.resource_share_arn().unwrap_or_default();
            wanted.contains(arn)
                || s.tags()
                    .iter()
                    .any(|t| t.key() == Some(crate::provider::ADDRESS_TAG))
        })
        .collect();
    if ours.is_empty() {
        return Ok(Vec::new());
    }
    let principals = associations(&ram, AssocType::Principal).await?;
    let resources = associations(&ram, AssocType::Resource).await?;
    Ok(ours
        .into_iter()
        .map(|s| to_live(s, &principals, &resources))
        .collect())
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let op = "CreateResourceShare";
    let ram = cx.ram().await?;
    let name = required(desired, "name", op)?;
    let principals = string_set(desired, "principals");
    let resources = string_set(desired, "resource_arns");
    let tags = cx.creation_tags(address, desired);
    enable_organization_sharing(cx, &principals).await?;
    let token = client_token();
    let out = call(op, || {
        ram.create_resource_share()
            .name(name)
            .allow_external_principals(bool_attr(desired, "allow_external_principals", false))
            .set_principals(Some(principals.iter().cloned().collect()))
            .set_resource_arns(Some(resources.iter().cloned().collect()))
            .set_tags(Some(sdk_tags(&tags)))
            .client_token(&token)
            .send()
    })
    .await?;
    let share = out
        .resource_share()
        .ok_or_else(|| AwsError::other(op, "the response holds no resource share"))?;
    let arn = share
        .resource_share_arn()
        .ok_or_else(|| AwsError::other(op, "the response holds no resource share ARN"))?;
    let (user_tags, address, lineage) = Live::split_tags(tags);
    let mut attrs = base_attrs(share);
    attrs.insert("principals".into(), principals.into_iter().collect());
    attrs.insert("resource_arns".into(), resources.into_iter().collect());
    attrs.insert("tags".into(), user_tags);
    Ok(Live {
        id: arn.to_string(),
        attrs,
        address,
        lineage,
    })
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    let ram = cx.ram().await?;
    let name = required(desired, "name", "UpdateResourceShare")?;
    let external = bool_attr(desired, "allow_external_principals", false);
    if current.get("name") != desired.get("name")
        || bool_attr(current, "allow_external_principals", false) != external
    {
        call("UpdateResourceShare", || {
            ram.update_resource_share()
                .resource_share_arn(id)
                .name(name)
                .allow_external_principals(external)
                .send()
        })
        .await?;
    }
    update_tags(&ram, id, current, desired).await?;
    let diff = |attr: &str| {
        let (have, want) = (string_set(current, attr), string_set(desired, attr));
        let add: Vec<String> = want.difference(&have).cloned().collect();
        let remove: Vec<String> = have.difference(&want).cloned().collect();
        (add, remove)
    };
    let (add_principals, remove_principals) = diff("principals");
    let (add_resources, remove_resources) = diff("resource_arns");
    enable_organization_sharing(cx, &add_principals.iter().cloned().collect()).await?;
    if !add_principals.is_empty() || !add_resources.is_empty() {
        call("AssociateResourceShare", || {
            ram.associate_resource_share()
                .resource_share_arn(id)
                .set_principals(Some(add_principals.clone()))
                .set_resource_arns(Some(add_resources.clone()))
                .send()
        })
        .await?;
    }
    if !remove_principals.is_empty() || !remove_resources.is_empty() {
        call("DisassociateResourceShare", || {
            ram.disassociate_resource_share()
                .resource_share_arn(id)
                .set_principals(Some(remove_principals.clone()))
                .set_resource_arns(Some(remove_resources.clone()))
                .send()
        })
        .await?;
    }
    let mut attrs = current.clone();
    for attr in [
        "name",
        "allow_external_principals",
        "principals",
        "resource_arns",
        "tags",
    ] {
        if let Some(v) = desired.get(attr) {
            attrs.insert(attr.into(), v.clone());
        }
    }
    Ok(Live {
        id: id.to_string(),
        attrs,
        address: None,
        lineage: None,
    })
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let ram = cx.ram().await?;
    ignore_not_found(
        call("DeleteResourceShare", || {
            ram.delete_resource_share().resource_share_arn(id).send()
        })
        .await,
    )?;
    Ok(())
}

/// Turns on RAM's sharing with AWS Organizations when `principals` name the organization or an OU.
async fn enable_organization_sharing(
    cx: &Cx<'_>,
    principals: &BTreeSet<String>,
) -> Result<(), AwsError> {
    if !principals
        .iter()
        .any(|p| p.starts_with("arn:") && p.contains(":organizations::"))
    {
        return Ok(());
    }
    let management = cx.aws.ram(None, &cx.loc.region).await?;
    call("EnableSharingWithAwsOrganization", || {
        management.enable_sharing_with_aws_organization().send()
    })
    .await?;
    Ok(())
}

/// Every share the account owns that is not deleted or being deleted.
async fn owned_shares(ram: &Client) -> Result<Vec<ResourceShare>, AwsError> {
    let all = paginate(|token| async move {
        let out = call("GetResourceShares", || {
            ram.get_resource_shares()
                .resource_owner(ResourceOwner::SelfValue)
                .set_next_token(token.clone())
                .send()
        })
        .await?;
        Ok((
            out.resource_shares().to_vec(),
            out.next_token().map(str::to_string),
        ))
    })
    .await?;
    Ok(all
        .into_iter()
        .filter(|s| {
            !matches!(
                s.status(),
                Some(ResourceShareStatus::Deleted | ResourceShareStatus::Deleting)
            )
        })
        .collect())
}

/// The associated entities of one type (principals or resource ARNs) of every owned share, by share
/// ARN; associations failed or undone are left out.
async fn associations(
    ram: &Client,
    kind: AssocType,
) -> Result<BTreeMap<String, BTreeSet<String>>, AwsError> {
    let all = paginate(|token| {
        let kind = kind.clone();
        async move {
            let out = call("GetResourceShareAssociations", || {
                ram.get_resource_share_associations()
                    .association_type(kind.clone())
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
            Ok((
                out.resource_share_associations().to_vec(),
                out.next_token().map(str::to_string),
            ))
        }
    })
    .await?;
    let mut by_share: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for a in all {
        if !matches!(
            a.status(),
            Some(AssocStatus::Associated | AssocStatus::Associating) | None
        ) {
            continue;
        }
        if let (Some(share), Some(entity)) = (a.resource_share_arn(), a.associated_entity()) {
            by_share
                .entry(share.to_string())
                .or_default()
                .insert(entity.to_string());
        }
    }
    Ok(by_share)
}

fn base_attrs(share: &ResourceShare) -> Attrs {
    let arn = share.resource_share_arn().unwrap_or_default();
    let mut attrs = Attrs::new();
    attrs.insert("name".into(), share.name().unwrap_or_default().into());
    attrs.insert(
        "allow_external_principals".into(),
        share.allow_external_principals().unwrap_or(false).into(),
    );
    attrs.insert("id".into(), arn.into());
    attrs.insert("arn".into(), arn.into());
    attrs
}

fn to_live(
    share: &ResourceShare,
    principals: &BTreeMap<String, BTreeSet<String>>,
    resources: &BTreeMap<String, BTreeSet<String>>,
) -> Live {
    let arn = share.resource_share_arn().unwrap_or_default();
    let mut attrs = base_attrs(share);
    let of = |m: &BTreeMap<String, BTreeSet<String>>| {
        m.get(arn)
            .into_iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
    };
    attrs.insert("principals".into(), of(principals).into());
    attrs.insert("resource_arns".into(), of(resources).into());
    let pairs = share.tags().iter().map(|t| {
        (
            t.key().unwrap_or_default().to_string(),
            t.value().unwrap_or_default().to_string(),
        )
    });
    let (tags, address, lineage) = Live::split_tags(pairs);
    // No tags at all in the answer: see the module docs.
    if share.tags.is_some() {
        attrs.insert("tags".into(), tags);
    }
    Live {
        id: arn.to_string(),
        attrs,
        address,
        lineage,
    }
}

fn sdk_tags(tags: &[(String, String)]) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// TagResource for new and changed values, UntagResource for removed keys; landfall's own tags stay.
async fn update_tags(
    ram: &Client,
    arn: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<(), AwsError> {
    let (have, want) = (
        tag_map(current, LandfallTags::Drop),
        tag_map(desired, LandfallTags::Drop),
    );
    let set: Vec<(String, String)> = want
        .iter()
        .filter(|(k, v)| have.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let removed: Vec<String> = have
        .keys()
        .filter(|k| !want.contains_key(*k))
        .cloned()
        .collect();
    if !set.is_empty() {
        call("TagResource", || {
            ram.tag_resource()
                .resource_share_arn(arn)
                .set_tags(Some(sdk_tags(&set)))
                .send()
        })
        .await?;
    }
    if !removed.is_empty() {
        call("UntagResource", || {
            ram.untag_resource()
                .resource_share_arn(arn)
                .set_tag_keys(Some(removed.clone()))
                .send()
        })
        .await?;
    }
    Ok(())
}
