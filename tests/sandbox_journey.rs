//! Issue 10's "Done when", lived through on the shipped sandbox: one landing zone taken through the
//! day-2 changes a platform team makes to it, in order — a workload VPC's CIDR changed, a NAT gateway
//! deleted outside landfall, the baseline module renamed through `[[moved]]`, the state documents
//! deleted, a lost CreateVpc answer in a member account, an apply killed with SIGKILL and one
//! force-unlock, then destroy. After every step the emulator's census of each workload account
//! (read with the SDK as that account) equals the configuration and the next plan is empty.

mod common;

use common::cli::{command, expect_code, landfall, landfall_via, lock_id, text, wait_for};
use common::moto::{FaultProxy, Moto};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

const WORKLOADS: [&str; 3] = ["dev", "stg", "prod"];
const AZS: [&str; 3] = ["a", "b", "c"];

/// What each workload account holds that carries landfall's address tag, read as that account:
/// by the address inside the module instance (`vpc.this`, `subnet.public["a"]`...; the tag keeps
/// the address a resource was created under, so a moved resource is counted by the part a module
/// rename keeps), the ids carrying it.
type Census = BTreeMap<String, BTreeMap<String, Vec<String>>>;

fn apply(d: &Path, moto: &Moto) {
    expect_code(
        &landfall(d, moto, &["apply", "--env", "sandbox", "--auto-approve"]),
        0,
    );
}

fn plan_json(d: &Path, moto: &Moto) -> serde_json::Value {
    let out = landfall(d, moto, &["plan", "--env", "sandbox", "--format", "json"]);
    expect_code(&out, 0);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)))
}

fn with_action<'a>(plan: &'a serde_json::Value, action: &str) -> Vec<&'a str> {
    plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == action)
        .map(|c| c["address"].as_str().unwrap())
        .collect()
}

fn edit(path: &Path, from: &str, to: &str) {
    let before = std::fs::read_to_string(path).unwrap();
    assert!(before.contains(from), "{from:?} not in {}", path.display());
    std::fs::write(path, before.replacen(from, to, 1)).unwrap();
}

async fn account_ids(moto: &Moto) -> BTreeMap<String, String> {
    let org = aws_sdk_organizations::Client::new(&moto.sdk_config().await);
    let accounts = org.list_accounts().send().await.unwrap();
    WORKLOADS
        .iter()
        .map(|name| {
            let id = accounts
                .accounts()
                .iter()
                .find(|a| a.name() == Some(*name))
                .and_then(|a| a.id())
                .unwrap_or_else(|| panic!("account {name} missing"));
            (name.to_string(), id.to_string())
        })
        .collect()
}

fn member_ec2(config: &aws_config::SdkConfig) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::new(config)
}

/// The part of an address tag after the module instance (`...module.baseline["dev"].vpc.this` ->
/// `vpc.this`).
fn inner(address: &str) -> String {
    address
        .split_once("\"].")
        .map_or(address, |(_, rest)| rest)
        .to_string()
}

fn tagged(tags: &[aws_sdk_ec2::types::Tag]) -> Option<String> {
    tags.iter()
        .find(|t| t.key() == Some("landfall:address"))
        .and_then(|t| t.value())
        .map(inner)
}

/// Reads every workload account and checks that what refers to what exists: subnets and route tables
/// in the account's VPC, the NAT gateway in the public subnet of AZ a, public routes through the
/// account's internet gateway, private ones through its NAT gateway, each route table associated with
/// its own AZ's subnet. Returns the census.
async fn census(moto: &Moto, accounts: &BTreeMap<String, String>) -> Census {
    let mut out = Census::new();
    for (name, account) in accounts {
        let ec2 = member_ec2(&moto.member_config(account).await);
        let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let vpcs = ec2.describe_vpcs().send().await.unwrap();
        for v in vpcs.vpcs() {
            if let Some(a) = tagged(v.tags()) {
                found.entry(a).or_default().push(v.vpc_id().unwrap().into());
            }
        }
        let subnets = ec2.describe_subnets().send().await.unwrap();
        let mut subnet_of: BTreeMap<String, String> = BTreeMap::new();
        for s in subnets.subnets() {
            if let Some(a) = tagged(s.tags()) {
                subnet_of.insert(a.clone(), s.subnet_id().unwrap().into());
                found
                    .entry(a)
                    .or_default()
                    .push(s.subnet_id().unwrap().into());
            }
        }
        let nats = ec2.describe_nat_gateways().send().await.unwrap();
        let live_nat = |n: &&aws_sdk_ec2::types::NatGateway| {
            !matches!(
                n.state(),
                Some(
                    aws_sdk_ec2::types::NatGatewayState::Deleted
                        | aws_sdk_ec2::types::NatGatewayState::Deleting
                )
            )
        };
        for n in nats.nat_gateways().iter().filter(live_nat) {
            if let Some(a) = tagged(n.tags()) {
                found
                    .entry(a)
                    .or_default()
                    .push(n.nat_gateway_id().unwrap().into());
            }
        }
        let rts = ec2.describe_route_tables().send().await.unwrap();
        for r in rts.route_tables() {
            if let Some(a) = tagged(r.tags()) {
                found
                    .entry(a)
                    .or_default()
                    .push(r.route_table_id().unwrap().into());
            }
        }
        let igws = ec2.describe_internet_gateways().send().await.unwrap();

        // Only check references once each address is there exactly once (the caller compares).
        let one = |a: &str| match found.get(a).map(Vec::as_slice) {
            Some([id]) => Some(id.clone()),
            _ => None,
        };
        if let Some(vpc) = one("vpc.this") {
            let context = format!("{name}: {found:?}");
            for s in subnets
                .subnets()
                .iter()
                .filter(|s| tagged(s.tags()).is_some())
            {
                assert_eq!(s.vpc_id(), Some(vpc.as_str()), "subnet VPC, {context}");
            }
            let nat = nats
                .nat_gateways()
                .iter()
                .filter(live_nat)
                .find(|n| tagged(n.tags()).is_some());
            if let Some(nat) = nat {
                assert_eq!(
                    nat.subnet_id(),
                    subnet_of.get("subnet.public[\"a\"]").map(String::as_str),
                    "NAT subnet, {context}"
                );
            }
            let igw = igws
                .internet_gateways()
                .iter()
                .find(|g| tagged(g.tags()).is_some())
                .and_then(|g| g.internet_gateway_id());
            for r in rts.route_tables() {
                let Some(a) = tagged(r.tags()) else { continue };
                assert_eq!(r.vpc_id(), Some(vpc.as_str()), "{a} VPC, {context}");
                let default = r
                    .routes()
                    .iter()
                    .find(|x| x.destination_cidr_block() == Some("0.0.0.0/0"))
                    .unwrap_or_else(|| panic!("{a} has no default route, {context}"));
                if a.starts_with("route_table.public") {
                    assert_eq!(default.gateway_id(), igw, "{a} route, {context}");
                } else {
                    assert_eq!(
                        default.nat_gateway_id(),
                        nat.and_then(|n| n.nat_gateway_id()),
                        "{a} route, {context}"
                    );
                }
                let subnet = a.replacen("route_table", "subnet", 1);
                let associated: Vec<Option<&str>> =
                    r.associations().iter().map(|x| x.subnet_id()).collect();
                assert_eq!(
                    associated,
                    vec![subnet_of.get(&subnet).map(String::as_str)],
                    "{a} associations, {context}"
                );
            }
        }
        out.insert(name.clone(), found);
    }
    out
}

/// Each address of the baseline's VPC, subnets, NAT gateway and route tables exactly once in every
/// workload account (no orphans, no duplicates), and the next plan empty. Returns the census.
async fn converged(d: &Path, moto: &Moto, accounts: &BTreeMap<String, String>) -> Census {
    let census = census(moto, accounts).await;
    let mut expected = vec![
        "vpc.this".to_string(),
        "nat_gateway.this[\"a\"]".to_string(),
    ];
    for kind in ["subnet", "route_table"] {
        for tier in ["public", "private"] {
            for az in AZS {
                expected.push(format!("{kind}.{tier}[\"{az}\"]"));
            }
        }
    }
    expected.sort();
    for (name, found) in &census {
        let addresses: Vec<&String> = found.keys().collect();
        assert_eq!(addresses, expected.iter().collect::<Vec<_>>(), "{name}");
        for (a, ids) in found {
            assert_eq!(
                ids.len(),
                1,
                "{name}: {a} exists {} times: {ids:?}",
                ids.len()
            );
        }
    }
    expect_code(
        &landfall(
            d,
            moto,
            &["plan", "--env", "sandbox", "--detailed-exitcode"],
        ),
        0,
    );
    census
}

async fn vpc_cidr(moto: &Moto, account: &str) -> String {
    let ec2 = member_ec2(&moto.member_config(account).await);
    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    vpcs.vpcs()
        .iter()
        .find(|v| tagged(v.tags()).is_some())
        .and_then(|v| v.cidr_block())
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn sandbox_survives_the_day_two_journey() {
    // The identity stack attaches AWS-managed policies, which moto only has when asked to load them.
    let moto = Moto::start_with(&[("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")]);
    let dir = common::example_copy();
    let d = dir.path();
    let env_file = d.join("environments/sandbox/env.toml");

    // 1. The sandbox applied from nothing.
    apply(d, &moto);
    let accounts = account_ids(&moto).await;
    let first = converged(d, &moto, &accounts).await;

    // 2. A CIDR change of one workload VPC: dev's VPC and everything in it replaced, the others
    // untouched.
    edit(
        &env_file,
        "dev = \"10.10.0.0/16\"",
        "dev = \"10.11.0.0/16\"",
    );
    apply(d, &moto);
    let after = converged(d, &moto, &accounts).await;
    assert_eq!(vpc_cidr(&moto, &accounts["dev"]).await, "10.11.0.0/16");
    assert_ne!(after["dev"]["vpc.this"], first["dev"]["vpc.this"]);
    assert_eq!(after["stg"], first["stg"]);
    assert_eq!(after["prod"], first["prod"]);

    // 3. stg's NAT gateway deleted outside landfall: recreated, and the private routes follow it.
    let stg = member_ec2(&moto.member_config(&accounts["stg"]).await);
    common::delete_nat_outside(&stg, &after["stg"]["nat_gateway.this[\"a\"]"][0]).await;
    expect_code(
        &landfall(
            d,
            &moto,
            &["plan", "--env", "sandbox", "--detailed-exitcode"],
        ),
        2,
    );
    apply(d, &moto);
    let after = converged(d, &moto, &accounts).await;
    assert_ne!(
        after["stg"]["nat_gateway.this[\"a\"]"],
        first["stg"]["nat_gateway.this[\"a\"]"]
    );

    // 4. The baseline module renamed through `[[moved]]`: state follows, AWS is not touched.
    let stack = d.join("stacks/sandbox-baseline.toml");
    edit(&stack, "[module.baseline]", "[module.workload]");
    // The DNS stack's zone associations follow the workload VPCs under their new address.
    let dns = d.join("stacks/dns.toml");
    edit(&dns, "module.baseline[", "module.workload[");
    let text_now = std::fs::read_to_string(&stack).unwrap();
    std::fs::write(
        &stack,
        format!("{text_now}\n[[moved]]\nfrom = \"module.baseline\"\nto = \"module.workload\"\n"),
    )
    .unwrap();
    // The network hub names the module's instances too (issue 13): its references follow the rename.
    let hub = d.join("stacks/network-hub.toml");
    let hub_text = std::fs::read_to_string(&hub).unwrap();
    assert!(hub_text.contains("module.baseline["));
    std::fs::write(
        &hub,
        hub_text.replace("module.baseline[", "module.workload["),
    )
    .unwrap();
    let plan = plan_json(d, &moto);
    assert!(
        plan["resource_changes"].as_array().unwrap().is_empty(),
        "{plan:#}"
    );
    assert!(
        plan["summary"]["moved"].as_u64().unwrap() >= 3 * 19,
        "{plan:#}"
    );
    apply(d, &moto);
    let moved = converged(d, &moto, &accounts).await;
    assert_eq!(moved, after, "nothing in AWS touched by the move");

    // 5. The state documents deleted: what exists is imported, nothing created.
    std::fs::remove_dir_all(d.join(".landfall/state/sandbox")).unwrap();
    let plan = plan_json(d, &moto);
    assert_eq!(with_action(&plan, "create"), Vec::<&str>::new(), "{plan:#}");
    apply(d, &moto);
    assert_eq!(converged(d, &moto, &accounts).await, moved);

    // 6. A lost CreateVpc answer in a member account (prod's CIDR changed, so its VPC is created
    // again through a proxy that drops the answer): the VPC AWS made is found, not made twice.
    edit(
        &env_file,
        "prod = \"10.30.0.0/16\"",
        "prod = \"10.31.0.0/16\"",
    );
    let proxy = FaultProxy::start(&moto, &["--lose-response", "CreateVpc"]);
    let out = landfall_via(
        d,
        &proxy.endpoint,
        &moto,
        &["apply", "--env", "sandbox", "--auto-approve"],
    );
    expect_code(&out, 0);
    assert_eq!(proxy.counts()["lost_responses"], 1, "{}", text(&out));
    drop(proxy);
    converged(d, &moto, &accounts).await;
    assert_eq!(vpc_cidr(&moto, &accounts["prod"]).await, "10.31.0.0/16");

    // 7. An apply killed with SIGKILL mid-way (stg's CIDR changed, requests slowed), then ONE
    // force-unlock and the apply again.
    edit(
        &env_file,
        "stg = \"10.20.0.0/16\"",
        "stg = \"10.21.0.0/16\"",
    );
    let state = d.join(".landfall/state/sandbox/sandbox-baseline.json");
    let serial = |t: &str| serde_json::from_str::<serde_json::Value>(t).unwrap()["serial"].clone();
    let before = serial(&std::fs::read_to_string(&state).unwrap());
    let proxy = FaultProxy::start(&moto, &["--slow", "0.3"]);
    let mut child = command(
        d,
        &proxy.endpoint,
        &moto,
        &["apply", "--env", "sandbox", "--auto-approve"],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    wait_for("a change saved mid-apply", Duration::from_secs(300), || {
        std::fs::read_to_string(&state).is_ok_and(|t| serial(&t) != before)
    });
    child.kill().unwrap(); // SIGKILL: no cleanup at all
    child.wait().unwrap();
    // Requests the dead run sent are still held by the proxy; let them land, as AWS would have.
    std::thread::sleep(Duration::from_secs(2));
    drop(proxy);
    let out = landfall(d, &moto, &["apply", "--env", "sandbox", "--auto-approve"]);
    expect_code(&out, 1);
    let id = lock_id(&String::from_utf8_lossy(&out.stderr))
        .unwrap_or_else(|| panic!("no lock id: {}", text(&out)));
    expect_code(
        &landfall(d, &moto, &["force-unlock", "--env", "sandbox", &id]),
        0,
    );
    apply(d, &moto);
    converged(d, &moto, &accounts).await;
    assert_eq!(vpc_cidr(&moto, &accounts["stg"]).await, "10.21.0.0/16");

    // 8. Destroy ends with exit 0 and leaves no baseline network in any workload account.
    expect_code(
        &landfall(d, &moto, &["destroy", "--env", "sandbox", "--auto-approve"]),
        0,
    );
    let left = census(&moto, &accounts).await;
    for (name, found) in &left {
        assert!(found.is_empty(), "{name} still holds {found:?}");
    }
    expect_code(
        &landfall(
            d,
            &moto,
            &[
                "plan",
                "--env",
                "sandbox",
                "--destroy",
                "--detailed-exitcode",
            ],
        ),
        0,
    );
}
