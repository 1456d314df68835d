//! `subnet`: a subnet of a VPC in one availability zone.
//!
//! Everything is read from DescribeSubnets; only `map_public_ip_on_launch` and the tags change in place
//! (ModifySubnetAttribute, CreateTags/DeleteTags). Deleting a subnet that still holds network
//! interfaces fails with AWS's DependencyViolation.

use super::{
    bool_attr, created, describe_batched, filter, find_created, gone, ignore_not_found, live,
    paginate, partition, required, tag_spec, update_tags,
};
use crate::aws::{AwsError, Created, call, call_create};
use crate::provider::{Attrs, Cx, Live};
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{AttributeBooleanValue, Filter, ResourceType, Subnet};

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let ec2 = cx.ec2().await?;
    let subnets = describe_batched(
        ids,
        "subnet-id",
        |f| describe(&ec2, f),
        |s: &Subnet| (s.subnet_id(), s.tags()),
    )
    .await?;
    Ok(subnets.iter().map(|s| to_live(cx, s)).collect())
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let op = "CreateSubnet";
    let ec2 = cx.ec2().await?;
    let vpc_id = required(desired, "vpc_id", op)?;
    let cidr = required(desired, "cidr_block", op)?;
    let zone = required(desired, "availability_zone", op)?;
    let tags = cx.creation_tags(address, desired);
    let outcome = call_create(
        op,
        || {
            ec2.create_subnet()
                .vpc_id(vpc_id)
                .cidr_block(cidr)
                .availability_zone(zone)
                .tag_specifications(tag_spec(ResourceType::Subnet, &tags))
                .send()
        },
        || find_created(cx, address, |f| describe(&ec2, f), Subnet::tags),
    )
    .await?;
    let subnet = match outcome {
        Created::Sent(out) => out.subnet().cloned(),
        Created::Found(subnet) => Some(subnet),
    };
    let subnet = &subnet.ok_or_else(|| AwsError::other(op, "the response holds no subnet"))?;
    let id = subnet
        .subnet_id()
        .ok_or_else(|| AwsError::other(op, "the response holds no subnet id"))?;
    let public = bool_attr(desired, "map_public_ip_on_launch", false);
    // Set whenever the new subnet differs: a subnet can start out public (moto makes the first subnet
    // of an availability zone public, as AWS does for default subnets).
    if subnet.map_public_ip_on_launch().unwrap_or(false) != public {
        set_public(&ec2, id, public).await?;
    }
    let mut attrs = attrs(cx, subnet);
    attrs.insert("map_public_ip_on_launch".into(), public.into());
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
    let public = bool_attr(desired, "map_public_ip_on_launch", false);
    if bool_attr(current, "map_public_ip_on_launch", false) != public {
        set_public(&ec2, id, public).await?;
    }
    let subnet = describe(&ec2, filter("subnet-id", [id]))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| gone("DescribeSubnets", "InvalidSubnetID", id))?;
    Ok(to_live(cx, &subnet))
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let ec2 = cx.ec2().await?;
    ignore_not_found(call("DeleteSubnet", || ec2.delete_subnet().subnet_id(id).send()).await)?;
    Ok(())
}

/// One paginated DescribeSubnets pass.
pub(super) async fn describe(ec2: &Client, f: Filter) -> Result<Vec<Subnet>, AwsError> {
    paginate(|token| {
        let f = f.clone();
        async move {
            let out = call("DescribeSubnets", || {
                ec2.describe_subnets()
                    .filters(f.clone())
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
            Ok((out.subnets().to_vec(), out.next_token().map(str::to_string)))
        }
    })
    .await
}

async fn set_public(ec2: &Client, id: &str, public: bool) -> Result<(), AwsError> {
    call("ModifySubnetAttribute", || {
        ec2.modify_subnet_attribute()
            .subnet_id(id)
            .map_public_ip_on_launch(AttributeBooleanValue::builder().value(public).build())
            .send()
    })
    .await?;
    Ok(())
}

fn attrs(cx: &Cx<'_>, subnet: &Subnet) -> Attrs {
    let id = subnet.subnet_id().unwrap_or_default();
    let arn = subnet.subnet_arn().map(str::to_string).unwrap_or_else(|| {
        format!(
            "arn:{}:ec2:{}:{}:subnet/{id}",
            partition(&cx.loc.region),
            cx.loc.region,
            subnet.owner_id().unwrap_or_default()
        )
    });
    let mut attrs = Attrs::new();
    attrs.insert("vpc_id".into(), subnet.vpc_id().unwrap_or_default().into());
    attrs.insert(
        "cidr_block".into(),
        subnet.cidr_block().unwrap_or_default().into(),
    );
    attrs.insert(
        "availability_zone".into(),
        subnet.availability_zone().unwrap_or_default().into(),
    );
    attrs.insert(
        "map_public_ip_on_launch".into(),
        subnet.map_public_ip_on_launch().unwrap_or(false).into(),
    );
    attrs.insert("arn".into(), arn.into());
    attrs
}

fn to_live(cx: &Cx<'_>, subnet: &Subnet) -> Live {
    live(
        subnet.subnet_id().unwrap_or_default(),
        attrs(cx, subnet),
        subnet.tags(),
    )
}
