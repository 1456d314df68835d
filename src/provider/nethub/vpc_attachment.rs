//! `transit_gateway_vpc_attachment`: a VPC attached to a transit gateway, made from the VPC's account
//! (the gateway may be another account's, shared through RAM).
//!
//! Read is one filtered DescribeTransitGatewayVpcAttachments pass per account and region; attachments
//! deleted, being deleted, failed or rejected are left out. The subnets and DNS support change in place
//! (ModifyTransitGatewayVpcAttachment); the gateway and the VPC force a replacement.
//!
//! An attachment to a gateway of another account that does not accept shared attachments by itself
//! waits in `pendingAcceptance`: create then accepts it in the gateway's account
//! (AcceptTransitGatewayVpcAttachment, with the access role there) and waits until it is available.
//! moto 5.2.5 has neither acceptance nor cross-account gateways: the emulator extension
//! `ec2_shared_transit_gateway` adds both for the tests. CreateTransitGatewayVpcAttachment takes no
//! client token: an unanswered create is recognised by its tags.

use super::transit_gateway::onoff;
use crate::aws::{AwsError, Created, call, call_create};
use crate::provider::attrs::{ignore_not_found, required, set_delta, string_set};
use crate::provider::ec2::{
    bool_attr, created, describe_batched, filter, find_created, gone, live, paginate, poll,
    tag_spec, update_tags,
};
use crate::provider::{Attrs, Cx, Live};
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    CreateTransitGatewayVpcAttachmentRequestOptions as CreateOptions, DnsSupportValue as Dns,
    Filter, ModifyTransitGatewayVpcAttachmentRequestOptions as ModifyOptions, ResourceType, Tag,
    TransitGatewayAttachmentState as State, TransitGatewayVpcAttachment as Attachment,
};
use std::time::Duration;

/// How long an accepted attachment may take to become available.
const ACCEPT_TIMEOUT: Duration = Duration::from_secs(600);

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let ec2 = cx.ec2().await?;
    let found = describe_batched(
        ids,
        "transit-gateway-attachment-id",
        |f| describe(&ec2, f),
        |a: &Attachment| (a.transit_gateway_attachment_id(), a.tags()),
    )
    .await?;
    Ok(found.iter().map(to_live).collect())
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let op = "CreateTransitGatewayVpcAttachment";
    let ec2 = cx.ec2().await?;
    let tgw = required(desired, "transit_gateway_id", op)?;
    let vpc = required(desired, "vpc_id", op)?;
    let subnets: Vec<String> = string_set(desired, "subnet_ids").into_iter().collect();
    let tags = cx.creation_tags(address, desired);
    let options = CreateOptions::builder()
        .dns_support(Dns::from(onoff(bool_attr(desired, "dns_support", true))))
        .build();
    let outcome = call_create(
        op,
        || {
            ec2.create_transit_gateway_vpc_attachment()
                .transit_gateway_id(tgw)
                .vpc_id(vpc)
                .set_subnet_ids(Some(subnets.clone()))
                .options(options.clone())
                .tag_specifications(tag_spec(ResourceType::TransitGatewayAttachment, &tags))
                .send()
        },
        || find_created(cx, address, |f| describe(&ec2, f), Attachment::tags),
    )
    .await?;
    let attachment = match outcome {
        Created::Sent(out) => out.transit_gateway_vpc_attachment().cloned(),
        Created::Found(a) => Some(a),
    };
    let attachment =
        attachment.ok_or_else(|| AwsError::other(op, "the response holds no attachment"))?;
    let id = attachment
        .transit_gateway_attachment_id()
        .ok_or_else(|| AwsError::other(op, "the response holds no attachment id"))?
        .to_string();
    // The emulator drops the tags of this call (it reads them for another resource type): set them
    // when the answer lacks them, so the attachment can be recognised by its address tag.
    if attachment.tags().is_empty() {
        let ours: Vec<Tag> = tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect();
        call("CreateTags", || {
            ec2.create_tags()
                .resources(&id)
                .set_tags(Some(ours.clone()))
                .send()
        })
        .await?;
    }
    if attachment.state() == Some(&State::PendingAcceptance) {
        accept(cx, &ec2, &id).await?;
    }
    Ok(created(&id, to_live(&attachment).attrs, &tags))
}

/// Accepts a pending attachment in the gateway's account and waits until it is available.
async fn accept(cx: &Cx<'_>, ec2: &Client, id: &str) -> Result<(), AwsError> {
    let op = "AcceptTransitGatewayVpcAttachment";
    let owner = describe_attachments(ec2, id)
        .await?
        .and_then(|a| a.transit_gateway_owner_id().map(str::to_string))
        .ok_or_else(|| {
            gone(
                "DescribeTransitGatewayAttachments",
                "InvalidTransitGatewayAttachmentID",
                id,
            )
        })?;
    let gateway_account = cx.aws.ec2(Some(&owner), &cx.loc.region).await?;
    call(op, || {
        gateway_account
            .accept_transit_gateway_vpc_attachment()
            .transit_gateway_attachment_id(id)
            .send()
    })
    .await?;
    poll(op, ACCEPT_TIMEOUT, || async {
        let now = find(ec2, id).await?;
        Ok((now.state() == Some(&State::Available)).then_some(()))
    })
    .await
}

/// The generic attachment record, which names the gateway's owner.
async fn describe_attachments(
    ec2: &Client,
    id: &str,
) -> Result<Option<aws_sdk_ec2::types::TransitGatewayAttachment>, AwsError> {
    let out = call("DescribeTransitGatewayAttachments", || {
        ec2.describe_transit_gateway_attachments()
            .filters(filter("transit-gateway-attachment-id", [id]))
            .send()
    })
    .await?;
    Ok(out.transit_gateway_attachments().first().cloned())
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    let ec2 = cx.ec2().await?;
    update_tags(&ec2, id, current, desired).await?;
    let (add, remove) = set_delta(current, desired, "subnet_ids");
    let dns = bool_attr(desired, "dns_support", true);
    let dns_changed = bool_attr(current, "dns_support", true) != dns;
    if add.is_some() || remove.is_some() || dns_changed {
        let options = dns_changed.then(|| {
            ModifyOptions::builder()
                .dns_support(Dns::from(onoff(dns)))
                .build()
        });
        call("ModifyTransitGatewayVpcAttachment", || {
            ec2.modify_transit_gateway_vpc_attachment()
                .transit_gateway_attachment_id(id)
                .set_add_subnet_ids(add.clone())
                .set_remove_subnet_ids(remove.clone())
                .set_options(options.clone())
                .send()
        })
        .await?;
    }
    Ok(to_live(&find(&ec2, id).await?))
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let ec2 = cx.ec2().await?;
    ignore_not_found(
        call("DeleteTransitGatewayVpcAttachment", || {
            ec2.delete_transit_gateway_vpc_attachment()
                .transit_gateway_attachment_id(id)
                .send()
        })
        .await,
    )?;
    Ok(())
}

async fn find(ec2: &Client, id: &str) -> Result<Attachment, AwsError> {
    describe(ec2, filter("transit-gateway-attachment-id", [id]))
        .await?
        .into_iter()
        .find(|a| a.transit_gateway_attachment_id() == Some(id))
        .ok_or_else(|| {
            gone(
                "DescribeTransitGatewayVpcAttachments",
                "InvalidTransitGatewayAttachmentID",
                id,
            )
        })
}

/// One paginated DescribeTransitGatewayVpcAttachments pass, without attachments that are gone or
/// going.
async fn describe(ec2: &Client, f: Filter) -> Result<Vec<Attachment>, AwsError> {
    let all = paginate(|token| {
        let f = f.clone();
        async move {
            let out = call("DescribeTransitGatewayVpcAttachments", || {
                ec2.describe_transit_gateway_vpc_attachments()
                    .filters(f.clone())
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
            Ok((
                out.transit_gateway_vpc_attachments().to_vec(),
                out.next_token().map(str::to_string),
            ))
        }
    })
    .await?;
    Ok(all
        .into_iter()
        .filter(|a| {
            !matches!(
                a.state(),
                Some(
                    State::Deleted
                        | State::Deleting
                        | State::Failed
                        | State::Rejected
                        | State::Rejecting
                )
            )
        })
        .collect())
}

fn to_live(a: &Attachment) -> Live {
    let mut subnets: Vec<&str> = a.subnet_ids().iter().map(String::as_str).collect();
    subnets.sort_unstable();
    let dns = a
        .options()
        .and_then(|o| o.dns_support())
        .is_none_or(|v| v.as_str() == "enable");
    let mut attrs = Attrs::new();
    attrs.insert(
        "transit_gateway_id".into(),
        a.transit_gateway_id().unwrap_or_default().into(),
    );
    attrs.insert("vpc_id".into(), a.vpc_id().unwrap_or_default().into());
    attrs.insert("subnet_ids".into(), subnets.into());
    attrs.insert("dns_support".into(), dns.into());
    attrs.insert(
        "vpc_owner_id".into(),
        a.vpc_owner_id().unwrap_or_default().into(),
    );
    live(
        a.transit_gateway_attachment_id().unwrap_or_default(),
        attrs,
        a.tags(),
    )
}
