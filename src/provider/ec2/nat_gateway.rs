//! `nat_gateway`: a public NAT gateway with an elastic IP of its own.
//!
//! Create allocates the elastic IP (tagged like the gateway, so a leak is traceable), creates the
//! gateway in `subnet_id`, records its id as the pending create (an interrupted run resumes waiting
//! on it) and waits until it is `available`. Delete deletes the gateway, waits until it is `deleted`
//! and only then releases the elastic IP (AWS refuses to release an address still in use). Gateways
//! that are `deleting`, `deleted` or `failed` (AWS removes failed ones itself) count as absent.

use super::{
    describe_batched, filter, find_created, gone, ignore_not_found, live, opt_str, paginate, poll,
    required, tag_spec, update_tags,
};
use crate::aws::{AwsError, Created, call, call_create};
use crate::provider::{ADDRESS_TAG, Attrs, Cx, LINEAGE_TAG, Live};
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{Address, DomainType, Filter, NatGateway, NatGatewayState, ResourceType};
use std::time::Duration;

/// How long to wait for a gateway to become available or deleted (AWS takes a few minutes).
const WAIT: Duration = Duration::from_secs(15 * 60);

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let ec2 = cx.ec2().await?;
    let gateways = describe_batched(
        ids,
        "nat-gateway-id",
        |f| describe(&ec2, f),
        |g: &NatGateway| (g.nat_gateway_id(), g.tags()),
    )
    .await?;
    Ok(gateways.iter().filter(|g| exists(g)).map(to_live).collect())
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let op = "CreateNatGateway";
    let ec2 = cx.ec2().await?;
    if let Some(id) = cx.pending
        && find(&ec2, id).await?.is_some_and(|g| exists(&g))
    {
        return wait_available(&ec2, id).await;
    }
    let subnet_id = required(desired, "subnet_id", op)?;
    let tags = cx.creation_tags(address, desired);
    let allocation_id = match spare_address(cx, &ec2, address).await? {
        Some(allocation_id) => Some(allocation_id),
        None => match call_create(
            "AllocateAddress",
            || {
                ec2.allocate_address()
                    .domain(DomainType::Vpc)
                    .tag_specifications(tag_spec(ResourceType::ElasticIp, &tags))
                    .send()
            },
            || find_created(cx, address, |f| addresses(&ec2, f), Address::tags),
        )
        .await?
        {
            Created::Sent(out) => out.allocation_id().map(str::to_string),
            Created::Found(eip) => eip.allocation_id().map(str::to_string),
        },
    };
    let allocation_id = &allocation_id
        .ok_or_else(|| AwsError::other("AllocateAddress", "the response holds no allocation id"))?;
    // CreateNatGateway is idempotent by client token: a retry after a lost answer gets the same
    // gateway. The token is unique to this resource and address allocation.
    let token = client_token(&[cx.lineage, address, allocation_id]);
    let created = call(op, || {
        ec2.create_nat_gateway()
            .subnet_id(subnet_id)
            .allocation_id(allocation_id)
            .client_token(&token)
            .tag_specifications(tag_spec(ResourceType::Natgateway, &tags))
            .send()
    })
    .await;
    let id = match created.and_then(|out| {
        out.nat_gateway()
            .and_then(|g| g.nat_gateway_id())
            .map(str::to_string)
            .ok_or_else(|| AwsError::other(op, "the response holds no NAT gateway id"))
    }) {
        Ok(id) => id,
        Err(e) => {
            // Best effort: the gateway failed, so its address would only leak. The creation error
            // matters more than a failure to release.
            let _ = release(&ec2, allocation_id).await;
            return Err(e);
        }
    };
    cx.record_pending.record(&id).await?;
    wait_available(&ec2, &id).await
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    let ec2 = cx.ec2().await?;
    update_tags(&ec2, id, current, desired).await?;
    find(&ec2, id)
        .await?
        .filter(exists)
        .map(|g| to_live(&g))
        .ok_or_else(|| gone("DescribeNatGateways", "NatGateway", id))
}

pub async fn delete(cx: &Cx<'_>, id: &str, current: &Attrs) -> Result<(), AwsError> {
    let ec2 = cx.ec2().await?;
    // The addresses as AWS knows them, else as state has them.
    let mut allocations: Vec<String> = find(&ec2, id)
        .await?
        .map(|g| {
            g.nat_gateway_addresses()
                .iter()
                .filter_map(|a| a.allocation_id().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if allocations.is_empty() {
        allocations.extend(opt_str(current, "allocation_id").map(str::to_string));
    }
    ignore_not_found(
        call("DeleteNatGateway", || {
            ec2.delete_nat_gateway().nat_gateway_id(id).send()
        })
        .await,
    )?;
    wait_deleted(&ec2, id).await?;
    for allocation_id in &allocations {
        release(&ec2, allocation_id).await?;
    }
    Ok(())
}

/// One paginated DescribeNatGateways pass.
async fn describe(ec2: &Client, f: Filter) -> Result<Vec<NatGateway>, AwsError> {
    paginate(|token| {
        let f = f.clone();
        async move {
            let out = call("DescribeNatGateways", || {
                ec2.describe_nat_gateways()
                    .filter(f.clone())
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
            Ok((
                out.nat_gateways().to_vec(),
                out.next_token().map(str::to_string),
            ))
        }
    })
    .await
}

/// The gateway with this id, in whatever state.
async fn find(ec2: &Client, id: &str) -> Result<Option<NatGateway>, AwsError> {
    let gateways = describe(ec2, filter("nat-gateway-id", [id])).await?;
    Ok(gateways
        .into_iter()
        .find(|g| g.nat_gateway_id() == Some(id)))
}

/// Waits until the gateway is deleted (AWS keeps its address until then).
async fn wait_deleted(ec2: &Client, id: &str) -> Result<(), AwsError> {
    poll("DeleteNatGateway", WAIT, || async {
        let gateway = find(ec2, id).await?;
        let deleted = gateway.is_none_or(|g| g.state() == Some(&NatGatewayState::Deleted));
        Ok(deleted.then_some(()))
    })
    .await
}

/// Pending or available: neither on its way out nor failed.
fn exists(gateway: &NatGateway) -> bool {
    !matches!(
        gateway.state(),
        Some(NatGatewayState::Deleting | NatGatewayState::Deleted | NatGatewayState::Failed)
    )
}

/// Waits until the gateway is available; a failed gateway is an error.
async fn wait_available(ec2: &Client, id: &str) -> Result<Live, AwsError> {
    let op = "CreateNatGateway";
    poll(op, WAIT, || async {
        let gateway = find(ec2, id)
            .await?
            .ok_or_else(|| gone("DescribeNatGateways", "NatGateway", id))?;
        match gateway.state() {
            Some(NatGatewayState::Available) => Ok(Some(to_live(&gateway))),
            Some(NatGatewayState::Pending) | None => Ok(None),
            Some(other) => Err(AwsError::other(
                op,
                format!(
                    "NAT gateway {id} is {}: {}",
                    other.as_str(),
                    gateway.failure_message().unwrap_or("no reason given")
                ),
            )),
        }
    })
    .await
}

/// An elastic IP this resource allocated before that no live gateway uses, to use again rather than
/// leak: its gateway was deleted outside landfall, or by a replacement a run was killed in the middle
/// of (still `deleting`: waited for), or a run stopped between AllocateAddress and CreateNatGateway.
/// An address still associated with a deleted gateway (the emulator keeps that association; AWS
/// drops it) is disassociated first.
async fn spare_address(
    cx: &Cx<'_>,
    ec2: &Client,
    address: &str,
) -> Result<Option<String>, AwsError> {
    let ours = |tags: &[aws_sdk_ec2::types::Tag]| {
        let has = |key: &str, value: &str| {
            tags.iter()
                .any(|t| t.key() == Some(key) && t.value() == Some(value))
        };
        let tag = tags
            .iter()
            .find(|t| t.key() == Some(ADDRESS_TAG))
            .and_then(|t| t.value());
        has(LINEAGE_TAG, cx.lineage) && tag.is_some_and(|t| cx.tag_names(t, address))
    };
    let lineage = filter(&format!("tag:{LINEAGE_TAG}"), [cx.lineage]);
    let mine: Vec<Address> = addresses(ec2, lineage.clone())
        .await?
        .into_iter()
        .filter(|a| ours(a.tags()))
        .collect();
    if let Some(free) = mine.iter().find(|a| a.association_id().is_none()) {
        return Ok(free.allocation_id().map(str::to_string));
    }
    if mine.is_empty() {
        return Ok(None);
    }
    let gateways: Vec<NatGateway> = describe(ec2, lineage)
        .await?
        .into_iter()
        .filter(|g| ours(g.tags()))
        .collect();
    for eip in &mine {
        let Some(allocation_id) = eip.allocation_id() else {
            continue;
        };
        let holder = gateways.iter().find(|g| {
            g.nat_gateway_addresses()
                .iter()
                .any(|a| a.allocation_id() == Some(allocation_id))
        });
        match holder.map(|g| (g.state(), g.nat_gateway_id().unwrap_or_default())) {
            Some((Some(NatGatewayState::Deleting), id)) => wait_deleted(ec2, id).await?,
            Some((Some(NatGatewayState::Deleted), _)) | None => {}
            Some(_) => continue,
        }
        if let Some(association) = addresses(ec2, filter("allocation-id", [allocation_id]))
            .await?
            .first()
            .and_then(|a| a.association_id().map(str::to_string))
        {
            ignore_not_found(
                call("DisassociateAddress", || {
                    ec2.disassociate_address()
                        .association_id(&association)
                        .send()
                })
                .await,
            )?;
        }
        return Ok(Some(allocation_id.to_string()));
    }
    Ok(None)
}

/// Releases an elastic IP; one already released is fine.
/// A client token (at most 64 characters) derived from `parts`.
fn client_token(parts: &[&str]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(parts.join("\n").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Elastic IP addresses matching a filter.
async fn addresses(ec2: &Client, f: Filter) -> Result<Vec<Address>, AwsError> {
    let out = call("DescribeAddresses", || {
        ec2.describe_addresses().filters(f.clone()).send()
    })
    .await?;
    Ok(out.addresses().to_vec())
}

async fn release(ec2: &Client, allocation_id: &str) -> Result<(), AwsError> {
    ignore_not_found(
        call("ReleaseAddress", || {
            ec2.release_address().allocation_id(allocation_id).send()
        })
        .await,
    )?;
    Ok(())
}

fn to_live(gateway: &NatGateway) -> Live {
    let address = gateway
        .nat_gateway_addresses()
        .iter()
        .find(|a| a.allocation_id().is_some());
    let mut attrs = Attrs::new();
    attrs.insert(
        "subnet_id".into(),
        gateway.subnet_id().unwrap_or_default().into(),
    );
    if let Some(a) = address {
        attrs.insert(
            "allocation_id".into(),
            a.allocation_id().unwrap_or_default().into(),
        );
        if let Some(ip) = a.public_ip() {
            attrs.insert("public_ip".into(), ip.into());
        }
    }
    live(
        gateway.nat_gateway_id().unwrap_or_default(),
        attrs,
        gateway.tags(),
    )
}
