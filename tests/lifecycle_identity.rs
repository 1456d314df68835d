//! The lifecycle of the identity and account guardrail kinds (see `tests/lifecycle.rs` for the shape):
//! create -> change in place -> replacement with a dependent following -> drift -> deletion outside ->
//! rename through `[[moved]]` -> `state rm` + import -> destroy, each step read back from the emulator
//! with the SDK, not from landfall's state.

mod common;

use common::project::Project;

/// What the emulator holds for the OIDC provider of `host`: (ARN, client ids, thumbprints, tags),
/// lists sorted.
async fn oidc_provider(
    p: &Project,
    host: &str,
) -> Option<(String, Vec<String>, Vec<String>, Vec<(String, String)>)> {
    let iam = p.iam().await;
    let list = iam.list_open_id_connect_providers().send().await.unwrap();
    let arn = list
        .open_id_connect_provider_list()
        .iter()
        .filter_map(|p| p.arn())
        .find(|arn| arn.ends_with(&format!("oidc-provider/{host}")))?
        .to_string();
    let out = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .unwrap();
    let sorted = |v: &[String]| {
        let mut v = v.to_vec();
        v.sort();
        v
    };
    let mut tags: Vec<(String, String)> = out
        .tags()
        .iter()
        .filter(|t| !t.key().starts_with("landfall:"))
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    tags.sort();
    Some((
        arn,
        sorted(out.client_id_list()),
        sorted(out.thumbprint_list()),
        tags,
    ))
}

/// The federated principal of the role's trust policy.
async fn trusted_provider(p: &Project, role: &str) -> String {
    let out = p
        .iam()
        .await
        .get_role()
        .role_name(role)
        .send()
        .await
        .unwrap();
    let text = out.role().unwrap().assume_role_policy_document().unwrap();
    let text = percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .unwrap()
        .to_string();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let statement = &doc["Statement"];
    let statement = statement.get(0).unwrap_or(statement);
    statement["Principal"]["Federated"]
        .as_str()
        .unwrap()
        .to_string()
}

const THUMB_A: &str = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280";
const THUMB_B: &str = "1c58a3a8518e8759bf075b76b750d4f2df264fcd";

const OIDC: &str = r#"
[iam_oidc_provider.ci]
url = "https://gitlab.example.com"
client_id_list = ["https://gitlab.example.com"]
thumbprint_list = ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"]
tags = { team = "platform" }

[iam_role.ci]
name = "ci"

[iam_role.ci.assume_role_policy]
Version = "2012-10-17"

[[iam_role.ci.assume_role_policy.Statement]]
Effect = "Allow"
Action = "sts:AssumeRoleWithWebIdentity"
Principal = { Federated = "${iam_oidc_provider.ci.arn}" }
"#;

#[tokio::test(flavor = "multi_thread")]
async fn oidc_provider_lifecycle() {
    let p = Project::new(OIDC);
    p.apply();
    p.expect_converged();
    let (arn, clients, thumbs, tags) = oidc_provider(&p, "gitlab.example.com").await.unwrap();
    assert_eq!(clients, ["https://gitlab.example.com"]);
    assert_eq!(thumbs, [THUMB_A]);
    assert_eq!(tags, [("team".to_string(), "platform".to_string())]);
    assert_eq!(trusted_provider(&p, "ci").await, arn);

    // In place: thumbprints and tags (client ids are changed in place too, through calls the
    // emulator lacks: see the README's lifecycle table).
    p.change(
        &[
            (THUMB_A, &format!("{THUMB_A}\", \"{THUMB_B}")),
            ("team = \"platform\"", "team = \"identity\""),
        ],
        &["~ main.iam_oidc_provider.ci"],
    );
    let (same, _, thumbs, tags) = oidc_provider(&p, "gitlab.example.com").await.unwrap();
    assert_eq!(same, arn, "changed in place");
    assert_eq!(thumbs, [THUMB_B, THUMB_A]);
    assert_eq!(tags, [("team".to_string(), "identity".to_string())]);

    // Replacement: a new URL is a new provider; the role's trust follows its ARN.
    p.change(
        &[(
            "url = \"https://gitlab.example.com\"",
            "url = \"https://ci.example.com\"",
        )],
        &["-/+ main.iam_oidc_provider.ci", "~ main.iam_role.ci"],
    );
    assert!(oidc_provider(&p, "gitlab.example.com").await.is_none());
    let (arn, ..) = oidc_provider(&p, "ci.example.com").await.unwrap();
    assert_eq!(trusted_provider(&p, "ci").await, arn);

    // Drift: a tag changed and a thumbprint dropped outside landfall are put back.
    let iam = p.iam().await;
    iam.tag_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("team")
                .value("drifted")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    iam.update_open_id_connect_provider_thumbprint()
        .open_id_connect_provider_arn(&arn)
        .thumbprint_list(THUMB_A)
        .send()
        .await
        .unwrap();
    p.expect_plan(&["~ main.iam_oidc_provider.ci"]);
    p.apply();
    p.expect_converged();
    let (_, _, thumbs, tags) = oidc_provider(&p, "ci.example.com").await.unwrap();
    assert_eq!(thumbs, [THUMB_B, THUMB_A]);
    assert_eq!(tags, [("team".to_string(), "identity".to_string())]);

    // Deleted outside: created again, and the role trusts the new one.
    iam.delete_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .unwrap();
    p.expect_plan(&["+ main.iam_oidc_provider.ci"]);
    p.apply();
    p.expect_converged();
    let (arn, ..) = oidc_provider(&p, "ci.example.com").await.unwrap();
    assert_eq!(trusted_provider(&p, "ci").await, arn);

    // Lost from state: the plan adopts it by its address tag instead of creating a second one.
    let rm = p.run(&["state", "rm", "--env", "test", "main.iam_oidc_provider.ci"]);
    common::cli::expect_code(&rm, 0);
    let plan = p.expect_plan(&["main.iam_oidc_provider.ci"]);
    assert!(!plan.contains("+ main.iam_oidc_provider.ci"), "{plan}");
    p.apply();
    p.expect_converged();

    p.rename_through_moved("iam_oidc_provider", "ci");
    p.expect_plan(&["has moved to"]);
    p.apply();
    p.expect_converged();
    assert_eq!(oidc_provider(&p, "ci.example.com").await.unwrap().0, arn);

    p.reimport("main.iam_oidc_provider.ci_renamed", &arn);

    p.destroy(&[]);
    assert!(oidc_provider(&p, "ci.example.com").await.is_none());
}

// ---- Account guardrails ------------------------------------------------------------------------------

/// The emulator's account (the caller's own).
const ACCOUNT: &str = "123456789012";

/// What the emulator holds: EBS encryption by default, the account's public access block (four flags,
/// `None` without one) and the security and operations contacts' names.
async fn guardrails(p: &Project) -> (bool, Option<[bool; 4]>, Option<String>, Option<String>) {
    let ebs = p
        .ec2()
        .await
        .get_ebs_encryption_by_default()
        .send()
        .await
        .unwrap();
    // S3 Control through landfall's client (its endpoint resolver reaches a custom endpoint), but a
    // fresh request, not landfall's state.
    let s3 = p
        .moto
        .aws()
        .await
        .s3control(None, "eu-west-1")
        .await
        .unwrap();
    let block = s3
        .get_public_access_block()
        .account_id(ACCOUNT)
        .send()
        .await
        .ok();
    let block = block
        .as_ref()
        .and_then(|b| b.public_access_block_configuration())
        .map(|b| {
            [
                b.block_public_acls().unwrap_or(false),
                b.ignore_public_acls().unwrap_or(false),
                b.block_public_policy().unwrap_or(false),
                b.restrict_public_buckets().unwrap_or(false),
            ]
        });
    let account = aws_sdk_account::Client::new(&p.moto.sdk_config().await);
    let contact = |kind: &'static str| {
        let account = account.clone();
        async move {
            let out = account
                .get_alternate_contact()
                .alternate_contact_type(kind.into())
                .send()
                .await
                .ok()?;
            out.alternate_contact()?.name().map(str::to_string)
        }
    };
    (
        ebs.ebs_encryption_by_default().unwrap_or(false),
        block,
        contact("SECURITY").await,
        contact("OPERATIONS").await,
    )
}

const GUARDRAILS: &str = r#"
[ebs_encryption_by_default.main]
enabled = true

[s3_account_public_access_block.main]
restrict_public_buckets = true

[account_alternate_contact.security]
contact_type = "SECURITY"
name = "Security operations"
title = "On-call"
email_address = "security@example.com"
phone_number = "+1 555 0100"
"#;

/// One per account (and region, for EBS encryption); the contact type is the only attribute forcing
/// a replacement (no dependents).
#[tokio::test(flavor = "multi_thread")]
async fn guardrails_lifecycle() {
    let p = Project::new(GUARDRAILS);
    assert_eq!(guardrails(&p).await, (false, None, None, None));
    p.apply();
    p.expect_converged();
    let sec = Some("Security operations".to_string());
    assert_eq!(
        guardrails(&p).await,
        (true, Some([true; 4]), sec.clone(), None)
    );

    p.change(
        &[
            ("enabled = true", "enabled = false"),
            (
                "restrict_public_buckets = true",
                "restrict_public_buckets = false",
            ),
            ("On-call", "Incident lead"),
        ],
        &[
            "~ main.ebs_encryption_by_default.main",
            "~ main.s3_account_public_access_block.main",
            "~ main.account_alternate_contact.security",
        ],
    );
    let flags = Some([true, true, true, false]);
    assert_eq!(guardrails(&p).await, (false, flags, sec.clone(), None));

    // Replacement: another contact type is another contact.
    p.change(
        &[("\"SECURITY\"", "\"OPERATIONS\"")],
        &["-/+ main.account_alternate_contact.security"],
    );
    assert_eq!(guardrails(&p).await, (false, flags, None, sec.clone()));

    // Drift: each setting changed outside landfall is put back.
    p.ec2()
        .await
        .enable_ebs_encryption_by_default()
        .send()
        .await
        .unwrap();
    let s3 = p
        .moto
        .aws()
        .await
        .s3control(None, "eu-west-1")
        .await
        .unwrap();
    let open = aws_sdk_s3control::types::PublicAccessBlockConfiguration::builder()
        .block_public_acls(false)
        .build();
    s3.put_public_access_block()
        .account_id(ACCOUNT)
        .public_access_block_configuration(open)
        .send()
        .await
        .unwrap();
    let account = aws_sdk_account::Client::new(&p.moto.sdk_config().await);
    account
        .put_alternate_contact()
        .alternate_contact_type("OPERATIONS".into())
        .name("Someone else")
        .title("t")
        .email_address("x@example.com")
        .phone_number("1")
        .send()
        .await
        .unwrap();
    p.expect_plan(&[
        "~ main.ebs_encryption_by_default.main",
        "~ main.s3_account_public_access_block.main",
        "~ main.account_alternate_contact.security",
    ]);
    p.apply();
    p.expect_converged();
    assert_eq!(guardrails(&p).await, (false, flags, None, sec.clone()));

    // Deleted outside: set again.
    s3.delete_public_access_block()
        .account_id(ACCOUNT)
        .send()
        .await
        .unwrap();
    account
        .delete_alternate_contact()
        .alternate_contact_type("OPERATIONS".into())
        .send()
        .await
        .unwrap();
    p.expect_plan(&[
        "+ main.s3_account_public_access_block.main",
        "+ main.account_alternate_contact.security",
    ]);
    p.apply();
    p.expect_converged();
    assert_eq!(guardrails(&p).await, (false, flags, None, sec.clone()));

    for (kind, name) in [
        ("ebs_encryption_by_default", "main"),
        ("s3_account_public_access_block", "main"),
        ("account_alternate_contact", "security"),
    ] {
        p.rename_through_moved(kind, name);
    }
    p.expect_plan(&["has moved to"]);
    p.apply();
    p.expect_converged();

    for address in [
        "main.ebs_encryption_by_default.main_renamed",
        "main.s3_account_public_access_block.main_renamed",
        "main.account_alternate_contact.security_renamed",
    ] {
        p.reimport(address, &p.id(address));
    }

    // Destroy puts AWS's defaults back: no encryption by default, no account block, no contact.
    p.destroy(&[]);
    assert_eq!(guardrails(&p).await, (false, None, None, None));
}

// ---- IAM Identity Center ------------------------------------------------------------------------------

/// The emulator's one Identity Center instance: (instance ARN, Identity Store id).
async fn sso_instance(p: &Project) -> (String, String) {
    let sso = aws_sdk_ssoadmin::Client::new(&p.moto.sdk_config().await);
    let out = sso.list_instances().send().await.unwrap();
    let i = &out.instances()[0];
    (
        i.instance_arn().unwrap().to_string(),
        i.identity_store_id().unwrap().to_string(),
    )
}

/// The Identity Store's groups: (display name, id), sorted.
async fn sso_groups(p: &Project) -> Vec<(String, String)> {
    let (_, store) = sso_instance(p).await;
    let client = aws_sdk_identitystore::Client::new(&p.moto.sdk_config().await);
    let out = client
        .list_groups()
        .identity_store_id(store)
        .send()
        .await
        .unwrap();
    let mut groups: Vec<(String, String)> = out
        .groups()
        .iter()
        .map(|g| {
            (
                g.display_name().unwrap_or_default().to_string(),
                g.group_id().to_string(),
            )
        })
        .collect();
    groups.sort();
    groups
}

/// A permission set as the emulator holds it.
#[derive(Debug, PartialEq)]
struct PermissionSet {
    arn: String,
    session: String,
    managed: Vec<String>,
    customer: Vec<String>,
    inline: serde_json::Value,
}

/// The permission set named `name`, if there is one.
async fn permission_set(p: &Project, name: &str) -> Option<PermissionSet> {
    let (instance, _) = sso_instance(p).await;
    let sso = aws_sdk_ssoadmin::Client::new(&p.moto.sdk_config().await);
    let sets = sso
        .list_permission_sets()
        .instance_arn(&instance)
        .send()
        .await
        .unwrap();
    for arn in sets.permission_sets() {
        let d = sso
            .describe_permission_set()
            .instance_arn(&instance)
            .permission_set_arn(arn)
            .send()
            .await
            .unwrap();
        let set = d.permission_set().unwrap();
        if set.name() != Some(name) {
            continue;
        }
        let managed = sso
            .list_managed_policies_in_permission_set()
            .instance_arn(&instance)
            .permission_set_arn(arn)
            .send()
            .await
            .unwrap();
        let customer = sso
            .list_customer_managed_policy_references_in_permission_set()
            .instance_arn(&instance)
            .permission_set_arn(arn)
            .send()
            .await
            .unwrap();
        let inline = sso
            .get_inline_policy_for_permission_set()
            .instance_arn(&instance)
            .permission_set_arn(arn)
            .send()
            .await
            .unwrap();
        let mut managed: Vec<String> = managed
            .attached_managed_policies()
            .iter()
            .filter_map(|m| m.arn().map(str::to_string))
            .collect();
        managed.sort();
        return Some(PermissionSet {
            arn: arn.clone(),
            session: set.session_duration().unwrap_or_default().to_string(),
            managed,
            customer: customer
                .customer_managed_policy_references()
                .iter()
                .map(|r| r.name().to_string())
                .collect(),
            inline: serde_json::from_str(
                inline
                    .inline_policy()
                    .filter(|s| !s.is_empty())
                    .unwrap_or("null"),
            )
            .unwrap(),
        });
    }
    None
}

/// The (account, permission set) pairs assigned to a group.
async fn assignments(p: &Project, group: &str) -> Vec<(String, String)> {
    let (instance, _) = sso_instance(p).await;
    let sso = aws_sdk_ssoadmin::Client::new(&p.moto.sdk_config().await);
    let out = sso
        .list_account_assignments_for_principal()
        .instance_arn(instance)
        .principal_type(aws_sdk_ssoadmin::types::PrincipalType::Group)
        .principal_id(group)
        .send()
        .await
        .unwrap();
    out.account_assignments()
        .iter()
        .map(|a| {
            (
                a.account_id().unwrap().to_string(),
                a.permission_set_arn().unwrap().to_string(),
            )
        })
        .collect()
}

const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const POWER_USER: &str = "arn:aws:iam::aws:policy/PowerUserAccess";

const SSO: &str = r#"
[identitystore_group.devs]
display_name = "developers"
description = "Developers"

[sso_permission_set.dev]
name = "Developer"
description = "Builds applications"
session_duration = "PT2H"
managed_policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
customer_managed_policies = [{ name = "app-boundary" }]
tags = { team = "platform" }
inline_policy = { Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = ["s3:ListBucket"], Resource = "*" }] }

[sso_account_assignment.devs]
permission_set_arn = "${sso_permission_set.dev.arn}"
principal_id = "${identitystore_group.devs.id}"
account_id = "123456789012"
"#;

#[tokio::test(flavor = "multi_thread")]
async fn identity_center_lifecycle() {
    let p = Project::new(SSO);
    p.apply();
    p.expect_converged();
    let set = permission_set(&p, "Developer").await.unwrap();
    assert_eq!(set.session, "PT2H");
    assert_eq!(set.managed, [READ_ONLY]);
    assert_eq!(set.customer, ["app-boundary"]);
    assert_eq!(set.inline["Statement"][0]["Action"][0], "s3:ListBucket");
    let groups = sso_groups(&p).await;
    assert_eq!(groups.len(), 1);
    let (name, group) = groups[0].clone();
    assert_eq!(name, "developers");
    assert_eq!(
        assignments(&p, &group).await,
        [(ACCOUNT.to_string(), set.arn.clone())]
    );

    // In place: session, managed policies and the inline policy; the assignment stays.
    p.change(
        &[
            ("PT2H", "PT4H"),
            (
                "[\"arn:aws:iam::aws:policy/ReadOnlyAccess\"]",
                "[\"arn:aws:iam::aws:policy/PowerUserAccess\"]",
            ),
            ("s3:ListBucket", "s3:GetObject"),
        ],
        &["~ main.sso_permission_set.dev"],
    );
    let changed = permission_set(&p, "Developer").await.unwrap();
    assert_eq!(changed.arn, set.arn, "changed in place");
    assert_eq!(
        (changed.session.as_str(), changed.managed.clone()),
        ("PT4H", vec![POWER_USER.to_string()])
    );
    assert_eq!(changed.inline["Statement"][0]["Action"][0], "s3:GetObject");

    // The same inline policy written another way (a string for a one-element list, keys reordered)
    // is no change.
    p.edit(&[(
        "Statement = [{ Effect = \"Allow\", Action = [\"s3:GetObject\"], Resource = \"*\" }]",
        "Statement = { Resource = [\"*\"], Action = \"s3:GetObject\", Effect = \"Allow\" }",
    )]);
    p.expect_converged();

    // Replacement: a group renamed is a new group, and the assignment follows it.
    p.change(
        &[("\"developers\"", "\"engineers\"")],
        &[
            "-/+ main.identitystore_group.devs",
            "-/+ main.sso_account_assignment.devs",
        ],
    );
    let groups = sso_groups(&p).await;
    assert_eq!(groups.len(), 1);
    let (name, group) = groups[0].clone();
    assert_eq!(name, "engineers");
    assert_eq!(
        assignments(&p, &group).await,
        [(ACCOUNT.to_string(), set.arn.clone())]
    );

    // Drift: a managed policy swapped and the inline policy removed outside landfall are put back.
    let (instance, _) = sso_instance(&p).await;
    let sso = aws_sdk_ssoadmin::Client::new(&p.moto.sdk_config().await);
    sso.detach_managed_policy_from_permission_set()
        .instance_arn(&instance)
        .permission_set_arn(&set.arn)
        .managed_policy_arn(POWER_USER)
        .send()
        .await
        .unwrap();
    sso.delete_inline_policy_from_permission_set()
        .instance_arn(&instance)
        .permission_set_arn(&set.arn)
        .send()
        .await
        .unwrap();
    p.expect_plan(&["~ main.sso_permission_set.dev"]);
    p.apply();
    p.expect_converged();
    let restored = permission_set(&p, "Developer").await.unwrap();
    assert_eq!(restored.managed, [POWER_USER]);
    assert_eq!(restored.inline["Statement"]["Action"], "s3:GetObject");

    // Deleted outside: the assignment is made again.
    let delete = sso
        .delete_account_assignment()
        .instance_arn(&instance)
        .target_id(ACCOUNT)
        .target_type(aws_sdk_ssoadmin::types::TargetType::AwsAccount)
        .permission_set_arn(&set.arn)
        .principal_type(aws_sdk_ssoadmin::types::PrincipalType::Group)
        .principal_id(&group);
    delete.send().await.unwrap();
    assert!(assignments(&p, &group).await.is_empty());
    p.expect_plan(&["+ main.sso_account_assignment.devs"]);
    p.apply();
    p.expect_converged();
    assert_eq!(assignments(&p, &group).await.len(), 1);

    // Lost from state: the group and the permission set are recognised by their unique names and
    // imported, not created again.
    for address in [
        "main.identitystore_group.devs",
        "main.sso_permission_set.dev",
    ] {
        let rm = p.run(&["state", "rm", "--env", "test", address]);
        common::cli::expect_code(&rm, 0);
    }
    let plan = p.expect_plan(&["main.sso_permission_set.dev"]);
    assert!(!plan.contains("+ main.sso_permission_set.dev"), "{plan}");
    assert!(!plan.contains("+ main.identitystore_group.devs"), "{plan}");
    p.apply();
    p.expect_converged();
    assert_eq!(sso_groups(&p).await.len(), 1);

    for (kind, name) in [
        ("identitystore_group", "devs"),
        ("sso_permission_set", "dev"),
        ("sso_account_assignment", "devs"),
    ] {
        p.rename_through_moved(kind, name);
    }
    p.expect_plan(&["has moved to"]);
    p.apply();
    p.expect_converged();

    p.reimport("main.identitystore_group.devs_renamed", &group);
    p.reimport("main.sso_permission_set.dev_renamed", &set.arn);
    let assignment = p.id("main.sso_account_assignment.devs_renamed");
    p.reimport("main.sso_account_assignment.devs_renamed", &assignment);

    p.destroy(&[]);
    assert!(sso_groups(&p).await.is_empty());
    assert!(permission_set(&p, "Developer").await.is_none());
    assert!(assignments(&p, &group).await.is_empty());
}
