//! `route53_resolver_endpoint`: a Resolver endpoint (outbound: forwards queries out of the VPCs whose
//! rules name it; inbound: answers queries from outside), with one IP address per subnet.
//!
//! Read is one ListResolverEndpoints pass per account and region, and one ListTagsForResource per
//! landfall endpoint. The name and tags change in place (UpdateResolverEndpoint, TagResource,
//! UntagResource); the direction, subnets and security groups force a new endpoint (the subnets are
//! not read back: they are compared against state).
//!
//! Crash safety: the CreatorRequestId is `landfall/ADDRESS/NONCE`; after a lost answer the endpoint is
//! found by it before sending again, and an endpoint whose tags were lost is recognised by it.

use super::{
    REFERENCE_PREFIX, address_in, caller_reference, merged, resolver_sdk_tags, resolver_tags,
    update_resolver_tags,
};
use crate::aws::{AwsError, Created, call, call_create};
use crate::provider::attrs::{ignore_not_found, str_or_empty, string_set};
use crate::provider::{Attrs, Cx, Live, paginate};
use aws_sdk_route53resolver::Client;
use aws_sdk_route53resolver::types::{
    IpAddressRequest, ResolverEndpoint, ResolverEndpointDirection as Direction,
};
use std::collections::HashSet;

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let rr = cx.route53resolver().await?;
    let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let mut found = Vec::new();
    for e in endpoints(&rr).await? {
        let reference = e.creator_request_id().unwrap_or_default();
        if !wanted.contains(e.id().unwrap_or_default()) && !reference.starts_with(REFERENCE_PREFIX)
        {
            continue;
        }
        let tags = resolver_tags(&rr, e.arn().unwrap_or_default()).await?;
        let mut live = to_live(&e, tags);
        live.address = live.address.or_else(|| address_in(reference));
        found.push(live);
    }
    Ok(found)
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let op = "CreateResolverEndpoint";
    let rr = cx.route53resolver().await?;
    let reference = caller_reference(address);
    let tags = cx.creation_tags(address, desired);
    let sdk_tags = resolver_sdk_tags(&tags)?;
    let addresses = string_set(desired, "subnet_ids")
        .into_iter()
        .map(|s| IpAddressRequest::builder().subnet_id(s).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| AwsError::other(op, e.to_string()))?;
    let outcome = call_create(
        op,
        || {
            rr.create_resolver_endpoint()
                .creator_request_id(&reference)
                .name(str_or_empty(desired, "name"))
                .direction(Direction::from(str_or_empty(desired, "direction")))
                .set_security_group_ids(Some(
                    string_set(desired, "security_group_ids")
                        .into_iter()
                        .collect(),
                ))
                .set_ip_addresses(Some(addresses.clone()))
                .set_tags(Some(sdk_tags.clone()))
                .send()
        },
        || async {
            let all = endpoints(&rr).await?;
            Ok(all
                .into_iter()
                .find(|e| e.creator_request_id() == Some(reference.as_str())))
        },
    )
    .await?;
    let endpoint = match outcome {
        Created::Sent(out) => out.resolver_endpoint().cloned(),
        Created::Found(e) => Some(e),
    }
    .ok_or_else(|| AwsError::other(op, "the response holds no endpoint"))?;
    let mut live = to_live(&endpoint, tags);
    live.attrs.insert(
        "subnet_ids".into(),
        desired.get("subnet_ids").cloned().unwrap_or_default(),
    );
    Ok(live)
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    let rr = cx.route53resolver().await?;
    let name = str_or_empty(desired, "name");
    if str_or_empty(current, "name") != name {
        call("UpdateResolverEndpoint", || {
            rr.update_resolver_endpoint()
                .resolver_endpoint_id(id)
                .name(name)
                .send()
        })
        .await?;
    }
    update_resolver_tags(&rr, str_or_empty(current, "arn"), current, desired).await?;
    Ok(merged(id, current, desired))
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let rr = cx.route53resolver().await?;
    ignore_not_found(
        call("DeleteResolverEndpoint", || {
            rr.delete_resolver_endpoint()
                .resolver_endpoint_id(id)
                .send()
        })
        .await,
    )?;
    Ok(())
}

/// Every endpoint of the account and region (ListResolverEndpoints, all pages).
async fn endpoints(rr: &Client) -> Result<Vec<ResolverEndpoint>, AwsError> {
    paginate(|token| async move {
        let out = call("ListResolverEndpoints", || {
            rr.list_resolver_endpoints()
                .set_next_token(token.clone())
                .send()
        })
        .await?;
        Ok((
            out.resolver_endpoints().to_vec(),
            out.next_token().map(str::to_string),
        ))
    })
    .await
}

fn to_live(e: &ResolverEndpoint, tags: Vec<(String, String)>) -> Live {
    let id = e.id().unwrap_or_default();
    let (tags, address, lineage) = Live::split_tags(tags);
    let mut groups: Vec<&str> = e.security_group_ids().iter().map(String::as_str).collect();
    groups.sort_unstable();
    let mut attrs = Attrs::new();
    attrs.insert("name".into(), e.name().unwrap_or_default().into());
    let direction = e.direction().map(|d| d.as_str()).unwrap_or_default();
    attrs.insert("direction".into(), direction.into());
    attrs.insert("security_group_ids".into(), groups.into());
    attrs.insert("tags".into(), tags);
    attrs.insert("id".into(), id.into());
    attrs.insert("arn".into(), e.arn().unwrap_or_default().into());
    attrs.insert(
        "host_vpc_id".into(),
        e.host_vpc_id().unwrap_or_default().into(),
    );
    Live {
        id: id.to_string(),
        attrs,
        address,
        lineage,
    }
}
