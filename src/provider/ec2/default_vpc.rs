//! `default_vpc`: the default VPC of an account and region, as a setting.
//!
//! The resource always has the id `"default"` (one per account and region), whether or not a default
//! VPC exists. Read answers only when asked for that id (it carries no tags to be adopted by), and
//! reports `delete = true` when the region has no default VPC and `delete = false` when it has one, so
//! after `delete = true` is applied the next read equals the configuration. Read looks for the default
//! VPC in the listing `vpc`'s read uses ([`vpc::listing`]), so during a refresh both kinds cost one
//! DescribeVpcs per account and region together.
//!
//! Applying `delete = true` deletes the default VPC: detaches and deletes its internet gateways,
//! deletes its subnets, then the VPC (anything else in it, e.g. instances, makes AWS refuse with
//! DependencyViolation). Applying `delete = false` keeps the default VPC, creating one
//! (CreateDefaultVpc) if the region has none. Removing the resource from the configuration changes
//! nothing in AWS.

use super::{bool_attr, filter, ignore_not_found, internet_gateway, subnet, vpc};
use crate::aws::{AwsError, call};
use crate::provider::{Attrs, Cx, Live};
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::Vpc;

/// The id of the one `default_vpc` resource of an account and region.
pub const ID: &str = "default";

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    if !ids.iter().any(|id| id == ID) {
        return Ok(Vec::new());
    }
    // The VPC listing `vpc`'s read uses too: one DescribeVpcs per account and region during a refresh.
    let vpcs = vpc::listing(cx).await?;
    let exists = default_of(vpcs.iter()).is_some();
    Ok(vec![to_live(!exists)])
}

pub async fn create(cx: &Cx<'_>, _address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    apply(cx, desired).await
}

pub async fn update(
    cx: &Cx<'_>,
    _id: &str,
    _current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    apply(cx, desired).await
}

/// Leaves the region as it is: dropping the setting neither deletes nor restores anything.
pub async fn delete(_cx: &Cx<'_>, _id: &str, _current: &Attrs) -> Result<(), AwsError> {
    Ok(())
}

async fn apply(cx: &Cx<'_>, desired: &Attrs) -> Result<Live, AwsError> {
    let ec2 = cx.ec2().await?;
    let delete = bool_attr(desired, "delete", true);
    match (find(&ec2).await?, delete) {
        (Some(vpc_id), true) => delete_vpc(&ec2, &vpc_id).await?,
        (None, false) => {
            call("CreateDefaultVpc", || ec2.create_default_vpc().send()).await?;
        }
        _ => {}
    }
    Ok(to_live(delete))
}

/// The id of the region's default VPC, if it has one, asked of EC2 now (never from a cached listing:
/// apply must see fresh data).
async fn find(ec2: &Client) -> Result<Option<String>, AwsError> {
    let vpcs = vpc::describe(ec2, filter("is-default", ["true"])).await?;
    Ok(default_of(&vpcs))
}

/// The id of the default VPC among `vpcs` (checked on the client side: a server may ignore the filter).
fn default_of<'a>(vpcs: impl IntoIterator<Item = &'a Vpc>) -> Option<String> {
    vpcs.into_iter()
        .find(|v| v.is_default() == Some(true))
        .and_then(|v| v.vpc_id().map(str::to_string))
}

/// Deletes a VPC with the internet gateways and subnets AWS gives a default VPC.
async fn delete_vpc(ec2: &Client, vpc_id: &str) -> Result<(), AwsError> {
    let gateways = internet_gateway::describe(ec2, filter("attachment.vpc-id", [vpc_id])).await?;
    for gateway in &gateways {
        let Some(id) = gateway.internet_gateway_id() else {
            continue;
        };
        if !internet_gateway::attached_vpcs(gateway)
            .iter()
            .any(|v| v == vpc_id)
        {
            continue; // the server ignored the filter
        }
        internet_gateway::detach(ec2, id, vpc_id).await?;
        ignore_not_found(
            call("DeleteInternetGateway", || {
                ec2.delete_internet_gateway().internet_gateway_id(id).send()
            })
            .await,
        )?;
    }
    let subnets = subnet::describe(ec2, filter("vpc-id", [vpc_id])).await?;
    for s in subnets.iter().filter(|s| s.vpc_id() == Some(vpc_id)) {
        if let Some(id) = s.subnet_id() {
            ignore_not_found(
                call("DeleteSubnet", || ec2.delete_subnet().subnet_id(id).send()).await,
            )?;
        }
    }
    ignore_not_found(call("DeleteVpc", || ec2.delete_vpc().vpc_id(vpc_id).send()).await)?;
    Ok(())
}

fn to_live(deleted: bool) -> Live {
    let mut attrs = Attrs::new();
    attrs.insert("delete".into(), deleted.into());
    attrs.insert("id".into(), ID.into());
    Live {
        id: ID.to_string(),
        attrs,
        address: None,
        lineage: None,
    }
}
