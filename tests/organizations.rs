//! AWS Organizations through the CLI: drift of an account moved to another OU outside landfall is shown
//! and reverted by a move (never a replacement).

mod common;

use common::cli::{expect_code, landfall, requests, text};
use common::moto::Moto;

#[tokio::test(flavor = "multi_thread")]
async fn account_moved_outside_landfall_is_drift_and_apply_moves_it_back() {
    let moto = Moto::start();
    let dir = common::fixture_copy("tests/fixtures/org");
    let d = dir.path();
    expect_code(
        &landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]),
        0,
    );

    let org = aws_sdk_organizations::Client::new(&moto.sdk_config().await);
    let root = org.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_string();
    let accounts = org.list_accounts().send().await.unwrap();
    let alpha = accounts
        .accounts()
        .iter()
        .find(|a| a.name() == Some("alpha"))
        .unwrap()
        .id()
        .unwrap()
        .to_string();
    let parent_of = |id: String| {
        let org = org.clone();
        async move {
            org.list_parents()
                .child_id(id)
                .send()
                .await
                .unwrap()
                .parents()[0]
                .id()
                .unwrap()
                .to_string()
        }
    };
    let ou = parent_of(alpha.clone()).await;
    assert_ne!(ou, root);
    // Someone moves the account to the root by hand.
    org.move_account()
        .account_id(&alpha)
        .source_parent_id(&ou)
        .destination_parent_id(&root)
        .send()
        .await
        .unwrap();

    let out = landfall(d, &moto, &["plan", "--env", "test", "--detailed-exitcode"]);
    expect_code(&out, 2);
    let plan = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(plan.contains("Changed outside landfall"), "{}", text(&out));
    assert!(
        // OU and root names follow their ids (issue 12: readable plans).
        plan.contains(&format!(
            "~ parent_id = \"{ou}\" (OU Workloads) -> \"{root}\" (the root)"
        )),
        "{plan}"
    );
    assert!(
        plan.contains("~ org.account.alpha (update in place)"),
        "{plan}"
    );
    assert!(plan.contains("0 to replace, 0 to destroy"), "{plan}");

    expect_code(
        &landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]),
        0,
    );
    assert_eq!(parent_of(alpha.clone()).await, ou);
    let accounts_after = org.list_accounts().send().await.unwrap().accounts().len();
    assert_eq!(
        accounts_after,
        accounts.accounts().len(),
        "moved, not replaced"
    );
    expect_code(
        &landfall(d, &moto, &["plan", "--env", "test", "--detailed-exitcode"]),
        0,
    );
}

/// An OU and an account that state lost (here removed with `state rm`; in life, a run killed between
/// AWS's answer and the state write) are found again by their address tag: the plan imports them,
/// nothing is created twice. A steady-state refresh lists only the parents state names, so this also
/// checks the refresh widens its listings when configured resources are missing from state.
#[tokio::test(flavor = "multi_thread")]
async fn ou_and_account_lost_from_state_are_adopted_not_created_again() {
    let moto = Moto::start();
    let dir = common::fixture_copy("tests/fixtures/org");
    let d = dir.path();
    expect_code(
        &landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]),
        0,
    );
    let org = aws_sdk_organizations::Client::new(&moto.sdk_config().await);
    let census = || {
        let org = org.clone();
        async move {
            let root = org.list_roots().send().await.unwrap().roots()[0]
                .id()
                .unwrap()
                .to_string();
            let ous = org
                .list_organizational_units_for_parent()
                .parent_id(root)
                .send()
                .await
                .unwrap()
                .organizational_units()
                .len();
            let accounts = org.list_accounts().send().await.unwrap().accounts().len();
            (ous, accounts)
        }
    };
    let before = census().await;

    expect_code(
        &landfall(
            d,
            &moto,
            &[
                "state",
                "rm",
                "--env",
                "test",
                "org.organizational_unit.workloads",
                "org.account.alpha",
            ],
        ),
        0,
    );
    let out = landfall(d, &moto, &["plan", "--env", "test", "--detailed-exitcode"]);
    expect_code(&out, 2);
    let plan = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(plan.contains("0 to add"), "{}", text(&out));
    assert!(plan.contains("2 to import"), "{}", text(&out));

    expect_code(
        &landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]),
        0,
    );
    assert_eq!(census().await, before, "nothing created twice");
    expect_code(
        &landfall(d, &moto, &["plan", "--env", "test", "--detailed-exitcode"]),
        0,
    );
}

/// Accounts leave an OU and the OU is removed in one apply: AWS refuses to delete an OU that still
/// holds accounts (landfall checks it, since the emulator does not), so the moves must come first.
#[tokio::test(flavor = "multi_thread")]
async fn an_ou_is_deleted_only_after_its_accounts_moved_out() {
    let moto = Moto::start();
    let dir = common::fixture_copy("tests/fixtures/org");
    let d = dir.path();
    expect_code(
        &landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]),
        0,
    );
    let stack = d.join("stacks/org.toml");
    let text_before = std::fs::read_to_string(&stack).unwrap();
    let without_ou = text_before
        .replace(
            "[organizational_unit.workloads]\nname = \"Workloads\"\nparent_id = \"${organization.main.root_id}\"\n",
            "",
        )
        .replace(
            "parent_id = \"${organizational_unit.workloads.id}\"",
            "parent_id = \"${organization.main.root_id}\"",
        );
    assert_ne!(without_ou, text_before);
    assert!(!without_ou.contains("organizational_unit"), "{without_ou}");
    std::fs::write(&stack, without_ou).unwrap();

    let out = landfall(
        d,
        &moto,
        &[
            "apply",
            "--env",
            "test",
            "--auto-approve",
            "--parallelism",
            "10",
        ],
    );
    expect_code(&out, 0);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let line = |needle: &str| {
        stderr
            .lines()
            .position(|l| l.starts_with(needle))
            .unwrap_or_else(|| panic!("no `{needle}` line: {}", text(&out)))
    };
    let deleted = line("org.organizational_unit.workloads: deleted");
    assert!(
        line("org.account.alpha: updated") < deleted,
        "{}",
        text(&out)
    );
    assert!(
        line("org.account.beta: updated") < deleted,
        "{}",
        text(&out)
    );

    let org = aws_sdk_organizations::Client::new(&moto.sdk_config().await);
    let root = org.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_string();
    let ous = org
        .list_organizational_units_for_parent()
        .parent_id(&root)
        .send()
        .await
        .unwrap();
    assert!(ous.organizational_units().is_empty(), "{ous:?}");
    let in_root = org
        .list_accounts_for_parent()
        .parent_id(&root)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = in_root.accounts().iter().filter_map(|a| a.name()).collect();
    assert!(
        names.contains(&"alpha") && names.contains(&"beta"),
        "{names:?}"
    );
    expect_code(
        &landfall(d, &moto, &["plan", "--env", "test", "--detailed-exitcode"]),
        0,
    );
}

/// Regression (issue 10, item 3): a policy, its attachment and an OU declared before the organization,
/// without `depends_on`, were sent before the organization existed (AWSOrganizationsNotInUseException).
#[tokio::test(flavor = "multi_thread")]
async fn policy_declared_before_the_organization_waits_for_it() {
    let moto = Moto::start();
    let dir = common::fixture_copy("tests/fixtures/org-implicit-order");
    let d = dir.path();
    let graph = landfall(d, &moto, &["graph", "--env", "test", "--format", "json"]);
    expect_code(&graph, 0);
    let graph: serde_json::Value = serde_json::from_slice(&graph.stdout).unwrap();
    for from in [
        "guardrails.policy.deny_leaving",
        "guardrails.policy_attachment.deny_leaving",
    ] {
        let edge = serde_json::json!({"from": from, "to": "org.organization.main"});
        assert!(
            graph["edges"].as_array().unwrap().contains(&edge),
            "{from} waits for the organization: {graph}"
        );
    }
    let out = landfall(
        d,
        &moto,
        &["apply", "--env", "test", "--auto-approve", "--stats"],
    );
    expect_code(&out, 0);
    // Sent once, after the organization exists: not refused and retried until it happens to exist
    // (the emulator answers a 5xx there, which landfall retries as transient).
    assert_eq!(requests(&out, "CreatePolicy"), 1, "{}", text(&out));

    let org = aws_sdk_organizations::Client::new(&moto.sdk_config().await);
    let root = org.list_roots().send().await.unwrap().roots()[0].clone();
    assert!(
        root.policy_types()
            .iter()
            .any(|t| t.r#type().map(|t| t.as_str()) == Some("SERVICE_CONTROL_POLICY")),
        "{root:?}"
    );
    let ous = org
        .list_organizational_units_for_parent()
        .parent_id(root.id().unwrap())
        .send()
        .await
        .unwrap();
    let ou = ous
        .organizational_units()
        .iter()
        .find(|o| o.name() == Some("Workloads"))
        .expect("the OU exists under the root");
    let attached = org
        .list_policies_for_target()
        .target_id(ou.id().unwrap())
        .filter(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
        .send()
        .await
        .unwrap();
    assert!(
        attached
            .policies()
            .iter()
            .any(|p| p.name() == Some("deny-leaving")),
        "{attached:?}"
    );
    expect_code(
        &landfall(d, &moto, &["plan", "--env", "test", "--detailed-exitcode"]),
        0,
    );
}

/// What the emulator holds: OU names (under the root and one level below), account names, and
/// customer policy names with the names of the OUs each is attached to.
async fn org_census(moto: &Moto) -> (Vec<String>, Vec<String>, Vec<(String, Vec<String>)>) {
    use aws_sdk_organizations::types::{PolicyType, TargetType};
    let org = aws_sdk_organizations::Client::new(&moto.sdk_config().await);
    let root = org.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_string();
    let mut ous = Vec::new();
    let mut parents = vec![root];
    while let Some(p) = parents.pop() {
        let out = org
            .list_organizational_units_for_parent()
            .parent_id(p)
            .send()
            .await
            .unwrap();
        for ou in out.organizational_units() {
            ous.push(ou.name().unwrap().to_string());
            parents.push(ou.id().unwrap().to_string());
        }
    }
    ous.sort();
    let mut accounts: Vec<String> = org
        .list_accounts()
        .send()
        .await
        .unwrap()
        .accounts()
        .iter()
        .filter_map(|a| a.name().map(str::to_string))
        .collect();
    accounts.sort();
    let mut policies = Vec::new();
    let listed = org
        .list_policies()
        .filter(PolicyType::ServiceControlPolicy)
        .send()
        .await
        .unwrap();
    for p in listed.policies() {
        if p.aws_managed() {
            continue;
        }
        let targets = org
            .list_targets_for_policy()
            .policy_id(p.id().unwrap())
            .send()
            .await
            .unwrap();
        let mut names: Vec<String> = targets
            .targets()
            .iter()
            .filter(|t| t.r#type() == Some(&TargetType::OrganizationalUnit))
            .filter_map(|t| t.name().map(str::to_string))
            .collect();
        names.sort();
        policies.push((p.name().unwrap().to_string(), names));
    }
    policies.sort();
    (ous, accounts, policies)
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// What a destroy of tests/fixtures/org-destroy leaves: the kept account where it was, with its OUs
/// and its guardrail; the empty OU and the unattached policy are gone.
async fn expect_destroyed_around_the_kept_account(moto: &Moto) {
    let (ous, accounts, policies) = org_census(moto).await;
    assert_eq!(ous, strings(&["Team", "Workloads"]));
    assert!(accounts.contains(&"alpha".to_string()), "{accounts:?}");
    assert_eq!(
        policies,
        vec![("deny-leaving".to_string(), strings(&["Team"]))]
    );
}

/// Regression (issue 10, item 4): destroy never finished while kept accounts sat in OUs
/// (OrganizationalUnitNotEmptyException on every run).
#[tokio::test(flavor = "multi_thread")]
async fn destroy_with_kept_accounts_in_ous_exits_zero() {
    let moto = Moto::start();
    let dir = common::fixture_copy("tests/fixtures/org-destroy");
    let d = dir.path();
    expect_code(
        &landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]),
        0,
    );
    let (ous, _, _) = org_census(&moto).await;
    assert_eq!(ous, strings(&["Empty", "Team", "Workloads"]));

    let out = landfall(d, &moto, &["destroy", "--env", "test", "--auto-approve"]);
    expect_code(&out, 0);
    let shown = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        shown.contains("still holds `org.account.alpha`"),
        "the plan says why the OU stays: {shown}"
    );
    expect_destroyed_around_the_kept_account(&moto).await;

    // Nothing is left to do: another destroy and a destroy plan are clean.
    let again = landfall(d, &moto, &["destroy", "--env", "test", "--auto-approve"]);
    expect_code(&again, 0);
    assert!(text(&again).contains("No changes"), "{}", text(&again));
    expect_code(
        &landfall(
            d,
            &moto,
            &["plan", "--env", "test", "--destroy", "--detailed-exitcode"],
        ),
        0,
    );
}

/// `plan --destroy --out F` writes nothing, `apply F` refuses it (a destroy plan is applied only when
/// the command line says so), `apply F --destroy` performs it; the same file cannot be applied twice.
#[tokio::test(flavor = "multi_thread")]
async fn saved_destroy_plan_applies_like_any_plan() {
    let moto = Moto::start();
    let dir = common::fixture_copy("tests/fixtures/org-destroy");
    let d = dir.path();
    expect_code(
        &landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]),
        0,
    );
    let before = org_census(&moto).await;
    let plan = d.join("destroy.plan.json");
    let out = landfall(
        d,
        &moto,
        &[
            "plan",
            "--env",
            "test",
            "--destroy",
            "--out",
            plan.to_str().unwrap(),
        ],
    );
    expect_code(&out, 0);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("landfall would destroy"),
        "{}",
        text(&out)
    );
    assert_eq!(org_census(&moto).await, before, "plan changes nothing");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    assert_eq!(saved["destroy"], true);

    // A saved destroy plan is applied only when apply says `--destroy` too.
    let unsaid = landfall(d, &moto, &["apply", plan.to_str().unwrap()]);
    expect_code(&unsaid, 1);
    assert!(
        String::from_utf8_lossy(&unsaid.stderr).contains("was planned with --destroy"),
        "{}",
        text(&unsaid)
    );
    assert_eq!(
        org_census(&moto).await,
        before,
        "a refused plan changes nothing"
    );
    let apply = |d, moto| landfall(d, moto, &["apply", plan.to_str().unwrap(), "--destroy"]);
    expect_code(&apply(d, &moto), 0);
    expect_destroyed_around_the_kept_account(&moto).await;
    // Applied once: the state it was made from is gone.
    expect_code(&apply(d, &moto), 1);
    expect_code(
        &landfall(
            d,
            &moto,
            &["plan", "--env", "test", "--destroy", "--detailed-exitcode"],
        ),
        0,
    );
}
