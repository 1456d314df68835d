//! `route_table`: a route table with its routes and subnet associations, both exclusive.
//!
//! `routes` holds the IPv4 routes landfall manages: the `local` route and propagated routes are
//! neither reported nor touched, nor are IPv6 and prefix-list routes (the schema cannot express them).
//! Each route reports only the target it has. Updates go by destination: CreateRoute for a new one,
//! ReplaceRoute for a changed target, DeleteRoute for one no longer configured. `subnet_ids` are the
//! explicit associations (the main association is not one); a subnet associated with another table is
//! moved with ReplaceRouteTableAssociation. Delete disassociates the subnets first.

use super::{
    created, describe_batched, filter, find_created, gone, ignore_not_found, live, object_list,
    opt_str, paginate, required, str_list, tag_spec, update_tags,
};
use crate::aws::{AwsError, Created, call, call_create};
use crate::provider::{Attrs, Cx, Live};
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    Filter, ResourceType, Route as AwsRoute, RouteOrigin, RouteTable,
    RouteTableAssociationStateCode,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let ec2 = cx.ec2().await?;
    let tables = describe_batched(
        ids,
        "route-table-id",
        |f| describe(&ec2, f),
        |t: &RouteTable| (t.route_table_id(), t.tags()),
    )
    .await?;
    Ok(tables.iter().map(to_live).collect())
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let op = "CreateRouteTable";
    let ec2 = cx.ec2().await?;
    let vpc_id = required(desired, "vpc_id", op)?;
    let tags = cx.creation_tags(address, desired);
    let outcome = call_create(
        op,
        || {
            ec2.create_route_table()
                .vpc_id(vpc_id)
                .tag_specifications(tag_spec(ResourceType::RouteTable, &tags))
                .send()
        },
        || find_created(cx, address, |f| describe(&ec2, f), RouteTable::tags),
    )
    .await?;
    let table = match outcome {
        Created::Sent(out) => out.route_table().cloned(),
        Created::Found(table) => Some(table),
    };
    let id = table
        .as_ref()
        .and_then(|t| t.route_table_id())
        .ok_or_else(|| AwsError::other(op, "the response holds no route table id"))?;
    let routes = desired_routes(desired)?;
    for route in routes.values() {
        create_route(&ec2, id, route).await?;
    }
    let subnets: BTreeSet<String> = str_list(desired, "subnet_ids").into_iter().collect();
    for subnet_id in &subnets {
        associate(&ec2, id, subnet_id).await?;
    }
    let mut attrs = Attrs::new();
    attrs.insert("vpc_id".into(), vpc_id.into());
    attrs.insert(
        "routes".into(),
        routes.values().map(Route::to_json).collect(),
    );
    attrs.insert("subnet_ids".into(), subnets.into_iter().collect());
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
    let table = find(&ec2, id).await?;

    let want = desired_routes(desired)?;
    let have: BTreeMap<String, Route> = managed_routes(&table)
        .map(|r| (r.destination.clone(), r))
        .collect();
    for (destination, route) in &want {
        match have.get(destination) {
            None => create_route(&ec2, id, route).await?,
            Some(old) if old != route => replace_route(&ec2, id, route).await?,
            Some(_) => {}
        }
    }
    for destination in have.keys().filter(|d| !want.contains_key(*d)) {
        ignore_not_found(
            call("DeleteRoute", || {
                ec2.delete_route()
                    .route_table_id(id)
                    .destination_cidr_block(destination)
                    .send()
            })
            .await,
        )?;
    }

    let want: BTreeSet<String> = str_list(desired, "subnet_ids").into_iter().collect();
    let have = associations(&table);
    for (subnet_id, association_id) in &have {
        if !want.contains(subnet_id) {
            disassociate(&ec2, association_id).await?;
        }
    }
    for subnet_id in want.iter().filter(|s| !have.contains_key(*s)) {
        associate(&ec2, id, subnet_id).await?;
    }
    Ok(to_live(&find(&ec2, id).await?))
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let ec2 = cx.ec2().await?;
    let table = match find(&ec2, id).await {
        Ok(t) => t,
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(e),
    };
    for association_id in associations(&table).values() {
        disassociate(&ec2, association_id).await?;
    }
    ignore_not_found(
        call("DeleteRouteTable", || {
            ec2.delete_route_table().route_table_id(id).send()
        })
        .await,
    )?;
    Ok(())
}

/// One paginated DescribeRouteTables pass.
async fn describe(ec2: &Client, f: Filter) -> Result<Vec<RouteTable>, AwsError> {
    paginate(|token| {
        let f = f.clone();
        async move {
            let out = call("DescribeRouteTables", || {
                ec2.describe_route_tables()
                    .filters(f.clone())
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
            Ok((
                out.route_tables().to_vec(),
                out.next_token().map(str::to_string),
            ))
        }
    })
    .await
}

async fn find(ec2: &Client, id: &str) -> Result<RouteTable, AwsError> {
    describe(ec2, filter("route-table-id", [id]))
        .await?
        .into_iter()
        .find(|t| t.route_table_id() == Some(id))
        .ok_or_else(|| gone("DescribeRouteTables", "InvalidRouteTableID", id))
}

/// A route as configured: a destination and its target.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Route {
    destination: String,
    gateway_id: Option<String>,
    nat_gateway_id: Option<String>,
    transit_gateway_id: Option<String>,
    vpc_peering_connection_id: Option<String>,
}

impl Route {
    fn from_json(route: &serde_json::Map<String, Value>) -> Result<Route, AwsError> {
        let text = |name: &str| opt_str(route, name).map(str::to_string);
        Ok(Route {
            destination: text("destination_cidr_block").ok_or_else(|| {
                AwsError::other("CreateRoute", "a route has no destination_cidr_block")
            })?,
            gateway_id: text("gateway_id"),
            nat_gateway_id: text("nat_gateway_id"),
            transit_gateway_id: text("transit_gateway_id"),
            vpc_peering_connection_id: text("vpc_peering_connection_id"),
        })
    }

    /// A route AWS reports, unless it is one landfall does not manage (local, propagated, IPv6...).
    fn from_aws(route: &AwsRoute) -> Option<Route> {
        let destination = route.destination_cidr_block()?;
        let gateway_id = route.gateway_id().filter(|g| !g.is_empty());
        if gateway_id == Some("local")
            || matches!(
                route.origin(),
                Some(RouteOrigin::CreateRouteTable | RouteOrigin::EnableVgwRoutePropagation)
            )
        {
            return None;
        }
        let text = |v: Option<&str>| v.filter(|s| !s.is_empty()).map(str::to_string);
        Some(Route {
            destination: destination.to_string(),
            gateway_id: text(gateway_id),
            nat_gateway_id: text(route.nat_gateway_id()),
            transit_gateway_id: text(route.transit_gateway_id()),
            vpc_peering_connection_id: text(route.vpc_peering_connection_id()),
        })
    }

    /// The configuration's shape: the destination and the targets that are set.
    fn to_json(&self) -> Value {
        let mut map = serde_json::Map::new();
        map.insert(
            "destination_cidr_block".into(),
            self.destination.clone().into(),
        );
        for (name, value) in [
            ("gateway_id", &self.gateway_id),
            ("nat_gateway_id", &self.nat_gateway_id),
            ("transit_gateway_id", &self.transit_gateway_id),
            ("vpc_peering_connection_id", &self.vpc_peering_connection_id),
        ] {
            if let Some(v) = value {
                map.insert(name.into(), v.clone().into());
            }
        }
        Value::Object(map)
    }
}

/// The configured routes by destination.
fn desired_routes(desired: &Attrs) -> Result<BTreeMap<String, Route>, AwsError> {
    object_list(desired, "routes")
        .map(|r| Route::from_json(r).map(|r| (r.destination.clone(), r)))
        .collect()
}

fn managed_routes(table: &RouteTable) -> impl Iterator<Item = Route> + '_ {
    table.routes().iter().filter_map(Route::from_aws)
}

/// Explicit subnet associations: subnet id to association id.
fn associations(table: &RouteTable) -> BTreeMap<String, String> {
    table
        .associations()
        .iter()
        .filter(|a| !a.main().unwrap_or(false))
        .filter(|a| {
            !matches!(
                a.association_state().and_then(|s| s.state()),
                Some(
                    RouteTableAssociationStateCode::Disassociated
                        | RouteTableAssociationStateCode::Disassociating
                )
            )
        })
        .filter_map(|a| {
            Some((
                a.subnet_id()?.to_string(),
                a.route_table_association_id()?.to_string(),
            ))
        })
        .collect()
}

async fn create_route(ec2: &Client, id: &str, route: &Route) -> Result<(), AwsError> {
    call("CreateRoute", || {
        ec2.create_route()
            .route_table_id(id)
            .destination_cidr_block(&route.destination)
            .set_gateway_id(route.gateway_id.clone())
            .set_nat_gateway_id(route.nat_gateway_id.clone())
            .set_transit_gateway_id(route.transit_gateway_id.clone())
            .set_vpc_peering_connection_id(route.vpc_peering_connection_id.clone())
            .send()
    })
    .await?;
    Ok(())
}

async fn replace_route(ec2: &Client, id: &str, route: &Route) -> Result<(), AwsError> {
    call("ReplaceRoute", || {
        ec2.replace_route()
            .route_table_id(id)
            .destination_cidr_block(&route.destination)
            .set_gateway_id(route.gateway_id.clone())
            .set_nat_gateway_id(route.nat_gateway_id.clone())
            .set_transit_gateway_id(route.transit_gateway_id.clone())
            .set_vpc_peering_connection_id(route.vpc_peering_connection_id.clone())
            .send()
    })
    .await?;
    Ok(())
}

/// Associates a subnet; one associated with another table is moved to this one.
async fn associate(ec2: &Client, id: &str, subnet_id: &str) -> Result<(), AwsError> {
    let send = || {
        call("AssociateRouteTable", || {
            ec2.associate_route_table()
                .route_table_id(id)
                .subnet_id(subnet_id)
                .send()
        })
    };
    match send().await {
        Ok(_) => Ok(()),
        Err(e) if e.is("Resource.AlreadyAssociated") => {
            let tables = describe(ec2, filter("association.subnet-id", [subnet_id])).await?;
            let association_id = tables
                .iter()
                .flat_map(|t| associations(t).into_iter())
                .find(|(s, _)| s == subnet_id)
                .map(|(_, a)| a);
            // The other table let go in the meantime (it is being deleted or updated by this very
            // run, in parallel): the subnet is free now.
            let Some(association_id) = association_id else {
                send().await?;
                return Ok(());
            };
            call("ReplaceRouteTableAssociation", || {
                ec2.replace_route_table_association()
                    .association_id(&association_id)
                    .route_table_id(id)
                    .send()
            })
            .await?;
            Ok(())
        }
        Err(e) => Err(e),
    }
}

async fn disassociate(ec2: &Client, association_id: &str) -> Result<(), AwsError> {
    ignore_not_found(
        call("DisassociateRouteTable", || {
            ec2.disassociate_route_table()
                .association_id(association_id)
                .send()
        })
        .await,
    )?;
    Ok(())
}

fn to_live(table: &RouteTable) -> Live {
    let mut attrs = Attrs::new();
    attrs.insert("vpc_id".into(), table.vpc_id().unwrap_or_default().into());
    attrs.insert(
        "routes".into(),
        managed_routes(table).map(|r| r.to_json()).collect(),
    );
    attrs.insert(
        "subnet_ids".into(),
        associations(table).into_keys().collect(),
    );
    live(
        table.route_table_id().unwrap_or_default(),
        attrs,
        table.tags(),
    )
}
