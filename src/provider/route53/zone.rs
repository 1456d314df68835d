//! `route53_zone`: a private hosted zone, created with a VPC of its own account and region.
//!
//! Route 53 is global, but a private zone answers in the VPCs it is associated with, so the kind is
//! placed per account and region: the region of the VPC it is created with. More VPCs, of this
//! account or others, are associated by `route53_zone_association` (in the VPC's account).
//!
//! Read costs one ListHostedZones pass per account and region (all pages), one ListTagsForResources
//! per ten of landfall's zones and one GetHostedZone per landfall zone (its VPCs). A zone is
//! landfall's when state knows its id, when it carries the `landfall:address` tag, or when its
//! CallerReference names an address (see below).
//!
//! The comment (UpdateHostedZoneComment), the tags (ChangeTagsForResource) and the VPC it was created
//! with (AssociateVPCWithHostedZone, then DisassociateVPCFromHostedZone of the old one) change in
//! place; the name forces a replacement. Deleting a zone that still holds records fails as AWS says
//! (HostedZoneNotEmpty) unless `force_destroy` is set: then its records (all but SOA and NS) go first.
//!
//! Crash safety: the CallerReference is `landfall/ADDRESS/NONCE`, fixed for one create. An attempt
//! whose answer was lost is looked for by it before sending again (AWS would refuse the same
//! reference twice), and a zone whose tags were never set is still recognised by the address in it.

use super::{
    REFERENCE_PREFIX, address_in, caller_reference, change_tags, private_zones, short_id, tags_of,
    vpc, zone_vpcs,
};
use crate::aws::{AwsError, Created, call, call_create};
use crate::provider::attrs::{ignore_not_found, required, str_or_empty};
use crate::provider::ec2::bool_attr;
use crate::provider::{Attrs, Cx, Live};
use aws_sdk_route53::Client;
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, HostedZone, HostedZoneConfig, ResourceRecordSet, RrType,
};
use std::collections::HashSet;

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let r53 = cx.route53().await?;
    let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let zones: Vec<HostedZone> = private_zones(&r53)
        .await?
        .into_iter()
        .filter(|z| {
            wanted.contains(short_id(z.id())) || z.caller_reference().starts_with(REFERENCE_PREFIX)
        })
        .collect();
    let tagged = tags_of(&r53, zones.iter().map(|z| short_id(z.id()).to_string())).await?;
    let owner = cx.account_id().await?;
    let mut found = Vec::new();
    for zone in &zones {
        let id = short_id(zone.id());
        let vpcs: Vec<String> = zone_vpcs(cx, cx.loc.account.as_deref(), id)
            .await?
            .iter()
            .flatten()
            .filter(|(_, region)| *region == cx.loc.region)
            .map(|(vpc, _)| vpc.clone())
            .collect();
        // A zone answering in no VPC of this region belongs to another region's reads.
        let Some(vpc_id) = primary_vpc(cx, id, &vpcs) else {
            continue;
        };
        let tags = tagged.get(id).cloned().unwrap_or_default();
        let mut live = to_live(zone, &vpc_id, &owner, tags);
        live.address = live.address.or_else(|| address_in(zone.caller_reference()));
        found.push(live);
    }
    Ok(found)
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let op = "CreateHostedZone";
    let r53 = cx.route53().await?;
    let name = required(desired, "name", op)?;
    let vpc_id = required(desired, "vpc_id", op)?;
    let reference = caller_reference(address);
    let config = HostedZoneConfig::builder()
        .comment(str_or_empty(desired, "comment"))
        .private_zone(true)
        .build();
    let outcome = call_create(
        op,
        || {
            r53.create_hosted_zone()
                .name(name)
                .caller_reference(&reference)
                .vpc(vpc(vpc_id, &cx.loc.region))
                .hosted_zone_config(config.clone())
                .send()
        },
        || async {
            let zones = private_zones(&r53).await?;
            Ok(zones
                .into_iter()
                .find(|z| z.caller_reference() == reference))
        },
    )
    .await?;
    let zone = match outcome {
        Created::Sent(out) => out.hosted_zone().cloned(),
        Created::Found(zone) => Some(zone),
    }
    .ok_or_else(|| AwsError::other(op, "the response holds no hosted zone"))?;
    let id = short_id(zone.id()).to_string();
    let tags = cx.creation_tags(address, desired);
    change_tags(&r53, &id, &tags, &[]).await?;
    let mut live = to_live(&zone, vpc_id, &cx.account_id().await?, tags);
    live.attrs
        .insert("force_destroy".into(), force_destroy(desired).into());
    Ok(live)
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    let r53 = cx.route53().await?;
    let comment = str_or_empty(desired, "comment");
    if str_or_empty(current, "comment") != comment {
        call("UpdateHostedZoneComment", || {
            r53.update_hosted_zone_comment()
                .id(id)
                .comment(comment)
                .send()
        })
        .await?;
    }
    let (old, new) = (
        str_or_empty(current, "vpc_id"),
        required(desired, "vpc_id", "AssociateVPCWithHostedZone")?,
    );
    if old != new {
        move_vpc(&r53, id, old, new, &cx.loc.region).await?;
    }
    super::update_tags(&r53, id, current, desired).await?;
    let mut live = super::merged(id, current, desired);
    live.attrs.insert("id".into(), id.into());
    Ok(live)
}

pub async fn delete(cx: &Cx<'_>, id: &str, current: &Attrs) -> Result<(), AwsError> {
    let r53 = cx.route53().await?;
    if force_destroy(current) {
        delete_records(&r53, id).await?;
    }
    ignore_not_found(
        call("DeleteHostedZone", || {
            r53.delete_hosted_zone().id(id).send()
        })
        .await,
    )?;
    Ok(())
}

fn force_destroy(attrs: &Attrs) -> bool {
    bool_attr(attrs, "force_destroy", false)
}

/// The VPC the zone was created with, as far as AWS shows it: the one state records while it is
/// still associated, else the first of the region (AWS does not say which one came first).
fn primary_vpc(cx: &Cx<'_>, id: &str, vpcs: &[String]) -> Option<String> {
    let recorded = cx.hints("route53_zone").and_then(|h| {
        h.in_state()
            .iter()
            .find(|a| a.get("id").and_then(|v| v.as_str()) == Some(id))
            .and_then(|a| a.get("vpc_id").and_then(|v| v.as_str()))
            .map(str::to_string)
    });
    recorded
        .filter(|v| vpcs.contains(v))
        .or_else(|| vpcs.first().cloned())
}

/// Associates `new` (of this account and region), then disassociates `old`: the zone is never left
/// without a VPC.
async fn move_vpc(
    r53: &Client,
    id: &str,
    old: &str,
    new: &str,
    region: &str,
) -> Result<(), AwsError> {
    call("AssociateVPCWithHostedZone", || {
        r53.associate_vpc_with_hosted_zone()
            .hosted_zone_id(id)
            .vpc(vpc(new, region))
            .send()
    })
    .await?;
    if old.is_empty() {
        return Ok(());
    }
    ignore_not_found(
        call("DisassociateVPCFromHostedZone", || {
            r53.disassociate_vpc_from_hosted_zone()
                .hosted_zone_id(id)
                .vpc(vpc(old, region))
                .send()
        })
        .await,
    )?;
    Ok(())
}

/// Deletes every record set but the zone's own SOA and NS.
async fn delete_records(r53: &Client, id: &str) -> Result<(), AwsError> {
    let mut changes = Vec::new();
    let (mut name, mut kind) = (None::<String>, None::<RrType>);
    loop {
        let out = call("ListResourceRecordSets", || {
            r53.list_resource_record_sets()
                .hosted_zone_id(id)
                .set_start_record_name(name.clone())
                .set_start_record_type(kind.clone())
                .send()
        })
        .await?;
        for set in out.resource_record_sets() {
            if !matches!(set.r#type(), RrType::Soa | RrType::Ns) {
                changes.push(deletion(set)?);
            }
        }
        if !out.is_truncated() || out.next_record_name().is_none() {
            break;
        }
        name = out.next_record_name().map(str::to_string);
        kind = out.next_record_type().cloned();
    }
    if changes.is_empty() {
        return Ok(());
    }
    let batch = ChangeBatch::builder()
        .set_changes(Some(changes))
        .build()
        .map_err(|e| AwsError::other("ChangeResourceRecordSets", e.to_string()))?;
    call("ChangeResourceRecordSets", || {
        r53.change_resource_record_sets()
            .hosted_zone_id(id)
            .change_batch(batch.clone())
            .send()
    })
    .await?;
    Ok(())
}

fn deletion(set: &ResourceRecordSet) -> Result<Change, AwsError> {
    Change::builder()
        .action(ChangeAction::Delete)
        .resource_record_set(set.clone())
        .build()
        .map_err(|e| AwsError::other("ChangeResourceRecordSets", e.to_string()))
}

fn to_live(zone: &HostedZone, vpc_id: &str, owner: &str, tags: Vec<(String, String)>) -> Live {
    let id = short_id(zone.id());
    let (tags, address, lineage) = Live::split_tags(tags);
    let mut attrs = Attrs::new();
    attrs.insert(
        "name".into(),
        zone.name().trim_end_matches('.').to_string().into(),
    );
    let comment = zone.config().and_then(|c| c.comment()).unwrap_or_default();
    attrs.insert("comment".into(), comment.into());
    attrs.insert("vpc_id".into(), vpc_id.into());
    attrs.insert("tags".into(), tags);
    attrs.insert("id".into(), id.into());
    attrs.insert("owner_id".into(), owner.into());
    Live {
        id: id.to_string(),
        attrs,
        address,
        lineage,
    }
}
