//! The lifecycle of the network hub kinds (transit gateway, RAM share, attachments, transit gateway
//! route tables and routes), in the manner of `tests/lifecycle.rs`: each change is followed by an
//! independent read of the emulator and an empty plan.
//!
//! moto 5.2.5 has no AssociateResourceShare, DisassociateResourceShare, TagResource or UntagResource
//! for RAM and keeps no tags on shares: the emulator extensions `ram_resource_share_associations` and
//! `ram_resource_share_tags` add them (the README's lifecycle table says which steps need them).

mod common;

use aws_sdk_ec2::types::{Filter, Tag};
use aws_sdk_ram::types::{ResourceOwner, ResourceShareAssociationType, ResourceShareStatus};
use common::cli::{expect_code, text};
use common::project::Project;

fn tagged(address: &str) -> Filter {
    Filter::builder()
        .name("tag:landfall:address")
        .values(address)
        .build()
}

/// The transit gateways carrying `address`: (id, description, asn, default propagation, Name tag).
async fn gateways(p: &Project, address: &str) -> Vec<(String, String, i64, String, String)> {
    let out = p
        .ec2()
        .await
        .describe_transit_gateways()
        .filters(tagged(address))
        .send()
        .await
        .unwrap();
    out.transit_gateways()
        .iter()
        .map(|g| {
            let o = g.options().unwrap();
            let name = g
                .tags()
                .iter()
                .find(|t| t.key() == Some("Name"))
                .and_then(|t| t.value())
                .unwrap_or_default();
            (
                g.transit_gateway_id().unwrap().into(),
                g.description().unwrap_or_default().into(),
                o.amazon_side_asn().unwrap(),
                o.default_route_table_propagation().unwrap().as_str().into(),
                name.into(),
            )
        })
        .collect()
}

#[track_caller]
fn one<T: std::fmt::Debug + Clone>(found: Vec<T>) -> T {
    assert_eq!(found.len(), 1, "exactly one: {found:?}");
    found[0].clone()
}

async fn ram(p: &Project) -> aws_sdk_ram::Client {
    aws_sdk_ram::Client::new(&p.moto.sdk_config().await)
}

/// The live shares of the account: (arn, name, allow external principals).
async fn shares(p: &Project) -> Vec<(String, String, bool)> {
    let out = ram(p)
        .await
        .get_resource_shares()
        .resource_owner(ResourceOwner::SelfValue)
        .send()
        .await
        .unwrap();
    out.resource_shares()
        .iter()
        .filter(|s| s.status() == Some(&ResourceShareStatus::Active))
        .map(|s| {
            (
                s.resource_share_arn().unwrap().into(),
                s.name().unwrap().into(),
                s.allow_external_principals().unwrap(),
            )
        })
        .collect()
}

/// What a share is associated with, of one type: principals or resource ARNs.
async fn associated(p: &Project, share: &str, kind: ResourceShareAssociationType) -> Vec<String> {
    common::share_associations(&ram(p).await, share, kind).await
}

const HUB: &str = r#"
[organization.main]
aws_service_access_principals = ["ram.amazonaws.com"]

[transit_gateway.hub]
description = "hub"
tags = { Name = "hub" }
"#;

const SHARE: &str = r#"
[ram_resource_share.hub]
name = "hub"
principals = ["${organization.main.arn}"]
resource_arns = ["${transit_gateway.hub.arn}"]
"#;

#[tokio::test(flavor = "multi_thread")]
async fn transit_gateway_lifecycle() {
    let p = Project::new(HUB);
    p.apply();
    p.expect_converged();
    let (tgw, description, asn, propagation, _) =
        one(gateways(&p, "main.transit_gateway.hub").await);
    assert_eq!((description.as_str(), asn), ("hub", 64512));
    assert_eq!(propagation, "disable", "off unless asked for");

    // In place: the description, a switch and a tag.
    p.change(
        &[
            (
                "description = \"hub\"",
                "description = \"the hub\"\ndefault_route_table_propagation = true",
            ),
            ("Name = \"hub\"", "Name = \"core\""),
        ],
        &["~ main.transit_gateway.hub"],
    );
    let (same, description, _, propagation, name) =
        one(gateways(&p, "main.transit_gateway.hub").await);
    assert_eq!(same, tgw, "changed in place");
    assert_eq!(
        (description.as_str(), propagation.as_str(), name.as_str()),
        ("the hub", "enable", "core")
    );

    // The ASN forces a new gateway.
    p.change(
        &[(
            "description = \"the hub\"",
            "description = \"the hub\"\namazon_side_asn = 64600",
        )],
        &["-/+ main.transit_gateway.hub"],
    );
    let (tgw, _, asn, _, _) = one(gateways(&p, "main.transit_gateway.hub").await);
    assert_ne!(tgw, same, "a new gateway");
    assert_eq!(asn, 64600);

    // Drift: a tag changed outside is changed back.
    let ec2 = p.ec2().await;
    ec2.create_tags()
        .resources(&tgw)
        .tags(Tag::builder().key("Name").value("drifted").build())
        .send()
        .await
        .unwrap();
    p.expect_plan(&["~ main.transit_gateway.hub"]);
    p.apply();
    p.expect_converged();
    assert_eq!(
        one(gateways(&p, "main.transit_gateway.hub").await).4,
        "core"
    );

    // Deleted outside: created again.
    ec2.delete_transit_gateway()
        .transit_gateway_id(&tgw)
        .send()
        .await
        .unwrap();
    p.expect_plan(&["+ main.transit_gateway.hub"]);
    p.apply();
    p.expect_converged();
    let tgw = one(gateways(&p, "main.transit_gateway.hub").await).0;

    p.reimport("main.transit_gateway.hub", &tgw);
    assert_eq!(one(gateways(&p, "main.transit_gateway.hub").await).0, tgw);

    p.destroy(&[]);
    assert!(gateways(&p, "main.transit_gateway.hub").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn ram_resource_share_lifecycle() {
    let p = Project::new(&format!("{HUB}{SHARE}"));
    p.apply();
    p.expect_converged();
    let (arn, name, external) = one(shares(&p).await);
    assert_eq!((name.as_str(), external), ("hub", false));
    assert_eq!(p.id("main.ram_resource_share.hub"), arn);
    let org_arn = p.org().await.describe_organization().send().await.unwrap();
    let org_arn = org_arn.organization().unwrap().arn().unwrap().to_string();
    assert_eq!(
        associated(&p, &arn, ResourceShareAssociationType::Principal).await,
        vec![org_arn]
    );
    let tgw = one(gateways(&p, "main.transit_gateway.hub").await).0;
    let resources = associated(&p, &arn, ResourceShareAssociationType::Resource).await;
    assert_eq!(resources.len(), 1);
    assert!(
        resources[0].ends_with(&format!("transit-gateway/{tgw}")),
        "{resources:?}"
    );

    // In place: the name and allow_external_principals.
    p.change(
        &[(
            "name = \"hub\"",
            "name = \"network-hub\"\nallow_external_principals = true",
        )],
        &["~ main.ram_resource_share.hub"],
    );
    assert_eq!(
        one(shares(&p).await),
        (arn.clone(), "network-hub".into(), true)
    );

    // Drift: renamed outside, renamed back.
    ram(&p)
        .await
        .update_resource_share()
        .resource_share_arn(&arn)
        .name("renamed")
        .allow_external_principals(true)
        .send()
        .await
        .unwrap();
    p.expect_plan(&["~ main.ram_resource_share.hub"]);
    p.apply();
    p.expect_converged();
    assert_eq!(one(shares(&p).await).1, "network-hub");

    // Deleted outside: created again.
    ram(&p)
        .await
        .delete_resource_share()
        .resource_share_arn(&arn)
        .send()
        .await
        .unwrap();
    p.expect_plan(&["+ main.ram_resource_share.hub"]);
    p.apply();
    p.expect_converged();
    let (arn, _, _) = one(shares(&p).await);

    p.reimport("main.ram_resource_share.hub", &arn);
    assert_eq!(one(shares(&p).await).0, arn);

    p.destroy(&[]);
    assert!(shares(&p).await.is_empty());
    assert!(gateways(&p, "main.transit_gateway.hub").await.is_empty());
}

/// A share's user tags as the emulator holds them (landfall's own left out).
async fn share_tags(p: &Project, share: &str) -> Vec<(String, String)> {
    let out = ram(p)
        .await
        .get_resource_shares()
        .resource_owner(ResourceOwner::SelfValue)
        .resource_share_arns(share)
        .send()
        .await
        .unwrap();
    let mut tags: Vec<(String, String)> = out
        .resource_shares()
        .iter()
        .flat_map(|s| s.tags())
        .filter(|t| !t.key().unwrap_or_default().starts_with("landfall:"))
        .map(|t| {
            (
                t.key().unwrap().into(),
                t.value().unwrap_or_default().into(),
            )
        })
        .collect();
    tags.sort();
    tags
}

/// Sharing changes a landing zone lives with: the hub shared with one OU instead of the whole
/// organization, a second gateway shared, tags set, changed and removed, and the same undone outside
/// (drift): all in place, the share keeps its ARN. Needs the emulator extensions
/// `ram_resource_share_associations` and `ram_resource_share_tags`.
#[tokio::test(flavor = "multi_thread")]
async fn ram_share_principals_resources_and_tags_change_in_place() {
    let spare = "\n[transit_gateway.spare]\ndescription = \"spare\"\n\n[organizational_unit.workloads]\nname = \"Workloads\"\nparent_id = \"${organization.main.root_id}\"\n";
    let p = Project::new(&format!("{HUB}{SHARE}{spare}"));
    p.apply();
    p.expect_converged();
    let (arn, _, _) = one(shares(&p).await);
    let hub = one(gateways(&p, "main.transit_gateway.hub").await).0;
    let spare = one(gateways(&p, "main.transit_gateway.spare").await).0;
    let ou = p.run(&[
        "state",
        "show",
        "--env",
        "test",
        "main.organizational_unit.workloads",
    ]);
    let ou: serde_json::Value = serde_json::from_slice(&ou.stdout).unwrap();
    let ou = ou["attributes"]["arn"].as_str().unwrap().to_string();

    // In place: shared with the OU instead of the organization, the spare gateway too, tagged.
    p.change(
        &[
            (
                "principals = [\"${organization.main.arn}\"]",
                "principals = [\"${organizational_unit.workloads.arn}\"]\ntags = { team = \"network\" }",
            ),
            (
                "resource_arns = [\"${transit_gateway.hub.arn}\"]",
                "resource_arns = [\"${transit_gateway.hub.arn}\", \"${transit_gateway.spare.arn}\"]",
            ),
        ],
        &["~ main.ram_resource_share.hub"],
    );
    assert_eq!(one(shares(&p).await).0, arn, "changed in place");
    assert_eq!(
        associated(&p, &arn, ResourceShareAssociationType::Principal).await,
        vec![ou.clone()]
    );
    let mut resources = associated(&p, &arn, ResourceShareAssociationType::Resource).await;
    resources.sort();
    let ends: Vec<bool> = [&hub, &spare]
        .iter()
        .map(|g| {
            resources
                .iter()
                .any(|r| r.ends_with(&format!("transit-gateway/{g}")))
        })
        .collect();
    assert_eq!(
        (resources.len(), ends),
        (2, vec![true, true]),
        "{resources:?}"
    );
    assert_eq!(
        share_tags(&p, &arn).await,
        vec![("team".into(), "network".into())]
    );

    // Drift: the spare gateway unshared, the organization added and a tag changed outside.
    let client = ram(&p).await;
    let spare_arn = resources
        .iter()
        .find(|r| r.ends_with(&spare))
        .unwrap()
        .clone();
    client
        .disassociate_resource_share()
        .resource_share_arn(&arn)
        .resource_arns(&spare_arn)
        .send()
        .await
        .unwrap();
    let org = p.org().await.describe_organization().send().await.unwrap();
    let org = org.organization().unwrap().arn().unwrap().to_string();
    client
        .associate_resource_share()
        .resource_share_arn(&arn)
        .principals(&org)
        .send()
        .await
        .unwrap();
    client
        .tag_resource()
        .resource_share_arn(&arn)
        .tags(
            aws_sdk_ram::types::Tag::builder()
                .key("team")
                .value("other")
                .build(),
        )
        .send()
        .await
        .unwrap();
    p.expect_plan(&["~ main.ram_resource_share.hub"]);
    p.apply();
    p.expect_converged();
    assert_eq!(
        associated(&p, &arn, ResourceShareAssociationType::Principal).await,
        vec![ou]
    );
    assert_eq!(
        associated(&p, &arn, ResourceShareAssociationType::Resource)
            .await
            .len(),
        2
    );
    assert_eq!(
        share_tags(&p, &arn).await,
        vec![("team".into(), "network".into())]
    );

    // Tags removed: gone from AWS too.
    p.change(
        &[("\ntags = { team = \"network\" }", "")],
        &["~ main.ram_resource_share.hub"],
    );
    assert!(share_tags(&p, &arn).await.is_empty());

    p.destroy(&[]);
    assert!(shares(&p).await.is_empty());
}

const ATTACHED: &str = r#"
[vpc.main]
cidr_block = "10.0.0.0/16"

[subnet.a]
vpc_id = "${vpc.main.id}"
cidr_block = "10.0.1.0/24"
availability_zone = "eu-west-1a"

[subnet.b]
vpc_id = "${vpc.main.id}"
cidr_block = "10.0.2.0/24"
availability_zone = "eu-west-1b"

[transit_gateway.hub]

[transit_gateway_vpc_attachment.a]
transit_gateway_id = "${transit_gateway.hub.id}"
vpc_id = "${vpc.main.id}"
subnet_ids = ["${subnet.a.id}"]
tags = { Name = "a" }

[transit_gateway_route_table.a]
transit_gateway_id = "${transit_gateway.hub.id}"
associations = ["${transit_gateway_vpc_attachment.a.id}"]
propagations = ["${transit_gateway_vpc_attachment.a.id}"]
routes = [{ destination_cidr_block = "10.99.0.0/16", blackhole = true }]
"#;

/// The live attachments carrying `address`: (id, vpc, sorted subnets).
async fn attachments(p: &Project, address: &str) -> Vec<(String, String, Vec<String>)> {
    let out = p
        .ec2()
        .await
        .describe_transit_gateway_vpc_attachments()
        .filters(tagged(address))
        .send()
        .await
        .unwrap();
    out.transit_gateway_vpc_attachments()
        .iter()
        .filter(|a| a.state().is_some_and(|s| s.as_str() == "available"))
        .map(|a| {
            let mut subnets = a.subnet_ids().to_vec();
            subnets.sort();
            (
                a.transit_gateway_attachment_id().unwrap().into(),
                a.vpc_id().unwrap().into(),
                subnets,
            )
        })
        .collect()
}

/// What a transit gateway route table holds: (associated attachments, propagating attachments,
/// static routes as (destination, target attachment or "blackhole"; "none" if an active route names
/// no target, which moto 5.2.5 did until emulator extension `ec2_transit_gateway_route_targets`)).
async fn table(p: &Project, id: &str) -> (Vec<String>, Vec<String>, Vec<(String, String)>) {
    let ec2 = p.ec2().await;
    let associations = ec2
        .get_transit_gateway_route_table_associations()
        .transit_gateway_route_table_id(id)
        .send()
        .await
        .unwrap();
    // moto keeps the associations of deleted attachments, which AWS drops: only live ones count.
    let live = ec2
        .describe_transit_gateway_attachments()
        .send()
        .await
        .unwrap();
    let live: Vec<&str> = live
        .transit_gateway_attachments()
        .iter()
        .filter_map(|a| a.transit_gateway_attachment_id())
        .collect();
    let associated = associations
        .associations()
        .iter()
        .map(|a| a.transit_gateway_attachment_id().unwrap().to_string())
        .filter(|a| live.contains(&a.as_str()))
        .collect();
    let propagations = ec2
        .get_transit_gateway_route_table_propagations()
        .transit_gateway_route_table_id(id)
        .send()
        .await
        .unwrap();
    let propagating = propagations
        .transit_gateway_route_table_propagations()
        .iter()
        .map(|p| p.transit_gateway_attachment_id().unwrap().to_string())
        .collect();
    let routes = ec2
        .search_transit_gateway_routes()
        .transit_gateway_route_table_id(id)
        .filters(Filter::builder().name("type").values("static").build())
        .send()
        .await
        .unwrap();
    let routes = routes
        .routes()
        .iter()
        .map(|r| {
            let target = match r.state().map(|s| s.as_str()) {
                Some("blackhole") => "blackhole".to_string(),
                _ => r
                    .transit_gateway_attachments()
                    .first()
                    .and_then(|a| a.transit_gateway_attachment_id())
                    .unwrap_or("none")
                    .to_string(),
            };
            (r.destination_cidr_block().unwrap().to_string(), target)
        })
        .collect();
    (associated, propagating, routes)
}

#[tokio::test(flavor = "multi_thread")]
async fn transit_gateway_attachment_and_route_table_lifecycle() {
    let p = Project::new(ATTACHED);
    p.apply();
    p.expect_converged();
    let vpc = p.id("main.vpc.main");
    let (subnet_a, subnet_b) = (p.id("main.subnet.a"), p.id("main.subnet.b"));
    let (att, att_vpc, subnets) =
        one(attachments(&p, "main.transit_gateway_vpc_attachment.a").await);
    assert_eq!((att_vpc, subnets), (vpc.clone(), vec![subnet_a.clone()]));
    let rtb = p.id("main.transit_gateway_route_table.a");
    assert_eq!(
        table(&p, &rtb).await,
        (
            vec![att.clone()],
            vec![att.clone()],
            vec![("10.99.0.0/16".into(), "blackhole".into())]
        )
    );

    // In place: a second subnet; the route goes to the attachment, propagation stops.
    p.change(
        &[
            (
                "subnet_ids = [\"${subnet.a.id}\"]",
                "subnet_ids = [\"${subnet.a.id}\", \"${subnet.b.id}\"]",
            ),
            (
                "propagations = [\"${transit_gateway_vpc_attachment.a.id}\"]",
                "propagations = []",
            ),
            (
                "blackhole = true",
                "transit_gateway_attachment_id = \"${transit_gateway_vpc_attachment.a.id}\"",
            ),
        ],
        &[
            "~ main.transit_gateway_vpc_attachment.a",
            "~ main.transit_gateway_route_table.a",
        ],
    );
    let (same, _, subnets) = one(attachments(&p, "main.transit_gateway_vpc_attachment.a").await);
    assert_eq!(same, att, "changed in place");
    let mut both = vec![subnet_a.clone(), subnet_b.clone()];
    both.sort();
    assert_eq!(subnets, both);
    assert_eq!(
        table(&p, &rtb).await,
        (
            vec![att.clone()],
            vec![],
            vec![("10.99.0.0/16".into(), att.clone())]
        )
    );

    // A new VPC replaces the attachment; the route table follows the new one in place.
    p.change(
        &[
            ("10.0.0.0/16", "10.1.0.0/16"),
            ("10.0.1.0/24", "10.1.1.0/24"),
            ("10.0.2.0/24", "10.1.2.0/24"),
        ],
        &[
            "-/+ main.transit_gateway_vpc_attachment.a",
            "~ main.transit_gateway_route_table.a",
        ],
    );
    let (att, att_vpc, _) = one(attachments(&p, "main.transit_gateway_vpc_attachment.a").await);
    assert_ne!(att, same, "a new attachment");
    assert_eq!(att_vpc, p.id("main.vpc.main"));
    assert_eq!(
        p.id("main.transit_gateway_route_table.a"),
        rtb,
        "the table stays"
    );
    assert_eq!(
        table(&p, &rtb).await,
        (
            vec![att.clone()],
            vec![],
            vec![("10.99.0.0/16".into(), att.clone())]
        )
    );

    // Deleted outside: created again, and the table takes the new one.
    let ec2 = p.ec2().await;
    ec2.delete_transit_gateway_vpc_attachment()
        .transit_gateway_attachment_id(&att)
        .send()
        .await
        .unwrap();
    p.expect_plan(&[
        "+ main.transit_gateway_vpc_attachment.a",
        "~ main.transit_gateway_route_table.a",
    ]);
    p.apply();
    p.expect_converged();
    let (att, _, _) = one(attachments(&p, "main.transit_gateway_vpc_attachment.a").await);
    assert_eq!(table(&p, &rtb).await.0, vec![att.clone()]);

    p.reimport("main.transit_gateway_vpc_attachment.a", &att);
    p.reimport("main.transit_gateway_route_table.a", &rtb);

    p.destroy(&[]);
    assert!(
        attachments(&p, "main.transit_gateway_vpc_attachment.a")
            .await
            .is_empty()
    );
}

// ---- Across accounts ------------------------------------------------------------------------------------

/// The hub in a network account, shared through RAM with the organization, and a VPC attached from a
/// dev account: the emulator extension `ec2_shared_transit_gateway` lets a member account see a
/// gateway shared with it, and adds acceptance in the gateway's account.
const CROSS_ACCOUNT: &str = r#"
[organization.main]
aws_service_access_principals = ["ram.amazonaws.com"]

[account.network]
name = "network"
email = "aws+network@example.com"
parent_id = "${organization.main.root_id}"
close_on_destroy = true

[account.dev]
name = "dev"
email = "aws+dev@example.com"
parent_id = "${organization.main.root_id}"
close_on_destroy = true

[transit_gateway.hub]
account = "${account.network.id}"
default_route_table_association = false
default_route_table_propagation = false
auto_accept_shared_attachments = false
tags = { Name = "hub" }

[ram_resource_share.hub]
account = "${account.network.id}"
name = "hub"
principals = ["${organization.main.arn}"]
resource_arns = ["${transit_gateway.hub.arn}"]

[vpc.dev]
account = "${account.dev.id}"
cidr_block = "10.0.0.0/16"

[subnet.a]
account = "${account.dev.id}"
vpc_id = "${vpc.dev.id}"
cidr_block = "10.0.1.0/24"
availability_zone = "eu-west-1a"

[subnet.b]
account = "${account.dev.id}"
vpc_id = "${vpc.dev.id}"
cidr_block = "10.0.2.0/24"
availability_zone = "eu-west-1b"

[transit_gateway_vpc_attachment.dev]
account = "${account.dev.id}"
transit_gateway_id = "${transit_gateway.hub.id}"
vpc_id = "${vpc.dev.id}"
subnet_ids = ["${subnet.a.id}"]
depends_on = ["ram_resource_share.hub"]
tags = { Name = "dev" }

[transit_gateway_route_table.dev]
account = "${account.network.id}"
transit_gateway_id = "${transit_gateway.hub.id}"
associations = ["${transit_gateway_vpc_attachment.dev.id}"]
propagations = []
tags = { Name = "dev" }
"#;

/// An attachment as one account sees it: (id, state, VPC, sorted subnets, VPC owner, gateway owner,
/// associated route table).
type Seen = (String, String, String, Vec<String>, String, String, String);

/// Every VPC attachment the account of `ec2` sees, read with both Describe calls.
async fn seen(ec2: &aws_sdk_ec2::Client) -> Vec<Seen> {
    let vpc = ec2
        .describe_transit_gateway_vpc_attachments()
        .send()
        .await
        .unwrap();
    let all = ec2
        .describe_transit_gateway_attachments()
        .send()
        .await
        .unwrap();
    vpc.transit_gateway_vpc_attachments()
        .iter()
        .map(|a| {
            let id = a.transit_gateway_attachment_id().unwrap();
            let generic = all
                .transit_gateway_attachments()
                .iter()
                .find(|g| g.transit_gateway_attachment_id() == Some(id))
                .expect("listed by both calls");
            let mut subnets = a.subnet_ids().to_vec();
            subnets.sort();
            let table = generic
                .association()
                .and_then(|x| x.transit_gateway_route_table_id())
                .unwrap_or_default();
            (
                id.to_string(),
                a.state().unwrap().as_str().to_string(),
                a.vpc_id().unwrap().to_string(),
                subnets,
                a.vpc_owner_id().unwrap().to_string(),
                generic.transit_gateway_owner_id().unwrap().to_string(),
                table.to_string(),
            )
        })
        .collect()
}

/// The attachment the dev and the network account see: one, the same in both, available, owned by
/// dev, attached to network's gateway, associated with `table`.
async fn seen_in_both(p: &Project, dev: &str, network: &str, table: &str) -> Seen {
    let in_dev = one(seen(&ec2_in(p, dev).await).await);
    let in_network = one(seen(&ec2_in(p, network).await).await);
    assert_eq!(in_dev, in_network, "both accounts see the same attachment");
    assert_eq!(
        (in_dev.1.as_str(), in_dev.4.as_str(), in_dev.5.as_str()),
        ("available", dev, network)
    );
    assert_eq!(in_dev.6, table, "associated with the environment's table");
    in_dev
}

async fn ec2_in(p: &Project, account: &str) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::new(&p.moto.member_config(account).await)
}

async fn tag_of(ec2: &aws_sdk_ec2::Client, id: &str, key: &str) -> Option<String> {
    let out = ec2
        .describe_tags()
        .filters(Filter::builder().name("resource-id").values(id).build())
        .send()
        .await
        .unwrap();
    out.tags()
        .iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value().map(str::to_string))
}

#[tokio::test(flavor = "multi_thread")]
async fn cross_account_attachment_lifecycle() {
    let p = Project::new(CROSS_ACCOUNT);
    p.apply();
    p.expect_converged();
    let (dev, network) = (p.id("main.account.dev"), p.id("main.account.network"));
    let rtb = p.id("main.transit_gateway_route_table.dev");
    let (subnet_a, subnet_b) = (p.id("main.subnet.a"), p.id("main.subnet.b"));
    let (att, _, vpc, subnets, ..) = seen_in_both(&p, &dev, &network, &rtb).await;
    assert_eq!(att, p.id("main.transit_gateway_vpc_attachment.dev"));
    assert_eq!(
        (vpc, subnets),
        (p.id("main.vpc.dev"), vec![subnet_a.clone()])
    );
    assert_eq!(
        table(&p, &rtb).await.0,
        Vec::<String>::new(),
        "the table is not the management account's"
    );

    // In place: a second subnet and a new Name tag, from the dev account.
    p.change(
        &[
            (
                "subnet_ids = [\"${subnet.a.id}\"]",
                "subnet_ids = [\"${subnet.a.id}\", \"${subnet.b.id}\"]",
            ),
            (
                "tags = { Name = \"dev\" }\n\n[transit",
                "tags = { Name = \"development\" }\n\n[transit",
            ),
        ],
        &["~ main.transit_gateway_vpc_attachment.dev"],
    );
    let (same, _, _, subnets, ..) = seen_in_both(&p, &dev, &network, &rtb).await;
    assert_eq!(same, att, "changed in place");
    let mut both = vec![subnet_a, subnet_b];
    both.sort();
    assert_eq!(subnets, both);
    assert_eq!(
        tag_of(&ec2_in(&p, &dev).await, &att, "Name")
            .await
            .as_deref(),
        Some("development")
    );

    // Renamed through [[moved]]: nothing deleted or created, the same ids in both accounts.
    let tgw = p.id("main.transit_gateway.hub");
    for (kind, name) in [
        ("transit_gateway", "hub"),
        ("ram_resource_share", "hub"),
        ("transit_gateway_vpc_attachment", "dev"),
        ("transit_gateway_route_table", "dev"),
    ] {
        p.rename_through_moved(kind, name);
    }
    p.edit(&[(
        "[\"ram_resource_share.hub\"]",
        "[\"ram_resource_share.hub_renamed\"]",
    )]);
    let plan = p.expect_plan(&["has moved to"]);
    for action in ["+ main.", "- main.", "-/+ main."] {
        assert!(!plan.contains(action), "`{action}` in the plan:\n{plan}");
    }
    p.apply();
    p.expect_converged();
    assert_eq!(p.id("main.transit_gateway.hub_renamed"), tgw);
    let rtb_renamed = p.id("main.transit_gateway_route_table.dev_renamed");
    assert_eq!(rtb_renamed, rtb);
    assert_eq!(seen_in_both(&p, &dev, &network, &rtb).await.0, att);

    // A new VPC replaces the attachment (accepted again in the network account); the table follows.
    p.change(
        &[
            ("10.0.0.0/16", "10.1.0.0/16"),
            ("10.0.1.0/24", "10.1.1.0/24"),
            ("10.0.2.0/24", "10.1.2.0/24"),
        ],
        &[
            "-/+ main.transit_gateway_vpc_attachment.dev_renamed",
            "~ main.transit_gateway_route_table.dev_renamed",
        ],
    );
    let (att, _, vpc, ..) = seen_in_both(&p, &dev, &network, &rtb).await;
    assert_ne!(att, same, "a new attachment");
    assert_eq!(vpc, p.id("main.vpc.dev"));

    // Deleted outside, from the gateway's side: created again, accepted, and associated again.
    ec2_in(&p, &network)
        .await
        .delete_transit_gateway_vpc_attachment()
        .transit_gateway_attachment_id(&att)
        .send()
        .await
        .unwrap();
    assert!(
        seen(&ec2_in(&p, &dev).await).await.is_empty(),
        "gone for dev too"
    );
    p.expect_plan(&[
        "+ main.transit_gateway_vpc_attachment.dev_renamed",
        "~ main.transit_gateway_route_table.dev_renamed",
    ]);
    p.apply();
    p.expect_converged();
    let att = seen_in_both(&p, &dev, &network, &rtb).await.0;
    p.reimport("main.transit_gateway_vpc_attachment.dev_renamed", &att);

    p.destroy(&["--allow-account-closure"]);
    assert!(seen(&ec2_in(&p, &network).await).await.is_empty());
}

// ---- VPC endpoints --------------------------------------------------------------------------------------

const ENDPOINTS: &str = r#"
[vpc.main]
cidr_block = "10.0.0.0/16"

[subnet.a]
vpc_id = "${vpc.main.id}"
cidr_block = "10.0.1.0/24"
availability_zone = "eu-west-1a"

[subnet.b]
vpc_id = "${vpc.main.id}"
cidr_block = "10.0.2.0/24"
availability_zone = "eu-west-1b"

[route_table.a]
vpc_id = "${vpc.main.id}"

[route_table.b]
vpc_id = "${vpc.main.id}"

[security_group.endpoints]
vpc_id = "${vpc.main.id}"
name = "endpoints"
description = "interface endpoints"

[vpc_endpoint.s3]
vpc_id = "${vpc.main.id}"
service_name = "com.amazonaws.eu-west-1.s3"
route_table_ids = ["${route_table.a.id}"]
policy = { Version = "2012-10-17", Statement = [{ Effect = "Allow", Principal = "*", Action = "s3:*", Resource = "*" }] }
tags = { Name = "s3" }

[vpc_endpoint.ssm]
vpc_id = "${vpc.main.id}"
service_name = "com.amazonaws.eu-west-1.ssm"
vpc_endpoint_type = "Interface"
subnet_ids = ["${subnet.a.id}"]
security_group_ids = ["${security_group.endpoints.id}"]
"#;

/// An endpoint as the emulator holds it: (id, service, type, route tables, subnets, security groups,
/// the policy's first action, Name tag).
type Endpoint = (
    String,
    String,
    String,
    Vec<String>,
    Vec<String>,
    Vec<String>,
    String,
    String,
);

/// The live endpoints carrying `address` (deleted ones left out).
async fn endpoints(p: &Project, address: &str) -> Vec<Endpoint> {
    let out = p
        .ec2()
        .await
        .describe_vpc_endpoints()
        .filters(tagged(address))
        .send()
        .await
        .unwrap();
    let sorted = |v: &[String]| {
        let mut v = v.to_vec();
        v.sort();
        v
    };
    out.vpc_endpoints()
        .iter()
        .filter(|e| e.state().is_some_and(|s| s.as_str() != "deleted"))
        .map(|e| {
            let policy: serde_json::Value =
                serde_json::from_str(e.policy_document().unwrap()).unwrap();
            let groups: Vec<String> = e
                .groups()
                .iter()
                .map(|g| g.group_id().unwrap().to_string())
                .collect();
            let name = e
                .tags()
                .iter()
                .find(|t| t.key() == Some("Name"))
                .and_then(|t| t.value())
                .unwrap_or_default();
            (
                e.vpc_endpoint_id().unwrap().into(),
                e.service_name().unwrap().into(),
                e.vpc_endpoint_type().unwrap().as_str().into(),
                sorted(e.route_table_ids()),
                sorted(e.subnet_ids()),
                sorted(&groups),
                policy["Statement"][0]["Action"].to_string(),
                name.into(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn vpc_endpoint_lifecycle() {
    let p = Project::new(ENDPOINTS);
    p.apply();
    p.expect_converged();
    let (rt_a, rt_b) = (p.id("main.route_table.a"), p.id("main.route_table.b"));
    let (subnet_a, subnet_b) = (p.id("main.subnet.a"), p.id("main.subnet.b"));
    let sg = p.id("main.security_group.endpoints");
    let s3 = one(endpoints(&p, "main.vpc_endpoint.s3").await);
    assert_eq!(
        (&s3.1[..], &s3.2[..], &s3.3, s3.6.as_str(), s3.7.as_str()),
        (
            "com.amazonaws.eu-west-1.s3",
            "Gateway",
            &vec![rt_a.clone()],
            "\"s3:*\"",
            "s3"
        )
    );
    let ssm = one(endpoints(&p, "main.vpc_endpoint.ssm").await);
    assert_eq!(
        (&ssm.2[..], &ssm.4, &ssm.5),
        ("Interface", &vec![subnet_a.clone()], &vec![sg.clone()])
    );

    // In place: a second route table, a narrower policy and a tag; a second subnet.
    p.change(
        &[
            (
                "route_table_ids = [\"${route_table.a.id}\"]",
                "route_table_ids = [\"${route_table.a.id}\", \"${route_table.b.id}\"]",
            ),
            ("Action = \"s3:*\"", "Action = \"s3:GetObject\""),
            ("Name = \"s3\"", "Name = \"s3-gateway\""),
            (
                "subnet_ids = [\"${subnet.a.id}\"]",
                "subnet_ids = [\"${subnet.a.id}\", \"${subnet.b.id}\"]",
            ),
        ],
        &["~ main.vpc_endpoint.s3", "~ main.vpc_endpoint.ssm"],
    );
    let mut tables = vec![rt_a.clone(), rt_b.clone()];
    tables.sort();
    let now = one(endpoints(&p, "main.vpc_endpoint.s3").await);
    assert_eq!(now.0, s3.0, "changed in place");
    assert_eq!(
        (&now.3, now.6.as_str(), now.7.as_str()),
        (&tables, "\"s3:GetObject\"", "s3-gateway")
    );
    let mut subnets = vec![subnet_a.clone(), subnet_b.clone()];
    subnets.sort();
    let now = one(endpoints(&p, "main.vpc_endpoint.ssm").await);
    assert_eq!((&now.0, &now.4), (&ssm.0, &subnets));

    // The same policy written differently (keys reordered) is no change.
    p.edit(&[(
        "{ Effect = \"Allow\", Principal = \"*\", Action = \"s3:GetObject\", Resource = \"*\" }",
        "{ Resource = \"*\", Action = \"s3:GetObject\", Principal = \"*\", Effect = \"Allow\" }",
    )]);
    p.expect_converged();

    // Drift: a route table removed and the policy widened outside are put back.
    let ec2 = p.ec2().await;
    ec2.modify_vpc_endpoint()
        .vpc_endpoint_id(&s3.0)
        .remove_route_table_ids(&rt_b)
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    p.expect_plan(&["~ main.vpc_endpoint.s3"]);
    p.apply();
    p.expect_converged();
    let now = one(endpoints(&p, "main.vpc_endpoint.s3").await);
    assert_eq!((&now.3, now.6.as_str()), (&tables, "\"s3:GetObject\""));

    // Lost from state: adopted by its address tag, not created twice.
    expect_code(
        &p.run(&["state", "rm", "--env", "test", "main.vpc_endpoint.s3"]),
        0,
    );
    let plan = p.run(&["plan", "--env", "test"]);
    expect_code(&plan, 0);
    assert!(
        !String::from_utf8_lossy(&plan.stdout).contains("+ main.vpc_endpoint.s3"),
        "{}",
        text(&plan)
    );
    p.apply();
    p.expect_converged();
    assert_eq!(one(endpoints(&p, "main.vpc_endpoint.s3").await).0, s3.0);

    // A new service forces a new endpoint.
    p.change(
        &[(
            "com.amazonaws.eu-west-1.s3",
            "com.amazonaws.eu-west-1.dynamodb",
        )],
        &["-/+ main.vpc_endpoint.s3"],
    );
    let dynamo = one(endpoints(&p, "main.vpc_endpoint.s3").await);
    assert_ne!(dynamo.0, s3.0, "a new endpoint");
    assert_eq!(dynamo.1, "com.amazonaws.eu-west-1.dynamodb");

    // Deleted outside: created again.
    ec2.delete_vpc_endpoints()
        .vpc_endpoint_ids(&ssm.0)
        .send()
        .await
        .unwrap();
    p.expect_plan(&["+ main.vpc_endpoint.ssm"]);
    p.apply();
    p.expect_converged();
    let ssm = one(endpoints(&p, "main.vpc_endpoint.ssm").await);

    // Renamed through [[moved]]: nothing deleted or created.
    p.rename_through_moved("vpc_endpoint", "ssm");
    let plan = p.expect_plan(&["has moved to"]);
    assert!(
        !plan.contains("+ main.") && !plan.contains("- main."),
        "{plan}"
    );
    p.apply();
    p.expect_converged();
    assert_eq!(p.id("main.vpc_endpoint.ssm_renamed"), ssm.0);
    let mut both = vec![dynamo.0.clone(), ssm.0.clone()];
    both.sort();
    assert_eq!(live_endpoints(&p).await, both, "the same two endpoints");
    p.reimport("main.vpc_endpoint.ssm_renamed", &ssm.0);

    p.destroy(&[]);
    assert!(live_endpoints(&p).await.is_empty());
}

/// The ids of every endpoint of the account that is not deleted, sorted.
async fn live_endpoints(p: &Project) -> Vec<String> {
    let out = p.ec2().await.describe_vpc_endpoints().send().await.unwrap();
    let mut ids: Vec<String> = out
        .vpc_endpoints()
        .iter()
        .filter(|e| e.state().is_some_and(|s| s.as_str() != "deleted"))
        .map(|e| e.vpc_endpoint_id().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// The Name tag of an attachment, read in the management account.
async fn name_of(p: &Project, id: &str) -> Option<String> {
    tag_of(&p.ec2().await, id, "Name").await
}

/// The attachment's drift (a subnet added and its Name tag changed outside) and the route table's
/// (association and propagation dropped, a route added and one retargeted outside, then the table
/// deleted outside) are reverted; a new gateway replaces both, the table associated with the new attachment.
#[tokio::test(flavor = "multi_thread")]
async fn transit_gateway_route_table_drift_deletion_and_replacement() {
    let p = Project::new(ATTACHED);
    p.apply();
    let (subnet_a, subnet_b) = (p.id("main.subnet.a"), p.id("main.subnet.b"));
    let (att, _, _) = one(attachments(&p, "main.transit_gateway_vpc_attachment.a").await);
    let rtb = p.id("main.transit_gateway_route_table.a");
    let blackhole = ("10.99.0.0/16".to_string(), "blackhole".to_string());
    let whole = (
        vec![att.clone()],
        vec![att.clone()],
        vec![blackhole.clone()],
    );
    assert_eq!(table(&p, &rtb).await, whole);

    // Attachment drift: a subnet added and the Name tag changed outside are put back.
    let ec2 = p.ec2().await;
    ec2.modify_transit_gateway_vpc_attachment()
        .transit_gateway_attachment_id(&att)
        .add_subnet_ids(&subnet_b)
        .send()
        .await
        .unwrap();
    ec2.create_tags()
        .resources(&att)
        .tags(Tag::builder().key("Name").value("drifted").build())
        .send()
        .await
        .unwrap();
    p.expect_plan(&["~ main.transit_gateway_vpc_attachment.a"]);
    p.apply();
    p.expect_converged();
    let (same, _, subnets) = one(attachments(&p, "main.transit_gateway_vpc_attachment.a").await);
    assert_eq!((same, subnets), (att.clone(), vec![subnet_a.clone()]));
    assert_eq!(name_of(&p, &att).await.as_deref(), Some("a"));

    // Route table drift: its association and propagation dropped and a route added outside.
    ec2.disassociate_transit_gateway_route_table()
        .transit_gateway_route_table_id(&rtb)
        .transit_gateway_attachment_id(&att)
        .send()
        .await
        .unwrap();
    ec2.disable_transit_gateway_route_table_propagation()
        .transit_gateway_route_table_id(&rtb)
        .transit_gateway_attachment_id(&att)
        .send()
        .await
        .unwrap();
    ec2.create_transit_gateway_route()
        .transit_gateway_route_table_id(&rtb)
        .destination_cidr_block("10.98.0.0/16")
        .blackhole(true)
        .send()
        .await
        .unwrap();
    // The blackhole retargeted to the attachment: seen through emulator extension
    // `ec2_transit_gateway_route_targets` (moto named no target for an active route).
    ec2.delete_transit_gateway_route()
        .transit_gateway_route_table_id(&rtb)
        .destination_cidr_block("10.99.0.0/16")
        .send()
        .await
        .unwrap();
    ec2.create_transit_gateway_route()
        .transit_gateway_route_table_id(&rtb)
        .destination_cidr_block("10.99.0.0/16")
        .transit_gateway_attachment_id(&att)
        .send()
        .await
        .unwrap();
    let routes = table(&p, &rtb).await.2;
    assert!(
        routes.contains(&("10.99.0.0/16".into(), att.clone())),
        "{routes:?}"
    );
    p.expect_plan(&["~ main.transit_gateway_route_table.a"]);
    p.apply();
    p.expect_converged();
    assert_eq!(p.id("main.transit_gateway_route_table.a"), rtb);
    assert_eq!(table(&p, &rtb).await, whole);

    // Deleted outside (disassociated first, as AWS requires): created again, association and all.
    ec2.disassociate_transit_gateway_route_table()
        .transit_gateway_route_table_id(&rtb)
        .transit_gateway_attachment_id(&att)
        .send()
        .await
        .unwrap();
    ec2.delete_transit_gateway_route_table()
        .transit_gateway_route_table_id(&rtb)
        .send()
        .await
        .unwrap();
    p.expect_plan(&["+ main.transit_gateway_route_table.a"]);
    p.apply();
    p.expect_converged();
    let new = p.id("main.transit_gateway_route_table.a");
    assert_ne!(new, rtb, "a new table");
    assert_eq!(table(&p, &new).await, whole);

    // Another gateway: the attachment and the table are replaced on it, the old ones deleted first
    // (an attachment is associated with one table at a time), the new table associated with the new
    // attachment.
    p.edit(&[(
        "[transit_gateway.hub]",
        "[transit_gateway.hub]\n\n[transit_gateway.other]",
    )]);
    p.change(
        &[("${transit_gateway.hub.id}", "${transit_gateway.other.id}")],
        &[
            "+ main.transit_gateway.other",
            "-/+ main.transit_gateway_vpc_attachment.a",
            "-/+ main.transit_gateway_route_table.a",
        ],
    );
    let other = p.id("main.transit_gateway.other");
    let (moved, _, _) = one(attachments(&p, "main.transit_gateway_vpc_attachment.a").await);
    assert_ne!(moved, att, "a new attachment");
    let replaced = p.id("main.transit_gateway_route_table.a");
    assert_ne!(replaced, new, "a new table");
    let on = ec2
        .describe_transit_gateway_route_tables()
        .transit_gateway_route_table_ids(&replaced)
        .send()
        .await
        .unwrap();
    let gateway = on.transit_gateway_route_tables()[0].transit_gateway_id();
    assert_eq!(gateway, Some(other.as_str()));
    assert_eq!(
        table(&p, &replaced).await,
        (vec![moved.clone()], vec![moved], vec![blackhole])
    );
    let old = ec2
        .describe_transit_gateway_route_tables()
        .transit_gateway_route_table_ids(&new)
        .send()
        .await
        .unwrap();
    let state = old.transit_gateway_route_tables()[0].state();
    assert_eq!(state.map(|s| s.as_str()), Some("deleted"), "the old table");

    p.destroy(&[]);
}
