//! `internet_gateway`: an internet gateway attached to one VPC.
//!
//! Read reports `vpc_id` as the VPC it is attached to, or `""` when detached (so a detached gateway
//! shows as drift). Create attaches after creating; a change of `vpc_id` detaches from every other
//! VPC and attaches to the new one; delete detaches first.

use super::{
    created, describe_batched, filter, find_created, gone, ignore_not_found, live, paginate,
    required, tag_spec, update_tags,
};
use crate::aws::{AwsError, Created, call, call_create};
use crate::provider::{Attrs, Cx, Live};
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{AttachmentStatus, Filter, InternetGateway, ResourceType};

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let ec2 = cx.ec2().await?;
    let gateways = describe_batched(
        ids,
        "internet-gateway-id",
        |f| describe(&ec2, f),
        |g: &InternetGateway| (g.internet_gateway_id(), g.tags()),
    )
    .await?;
    Ok(gateways.iter().map(to_live).collect())
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let op = "CreateInternetGateway";
    let ec2 = cx.ec2().await?;
    let vpc_id = required(desired, "vpc_id", op)?;
    let tags = cx.creation_tags(address, desired);
    let outcome = call_create(
        op,
        || {
            ec2.create_internet_gateway()
                .tag_specifications(tag_spec(ResourceType::InternetGateway, &tags))
                .send()
        },
        || find_created(cx, address, |f| describe(&ec2, f), InternetGateway::tags),
    )
    .await?;
    let gateway = match outcome {
        Created::Sent(out) => out.internet_gateway().cloned(),
        Created::Found(gateway) => Some(gateway),
    };
    let id = gateway
        .as_ref()
        .and_then(|g| g.internet_gateway_id())
        .ok_or_else(|| AwsError::other(op, "the response holds no internet gateway id"))?;
    // Should attaching fail, the tagged gateway is adopted by the next read, detached, and the
    // update attaches it.
    attach(&ec2, id, vpc_id).await?;
    let mut attrs = Attrs::new();
    attrs.insert("vpc_id".into(), vpc_id.into());
    Ok(created(id, attrs, &tags))
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    let ec2 = cx.ec2().await?;
    update_tags(&ec2, id, current, desired).await?;
    let vpc_id = required(desired, "vpc_id", "AttachInternetGateway")?;
    let attached = attached_vpcs(&find(&ec2, id).await?);
    for other in attached.iter().filter(|v| *v != vpc_id) {
        detach(&ec2, id, other).await?;
    }
    if !attached.iter().any(|v| v == vpc_id) {
        attach(&ec2, id, vpc_id).await?;
    }
    Ok(to_live(&find(&ec2, id).await?))
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let ec2 = cx.ec2().await?;
    let gateway = match find(&ec2, id).await {
        Ok(g) => g,
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(e),
    };
    for vpc_id in attached_vpcs(&gateway) {
        detach(&ec2, id, &vpc_id).await?;
    }
    ignore_not_found(
        call("DeleteInternetGateway", || {
            ec2.delete_internet_gateway().internet_gateway_id(id).send()
        })
        .await,
    )?;
    Ok(())
}

/// One paginated DescribeInternetGateways pass.
pub(super) async fn describe(ec2: &Client, f: Filter) -> Result<Vec<InternetGateway>, AwsError> {
    paginate(|token| {
        let f = f.clone();
        async move {
            let out = call("DescribeInternetGateways", || {
                ec2.describe_internet_gateways()
                    .filters(f.clone())
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
            Ok((
                out.internet_gateways().to_vec(),
                out.next_token().map(str::to_string),
            ))
        }
    })
    .await
}

async fn find(ec2: &Client, id: &str) -> Result<InternetGateway, AwsError> {
    describe(ec2, filter("internet-gateway-id", [id]))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| gone("DescribeInternetGateways", "InvalidInternetGatewayID", id))
}

/// The VPCs a gateway is attached to (or being attached to).
pub(super) fn attached_vpcs(gateway: &InternetGateway) -> Vec<String> {
    gateway
        .attachments()
        .iter()
        .filter(|a| {
            !matches!(
                a.state(),
                Some(AttachmentStatus::Detached | AttachmentStatus::Detaching)
            )
        })
        .filter_map(|a| a.vpc_id().map(str::to_string))
        .collect()
}

async fn attach(ec2: &Client, id: &str, vpc_id: &str) -> Result<(), AwsError> {
    call("AttachInternetGateway", || {
        ec2.attach_internet_gateway()
            .internet_gateway_id(id)
            .vpc_id(vpc_id)
            .send()
    })
    .await?;
    Ok(())
}

/// Detaches; a gateway already detached (or gone) is fine.
pub(super) async fn detach(ec2: &Client, id: &str, vpc_id: &str) -> Result<(), AwsError> {
    match call("DetachInternetGateway", || {
        ec2.detach_internet_gateway()
            .internet_gateway_id(id)
            .vpc_id(vpc_id)
            .send()
    })
    .await
    {
        Err(e) if !e.is_not_found() && !e.is("Gateway.NotAttached") => Err(e),
        _ => Ok(()),
    }
}

fn to_live(gateway: &InternetGateway) -> Live {
    let mut attrs = Attrs::new();
    let vpc_id = attached_vpcs(gateway)
        .into_iter()
        .next()
        .unwrap_or_default();
    attrs.insert("vpc_id".into(), vpc_id.into());
    live(
        gateway.internet_gateway_id().unwrap_or_default(),
        attrs,
        gateway.tags(),
    )
}
