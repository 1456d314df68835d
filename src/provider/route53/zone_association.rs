//! `route53_zone_association`: a VPC associated with a private hosted zone, made from the VPC's
//! account and region (the zone may be another account's).
//!
//! A separate kind rather than an attribute of the zone: the association belongs to the workload
//! account's side of the graph (it depends on the zone and on the workload VPC, and goes when the
//! workload's VPC goes), and it is made with the workload account's credentials, as AWS requires.
//!
//! For a zone of another account (`zone_owner_id`), create follows AWS's sequence: in the zone's
//! account CreateVPCAssociationAuthorization, from the VPC's account AssociateVPCWithHostedZone, then
//! DeleteVPCAssociationAuthorization in the zone's account (an authorization is no longer needed once
//! the association exists). Delete is DisassociateVPCFromHostedZone from the VPC's account.
//!
//! Read is the zone's GetHostedZone in its own account, made once per refresh and shared with the
//! zone's read and the other associations' (the zone's account comes from `zone_owner_id` in
//! configuration or state); for a zone not found there (an import), ListHostedZonesByVPC. The id is
//! `ZONE_ID:VPC_ID`; it follows from the configuration, so an association made by a run whose answer
//! was lost is recognised by it (there are no tags).

use super::{short_id, vpc, zone_vpcs};
use crate::aws::{AwsError, call, call_create};
use crate::provider::attrs::{ignore_not_found, required, str_or_empty};
use crate::provider::{Attrs, Cx, Live, paginate};
use aws_sdk_route53::Client;
use std::collections::BTreeSet;

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let mut found = Vec::new();
    let mut unknown_zones = BTreeSet::new();
    for (zone, vpc_id) in ids.iter().filter_map(|id| id.split_once(':')) {
        let owner = owner_hint(cx, zone).or_else(|| cx.loc.account.clone());
        match &*zone_vpcs(cx, owner.as_deref(), zone).await? {
            Some(vpcs) if vpcs.iter().any(|(v, r)| v == vpc_id && *r == cx.loc.region) => {
                found.push(live(zone, vpc_id))
            }
            Some(_) => {}
            None => {
                unknown_zones.insert((zone, vpc_id));
            }
        }
    }
    // A zone not where the configuration or state says (an import): ask the VPC's side.
    if !unknown_zones.is_empty() {
        let r53 = cx.route53().await?;
        for (zone, vpc_id) in unknown_zones {
            if zones_of_vpc(&r53, vpc_id, &cx.loc.region)
                .await?
                .contains(zone)
            {
                found.push(live(zone, vpc_id));
            }
        }
    }
    Ok(found)
}

/// The zone's account as configuration or state gives it for an association with `zone`.
fn owner_hint(cx: &Cx<'_>, zone: &str) -> Option<String> {
    let hints = cx.hints("route53_zone_association")?;
    hints
        .in_state()
        .iter()
        .chain(&hints.missing)
        .filter(|a| a.get("zone_id").and_then(|v| v.as_str()) == Some(zone))
        .find_map(|a| a.get("zone_owner_id").and_then(|v| v.as_str()))
        .filter(|owner| !owner.is_empty())
        .map(str::to_string)
}

pub async fn create(cx: &Cx<'_>, _address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let op = "AssociateVPCWithHostedZone";
    let r53 = cx.route53().await?;
    let zone = short_id(required(desired, "zone_id", op)?);
    let vpc_id = required(desired, "vpc_id", op)?;
    let region = &cx.loc.region;
    let owner = zone_owner(cx, desired).await?;
    if let Some(owner) = &owner {
        let zone_account = cx.aws.route53(Some(owner)).await?;
        call("CreateVPCAssociationAuthorization", || {
            zone_account
                .create_vpc_association_authorization()
                .hosted_zone_id(zone)
                .vpc(vpc(vpc_id, region))
                .send()
        })
        .await?;
    }
    call_create(
        op,
        || {
            r53.associate_vpc_with_hosted_zone()
                .hosted_zone_id(zone)
                .vpc(vpc(vpc_id, region))
                .send()
        },
        || async {
            let zones = zones_of_vpc(&r53, vpc_id, region).await?;
            Ok(zones.contains(zone).then_some(()))
        },
    )
    .await?;
    if let Some(owner) = &owner {
        let zone_account = cx.aws.route53(Some(owner)).await?;
        ignore_not_found(
            call("DeleteVPCAssociationAuthorization", || {
                zone_account
                    .delete_vpc_association_authorization()
                    .hosted_zone_id(zone)
                    .vpc(vpc(vpc_id, region))
                    .send()
            })
            .await,
        )?;
    }
    let mut live = live(zone, vpc_id);
    live.attrs.insert(
        "zone_owner_id".into(),
        str_or_empty(desired, "zone_owner_id").into(),
    );
    Ok(live)
}

/// Nothing to change in AWS: the zone and the VPC force a replacement, and the zone's owner only
/// matters while creating.
pub async fn update(
    _cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    Ok(super::merged(id, current, desired))
}

pub async fn delete(cx: &Cx<'_>, id: &str, current: &Attrs) -> Result<(), AwsError> {
    let op = "DisassociateVPCFromHostedZone";
    let r53 = cx.route53().await?;
    let (zone, vpc_id) = match id.split_once(':') {
        Some(pair) => pair,
        None => (
            required(current, "zone_id", op)?,
            required(current, "vpc_id", op)?,
        ),
    };
    ignore_not_found(
        call(op, || {
            r53.disassociate_vpc_from_hosted_zone()
                .hosted_zone_id(zone)
                .vpc(vpc(vpc_id, &cx.loc.region))
                .send()
        })
        .await,
    )?;
    Ok(())
}

/// The zone's account when it is not this one (an authorization is needed), else `None`.
async fn zone_owner(cx: &Cx<'_>, desired: &Attrs) -> Result<Option<String>, AwsError> {
    let owner = str_or_empty(desired, "zone_owner_id");
    if owner.is_empty() || owner == cx.account_id().await? {
        return Ok(None);
    }
    Ok(Some(owner.to_string()))
}

/// The ids of the zones `vpc_id` is associated with, of any account. A VPC that no longer exists
/// has none.
async fn zones_of_vpc(
    r53: &Client,
    vpc_id: &str,
    region: &str,
) -> Result<BTreeSet<String>, AwsError> {
    let listed = paginate(|token| async move {
        let out = call("ListHostedZonesByVPC", || {
            r53.list_hosted_zones_by_vpc()
                .vpc_id(vpc_id)
                .vpc_region(aws_sdk_route53::types::VpcRegion::from(region))
                .set_next_token(token.clone())
                .send()
        })
        .await?;
        let ids: Vec<String> = out
            .hosted_zone_summaries()
            .iter()
            .map(|s| short_id(s.hosted_zone_id()).to_string())
            .collect();
        Ok((ids, out.next_token().map(str::to_string)))
    })
    .await;
    match listed {
        Ok(ids) => Ok(ids.into_iter().collect()),
        Err(e) if e.is_not_found() || e.code.as_deref() == Some("InvalidVPCId") => {
            Ok(BTreeSet::new())
        }
        Err(e) => Err(e),
    }
}

fn live(zone: &str, vpc_id: &str) -> Live {
    let id = format!("{zone}:{vpc_id}");
    let mut attrs = Attrs::new();
    attrs.insert("zone_id".into(), zone.into());
    attrs.insert("vpc_id".into(), vpc_id.into());
    attrs.insert("id".into(), id.clone().into());
    Live {
        id,
        attrs,
        address: None,
        lineage: None,
    }
}
