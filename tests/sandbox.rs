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

    // The refresh is batched: the IAM, EC2, Organizations and Identity Center listings grow with
    // accounts x regions, not with resources. Account guardrails have no bulk read in AWS (one
    // request per setting), nor have Identity Center's permission sets (three per permission set):
    // those are pinned exactly below. Entering a member account costs its AssumeRole and its
    // account-wide IAM read. Measured 2026-11-27: 46 requests for 92 resources (0.50) before the
    // guardrail, Identity Center and plan-role stacks, 103 for 142 (0.73) with the first two;
    // Terraform's AWS provider makes about 4.8 per resource.
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
        total > 0 && total * 4 <= resources * 3,
        "{total} requests for {resources} resources:\n{}",
        text(&plan)
    );
    for (operation, kind) in [
        ("GetEbsEncryptionByDefault", "ebs_encryption_by_default"),
        ("GetPublicAccessBlock", "s3_account_public_access_block"),
        ("GetAlternateContact", "account_alternate_contact"),
        ("ListManagedPoliciesInPermissionSet", "sso_permission_set"),
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
