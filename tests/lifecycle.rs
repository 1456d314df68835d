//! The lifecycle of each resource kind, in the spirit of the Terraform provider acceptance tests: a
//! sequence of changes to a live resource, each followed by an independent read of the emulator and
//! an empty plan.
//!
//! create -> change in place -> change that forces replacement (a dependent must follow the new id)
//! -> drift made outside landfall (plan shows it, apply reverts it) -> deletion outside (plan
//! recreates it) -> `state rm` + `import ADDR ID` (no change) -> destroy (nothing left).
//!
//! The README's lifecycle table says which steps each kind passes; a kind added later gets a test here.

mod common;

use aws_sdk_ec2::types::{Filter, Tag};
use common::project::Project;

fn tagged(address: &str) -> Filter {
    Filter::builder()
        .name("tag:landfall:address")
        .values(address)
        .build()
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

fn name_tag(tags: &[Tag]) -> Option<&str> {
    tags.iter()
        .find(|t| t.key() == Some("Name"))
        .and_then(|t| t.value())
}

/// The VPCs carrying `address`: (id, cidr, Name tag).
async fn vpcs(p: &Project, address: &str) -> Vec<(String, String, String)> {
    let out = p
        .ec2()
        .await
        .describe_vpcs()
        .filters(tagged(address))
        .send()
        .await
        .unwrap();
    out.vpcs()
        .iter()
        .map(|v| {
            (
                v.vpc_id().unwrap().into(),
                v.cidr_block().unwrap().into(),
                name_tag(v.tags()).unwrap_or_default().into(),
            )
        })
        .collect()
}

/// The subnets carrying `address`: (id, vpc, cidr, az).
async fn subnets(p: &Project, address: &str) -> Vec<(String, String, String, String)> {
    let out = p
        .ec2()
        .await
        .describe_subnets()
        .filters(tagged(address))
        .send()
        .await
        .unwrap();
    out.subnets()
        .iter()
        .map(|s| {
            (
                s.subnet_id().unwrap().into(),
                s.vpc_id().unwrap().into(),
                s.cidr_block().unwrap().into(),
                s.availability_zone().unwrap().into(),
            )
        })
        .collect()
}

/// The one VPC carrying `address`.
#[track_caller]
fn one<T: std::fmt::Debug + Clone>(found: Vec<T>) -> T {
    assert_eq!(found.len(), 1, "exactly one: {found:?}");
    found[0].clone()
}

const VPC: &str = r#"
[vpc.main]
cidr_block = "10.0.0.0/16"
tags = { Name = "one" }

[subnet.a]
vpc_id = "${vpc.main.id}"
cidr_block = "10.0.1.0/24"
availability_zone = "eu-west-1a"
"#;

#[tokio::test(flavor = "multi_thread")]
async fn vpc_lifecycle() {
    let p = Project::new(VPC);
    p.apply();
    p.expect_converged();
    let (vpc, cidr, name) = one(vpcs(&p, "main.vpc.main").await);
    assert_eq!((cidr.as_str(), name.as_str()), ("10.0.0.0/16", "one"));

    p.change(
        &[("Name = \"one\"", "Name = \"two\"")],
        &["~ main.vpc.main"],
    );
    let (same, _, name) = one(vpcs(&p, "main.vpc.main").await);
    assert_eq!((same.as_str(), name.as_str()), (vpc.as_str(), "two"));

    p.change(
        &[
            ("10.0.0.0/16", "10.1.0.0/16"),
            ("10.0.1.0/24", "10.1.1.0/24"),
        ],
        &["-/+ main.vpc.main", "-/+ main.subnet.a"],
    );
    let (vpc, cidr, _) = one(vpcs(&p, "main.vpc.main").await);
    assert_eq!(cidr, "10.1.0.0/16");
    assert_ne!(vpc, same, "a new VPC");
    let (_, subnet_vpc, _, _) = one(subnets(&p, "main.subnet.a").await);
    assert_eq!(subnet_vpc, vpc, "the subnet follows the new VPC");

    let ec2 = p.ec2().await;
    ec2.create_tags()
        .resources(&vpc)
        .tags(tag("Name", "drifted"))
        .send()
        .await
        .unwrap();
    p.expect_plan(&["~ main.vpc.main"]);
    p.apply();
    p.expect_converged();
    assert_eq!(one(vpcs(&p, "main.vpc.main").await).2, "two");

    let (subnet, _, _, _) = one(subnets(&p, "main.subnet.a").await);
    ec2.delete_subnet().subnet_id(&subnet).send().await.unwrap();
    ec2.delete_vpc().vpc_id(&vpc).send().await.unwrap();
    p.expect_plan(&["+ main.vpc.main", "+ main.subnet.a"]);
    p.apply();
    p.expect_converged();
    let (vpc, _, _) = one(vpcs(&p, "main.vpc.main").await);
    assert_eq!(one(subnets(&p, "main.subnet.a").await).1, vpc);

    p.reimport("main.vpc.main", &vpc);
    assert_eq!(one(vpcs(&p, "main.vpc.main").await).0, vpc);

    p.destroy(&[]);
    assert!(vpcs(&p, "main.vpc.main").await.is_empty());
    assert!(subnets(&p, "main.subnet.a").await.is_empty());
}

const SUBNET: &str = r#"
[vpc.main]
cidr_block = "10.0.0.0/16"

[subnet.a]
vpc_id = "${vpc.main.id}"
cidr_block = "10.0.1.0/24"
availability_zone = "eu-west-1a"
map_public_ip_on_launch = false

[route_table.main]
vpc_id = "${vpc.main.id}"
subnet_ids = ["${subnet.a.id}"]
"#;

/// The route tables carrying `address`: (id, vpc, associated subnets, (destination, target) routes).
async fn route_tables(
    p: &Project,
    address: &str,
) -> Vec<(String, String, Vec<String>, Vec<(String, String)>)> {
    let out = p
        .ec2()
        .await
        .describe_route_tables()
        .filters(tagged(address))
        .send()
        .await
        .unwrap();
    out.route_tables()
        .iter()
        .map(|t| {
            (
                t.route_table_id().unwrap().into(),
                t.vpc_id().unwrap().into(),
                t.associations()
                    .iter()
                    .filter_map(|a| a.subnet_id().map(String::from))
                    .collect(),
                t.routes()
                    .iter()
                    .filter(|r| r.gateway_id() != Some("local"))
                    .map(|r| {
                        (
                            r.destination_cidr_block().unwrap_or_default().into(),
                            r.gateway_id()
                                .or(r.nat_gateway_id())
                                .unwrap_or_default()
                                .into(),
                        )
                    })
                    .collect(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn subnet_lifecycle() {
    let p = Project::new(SUBNET);
    p.apply();
    p.expect_converged();
    let (subnet, _, _, az) = one(subnets(&p, "main.subnet.a").await);
    assert_eq!(az, "eu-west-1a");
    assert_eq!(
        one(route_tables(&p, "main.route_table.main").await).2,
        vec![subnet.clone()]
    );

    p.change(
        &[(
            "map_public_ip_on_launch = false",
            "map_public_ip_on_launch = true",
        )],
        &["~ main.subnet.a"],
    );
    let ec2 = p.ec2().await;
    let public = |id: &str| {
        let ec2 = ec2.clone();
        let id = id.to_string();
        async move {
            ec2.describe_subnets()
                .subnet_ids(id)
                .send()
                .await
                .unwrap()
                .subnets()[0]
                .map_public_ip_on_launch()
        }
    };
    assert_eq!(public(&subnet).await, Some(true));

    p.change(
        &[("eu-west-1a", "eu-west-1b")],
        &["-/+ main.subnet.a", "~ main.route_table.main"],
    );
    let (new, _, _, az) = one(subnets(&p, "main.subnet.a").await);
    assert_eq!(az, "eu-west-1b");
    assert_ne!(new, subnet);
    assert_eq!(
        one(route_tables(&p, "main.route_table.main").await).2,
        vec![new.clone()]
    );

    ec2.modify_subnet_attribute()
        .subnet_id(&new)
        .map_public_ip_on_launch(
            aws_sdk_ec2::types::AttributeBooleanValue::builder()
                .value(false)
                .build(),
        )
        .send()
        .await
        .unwrap();
    p.expect_plan(&["~ main.subnet.a"]);
    p.apply();
    p.expect_converged();
    assert_eq!(public(&new).await, Some(true));

    let (rt, _, _, _) = one(route_tables(&p, "main.route_table.main").await);
    let assoc = ec2
        .describe_route_tables()
        .route_table_ids(&rt)
        .send()
        .await
        .unwrap()
        .route_tables()[0]
        .associations()[0]
        .route_table_association_id()
        .unwrap()
        .to_string();
    ec2.disassociate_route_table()
        .association_id(assoc)
        .send()
        .await
        .unwrap();
    ec2.delete_subnet().subnet_id(&new).send().await.unwrap();
    p.expect_plan(&["+ main.subnet.a", "~ main.route_table.main"]);
    p.apply();
    p.expect_converged();
    let (subnet, _, _, _) = one(subnets(&p, "main.subnet.a").await);
    assert_eq!(
        one(route_tables(&p, "main.route_table.main").await).2,
        vec![subnet.clone()]
    );

    p.reimport("main.subnet.a", &subnet);
    p.destroy(&[]);
    assert!(subnets(&p, "main.subnet.a").await.is_empty());
    assert!(route_tables(&p, "main.route_table.main").await.is_empty());
}

const GATEWAYS: &str = r#"
[vpc.main]
cidr_block = "10.0.0.0/16"

[vpc.other]
cidr_block = "10.1.0.0/16"

[subnet.public]
vpc_id = "${vpc.main.id}"
cidr_block = "10.0.1.0/24"
availability_zone = "eu-west-1a"

[subnet.public_b]
vpc_id = "${vpc.main.id}"
cidr_block = "10.0.2.0/24"
availability_zone = "eu-west-1b"

[internet_gateway.main]
vpc_id = "${vpc.main.id}"
tags = { Name = "one" }

[nat_gateway.main]
subnet_id = "${subnet.public.id}"

[route_table.private]
vpc_id = "${vpc.main.id}"
routes = [{ destination_cidr_block = "0.0.0.0/0", nat_gateway_id = "${nat_gateway.main.id}" }]
"#;

/// The internet gateways carrying `address`: (id, attached VPCs).
async fn igws(p: &Project, address: &str) -> Vec<(String, Vec<String>)> {
    let out = p
        .ec2()
        .await
        .describe_internet_gateways()
        .filters(tagged(address))
        .send()
        .await
        .unwrap();
    out.internet_gateways()
        .iter()
        .map(|g| {
            (
                g.internet_gateway_id().unwrap().into(),
                g.attachments()
                    .iter()
                    .filter_map(|a| a.vpc_id().map(String::from))
                    .collect(),
            )
        })
        .collect()
}

/// The NAT gateways carrying `address` that are not deleted: (id, subnet).
async fn nats(p: &Project, address: &str) -> Vec<(String, String)> {
    let out = p
        .ec2()
        .await
        .describe_nat_gateways()
        .filter(tagged(address))
        .send()
        .await
        .unwrap();
    out.nat_gateways()
        .iter()
        .filter(|n| n.state().is_some_and(|s| s.as_str() != "deleted"))
        .map(|n| {
            (
                n.nat_gateway_id().unwrap().into(),
                n.subnet_id().unwrap().into(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn internet_gateway_lifecycle() {
    let p = Project::new(GATEWAYS);
    p.apply();
    p.expect_converged();
    let (main, _, _) = one(vpcs(&p, "main.vpc.main").await);
    let (other, _, _) = one(vpcs(&p, "main.vpc.other").await);
    let (igw, attached) = one(igws(&p, "main.internet_gateway.main").await);
    assert_eq!(attached, vec![main.clone()]);

    // vpc_id changes in place: detached from one VPC, attached to the other.
    p.change(
        &[(
            "[internet_gateway.main]\nvpc_id = \"${vpc.main.id}\"",
            "[internet_gateway.main]\nvpc_id = \"${vpc.other.id}\"",
        )],
        &["~ main.internet_gateway.main"],
    );
    assert_eq!(
        one(igws(&p, "main.internet_gateway.main").await),
        (igw.clone(), vec![other.clone()])
    );

    let ec2 = p.ec2().await;
    ec2.detach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(&other)
        .send()
        .await
        .unwrap();
    p.expect_plan(&["~ main.internet_gateway.main"]);
    p.apply();
    p.expect_converged();
    assert_eq!(
        one(igws(&p, "main.internet_gateway.main").await).1,
        vec![other.clone()]
    );

    ec2.detach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(&other)
        .send()
        .await
        .unwrap();
    ec2.delete_internet_gateway()
        .internet_gateway_id(&igw)
        .send()
        .await
        .unwrap();
    p.expect_plan(&["+ main.internet_gateway.main"]);
    p.apply();
    p.expect_converged();
    let (igw, attached) = one(igws(&p, "main.internet_gateway.main").await);
    assert_eq!(attached, vec![other]);

    p.reimport("main.internet_gateway.main", &igw);
    p.destroy(&[]);
    assert!(igws(&p, "main.internet_gateway.main").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn nat_gateway_lifecycle() {
    let p = Project::new(GATEWAYS);
    p.apply();
    p.expect_converged();
    let (public, _, _, _) = one(subnets(&p, "main.subnet.public").await);
    let (nat, subnet) = one(nats(&p, "main.nat_gateway.main").await);
    assert_eq!(subnet, public);
    let routes = one(route_tables(&p, "main.route_table.private").await).3;
    assert_eq!(routes, vec![("0.0.0.0/0".to_string(), nat.clone())]);

    // A NAT gateway has nothing to change in place but its tags.
    p.change(
        &[(
            "subnet_id = \"${subnet.public.id}\"",
            "subnet_id = \"${subnet.public.id}\"\ntags = { Name = \"nat\" }",
        )],
        &["~ main.nat_gateway.main"],
    );
    assert_eq!(one(nats(&p, "main.nat_gateway.main").await).0, nat);

    p.change(
        &[(
            "subnet_id = \"${subnet.public.id}\"",
            "subnet_id = \"${subnet.public_b.id}\"",
        )],
        &["-/+ main.nat_gateway.main", "~ main.route_table.private"],
    );
    let (public_b, _, _, _) = one(subnets(&p, "main.subnet.public_b").await);
    let (new, subnet) = one(nats(&p, "main.nat_gateway.main").await);
    assert_eq!(subnet, public_b);
    assert_ne!(new, nat);
    let routes = one(route_tables(&p, "main.route_table.private").await).3;
    assert_eq!(
        routes,
        vec![("0.0.0.0/0".to_string(), new.clone())],
        "the route follows"
    );

    common::delete_nat_outside(&p.ec2().await, &new).await;
    p.expect_plan(&["+ main.nat_gateway.main", "~ main.route_table.private"]);
    p.apply();
    p.expect_converged();
    let (nat, _) = one(nats(&p, "main.nat_gateway.main").await);
    let routes = one(route_tables(&p, "main.route_table.private").await).3;
    assert_eq!(routes, vec![("0.0.0.0/0".to_string(), nat.clone())]);

    p.reimport("main.nat_gateway.main", &nat);
    p.destroy(&[]);
    assert!(nats(&p, "main.nat_gateway.main").await.is_empty());
    let eips = p.ec2().await.describe_addresses().send().await.unwrap();
    assert!(eips.addresses().is_empty(), "{eips:?}");
}

const ROUTES: &str = r#"
[vpc.main]
cidr_block = "10.0.0.0/16"

[vpc.other]
cidr_block = "10.1.0.0/16"

[internet_gateway.main]
vpc_id = "${vpc.main.id}"

[internet_gateway.other]
vpc_id = "${vpc.other.id}"

[route_table.public]
vpc_id = "${vpc.main.id}"
routes = [{ destination_cidr_block = "0.0.0.0/0", gateway_id = "${internet_gateway.main.id}" }]
"#;

#[tokio::test(flavor = "multi_thread")]
async fn route_table_lifecycle() {
    let p = Project::new(ROUTES);
    p.apply();
    p.expect_converged();
    let (igw, _) = one(igws(&p, "main.internet_gateway.main").await);
    let (rt, _, _, routes) = one(route_tables(&p, "main.route_table.public").await);
    assert_eq!(routes, vec![("0.0.0.0/0".to_string(), igw.clone())]);

    p.change(
        &[("\"0.0.0.0/0\"", "\"0.0.0.0/1\"")],
        &["~ main.route_table.public"],
    );
    let (same, _, _, routes) = one(route_tables(&p, "main.route_table.public").await);
    assert_eq!(same, rt);
    assert_eq!(routes, vec![("0.0.0.0/1".to_string(), igw.clone())]);

    p.change(
        &[
            (
                "vpc_id = \"${vpc.main.id}\"\nroutes",
                "vpc_id = \"${vpc.other.id}\"\nroutes",
            ),
            (
                "internet_gateway.main.id}\" }]",
                "internet_gateway.other.id}\" }]",
            ),
        ],
        &["-/+ main.route_table.public"],
    );
    let (other, _, _) = one(vpcs(&p, "main.vpc.other").await);
    let (igw_other, _) = one(igws(&p, "main.internet_gateway.other").await);
    let (rt, vpc, _, routes) = one(route_tables(&p, "main.route_table.public").await);
    assert_eq!(vpc, other);
    assert_eq!(routes, vec![("0.0.0.0/1".to_string(), igw_other.clone())]);

    let ec2 = p.ec2().await;
    ec2.create_route()
        .route_table_id(&rt)
        .destination_cidr_block("10.9.0.0/16")
        .gateway_id(&igw_other)
        .send()
        .await
        .unwrap();
    p.expect_plan(&["~ main.route_table.public"]);
    p.apply();
    p.expect_converged();
    assert_eq!(
        one(route_tables(&p, "main.route_table.public").await)
            .3
            .len(),
        1
    );

    ec2.delete_route_table()
        .route_table_id(&rt)
        .send()
        .await
        .unwrap();
    p.expect_plan(&["+ main.route_table.public"]);
    p.apply();
    p.expect_converged();
    let (rt, _, _, _) = one(route_tables(&p, "main.route_table.public").await);

    p.reimport("main.route_table.public", &rt);
    p.destroy(&[]);
    assert!(route_tables(&p, "main.route_table.public").await.is_empty());
}

const GROUPS: &str = r#"
[vpc.main]
cidr_block = "10.0.0.0/16"

[security_group.web]
name = "web"
description = "web servers"
vpc_id = "${vpc.main.id}"
ingress = [{ protocol = "tcp", from_port = 443, to_port = 443, cidr_blocks = ["10.0.0.0/8"], description = "https" }]

[security_group.app]
name = "app"
description = "application servers"
vpc_id = "${vpc.main.id}"
ingress = [{ protocol = "tcp", from_port = 8080, to_port = 8080, security_group_id = "${security_group.web.id}", description = "from web" }]
"#;

/// The security groups carrying `address`: (id, name, description, ingress as (port, sources)).
async fn security_groups(
    p: &Project,
    address: &str,
) -> Vec<(String, String, String, Vec<(i32, Vec<String>)>)> {
    let out = p
        .ec2()
        .await
        .describe_security_groups()
        .filters(tagged(address))
        .send()
        .await
        .unwrap();
    out.security_groups()
        .iter()
        .map(|g| {
            (
                g.group_id().unwrap().into(),
                g.group_name().unwrap().into(),
                g.description().unwrap_or_default().into(),
                g.ip_permissions()
                    .iter()
                    .map(|r| {
                        let mut sources: Vec<String> = r
                            .ip_ranges()
                            .iter()
                            .filter_map(|c| c.cidr_ip().map(String::from))
                            .chain(
                                r.user_id_group_pairs()
                                    .iter()
                                    .filter_map(|u| u.group_id().map(String::from)),
                            )
                            .collect();
                        sources.sort();
                        (r.from_port().unwrap_or(-1), sources)
                    })
                    .collect(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn security_group_lifecycle() {
    let p = Project::new(GROUPS);
    p.apply();
    p.expect_converged();
    let (web, _, _, rules) = one(security_groups(&p, "main.security_group.web").await);
    assert_eq!(rules, vec![(443, vec!["10.0.0.0/8".to_string()])]);
    let (_, _, _, rules) = one(security_groups(&p, "main.security_group.app").await);
    assert_eq!(rules, vec![(8080, vec![web.clone()])]);

    p.change(
        &[("10.0.0.0/8", "10.0.0.0/9")],
        &["~ main.security_group.web"],
    );
    let (same, _, _, rules) = one(security_groups(&p, "main.security_group.web").await);
    assert_eq!(same, web);
    assert_eq!(rules, vec![(443, vec!["10.0.0.0/9".to_string()])]);

    p.change(
        &[("\"web servers\"", "\"public web servers\"")],
        &["-/+ main.security_group.web", "~ main.security_group.app"],
    );
    let (web, _, description, _) = one(security_groups(&p, "main.security_group.web").await);
    assert_ne!(web, same);
    assert_eq!(description, "public web servers");
    let (app, _, _, rules) = one(security_groups(&p, "main.security_group.app").await);
    assert_eq!(
        rules,
        vec![(8080, vec![web.clone()])],
        "the rule follows the new group"
    );

    let ec2 = p.ec2().await;
    ec2.authorize_security_group_ingress()
        .group_id(&app)
        .ip_protocol("tcp")
        .from_port(22)
        .to_port(22)
        .cidr_ip("0.0.0.0/0")
        .send()
        .await
        .unwrap();
    p.expect_plan(&["~ main.security_group.app"]);
    p.apply();
    p.expect_converged();
    assert_eq!(
        one(security_groups(&p, "main.security_group.app").await)
            .3
            .len(),
        1
    );

    ec2.delete_security_group()
        .group_id(&app)
        .send()
        .await
        .unwrap();
    p.expect_plan(&["+ main.security_group.app"]);
    p.apply();
    p.expect_converged();
    let (app, _, _, _) = one(security_groups(&p, "main.security_group.app").await);

    p.reimport("main.security_group.app", &app);
    p.destroy(&[]);
    assert!(
        security_groups(&p, "main.security_group.app")
            .await
            .is_empty()
    );
    assert!(
        security_groups(&p, "main.security_group.web")
            .await
            .is_empty()
    );
}

const IAM: &str = r#"
[iam_policy.read]
name = "read"
description = "read things"
policy = { Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:GetObject", Resource = "*" }] }

[iam_role.ops]
name = "ops"
description = "operators"
assume_role_policy = { Version = "2012-10-17", Statement = [{ Effect = "Allow", Principal = { Service = "ec2.amazonaws.com" }, Action = "sts:AssumeRole" }] }
managed_policy_arns = ["${iam_policy.read.arn}"]

[iam_group.readers]
name = "readers"
path = "/"
managed_policy_arns = ["${iam_policy.read.arn}"]
"#;

/// The customer managed policies named `name`: (arn, description, default document).
async fn policies(p: &Project, name: &str) -> Vec<(String, String, serde_json::Value)> {
    let iam = p.iam().await;
    let out = iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .send()
        .await
        .unwrap();
    let mut found = Vec::new();
    for policy in out
        .policies()
        .iter()
        .filter(|x| x.policy_name() == Some(name))
    {
        let arn = policy.arn().unwrap().to_string();
        let version = iam
            .get_policy_version()
            .policy_arn(&arn)
            .version_id(policy.default_version_id().unwrap())
            .send()
            .await
            .unwrap();
        let document = version.policy_version().unwrap().document().unwrap();
        let document = urlencoding_decode(document);
        let description = iam
            .get_policy()
            .policy_arn(&arn)
            .send()
            .await
            .unwrap()
            .policy()
            .and_then(|x| x.description())
            .unwrap_or_default()
            .to_string();
        found.push((arn, description, serde_json::from_str(&document).unwrap()));
    }
    found
}

/// IAM returns policy documents URL-encoded.
fn urlencoding_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| u8::from_str_radix(&text[i + 1..i + 3], 16).ok())
            .flatten();
        match hex {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

/// The managed policies attached to role `role` and group `group`.
async fn attached(p: &Project, role: &str, group: &str) -> (Vec<String>, Vec<String>) {
    let iam = p.iam().await;
    let r = iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .unwrap();
    let g = iam
        .list_attached_group_policies()
        .group_name(group)
        .send()
        .await
        .unwrap();
    (
        r.attached_policies()
            .iter()
            .filter_map(|a| a.policy_arn().map(String::from))
            .collect(),
        g.attached_policies()
            .iter()
            .filter_map(|a| a.policy_arn().map(String::from))
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn iam_policy_role_and_group_lifecycle() {
    let p = Project::new(IAM);
    p.apply();
    p.expect_converged();
    let (arn, _, document) = one(policies(&p, "read").await);
    assert_eq!(document["Statement"][0]["Action"], "s3:GetObject");
    assert_eq!(
        attached(&p, "ops", "readers").await,
        (vec![arn.clone()], vec![arn.clone()])
    );

    // In place: the policy's document (a new default version), the role's description. (A group's
    // path changes in place too, but the emulator ignores an UpdateGroup that only sets a new path.)
    p.change(
        &[
            ("s3:GetObject", "s3:ListBucket"),
            ("\"operators\"", "\"operators of the platform\""),
        ],
        &["~ main.iam_policy.read", "~ main.iam_role.ops"],
    );
    let (same, _, document) = one(policies(&p, "read").await);
    assert_eq!(same, arn);
    assert_eq!(document["Statement"][0]["Action"], "s3:ListBucket");
    let iam = p.iam().await;
    let role = iam.get_role().role_name("ops").send().await.unwrap();
    assert_eq!(
        role.role().unwrap().description(),
        Some("operators of the platform")
    );

    // Replacement: the policy's name; the role and the group must attach the new one.
    p.change(
        &[("name = \"read\"", "name = \"read-only\"")],
        &[
            "-/+ main.iam_policy.read",
            "~ main.iam_role.ops",
            "~ main.iam_group.readers",
        ],
    );
    assert!(
        policies(&p, "read").await.is_empty(),
        "the old policy is gone"
    );
    let (arn, _, _) = one(policies(&p, "read-only").await);
    assert_eq!(
        attached(&p, "ops", "readers").await,
        (vec![arn.clone()], vec![arn.clone()])
    );

    // Drift: a policy detached outside landfall comes back.
    iam.detach_role_policy()
        .role_name("ops")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    p.expect_plan(&["~ main.iam_role.ops"]);
    p.apply();
    p.expect_converged();
    assert_eq!(attached(&p, "ops", "readers").await.0, vec![arn.clone()]);

    // Deleted outside: the role is created again.
    iam.detach_role_policy()
        .role_name("ops")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    iam.delete_role().role_name("ops").send().await.unwrap();
    p.expect_plan(&["+ main.iam_role.ops"]);
    p.apply();
    p.expect_converged();
    assert_eq!(attached(&p, "ops", "readers").await.0, vec![arn.clone()]);

    p.reimport("main.iam_role.ops", "ops");
    p.reimport("main.iam_policy.read", &arn);
    p.reimport("main.iam_group.readers", "readers");

    p.destroy(&[]);
    assert!(policies(&p, "read-only").await.is_empty());
    assert!(iam.get_role().role_name("ops").send().await.is_err());
    assert!(iam.get_group().group_name("readers").send().await.is_err());
}
