//! Refactoring a live landing zone: `state mv` and `[[moved]]` entries, against a private moto server
//! per test. What exists is read back from the emulator with the SDK, not from landfall's state.

mod common;

use common::cli::{expect_code, landfall, text};
use common::moto::Moto;
use std::path::Path;
use std::process::Output;

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, text.replace(from, to)).unwrap();
}

fn append(path: &Path, more: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, format!("{text}\n{more}")).unwrap();
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Ids of the VPCs, subnets, security groups (not the default ones) and IAM roles in the emulator.
async fn ids(moto: &Moto) -> Vec<String> {
    let config = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let iam = aws_sdk_iam::Client::new(&config);
    let ours =
        |tags: &[aws_sdk_ec2::types::Tag]| tags.iter().any(|t| t.key() == Some("landfall:address"));
    let mut out = Vec::new();
    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    out.extend(
        vpcs.vpcs()
            .iter()
            .filter(|v| ours(v.tags()))
            .map(|v| v.vpc_id().unwrap().to_string()),
    );
    let subnets = ec2.describe_subnets().send().await.unwrap();
    out.extend(
        subnets
            .subnets()
            .iter()
            .filter(|s| ours(s.tags()))
            .map(|s| s.subnet_id().unwrap().to_string()),
    );
    let igws = ec2.describe_internet_gateways().send().await.unwrap();
    out.extend(
        igws.internet_gateways()
            .iter()
            .filter(|g| ours(g.tags()))
            .map(|g| g.internet_gateway_id().unwrap().to_string()),
    );
    let groups = ec2.describe_security_groups().send().await.unwrap();
    out.extend(
        groups
            .security_groups()
            .iter()
            .filter(|g| g.group_name() != Some("default"))
            .map(|g| g.group_id().unwrap().to_string()),
    );
    let roles = iam.list_roles().send().await.unwrap();
    out.extend(
        roles
            .roles()
            .iter()
            .map(|r| format!("{}={}", r.role_name(), r.role_id())),
    );
    let policies = iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .send()
        .await
        .unwrap();
    out.extend(
        policies
            .policies()
            .iter()
            .map(|p| format!("{}={}", p.policy_name().unwrap(), p.policy_id().unwrap())),
    );
    out.sort();
    out
}

/// Requests an `--stats` run made that can change something in EC2 or IAM (anything but reads).
fn ec2_iam_writes(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| {
            let name = l.split_whitespace().next()?;
            let (service, op) = name.split_once('.')?;
            let write = ["ec2", "EC2", "iam", "IAM"].contains(&service)
                && !["Describe", "List", "Get"]
                    .iter()
                    .any(|r| op.starts_with(r));
            write.then(|| l.trim().to_string())
        })
        .collect()
}

fn apply(d: &Path, moto: &Moto) {
    let out = landfall(d, moto, &["apply", "--env", "test", "--auto-approve"]);
    expect_code(&out, 0);
}

fn plan_is_empty(d: &Path, moto: &Moto) {
    let out = landfall(d, moto, &["plan", "--env", "test", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn state_mv_rewrites_dependencies_so_destroy_still_orders() {
    let moto = Moto::start();
    let dir = common::fixture_copy("tests/fixtures/engine");
    let d = dir.path();
    apply(d, &moto);
    assert!(!ids(&moto).await.is_empty());
    // The VPC everything else (subnets, gateway, route table, and the other stack's role) depends on.
    let out = landfall(
        d,
        &moto,
        &[
            "state",
            "mv",
            "--env",
            "test",
            "network.vpc.main",
            "network.vpc.core",
        ],
    );
    expect_code(&out, 0);
    assert!(stdout(&out).contains("Moved network.vpc.main to network.vpc.core."));
    let out = landfall(
        d,
        &moto,
        &["state", "show", "--env", "test", "network.subnet.a"],
    );
    expect_code(&out, 0);
    assert!(stdout(&out).contains("network.vpc.core"), "{}", text(&out));
    assert!(!stdout(&out).contains("network.vpc.main"), "{}", text(&out));

    let out = landfall(d, &moto, &["destroy", "--env", "test", "--auto-approve"]);
    expect_code(&out, 0);
    assert_eq!(ids(&moto).await, Vec::<String>::new(), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn state_mv_refuses_another_kind() {
    let moto = Moto::start();
    let dir = common::fixture_copy("tests/fixtures/engine");
    let d = dir.path();
    apply(d, &moto);
    let before = ids(&moto).await;
    for (from, to) in [
        ("network.vpc.main", "network.subnet.main"),
        ("network.vpc.main", "network.module.m[\"a\"]"),
    ] {
        let out = landfall(d, &moto, &["state", "mv", "--env", "test", from, to]);
        expect_code(&out, 1);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("{from} is a resource of kind `vpc`")),
            "{err}"
        );
    }
    // A move onto an address that is taken is refused too.
    let out = landfall(
        d,
        &moto,
        &[
            "state",
            "mv",
            "--env",
            "test",
            "network.subnet.a",
            "network.subnet.b",
        ],
    );
    expect_code(&out, 1);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("network.subnet.b is already in state"),
        "{}",
        text(&out)
    );
    // Nothing moved: the plan is still empty and AWS untouched.
    plan_is_empty(d, &moto);
    assert_eq!(ids(&moto).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn state_mv_moves_a_module_instance() {
    let moto = Moto::start();
    let dir = common::fixture_copy("tests/fixtures/moved");
    let d = dir.path();
    apply(d, &moto);
    let before = ids(&moto).await;
    assert_eq!(before.len(), 3, "{before:?}"); // VPC, subnet, security group

    // The key of the module instance changes in the configuration...
    let stack = d.join("stacks/network.toml");
    edit(&stack, "{ a = ", "{ b = ");
    edit(&stack, "module.net[\\\"a\\\"]", "module.net[\\\"b\\\"]");
    // ...and in state, with everything under it.
    let out = landfall(
        d,
        &moto,
        &[
            "state",
            "mv",
            "--env",
            "test",
            "network.module.net[\"a\"]",
            "network.module.net[\"b\"]",
        ],
    );
    expect_code(&out, 0);
    let moved = stdout(&out);
    assert!(
        moved.contains(
            "Moved network.module.net[\"a\"].vpc.this to network.module.net[\"b\"].vpc.this."
        ),
        "{moved}"
    );
    assert!(moved.contains("subnet.one"), "{moved}");
    plan_is_empty(d, &moto);
    assert_eq!(ids(&moto).await, before);

    // The security group's dependency followed: destroy deletes it before its VPC.
    let out = landfall(d, &moto, &["destroy", "--env", "test", "--auto-approve"]);
    expect_code(&out, 0);
    assert_eq!(ids(&moto).await, Vec::<String>::new(), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn moved_entry_renames_without_touching_aws() {
    let moto = Moto::start();
    let dir = common::fixture_copy("tests/fixtures/engine");
    let d = dir.path();
    let out = landfall(
        d,
        &moto,
        &["apply", "--env", "test", "--auto-approve", "--stats"],
    );
    expect_code(&out, 0);
    // The count below sees writes when there are some.
    let writes = ec2_iam_writes(&out);
    assert!(
        writes.iter().any(|w| w.contains("CreateVpc"))
            && writes.iter().any(|w| w.contains("CreateRole")),
        "{}",
        text(&out)
    );
    let before = ids(&moto).await;

    // Rename the VPC (everything in the stack refers to it) and the IAM role, with one entry each;
    // change the role's tags too: that is an update on top of the move.
    let network = d.join("stacks/network.toml");
    edit(&network, "vpc.main", "vpc.core");
    append(
        &network,
        "[[moved]]\nfrom = \"vpc.main\"\nto = \"vpc.core\"\n",
    );
    let identity = d.join("stacks/identity.toml");
    edit(&identity, "[iam_role.ops]", "[iam_role.operators]");
    append(
        &identity,
        "[[moved]]\nfrom = \"iam_role.ops\"\nto = \"iam_role.operators\"\n",
    );

    let plan_file = d.join("plan.json");
    let plan_file = plan_file.to_str().unwrap();
    let out = landfall(
        d,
        &moto,
        &[
            "plan",
            "--env",
            "test",
            "--out",
            plan_file,
            "--detailed-exitcode",
        ],
    );
    expect_code(&out, 2);
    let plan = stdout(&out);
    assert!(
        plan.contains("network.vpc.main has moved to network.vpc.core"),
        "{plan}"
    );
    assert!(
        plan.contains("identity.iam_role.ops has moved to identity.iam_role.operators"),
        "{plan}"
    );
    assert!(
        plan.contains("0 to add, 0 to change, 0 to replace, 0 to destroy, 2 moved."),
        "{plan}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(plan_file).unwrap()).unwrap();
    assert_eq!(json["summary"]["moved"], 2);
    assert_eq!(json["moved"][0]["from"], "network.vpc.main");
    assert_eq!(json["moved"][0]["to"], "network.vpc.core");

    let out = landfall(d, &moto, &["apply", plan_file, "--stats"]);
    expect_code(&out, 0);
    assert_eq!(ec2_iam_writes(&out), Vec::<String>::new(), "{}", text(&out));
    assert_eq!(ids(&moto).await, before);
    plan_is_empty(d, &moto);

    // A move on top of an in-place change: the plan shows both, apply updates the moved resource.
    edit(
        &identity,
        "tags = { team = \"platform\" }",
        "tags = { team = \"ops\" }",
    );
    edit(&identity, "[iam_role.operators]", "[iam_role.admins]");
    edit(
        &identity,
        "from = \"iam_role.ops\"\nto = \"iam_role.operators\"",
        "from = \"iam_role.operators\"\nto = \"iam_role.admins\"",
    );
    let out = landfall(d, &moto, &["plan", "--env", "test"]);
    expect_code(&out, 0);
    let plan = stdout(&out);
    assert!(
        plan.contains("identity.iam_role.operators has moved to identity.iam_role.admins"),
        "{plan}"
    );
    assert!(plan.contains("~ identity.iam_role.admins"), "{plan}");
    assert!(
        plan.contains("0 to add, 1 to change, 0 to replace, 0 to destroy, 1 moved."),
        "{plan}"
    );
    apply(d, &moto);
    let config = moto.sdk_config().await;
    let iam = aws_sdk_iam::Client::new(&config);
    let tags = iam.list_role_tags().role_name("ops").send().await.unwrap();
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.key() == "team" && t.value() == "ops"),
        "{tags:?}"
    );
    assert_eq!(ids(&moto).await, before);
    plan_is_empty(d, &moto);

    // The entries can stay: once recorded they do nothing, and destroy still orders by dependencies.
    let out = landfall(d, &moto, &["destroy", "--env", "test", "--auto-approve"]);
    expect_code(&out, 0);
    assert_eq!(ids(&moto).await, Vec::<String>::new(), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn rename_without_moved_is_refused_with_the_entry_to_add() {
    let moto = Moto::start();
    let dir = common::fixture_copy("tests/fixtures/engine");
    let d = dir.path();
    apply(d, &moto);
    let before = ids(&moto).await;

    // The role and the policy keep their AWS names under new addresses: delete + create would collide.
    let identity = d.join("stacks/identity.toml");
    edit(&identity, "[iam_role.ops]", "[iam_role.operators]");
    edit(&identity, "iam_policy.read", "iam_policy.reading");
    let out = landfall(d, &moto, &["plan", "--env", "test"]);
    expect_code(&out, 1);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    for expected in [
        "identity.iam_role.ops would be deleted and identity.iam_role.operators created with the same name `ops`",
        "[[moved]]\nfrom = \"iam_role.ops\"\nto = \"iam_role.operators\"",
        "[[moved]]\nfrom = \"iam_policy.read\"\nto = \"iam_policy.reading\"",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in\n{err}");
    }
    let out = landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]);
    expect_code(&out, 1);
    assert_eq!(ids(&moto).await, before, "nothing was touched");

    // Adding the entries the message printed makes it a move.
    append(
        &identity,
        "[[moved]]\nfrom = \"iam_role.ops\"\nto = \"iam_role.operators\"\n\n[[moved]]\nfrom = \"iam_policy.read\"\nto = \"iam_policy.reading\"\n",
    );
    apply(d, &moto);
    assert_eq!(ids(&moto).await, before);
    plan_is_empty(d, &moto);
}

#[tokio::test(flavor = "multi_thread")]
async fn moved_entry_moves_a_module_instance_and_its_dependents_follow() {
    let moto = Moto::start();
    let dir = common::fixture_copy("tests/fixtures/moved");
    let d = dir.path();
    apply(d, &moto);
    let before = ids(&moto).await;

    let stack = d.join("stacks/network.toml");
    edit(&stack, "{ a = ", "{ b = ");
    edit(&stack, "module.net[\\\"a\\\"]", "module.net[\\\"b\\\"]");
    append(
        &stack,
        "[[moved]]\nfrom = 'module.net[\"a\"]'\nto = 'module.net[\"b\"]'\n",
    );
    let out = landfall(d, &moto, &["plan", "--env", "test", "--detailed-exitcode"]);
    expect_code(&out, 2);
    let plan = stdout(&out);
    for line in [
        "network.module.net[\"a\"].vpc.this has moved to network.module.net[\"b\"].vpc.this",
        "network.module.net[\"a\"].subnet.one has moved to network.module.net[\"b\"].subnet.one",
        "0 to add, 0 to change, 0 to replace, 0 to destroy, 2 moved.",
    ] {
        assert!(plan.contains(line), "missing {line:?} in\n{plan}");
    }
    let out = landfall(
        d,
        &moto,
        &["apply", "--env", "test", "--auto-approve", "--stats"],
    );
    expect_code(&out, 0);
    assert_eq!(ec2_iam_writes(&out), Vec::<String>::new(), "{}", text(&out));
    assert_eq!(ids(&moto).await, before);
    plan_is_empty(d, &moto);

    // The security group's recorded dependency moved with the VPC: destroy deletes it first.
    let out = landfall(d, &moto, &["destroy", "--env", "test", "--auto-approve"]);
    expect_code(&out, 0);
    assert_eq!(ids(&moto).await, Vec::<String>::new(), "{}", text(&out));
}

/// Regression (found by tests/sandbox_journey.rs): with `[[moved]]` entries in the configuration and
/// the state documents deleted, plan failed ("environment has no stack") and, past that, offered to
/// create the moved resources again: they carry the address tag they were created under. Refresh now
/// follows the entries from that tag, so they are imported.
#[tokio::test(flavor = "multi_thread")]
async fn moved_resources_are_imported_after_the_state_is_deleted() {
    let moto = Moto::start();
    let dir = common::fixture_copy("tests/fixtures/moved");
    let d = dir.path();
    apply(d, &moto);
    let stack = d.join("stacks/network.toml");
    edit(&stack, "{ a = ", "{ b = ");
    edit(&stack, "module.net[\\\"a\\\"]", "module.net[\\\"b\\\"]");
    append(
        &stack,
        "[[moved]]\nfrom = 'module.net[\"a\"]'\nto = 'module.net[\"b\"]'\n",
    );
    apply(d, &moto);
    let before = ids(&moto).await;

    std::fs::remove_dir_all(d.join(".landfall/state/test")).unwrap();
    let out = landfall(d, &moto, &["plan", "--env", "test", "--format", "json"]);
    expect_code(&out, 0);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["summary"]["add"], 0, "{plan:#}");
    assert_eq!(plan["summary"]["import"], 3, "{plan:#}");
    apply(d, &moto);
    assert_eq!(ids(&moto).await, before);
    plan_is_empty(d, &moto);
}

/// Regression (found by tests/sandbox_journey.rs, issue 10 item 6): a lost CreateVpc or
/// CreateSubnet answer for a resource inside a module instance left a second one. After the lost
/// answer landfall looked for the resource with a tag filter holding its address, and the emulator
/// reads the `[`, `"` and `]` of `module.net["a"]` as a pattern: nothing matched.
#[tokio::test(flavor = "multi_thread")]
async fn lost_create_answer_inside_a_module_instance_leaves_one_resource() {
    let moto = Moto::start();
    let proxy = common::moto::FaultProxy::start(
        &moto,
        &[
            "--lose-response",
            "CreateVpc",
            "--lose-response",
            "CreateSubnet",
        ],
    );
    let dir = common::fixture_copy("tests/fixtures/moved");
    let d = dir.path();
    let out = common::cli::landfall_via(
        d,
        &proxy.endpoint,
        &moto,
        &["apply", "--env", "test", "--auto-approve"],
    );
    expect_code(&out, 0);
    assert_eq!(proxy.counts()["lost_responses"], 2, "{}", text(&out));
    let ids = ids(&moto).await;
    let count = |prefix: &str| ids.iter().filter(|i| i.starts_with(prefix)).count();
    assert_eq!((count("vpc-"), count("subnet-")), (1, 1), "{ids:?}");
    plan_is_empty(d, &moto);
}
