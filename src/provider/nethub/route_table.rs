//! `transit_gateway_route_table`: a transit gateway route table with the attachments associated with
//! it, the attachments propagating their routes to it, and its static routes, all three exclusive.
//!
//! Separate route tables are how environments that share a gateway are kept apart: an attachment is
//! associated with exactly one table, and reaches only what that table routes to. Static routes live in
//! the table (as `route_table` does for VPC routes): each is a destination and an attachment, or a
//! blackhole that drops the traffic.
//!
//! Read costs, per account and region, one filtered DescribeTransitGatewayRouteTables pass and one
//! DescribeTransitGatewayAttachments pass, which names each attachment's associated table (propagations
//! of deleted attachments, which the emulator keeps, are left out), and per table
//! GetTransitGatewayRouteTablePropagations and SearchTransitGatewayRoutes for the static routes (AWS has
//! no call across tables for these). Propagated routes are not managed here. moto 5.2.5 reports no
//! route targets (emulator extension `ec2_transit_gateway_route_targets` adds them): when an active
//! route comes without one, `routes` is compared against state.

use crate::aws::{AwsError, Created, call, call_create};
use crate::provider::attrs::{ignore_not_found, required, string_set};
use crate::provider::ec2::{
    created, describe_batched, filter, find_created, gone, live, object_list, opt_str, paginate,
    tag_spec, update_tags,
};
use crate::provider::{Attrs, Cx, Live};
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    Filter, ResourceType, TransitGatewayAttachment, TransitGatewayPropagationState,
    TransitGatewayRouteTable as Table, TransitGatewayRouteTableState, TransitGatewayRouteType,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// A static route: its target attachment, or `None` for a blackhole.
type Routes = BTreeMap<String, Option<String>>;

/// The live attachments of an account and region, each with its associated route table ("" for none).
type Attached = BTreeMap<String, String>;

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let ec2 = cx.ec2().await?;
    let tables = describe_batched(
        ids,
        "transit-gateway-route-table-id",
        |f| describe(&ec2, f),
        |t: &Table| (t.transit_gateway_route_table_id(), t.tags()),
    )
    .await?;
    if tables.is_empty() {
        return Ok(Vec::new());
    }
    let attachments = cx
        .cached("ec2:DescribeTransitGatewayAttachments", || {
            live_attachments(&ec2)
        })
        .await?;
    let mut found = Vec::new();
    for t in &tables {
        let id = t.transit_gateway_route_table_id().unwrap_or_default();
        let (associated, propagating) = links(&ec2, id, &attachments).await?;
        let routes = static_routes(&ec2, id).await?;
        found.push(to_live(t, associated, propagating, routes.as_ref()));
    }
    Ok(found)
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let op = "CreateTransitGatewayRouteTable";
    let ec2 = cx.ec2().await?;
    let tgw = required(desired, "transit_gateway_id", op)?;
    let tags = cx.creation_tags(address, desired);
    let outcome = call_create(
        op,
        || {
            ec2.create_transit_gateway_route_table()
                .transit_gateway_id(tgw)
                .tag_specifications(tag_spec(ResourceType::TransitGatewayRouteTable, &tags))
                .send()
        },
        || find_created(cx, address, |f| describe(&ec2, f), Table::tags),
    )
    .await?;
    let table = match outcome {
        Created::Sent(out) => out.transit_gateway_route_table().cloned(),
        Created::Found(t) => Some(t),
    };
    let table = table.ok_or_else(|| AwsError::other(op, "the response holds no route table"))?;
    let id = table
        .transit_gateway_route_table_id()
        .ok_or_else(|| AwsError::other(op, "the response holds no route table id"))?;
    let empty = Attrs::new();
    converge(&ec2, id, &empty, desired).await?;
    let live = to_live(
        &table,
        string_set(desired, "associations"),
        string_set(desired, "propagations"),
        Some(&desired_routes(desired)),
    );
    Ok(created(id, live.attrs, &tags))
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    let ec2 = cx.ec2().await?;
    update_tags(&ec2, id, current, desired).await?;
    converge(&ec2, id, current, desired).await?;
    let table = describe(&ec2, filter("transit-gateway-route-table-id", [id]))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            gone(
                "DescribeTransitGatewayRouteTables",
                "InvalidRouteTableID",
                id,
            )
        })?;
    let (associated, propagating) = links(&ec2, id, &live_attachments(&ec2).await?).await?;
    let routes = static_routes(&ec2, id)
        .await?
        .unwrap_or_else(|| desired_routes(desired));
    Ok(to_live(&table, associated, propagating, Some(&routes)))
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let ec2 = cx.ec2().await?;
    // AWS refuses to delete a table with associations; propagations and routes go with it.
    let (associated, _) = links(&ec2, id, &live_attachments(&ec2).await?).await?;
    for attachment in associated {
        ignore_not_found(disassociate(&ec2, id, &attachment).await)?;
    }
    ignore_not_found(
        call("DeleteTransitGatewayRouteTable", || {
            ec2.delete_transit_gateway_route_table()
                .transit_gateway_route_table_id(id)
                .send()
        })
        .await,
    )?;
    Ok(())
}

/// Brings associations, propagations and static routes from `current` to `desired`. What to undo is
/// read live (an attachment deleted since the plan cannot be let go of, and AWS lets it go by itself).
async fn converge(
    ec2: &Client,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<(), AwsError> {
    let (have, have_propagations) = links(ec2, id, &live_attachments(ec2).await?).await?;
    let want = string_set(desired, "associations");
    for a in have.difference(&want) {
        ignore_not_found(disassociate(ec2, id, a).await)?;
    }
    for a in want.difference(&have) {
        call("AssociateTransitGatewayRouteTable", || {
            ec2.associate_transit_gateway_route_table()
                .transit_gateway_route_table_id(id)
                .transit_gateway_attachment_id(a)
                .send()
        })
        .await?;
    }
    let have = have_propagations;
    let want = string_set(desired, "propagations");
    for a in have.difference(&want) {
        ignore_not_found(
            call("DisableTransitGatewayRouteTablePropagation", || {
                ec2.disable_transit_gateway_route_table_propagation()
                    .transit_gateway_route_table_id(id)
                    .transit_gateway_attachment_id(a)
                    .send()
            })
            .await,
        )?;
    }
    for a in want.difference(&have) {
        call("EnableTransitGatewayRouteTablePropagation", || {
            ec2.enable_transit_gateway_route_table_propagation()
                .transit_gateway_route_table_id(id)
                .transit_gateway_attachment_id(a)
                .send()
        })
        .await?;
    }
    converge_routes(ec2, id, &desired_routes(current), &desired_routes(desired)).await
}

/// Routes by destination: a changed target is deleted and created again (as Terraform replaces a
/// transit gateway route), which the emulator supports, unlike ReplaceTransitGatewayRoute.
async fn converge_routes(
    ec2: &Client,
    id: &str,
    have: &Routes,
    want: &Routes,
) -> Result<(), AwsError> {
    let stale = have.iter().filter(|(d, t)| want.get(*d) != Some(*t));
    for (destination, _) in stale {
        ignore_not_found(
            call("DeleteTransitGatewayRoute", || {
                ec2.delete_transit_gateway_route()
                    .transit_gateway_route_table_id(id)
                    .destination_cidr_block(destination)
                    .send()
            })
            .await,
        )?;
    }
    let new = want.iter().filter(|(d, t)| have.get(*d) != Some(*t));
    for (destination, target) in new {
        call("CreateTransitGatewayRoute", || {
            ec2.create_transit_gateway_route()
                .transit_gateway_route_table_id(id)
                .destination_cidr_block(destination)
                .set_transit_gateway_attachment_id(target.clone())
                .blackhole(target.is_none())
                .send()
        })
        .await?;
    }
    Ok(())
}

async fn disassociate(ec2: &Client, id: &str, attachment: &str) -> Result<(), AwsError> {
    call("DisassociateTransitGatewayRouteTable", || {
        ec2.disassociate_transit_gateway_route_table()
            .transit_gateway_route_table_id(id)
            .transit_gateway_attachment_id(attachment)
            .send()
    })
    .await?;
    Ok(())
}

/// The configured static routes by destination.
fn desired_routes(attrs: &Attrs) -> Routes {
    object_list(attrs, "routes")
        .filter_map(|r| {
            let destination = opt_str(r, "destination_cidr_block")?.to_string();
            let blackhole = r.get("blackhole").and_then(Value::as_bool).unwrap_or(false);
            let target = opt_str(r, "transit_gateway_attachment_id")
                .filter(|_| !blackhole)
                .map(str::to_string);
            Some((destination, target))
        })
        .collect()
}

/// One paginated DescribeTransitGatewayRouteTables pass, without tables that are gone or going.
async fn describe(ec2: &Client, f: Filter) -> Result<Vec<Table>, AwsError> {
    let all = paginate(|token| {
        let f = f.clone();
        async move {
            let out = call("DescribeTransitGatewayRouteTables", || {
                ec2.describe_transit_gateway_route_tables()
                    .filters(f.clone())
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
            Ok((
                out.transit_gateway_route_tables().to_vec(),
                out.next_token().map(str::to_string),
            ))
        }
    })
    .await?;
    Ok(all
        .into_iter()
        .filter(|t| {
            !matches!(
                t.state(),
                Some(
                    TransitGatewayRouteTableState::Deleted
                        | TransitGatewayRouteTableState::Deleting
                )
            )
        })
        .collect())
}

/// The attachments of the account and region that exist (all pages), each with the route table it is
/// associated with ("" for none). One pass serves every table: AWS names an attachment's table in
/// DescribeTransitGatewayAttachments, so no per-table association read is needed.
async fn live_attachments(ec2: &Client) -> Result<Attached, AwsError> {
    let all: Vec<TransitGatewayAttachment> = paginate(|token| async move {
        let out = call("DescribeTransitGatewayAttachments", || {
            ec2.describe_transit_gateway_attachments()
                .set_next_token(token.clone())
                .send()
        })
        .await?;
        Ok((
            out.transit_gateway_attachments().to_vec(),
            out.next_token().map(str::to_string),
        ))
    })
    .await?;
    let table_of = |a: &TransitGatewayAttachment| {
        a.association()
            .filter(|x| {
                x.state()
                    .is_none_or(|s| matches!(s.as_str(), "associated" | "associating"))
            })
            .and_then(|x| x.transit_gateway_route_table_id())
            .unwrap_or_default()
            .to_string()
    };
    Ok(all
        .iter()
        .filter(|a| {
            !a.state().is_some_and(|s| {
                matches!(s.as_str(), "deleted" | "deleting" | "failed" | "rejected")
            })
        })
        .filter_map(|a| Some((a.transit_gateway_attachment_id()?.to_string(), table_of(a))))
        .collect())
}

/// The attachments associated with table `id` and those propagating to it, among `live` ones.
async fn links(
    ec2: &Client,
    id: &str,
    live: &Attached,
) -> Result<(BTreeSet<String>, BTreeSet<String>), AwsError> {
    let associated = live
        .iter()
        .filter(|(_, table)| table.as_str() == id)
        .map(|(attachment, _)| attachment.clone())
        .collect();
    let propagating = propagations(ec2, id)
        .await?
        .into_iter()
        .filter(|a| live.contains_key(a))
        .collect();
    Ok((associated, propagating))
}

async fn propagations(ec2: &Client, id: &str) -> Result<BTreeSet<String>, AwsError> {
    let all = paginate(|token| async move {
        let out = call("GetTransitGatewayRouteTablePropagations", || {
            ec2.get_transit_gateway_route_table_propagations()
                .transit_gateway_route_table_id(id)
                .set_next_token(token.clone())
                .send()
        })
        .await?;
        Ok((
            out.transit_gateway_route_table_propagations().to_vec(),
            out.next_token().map(str::to_string),
        ))
    })
    .await?;
    Ok(all
        .iter()
        .filter(|p| p.state() != Some(&TransitGatewayPropagationState::Disabled))
        .filter_map(|p| p.transit_gateway_attachment_id().map(str::to_string))
        .collect())
}

/// The static routes of table `id` (SearchTransitGatewayRoutes filtered to static ones; one answer
/// holds up to 1,000 by default, and the emulator fails when asked for a number), or `None` when an active route comes without its attachment: the emulator does not
/// report route targets, and the routes are then compared against state.
async fn static_routes(ec2: &Client, id: &str) -> Result<Option<Routes>, AwsError> {
    let out = call("SearchTransitGatewayRoutes", || {
        ec2.search_transit_gateway_routes()
            .transit_gateway_route_table_id(id)
            .filters(filter("type", ["static"]))
            .send()
    })
    .await?;
    let mut routes = Routes::new();
    for r in out.routes() {
        let Some(destination) = r.destination_cidr_block() else {
            continue;
        };
        if r.r#type()
            .is_some_and(|t| t != &TransitGatewayRouteType::Static)
        {
            continue;
        }
        let blackhole = r.state().is_some_and(|s| s.as_str() == "blackhole");
        let target = r
            .transit_gateway_attachments()
            .first()
            .and_then(|a| a.transit_gateway_attachment_id());
        match (blackhole, target) {
            (true, _) => routes.insert(destination.to_string(), None),
            (false, Some(t)) => routes.insert(destination.to_string(), Some(t.to_string())),
            (false, None) => return Ok(None),
        };
    }
    Ok(Some(routes))
}

fn to_live(
    t: &Table,
    associated: BTreeSet<String>,
    propagating: BTreeSet<String>,
    routes: Option<&Routes>,
) -> Live {
    let routes: Option<Vec<Value>> = routes.map(|routes| {
        routes
            .iter()
            .map(|(destination, target)| {
                let mut r = serde_json::Map::new();
                r.insert("destination_cidr_block".into(), destination.clone().into());
                match target {
                    Some(a) => r.insert("transit_gateway_attachment_id".into(), a.clone().into()),
                    None => r.insert("blackhole".into(), true.into()),
                };
                Value::Object(r)
            })
            .collect()
    });
    let mut attrs = Attrs::new();
    attrs.insert(
        "transit_gateway_id".into(),
        t.transit_gateway_id().unwrap_or_default().into(),
    );
    attrs.insert("associations".into(), associated.into_iter().collect());
    attrs.insert("propagations".into(), propagating.into_iter().collect());
    if let Some(routes) = routes {
        attrs.insert("routes".into(), routes.into());
    }
    live(
        t.transit_gateway_route_table_id().unwrap_or_default(),
        attrs,
        t.tags(),
    )
}
