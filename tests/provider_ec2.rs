//! The EC2 networking kinds against a local AWS emulator (moto): create/read round trips, batched
//! reads, adoption by tag, drift reverted by update, delete ordering and idempotence. Every effect is
//! checked with an independent SDK client as well as through landfall's own `read`.

mod common;

use common::moto::Moto;
use landfall::aws::Aws;
use landfall::provider::{self, Attrs, Cx, Live, Location, NoPending, ReadCache};
use serde_json::{Value, json};

fn attrs(v: Value) -> Attrs {
    match v {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn loc() -> Location {
    Location {
        account: None,
        region: common::moto::REGION.into(),
    }
}

fn cx<'a>(aws: &'a Aws, loc: &'a Location) -> Cx<'a> {
    Cx::standalone(aws, loc, "test")
}

async fn sdk(moto: &Moto) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::new(&moto.sdk_config().await)
}

/// Sorts the lists inside a value (the engine compares lists as sets).
fn canonical(v: &Value) -> Value {
    match v {
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(canonical).collect();
            items.sort_by_key(|i| i.to_string());
            Value::Array(items)
        }
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), canonical(v))).collect())
        }
        other => other.clone(),
    }
}

/// Every desired attribute reads back equal.
fn assert_matches(live: &Live, desired: &Attrs) {
    for (name, want) in desired {
        let got = live
            .attrs
            .get(name)
            .unwrap_or_else(|| panic!("`{name}` not read back: {:?}", live.attrs));
        assert_eq!(canonical(got), canonical(want), "attribute `{name}`");
    }
}

async fn read_one(kind: &str, cx: &Cx<'_>, id: &str) -> Option<Live> {
    provider::read(kind, cx, &[id.to_string()])
        .await
        .unwrap()
        .into_iter()
        .find(|l| l.id == id)
}

async fn new_vpc(cx: &Cx<'_>, address: &str, cidr: &str) -> String {
    let live = provider::create("vpc", cx, address, &attrs(json!({ "cidr_block": cidr })))
        .await
        .unwrap();
    live.id
}

async fn new_subnet(cx: &Cx<'_>, address: &str, vpc_id: &str, cidr: &str) -> String {
    let desired = attrs(json!({
        "vpc_id": vpc_id, "cidr_block": cidr, "availability_zone": "eu-west-1a",
    }));
    provider::create("subnet", cx, address, &desired)
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn vpc_round_trip_update_and_delete() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let loc = loc();
    let cx = cx(&aws, &loc);
    let ec2 = sdk(&moto).await;

    let desired = attrs(json!({
        "cidr_block": "10.1.0.0/16",
        "enable_dns_support": true,
        "enable_dns_hostnames": true,
        "tags": { "Name": "main", "team": "net" },
    }));
    let created = provider::create("vpc", &cx, "stack.vpc.main", &desired)
        .await
        .unwrap();
    assert_matches(&created, &desired);
    assert!(created.id.starts_with("vpc-"));
    assert_eq!(created.address.as_deref(), Some("stack.vpc.main"));
    assert_eq!(created.lineage.as_deref(), Some("test"));

    // Independently: tags set at creation, DNS hostnames enabled.
    let out = ec2
        .describe_vpcs()
        .vpc_ids(&created.id)
        .send()
        .await
        .unwrap();
    let tags: Vec<_> = out.vpcs()[0]
        .tags()
        .iter()
        .map(|t| (t.key().unwrap(), t.value().unwrap()))
        .collect();
    assert!(tags.contains(&("landfall:address", "stack.vpc.main")));
    assert!(tags.contains(&("team", "net")));
    let hostnames = ec2
        .describe_vpc_attribute()
        .vpc_id(&created.id)
        .attribute(aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames)
        .send()
        .await
        .unwrap();
    assert_eq!(
        hostnames.enable_dns_hostnames().and_then(|v| v.value()),
        Some(true)
    );

    // Read: every attribute it reports equals the created one; no landfall tags in `tags`.
    let read = read_one("vpc", &cx, &created.id).await.unwrap();
    assert_eq!(read.address.as_deref(), Some("stack.vpc.main"));
    for (name, value) in &read.attrs {
        assert_eq!(Some(value), created.attrs.get(name), "`{name}`");
    }
    assert_eq!(read.attrs["tags"], json!({ "Name": "main", "team": "net" }));
    assert!(read.attrs["arn"].as_str().unwrap().ends_with(&created.id));

    // Drift: a tag changed and one added outside landfall; update reverts it and keeps ours.
    ec2.create_tags()
        .resources(&created.id)
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key("team")
                .value("other")
                .build(),
        )
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key("extra")
                .value("x")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let drifted = read_one("vpc", &cx, &created.id).await.unwrap();
    assert_ne!(drifted.attrs["tags"], desired["tags"]);
    let mut changed = desired.clone();
    changed.insert("enable_dns_hostnames".into(), false.into());
    let updated = provider::update("vpc", &cx, &created.id, &drifted.attrs, &changed)
        .await
        .unwrap();
    assert_matches(&updated, &changed);
    let read = read_one("vpc", &cx, &created.id).await.unwrap();
    assert_eq!(read.attrs["tags"], desired["tags"]);
    assert_eq!(read.address.as_deref(), Some("stack.vpc.main"));
    let hostnames = ec2
        .describe_vpc_attribute()
        .vpc_id(&created.id)
        .attribute(aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames)
        .send()
        .await
        .unwrap();
    assert_eq!(
        hostnames.enable_dns_hostnames().and_then(|v| v.value()),
        Some(false)
    );

    // Delete, twice.
    provider::delete("vpc", &cx, &created.id, &read.attrs)
        .await
        .unwrap();
    provider::delete("vpc", &cx, &created.id, &read.attrs)
        .await
        .unwrap();
    assert!(read_one("vpc", &cx, &created.id).await.is_none());
    let left = ec2
        .describe_vpcs()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(&created.id)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(left.vpcs().is_empty());
}

#[tokio::test]
async fn reads_are_batched_and_adopt_by_tag() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let loc = loc();
    let cx = cx(&aws, &loc);
    let ec2 = sdk(&moto).await;

    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(new_vpc(&cx, &format!("s.vpc.v{i}"), &format!("10.{i}.0.0/16")).await);
    }
    // One created outside landfall, untagged: read only when asked for by id.
    let foreign = ec2
        .create_vpc()
        .cidr_block("10.99.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_string();

    let cost = |n: usize| {
        let ids = ids[..n].to_vec();
        let aws = &aws;
        let loc = &loc;
        async move {
            let cx = Cx {
                aws,
                loc,
                lineage: "test",
                pending: None,
                record_pending: &NoPending,
                cache: None,
                moves: &[],
            };
            let before = aws.stats().total();
            let found = provider::read("vpc", &cx, &ids).await.unwrap();
            (aws.stats().total() - before, found)
        }
    };
    let (one, _) = cost(1).await;
    let (six, found) = cost(6).await;
    assert_eq!(one, six, "reading 6 VPCs costs as much as reading one");
    assert_eq!(six, 1, "{six} requests");
    assert_eq!(found.len(), 6);

    // Adoption: no ids known, every tagged VPC found with its address; the foreign one is not.
    let found = provider::read("vpc", &cx, &[]).await.unwrap();
    let mut addresses: Vec<_> = found.iter().filter_map(|l| l.address.clone()).collect();
    addresses.sort();
    assert_eq!(
        addresses,
        (0..6).map(|i| format!("s.vpc.v{i}")).collect::<Vec<_>>()
    );
    assert!(found.iter().all(|l| l.id != foreign));

    // Ids that do not exist are absent, not errors; a foreign id asked for is read.
    let asked = vec![
        foreign.clone(),
        "vpc-00000000000000000".to_string(),
        ids[0].clone(),
    ];
    let before = aws.stats().total();
    let found = provider::read("vpc", &cx, &asked).await.unwrap();
    assert_eq!(aws.stats().total() - before, 1, "one unfiltered listing");
    assert!(found.iter().any(|l| l.id == foreign && l.address.is_none()));
    assert!(!found.iter().any(|l| l.id == "vpc-00000000000000000"));
    assert_eq!(found.len(), 7);

    // Batched for the other kinds too: subnets.
    let mut subnets = Vec::new();
    for i in 0..4 {
        subnets.push(
            new_subnet(
                &cx,
                &format!("s.subnet.s{i}"),
                &ids[0],
                &format!("10.0.{i}.0/24"),
            )
            .await,
        );
    }
    // All of them carry the address tag: the tag-key pass finds them, no id pass follows.
    let before = aws.stats().total();
    let found = provider::read("subnet", &cx, &subnets).await.unwrap();
    assert_eq!(aws.stats().total() - before, 1);
    assert_eq!(found.len(), 4);

    // An untagged subnet asked for by id costs one more pass, for that id only; so does a gone one.
    let foreign_subnet = ec2
        .create_subnet()
        .vpc_id(&ids[1])
        .cidr_block("10.1.9.0/24")
        .send()
        .await
        .unwrap()
        .subnet()
        .unwrap()
        .subnet_id()
        .unwrap()
        .to_string();
    let mut asked = subnets.clone();
    asked.push(foreign_subnet.clone());
    asked.push("subnet-00000000000000000".to_string());
    let before = aws.stats().total();
    let found = provider::read("subnet", &cx, &asked).await.unwrap();
    assert_eq!(aws.stats().total() - before, 2);
    assert_eq!(found.len(), 5);
    assert!(
        found
            .iter()
            .any(|l| l.id == foreign_subnet && l.address.is_none())
    );
}

/// The reads of one refresh share a [`ReadCache`]: every EC2 kind costs one request per account and
/// region in steady state, and `vpc` and `default_vpc` share one DescribeVpcs. The results are the
/// same as without the cache.
#[tokio::test]
async fn refresh_reads_share_listings_and_cost_one_request_per_kind() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let loc = loc();
    let cx = cx(&aws, &loc);

    let vpc_id = new_vpc(&cx, "s.vpc.main", "10.0.0.0/16").await;
    let subnet_id = new_subnet(&cx, "s.subnet.a", &vpc_id, "10.0.1.0/24").await;
    let create = |kind: &'static str, address: &'static str, desired: Value| {
        let cx = &cx;
        async move {
            provider::create(kind, cx, address, &attrs(desired))
                .await
                .unwrap()
                .id
        }
    };
    let igw = create("internet_gateway", "s.igw", json!({ "vpc_id": vpc_id })).await;
    let nat = create("nat_gateway", "s.nat", json!({ "subnet_id": subnet_id })).await;
    let rt = create(
        "route_table",
        "s.rt",
        json!({
            "vpc_id": vpc_id,
            "routes": [{ "destination_cidr_block": "0.0.0.0/0", "gateway_id": igw }],
            "subnet_ids": [subnet_id],
        }),
    )
    .await;
    let sg = create(
        "security_group",
        "s.sg",
        json!({
            "name": "web", "vpc_id": vpc_id,
            "ingress": [{ "protocol": "tcp", "from_port": 443, "to_port": 443,
                          "cidr_blocks": ["10.0.0.0/8"] }],
        }),
    )
    .await;
    let groups: Vec<(&str, Vec<String>)> = vec![
        ("vpc", vec![vpc_id.clone()]),
        ("default_vpc", vec!["default".to_string()]),
        ("subnet", vec![subnet_id.clone()]),
        ("internet_gateway", vec![igw.clone()]),
        ("nat_gateway", vec![nat.clone()]),
        ("route_table", vec![rt.clone()]),
        ("security_group", vec![sg.clone()]),
    ];

    let (fresh, fresh_cost) = read_groups(&aws, &loc, None, &groups).await;
    // 1 request per kind, DescribeVpcs included for each of `vpc` and `default_vpc`.
    assert_eq!(fresh_cost, 7, "{}", aws.stats().render());

    let cache = ReadCache::default();
    let (shared, shared_cost) = read_groups(&aws, &loc, Some(&cache), &groups).await;
    // `default_vpc` finds the default VPC in the listing `vpc` fetched: 6 requests for 7 kinds.
    assert_eq!(shared_cost, 6, "{}", aws.stats().render());
    assert_eq!(shared, fresh);
    for (kind, found) in &shared {
        assert_eq!(found.len(), 1, "{kind}: {found:?}");
    }
    assert_eq!(shared[1].1[0].attrs["delete"], json!(false));

    // Within the same refresh, the listing is not fetched again.
    let cx = Cx {
        aws: &aws,
        loc: &loc,
        lineage: "",
        pending: None,
        record_pending: &NoPending,
        cache: Some(&cache),
        moves: &[],
    };
    let before = aws.stats().total();
    provider::read("default_vpc", &cx, &["default".to_string()])
        .await
        .unwrap();
    provider::read("vpc", &cx, &[]).await.unwrap();
    assert_eq!(aws.stats().total() - before, 0);
}

#[tokio::test]
async fn subnet_round_trip_and_update() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let loc = loc();
    let cx = cx(&aws, &loc);
    let ec2 = sdk(&moto).await;
    let vpc_id = new_vpc(&cx, "s.vpc.main", "10.0.0.0/16").await;

    let desired = attrs(json!({
        "vpc_id": vpc_id, "cidr_block": "10.0.1.0/24", "availability_zone": "eu-west-1b",
        "map_public_ip_on_launch": true, "tags": { "Name": "public-b" },
    }));
    let created = provider::create("subnet", &cx, "s.subnet.b", &desired)
        .await
        .unwrap();
    assert_matches(&created, &desired);
    let read = read_one("subnet", &cx, &created.id).await.unwrap();
    assert_matches(&read, &desired);
    assert_eq!(read.attrs, created.attrs);

    let out = ec2
        .describe_subnets()
        .subnet_ids(&created.id)
        .send()
        .await
        .unwrap();
    assert_eq!(out.subnets()[0].map_public_ip_on_launch(), Some(true));

    let mut private = desired.clone();
    private.insert("map_public_ip_on_launch".into(), false.into());
    let updated = provider::update("subnet", &cx, &created.id, &read.attrs, &private)
        .await
        .unwrap();
    assert_matches(&updated, &private);
    let out = ec2
        .describe_subnets()
        .subnet_ids(&created.id)
        .send()
        .await
        .unwrap();
    assert_eq!(out.subnets()[0].map_public_ip_on_launch(), Some(false));

    provider::delete("subnet", &cx, &created.id, &updated.attrs)
        .await
        .unwrap();
    provider::delete("subnet", &cx, &created.id, &updated.attrs)
        .await
        .unwrap();
    assert!(read_one("subnet", &cx, &created.id).await.is_none());
}

#[tokio::test]
async fn internet_gateway_attach_move_and_detach_on_delete() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let loc = loc();
    let cx = cx(&aws, &loc);
    let ec2 = sdk(&moto).await;
    let vpc_a = new_vpc(&cx, "s.vpc.a", "10.0.0.0/16").await;
    let vpc_b = new_vpc(&cx, "s.vpc.b", "10.1.0.0/16").await;

    let desired = attrs(json!({ "vpc_id": vpc_a, "tags": { "Name": "igw" } }));
    let created = provider::create("internet_gateway", &cx, "s.igw", &desired)
        .await
        .unwrap();
    assert_matches(&created, &desired);
    let read = read_one("internet_gateway", &cx, &created.id)
        .await
        .unwrap();
    assert_eq!(read.attrs, created.attrs);

    let attachments = |ec2: aws_sdk_ec2::Client, id: String| async move {
        let out = ec2
            .describe_internet_gateways()
            .internet_gateway_ids(id)
            .send()
            .await
            .unwrap();
        out.internet_gateways()[0]
            .attachments()
            .iter()
            .map(|a| a.vpc_id().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        attachments(ec2.clone(), created.id.clone()).await,
        [vpc_a.as_str()]
    );

    // Moving it to another VPC.
    let moved = attrs(json!({ "vpc_id": vpc_b, "tags": { "Name": "igw" } }));
    let updated = provider::update("internet_gateway", &cx, &created.id, &read.attrs, &moved)
        .await
        .unwrap();
    assert_matches(&updated, &moved);
    assert_eq!(
        attachments(ec2.clone(), created.id.clone()).await,
        [vpc_b.as_str()]
    );

    // Delete detaches first: afterwards the VPC can be deleted.
    provider::delete("internet_gateway", &cx, &created.id, &updated.attrs)
        .await
        .unwrap();
    provider::delete("internet_gateway", &cx, &created.id, &updated.attrs)
        .await
        .unwrap();
    assert!(
        read_one("internet_gateway", &cx, &created.id)
            .await
            .is_none()
    );
    let igws = ec2
        .describe_internet_gateways()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("attachment.vpc-id")
                .values(&vpc_b)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(igws.internet_gateways().is_empty());
}

#[tokio::test]
async fn nat_gateway_allocates_and_releases_its_address() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let loc = loc();
    let cx = cx(&aws, &loc);
    let ec2 = sdk(&moto).await;
    let vpc_id = new_vpc(&cx, "s.vpc.main", "10.0.0.0/16").await;
    let subnet_id = new_subnet(&cx, "s.subnet.public", &vpc_id, "10.0.0.0/24").await;

    let desired = attrs(json!({ "subnet_id": subnet_id, "tags": { "Name": "nat" } }));
    let created = provider::create("nat_gateway", &cx, "s.nat", &desired)
        .await
        .unwrap();
    assert_matches(&created, &desired);
    let allocation_id = created.attrs["allocation_id"].as_str().unwrap().to_string();
    assert!(created.attrs["public_ip"].as_str().is_some());
    let read = read_one("nat_gateway", &cx, &created.id).await.unwrap();
    assert_eq!(read.attrs, created.attrs);
    assert_eq!(read.address.as_deref(), Some("s.nat"));

    // The elastic IP exists and carries the creation tags.
    let eips = ec2
        .describe_addresses()
        .allocation_ids(&allocation_id)
        .send()
        .await
        .unwrap();
    assert!(
        eips.addresses()[0]
            .tags()
            .iter()
            .any(|t| t.key() == Some("landfall:address") && t.value() == Some("s.nat"))
    );

    // Adopted by tag.
    let found = provider::read("nat_gateway", &cx, &[]).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, created.id);

    // Tag drift reverted.
    let mut retagged = desired.clone();
    retagged.insert("tags".into(), json!({ "Name": "nat", "cost": "shared" }));
    let updated = provider::update("nat_gateway", &cx, &created.id, &read.attrs, &retagged)
        .await
        .unwrap();
    assert_matches(&updated, &retagged);

    // Delete: the gateway counts as absent, the address is released.
    provider::delete("nat_gateway", &cx, &created.id, &updated.attrs)
        .await
        .unwrap();
    assert!(read_one("nat_gateway", &cx, &created.id).await.is_none());
    assert!(
        provider::read("nat_gateway", &cx, &[])
            .await
            .unwrap()
            .is_empty()
    );
    let eips = ec2.describe_addresses().send().await.unwrap();
    assert!(
        !eips
            .addresses()
            .iter()
            .any(|a| a.allocation_id() == Some(allocation_id.as_str())),
        "the elastic IP was released"
    );
    provider::delete("nat_gateway", &cx, &created.id, &updated.attrs)
        .await
        .unwrap();
}

#[tokio::test]
async fn route_table_routes_and_associations_are_exclusive() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let loc = loc();
    let cx = cx(&aws, &loc);
    let ec2 = sdk(&moto).await;
    let vpc_id = new_vpc(&cx, "s.vpc.main", "10.0.0.0/16").await;
    let subnet_a = new_subnet(&cx, "s.subnet.a", &vpc_id, "10.0.1.0/24").await;
    let subnet_b = new_subnet(&cx, "s.subnet.b", &vpc_id, "10.0.2.0/24").await;
    let igw = provider::create(
        "internet_gateway",
        &cx,
        "s.igw",
        &attrs(json!({ "vpc_id": vpc_id })),
    )
    .await
    .unwrap()
    .id;

    let desired = attrs(json!({
        "vpc_id": vpc_id,
        "routes": [{ "destination_cidr_block": "0.0.0.0/0", "gateway_id": igw }],
        "subnet_ids": [subnet_a],
        "tags": { "Name": "public" },
    }));
    let created = provider::create("route_table", &cx, "s.rt.public", &desired)
        .await
        .unwrap();
    assert_matches(&created, &desired);
    let read = read_one("route_table", &cx, &created.id).await.unwrap();
    assert_matches(&read, &desired);
    assert_eq!(
        canonical(&Value::Object(read.attrs.clone())),
        canonical(&Value::Object(created.attrs.clone()))
    );

    // Drift: an extra route and an extra association made outside landfall.
    ec2.create_route()
        .route_table_id(&created.id)
        .destination_cidr_block("192.168.0.0/16")
        .gateway_id(&igw)
        .send()
        .await
        .unwrap();
    ec2.associate_route_table()
        .route_table_id(&created.id)
        .subnet_id(&subnet_b)
        .send()
        .await
        .unwrap();
    let drifted = read_one("route_table", &cx, &created.id).await.unwrap();
    assert_eq!(drifted.attrs["routes"].as_array().unwrap().len(), 2);
    assert_eq!(drifted.attrs["subnet_ids"].as_array().unwrap().len(), 2);

    let updated = provider::update("route_table", &cx, &created.id, &drifted.attrs, &desired)
        .await
        .unwrap();
    assert_matches(&updated, &desired);
    let out = ec2
        .describe_route_tables()
        .route_table_ids(&created.id)
        .send()
        .await
        .unwrap();
    let table = &out.route_tables()[0];
    let destinations: Vec<_> = table
        .routes()
        .iter()
        .filter_map(|r| r.destination_cidr_block())
        .collect();
    assert!(
        destinations.contains(&"10.0.0.0/16"),
        "the local route stays"
    );
    assert!(destinations.contains(&"0.0.0.0/0"));
    assert!(!destinations.contains(&"192.168.0.0/16"));
    let associated: Vec<_> = table
        .associations()
        .iter()
        .filter_map(|a| a.subnet_id())
        .collect();
    assert_eq!(associated, [subnet_a.as_str()]);

    // Changing the associations: b instead of a.
    let mut moved = desired.clone();
    moved.insert("subnet_ids".into(), json!([subnet_b]));
    let updated = provider::update("route_table", &cx, &created.id, &updated.attrs, &moved)
        .await
        .unwrap();
    assert_matches(&updated, &moved);

    // Delete disassociates first, and is idempotent.
    provider::delete("route_table", &cx, &created.id, &updated.attrs)
        .await
        .unwrap();
    provider::delete("route_table", &cx, &created.id, &updated.attrs)
        .await
        .unwrap();
    assert!(read_one("route_table", &cx, &created.id).await.is_none());
    let left = ec2
        .describe_route_tables()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("association.subnet-id")
                .values(&subnet_b)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(
        left.route_tables()
            .iter()
            .all(|t| t.route_table_id() != Some(created.id.as_str()))
    );
}

#[tokio::test]
async fn security_group_rules_are_exclusive() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let loc = loc();
    let cx = cx(&aws, &loc);
    let ec2 = sdk(&moto).await;
    let vpc_id = new_vpc(&cx, "s.vpc.main", "10.0.0.0/16").await;
    let other = provider::create(
        "security_group",
        &cx,
        "s.sg.other",
        &attrs(json!({ "name": "other", "vpc_id": vpc_id })),
    )
    .await
    .unwrap();
    // No egress configured: AWS's default allow-all egress rule is revoked.
    assert_eq!(other.attrs["egress"], json!([]));
    assert_eq!(other.attrs["description"], json!("Managed by landfall"));

    let desired = attrs(json!({
        "name": "web",
        "description": "web servers",
        "vpc_id": vpc_id,
        "ingress": [
            { "protocol": "tcp", "from_port": 443, "to_port": 443,
              "cidr_blocks": ["10.0.0.0/8", "192.168.0.0/16"], "description": "https" },
            { "protocol": "tcp", "from_port": 22, "to_port": 22, "security_group_id": other.id },
        ],
        "egress": [{ "protocol": "-1", "cidr_blocks": ["0.0.0.0/0"] }],
        "tags": { "Name": "web" },
    }));
    let created = provider::create("security_group", &cx, "s.sg.web", &desired)
        .await
        .unwrap();
    assert_matches(&created, &desired);
    let read = read_one("security_group", &cx, &created.id).await.unwrap();
    assert_matches(&read, &desired);

    // Drift: an extra ingress rule.
    ec2.authorize_security_group_ingress()
        .group_id(&created.id)
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(80)
                .to_port(80)
                .ip_ranges(
                    aws_sdk_ec2::types::IpRange::builder()
                        .cidr_ip("0.0.0.0/0")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let drifted = read_one("security_group", &cx, &created.id).await.unwrap();
    assert_ne!(
        canonical(&drifted.attrs["ingress"]),
        canonical(&desired["ingress"])
    );

    let updated = provider::update("security_group", &cx, &created.id, &drifted.attrs, &desired)
        .await
        .unwrap();
    assert_matches(&updated, &desired);
    let out = ec2
        .describe_security_groups()
        .group_ids(&created.id)
        .send()
        .await
        .unwrap();
    let ports: Vec<_> = out.security_groups()[0]
        .ip_permissions()
        .iter()
        .filter_map(|p| p.from_port())
        .collect();
    assert!(!ports.contains(&80), "{ports:?}");
    assert!(ports.contains(&443));

    // A narrower rule set: one CIDR dropped, the SSH rule removed, egress emptied.
    let narrower = attrs(json!({
        "name": "web",
        "description": "web servers",
        "vpc_id": vpc_id,
        "ingress": [
            { "protocol": "tcp", "from_port": 443, "to_port": 443,
              "cidr_blocks": ["10.0.0.0/8"], "description": "https" },
        ],
        "egress": [],
        "tags": { "Name": "web" },
    }));
    let updated = provider::update(
        "security_group",
        &cx,
        &created.id,
        &updated.attrs,
        &narrower,
    )
    .await
    .unwrap();
    assert_matches(&updated, &narrower);
    let read = read_one("security_group", &cx, &created.id).await.unwrap();
    assert_matches(&read, &narrower);

    for id in [&created.id, &other.id] {
        provider::delete("security_group", &cx, id, &Attrs::new())
            .await
            .unwrap();
        provider::delete("security_group", &cx, id, &Attrs::new())
            .await
            .unwrap();
        assert!(read_one("security_group", &cx, id).await.is_none());
    }
}

#[tokio::test]
async fn default_vpc_deletion_converges() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let loc = loc();
    let cx = cx(&aws, &loc);
    let ec2 = sdk(&moto).await;
    let default_vpcs = |ec2: aws_sdk_ec2::Client| async move {
        ec2.describe_vpcs()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("is-default")
                    .values("true")
                    .build(),
            )
            .send()
            .await
            .unwrap()
            .vpcs()
            .len()
    };
    assert_eq!(default_vpcs(ec2.clone()).await, 1);
    let ids = vec!["default".to_string()];

    // Not adopted: nothing to find without its id.
    assert!(
        provider::read("default_vpc", &cx, &[])
            .await
            .unwrap()
            .is_empty()
    );
    let before = provider::read("default_vpc", &cx, &ids).await.unwrap();
    assert_eq!(before[0].attrs["delete"], json!(false));

    let desired = attrs(json!({ "delete": true }));
    let created = provider::create("default_vpc", &cx, "s.default_vpc", &desired)
        .await
        .unwrap();
    assert_matches(&created, &desired);
    assert_eq!(default_vpcs(ec2.clone()).await, 0);

    // The next read equals what create returned: a no-op plan.
    let after = provider::read("default_vpc", &cx, &ids).await.unwrap();
    assert_eq!(after, vec![created.clone()]);
    // Applying again changes nothing.
    provider::update("default_vpc", &cx, "default", &after[0].attrs, &desired)
        .await
        .unwrap();

    // delete = false restores one; removing the resource leaves it.
    let keep = attrs(json!({ "delete": false }));
    let kept = provider::update("default_vpc", &cx, "default", &after[0].attrs, &keep)
        .await
        .unwrap();
    assert_matches(&kept, &keep);
    assert_eq!(default_vpcs(ec2.clone()).await, 1);
    provider::delete("default_vpc", &cx, "default", &kept.attrs)
        .await
        .unwrap();
    assert_eq!(default_vpcs(ec2.clone()).await, 1);
}

/// Reads each (kind, ids) group as a refresh does, with `cache`: the results by kind (sorted by id) and
/// the number of requests sent.
async fn read_groups(
    aws: &Aws,
    loc: &Location,
    cache: Option<&ReadCache>,
    groups: &[(&str, Vec<String>)],
) -> (Vec<(String, Vec<Live>)>, u64) {
    let cx = Cx {
        aws,
        loc,
        lineage: "",
        pending: None,
        record_pending: &NoPending,
        cache,
        moves: &[],
    };
    let before = aws.stats().total();
    let mut out = Vec::new();
    for (kind, ids) in groups {
        let mut found = provider::read(kind, &cx, ids).await.unwrap();
        found.sort_by(|a, b| a.id.cmp(&b.id));
        out.push((kind.to_string(), found));
    }
    (out, aws.stats().total() - before)
}
