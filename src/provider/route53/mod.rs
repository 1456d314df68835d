//! Route 53 private DNS for the landing zone (issue 13): private hosted zones, their VPC associations
//! across accounts, and the shared helpers of these kinds (listings, tags).

pub mod resolver_endpoint;
pub mod resolver_rule;
pub mod resolver_rule_association;
pub mod zone;
pub mod zone_association;

use crate::aws::{AwsError, call};
use crate::provider::{Attrs, Cx, Location, paginate};
use aws_sdk_route53::Client;
use aws_sdk_route53::types::{HostedZone, Tag, TagResourceType, Vpc, VpcRegion};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The prefix of the CallerReference (hosted zones) or CreatorRequestId (Resolver) of every resource
/// landfall creates of these kinds: `landfall/ADDRESS/NONCE`.
const REFERENCE_PREFIX: &str = "landfall/";

/// `landfall/ADDRESS/NONCE`, fixed for one create, or `landfall//NONCE` when the address is too long
/// for the 128 characters AWS accepts: after a lost answer, what was created is found by it, and a
/// resource whose tags were never set is still recognised by the address in it.
fn caller_reference(address: &str) -> String {
    use rand::Rng;
    let nonce: u64 = rand::rng().random();
    let full = format!("{REFERENCE_PREFIX}{address}/{nonce:016x}");
    if full.len() <= 128 {
        full
    } else {
        format!("{REFERENCE_PREFIX}/{nonce:016x}")
    }
}

/// The address a reference made by [`caller_reference`] names.
fn address_in(reference: &str) -> Option<String> {
    let rest = reference.strip_prefix(REFERENCE_PREFIX)?;
    let (address, _nonce) = rest.rsplit_once('/')?;
    (!address.is_empty()).then(|| address.to_string())
}

/// `Z123` from `/hostedzone/Z123` (AWS answers with the path; it accepts either).
pub(crate) fn short_id(id: &str) -> &str {
    id.strip_prefix("/hostedzone/").unwrap_or(id)
}

fn vpc(id: &str, region: &str) -> Vpc {
    Vpc::builder()
        .vpc_id(id)
        .vpc_region(VpcRegion::from(region))
        .build()
}

/// Every private hosted zone of the account (ListHostedZones, all pages).
async fn private_zones(r53: &Client) -> Result<Vec<HostedZone>, AwsError> {
    let all = paginate(|marker| async move {
        let out = call("ListHostedZones", || {
            r53.list_hosted_zones().set_marker(marker.clone()).send()
        })
        .await?;
        let next = out
            .is_truncated()
            .then(|| out.next_marker().map(str::to_string))
            .flatten();
        Ok((out.hosted_zones().to_vec(), next))
    })
    .await?;
    Ok(all
        .into_iter()
        .filter(|z| z.config().is_some_and(|c| c.private_zone()))
        .collect())
}

/// The tags of `ids` by zone id: ListTagsForResources, ten zones per request (AWS's limit).
async fn tags_of(
    r53: &Client,
    ids: impl Iterator<Item = String>,
) -> Result<BTreeMap<String, Vec<(String, String)>>, AwsError> {
    let ids: Vec<String> = ids.collect();
    let mut tags = BTreeMap::new();
    for batch in ids.chunks(10) {
        let out = call("ListTagsForResources", || {
            r53.list_tags_for_resources()
                .resource_type(TagResourceType::Hostedzone)
                .set_resource_ids(Some(batch.to_vec()))
                .send()
        })
        .await?;
        for set in out.resource_tag_sets() {
            let pairs = set.tags().iter().map(|t| {
                let key = t.key().unwrap_or_default().to_string();
                (key, t.value().unwrap_or_default().to_string())
            });
            let id = short_id(set.resource_id().unwrap_or_default());
            tags.insert(id.to_string(), pairs.collect());
        }
    }
    Ok(tags)
}

/// ChangeTagsForResource: sets `add`, removes `remove` (nothing sent when both are empty).
async fn change_tags(
    r53: &Client,
    id: &str,
    add: &[(String, String)],
    remove: &[String],
) -> Result<(), AwsError> {
    if add.is_empty() && remove.is_empty() {
        return Ok(());
    }
    let add: Vec<Tag> = add
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    call("ChangeTagsForResource", || {
        r53.change_tags_for_resource()
            .resource_type(TagResourceType::Hostedzone)
            .resource_id(id)
            .set_add_tags((!add.is_empty()).then(|| add.clone()))
            .set_remove_tag_keys((!remove.is_empty()).then(|| remove.to_vec()))
            .send()
    })
    .await?;
    Ok(())
}

/// New and changed tags set, removed keys removed; landfall's own tags stay.
async fn update_tags(
    r53: &Client,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<(), AwsError> {
    let changes = crate::provider::iam::tag_changes(current, desired);
    change_tags(r53, id, &changes.put, &changes.remove).await
}

/// The VPCs (id, region) of a private zone of `account` (`None`: the management account), or `None`
/// when that account has no such zone: one GetHostedZone per zone and refresh, shared by the zone's
/// own read and by the reads of its associations from the workload accounts.
async fn zone_vpcs(
    cx: &Cx<'_>,
    account: Option<&str>,
    zone: &str,
) -> Result<Arc<Option<Vec<(String, String)>>>, AwsError> {
    let owner = Location {
        account: account.map(str::to_string),
        region: cx.loc.region.clone(),
    };
    let at_owner = Cx { loc: &owner, ..*cx };
    at_owner
        .cached(&format!("route53:GetHostedZone:{zone}"), || async {
            let r53 = cx.aws.route53(account).await?;
            let out = call("GetHostedZone", || r53.get_hosted_zone().id(zone).send()).await;
            let out = match crate::provider::attrs::ignore_not_found(out)? {
                Some(out) => out,
                None => return Ok(None),
            };
            let vpcs = out.vpcs().iter().map(|v| {
                let region = v.vpc_region().map(|r| r.as_str()).unwrap_or_default();
                (
                    v.vpc_id().unwrap_or_default().to_string(),
                    region.to_string(),
                )
            });
            Ok(Some(vpcs.collect()))
        })
        .await
}

// ---- Route 53 Resolver: tags, shared by endpoints and rules ----

/// A Resolver resource's tags (ListTagsForResource, all pages).
async fn resolver_tags(
    rr: &aws_sdk_route53resolver::Client,
    arn: &str,
) -> Result<Vec<(String, String)>, AwsError> {
    paginate(|token| async move {
        let out = call("ListTagsForResource", || {
            rr.list_tags_for_resource()
                .resource_arn(arn)
                .set_next_token(token.clone())
                .send()
        })
        .await?;
        let tags = out
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect();
        Ok((tags, out.next_token().map(str::to_string)))
    })
    .await
}

fn resolver_sdk_tags(
    tags: &[(String, String)],
) -> Result<Vec<aws_sdk_route53resolver::types::Tag>, AwsError> {
    tags.iter()
        .map(|(k, v)| {
            aws_sdk_route53resolver::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| AwsError::other("TagResource", e.to_string()))
        })
        .collect()
}

/// TagResource for new and changed values, UntagResource for removed keys; landfall's own tags stay.
async fn update_resolver_tags(
    rr: &aws_sdk_route53resolver::Client,
    arn: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<(), AwsError> {
    let changes = crate::provider::iam::tag_changes(current, desired);
    if !changes.put.is_empty() {
        let tags = resolver_sdk_tags(&changes.put)?;
        call("TagResource", || {
            rr.tag_resource()
                .resource_arn(arn)
                .set_tags(Some(tags.clone()))
                .send()
        })
        .await?;
    }
    if !changes.remove.is_empty() {
        call("UntagResource", || {
            rr.untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(changes.remove.clone()))
                .send()
        })
        .await?;
    }
    Ok(())
}

/// `current` with `desired`'s values over it: the answer of an update that AWS does not echo.
fn merged(id: &str, current: &Attrs, desired: &Attrs) -> crate::provider::Live {
    let mut attrs = current.clone();
    for (k, v) in desired {
        attrs.insert(k.clone(), v.clone());
    }
    crate::provider::Live {
        id: id.to_string(),
        attrs,
        address: None,
        lineage: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caller_reference_names_the_address_within_aws_length() {
        let r = caller_reference("main.route53_zone.internal");
        assert!(r.starts_with("landfall/main.route53_zone.internal/"));
        assert_eq!(
            address_in(&r).as_deref(),
            Some("main.route53_zone.internal")
        );
        let long = format!("main.route53_zone.x[\"{}\"]", "a".repeat(200));
        let r = caller_reference(&long);
        assert!(r.len() <= 128);
        assert_eq!(address_in(&r), None);
        assert_eq!(address_in("console-1234"), None);
    }
}
