//! `vpc`: a VPC with its DNS settings.
//!
//! Read is one unfiltered DescribeVpcs pass ([`listing`]), kept to the VPCs asked for by id or carrying
//! the address tag. A region holds few VPCs (the default quota is five), so the whole listing costs no
//! more than a filtered one, and during a refresh it is shared with `default_vpc`'s read: one
//! DescribeVpcs per account and region for both kinds. EC2 reports the DNS settings only one VPC and
//! one attribute at a time (DescribeVpcAttribute), which would cost two requests per VPC, so `read`
//! leaves `enable_dns_support` and `enable_dns_hostnames` out (they are compared against state); create
//! and update set them with ModifyVpcAttribute and report what they set. The ARN is built from the
//! owner, region and id, as DescribeVpcs does not return one.

use super::{
    bool_attr, created, filter, find_created, gone, has_address_tag, ignore_not_found, live,
    paginate, partition, required, tag_spec, update_tags,
};
use crate::aws::{AwsError, Created, call, call_create};
use crate::provider::{Attrs, Cx, Live};
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{AttributeBooleanValue, Filter, ResourceType, Vpc};
use std::collections::HashSet;
use std::sync::Arc;

/// The DNS settings of a new VPC.
const DEFAULT_DNS_SUPPORT: bool = true;
const DEFAULT_DNS_HOSTNAMES: bool = false;

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let vpcs = listing(cx).await?;
    let mut seen = HashSet::new();
    Ok(vpcs
        .iter()
        .filter(|v| {
            v.vpc_id().is_some_and(|id| {
                (wanted.contains(id) || has_address_tag(v.tags())) && seen.insert(id)
            })
        })
        .map(|v| to_live(cx, v))
        .collect())
}

/// The listing of VPCs the `vpc` and `default_vpc` reads share during a refresh.
pub(crate) const SHARED_LISTING: &str = "ec2:DescribeVpcs";

/// Every VPC of the context's account and region (one unfiltered, paginated DescribeVpcs pass), shared
/// by the `vpc` and `default_vpc` reads of one refresh through [`Cx::cached`]; fetched afresh outside
/// refresh.
pub(super) async fn listing(cx: &Cx<'_>) -> Result<Arc<Vec<Vpc>>, AwsError> {
    let ec2 = cx.ec2().await?;
    cx.cached(SHARED_LISTING, || describe_with(&ec2, None))
        .await
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let ec2 = cx.ec2().await?;
    let cidr = required(desired, "cidr_block", "CreateVpc")?;
    let tags = cx.creation_tags(address, desired);
    let outcome = call_create(
        "CreateVpc",
        || {
            ec2.create_vpc()
                .cidr_block(cidr)
                .tag_specifications(tag_spec(ResourceType::Vpc, &tags))
                .send()
        },
        || find_created(cx, address, |f| describe(&ec2, f), Vpc::tags),
    )
    .await?;
    let vpc = match outcome {
        Created::Sent(out) => out.vpc().cloned(),
        Created::Found(vpc) => Some(vpc),
    };
    let vpc = &vpc.ok_or_else(|| AwsError::other("CreateVpc", "the response holds no VPC"))?;
    let id = vpc
        .vpc_id()
        .ok_or_else(|| AwsError::other("CreateVpc", "the response holds no VPC id"))?;
    set_dns(&ec2, id, None, desired).await?;
    let mut live = created(id, attrs(cx, vpc), &tags);
    add_dns(&mut live.attrs, desired);
    Ok(live)
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    let ec2 = cx.ec2().await?;
    update_tags(&ec2, id, current, desired).await?;
    set_dns(&ec2, id, Some(current), desired).await?;
    let vpc = describe(&ec2, filter("vpc-id", [id]))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| gone("DescribeVpcs", "InvalidVpcID", id))?;
    let mut live = to_live(cx, &vpc);
    add_dns(&mut live.attrs, desired);
    Ok(live)
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let ec2 = cx.ec2().await?;
    ignore_not_found(call("DeleteVpc", || ec2.delete_vpc().vpc_id(id).send()).await)?;
    Ok(())
}

/// One paginated DescribeVpcs pass.
pub(super) async fn describe(ec2: &Client, f: Filter) -> Result<Vec<Vpc>, AwsError> {
    describe_with(ec2, Some(f)).await
}

/// One paginated DescribeVpcs pass, with a filter or (`None`) of every VPC.
async fn describe_with(ec2: &Client, f: Option<Filter>) -> Result<Vec<Vpc>, AwsError> {
    paginate(|token| {
        let f = f.clone();
        async move {
            let out = call("DescribeVpcs", || {
                ec2.describe_vpcs()
                    .set_filters(f.clone().map(|f| vec![f]))
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
            Ok((out.vpcs().to_vec(), out.next_token().map(str::to_string)))
        }
    })
    .await
}

fn attrs(cx: &Cx<'_>, vpc: &Vpc) -> Attrs {
    let id = vpc.vpc_id().unwrap_or_default();
    let arn = format!(
        "arn:{}:ec2:{}:{}:vpc/{id}",
        partition(&cx.loc.region),
        cx.loc.region,
        vpc.owner_id().unwrap_or_default()
    );
    let mut attrs = Attrs::new();
    attrs.insert(
        "cidr_block".into(),
        vpc.cidr_block().unwrap_or_default().into(),
    );
    attrs.insert("arn".into(), arn.into());
    attrs
}

fn to_live(cx: &Cx<'_>, vpc: &Vpc) -> Live {
    live(vpc.vpc_id().unwrap_or_default(), attrs(cx, vpc), vpc.tags())
}

/// Reports the DNS settings as set from `desired`.
fn add_dns(attrs: &mut Attrs, desired: &Attrs) {
    for (name, default) in [
        ("enable_dns_support", DEFAULT_DNS_SUPPORT),
        ("enable_dns_hostnames", DEFAULT_DNS_HOSTNAMES),
    ] {
        attrs.insert(name.into(), bool_attr(desired, name, default).into());
    }
}

/// Sets the DNS settings that differ from `current` (`None`: a new VPC, with AWS's defaults). One
/// ModifyVpcAttribute per setting, as the API takes only one at a time. Support is enabled before
/// hostnames are, and hostnames disabled before support is, as AWS requires.
async fn set_dns(
    ec2: &Client,
    id: &str,
    current: Option<&Attrs>,
    desired: &Attrs,
) -> Result<(), AwsError> {
    let value = |attrs: Option<&Attrs>, name: &str, default: bool| match attrs {
        Some(a) => a.get(name).and_then(serde_json::Value::as_bool),
        None => Some(default),
    };
    let support = bool_attr(desired, "enable_dns_support", DEFAULT_DNS_SUPPORT);
    let hostnames = bool_attr(desired, "enable_dns_hostnames", DEFAULT_DNS_HOSTNAMES);
    let support_changed =
        value(current, "enable_dns_support", DEFAULT_DNS_SUPPORT) != Some(support);
    let hostnames_changed =
        value(current, "enable_dns_hostnames", DEFAULT_DNS_HOSTNAMES) != Some(hostnames);
    let flag = |v: bool| AttributeBooleanValue::builder().value(v).build();
    if support_changed && support {
        call("ModifyVpcAttribute", || {
            ec2.modify_vpc_attribute()
                .vpc_id(id)
                .enable_dns_support(flag(true))
                .send()
        })
        .await?;
    }
    if hostnames_changed {
        call("ModifyVpcAttribute", || {
            ec2.modify_vpc_attribute()
                .vpc_id(id)
                .enable_dns_hostnames(flag(hostnames))
                .send()
        })
        .await?;
    }
    if support_changed && !support {
        call("ModifyVpcAttribute", || {
            ec2.modify_vpc_attribute()
                .vpc_id(id)
                .enable_dns_support(flag(false))
                .send()
        })
        .await?;
    }
    Ok(())
}
