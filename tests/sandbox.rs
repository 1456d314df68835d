//! The shipped `sandbox` environment, applied for real to the emulator: the organization, its OUs,
//! accounts and policies, the management account's IAM, and the baseline VPC and roles inside every
//! workload account. Then a second plan must be empty, and a plan after the state documents were
//! deleted imports everything instead of creating it again.

mod common;

use common::cli::{expect_code, landfall, requests, text};

use common::moto::Moto;

#[tokio::test(flavor = "multi_thread")]
async fn sandbox_lands_workloads_inside_member_accounts_and_converges() {
    // The identity stack attaches AWS-managed policies, which moto only has when asked to load them.
    let moto = Moto::start_with(&[("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")]);
    let dir = common::example_copy();
    let d = dir.path();
    expect_code(
        &landfall(d, &moto, &["apply", "--env", "sandbox", "--auto-approve"]),
        0,
    );
    let plan = landfall(
        d,
        &moto,
        &["plan", "--env", "sandbox", "--detailed-exitcode", "--stats"],
    );
    expect_code(&plan, 0);
    // Issue 13, logging and security stacks: read independently in each account.
    logging_and_security_landed(&moto).await;

    // The refresh is batched: the IAM, EC2, Organizations and Identity Center listings grow with
    // accounts x regions, not with resources. Account guardrails have no bulk read in AWS (one
    // request per setting), nor have Identity Center's permission sets (one to three per permission
    // set), nor GuardDuty detectors (one per account): those are pinned exactly below. Entering a
    // member account costs its AssumeRole and its account-wide IAM read. Measured 2026-11-27: 46
    // requests for 92 resources (0.50) before the guardrail, Identity Center and plan-role stacks,
    // 103 for 142 (0.73) with the first two, 114 for 156 (0.73) with all three; 108 for 156 (0.69)
    // once a permission set's unmanaged sub-configurations were no longer read. The whole grown
    // sandbox (+ logging, security, network hub, private DNS): 180 for 212 (0.85); with the workload
    // VPCs' flow logs 183 for 215, the bound below (README "Refresh cost" has the floor: 127 kinds x
    // accounts x regions for 212 resources, 0.60 even at one request each).
    // Issue 13's 0.5 is not reached: 61 of these requests read per-account settings AWS can only read
    // one at a time (EBS encryption 16, Config 21, alternate contacts 8, S3 account public access
    // blocks 8, GuardDuty detectors 8; README "Refresh cost"). Terraform's AWS provider makes about 4.8 per resource.
    let listed = landfall(d, &moto, &["state", "list", "--env", "sandbox"]);
    expect_code(&listed, 0);
    let listed_text = String::from_utf8_lossy(&listed.stdout).into_owned();
    let resources = listed_text.lines().count() as u64;
    assert!(resources >= 140, "{}", text(&listed));
    let of_kind = |kind: &str| {
        listed_text
            .lines()
            .filter(|l| l.contains(&format!(".{kind}.")))
            .count() as u64
    };
    let total = requests(&plan, "total");
    assert!(
        total > 0 && total * 100 <= resources * 86,
        "{total} requests for {resources} resources:\n{}",
        text(&plan)
    );
    for (operation, kind) in [
        ("GetEbsEncryptionByDefault", "ebs_encryption_by_default"),
        // S3 Control's, not the log bucket's S3.GetPublicAccessBlock.
        (
            "Control.GetPublicAccessBlock",
            "s3_account_public_access_block",
        ),
        ("GetAlternateContact", "account_alternate_contact"),
        ("ListManagedPoliciesInPermissionSet", "sso_permission_set"),
        ("GetDetector", "guardduty_detector"),
    ] {
        assert_eq!(
            requests(&plan, operation),
            of_kind(kind),
            "{operation}: {}",
            text(&plan)
        );
    }
    // One listing per group, whatever the number of accounts it is assigned in.
    assert_eq!(
        requests(&plan, "ListAccountAssignmentsForPrincipal"),
        of_kind("identitystore_group"),
        "{}",
        text(&plan)
    );
    // Eight accounts hold IAM (the management account, and the plan role in each of the seven
    // members), three hold a VPC baseline.
    assert_eq!(
        requests(&plan, "GetAccountAuthorizationDetails"),
        8,
        "{}",
        text(&plan)
    );
    assert_eq!(requests(&plan, "DescribeSubnets"), 3, "{}", text(&plan));
    assert_eq!(requests(&plan, "DescribeFlowLogs"), 3, "{}", text(&plan));
    // Detectors state knows are read by id, not listed.
    assert_eq!(requests(&plan, "ListDetectors"), 0, "{}", text(&plan));

    // Read the emulator directly: the workload accounts exist in their OUs...
    let config = moto.sdk_config().await;
    let org = aws_sdk_organizations::Client::new(&config);
    let accounts = org.list_accounts().send().await.unwrap();
    let id_of = |name: &str| {
        accounts
            .accounts()
            .iter()
            .find(|a| a.name() == Some(name))
            .and_then(|a| a.id())
            .unwrap_or_else(|| panic!("account {name} missing"))
            .to_string()
    };
    // ...and each one's VPC and admin role are owned by that account, not by the management account.
    for name in ["dev", "stg", "prod"] {
        let account = id_of(name);
        let member = moto.member_config(&account).await;
        let vpcs = aws_sdk_ec2::Client::new(&member)
            .describe_vpcs()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("tag-key")
                    .values("landfall:address")
                    .build(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(vpcs.vpcs().len(), 1, "one baseline VPC in {name}");
        assert_eq!(vpcs.vpcs()[0].owner_id(), Some(account.as_str()));
        let roles = aws_sdk_iam::Client::new(&member)
            .list_roles()
            .send()
            .await
            .unwrap();
        let arns: Vec<&str> = roles.roles().iter().map(|r| r.arn()).collect();
        assert!(
            arns.iter()
                .any(|a| a.starts_with(&format!("arn:aws:iam::{account}:role/"))
                    && !a.ends_with("OrganizationAccountAccessRole")),
            "baseline roles in {name}: {arns:?}"
        );
    }

    // Issue 13: the network hub, read in the network account and in each workload account.
    hub_is_shared_and_attached(&moto, &id_of).await;

    // Issue 13: the CI roles' OIDC provider, the guardrails inside a member account, and the
    // Identity Center permission sets with their assignments (administrators in every member account).
    let iam = aws_sdk_iam::Client::new(&config);
    let providers = iam.list_open_id_connect_providers().send().await.unwrap();
    let provider = providers.open_id_connect_provider_list()[0].arn().unwrap();
    assert!(
        provider.ends_with(":oidc-provider/gitlab.example.com"),
        "{provider}"
    );
    let audit = moto.member_config(&id_of("audit")).await;
    let ebs = aws_sdk_ec2::Client::new(&audit)
        .get_ebs_encryption_by_default()
        .send()
        .await;
    assert_eq!(ebs.unwrap().ebs_encryption_by_default(), Some(true));
    let contact = aws_sdk_account::Client::new(&audit)
        .get_alternate_contact()
        .alternate_contact_type(aws_sdk_account::types::AlternateContactType::Security)
        .send()
        .await
        .unwrap();
    assert_eq!(
        contact.alternate_contact().unwrap().name(),
        Some("Security operations")
    );
    let sso = aws_sdk_ssoadmin::Client::new(&config);
    let instance = sso.list_instances().send().await.unwrap().instances()[0]
        .instance_arn()
        .unwrap()
        .to_string();
    let sets = sso
        .list_permission_sets()
        .instance_arn(&instance)
        .send()
        .await
        .unwrap();
    assert_eq!(sets.permission_sets().len(), 4);
    let mut assigned = 0;
    for set in sets.permission_sets() {
        for name in [
            "log-archive",
            "audit",
            "network",
            "shared-services",
            "dev",
            "stg",
            "prod",
        ] {
            let out = sso
                .list_account_assignments()
                .instance_arn(&instance)
                .account_id(id_of(name))
                .permission_set_arn(set)
                .send()
                .await
                .unwrap();
            assigned += out.account_assignments().len();
        }
    }
    assert_eq!(
        assigned, 10,
        "administrators in 7 accounts, developers in 2, testers in 1"
    );

    // Issue 13, DNS: the private zone is the shared-services account's, created with its VPC, and
    // each workload VPC is associated with it, as its own account sees (ListHostedZonesByVPC).
    let shared = id_of("shared-services");
    let shared_r53 = aws_sdk_route53::Client::new(&moto.member_config(&shared).await);
    let zones = shared_r53.list_hosted_zones().send().await.unwrap();
    let zone = zones
        .hosted_zones()
        .iter()
        .find(|z| z.name() == "internal.acme.example.")
        .expect("the private zone in shared-services");
    let zone_id = zone.id().trim_start_matches("/hostedzone/").to_string();
    let got = shared_r53
        .get_hosted_zone()
        .id(&zone_id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.vpcs().len(), 4, "shared-services, dev, stg and prod");
    for name in ["dev", "stg", "prod"] {
        let account = id_of(name);
        let member = moto.member_config(&account).await;
        let vpcs = aws_sdk_ec2::Client::new(&member)
            .describe_vpcs()
            .send()
            .await
            .unwrap();
        let vpc = vpcs
            .vpcs()
            .iter()
            .find(|v| v.tags().iter().any(|t| t.key() == Some("landfall:address")))
            .and_then(|v| v.vpc_id())
            .unwrap()
            .to_string();
        let by_vpc = aws_sdk_route53::Client::new(&member)
            .list_hosted_zones_by_vpc()
            .vpc_id(&vpc)
            .vpc_region(aws_sdk_route53::types::VpcRegion::from("eu-west-1"))
            .send()
            .await
            .unwrap();
        let seen: Vec<(&str, Option<&str>)> = by_vpc
            .hosted_zone_summaries()
            .iter()
            .map(|z| {
                (
                    z.hosted_zone_id(),
                    z.owner().and_then(|o| o.owning_account()),
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![(zone_id.as_str(), Some(shared.as_str()))],
            "{name}'s VPC resolves the shared-services zone"
        );
    }

    // Issue 12, readable plans: a reviewer sees where each change lands (account name and id,
    // region), OU names next to OU ids, and an SCP change as the statement lines that change.
    let policy = d.join("policies/deny-leaving.json");
    let organization = d.join("stacks/organization.toml");
    let (policy_text, organization_text) = (
        std::fs::read_to_string(&policy).unwrap(),
        std::fs::read_to_string(&organization).unwrap(),
    );
    std::fs::write(
        &policy,
        policy_text.replace(
            r#""Action": "organizations:LeaveOrganization","#,
            r#""Action": ["organizations:LeaveOrganization", "account:CloseAccount"],"#,
        ),
    )
    .unwrap();
    let stg = "[account.stg]\nname = \"stg\"\nemail = \"aws+stg@${var.email_domain}\"\nparent_id = \"${organizational_unit.nonprod.id}\"";
    assert!(organization_text.contains(stg));
    std::fs::write(
        &organization,
        organization_text.replace(stg, &stg.replace("nonprod.id", "prod.id")),
    )
    .unwrap();
    let out = landfall(
        d,
        &moto,
        &["plan", "--env", "sandbox", "--format", "markdown"],
    );
    expect_code(&out, 0);
    let md = String::from_utf8_lossy(&out.stdout);
    let pad = " ".repeat(15);
    assert!(
        md.contains(&format!(
            "\n-{pad}\"Action\": \"organizations:LeaveOrganization\",\n"
        )),
        "{md}"
    );
    assert!(md.contains(&format!("\n+{pad}\"Action\": [\n")), "{md}");
    assert!(md.contains("\"account:CloseAccount\""), "{md}");
    let (nonprod, prod) = (ou_id(&org, "NonProd").await, ou_id(&org, "Prod").await);
    assert!(
        md.contains(&format!(
            "~ parent_id = \"{nonprod}\" (OU NonProd) -> \"{prod}\" (OU Prod)"
        )),
        "{md}"
    );
    std::fs::write(&policy, policy_text).unwrap();
    std::fs::write(&organization, organization_text).unwrap();
    let out = landfall(
        d,
        &moto,
        &[
            "plan",
            "--env",
            "sandbox",
            "--destroy",
            "--format",
            "markdown",
        ],
    );
    expect_code(&out, 0);
    let md = String::from_utf8_lossy(&out.stdout);
    for name in ["dev", "stg", "prod"] {
        assert!(
            md.contains(&format!("account {name} ({}), ", id_of(name))),
            "{name}: {md}"
        );
    }
    assert!(md.contains("the management account ("), "{md}");

    // The state documents deleted (issue 10: "state that is missing is treated as empty"): what
    // exists is imported, by tag or (kinds without tags) by the id AWS makes unique, never created.
    std::fs::remove_dir_all(d.join(".landfall/state/sandbox")).unwrap();
    let out = landfall(d, &moto, &["plan", "--env", "sandbox", "--format", "json"]);
    expect_code(&out, 0);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let creates: Vec<&str> = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == "create")
        .map(|c| c["address"].as_str().unwrap())
        .collect();
    assert_eq!(creates, Vec::<&str>::new(), "{}", text(&out));
    assert_eq!(plan["summary"]["import"].as_u64(), Some(resources));
    expect_code(
        &landfall(d, &moto, &["apply", "--env", "sandbox", "--auto-approve"]),
        0,
    );
    let again = org.list_accounts().send().await.unwrap();
    assert_eq!(again.accounts().len(), accounts.accounts().len());
    for name in ["dev", "stg", "prod"] {
        let member = moto.member_config(&id_of(name)).await;
        let vpcs = aws_sdk_ec2::Client::new(&member)
            .describe_vpcs()
            .send()
            .await
            .unwrap();
        let tagged = vpcs
            .vpcs()
            .iter()
            .filter(|v| v.tags().iter().any(|t| t.key() == Some("landfall:address")))
            .count();
        assert_eq!(tagged, 1, "still one baseline VPC in {name}");
    }
    expect_code(
        &landfall(
            d,
            &moto,
            &["plan", "--env", "sandbox", "--detailed-exitcode"],
        ),
        0,
    );
}

/// Regression (issue 10, item 4): destroying the sandbox failed on every run because its accounts are
/// kept (not closed) and the OUs holding them cannot be deleted. Now it ends with exit 0: the baselines
/// inside the accounts are gone, the accounts stay in their OUs, and nothing is left to destroy.
#[tokio::test(flavor = "multi_thread")]
async fn sandbox_destroy_exits_zero_and_leaves_nothing_to_destroy() {
    let moto = Moto::start_with(&[("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")]);
    let dir = common::example_copy();
    let d = dir.path();
    expect_code(
        &landfall(d, &moto, &["apply", "--env", "sandbox", "--auto-approve"]),
        0,
    );
    let out = landfall(d, &moto, &["destroy", "--env", "sandbox", "--auto-approve"]);
    expect_code(&out, 0);
    let again = landfall(d, &moto, &["destroy", "--env", "sandbox", "--auto-approve"]);
    expect_code(&again, 0);
    assert!(text(&again).contains("No changes"), "{}", text(&again));
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

    let org = aws_sdk_organizations::Client::new(&moto.sdk_config().await);
    let accounts = org.list_accounts().send().await.unwrap();
    let dev = accounts
        .accounts()
        .iter()
        .find(|a| a.name() == Some("dev"))
        .expect("the dev account stays open")
        .id()
        .unwrap()
        .to_string();
    let parent = org.list_parents().child_id(&dev).send().await.unwrap();
    let ou = org
        .describe_organizational_unit()
        .organizational_unit_id(parent.parents()[0].id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        ou.organizational_unit().and_then(|o| o.name()),
        Some("NonProd"),
        "dev stays where it was"
    );
    let vpcs = aws_sdk_ec2::Client::new(&moto.member_config(&dev).await)
        .describe_vpcs()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("tag-key")
                .values("landfall:address")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(vpcs.vpcs().is_empty(), "the baseline VPC is destroyed");
}

/// The id of the OU called `name` (read from the emulator, two levels deep is enough for the sandbox).
async fn ou_id(org: &aws_sdk_organizations::Client, name: &str) -> String {
    let root = org.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_string();
    let mut parents = vec![root];
    while let Some(parent) = parents.pop() {
        let ous = org
            .list_organizational_units_for_parent()
            .parent_id(&parent)
            .send()
            .await
            .unwrap();
        for ou in ous.organizational_units() {
            if ou.name() == Some(name) {
                return ou.id().unwrap().to_string();
            }
            parents.push(ou.id().unwrap().to_string());
        }
    }
    panic!("no OU {name}")
}

/// Issue 13, the network hub: the transit gateway in the network account, shared through RAM with
/// the organization; one available attachment per workload VPC, made from the workload's account
/// and seen in the network account too, each associated with its environment's route table, which
/// holds only that attachment and no propagation (dev, stg and prod cannot reach each other).
async fn hub_is_shared_and_attached(moto: &Moto, id_of: &dyn Fn(&str) -> String) {
    use aws_sdk_ram::types::{ResourceOwner, ResourceShareAssociationType as Type};
    let network_id = id_of("network");
    let network_config = moto.member_config(&network_id).await;
    let network = aws_sdk_ec2::Client::new(&network_config);
    let gateways = network.describe_transit_gateways().send().await.unwrap();
    assert_eq!(gateways.transit_gateways().len(), 1, "one hub");
    let gateway = &gateways.transit_gateways()[0];
    assert_eq!(gateway.owner_id(), Some(network_id.as_str()));
    let (tgw, tgw_arn) = (
        gateway.transit_gateway_id().unwrap(),
        gateway.transit_gateway_arn().unwrap(),
    );
    let ram = aws_sdk_ram::Client::new(&network_config);
    let shares = ram
        .get_resource_shares()
        .resource_owner(ResourceOwner::SelfValue)
        .send()
        .await
        .unwrap();
    assert_eq!(shares.resource_shares().len(), 1, "one share");
    let share = shares.resource_shares()[0].resource_share_arn().unwrap();
    let associated = |kind: Type| common::share_associations(&ram, share, kind);
    assert_eq!(associated(Type::Resource).await, vec![tgw_arn.to_string()]);
    let org = aws_sdk_organizations::Client::new(&moto.sdk_config().await);
    let org = org.describe_organization().send().await.unwrap();
    let org_arn = org.organization().unwrap().arn().unwrap().to_string();
    assert_eq!(associated(Type::Principal).await, vec![org_arn]);
    let seen = network
        .describe_transit_gateway_attachments()
        .send()
        .await
        .unwrap();
    assert_eq!(seen.transit_gateway_attachments().len(), 3, "{seen:?}");
    for name in ["dev", "stg", "prod"] {
        let seen = seen.transit_gateway_attachments();
        attached_alone(moto, &network, seen, tgw, name, &id_of(name)).await;
    }
}

/// One workload account's side of the hub: its VPC attached once, seen by the network account too,
/// associated with its environment's route table, which holds nothing else and no propagation; and
/// the VPC's S3 gateway endpoint in its private route tables.
async fn attached_alone(
    moto: &Moto,
    network: &aws_sdk_ec2::Client,
    seen: &[aws_sdk_ec2::types::TransitGatewayAttachment],
    tgw: &str,
    name: &str,
    account: &str,
) {
    let member = aws_sdk_ec2::Client::new(&moto.member_config(account).await);
    let vpcs = member.describe_vpcs().send().await.unwrap();
    let vpc = vpcs
        .vpcs()
        .iter()
        .find(|v| !v.is_default().unwrap_or(false));
    let vpc = vpc.and_then(|v| v.vpc_id()).expect("the baseline VPC");
    let out = member
        .describe_transit_gateway_vpc_attachments()
        .send()
        .await
        .unwrap();
    let [attachment] = out.transit_gateway_vpc_attachments() else {
        panic!("one attachment in {name}: {out:?}")
    };
    let id = attachment.transit_gateway_attachment_id().unwrap();
    assert_eq!(
        (
            attachment.state().unwrap().as_str(),
            attachment.vpc_id(),
            attachment.transit_gateway_id()
        ),
        ("available", Some(vpc), Some(tgw)),
        "{name}"
    );
    assert_eq!(
        attachment.subnet_ids().len(),
        3,
        "one private subnet per AZ in {name}"
    );
    let in_network = seen
        .iter()
        .find(|a| a.transit_gateway_attachment_id() == Some(id))
        .unwrap_or_else(|| panic!("{name}'s attachment not seen by the network account"));
    assert_eq!(in_network.resource_owner_id(), Some(account));
    // By Name tag, read here: the emulator ignores tag filters on transit gateway route tables.
    let tables = network
        .describe_transit_gateway_route_tables()
        .send()
        .await
        .unwrap();
    let named: Vec<_> = tables
        .transit_gateway_route_tables()
        .iter()
        .filter(|t| {
            t.tags()
                .iter()
                .any(|tag| tag.key() == Some("Name") && tag.value() == Some(name))
        })
        .collect();
    let [table] = named[..] else {
        panic!("one route table for {name}: {tables:?}")
    };
    let table = table.transit_gateway_route_table_id().unwrap();
    assert_eq!(
        in_network
            .association()
            .and_then(|a| a.transit_gateway_route_table_id()),
        Some(table),
        "{name}"
    );
    let associations = network
        .get_transit_gateway_route_table_associations()
        .transit_gateway_route_table_id(table)
        .send()
        .await
        .unwrap();
    let associated: Vec<&str> = associations
        .associations()
        .iter()
        .filter_map(|a| a.transit_gateway_attachment_id())
        .collect();
    assert_eq!(
        associated,
        vec![id],
        "only {name}'s attachment in its table"
    );
    let propagations = network
        .get_transit_gateway_route_table_propagations()
        .transit_gateway_route_table_id(table)
        .send()
        .await
        .unwrap();
    assert!(
        propagations
            .transit_gateway_route_table_propagations()
            .is_empty(),
        "no environment propagates into {name}'s table"
    );
    let endpoints = member.describe_vpc_endpoints().send().await.unwrap();
    let [endpoint] = endpoints.vpc_endpoints() else {
        panic!("one VPC endpoint in {name}: {endpoints:?}")
    };
    assert_eq!(
        (endpoint.service_name(), endpoint.vpc_id()),
        (Some("com.amazonaws.eu-west-1.s3"), Some(vpc)),
        "{name}"
    );
    assert_eq!(
        endpoint.route_table_ids().len(),
        3,
        "the private route tables of {name}"
    );
    // Its traffic is logged to the log archive, by its own account.
    let logs = member.describe_flow_logs().send().await.unwrap();
    let [log] = logs.flow_logs() else {
        panic!("one flow log in {name}: {logs:?}")
    };
    assert_eq!(
        (
            log.resource_id(),
            log.log_destination(),
            log.log_destination_type().map(|t| t.as_str()),
            log.traffic_type().map(|t| t.as_str()),
        ),
        (
            Some(vpc),
            Some("arn:aws:s3:::acme-sandbox-log-archive"),
            Some("s3"),
            Some("ALL")
        ),
        "{name}"
    );
}

/// The policy document's meaning: statements by Sid, one-element lists as their element, lists as
/// sets (sorted), so a reordered or re-serialised policy compares equal.
fn policy_meaning(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Array(items) if items.len() == 1 => policy_meaning(&items[0]),
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(policy_meaning).collect();
            items.sort_by_key(|i| i.to_string());
            Value::Array(items)
        }
        Value::Object(map) => {
            let mut sorted: Vec<(&String, &Value)> = map.iter().collect();
            sorted.sort_by_key(|(k, _)| k.as_str());
            Value::Object(
                sorted
                    .into_iter()
                    .map(|(k, v)| (k.clone(), policy_meaning(v)))
                    .collect(),
            )
        }
        other => other.clone(),
    }
}

/// The log archive bucket's policy as stacks/logging.toml declares it, for the sandbox's bucket.
fn expected_log_bucket_policy(bucket: &str) -> serde_json::Value {
    let services = [
        "cloudtrail.amazonaws.com",
        "config.amazonaws.com",
        "delivery.logs.amazonaws.com",
    ];
    let arn = format!("arn:aws:s3:::{bucket}");
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "DeliveryServicesCheckAcl", "Effect": "Allow", "Principal": {"Service": services},
             "Action": ["s3:GetBucketAcl", "s3:ListBucket"], "Resource": arn},
            {"Sid": "DeliveryServicesWrite", "Effect": "Allow", "Principal": {"Service": services},
             "Action": "s3:PutObject", "Resource": format!("{arn}/AWSLogs/*"),
             "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}},
            {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": [arn.clone(), format!("{arn}/*")],
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
        ]
    })
}

/// The organization trail logs to the log-archive bucket with the log key; the bucket (policy by
/// meaning, versioning, KMS encryption, public access blocked), key and alias live in the log-archive
/// account; GuardDuty and Security Hub are administered by the audit account, whose detector
/// auto-enables GuardDuty for every member; every account has one detector and a Config recorder.
async fn logging_and_security_landed(moto: &Moto) {
    let org = aws_sdk_organizations::Client::new(&moto.sdk_config().await);
    let accounts = org.list_accounts().send().await.unwrap();
    let id_of = |name: &str| {
        let account = accounts.accounts().iter().find(|a| a.name() == Some(name));
        account.and_then(|a| a.id()).unwrap().to_string()
    };
    let bucket = "acme-sandbox-log-archive";
    let archive = moto.member_config(&id_of("log-archive")).await;
    let kms = aws_sdk_kms::Client::new(&archive);
    let aliases = kms.list_aliases().send().await.unwrap();
    let alias = aliases
        .aliases()
        .iter()
        .find(|a| a.alias_name() == Some("alias/log-archive"))
        .expect("alias/log-archive in the log-archive account");
    let key = kms
        .describe_key()
        .key_id(alias.target_key_id().unwrap())
        .send()
        .await
        .unwrap();
    let key_arn = key.key_metadata().unwrap().arn().unwrap().to_string();
    assert!(key_arn.contains(&id_of("log-archive")), "{key_arn}");

    let trails = aws_sdk_cloudtrail::Client::new(&moto.sdk_config().await);
    let list = trails.describe_trails().send().await.unwrap();
    let trail = list
        .trail_list()
        .iter()
        .find(|t| t.name() == Some("organization"))
        .expect("the organization trail");
    assert_eq!(trail.s3_bucket_name(), Some(bucket));
    assert_eq!(trail.is_organization_trail(), Some(true));
    assert_eq!(trail.kms_key_id(), Some(key_arn.as_str()));
    let status = trails.get_trail_status().name("organization").send().await;
    assert_eq!(status.unwrap().is_logging(), Some(true));

    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&archive)
            .force_path_style(true)
            .build(),
    );
    let policy = s3.get_bucket_policy().bucket(bucket).send().await.unwrap();
    let policy: serde_json::Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    assert_eq!(
        policy_meaning(&policy),
        policy_meaning(&expected_log_bucket_policy(bucket))
    );
    let encryption = s3
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let rule = &encryption
        .server_side_encryption_configuration()
        .unwrap()
        .rules()[0];
    let default = rule.apply_server_side_encryption_by_default().unwrap();
    assert_eq!(default.kms_master_key_id(), Some(key_arn.as_str()));
    let block = s3
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let block = block.public_access_block_configuration().unwrap();
    assert_eq!(block.block_public_policy(), Some(true));
    assert_eq!(block.restrict_public_buckets(), Some(true));

    security_landed(moto, &id_of).await;
}

async fn security_landed(moto: &Moto, id_of: &dyn Fn(&str) -> String) {
    let audit = id_of("audit");
    let management = moto.sdk_config().await;
    let admins = aws_sdk_guardduty::Client::new(&management)
        .list_organization_admin_accounts()
        .send()
        .await
        .unwrap();
    let admins: Vec<&str> = admins
        .admin_accounts()
        .iter()
        .filter_map(|a| a.admin_account_id())
        .collect();
    assert_eq!(admins, [audit.as_str()]);
    let hub_admins = aws_sdk_securityhub::Client::new(&management)
        .list_organization_admin_accounts()
        .send()
        .await
        .unwrap();
    let hub_admins: Vec<&str> = hub_admins
        .admin_accounts()
        .iter()
        .filter_map(|a| a.account_id())
        .collect();
    assert_eq!(hub_admins, [audit.as_str()]);

    for name in [
        "log-archive",
        "audit",
        "network",
        "shared-services",
        "dev",
        "stg",
        "prod",
    ] {
        let member = moto.member_config(&id_of(name)).await;
        let detectors = aws_sdk_guardduty::Client::new(&member)
            .list_detectors()
            .send()
            .await
            .unwrap();
        assert_eq!(detectors.detector_ids().len(), 1, "one detector in {name}");
        let recorders = aws_sdk_config::Client::new(&member)
            .describe_configuration_recorders()
            .send()
            .await
            .unwrap();
        assert_eq!(
            recorders.configuration_recorders().len(),
            1,
            "a recorder in {name}"
        );
    }

    let gd = aws_sdk_guardduty::Client::new(&moto.member_config(&audit).await);
    let detector = gd.list_detectors().send().await.unwrap().detector_ids()[0].clone();
    let org = gd
        .describe_organization_configuration()
        .detector_id(detector)
        .send()
        .await
        .unwrap();
    assert_eq!(
        org.auto_enable_organization_members().map(|m| m.as_str()),
        Some("ALL")
    );
    let features: Vec<(&str, &str)> = org
        .features()
        .iter()
        .filter_map(|f| Some((f.name()?.as_str(), f.auto_enable()?.as_str())))
        .collect();
    assert_eq!(features, [("S3_DATA_EVENTS", "ALL")]);
}
