//! `landfall import-org` end to end: an organization built outside landfall (directly with the SDK) in a
//! private moto server, imported into an empty folder by the real binary; the next plan must be empty
//! and nothing in the emulator may change.

mod common;

use common::cli::{expect_code, landfall, text};

use aws_sdk_organizations::Client;
use aws_sdk_organizations::types::{OrganizationFeatureSet, PolicyType, Tag};
use common::moto::Moto;

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build().unwrap()
}

async fn ou(org: &Client, parent: &str, name: &str) -> String {
    org.create_organizational_unit()
        .parent_id(parent)
        .name(name)
        .send()
        .await
        .unwrap()
        .organizational_unit()
        .unwrap()
        .id()
        .unwrap()
        .to_string()
}

async fn account(org: &Client, root: &str, parent: &str, name: &str, tags: Vec<Tag>) -> String {
    let out = org
        .create_account()
        .account_name(name)
        .email(format!("{}@example.com", name.replace(' ', "-")))
        .send()
        .await
        .unwrap();
    let request = out.create_account_status().unwrap().id().unwrap();
    let status = org
        .describe_create_account_status()
        .create_account_request_id(request)
        .send()
        .await
        .unwrap();
    let id = status
        .create_account_status()
        .unwrap()
        .account_id()
        .unwrap()
        .to_string();
    org.move_account()
        .account_id(&id)
        .source_parent_id(root)
        .destination_parent_id(parent)
        .send()
        .await
        .unwrap();
    if !tags.is_empty() {
        org.tag_resource()
            .resource_id(&id)
            .set_tags(Some(tags))
            .send()
            .await
            .unwrap();
    }
    id
}

async fn scp(org: &Client, name: &str, description: &str, tags: Vec<Tag>) -> String {
    let content = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"{}","Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}}]}}"#,
        name.replace('-', "")
    );
    org.create_policy()
        .name(name)
        .description(description)
        .r#type(PolicyType::ServiceControlPolicy)
        .content(content)
        .set_tags(Some(tags))
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .policy_summary()
        .unwrap()
        .id()
        .unwrap()
        .to_string()
}

/// The organization of the test: a 2-level OU tree, 3 accounts in different OUs, 2 SCPs attached to an
/// OU and an account (one with tags).
async fn build(moto: &Moto) -> Client {
    let org = Client::new(&moto.sdk_config().await);
    org.create_organization()
        .feature_set(OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    let roots = org.list_roots().send().await.unwrap();
    let root = roots.roots()[0].id().unwrap().to_string();
    org.enable_policy_type()
        .root_id(&root)
        .policy_type(PolicyType::ServiceControlPolicy)
        .send()
        .await
        .unwrap();
    let security = ou(&org, &root, "Security").await;
    let workloads = ou(&org, &root, "Workloads").await;
    let prod = ou(&org, &workloads, "Prod").await;
    let nonprod = ou(&org, &workloads, "Non Prod").await;
    account(&org, &root, &security, "log-archive", vec![]).await;
    let prod_app = account(
        &org,
        &root,
        &prod,
        "prod app",
        vec![
            tag("environment", "prod"),
            tag("cost-center", "${not a reference}"),
        ],
    )
    .await;
    account(&org, &root, &nonprod, "dev app", vec![]).await;
    let deny_root = scp(
        &org,
        "deny-root",
        "No root user \"ever\"",
        vec![tag("owner", "security")],
    )
    .await;
    let deny_leaving = scp(&org, "deny-leaving", "Stay in ${org}", vec![]).await;
    for (policy, target) in [(&deny_root, &security), (&deny_leaving, &prod_app)] {
        org.attach_policy()
            .policy_id(policy)
            .target_id(target)
            .send()
            .await
            .unwrap();
    }
    org
}

/// What exists: (accounts, OUs, customer-managed SCPs, SCP attachments including FullAWSAccess's).
async fn census(org: &Client) -> (usize, usize, usize, usize) {
    let accounts = org.list_accounts().send().await.unwrap().accounts().len();
    let root = org.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_string();
    let (mut ous, mut todo) = (0, vec![root]);
    while let Some(parent) = todo.pop() {
        let out = org
            .list_organizational_units_for_parent()
            .parent_id(parent)
            .send()
            .await
            .unwrap();
        for o in out.organizational_units() {
            ous += 1;
            todo.push(o.id().unwrap().to_string());
        }
    }
    let policies = org
        .list_policies()
        .filter(PolicyType::ServiceControlPolicy)
        .send()
        .await
        .unwrap();
    let mut attachments = 0;
    for p in policies.policies() {
        attachments += org
            .list_targets_for_policy()
            .policy_id(p.id().unwrap())
            .send()
            .await
            .unwrap()
            .targets()
            .len();
    }
    let custom = policies
        .policies()
        .iter()
        .filter(|p| !p.aws_managed())
        .count();
    (accounts, ous, custom, attachments)
}

#[tokio::test(flavor = "multi_thread")]
async fn imports_an_organization_into_an_empty_folder_and_the_next_plan_is_empty() {
    let moto = Moto::start();
    let org = build(&moto).await;
    let before = census(&org).await;
    assert_eq!((before.0, before.1, before.2), (4, 4, 2), "{before:?}");

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let out = landfall(dir, &moto, &["import-org", "--env", "E", "--stack", "org"]);
    expect_code(&out, 0);
    for file in [
        "landfall.toml",
        "environments/E/env.toml",
        "stacks/org.toml",
        "policies/deny_root.json",
        "policies/deny_leaving.json",
        ".landfall/state/E/org.json",
    ] {
        assert!(dir.join(file).is_file(), "{file} missing\n{}", text(&out));
    }
    let stack = std::fs::read_to_string(dir.join("stacks/org.toml")).unwrap();
    for expected in [
        "[organization.main]",
        "enabled_policy_types = [\"SERVICE_CONTROL_POLICY\"]",
        "[organizational_unit.security]",
        "[organizational_unit.non_prod]",
        "parent_id = \"${organizational_unit.workloads.id}\"",
        "[account.prod_app]",
        "name = \"prod app\"",
        "parent_id = \"${organizational_unit.prod.id}\"",
        "cost-center = \"$${not a reference}\"",
        "description = \"No root user \\\"ever\\\"\"",
        "description = \"Stay in $${org}\"",
        "content = '${file(\"../policies/deny_root.json\")}'",
        "policy_id = \"${policy.deny_root.id}\"",
        "target_id = \"${organizational_unit.security.id}\"",
        "target_id = \"${account.prod_app.id}\"",
    ] {
        assert!(stack.contains(expected), "{expected} not in\n{stack}");
    }
    assert!(!stack.contains("FullAWSAccess\"") && !stack.contains("p-FullAWSAccess"));
    assert_eq!(stack.matches("\n[account.").count(), 3, "{stack}");
    assert_eq!(stack.matches("\n[policy_attachment.").count(), 2, "{stack}");
    let env = std::fs::read_to_string(dir.join("environments/E/env.toml")).unwrap();
    assert!(env.contains("stacks = [\"org\"]"), "{env}");

    let out = landfall(dir, &moto, &["validate", "--env", "E"]);
    expect_code(&out, 0);
    let out = landfall(dir, &moto, &["plan", "--env", "E", "--detailed-exitcode"]);
    expect_code(&out, 0);
    assert_eq!(census(&org).await, before, "AWS changed");
}

#[tokio::test(flavor = "multi_thread")]
async fn refuses_to_overwrite_a_stack_file_or_its_state() {
    let moto = Moto::start();
    let org = build(&moto).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();

    // A stack file of that name: refused before anything is read or written.
    std::fs::create_dir_all(dir.join("stacks")).unwrap();
    std::fs::write(dir.join("stacks/org.toml"), "# mine\n").unwrap();
    let out = landfall(dir, &moto, &["import-org", "--env", "E", "--stack", "org"]);
    expect_code(&out, 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("stacks/org.toml") && stderr.contains("already exists"),
        "{}",
        text(&out)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("stacks/org.toml")).unwrap(),
        "# mine\n"
    );
    assert!(!dir.join("landfall.toml").exists());

    // Imported under another name, then the stack file removed: its state still exists, so a second
    // import under that name is refused and leaves no file behind.
    std::fs::remove_file(dir.join("stacks/org.toml")).unwrap();
    let out = landfall(dir, &moto, &["import-org", "--env", "E", "--stack", "org"]);
    expect_code(&out, 0);
    std::fs::remove_file(dir.join("stacks/org.toml")).unwrap();
    let before = census(&org).await;
    let out = landfall(dir, &moto, &["import-org", "--env", "E", "--stack", "org"]);
    expect_code(&out, 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("state") && stderr.contains("org.json"),
        "{}",
        text(&out)
    );
    assert!(!dir.join("stacks/org.toml").exists(), "{}", text(&out));
    assert!(!dir.join("policies/deny_root_2.json").exists());
    assert_eq!(census(&org).await, before);
}
