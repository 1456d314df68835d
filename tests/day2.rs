//! Day-2 changes to a live network: replacements whose dependents must follow the new ids, resources
//! deleted outside landfall, `--replace`, and the old half of an interrupted replacement.
//!
//! The project is `tests/fixtures/day2`: a VPC with a public and a private subnet, an internet gateway,
//! a NAT gateway, two route tables and a security group, and a role in another stack whose description
//! holds the VPC id. Every scenario ends with a census read straight from the emulator (not from
//! landfall's state) and an empty plan. Applies go through the fault proxy in `--strict` mode, which
//! refuses what AWS refuses and the emulator accepts (deleting a VPC with an internet gateway attached,
//! a subnet holding a NAT gateway), so a wrong order fails the test.

mod common;

use aws_sdk_ec2::types::Filter;
use common::cli::{expect_code, landfall, landfall_via, text};
use common::moto::{FaultProxy, Moto};
use std::path::Path;

fn project() -> tempfile::TempDir {
    common::fixture_copy("tests/fixtures/day2")
}

fn set_cidr(dir: &Path, cidr: &str) {
    let path = dir.join("environments/test/env.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("10.0.0.0/16", cidr)).unwrap();
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[track_caller]
fn expect_no_changes(dir: &Path, moto: &Moto) {
    let out = landfall(dir, moto, &["plan", "--env", "test", "--detailed-exitcode"]);
    expect_code(&out, 0);
    assert!(stdout(&out).contains("No changes."), "{}", text(&out));
}

/// A route table's VPC, the NAT gateways and gateways it routes to, and its associated subnets.
type RouteTable = (String, Vec<String>, Vec<String>, Vec<String>);

/// The network as the emulator has it: every resource landfall tagged, and how they point at each other.
#[derive(Debug)]
struct Network {
    /// (id, cidr) of each VPC.
    vpcs: Vec<(String, String)>,
    /// (id, vpc, Name tag) of each subnet.
    subnets: Vec<(String, String, String)>,
    /// VPCs each internet gateway is attached to, per gateway.
    igw_attachments: Vec<Vec<String>>,
    /// (id, subnet) of each NAT gateway that is not deleted.
    nats: Vec<(String, String)>,
    route_tables: Vec<RouteTable>,
    /// VPC of each security group.
    security_groups: Vec<String>,
    /// Elastic IPs allocated.
    addresses: usize,
    /// The role's description.
    role_description: String,
}

async fn census(moto: &Moto) -> Network {
    let config = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let ours = || {
        Filter::builder()
            .name("tag-key")
            .values("landfall:address")
            .build()
    };
    let name = |tags: &[aws_sdk_ec2::types::Tag]| {
        tags.iter()
            .find(|t| t.key() == Some("Name"))
            .and_then(|t| t.value())
            .unwrap_or_default()
            .to_string()
    };
    let vpcs = ec2.describe_vpcs().filters(ours()).send().await.unwrap();
    let subnets = ec2.describe_subnets().filters(ours()).send().await.unwrap();
    let igws = ec2
        .describe_internet_gateways()
        .filters(ours())
        .send()
        .await
        .unwrap();
    let nats = ec2.describe_nat_gateways().send().await.unwrap();
    let rts = ec2
        .describe_route_tables()
        .filters(ours())
        .send()
        .await
        .unwrap();
    let sgs = ec2
        .describe_security_groups()
        .filters(ours())
        .send()
        .await
        .unwrap();
    let addresses = ec2.describe_addresses().send().await.unwrap();
    let role = aws_sdk_iam::Client::new(&config)
        .get_role()
        .role_name("ops")
        .send()
        .await
        .unwrap();
    Network {
        vpcs: vpcs
            .vpcs()
            .iter()
            .map(|v| (v.vpc_id().unwrap().into(), v.cidr_block().unwrap().into()))
            .collect(),
        subnets: subnets
            .subnets()
            .iter()
            .map(|s| {
                (
                    s.subnet_id().unwrap().into(),
                    s.vpc_id().unwrap().into(),
                    name(s.tags()),
                )
            })
            .collect(),
        igw_attachments: igws
            .internet_gateways()
            .iter()
            .map(|g| {
                g.attachments()
                    .iter()
                    .filter_map(|a| a.vpc_id().map(String::from))
                    .collect()
            })
            .collect(),
        nats: nats
            .nat_gateways()
            .iter()
            .filter(|n| n.state().is_some_and(|s| s.as_str() != "deleted"))
            .map(|n| {
                (
                    n.nat_gateway_id().unwrap().into(),
                    n.subnet_id().unwrap().into(),
                )
            })
            .collect(),
        route_tables: rts
            .route_tables()
            .iter()
            .map(|t| {
                (
                    t.vpc_id().unwrap().into(),
                    t.routes()
                        .iter()
                        .filter_map(|r| r.nat_gateway_id().map(String::from))
                        .collect(),
                    t.routes()
                        .iter()
                        .filter_map(|r| r.gateway_id().map(String::from))
                        .filter(|g| g != "local")
                        .collect(),
                    t.associations()
                        .iter()
                        .filter_map(|a| a.subnet_id().map(String::from))
                        .collect(),
                )
            })
            .collect(),
        security_groups: sgs
            .security_groups()
            .iter()
            .map(|g| g.vpc_id().unwrap().into())
            .collect(),
        addresses: addresses.addresses().len(),
        role_description: role
            .role()
            .unwrap()
            .description()
            .unwrap_or_default()
            .into(),
    }
}

impl Network {
    /// Checks that the network is exactly the configuration, every reference pointing at a resource
    /// that exists; returns the VPC id.
    #[track_caller]
    fn assert_consistent(&self, cidr: &str) -> String {
        assert_eq!(self.vpcs.len(), 1, "one VPC: {self:#?}");
        let (vpc, vpc_cidr) = &self.vpcs[0];
        assert_eq!(vpc_cidr, cidr, "{self:#?}");
        assert_eq!(self.subnets.len(), 2, "{self:#?}");
        assert!(self.subnets.iter().all(|(_, v, _)| v == vpc), "{self:#?}");
        let subnet = |name: &str| {
            self.subnets
                .iter()
                .find(|(_, _, n)| n == name)
                .map(|(id, _, _)| id.clone())
                .unwrap_or_else(|| panic!("no {name} subnet: {self:#?}"))
        };
        assert_eq!(self.igw_attachments, vec![vec![vpc.clone()]], "{self:#?}");
        assert_eq!(self.nats.len(), 1, "one NAT gateway: {self:#?}");
        let (nat, nat_subnet) = &self.nats[0];
        assert_eq!(*nat_subnet, subnet("public"), "{self:#?}");
        assert_eq!(self.addresses, 1, "one elastic IP: {self:#?}");
        assert_eq!(self.route_tables.len(), 2, "{self:#?}");
        for (rt_vpc, nats, gateways, subnets) in &self.route_tables {
            assert_eq!(rt_vpc, vpc, "{self:#?}");
            if nats.is_empty() {
                assert_eq!(*subnets, vec![subnet("public")], "{self:#?}");
                assert_eq!(gateways.len(), 1, "{self:#?}");
            } else {
                assert_eq!(*nats, vec![nat.clone()], "{self:#?}");
                assert_eq!(*subnets, vec![subnet("private")], "{self:#?}");
            }
        }
        assert_eq!(self.security_groups, vec![vpc.clone()], "{self:#?}");
        assert_eq!(self.role_description, format!("Operators of {vpc}"));
        vpc.clone()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn replaced_vpc_hands_its_new_id_to_every_dependent() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto, &["--strict"]);
    let dir = project();
    let d = dir.path();
    let apply = || {
        landfall_via(
            d,
            &proxy.endpoint,
            &moto,
            &["apply", "--env", "test", "--auto-approve"],
        )
    };

    expect_code(&apply(), 0);
    let old = census(&moto).await.assert_consistent("10.0.0.0/16");

    set_cidr(d, "10.1.0.0/16");
    let out = landfall(d, &moto, &["plan", "--env", "test", "--detailed-exitcode"]);
    expect_code(&out, 2);
    let plan = stdout(&out);
    for replaced in [
        "network.vpc.main",
        "network.subnet.public",
        "network.nat_gateway.main",
    ] {
        assert!(
            plan.contains(&format!("-/+ {replaced}")),
            "{replaced}: {plan}"
        );
    }
    assert!(plan.contains("~ network.internet_gateway.main"), "{plan}");

    let out = apply();
    expect_code(&out, 0);
    let new = census(&moto).await.assert_consistent("10.1.0.0/16");
    assert_ne!(old, new);
    assert_eq!(proxy.counts()["refused_dependency"], 0, "{}", text(&out));
    expect_no_changes(d, &moto);
}

#[tokio::test(flavor = "multi_thread")]
async fn nat_gateway_deleted_outside_is_recreated_and_routes_follow() {
    let moto = Moto::start();
    let dir = project();
    let d = dir.path();
    expect_code(
        &landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]),
        0,
    );
    let before = census(&moto).await;
    before.assert_consistent("10.0.0.0/16");

    let ec2 = aws_sdk_ec2::Client::new(&moto.sdk_config().await);
    let (nat, _) = &before.nats[0];
    common::delete_nat_outside(&ec2, nat).await;

    let out = landfall(d, &moto, &["plan", "--env", "test", "--detailed-exitcode"]);
    expect_code(&out, 2);
    let plan = stdout(&out);
    assert!(plan.contains("+ network.nat_gateway.main"), "{plan}");
    assert!(plan.contains("~ network.route_table.private"), "{plan}");

    expect_code(
        &landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]),
        0,
    );
    // The gateway's elastic IP, left allocated, is used again: still one address.
    let after = census(&moto).await;
    after.assert_consistent("10.0.0.0/16");
    assert_ne!(after.nats[0].0, *nat, "a new NAT gateway");
    expect_no_changes(d, &moto);
}

#[tokio::test(flavor = "multi_thread")]
async fn elastic_ip_still_held_by_a_deleted_nat_gateway_is_reused_not_leaked() {
    // What a run killed during a NAT gateway's replacement leaves (found by sequence seed 14): the old
    // gateway deleted, its elastic IP still allocated and, for a moment in AWS (always, in the
    // emulator), still associated with it. The next run must use that address again.
    let moto = Moto::start();
    let dir = project();
    let d = dir.path();
    expect_code(
        &landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]),
        0,
    );
    let before = census(&moto).await;
    before.assert_consistent("10.0.0.0/16");
    let ec2 = aws_sdk_ec2::Client::new(&moto.sdk_config().await);
    ec2.delete_nat_gateway()
        .nat_gateway_id(&before.nats[0].0)
        .send()
        .await
        .unwrap();

    expect_code(
        &landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]),
        0,
    );
    let after = census(&moto).await;
    after.assert_consistent("10.0.0.0/16");
    assert_ne!(after.nats[0].0, before.nats[0].0, "a new NAT gateway");
    expect_no_changes(d, &moto);
}

#[tokio::test(flavor = "multi_thread")]
async fn nat_gateway_moved_then_deleted_outside_reuses_its_elastic_ip() {
    // A resource renamed through [[moved]] keeps the address tag it was created with, and so does its
    // elastic IP: the address is still recognised as its own (found by sequence seed 23).
    let moto = Moto::start();
    let dir = project();
    let d = dir.path();
    expect_code(
        &landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]),
        0,
    );
    let path = d.join("stacks/network.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text
        .replace("[nat_gateway.main]", "[nat_gateway.egress]")
        .replace("nat_gateway.main.id", "nat_gateway.egress.id");
    std::fs::write(
        &path,
        format!("{text}\n[[moved]]\nfrom = \"nat_gateway.main\"\nto = \"nat_gateway.egress\"\n"),
    )
    .unwrap();
    expect_code(
        &landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]),
        0,
    );
    let before = census(&moto).await;
    before.assert_consistent("10.0.0.0/16");

    let ec2 = aws_sdk_ec2::Client::new(&moto.sdk_config().await);
    ec2.delete_nat_gateway()
        .nat_gateway_id(&before.nats[0].0)
        .send()
        .await
        .unwrap();
    expect_code(
        &landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]),
        0,
    );
    census(&moto).await.assert_consistent("10.0.0.0/16");
    expect_no_changes(d, &moto);
}

#[tokio::test(flavor = "multi_thread")]
async fn replace_flag_recreates_a_resource_and_its_dependents_follow() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto, &["--strict"]);
    let dir = project();
    let d = dir.path();
    expect_code(
        &landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]),
        0,
    );
    let before = census(&moto).await;
    before.assert_consistent("10.0.0.0/16");

    let out = landfall(
        d,
        &moto,
        &[
            "plan",
            "--env",
            "test",
            "--replace",
            "network.nat_gateway.main",
        ],
    );
    expect_code(&out, 0);
    let plan = stdout(&out);
    assert!(plan.contains("-/+ network.nat_gateway.main"), "{plan}");
    assert!(plan.contains("--replace"), "{plan}");
    assert!(plan.contains("~ network.route_table.private"), "{plan}");

    let out = landfall_via(
        d,
        &proxy.endpoint,
        &moto,
        &[
            "apply",
            "--env",
            "test",
            "--auto-approve",
            "--replace",
            "network.nat_gateway.main",
        ],
    );
    expect_code(&out, 0);
    let after = census(&moto).await;
    after.assert_consistent("10.0.0.0/16");
    assert_ne!(after.nats[0].0, before.nats[0].0, "a new NAT gateway");
    expect_no_changes(d, &moto);

    // An address that exists nowhere is an error, not an empty plan.
    let out = landfall(
        d,
        &moto,
        &["plan", "--env", "test", "--replace", "network.vpc.nope"],
    );
    expect_code(&out, 1);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--replace network.vpc.nope"),
        "{}",
        text(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deposed_object_of_an_interrupted_replacement_is_deleted_next_run() {
    let moto = Moto::start();
    let dir = project();
    let d = dir.path();
    expect_code(
        &landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]),
        0,
    );

    // What a run killed between the create and the delete of a create-before-destroy replacement
    // leaves: the old VPC, still tagged with the address, recorded as deposed in state.
    let ec2 = aws_sdk_ec2::Client::new(&moto.sdk_config().await);
    let old = ec2
        .create_vpc()
        .cidr_block("10.9.0.0/16")
        .send()
        .await
        .unwrap();
    let old_id = old.vpc().unwrap().vpc_id().unwrap().to_string();
    ec2.create_tags()
        .resources(&old_id)
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key("landfall:address")
                .value("network.vpc.main")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let path = d.join(".landfall/state/test/network.json");
    let mut state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut deposed = state["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == "network.vpc.main")
        .unwrap()
        .clone();
    deposed["id"] = old_id.clone().into();
    deposed["attributes"]["id"] = old_id.clone().into();
    deposed["attributes"]["cidr_block"] = "10.9.0.0/16".into();
    state["deposed"] = serde_json::json!([deposed]);
    std::fs::write(&path, serde_json::to_string_pretty(&state).unwrap()).unwrap();

    let out = landfall(d, &moto, &["plan", "--env", "test", "--detailed-exitcode"]);
    expect_code(&out, 2);
    let plan = stdout(&out);
    assert!(plan.contains("interrupted replacement"), "{plan}");
    assert!(plan.contains("1 to destroy"), "{plan}");

    expect_code(
        &landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]),
        0,
    );
    let vpc = census(&moto).await.assert_consistent("10.0.0.0/16");
    expect_no_changes(d, &moto);
    // Deleting the old object did not make the current one's values unknown: the stack's output,
    // evaluated at the end of that apply, still holds the VPC id.
    let out = landfall(d, &moto, &["output", "--env", "test", "--json"]);
    expect_code(&out, 0);
    let outputs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outputs["network"]["vpc_id"], vpc.as_str(), "{outputs}");
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_change_whose_dependent_still_waits_on_others_is_reported_not_a_crash() {
    let moto = Moto::start();
    // The private subnet fails at once; the route table that needs it also waits for the NAT gateway,
    // which finishes later. That late completion must not count down a step already skipped.
    let proxy = FaultProxy::start(&moto, &["--refuse", "CreateSubnet:10.0.2.0/24"]);
    let dir = project();
    let d = dir.path();
    let out = landfall_via(
        d,
        &proxy.endpoint,
        &moto,
        &["apply", "--env", "test", "--auto-approve"],
    );
    expect_code(&out, 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{}", text(&out));
    assert!(
        stderr.contains("network.subnet.private: failed"),
        "{}",
        text(&out)
    );
    assert!(
        stderr.contains("network.route_table.private: skipped"),
        "{}",
        text(&out)
    );
    assert_eq!(proxy.counts()["refused"], 1);

    // Without the fault, the next apply finishes the job: nothing created twice.
    expect_code(
        &landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]),
        0,
    );
    census(&moto).await.assert_consistent("10.0.0.0/16");
    expect_no_changes(d, &moto);
}

/// The alpha account's id, read from the organization.
async fn alpha_account(moto: &Moto) -> String {
    let org = aws_sdk_organizations::Client::new(&moto.sdk_config().await);
    let accounts = org.list_accounts().send().await.unwrap();
    accounts
        .accounts()
        .iter()
        .find(|a| a.name() == Some("alpha"))
        .and_then(|a| a.id())
        .expect("the alpha account exists")
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn lost_create_answers_in_a_member_account_leave_no_duplicate() {
    let moto = Moto::start();
    let mut faults = Vec::new();
    for op in [
        "CreateVpc",
        "CreateRouteTable",
        "AllocateAddress",
        "CreateSubnet",
    ] {
        faults.extend(["--lose-response", op]);
    }
    let proxy = FaultProxy::start(&moto, &faults);
    let dir = project();
    let d = dir.path();
    let out = landfall_via(
        d,
        &proxy.endpoint,
        &moto,
        &["apply", "--env", "member", "--auto-approve"],
    );
    expect_code(&out, 0);
    assert_eq!(proxy.counts()["lost_responses"], 4, "{}", text(&out));

    let alpha = alpha_account(&moto).await;
    let ec2 = aws_sdk_ec2::Client::new(&moto.member_config(&alpha).await);
    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    let vpcs: Vec<_> = vpcs
        .vpcs()
        .iter()
        .filter(|v| v.cidr_block() == Some("10.42.0.0/16"))
        .collect();
    assert_eq!(vpcs.len(), 1, "one VPC in the member account: {vpcs:?}");
    let vpc = vpcs[0].vpc_id().unwrap();
    let subnets = ec2.describe_subnets().send().await.unwrap();
    let subnets: Vec<_> = subnets
        .subnets()
        .iter()
        .filter(|s| s.vpc_id() == Some(vpc))
        .collect();
    assert_eq!(subnets.len(), 1, "{subnets:?}");
    let tables = ec2
        .describe_route_tables()
        .filters(Filter::builder().name("vpc-id").values(vpc).build())
        .send()
        .await
        .unwrap();
    // The VPC's main route table, and ours.
    assert_eq!(tables.route_tables().len(), 2, "{tables:?}");
    let addresses = ec2.describe_addresses().send().await.unwrap();
    assert_eq!(addresses.addresses().len(), 1, "{addresses:?}");
    // Nothing in the management account.
    let management = aws_sdk_ec2::Client::new(&moto.sdk_config().await);
    let vpcs = management.describe_vpcs().send().await.unwrap();
    assert!(
        vpcs.vpcs()
            .iter()
            .all(|v| v.cidr_block() != Some("10.42.0.0/16")),
        "{vpcs:?}"
    );

    let out = landfall(
        d,
        &moto,
        &["plan", "--env", "member", "--detailed-exitcode"],
    );
    expect_code(&out, 0);
}
