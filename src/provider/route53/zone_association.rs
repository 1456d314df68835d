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
//! Read is one ListHostedZonesByVPC per VPC of the associations asked for. The id is
//! `ZONE_ID:VPC_ID`; it follows from the configuration, so an association made by a run whose answer
//! was lost is recognised by it (there are no tags).

use super::{short_id, vpc};
use crate::aws::{AwsError, call, call_create};
use crate::provider::attrs::{ignore_not_found, required, str_or_empty};
use crate::provider::{Attrs, Cx, Live, paginate};
use aws_sdk_route53::Client;
use std::collections::{BTreeMap, BTreeSet};

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let r53 = cx.route53().await?;
    let mut by_vpc: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (zone, vpc) in ids.iter().filter_map(|id| id.split_once(':')) {
        by_vpc.entry(vpc).or_default().insert(zone);
    }
    let mut found = Vec::new();
    for (vpc_id, zones) in by_vpc {
        let associated = zones_of_vpc(&r53, vpc_id, &cx.loc.region).await?;
        found.extend(
            zones
                .into_iter()
                .filter(|z| associated.contains(*z))
                .map(|z| live(z, vpc_id)),
        );
    }
    Ok(found)
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
