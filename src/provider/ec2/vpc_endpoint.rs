//! `vpc_endpoint`: a gateway endpoint (S3, DynamoDB: routes in the given route tables) or an
//! interface endpoint (network interfaces in the given subnets, with security groups and private
//! DNS) of a VPC.
//!
//! Read is one filtered DescribeVpcEndpoints pass per account and region ([`super::describe_batched`]);
//! endpoints deleted, being deleted, failed or rejected are left out. Route tables, subnets, security
//! groups, the policy and private DNS change in place (ModifyVpcEndpoint); the VPC, the service and
//! the type force a replacement. The policy is a document compared by meaning; unset, it is left as
//! AWS has it (full access by default). CreateVpcEndpoint takes a client token, and an unanswered
//! create is also recognised by its tags before it is sent again.

use super::{
    bool_attr, created, describe_batched, filter, find_created, gone, live, paginate, required,
    str_list, tag_spec, update_tags,
};
use crate::aws::{AwsError, Created, call, call_create};
use crate::provider::attrs::{client_token, set_delta};
use crate::provider::iam::{decode_document, document_text, same_document};
use crate::provider::{Attrs, Cx, Live};
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{Filter, ResourceType, VpcEndpoint, VpcEndpointType};
use serde_json::Value;

const NOT_FOUND: &str = "InvalidVpcEndpointId.NotFound";

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let ec2 = cx.ec2().await?;
    let found = describe_batched(
        ids,
        "vpc-endpoint-id",
        |f| describe(&ec2, f),
        |e: &VpcEndpoint| (e.vpc_endpoint_id(), e.tags()),
    )
    .await?;
    Ok(found.iter().map(to_live).collect())
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let op = "CreateVpcEndpoint";
    let ec2 = cx.ec2().await?;
    let vpc = required(desired, "vpc_id", op)?;
    let service = required(desired, "service_name", op)?;
    let kind = VpcEndpointType::from(required(desired, "vpc_endpoint_type", op)?);
    let interface = kind == VpcEndpointType::Interface;
    let policy = desired
        .get("policy")
        .filter(|p| !p.is_null())
        .map(document_text);
    let tags = cx.creation_tags(address, desired);
    let token = client_token();
    let outcome = call_create(
        op,
        || {
            ec2.create_vpc_endpoint()
                .vpc_id(vpc)
                .service_name(service)
                .vpc_endpoint_type(kind.clone())
                .set_route_table_ids(non_empty(str_list(desired, "route_table_ids")))
                .set_subnet_ids(non_empty(str_list(desired, "subnet_ids")))
                .set_security_group_ids(non_empty(str_list(desired, "security_group_ids")))
                .set_private_dns_enabled(
                    interface.then(|| bool_attr(desired, "private_dns_enabled", false)),
                )
                .set_policy_document(policy.clone())
                .client_token(&token)
                .tag_specifications(tag_spec(ResourceType::VpcEndpoint, &tags))
                .send()
        },
        || find_created(cx, address, |f| describe(&ec2, f), VpcEndpoint::tags),
    )
    .await?;
    let endpoint = match outcome {
        Created::Sent(out) => out.vpc_endpoint().cloned(),
        Created::Found(e) => Some(e),
    };
    let endpoint =
        endpoint.ok_or_else(|| AwsError::other(op, "the response holds no VPC endpoint"))?;
    let id = endpoint
        .vpc_endpoint_id()
        .ok_or_else(|| AwsError::other(op, "the response holds no VPC endpoint id"))?;
    Ok(created(id, to_live(&endpoint).attrs, &tags))
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    let ec2 = cx.ec2().await?;
    update_tags(&ec2, id, current, desired).await?;
    let (add_rt, remove_rt) = set_delta(current, desired, "route_table_ids");
    let (add_subnet, remove_subnet) = set_delta(current, desired, "subnet_ids");
    let (add_sg, remove_sg) = set_delta(current, desired, "security_group_ids");
    let policy = desired
        .get("policy")
        .filter(|p| !p.is_null())
        .filter(|p| !same_document(current.get("policy").unwrap_or(&Value::Null), p))
        .map(document_text);
    let interface = desired.get("vpc_endpoint_type").and_then(Value::as_str) == Some("Interface");
    let dns = bool_attr(desired, "private_dns_enabled", false);
    let dns = (interface && dns != bool_attr(current, "private_dns_enabled", false)).then_some(dns);
    let changes = [
        &add_rt,
        &remove_rt,
        &add_subnet,
        &remove_subnet,
        &add_sg,
        &remove_sg,
    ];
    if changes.iter().any(|c| c.is_some()) || policy.is_some() || dns.is_some() {
        call("ModifyVpcEndpoint", || {
            ec2.modify_vpc_endpoint()
                .vpc_endpoint_id(id)
                .set_add_route_table_ids(add_rt.clone())
                .set_remove_route_table_ids(remove_rt.clone())
                .set_add_subnet_ids(add_subnet.clone())
                .set_remove_subnet_ids(remove_subnet.clone())
                .set_add_security_group_ids(add_sg.clone())
                .set_remove_security_group_ids(remove_sg.clone())
                .set_policy_document(policy.clone())
                .set_private_dns_enabled(dns)
                .send()
        })
        .await?;
    }
    Ok(to_live(&find(&ec2, id).await?))
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let op = "DeleteVpcEndpoints";
    let ec2 = cx.ec2().await?;
    // Only the endpoint's own absence means done: another NotFound (a route of one of its route
    // tables) means the endpoint is still there.
    let out = match call(op, || {
        ec2.delete_vpc_endpoints().vpc_endpoint_ids(id).send()
    })
    .await
    {
        Err(e) if e.code.as_deref() == Some(NOT_FOUND) => return Ok(()),
        other => other?,
    };
    // An endpoint already gone comes back as an unsuccessful item, not an error: that is done too.
    let failed = out
        .unsuccessful()
        .iter()
        .filter_map(|u| u.error())
        .find(|e| e.code() != Some(NOT_FOUND));
    match failed {
        Some(e) => Err(AwsError {
            code: e.code().map(str::to_string),
            ..AwsError::other(op, e.message().unwrap_or("failed"))
        }),
        None => Ok(()),
    }
}

fn non_empty(list: Vec<String>) -> Option<Vec<String>> {
    (!list.is_empty()).then_some(list)
}

async fn find(ec2: &Client, id: &str) -> Result<VpcEndpoint, AwsError> {
    describe(ec2, filter("vpc-endpoint-id", [id]))
        .await?
        .into_iter()
        .find(|e| e.vpc_endpoint_id() == Some(id))
        .ok_or_else(|| gone("DescribeVpcEndpoints", "InvalidVpcEndpointId", id))
}

/// One paginated DescribeVpcEndpoints pass, without endpoints that are gone or going.
async fn describe(ec2: &Client, f: Filter) -> Result<Vec<VpcEndpoint>, AwsError> {
    let all = paginate(|token| {
        let f = f.clone();
        async move {
            let out = call("DescribeVpcEndpoints", || {
                ec2.describe_vpc_endpoints()
                    .filters(f.clone())
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
            Ok((
                out.vpc_endpoints().to_vec(),
                out.next_token().map(str::to_string),
            ))
        }
    })
    .await?;
    // AWS answers the state in lower case ("available", "deleted"), unlike the SDK's enum names.
    let gone_or_going = |e: &VpcEndpoint| {
        e.state().is_some_and(|s| {
            let s = s.as_str().to_ascii_lowercase();
            matches!(
                s.as_str(),
                "deleted" | "deleting" | "failed" | "rejected" | "expired"
            )
        })
    };
    Ok(all.into_iter().filter(|e| !gone_or_going(e)).collect())
}

fn sorted(ids: &[String]) -> Value {
    let mut ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    ids.sort_unstable();
    ids.into()
}

fn to_live(e: &VpcEndpoint) -> Live {
    let kind = e
        .vpc_endpoint_type()
        .map(|t| t.as_str())
        .unwrap_or_default();
    let groups: Vec<String> = e
        .groups()
        .iter()
        .filter_map(|g| g.group_id().map(str::to_string))
        .collect();
    let mut attrs = Attrs::new();
    attrs.insert("vpc_id".into(), e.vpc_id().unwrap_or_default().into());
    attrs.insert(
        "service_name".into(),
        e.service_name().unwrap_or_default().into(),
    );
    attrs.insert("vpc_endpoint_type".into(), kind.into());
    attrs.insert("route_table_ids".into(), sorted(e.route_table_ids()));
    attrs.insert("subnet_ids".into(), sorted(e.subnet_ids()));
    attrs.insert("security_group_ids".into(), sorted(&groups));
    // Private DNS is a setting of interface endpoints only; a gateway endpoint has none.
    let dns = kind == "Interface" && e.private_dns_enabled().unwrap_or(false);
    attrs.insert("private_dns_enabled".into(), dns.into());
    attrs.insert(
        "policy".into(),
        e.policy_document().map_or(Value::Null, decode_document),
    );
    live(e.vpc_endpoint_id().unwrap_or_default(), attrs, e.tags())
}
