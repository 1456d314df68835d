//! `transit_gateway`: a transit gateway, the hub workload VPCs attach to (usually in the network
//! account, shared with the organization through a `ram_resource_share`).
//!
//! Read is one filtered DescribeTransitGateways pass per account and region ([`describe_batched`]);
//! gateways being deleted or deleted (AWS lists them for a while) are left out. The description, the
//! default route table association and propagation, the acceptance of shared attachments and DNS
//! support change in place (ModifyTransitGateway); the ASN forces a replacement. The default route
//! table association and propagation are off unless asked for: a hub that separates environments
//! routes each attachment through the route table it is explicitly associated with.
//! CreateTransitGateway takes no client token: an unanswered create is recognised by its tags.

use crate::aws::{AwsError, Created, call, call_create};
use crate::provider::attrs::{ignore_not_found, str_or_empty};
use crate::provider::ec2::{
    bool_attr, created, describe_batched, filter, find_created, gone, live, paginate, tag_spec,
    update_tags,
};
use crate::provider::{Attrs, Cx, Live};
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    AutoAcceptSharedAttachmentsValue as AutoAccept, DefaultRouteTableAssociationValue as Assoc,
    DefaultRouteTablePropagationValue as Propag, DnsSupportValue as Dns, Filter,
    ModifyTransitGatewayOptions, ResourceType, TransitGateway, TransitGatewayRequestOptions,
    TransitGatewayState,
};

/// AWS's ASN for a gateway created without one.
const DEFAULT_ASN: i64 = 64512;

/// The switches, by attribute name, with their defaults and the option name AWS reports them under.
struct Switches {
    association: bool,
    propagation: bool,
    auto_accept: bool,
    dns: bool,
}

impl Switches {
    fn of(attrs: &Attrs) -> Switches {
        Switches {
            association: bool_attr(attrs, "default_route_table_association", false),
            propagation: bool_attr(attrs, "default_route_table_propagation", false),
            auto_accept: bool_attr(attrs, "auto_accept_shared_attachments", false),
            dns: bool_attr(attrs, "dns_support", true),
        }
    }
}

/// `enable` or `disable`, as every transit gateway option is spelled.
pub(super) fn onoff(on: bool) -> &'static str {
    if on { "enable" } else { "disable" }
}

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let ec2 = cx.ec2().await?;
    let gateways = describe_batched(
        ids,
        "transit-gateway-id",
        |f| describe(&ec2, f),
        |g: &TransitGateway| (g.transit_gateway_id(), g.tags()),
    )
    .await?;
    Ok(gateways.iter().map(to_live).collect())
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let op = "CreateTransitGateway";
    let ec2 = cx.ec2().await?;
    let tags = cx.creation_tags(address, desired);
    let s = Switches::of(desired);
    let options = TransitGatewayRequestOptions::builder()
        .amazon_side_asn(asn(desired))
        .default_route_table_association(Assoc::from(onoff(s.association)))
        .default_route_table_propagation(Propag::from(onoff(s.propagation)))
        .auto_accept_shared_attachments(AutoAccept::from(onoff(s.auto_accept)))
        .dns_support(Dns::from(onoff(s.dns)))
        .build();
    let description = str_or_empty(desired, "description");
    let outcome = call_create(
        op,
        || {
            ec2.create_transit_gateway()
                .set_description((!description.is_empty()).then(|| description.to_string()))
                .options(options.clone())
                .tag_specifications(tag_spec(ResourceType::TransitGateway, &tags))
                .send()
        },
        || find_created(cx, address, |f| describe(&ec2, f), TransitGateway::tags),
    )
    .await?;
    let gateway = match outcome {
        Created::Sent(out) => out.transit_gateway().cloned(),
        Created::Found(g) => Some(g),
    };
    let gateway = gateway.ok_or_else(|| AwsError::other(op, "the response holds no gateway"))?;
    let id = gateway
        .transit_gateway_id()
        .ok_or_else(|| AwsError::other(op, "the response holds no gateway id"))?;
    Ok(created(id, to_live(&gateway).attrs, &tags))
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    let ec2 = cx.ec2().await?;
    update_tags(&ec2, id, current, desired).await?;
    let (now, want) = (Switches::of(current), Switches::of(desired));
    let description = str_or_empty(desired, "description");
    let changed = |a: bool, b: bool| (a != b).then(|| onoff(b));
    let options = ModifyTransitGatewayOptions::builder()
        .set_default_route_table_association(
            changed(now.association, want.association).map(Assoc::from),
        )
        .set_default_route_table_propagation(
            changed(now.propagation, want.propagation).map(Propag::from),
        )
        .set_auto_accept_shared_attachments(
            changed(now.auto_accept, want.auto_accept).map(AutoAccept::from),
        )
        .set_dns_support(changed(now.dns, want.dns).map(Dns::from))
        .build();
    if options != ModifyTransitGatewayOptions::builder().build()
        || str_or_empty(current, "description") != description
    {
        call("ModifyTransitGateway", || {
            ec2.modify_transit_gateway()
                .transit_gateway_id(id)
                .description(description)
                .options(options.clone())
                .send()
        })
        .await?;
    }
    let gateway = describe(&ec2, filter("transit-gateway-id", [id]))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| gone("DescribeTransitGateways", "InvalidTransitGatewayID", id))?;
    Ok(to_live(&gateway))
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let ec2 = cx.ec2().await?;
    ignore_not_found(
        call("DeleteTransitGateway", || {
            ec2.delete_transit_gateway().transit_gateway_id(id).send()
        })
        .await,
    )?;
    Ok(())
}

fn asn(attrs: &Attrs) -> i64 {
    attrs
        .get("amazon_side_asn")
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(DEFAULT_ASN)
}

/// One paginated DescribeTransitGateways pass, without the gateways deleted or being deleted.
pub(super) async fn describe(ec2: &Client, f: Filter) -> Result<Vec<TransitGateway>, AwsError> {
    let all = paginate(|token| {
        let f = f.clone();
        async move {
            let out = call("DescribeTransitGateways", || {
                ec2.describe_transit_gateways()
                    .filters(f.clone())
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
            Ok((
                out.transit_gateways().to_vec(),
                out.next_token().map(str::to_string),
            ))
        }
    })
    .await?;
    Ok(all
        .into_iter()
        .filter(|g| {
            !matches!(
                g.state(),
                Some(TransitGatewayState::Deleted | TransitGatewayState::Deleting)
            )
        })
        .collect())
}

fn to_live(g: &TransitGateway) -> Live {
    let options = g.options();
    let on = |v: Option<&str>, default: bool| v.map_or(default, |v| v == "enable");
    let mut attrs = Attrs::new();
    attrs.insert(
        "description".into(),
        g.description().unwrap_or_default().into(),
    );
    let asn = options
        .and_then(|o| o.amazon_side_asn())
        .unwrap_or(DEFAULT_ASN);
    attrs.insert("amazon_side_asn".into(), asn.into());
    let switches = [
        (
            "default_route_table_association",
            on(
                options
                    .and_then(|o| o.default_route_table_association())
                    .map(|v| v.as_str()),
                false,
            ),
        ),
        (
            "default_route_table_propagation",
            on(
                options
                    .and_then(|o| o.default_route_table_propagation())
                    .map(|v| v.as_str()),
                false,
            ),
        ),
        (
            "auto_accept_shared_attachments",
            on(
                options
                    .and_then(|o| o.auto_accept_shared_attachments())
                    .map(|v| v.as_str()),
                false,
            ),
        ),
        (
            "dns_support",
            on(
                options.and_then(|o| o.dns_support()).map(|v| v.as_str()),
                true,
            ),
        ),
    ];
    for (name, value) in switches {
        attrs.insert(name.into(), value.into());
    }
    attrs.insert("owner_id".into(), g.owner_id().unwrap_or_default().into());
    if let Some(arn) = g.transit_gateway_arn() {
        attrs.insert("arn".into(), arn.into());
    }
    live(g.transit_gateway_id().unwrap_or_default(), attrs, g.tags())
}
