//! `route53_resolver_endpoint`: a Resolver endpoint (outbound: forwards queries out of the VPCs whose
//! rules name it; inbound: answers queries from outside), with one IP address per subnet.
//!
//! Read is one ListResolverEndpoints pass per account and region, and per landfall endpoint one
//! ListTagsForResource and one ListResolverEndpointIpAddresses (its subnets). The name, tags and
//! subnets change in place (UpdateResolverEndpoint, TagResource, UntagResource; an IP address in each
//! new subnet is associated before those of removed subnets are disassociated, so the endpoint never
//! drops below the two addresses AWS requires); the direction and security groups force a new
//! endpoint.
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
    IpAddressRequest, IpAddressStatus, IpAddressUpdate, ResolverEndpoint,
    ResolverEndpointDirection as Direction,
};
use std::collections::{BTreeSet, HashSet};

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
        let subnets: BTreeSet<String> = addresses(&rr, e.id().unwrap_or_default())
            .await?
            .into_iter()
            .map(|(subnet, _)| subnet)
            .collect();
        let subnets: Vec<String> = subnets.into_iter().collect();
        live.attrs.insert("subnet_ids".into(), subnets.into());
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
    update_subnets(&rr, id, current, desired).await?;
    Ok(merged(id, current, desired))
}

/// One IP address in each subnet added, then those of each subnet removed let go (by IpId, read
/// just before: AWS names an address by it).
async fn update_subnets(
    rr: &Client,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<(), AwsError> {
    let (have, want) = (
        string_set(current, "subnet_ids"),
        string_set(desired, "subnet_ids"),
    );
    for subnet in want.difference(&have) {
        call("AssociateResolverEndpointIpAddress", || {
            rr.associate_resolver_endpoint_ip_address()
                .resolver_endpoint_id(id)
                .ip_address(IpAddressUpdate::builder().subnet_id(subnet).build())
                .send()
        })
        .await?;
    }
    if have.difference(&want).next().is_none() {
        return Ok(());
    }
    for (subnet, ip_id) in addresses(rr, id).await? {
        if want.contains(&subnet) {
            continue;
        }
        let address = IpAddressUpdate::builder()
            .ip_id(ip_id)
            .subnet_id(subnet)
            .build();
        call("DisassociateResolverEndpointIpAddress", || {
            rr.disassociate_resolver_endpoint_ip_address()
                .resolver_endpoint_id(id)
                .ip_address(address.clone())
                .send()
        })
        .await?;
    }
    Ok(())
}

/// (subnet, IpId) of each of the endpoint's IP addresses in use (ListResolverEndpointIpAddresses, all
/// pages); addresses being let go are left out.
async fn addresses(rr: &Client, id: &str) -> Result<Vec<(String, String)>, AwsError> {
    let all = paginate(|token| async move {
        let out = call("ListResolverEndpointIpAddresses", || {
            rr.list_resolver_endpoint_ip_addresses()
                .resolver_endpoint_id(id)
                .set_next_token(token.clone())
                .send()
        })
        .await?;
        Ok((
            out.ip_addresses().to_vec(),
            out.next_token().map(str::to_string),
        ))
    })
    .await?;
    Ok(all
        .into_iter()
        .filter(|a| {
            !matches!(
                a.status(),
                Some(IpAddressStatus::Detaching | IpAddressStatus::Deleting)
            )
        })
        .filter_map(|a| Some((a.subnet_id()?.to_string(), a.ip_id()?.to_string())))
        .collect())
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
