//! Route 53 private DNS for the landing zone (issue 13): private hosted zones, their VPC associations
//! across accounts, and the shared helpers of these kinds (listings, tags).

pub mod zone;
pub mod zone_association;

use crate::aws::{AwsError, call};
use crate::provider::{Attrs, paginate};
use aws_sdk_route53::Client;
use aws_sdk_route53::types::{HostedZone, Tag, TagResourceType, Vpc, VpcRegion};
use std::collections::BTreeMap;

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
