//! The lifecycle of the Organizations kinds, the account-wide IAM settings and the default VPC, in the
//! spirit of the Terraform provider acceptance tests (see `tests/lifecycle.rs` for the EC2 and IAM
//! kinds): create -> change in place -> change that forces replacement (a dependent must follow the new
//! id) -> drift made outside landfall (plan shows it, apply reverts it) -> deletion outside (plan
//! recreates it) -> `state rm` + `import ADDR ID` (no change) -> destroy (nothing left, or forgotten
//! where the README says destroy forgets). Each step is read back from the emulator with the SDK.
//!
//! Also the rename of every one of the 18 kinds through a `[[moved]]` entry: the plan shows the
//! moves, apply writes nothing to AWS, ids stay, and the next plan is empty.

mod common;

use common::cli::{expect_code, requests, text};
use common::project::Project;
use std::process::Output;

/// The organization's enabled policy types (by root) and trusted services, sorted.
async fn org_settings(p: &Project) -> (Vec<String>, Vec<String>) {
    let org = p.org().await;
    let roots = org.list_roots().send().await.unwrap();
    let mut types: Vec<String> = roots.roots()[0]
        .policy_types()
        .iter()
        .filter(|t| t.status().is_some_and(|s| s.as_str() == "ENABLED"))
        .filter_map(|t| t.r#type().map(|t| t.as_str().to_string()))
        .collect();
    types.sort();
    let trusted = org
        .list_aws_service_access_for_organization()
        .send()
        .await
        .unwrap();
    let mut services: Vec<String> = trusted
        .enabled_service_principals()
        .iter()
        .filter_map(|s| s.service_principal().map(String::from))
        .collect();
    services.sort();
    (types, services)
}

/// The organization's id, or None when there is none.
async fn org_id(p: &Project) -> Option<String> {
    let out = p.org().await.describe_organization().send().await.ok()?;
    out.organization()?.id().map(String::from)
}

const ORGANIZATION: &str = r#"
[organization.main]
enabled_policy_types = ["SERVICE_CONTROL_POLICY"]
aws_service_access_principals = []
"#;

/// `feature_set` is the organization's only attribute that forces replacement; replacing an
/// organization (deleting it with every account in it) is not a step landfall should take lightly,
/// and AWS only turns consolidated billing into all features, so the replacement step is n.a. here.
#[tokio::test(flavor = "multi_thread")]
async fn organization_lifecycle() {
    let p = Project::new(ORGANIZATION);
    p.apply();
    p.expect_converged();
    let id = org_id(&p).await.expect("an organization");
    assert_eq!(p.id("main.organization.main"), id);
    assert_eq!(
        org_settings(&p).await,
        (vec!["SERVICE_CONTROL_POLICY".to_string()], vec![])
    );

    p.change(
        &[
            (
                "[\"SERVICE_CONTROL_POLICY\"]",
                "[\"SERVICE_CONTROL_POLICY\", \"TAG_POLICY\"]",
            ),
            (
                "aws_service_access_principals = []",
                "aws_service_access_principals = [\"sso.amazonaws.com\"]",
            ),
        ],
        &["~ main.organization.main"],
    );
    let both = (
        vec![
            "SERVICE_CONTROL_POLICY".to_string(),
            "TAG_POLICY".to_string(),
        ],
        vec!["sso.amazonaws.com".to_string()],
    );
    assert_eq!(org_settings(&p).await, both);
    assert_eq!(org_id(&p).await.as_deref(), Some(id.as_str()), "in place");

    // Drift: a policy type disabled and trusted access removed outside landfall come back.
    let org = p.org().await;
    let root = org.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_string();
    org.disable_policy_type()
        .root_id(&root)
        .policy_type(aws_sdk_organizations::types::PolicyType::TagPolicy)
        .send()
        .await
        .unwrap();
    org.disable_aws_service_access()
        .service_principal("sso.amazonaws.com")
        .send()
        .await
        .unwrap();
    p.expect_plan(&["~ main.organization.main"]);
    p.apply();
    p.expect_converged();
    assert_eq!(org_settings(&p).await, both);

    // Deleted outside: created again, with its settings.
    org.delete_organization().send().await.unwrap();
    p.expect_plan(&["+ main.organization.main"]);
    p.apply();
    p.expect_converged();
    let id = org_id(&p).await.expect("a new organization");
    assert_eq!(org_settings(&p).await, both);

    p.reimport("main.organization.main", &id);
    assert_eq!(org_id(&p).await.as_deref(), Some(id.as_str()));

    p.destroy(&[]);
    assert_eq!(org_id(&p).await, None, "the organization is deleted");
}

/// The parent of an OU or account.
async fn parent(p: &Project, child: &str) -> String {
    let out = p
        .org()
        .await
        .list_parents()
        .child_id(child)
        .send()
        .await
        .unwrap();
    out.parents()[0].id().unwrap().to_string()
}

/// The OU's name, or None when it does not exist.
async fn ou_name(p: &Project, id: &str) -> Option<String> {
    let out = p
        .org()
        .await
        .describe_organizational_unit()
        .organizational_unit_id(id)
        .send()
        .await
        .ok()?;
    out.organizational_unit()?.name().map(String::from)
}

/// The OUs directly under `parent`: (id, name).
async fn ous_under(p: &Project, parent: &str) -> Vec<(String, String)> {
    let out = p
        .org()
        .await
        .list_organizational_units_for_parent()
        .parent_id(parent)
        .send()
        .await
        .unwrap();
    out.organizational_units()
        .iter()
        .map(|o| (o.id().unwrap().into(), o.name().unwrap().into()))
        .collect()
}

async fn root(p: &Project) -> String {
    let out = p.org().await.list_roots().send().await.unwrap();
    out.roots()[0].id().unwrap().to_string()
}

const OUS: &str = r#"
[organization.main]

[organizational_unit.work]
name = "Work"
parent_id = "${organization.main.root_id}"

[organizational_unit.other]
name = "Other"
parent_id = "${organization.main.root_id}"

[organizational_unit.team]
name = "Team"
parent_id = "${organizational_unit.work.id}"

[account.dev]
name = "dev"
email = "aws+dev@example.com"
parent_id = "${organizational_unit.work.id}"
"#;

#[tokio::test(flavor = "multi_thread")]
async fn organizational_unit_lifecycle() {
    let p = Project::new(OUS);
    p.apply();
    p.expect_converged();
    let root = root(&p).await;
    let work = p.id("main.organizational_unit.work");
    let team = p.id("main.organizational_unit.team");
    let dev = p.id("main.account.dev");
    assert_eq!(parent(&p, &work).await, root);
    assert_eq!(parent(&p, &team).await, work);
    assert_eq!(parent(&p, &dev).await, work);
    assert_eq!(ou_name(&p, &work).await.as_deref(), Some("Work"));

    p.change(
        &[("\"Work\"", "\"Workloads\"")],
        &["~ main.organizational_unit.work"],
    );
    assert_eq!(ou_name(&p, &work).await.as_deref(), Some("Workloads"));
    assert_eq!(p.id("main.organizational_unit.work"), work, "in place");

    // A new parent replaces the OU: the child OU is replaced under the new one, the account moves.
    p.change(
        &[(
            "name = \"Workloads\"\nparent_id = \"${organization.main.root_id}\"",
            "name = \"Workloads\"\nparent_id = \"${organizational_unit.other.id}\"",
        )],
        &[
            "-/+ main.organizational_unit.work",
            "-/+ main.organizational_unit.team",
            "~ main.account.dev",
        ],
    );
    let other = p.id("main.organizational_unit.other");
    let new_work = p.id("main.organizational_unit.work");
    assert_ne!(new_work, work);
    assert_eq!(ou_name(&p, &work).await, None, "the old OU is deleted");
    assert_eq!(parent(&p, &new_work).await, other);
    let new_team = p.id("main.organizational_unit.team");
    assert_ne!(new_team, team);
    assert_eq!(
        ou_name(&p, &team).await,
        None,
        "the old child OU is deleted"
    );
    assert_eq!(
        parent(&p, &new_team).await,
        new_work,
        "the child OU follows"
    );
    assert_eq!(parent(&p, &dev).await, new_work, "the account follows");
    assert_eq!(
        p.id("main.account.dev"),
        dev,
        "an account is moved, never replaced"
    );
    assert_eq!(
        ous_under(&p, &root).await,
        vec![(other.clone(), "Other".to_string())]
    );

    // Drift: a name changed outside landfall is changed back.
    let org = p.org().await;
    org.update_organizational_unit()
        .organizational_unit_id(&new_work)
        .name("Hacked")
        .send()
        .await
        .unwrap();
    p.expect_plan(&["~ main.organizational_unit.work"]);
    p.apply();
    p.expect_converged();
    assert_eq!(ou_name(&p, &new_work).await.as_deref(), Some("Workloads"));

    // Deleted outside: created again under its parent.
    org.delete_organizational_unit()
        .organizational_unit_id(&new_team)
        .send()
        .await
        .unwrap();
    p.expect_plan(&["+ main.organizational_unit.team"]);
    p.apply();
    p.expect_converged();
    let team = p.id("main.organizational_unit.team");
    assert_eq!(
        ous_under(&p, &new_work).await,
        vec![(team.clone(), "Team".to_string())]
    );

    p.reimport("main.organizational_unit.team", &team);
    p.reimport("main.organizational_unit.work", &new_work);

    // Destroy: the account is kept (forgotten, no close_on_destroy), so is the OU holding it and the
    // organization; what holds nothing is deleted.
    let out = p.destroy(&[]);
    let said = text(&out);
    assert_eq!(ou_name(&p, &team).await, None, "{said}");
    assert_eq!(parent(&p, &dev).await, new_work, "{said}");
}

/// Regression: an OU that holds an account and gets a new parent was replaced delete-first, and AWS
/// refused to delete it (OrganizationalUnitNotEmptyException) before the account could move to the new
/// one. The new OU is now created first, the account moves, and the old OU is deleted last.
#[tokio::test(flavor = "multi_thread")]
async fn an_ou_holding_an_account_is_replaced_new_one_first() {
    let p = Project::new(OUS);
    p.apply();
    let (work, dev) = (
        p.id("main.organizational_unit.work"),
        p.id("main.account.dev"),
    );
    p.edit(&[(
        "name = \"Work\"\nparent_id = \"${organization.main.root_id}\"",
        "name = \"Work\"\nparent_id = \"${organizational_unit.other.id}\"",
    )]);
    let plan = p.expect_plan(&["-/+ main.organizational_unit.work"]);
    assert!(
        plan.contains("create the new one, then delete the old"),
        "{plan}"
    );
    p.apply();
    p.expect_converged();
    let new_work = p.id("main.organizational_unit.work");
    assert_eq!(ou_name(&p, &work).await, None, "the old OU is deleted");
    assert_eq!(parent(&p, &dev).await, new_work);
    assert_eq!(
        parent(&p, &new_work).await,
        p.id("main.organizational_unit.other")
    );
}

/// The account's (status, parent), or None when the organization does not list it.
async fn account(p: &Project, id: &str) -> Option<(String, String)> {
    let org = p.org().await;
    let out = org.describe_account().account_id(id).send().await.ok()?;
    let status = out.account()?.status()?.as_str().to_string();
    Some((status, parent(p, id).await))
}

const ACCOUNTS: &str = r#"
[organization.main]

[organizational_unit.a]
name = "A"
parent_id = "${organization.main.root_id}"

[organizational_unit.b]
name = "B"
parent_id = "${organization.main.root_id}"

[account.dev]
name = "dev"
email = "aws+dev@example.com"
parent_id = "${organizational_unit.a.id}"
close_on_destroy = true

[iam_role.deployer]
account = "${account.dev.id}"
name = "deployer"
assume_role_policy = { Version = "2012-10-17", Statement = [{ Effect = "Allow", Principal = { Service = "ec2.amazonaws.com" }, Action = "sts:AssumeRole" }] }
"#;

/// An account has no attribute that forces replacement (a new name or email is refused; a new parent is
/// a move), so the replacement step is n.a.: the role inside it is the dependent that must keep working.
#[tokio::test(flavor = "multi_thread")]
async fn account_lifecycle() {
    let p = Project::new(ACCOUNTS);
    p.apply();
    p.expect_converged();
    let dev = p.id("main.account.dev");
    let (a, b) = (
        p.id("main.organizational_unit.a"),
        p.id("main.organizational_unit.b"),
    );
    assert_eq!(account(&p, &dev).await, Some(("ACTIVE".into(), a.clone())));
    let member = aws_sdk_iam::Client::new(&p.moto.member_config(&dev).await);
    assert!(member.get_role().role_name("deployer").send().await.is_ok());

    // A new name or email is refused at plan time, with where to change it instead.
    for (from, to, attr) in [
        ("name = \"dev\"", "name = \"development\"", "name"),
        ("aws+dev@", "aws+development@", "email"),
    ] {
        p.edit(&[(from, to)]);
        let out = p.run(&["plan", "--env", "test"]);
        expect_code(&out, 1);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("cannot change an account's {attr}"))
                && stderr.contains("Account settings"),
            "{stderr}"
        );
        p.edit(&[(to, from)]);
    }
    p.expect_converged();

    // A new parent moves the account in place.
    p.change(
        &[(
            "parent_id = \"${organizational_unit.a.id}\"\nclose",
            "parent_id = \"${organizational_unit.b.id}\"\nclose",
        )],
        &["~ main.account.dev"],
    );
    assert_eq!(account(&p, &dev).await, Some(("ACTIVE".into(), b.clone())));
    assert_eq!(p.id("main.account.dev"), dev);

    // Drift: moved back outside landfall; apply moves it again.
    let org = p.org().await;
    org.move_account()
        .account_id(&dev)
        .source_parent_id(&b)
        .destination_parent_id(&a)
        .send()
        .await
        .unwrap();
    p.expect_plan(&["~ main.account.dev"]);
    p.apply();
    p.expect_converged();
    assert_eq!(account(&p, &dev).await, Some(("ACTIVE".into(), b.clone())));

    p.reimport("main.account.dev", &dev);

    // Removed from the organization outside landfall: the plan creates it again. (AWS would answer
    // that CreateAccount with EMAIL_ALREADY_EXISTS, which landfall reports with the import command;
    // the emulator creates a second account with the same email, so that path is emulator-limited.)
    org.remove_account_from_organization()
        .account_id(&dev)
        .send()
        .await
        .unwrap();
    p.expect_plan(&["+ main.account.dev", "deleted outside landfall"]);
    p.apply();
    p.expect_converged();
    let dev = p.id("main.account.dev");
    assert_eq!(account(&p, &dev).await, Some(("ACTIVE".into(), b.clone())));
    let member = aws_sdk_iam::Client::new(&p.moto.member_config(&dev).await);
    assert!(
        member.get_role().role_name("deployer").send().await.is_ok(),
        "the role follows into the new account"
    );

    // Destroy without --allow-account-closure forgets the account (and keeps the OU holding it);
    // with it, and close_on_destroy, the account is closed.
    let out = p.destroy(&[]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("main.account.dev"),
        "{}",
        text(&out)
    );
    assert_eq!(account(&p, &dev).await, Some(("ACTIVE".into(), b.clone())));
    assert!(
        member
            .get_role()
            .role_name("deployer")
            .send()
            .await
            .is_err()
    );
    let org_id = org_id(&p).await.expect("kept with the account in it");
    for (address, id) in [
        ("main.organization.main", org_id.as_str()),
        ("main.organizational_unit.b", &b),
        ("main.account.dev", &dev),
    ] {
        expect_code(&p.run(&["import", "--env", "test", address, id]), 0);
    }
    p.destroy(&["--allow-account-closure"]);
    assert_eq!(account(&p, &dev).await.unwrap().0, "SUSPENDED");
}

/// Regression: a new account name or email was planned as an update in place (exit 2, "1 to change")
/// and failed only half-way through the apply, with guidance naming a `landfall refresh` command that
/// does not exist. The plan is now refused, and apply changes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn account_rename_is_refused_at_plan_time() {
    let p = Project::new(ACCOUNTS.split("[iam_role").next().unwrap());
    p.apply();
    p.edit(&[("name = \"dev\"", "name = \"development\"")]);
    let out = p.run(&["apply", "--env", "test", "--auto-approve", "--stats"]);
    expect_code(&out, 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot change an account's name (dev -> development)"),
        "{stderr}"
    );
    assert!(!stderr.contains("landfall refresh"), "{stderr}");
    assert_eq!(
        requests(&out, "MoveAccount") + requests(&out, "TagResource"),
        0
    );
}

/// The policy's (type, description, content), or None when it does not exist.
async fn policy(p: &Project, id: &str) -> Option<(String, String, serde_json::Value)> {
    let out = p
        .org()
        .await
        .describe_policy()
        .policy_id(id)
        .send()
        .await
        .ok()?;
    let policy = out.policy()?;
    let summary = policy.policy_summary()?;
    Some((
        summary.r#type()?.as_str().to_string(),
        summary.description().unwrap_or_default().to_string(),
        serde_json::from_str(policy.content()?).unwrap(),
    ))
}

/// The targets a policy is attached to.
async fn targets(p: &Project, policy: &str) -> Vec<String> {
    let out = p
        .org()
        .await
        .list_targets_for_policy()
        .policy_id(policy)
        .send()
        .await
        .unwrap();
    out.targets()
        .iter()
        .filter_map(|t| t.target_id().map(String::from))
        .collect()
}

/// The delegated administrators of `service`.
async fn delegated(p: &Project, service: &str) -> Vec<String> {
    let out = p
        .org()
        .await
        .list_delegated_administrators()
        .service_principal(service)
        .send()
        .await
        .unwrap();
    out.delegated_administrators()
        .iter()
        .filter_map(|a| a.id().map(String::from))
        .collect()
}

const POLICIES: &str = r#"
[organization.main]
enabled_policy_types = ["SERVICE_CONTROL_POLICY", "TAG_POLICY"]
aws_service_access_principals = ["guardduty.amazonaws.com"]

[organizational_unit.work]
name = "Work"
parent_id = "${organization.main.root_id}"

[account.dev]
name = "dev"
email = "aws+dev@example.com"
parent_id = "${organizational_unit.work.id}"

[account.sec]
name = "sec"
email = "aws+sec@example.com"
parent_id = "${organizational_unit.work.id}"

[policy.guard]
name = "guard"
description = "guard rails"
type = "SERVICE_CONTROL_POLICY"
content = { Version = "2012-10-17", Statement = [{ Effect = "Deny", Action = "organizations:LeaveOrganization", Resource = "*" }] }

[policy_attachment.guard]
policy_id = "${policy.guard.id}"
target_id = "${organizational_unit.work.id}"

[delegated_administrator.guardduty]
account_id = "${account.dev.id}"
service_principal = "guardduty.amazonaws.com"
"#;

#[tokio::test(flavor = "multi_thread")]
async fn policy_attachment_and_delegated_administrator_lifecycle() {
    let p = Project::new(POLICIES);
    p.apply();
    p.expect_converged();
    let work = p.id("main.organizational_unit.work");
    let (dev, sec) = (p.id("main.account.dev"), p.id("main.account.sec"));
    let guard = p.id("main.policy.guard");
    let (kind, description, content) = policy(&p, &guard).await.unwrap();
    assert_eq!(
        (kind.as_str(), description.as_str()),
        ("SERVICE_CONTROL_POLICY", "guard rails")
    );
    assert_eq!(
        content["Statement"][0]["Action"],
        "organizations:LeaveOrganization"
    );
    assert_eq!(targets(&p, &guard).await, vec![work.clone()]);
    assert_eq!(
        delegated(&p, "guardduty.amazonaws.com").await,
        vec![dev.clone()]
    );

    // In place: content and description.
    p.change(
        &[
            ("organizations:LeaveOrganization", "account:CloseAccount"),
            ("\"guard rails\"", "\"the guard rails\""),
        ],
        &["~ main.policy.guard"],
    );
    let (_, description, content) = policy(&p, &guard).await.unwrap();
    assert_eq!(description, "the guard rails");
    assert_eq!(content["Statement"][0]["Action"], "account:CloseAccount");
    assert_eq!(p.id("main.policy.guard"), guard, "in place");

    // Replacement: the type. The attachment follows the new policy.
    p.change(
        &[("type = \"SERVICE_CONTROL_POLICY\"", "type = \"TAG_POLICY\"")],
        &["-/+ main.policy.guard", "-/+ main.policy_attachment.guard"],
    );
    let new = p.id("main.policy.guard");
    assert_ne!(new, guard);
    assert_eq!(policy(&p, &guard).await, None, "the old policy is deleted");
    assert_eq!(policy(&p, &new).await.unwrap().0, "TAG_POLICY");
    assert_eq!(
        targets(&p, &new).await,
        vec![work.clone()],
        "the attachment follows"
    );
    let guard = new;

    // Replacement of a delegated administrator: another account.
    p.change(
        &[(
            "account_id = \"${account.dev.id}\"",
            "account_id = \"${account.sec.id}\"",
        )],
        &["-/+ main.delegated_administrator.guardduty"],
    );
    assert_eq!(
        delegated(&p, "guardduty.amazonaws.com").await,
        vec![sec.clone()]
    );

    // Drift: content changed, attachment removed, administrator deregistered outside landfall.
    let org = p.org().await;
    org.update_policy()
        .policy_id(&guard)
        .content(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    org.detach_policy()
        .policy_id(&guard)
        .target_id(&work)
        .send()
        .await
        .unwrap();
    org.deregister_delegated_administrator()
        .account_id(&sec)
        .service_principal("guardduty.amazonaws.com")
        .send()
        .await
        .unwrap();
    p.expect_plan(&[
        "~ main.policy.guard",
        "+ main.policy_attachment.guard",
        "+ main.delegated_administrator.guardduty",
    ]);
    p.apply();
    p.expect_converged();
    assert_eq!(
        policy(&p, &guard).await.unwrap().2["Statement"][0]["Action"],
        "account:CloseAccount"
    );
    assert_eq!(targets(&p, &guard).await, vec![work.clone()]);
    assert_eq!(
        delegated(&p, "guardduty.amazonaws.com").await,
        vec![sec.clone()]
    );

    // Deleted outside: the policy and its attachment are created again.
    org.detach_policy()
        .policy_id(&guard)
        .target_id(&work)
        .send()
        .await
        .unwrap();
    org.delete_policy().policy_id(&guard).send().await.unwrap();
    p.expect_plan(&["+ main.policy.guard", "+ main.policy_attachment.guard"]);
    p.apply();
    p.expect_converged();
    let guard = p.id("main.policy.guard");
    assert_eq!(targets(&p, &guard).await, vec![work.clone()]);

    p.reimport("main.policy.guard", &guard);
    p.reimport("main.policy_attachment.guard", &format!("{guard}/{work}"));
    p.reimport(
        "main.delegated_administrator.guardduty",
        &format!("{sec}/guardduty.amazonaws.com"),
    );

    // Destroy: the accounts stay open (no close_on_destroy), so their OU, the organization, the
    // guardrail attached above them and the administrator role of one of them are forgotten, not
    // deleted (the destroy rules of issue 10, item 4). Deletion of each was exercised above.
    let out = p.destroy(&[]);
    let said = text(&out);
    assert!(said.contains("7 to forget"), "{said}");
    assert_eq!(targets(&p, &guard).await, vec![work.clone()], "{said}");
    assert_eq!(
        delegated(&p, "guardduty.amazonaws.com").await,
        vec![sec.clone()]
    );
    assert_eq!(ou_name(&p, &work).await.as_deref(), Some("Work"));
}

/// The account's minimum password length, or None without a password policy.
async fn password_length(p: &Project) -> Option<i32> {
    let out = p
        .iam()
        .await
        .get_account_password_policy()
        .send()
        .await
        .ok()?;
    out.password_policy()?.minimum_password_length()
}

async fn aliases(p: &Project) -> Vec<String> {
    let out = p.iam().await.list_account_aliases().send().await.unwrap();
    out.account_aliases().to_vec()
}

/// How many default VPCs the region has.
async fn default_vpcs(p: &Project) -> usize {
    let out = p
        .ec2()
        .await
        .describe_vpcs()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("is-default")
                .values("true")
                .build(),
        )
        .send()
        .await
        .unwrap();
    out.vpcs().len()
}

const ACCOUNT_SETTINGS: &str = r#"
[iam_password_policy.main]
minimum_password_length = 16

[iam_account_alias.main]
alias = "lifecycle-one"

[default_vpc.main]
delete = true
"#;

/// One per account (and region, for the default VPC): none of these kinds has an attribute that
/// forces replacement, or a dependent, so the replacement step is n.a.
#[tokio::test(flavor = "multi_thread")]
async fn password_policy_alias_and_default_vpc_lifecycle() {
    let p = Project::new(ACCOUNT_SETTINGS);
    assert_eq!(default_vpcs(&p).await, 1, "the emulator starts with one");
    p.apply();
    p.expect_converged();
    assert_eq!(password_length(&p).await, Some(16));
    assert_eq!(aliases(&p).await, vec!["lifecycle-one".to_string()]);
    assert_eq!(default_vpcs(&p).await, 0);

    p.change(
        &[
            ("= 16", "= 20"),
            ("lifecycle-one", "lifecycle-two"),
            ("delete = true", "delete = false"),
        ],
        &[
            "~ main.iam_password_policy.main",
            "~ main.iam_account_alias.main",
            "~ main.default_vpc.main",
        ],
    );
    assert_eq!(password_length(&p).await, Some(20));
    assert_eq!(aliases(&p).await, vec!["lifecycle-two".to_string()]);
    assert_eq!(default_vpcs(&p).await, 1, "delete = false puts it back");
    p.change(
        &[("delete = false", "delete = true")],
        &["~ main.default_vpc.main"],
    );
    assert_eq!(default_vpcs(&p).await, 0);

    // Drift: a weaker password policy, another alias, a default VPC created again outside landfall.
    let iam = p.iam().await;
    iam.update_account_password_policy()
        .minimum_password_length(8)
        .send()
        .await
        .unwrap();
    iam.delete_account_alias()
        .account_alias("lifecycle-two")
        .send()
        .await
        .unwrap();
    iam.create_account_alias()
        .account_alias("hacked")
        .send()
        .await
        .unwrap();
    p.ec2().await.create_default_vpc().send().await.unwrap();
    p.expect_plan(&[
        "main.iam_password_policy.main",
        "main.iam_account_alias.main",
        "main.default_vpc.main",
    ]);
    p.apply();
    p.expect_converged();
    assert_eq!(password_length(&p).await, Some(20));
    assert_eq!(aliases(&p).await, vec!["lifecycle-two".to_string()]);
    assert_eq!(default_vpcs(&p).await, 0);

    // Deleted outside: set again.
    iam.delete_account_password_policy().send().await.unwrap();
    iam.delete_account_alias()
        .account_alias("lifecycle-two")
        .send()
        .await
        .unwrap();
    p.expect_plan(&[
        "main.iam_password_policy.main",
        "main.iam_account_alias.main",
    ]);
    p.apply();
    p.expect_converged();
    assert_eq!(password_length(&p).await, Some(20));
    assert_eq!(aliases(&p).await, vec!["lifecycle-two".to_string()]);

    p.reimport(
        "main.iam_password_policy.main",
        &p.id("main.iam_password_policy.main"),
    );
    p.reimport(
        "main.iam_account_alias.main",
        &p.id("main.iam_account_alias.main"),
    );
    p.reimport("main.default_vpc.main", &p.id("main.default_vpc.main"));

    // Destroy removes the password policy and the alias; a deleted default VPC stays deleted.
    p.destroy(&[]);
    assert_eq!(password_length(&p).await, None);
    assert!(aliases(&p).await.is_empty());
    assert_eq!(default_vpcs(&p).await, 0);
}

/// One resource of every kind (18), linked the way a landing zone links them.
const EVERY_KIND: &str = r#"
[organization.main]
enabled_policy_types = ["SERVICE_CONTROL_POLICY"]
aws_service_access_principals = ["guardduty.amazonaws.com"]

[organizational_unit.work]
name = "Work"
parent_id = "${organization.main.root_id}"

[account.dev]
name = "dev"
email = "aws+dev@example.com"
parent_id = "${organizational_unit.work.id}"

[policy.deny]
name = "deny-leaving"
content = { Version = "2012-10-17", Statement = [{ Effect = "Deny", Action = "organizations:LeaveOrganization", Resource = "*" }] }

[policy_attachment.deny]
policy_id = "${policy.deny.id}"
target_id = "${organizational_unit.work.id}"

[delegated_administrator.guardduty]
account_id = "${account.dev.id}"
service_principal = "guardduty.amazonaws.com"

[iam_password_policy.main]
minimum_password_length = 16

[iam_account_alias.main]
alias = "lifecycle-mgmt"

[default_vpc.main]
delete = true

[vpc.main]
cidr_block = "10.0.0.0/16"

[subnet.a]
vpc_id = "${vpc.main.id}"
cidr_block = "10.0.1.0/24"
availability_zone = "eu-west-1a"

[internet_gateway.main]
vpc_id = "${vpc.main.id}"

[nat_gateway.main]
subnet_id = "${subnet.a.id}"

[route_table.main]
vpc_id = "${vpc.main.id}"
subnet_ids = ["${subnet.a.id}"]
routes = [{ destination_cidr_block = "0.0.0.0/0", nat_gateway_id = "${nat_gateway.main.id}" }]

[security_group.web]
name = "web"
description = "web servers"
vpc_id = "${vpc.main.id}"

[iam_policy.read]
name = "read"
policy = { Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:GetObject", Resource = "*" }] }

[iam_role.ops]
name = "ops"
assume_role_policy = { Version = "2012-10-17", Statement = [{ Effect = "Allow", Principal = { Service = "ec2.amazonaws.com" }, Action = "sts:AssumeRole" }] }
managed_policy_arns = ["${iam_policy.read.arn}"]

[iam_group.readers]
name = "readers"
managed_policy_arns = ["${iam_policy.read.arn}"]
"#;

/// Every kind and the name its resource has in [`EVERY_KIND`].
const KINDS: &[(&str, &str)] = &[
    ("organization", "main"),
    ("organizational_unit", "work"),
    ("account", "dev"),
    ("policy", "deny"),
    ("policy_attachment", "deny"),
    ("delegated_administrator", "guardduty"),
    ("iam_password_policy", "main"),
    ("iam_account_alias", "main"),
    ("default_vpc", "main"),
    ("vpc", "main"),
    ("subnet", "a"),
    ("internet_gateway", "main"),
    ("nat_gateway", "main"),
    ("route_table", "main"),
    ("security_group", "web"),
    ("iam_policy", "read"),
    ("iam_role", "ops"),
    ("iam_group", "readers"),
];

/// What exists in the emulator, by id: the organization, its OUs, accounts and policies (with their
/// targets), delegated administrators, IAM roles, groups and customer managed policies, VPCs (the default
/// one included), subnets, gateways, route tables, security groups.
async fn census(p: &Project) -> Vec<String> {
    let (org, iam, ec2) = (p.org().await, p.iam().await, p.ec2().await);
    let mut out = vec![org_id(p).await.unwrap_or_default()];
    let root = root(p).await;
    for ou in ous_under(p, &root).await {
        out.push(format!("ou {} {}", ou.0, ou.1));
    }
    let accounts = org.list_accounts().send().await.unwrap();
    out.extend(
        accounts
            .accounts()
            .iter()
            .map(|a| format!("account {}", a.id().unwrap())),
    );
    let policies = org
        .list_policies()
        .filter(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
        .send()
        .await
        .unwrap();
    for policy in policies.policies() {
        let id = policy.id().unwrap();
        out.push(format!("policy {id} on {:?}", targets(p, id).await));
    }
    out.extend(delegated(p, "guardduty.amazonaws.com").await);
    let roles = iam.list_roles().send().await.unwrap();
    out.extend(roles.roles().iter().map(|r| r.role_id().to_string()));
    let groups = iam.list_groups().send().await.unwrap();
    out.extend(groups.groups().iter().map(|g| g.group_id().to_string()));
    let local = iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .send()
        .await
        .unwrap();
    out.extend(
        local
            .policies()
            .iter()
            .filter_map(|x| x.policy_id().map(String::from)),
    );
    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    out.extend(
        vpcs.vpcs()
            .iter()
            .filter_map(|v| v.vpc_id().map(String::from)),
    );
    let subnets = ec2.describe_subnets().send().await.unwrap();
    out.extend(
        subnets
            .subnets()
            .iter()
            .filter_map(|s| s.subnet_id().map(String::from)),
    );
    let igws = ec2.describe_internet_gateways().send().await.unwrap();
    out.extend(
        igws.internet_gateways()
            .iter()
            .filter_map(|g| g.internet_gateway_id().map(String::from)),
    );
    let nats = ec2.describe_nat_gateways().send().await.unwrap();
    out.extend(
        nats.nat_gateways()
            .iter()
            .filter_map(|n| n.nat_gateway_id().map(String::from)),
    );
    let tables = ec2.describe_route_tables().send().await.unwrap();
    out.extend(
        tables
            .route_tables()
            .iter()
            .filter_map(|t| t.route_table_id().map(String::from)),
    );
    let groups = ec2.describe_security_groups().send().await.unwrap();
    out.extend(
        groups
            .security_groups()
            .iter()
            .filter_map(|g| g.group_id().map(String::from)),
    );
    out.sort();
    out
}

/// The requests of an `--stats` run that can change something (anything but reads and STS).
fn writes(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .skip_while(|l| !l.starts_with("API requests"))
        .filter_map(|l| {
            let name = l.split_whitespace().next()?;
            let (service, op) = name.split_once('.')?;
            let write = service != "STS"
                && !["Describe", "List", "Get"]
                    .iter()
                    .any(|r| op.starts_with(r));
            write.then(|| l.trim().to_string())
        })
        .collect()
}

/// See [`Project::rename_through_moved`].
fn rename_through_moved(p: &Project, kind: &str, name: &str) {
    p.rename_through_moved(kind, name);
}

/// Every kind renamed through `[[moved]]` at once: the plan shows the 18 moves and nothing else, apply
/// sends no write request, every id stays, the emulator holds the same things, the next plan is empty.
#[tokio::test(flavor = "multi_thread")]
async fn every_kind_renamed_through_moved_touches_nothing() {
    let p = Project::new(EVERY_KIND);
    p.apply();
    p.expect_converged();
    let ids: Vec<String> = KINDS
        .iter()
        .map(|(kind, name)| p.id(&format!("main.{kind}.{name}")))
        .collect();
    let before = census(&p).await;

    for (kind, name) in KINDS {
        rename_through_moved(&p, kind, name);
    }
    let out = p.run(&["plan", "--env", "test"]);
    expect_code(&out, 0);
    let plan = String::from_utf8_lossy(&out.stdout);
    for (kind, name) in KINDS {
        let moved = format!("main.{kind}.{name} has moved to main.{kind}.{name}_renamed");
        assert!(plan.contains(&moved), "`{moved}` not in the plan:\n{plan}");
    }
    assert!(
        plan.contains("0 to add, 0 to change, 0 to replace, 0 to destroy, 18 moved."),
        "{plan}"
    );

    let out = p.apply();
    assert_eq!(writes(&out), Vec::<String>::new(), "{}", text(&out));
    for ((kind, name), id) in KINDS.iter().zip(&ids) {
        assert_eq!(&p.id(&format!("main.{kind}.{name}_renamed")), id);
    }
    assert_eq!(census(&p).await, before);
    p.expect_converged();
}

/// Regression: after renames through `[[moved]]`, the resources in AWS still carry their old
/// `landfall:address` tag (a move writes nothing). With the state document lost, the plan failed
/// ("environment has no stack `main`": a `[[moved]]` entry could not be recorded without state, which
/// a new environment has too), and without the entries it planned 13 creates of what exists. Refresh
/// now also recognises a missing resource by the addresses its `[[moved]]` entries came from.
#[tokio::test(flavor = "multi_thread")]
async fn lost_state_after_renames_through_moved_imports_instead_of_creating() {
    let p = Project::new(EVERY_KIND);
    p.apply();
    for (kind, name) in KINDS {
        rename_through_moved(&p, kind, name);
    }
    p.apply();
    let before = census(&p).await;
    std::fs::remove_file(p.path().join(".landfall/state/test/main.json")).unwrap();

    let plan = p.expect_plan(&["18 to import"]);
    assert!(plan.contains("0 to add,"), "{plan}");
    p.apply();
    p.expect_converged();
    assert_eq!(census(&p).await, before, "nothing created, nothing deleted");
}
