//! State that is missing is never taken for "nothing exists" (issue 10, item 5): a deleted state
//! document or a state of another lineage leads to imports of what carries a configured
//! `landfall:address` tag, never to second copies; a missing bucket and a missing remote state are
//! errors; two live resources with one address are reported, and nothing is created for it.
//!
//! The project is `tests/fixtures/engine`; results are read back from the emulator with the SDK.

mod common;

use common::cli::{expect_code, landfall, text};
use common::moto::Moto;
use std::path::Path;

fn project() -> tempfile::TempDir {
    common::fixture_copy("tests/fixtures/engine")
}

/// What exists in the emulator, read directly: the ids of each EC2 kind carrying landfall's address
/// tag, and the number of IAM roles named `ops` and customer-managed policies named `network-read`.
#[derive(Debug, PartialEq)]
struct Census {
    vpcs: Vec<String>,
    subnets: Vec<String>,
    igws: Vec<String>,
    route_tables: Vec<String>,
    roles: usize,
    policies: usize,
}

async fn census(moto: &Moto) -> Census {
    let config = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let iam = aws_sdk_iam::Client::new(&config);
    let ours =
        |tags: &[aws_sdk_ec2::types::Tag]| tags.iter().any(|t| t.key() == Some("landfall:address"));
    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    let subnets = ec2.describe_subnets().send().await.unwrap();
    let igws = ec2.describe_internet_gateways().send().await.unwrap();
    let rts = ec2.describe_route_tables().send().await.unwrap();
    let roles = iam.list_roles().send().await.unwrap();
    let policies = iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .send()
        .await
        .unwrap();
    Census {
        vpcs: vpcs
            .vpcs()
            .iter()
            .filter(|v| ours(v.tags()))
            .filter_map(|v| v.vpc_id().map(str::to_string))
            .collect(),
        subnets: subnets
            .subnets()
            .iter()
            .filter(|s| ours(s.tags()))
            .filter_map(|s| s.subnet_id().map(str::to_string))
            .collect(),
        igws: igws
            .internet_gateways()
            .iter()
            .filter(|g| ours(g.tags()))
            .filter_map(|g| g.internet_gateway_id().map(str::to_string))
            .collect(),
        route_tables: rts
            .route_tables()
            .iter()
            .filter(|r| ours(r.tags()))
            .filter_map(|r| r.route_table_id().map(str::to_string))
            .collect(),
        roles: roles
            .roles()
            .iter()
            .filter(|r| r.role_name() == "ops")
            .count(),
        policies: policies
            .policies()
            .iter()
            .filter(|p| p.policy_name() == Some("network-read"))
            .count(),
    }
}

/// The fixture as configured: one of each, two subnets.
fn assert_configured(c: &Census) {
    assert_eq!(
        (
            c.vpcs.len(),
            c.subnets.len(),
            c.igws.len(),
            c.route_tables.len(),
            c.roles,
            c.policies
        ),
        (1, 2, 1, 1, 1, 1),
        "{c:?}"
    );
}

fn apply(d: &Path, moto: &Moto, env: &str) {
    expect_code(
        &landfall(d, moto, &["apply", "--env", env, "--auto-approve"]),
        0,
    );
}

/// `plan --format json` of environment `test`, with its exit code checked.
fn json_plan(d: &Path, moto: &Moto, code: i32) -> serde_json::Value {
    let out = landfall(d, moto, &["plan", "--env", "test", "--format", "json"]);
    expect_code(&out, code);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)))
}

fn actions(plan: &serde_json::Value, action: &str) -> Vec<String> {
    plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == action)
        .map(|c| c["address"].as_str().unwrap().to_string())
        .collect()
}

/// After a recovery: the census is the configuration's, with the resources of `before` (nothing
/// recreated), and the next plan is empty.
async fn assert_recovered(d: &Path, moto: &Moto, before: &Census) {
    let after = census(moto).await;
    assert_configured(&after);
    assert_eq!(&after, before, "the same resources, none recreated");
    let out = landfall(d, moto, &["plan", "--env", "test", "--detailed-exitcode"]);
    expect_code(&out, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn deleted_state_document_plans_imports_not_creates() {
    let moto = Moto::start();
    let dir = project();
    let d = dir.path();
    apply(d, &moto, "test");
    let before = census(&moto).await;
    assert_configured(&before);

    std::fs::remove_dir_all(d.join(".landfall/state/test")).unwrap();
    let plan = json_plan(d, &moto, 0);
    assert_eq!(actions(&plan, "create"), Vec::<String>::new(), "{plan:#}");
    assert_eq!(plan["summary"]["add"], 0, "{plan:#}");
    assert_eq!(plan["summary"]["import"], 7, "{plan:#}");
    let out = landfall(d, &moto, &["plan", "--env", "test"]);
    expect_code(&out, 0);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("= network.vpc.main (import"),
        "{}",
        text(&out)
    );

    // As CI does it: a saved plan, applied exactly.
    let saved = d.join("imports.json");
    let saved = saved.to_str().unwrap();
    expect_code(
        &landfall(d, &moto, &["plan", "--env", "test", "--out", saved]),
        0,
    );
    expect_code(&landfall(d, &moto, &["apply", saved]), 0);
    assert_recovered(d, &moto, &before).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn state_of_another_lineage_adopts_instead_of_duplicating() {
    let moto = Moto::start();
    let dir = project();
    let d = dir.path();
    apply(d, &moto, "test");
    let before = census(&moto).await;

    // Each stack's state replaced by an empty one of another lineage (a state re-created from
    // nothing, or another copy's): the resources carry the old lineage in their tags.
    for stack in ["network", "identity"] {
        let path = d.join(format!(".landfall/state/test/{stack}.json"));
        let mut state: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        state["lineage"] = format!("another-lineage-{stack}").into();
        state["resources"] = serde_json::json!([]);
        state["outputs"] = serde_json::json!({});
        std::fs::write(&path, serde_json::to_string_pretty(&state).unwrap()).unwrap();
    }
    let plan = json_plan(d, &moto, 0);
    assert_eq!(actions(&plan, "create"), Vec::<String>::new(), "{plan:#}");
    assert_eq!(plan["summary"]["import"], 7, "{plan:#}");

    apply(d, &moto, "test");
    assert_recovered(d, &moto, &before).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_bucket_is_an_error_not_empty_state() {
    let moto = Moto::start();
    let dir = project();
    let d = dir.path();
    let settings = d.join("landfall.toml");
    let text_before = std::fs::read_to_string(&settings).unwrap();
    std::fs::write(
        &settings,
        text_before.replace(
            "kind = \"local\"",
            "kind = \"s3\"\nbucket = \"lf-state\"\nprefix = \"lz\"",
        ),
    )
    .unwrap();
    expect_code(&landfall(d, &moto, &["init", "--env", "test"]), 0);
    apply(d, &moto, "test");
    let before = census(&moto).await;
    assert_configured(&before);

    // The bucket name misspelled: an error naming it, never a plan to create everything again.
    std::fs::write(
        &settings,
        text_before.replace(
            "kind = \"local\"",
            "kind = \"s3\"\nbucket = \"lf-sate\"\nprefix = \"lz\"",
        ),
    )
    .unwrap();
    for args in [
        &["plan", "--env", "test"][..],
        &["apply", "--env", "test", "--auto-approve"][..],
    ] {
        let out = landfall(d, &moto, args);
        expect_code(&out, 1);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("`lf-sate` does not exist"),
            "{}",
            text(&out)
        );
        assert!(
            stderr.contains("[backend] bucket") && stderr.contains("landfall init"),
            "{}",
            text(&out)
        );
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("create"),
            "{}",
            text(&out)
        );
    }
    assert_eq!(census(&moto).await, before, "nothing was created");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_remote_state_is_an_error() {
    let moto = Moto::start();
    let dir = project();
    let d = dir.path();
    // `consumer` reads remote.test.network.vpc_id, and `test` was never applied.
    let out = landfall(d, &moto, &["plan", "--env", "consumer"]);
    expect_code(&out, 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("environment `test` has no state for stack `network`"),
        "{}",
        text(&out)
    );
    assert!(
        stderr.contains(".landfall/state/test/network.json"),
        "says where it looked: {}",
        text(&out)
    );
    assert!(stderr.contains("consumer.toml:3:"), "{}", text(&out));

    // Once `test` is applied, the value flows.
    apply(d, &moto, "test");
    let out = landfall(d, &moto, &["plan", "--env", "consumer"]);
    expect_code(&out, 0);
    let vpc_id = &census(&moto).await.vpcs[0];
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(vpc_id.as_str()),
        "{}",
        text(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_live_resources_with_one_address_are_reported_as_duplicates() {
    let moto = Moto::start();
    let dir = project();
    let d = dir.path();
    apply(d, &moto, "test");
    let first = census(&moto).await.vpcs[0].clone();
    // A second VPC carrying the same address (another run that lost its state, say).
    let ec2 = aws_sdk_ec2::Client::new(&moto.sdk_config().await);
    let second = ec2
        .create_vpc()
        .cidr_block("10.9.0.0/16")
        .tag_specifications(
            aws_sdk_ec2::types::TagSpecification::builder()
                .resource_type(aws_sdk_ec2::types::ResourceType::Vpc)
                .tags(
                    aws_sdk_ec2::types::Tag::builder()
                        .key("landfall:address")
                        .value("network.vpc.main")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_string();
    std::fs::remove_dir_all(d.join(".landfall/state/test")).unwrap();

    // Text: both ids and what to do; exit 1; no plan file.
    let saved = d.join("p.json");
    let saved_arg = saved.to_str().unwrap();
    let out = landfall(d, &moto, &["plan", "--env", "test", "--out", saved_arg]);
    expect_code(&out, 1);
    let all = text(&out);
    assert!(all.contains("network.vpc.main"), "{all}");
    assert!(all.contains(&first) && all.contains(&second), "{all}");
    assert!(all.contains("landfall import network.vpc.main"), "{all}");
    assert!(!saved.exists(), "a refused plan is not saved");
    // JSON: the duplicates with their ids, and no create for the address.
    let plan = json_plan(d, &moto, 1);
    let dups = plan["duplicates"].as_array().unwrap();
    assert_eq!(dups.len(), 1, "{plan:#}");
    assert_eq!(dups[0]["address"], "network.vpc.main");
    let mut ids = vec![first.clone(), second.clone()];
    ids.sort();
    assert_eq!(dups[0]["ids"], serde_json::json!(ids));
    assert!(
        !actions(&plan, "create").contains(&"network.vpc.main".to_string()),
        "{plan:#}"
    );
    // Apply refuses too: no third VPC.
    let out = landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]);
    expect_code(&out, 1);
    let mut vpcs = census(&moto).await.vpcs;
    vpcs.sort();
    assert_eq!(vpcs, ids);
}

/// Creates a VPC tagged with `address` and, if given, `lineage`, as a lost create answer or a second
/// apply racing the first would have left it.
async fn tagged_vpc(moto: &Moto, cidr: &str, address: &str, lineage: Option<&str>) -> String {
    use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
    let ec2 = aws_sdk_ec2::Client::new(&moto.sdk_config().await);
    let mut tags = TagSpecification::builder()
        .resource_type(ResourceType::Vpc)
        .tags(
            Tag::builder()
                .key("landfall:address")
                .value(address)
                .build(),
        );
    if let Some(l) = lineage {
        tags = tags.tags(Tag::builder().key("landfall:lineage").value(l).build());
    }
    let out = ec2
        .create_vpc()
        .cidr_block(cidr)
        .tag_specifications(tags.build())
        .send()
        .await
        .unwrap();
    out.vpc().unwrap().vpc_id().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn orphan_copy_beside_a_resource_in_state_is_reported() {
    let moto = Moto::start();
    let dir = project();
    let d = dir.path();
    apply(d, &moto, "test");
    let before = census(&moto).await;
    assert_configured(&before);
    let kept = before.vpcs[0].clone();
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.join(".landfall/state/test/network.json")).unwrap(),
    )
    .unwrap();
    let lineage = state["lineage"].as_str().unwrap().to_string();

    // Beside the VPC in state: a copy with this state's lineage (landfall's own, lost) and one of
    // another lineage (perhaps another environment's: never deleted).
    let ours = tagged_vpc(&moto, "10.8.0.0/16", "network.vpc.main", Some(&lineage)).await;
    let foreign = tagged_vpc(&moto, "10.9.0.0/16", "network.vpc.main", Some("other")).await;

    let out = landfall(d, &moto, &["plan", "--env", "test"]);
    expect_code(&out, 0);
    let all = text(&out);
    assert!(all.contains(&ours) && all.contains(&kept), "{all}");
    assert!(
        all.contains(&foreign) && all.contains("lineage other"),
        "{all}"
    );
    let plan = json_plan(d, &moto, 0);
    let deletes: Vec<&serde_json::Value> = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == "delete")
        .collect();
    assert_eq!(deletes.len(), 1, "{plan:#}");
    assert_eq!(deletes[0]["address"], "network.vpc.main");
    assert_eq!(deletes[0]["id"], ours.as_str());
    assert_eq!(actions(&plan, "create"), Vec::<String>::new(), "{plan:#}");
    let copies = plan["copies"].as_array().unwrap();
    assert_eq!(copies.len(), 1, "{plan:#}");
    assert_eq!(copies[0]["id"], foreign.as_str());
    assert_eq!(copies[0]["state_id"], kept.as_str());

    apply(d, &moto, "test");
    let mut vpcs = census(&moto).await.vpcs;
    vpcs.sort();
    let mut expected = vec![kept.clone(), foreign.clone()];
    expected.sort();
    assert_eq!(vpcs, expected, "our copy deleted, the other lineage's left");

    // Once the other one is gone too, the census is the configuration and the plan is empty.
    let ec2 = aws_sdk_ec2::Client::new(&moto.sdk_config().await);
    ec2.delete_vpc().vpc_id(&foreign).send().await.unwrap();
    assert_recovered(d, &moto, &before).await;
}
