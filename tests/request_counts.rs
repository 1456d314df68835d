//! Requests per operation, counted by `--stats`, for a small organization: an apply reads nothing
//! twice that it already knows (a created account's parent and tags), and a no-op plan costs a
//! listing per parent, not per resource. Counts are deterministic (no timing): every attempt is
//! counted, and the emulator answers every request the first time.

mod common;

use aws_sdk_organizations::types::PolicyTypeStatus;
use common::cli::{command, expect_code, landfall, landfall_via, requests, text};
use common::moto::{FaultProxy, Moto};
use common::project::Project;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn project() -> tempfile::TempDir {
    common::fixture_copy("tests/fixtures/org")
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_and_no_op_plan_of_an_organization_send_each_read_once() {
    let moto = Moto::start();
    let dir = project();
    let d = dir.path();
    let out = landfall(
        d,
        &moto,
        &["apply", "--env", "test", "--auto-approve", "--stats"],
    );
    expect_code(&out, 0);
    // The organization, one OU and two accounts: the organization is reported from its creation's
    // answer and its root (no DescribeOrganization), and a new account costs its creation, one status poll and
    // its move from the root (listed once for the run) to its OU: its parent, name, email and tags
    // are what the run asked for (no `ListParents`, `DescribeAccount`, `ListTagsForResource`). The
    // organization's accounts are listed once for the duplicate-email check of both.
    assert_counts(
        &out,
        &[
            ("CreateOrganization", 1),
            ("DescribeOrganization", 0),
            ("ListRoots", 2),
            ("ListAWSServiceAccessForOrganization", 0),
            ("CreateOrganizationalUnit", 1),
            ("ListOrganizationalUnitsForParent", 1),
            ("CreateAccount", 2),
            ("DescribeCreateAccountStatus", 2),
            ("ListParents", 0),
            ("MoveAccount", 2),
            ("DescribeAccount", 0),
            ("ListTagsForResource", 0),
            ("ListAccounts", 1),
            ("total", 13),
        ],
    );
    // What the run reported without asking is what AWS holds (an independent read).
    let org = aws_sdk_organizations::Client::new(&moto.sdk_config().await);
    for name in ["alpha", "beta"] {
        let shown = landfall(
            d,
            &moto,
            &[
                "state",
                "show",
                "--env",
                "test",
                &format!("org.account.{name}"),
            ],
        );
        expect_code(&shown, 0);
        let state: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
        let id = state["id"].as_str().unwrap();
        let account = org.describe_account().account_id(id).send().await.unwrap();
        let account = account.account().unwrap();
        assert_eq!(
            state["attributes"]["arn"],
            account.arn().unwrap(),
            "{state}"
        );
        assert_eq!(state["attributes"]["status"], "ACTIVE", "{state}");
        let parents = org.list_parents().child_id(id).send().await.unwrap();
        assert_eq!(
            state["attributes"]["parent_id"],
            parents.parents()[0].id().unwrap(),
            "{state}"
        );
    }
    // Nothing to change: the root, then one listing per parent that holds managed OUs or accounts.
    let plan = landfall(
        d,
        &moto,
        &["plan", "--env", "test", "--detailed-exitcode", "--stats"],
    );
    expect_code(&plan, 0);
    assert_counts(
        &plan,
        &[
            ("ListRoots", 1),
            ("ListAWSServiceAccessForOrganization", 1),
            ("ListOrganizationalUnitsForParent", 1),
            ("ListAccountsForParent", 1),
            ("DescribeOrganization", 0),
            ("total", 4),
        ],
    );
}

/// An organization with a policy type, trusted access and OUs two levels deep.
const OU_TREE: &str = r#"
[organization.main]
enabled_policy_types = ["SERVICE_CONTROL_POLICY"]
aws_service_access_principals = ["sso.amazonaws.com"]

[organizational_unit.security]
name = "Security"
parent_id = "${organization.main.root_id}"

[organizational_unit.workloads]
name = "Workloads"
parent_id = "${organization.main.root_id}"

[organizational_unit.sandbox]
name = "Sandbox"
parent_id = "${organization.main.root_id}"

[organizational_unit.prod]
name = "Prod"
parent_id = "${organizational_unit.workloads.id}"

[organizational_unit.dev]
name = "Dev"
parent_id = "${organizational_unit.workloads.id}"
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_new_organization_and_its_ous_read_each_parent_once_per_run() {
    let project = Project::new(OU_TREE);
    let out = project.apply();
    assert_counts(
        &out,
        &[
            // The refresh finds no organization (ListRoots says so, nothing else is asked); the
            // new one is reported from CreateOrganization's answer and its root, and its changes
            // from what AWS answered (EnablePolicyType returns the root, settled): no
            // DescribeOrganization, no ListAWSServiceAccessForOrganization, no poll of the root.
            ("CreateOrganization", 1),
            ("ListRoots", 2),
            ("DescribeOrganization", 0),
            ("EnablePolicyType", 1),
            ("EnableAWSServiceAccess", 1),
            ("ListAWSServiceAccessForOrganization", 0),
            // The duplicate-name check lists the root once for its three OUs; an OU this run
            // created holds none yet, so the two under Workloads cost no listing.
            ("CreateOrganizationalUnit", 5),
            ("ListOrganizationalUnitsForParent", 1),
            ("GetCallerIdentity", 1),
            ("total", 12),
        ],
    );
    project.expect_converged();
    // What was reported without asking again is what AWS holds (an independent read).
    let org = project.org().await;
    let roots = org.list_roots().send().await.unwrap();
    let root = &roots.roots()[0];
    let types: Vec<_> = root.policy_types().iter().map(|t| t.status()).collect();
    assert_eq!(types, [Some(&PolicyTypeStatus::Enabled)], "{root:?}");
    let access = org
        .list_aws_service_access_for_organization()
        .send()
        .await
        .unwrap();
    let principals: Vec<_> = access
        .enabled_service_principals()
        .iter()
        .map(|p| p.service_principal().unwrap_or_default())
        .collect();
    assert_eq!(principals, ["sso.amazonaws.com"]);
    let root_id = root.id().unwrap().to_string();
    assert_eq!(
        ou_names(&org, &root_id).await,
        ["Sandbox", "Security", "Workloads"]
    );
    let workloads = project.id("main.organizational_unit.workloads");
    assert_eq!(ou_names(&org, &workloads).await, ["Dev", "Prod"]);

    // An OU made outside landfall (moto allows a second of a name, AWS does not): the next run
    // lists the parent afresh, refuses to make a second `Audit`, and says how to adopt it.
    let outside = org
        .create_organizational_unit()
        .parent_id(&root_id)
        .name("Audit")
        .send()
        .await
        .unwrap();
    let outside = outside.organizational_unit().unwrap().id().unwrap();
    project.edit(&[(
        "[organizational_unit.security]",
        "[organizational_unit.audit]\nname = \"Audit\"\nparent_id = \"${organization.main.root_id}\"\n\n[organizational_unit.security]",
    )]);
    let refused = project.run(&["apply", "--env", "test", "--auto-approve"]);
    expect_code(&refused, 1);
    let said = text(&refused);
    assert!(said.contains("already holds an OU named `Audit`"), "{said}");
    assert!(
        said.contains(&format!(
            "landfall import main.organizational_unit.audit {outside}"
        )),
        "{said}"
    );
    assert_eq!(
        ou_names(&org, &root_id).await,
        ["Audit", "Sandbox", "Security", "Workloads"]
    );
}

/// The names of the OUs directly under `parent`, sorted.
async fn ou_names(org: &aws_sdk_organizations::Client, parent: &str) -> Vec<String> {
    let out = org
        .list_organizational_units_for_parent()
        .parent_id(parent)
        .send()
        .await
        .unwrap();
    let mut names: Vec<String> = out
        .organizational_units()
        .iter()
        .filter_map(|ou| ou.name().map(str::to_string))
        .collect();
    names.sort();
    names
}

/// A network and role baseline like the one stamped into every account of a landing zone.
const BASELINE: &str = r#"
[iam_role.ops]
name = "ops"
description = "Operators"
tags = { team = "platform" }
[iam_role.ops.assume_role_policy]
Version = "2012-10-17"
Statement = [{ Effect = "Allow", Principal = { AWS = "arn:aws:iam::111111111111:root" }, Action = "sts:AssumeRole" }]
[iam_role.ops.inline_policies.deny-secrets]
Version = "2012-10-17"
Statement = [{ Effect = "Deny", Action = ["secretsmanager:GetSecretValue"], Resource = "*" }]

[vpc.this]
cidr_block = "10.20.0.0/20"
enable_dns_hostnames = true

[subnet.public]
vpc_id = "${vpc.this.id}"
cidr_block = "10.20.0.0/24"
availability_zone = "eu-west-1a"
map_public_ip_on_launch = true

[subnet.private]
vpc_id = "${vpc.this.id}"
cidr_block = "10.20.8.0/24"
availability_zone = "eu-west-1b"

[internet_gateway.this]
vpc_id = "${vpc.this.id}"

[route_table.public]
vpc_id = "${vpc.this.id}"
routes = [{ destination_cidr_block = "0.0.0.0/0", gateway_id = "${internet_gateway.this.id}" }]
subnet_ids = ["${subnet.public.id}"]

[security_group.web]
name = "web"
description = "HTTPS in, anything out"
vpc_id = "${vpc.this.id}"
ingress = [{ protocol = "tcp", from_port = 443, to_port = 443, cidr_blocks = ["10.20.0.0/20"], description = "HTTPS" }]
egress = [{ protocol = "-1", cidr_blocks = ["0.0.0.0/0"], description = "anything out" }]
"#;

#[tokio::test(flavor = "multi_thread")]
async fn apply_of_a_baseline_sends_only_the_calls_each_kind_needs() {
    let project = Project::new(BASELINE);
    let out = project.apply();
    // Every resource is created with its tags (TagSpecifications, Tags on CreateRole) and reported
    // from what its creation answered and what was asked for: no Describe* after a create, no
    // CreateTags. A security group starts with AWS's one default egress rule (not described).
    assert_counts(
        &out,
        &[
            ("CreateRole", 1),
            ("PutRolePolicy", 1),
            ("CreateVpc", 1),
            ("ModifyVpcAttribute", 1),
            ("CreateSubnet", 2),
            ("ModifySubnetAttribute", 1),
            ("CreateInternetGateway", 1),
            ("AttachInternetGateway", 1),
            ("CreateRouteTable", 1),
            ("CreateRoute", 1),
            ("AssociateRouteTable", 1),
            ("CreateSecurityGroup", 1),
            ("AuthorizeSecurityGroupIngress", 1),
            ("UpdateSecurityGroupRuleDescriptionsEgress", 1),
            ("CreateTags", 0),
            // The refresh before the changes: one batched read per kind, looking for tagged
            // resources an earlier run created and lost from state; none after a create.
            ("DescribeSecurityGroups", 1),
            ("DescribeSubnets", 1),
            ("DescribeVpcs", 1),
            ("DescribeRouteTables", 1),
            ("DescribeInternetGateways", 1),
            ("GetAccountAuthorizationDetails", 1),
            ("GetCallerIdentity", 1),
            ("total", 22),
        ],
    );
    // What was reported without asking is what AWS holds: the plan after it is empty.
    project.expect_converged();
    // An independent read of the security group's rules.
    let ec2 = aws_sdk_ec2::Client::new(&project.moto.sdk_config().await);
    let group = ec2
        .describe_security_groups()
        .group_ids(project.id("main.security_group.web"))
        .send()
        .await
        .unwrap()
        .security_groups()[0]
        .clone();
    let ingress = &group.ip_permissions()[0];
    assert_eq!(
        (ingress.from_port(), ingress.ip_ranges()[0].cidr_ip()),
        (Some(443), Some("10.20.0.0/20"))
    );
    let egress = group.ip_permissions_egress();
    assert_eq!(egress.len(), 1, "{egress:?}");
    assert_eq!(egress[0].ip_ranges()[0].description(), Some("anything out"));
}

const DETECTOR: &str = r#"
[guardduty_detector.main]
finding_publishing_frequency = "SIX_HOURS"
tags = { team = "security" }
"#;

#[tokio::test(flavor = "multi_thread")]
async fn refresh_reads_a_guardduty_detector_by_its_id_and_sees_it_deleted_outside() {
    let project = Project::new(DETECTOR);
    project.apply();
    // The detector state knows is read by id: no ListDetectors (there is at most one per account
    // and region, so no other can be a copy or the one to adopt).
    let plan = no_op_plan(&project);
    assert_counts(
        &plan,
        &[("GetDetector", 1), ("ListDetectors", 0), ("total", 1)],
    );
    // Deleted outside landfall: GuardDuty answers the known id with a 400 "not owned by the current
    // account", which is the detector gone; the listing then finds none, and the plan creates it.
    let gd = aws_sdk_guardduty::Client::new(&project.moto.sdk_config().await);
    let id = project.id("main.guardduty_detector.main");
    gd.delete_detector().detector_id(&id).send().await.unwrap();
    project.expect_plan(&["+ main.guardduty_detector.main"]);
    project.apply();
    project.expect_converged();
    let listed = gd.list_detectors().send().await.unwrap();
    assert_eq!(
        listed.detector_ids(),
        [project.id("main.guardduty_detector.main")]
    );
    assert_ne!(listed.detector_ids()[0], id, "a new detector");
}

const PERMISSION_SET: &str = r#"
[sso_permission_set.viewer]
name = "Viewer"
description = "Reads"
managed_policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
"#;

#[tokio::test(flavor = "multi_thread")]
async fn refresh_reads_only_the_policies_a_permission_set_manages() {
    let project = Project::new(PERMISSION_SET);
    project.apply();
    // No customer managed references and no inline policy in state: neither is read (Terraform's
    // convention for sub-configurations the resource does not manage).
    let plan = no_op_plan(&project);
    assert_counts(
        &plan,
        &[
            ("ListInstances", 1),
            ("ListPermissionSets", 1),
            ("ListManagedPoliciesInPermissionSet", 1),
            ("ListCustomerManagedPolicyReferencesInPermissionSet", 0),
            ("GetInlinePolicyForPermissionSet", 0),
            ("total", 3),
        ],
    );
    // An inline policy added to the configuration is still planned (compared with state) ...
    project.change(
        &[(
            "managed_policy_arns",
            "inline_policy = { Version = \"2012-10-17\", Statement = [{ Effect = \"Deny\", Action = \"s3:GetObject\", Resource = \"*\" }] }\nmanaged_policy_arns",
        )],
        &["~ main.sso_permission_set.viewer"],
    );
    // ... and from then on read, so its removal outside landfall is drift put back.
    assert_eq!(
        requests(&no_op_plan(&project), "GetInlinePolicyForPermissionSet"),
        1
    );
    let sso = aws_sdk_ssoadmin::Client::new(&project.moto.sdk_config().await);
    let instance = sso.list_instances().send().await.unwrap().instances()[0]
        .instance_arn()
        .unwrap()
        .to_string();
    let arn = project.id("main.sso_permission_set.viewer");
    let remove = sso
        .delete_inline_policy_from_permission_set()
        .instance_arn(&instance)
        .permission_set_arn(&arn);
    remove.send().await.unwrap();
    project.expect_plan(&["~ main.sso_permission_set.viewer"]);
    project.apply();
    project.expect_converged();
    let inline = sso
        .get_inline_policy_for_permission_set()
        .instance_arn(&instance)
        .permission_set_arn(&arn)
        .send()
        .await
        .unwrap();
    assert!(
        inline
            .inline_policy()
            .unwrap_or_default()
            .contains("s3:GetObject")
    );
}

/// A TCP relay that counts the connections clients open through it.
struct ConnectionCounter {
    endpoint: String,
    accepted: Arc<AtomicUsize>,
}

impl ConnectionCounter {
    /// Listens on a free loopback port; each connection is relayed to `upstream` (an
    /// `http://127.0.0.1:PORT` endpoint) by two threads, one per direction.
    fn start(upstream: &str) -> ConnectionCounter {
        let upstream = upstream.trim_start_matches("http://").to_string();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                count.fetch_add(1, Ordering::SeqCst);
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                relay(&client, &server);
                relay(&server, &client);
            }
        });
        ConnectionCounter { endpoint, accepted }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// Copies what `from` receives to `to` until either end closes, on a thread of its own.
fn relay(from: &TcpStream, to: &TcpStream) {
    let (mut from, mut to) = (from.try_clone().unwrap(), to.try_clone().unwrap());
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(std::net::Shutdown::Both);
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn every_sdk_client_of_a_run_shares_one_connection_pool() {
    // Regression: each SDK client (one per call) used to build its own HTTPS connector, so every
    // request opened a new connection (against AWS: a TCP and TLS handshake per request).
    let project = Project::new(BASELINE);
    // The emulator closes every connection after its answer; the fault proxy (without faults)
    // keeps its clients' connections open, as AWS does, and the counter sits in front of it.
    let proxy = FaultProxy::start(&project.moto, &[]);
    let counter = ConnectionCounter::start(&proxy.endpoint);
    // One change at a time: a connection beyond the first is one a request could not reuse.
    let out = landfall_via(
        project.path(),
        &counter.endpoint,
        &project.moto,
        &[
            "apply",
            "--env",
            "test",
            "--auto-approve",
            "--stats",
            "--parallelism",
            "1",
        ],
    );
    expect_code(&out, 0);
    let (sent, opened) = (requests(&out, "total") as usize, counter.accepted());
    assert!(sent >= 20, "{}", text(&out));
    assert!(
        opened * 5 <= sent,
        "{opened} connections for {sent} requests\n{}",
        text(&out)
    );
    project.expect_converged();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_shared_client_sends_through_the_proxy_the_environment_names() {
    // The one HTTP client replaces the SDK's default, which honours HTTP(S)_PROXY and NO_PROXY.
    let project = Project::new(BASELINE);
    project.apply();
    let proxy = ConnectionCounter::start(&project.moto.endpoint);
    let out = command(
        project.path(),
        &project.moto.endpoint,
        &project.moto,
        &["plan", "--env", "test", "--detailed-exitcode", "--stats"],
    )
    .env("HTTP_PROXY", &proxy.endpoint)
    .env_remove("NO_PROXY")
    .env_remove("no_proxy")
    .output()
    .unwrap();
    expect_code(&out, 0);
    // The emulator closes each connection after its answer: one connection through the proxy per
    // request, none around it.
    let sent = requests(&out, "total") as usize;
    assert!(sent > 0, "{}", text(&out));
    assert_eq!(proxy.accepted(), sent, "{}", text(&out));
}

/// A plan that must find nothing to change, with `--stats`.
fn no_op_plan(project: &Project) -> std::process::Output {
    let plan = project.run(&["plan", "--env", "test", "--detailed-exitcode", "--stats"]);
    expect_code(&plan, 0);
    plan
}

fn assert_counts(out: &std::process::Output, expected: &[(&str, u64)]) {
    let found: Vec<(&str, u64)> = expected
        .iter()
        .map(|(op, _)| (*op, requests(out, op)))
        .collect();
    assert_eq!(found, expected, "{}", text(out));
}
