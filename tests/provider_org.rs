//! The AWS Organizations kinds against moto, checked by independent reads through the SDK.

mod common;

use common::moto::{FaultProxy, Moto};
use landfall::aws::{Aws, AwsError};
use landfall::provider::{
    self, Attrs, BoxFuture, Cx, KindHints, Live, Location, ReadCache, RecordPending,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

fn attrs(v: Value) -> Attrs {
    v.as_object().expect("an object").clone()
}

fn location() -> Location {
    Location {
        account: None,
        region: "eu-west-1".into(),
    }
}

fn cx<'a>(aws: &'a Aws, loc: &'a Location) -> Cx<'a> {
    Cx::standalone(aws, loc, "test")
}

async fn independent(moto: &Moto) -> aws_sdk_organizations::Client {
    aws_sdk_organizations::Client::new(&moto.sdk_config().await)
}

fn s<'a>(live: &'a Live, attr: &str) -> &'a str {
    live.attrs[attr].as_str().unwrap_or_default()
}

/// Creates the organization with SCPs enabled; returns its attributes.
async fn organization(cx: &Cx<'_>) -> Live {
    provider::create(
        "organization",
        cx,
        "organization.main",
        &attrs(json!({
            "feature_set": "ALL",
            "enabled_policy_types": ["SERVICE_CONTROL_POLICY"],
            "aws_service_access_principals": [],
        })),
    )
    .await
    .expect("create organization")
}

async fn ou(cx: &Cx<'_>, address: &str, name: &str, parent: &str) -> Live {
    provider::create(
        "organizational_unit",
        cx,
        address,
        &attrs(json!({"name": name, "parent_id": parent, "tags": {"team": "platform"}})),
    )
    .await
    .expect("create OU")
}

fn account_attrs(name: &str, parent: &str) -> Attrs {
    attrs(json!({
        "name": name,
        "email": format!("{name}@example.com"),
        "parent_id": parent,
        "role_name": "OrganizationAccountAccessRole",
        "close_on_destroy": false,
        "tags": {"env": name},
    }))
}

async fn account(cx: &Cx<'_>, name: &str, parent: &str) -> Live {
    provider::create(
        "account",
        cx,
        &format!("account.{name}"),
        &account_attrs(name, parent),
    )
    .await
    .expect("create account")
}

async fn parent_of(org: &aws_sdk_organizations::Client, child: &str) -> String {
    let out = org.list_parents().child_id(child).send().await.unwrap();
    out.parents()[0].id().unwrap().to_string()
}

async fn account_count(org: &aws_sdk_organizations::Client) -> usize {
    org.list_accounts().send().await.unwrap().accounts().len()
}

/// Requests sent per operation since `before`.
fn delta(aws: &Aws, before: &BTreeMap<(String, String), u64>) -> BTreeMap<String, u64> {
    aws.stats()
        .snapshot()
        .into_iter()
        .filter_map(|((_, op), n)| {
            let d = n - before
                .iter()
                .find(|((_, o), _)| *o == op)
                .map_or(0, |(_, n)| *n);
            (d > 0).then_some((op, d))
        })
        .collect()
}

#[tokio::test]
async fn organization_create_read_update_round_trip() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let loc = location();
    let cx = cx(&aws, &loc);
    let org = independent(&moto).await;

    assert!(
        provider::read("organization", &cx, &["o-none".into()])
            .await
            .unwrap()
            .is_empty(),
        "no organization yet"
    );

    let desired = attrs(json!({
        "feature_set": "ALL",
        "enabled_policy_types": ["TAG_POLICY", "SERVICE_CONTROL_POLICY"],
        "aws_service_access_principals": ["sso.amazonaws.com", "guardduty.amazonaws.com"],
    }));
    let created = provider::create("organization", &cx, "organization.main", &desired)
        .await
        .unwrap();
    let read = provider::read("organization", &cx, std::slice::from_ref(&created.id))
        .await
        .unwrap();
    assert_eq!(read, vec![created.clone()]);
    assert_eq!(read[0].attrs["feature_set"], "ALL");
    assert_eq!(
        read[0].attrs["enabled_policy_types"],
        json!(["SERVICE_CONTROL_POLICY", "TAG_POLICY"])
    );
    assert_eq!(
        read[0].attrs["aws_service_access_principals"],
        json!(["guardduty.amazonaws.com", "sso.amazonaws.com"])
    );

    // Independently: the organization, its root's policy types, its trusted services.
    let described = org.describe_organization().send().await.unwrap();
    assert_eq!(
        described.organization().unwrap().id(),
        Some(created.id.as_str())
    );
    let roots = org.list_roots().send().await.unwrap();
    let root = &roots.roots()[0];
    assert_eq!(root.id(), Some(s(&created, "root_id")));
    let mut types: Vec<&str> = root
        .policy_types()
        .iter()
        .map(|t| t.r#type().unwrap().as_str())
        .collect();
    types.sort();
    assert_eq!(types, ["SERVICE_CONTROL_POLICY", "TAG_POLICY"]);

    // Exclusive sets: TAG_POLICY and guardduty go, BACKUP_POLICY and ram come.
    let desired2 = attrs(json!({
        "feature_set": "ALL",
        "enabled_policy_types": ["SERVICE_CONTROL_POLICY", "BACKUP_POLICY"],
        "aws_service_access_principals": ["sso.amazonaws.com", "ram.amazonaws.com"],
    }));
    let updated = provider::update("organization", &cx, &created.id, &created.attrs, &desired2)
        .await
        .unwrap();
    assert_eq!(
        updated.attrs["enabled_policy_types"],
        json!(["BACKUP_POLICY", "SERVICE_CONTROL_POLICY"])
    );
    let services = org
        .list_aws_service_access_for_organization()
        .send()
        .await
        .unwrap();
    let mut principals: Vec<&str> = services
        .enabled_service_principals()
        .iter()
        .map(|p| p.service_principal().unwrap())
        .collect();
    principals.sort();
    assert_eq!(principals, ["ram.amazonaws.com", "sso.amazonaws.com"]);

    // Creating again adopts the existing organization.
    let adopted = provider::create("organization", &cx, "organization.main", &desired2)
        .await
        .unwrap();
    assert_eq!(adopted, updated);

    provider::delete("organization", &cx, &created.id, &created.attrs)
        .await
        .unwrap();
    assert!(
        provider::read("organization", &cx, std::slice::from_ref(&created.id))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn ou_tree_rename_in_place_and_guarded_delete() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let loc = location();
    let cx = cx(&aws, &loc);
    let org = independent(&moto).await;
    let root_id = s(&organization(&cx).await, "root_id").to_string();

    let workloads = ou(&cx, "organizational_unit.workloads", "Workloads", &root_id).await;
    let prod = ou(&cx, "organizational_unit.prod", "Prod", &workloads.id).await;
    assert_eq!(prod.address.as_deref(), Some("organizational_unit.prod"));
    assert_eq!(prod.lineage.as_deref(), Some("test"));
    assert_eq!(prod.attrs["tags"], json!({"team": "platform"}));

    let read = provider::read(
        "organizational_unit",
        &cx,
        &[workloads.id.clone(), prod.id.clone()],
    )
    .await
    .unwrap();
    assert_eq!(read.len(), 2);
    let read_prod = read.iter().find(|l| l.id == prod.id).unwrap();
    assert_eq!(read_prod, &prod);
    assert_eq!(parent_of(&org, &prod.id).await, workloads.id);

    // A second OU of the same name under one parent: refused (AWS does, moto does not).
    let err = provider::create(
        "organizational_unit",
        &cx,
        "organizational_unit.dup",
        &attrs(json!({"name": "Prod", "parent_id": workloads.id})),
    )
    .await
    .unwrap_err();
    assert!(err.is("DuplicateOrganizationalUnitException"), "{err}");
    assert!(err.message.contains(&prod.id), "{err}");

    // Rename in place, tags changed too.
    let desired =
        attrs(json!({"name": "Production", "parent_id": workloads.id, "tags": {"tier": "1"}}));
    let renamed = provider::update("organizational_unit", &cx, &prod.id, &prod.attrs, &desired)
        .await
        .unwrap();
    assert_eq!(renamed.id, prod.id);
    assert_eq!(renamed.attrs["name"], "Production");
    assert_eq!(renamed.attrs["tags"], json!({"tier": "1"}));
    assert_eq!(renamed.address.as_deref(), Some("organizational_unit.prod"));
    let described = org
        .describe_organizational_unit()
        .organizational_unit_id(&prod.id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.organizational_unit().unwrap().name(),
        Some("Production")
    );
    let tags = org
        .list_tags_for_resource()
        .resource_id(&prod.id)
        .send()
        .await
        .unwrap();
    let mut keys: Vec<&str> = tags.tags().iter().map(|t| t.key()).collect();
    keys.sort();
    assert_eq!(keys, ["landfall:address", "landfall:lineage", "tier"]);

    // Not empty: refused with the children named.
    let err = provider::delete("organizational_unit", &cx, &workloads.id, &workloads.attrs)
        .await
        .unwrap_err();
    assert!(err.message.contains(&prod.id), "{err}");
    provider::delete("organizational_unit", &cx, &prod.id, &renamed.attrs)
        .await
        .unwrap();
    provider::delete("organizational_unit", &cx, &workloads.id, &workloads.attrs)
        .await
        .unwrap();
    // Deleting what is gone succeeds.
    provider::delete("organizational_unit", &cx, &prod.id, &renamed.attrs)
        .await
        .unwrap();
    assert!(
        provider::read("organizational_unit", &cx, std::slice::from_ref(&prod.id))
            .await
            .unwrap()
            .is_empty()
    );
}

/// Records the request id, and how many status polls had been sent when it was recorded.
struct Recorder<'a> {
    aws: &'a Aws,
    recorded: Mutex<Vec<(String, u64)>>,
}

impl RecordPending for Recorder<'_> {
    fn record<'a>(&'a self, request_id: &'a str) -> BoxFuture<'a, Result<(), AwsError>> {
        Box::pin(async move {
            let polls = self
                .aws
                .stats()
                .snapshot()
                .iter()
                .filter(|((_, op), _)| op == "DescribeCreateAccountStatus")
                .map(|(_, n)| *n)
                .sum();
            self.recorded
                .lock()
                .unwrap()
                .push((request_id.to_string(), polls));
            Ok(())
        })
    }

    fn clear(&self) -> BoxFuture<'_, Result<(), AwsError>> {
        Box::pin(async move {
            self.recorded.lock().unwrap().clear();
            Ok(())
        })
    }
}

#[tokio::test]
async fn account_creation_is_recorded_before_polling_and_resumes() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let loc = location();
    let plain = cx(&aws, &loc);
    let org = independent(&moto).await;
    let root_id = s(&organization(&plain).await, "root_id").to_string();
    let sandbox = ou(&plain, "organizational_unit.sandbox", "Sandbox", &root_id).await;
    let before = account_count(&org).await;

    let recorder = Recorder {
        aws: &aws,
        recorded: Mutex::new(Vec::new()),
    };
    let recording = Cx {
        record_pending: &recorder,
        cache: None,
        ..cx(&aws, &loc)
    };
    let desired = account_attrs("dev", &sandbox.id);
    let created = provider::create("account", &recording, "account.dev", &desired)
        .await
        .unwrap();
    let recorded = recorder.recorded.lock().unwrap().clone();
    assert_eq!(recorded.len(), 1, "one request id recorded");
    let (request_id, polls_at_record) = recorded[0].clone();
    assert_eq!(polls_at_record, 0, "recorded before the first status poll");
    assert!(request_id.starts_with("car-"), "{request_id}");

    assert_eq!(created.attrs["name"], "dev");
    assert_eq!(created.attrs["email"], "dev@example.com");
    assert_eq!(created.attrs["parent_id"], json!(sandbox.id));
    assert_eq!(created.attrs["status"], "ACTIVE");
    assert_eq!(created.attrs["tags"], json!({"env": "dev"}));
    assert_eq!(created.address.as_deref(), Some("account.dev"));
    assert_eq!(parent_of(&org, &created.id).await, sandbox.id);
    assert_eq!(account_count(&org).await, before + 1);

    // An interrupted run resumes the recorded request: same account, no second one.
    let creates_before = delta(&aws, &BTreeMap::new())
        .get("CreateAccount")
        .copied()
        .unwrap_or(0);
    let resuming = Cx {
        pending: Some(&request_id),
        ..cx(&aws, &loc)
    };
    let resumed = provider::create("account", &resuming, "account.dev", &desired)
        .await
        .unwrap();
    assert_eq!(resumed, created);
    assert_eq!(account_count(&org).await, before + 1);
    assert_eq!(
        delta(&aws, &BTreeMap::new()).get("CreateAccount").copied(),
        Some(creates_before)
    );

    // The same email again: refused with the import hint (AWS refuses, moto would not).
    let err = provider::create("account", &plain, "account.again", &desired)
        .await
        .unwrap_err();
    assert!(err.is("EMAIL_ALREADY_EXISTS"), "{err}");
    assert!(
        err.message
            .contains(&format!("landfall import account.again {}", created.id)),
        "{err}"
    );
    assert_eq!(account_count(&org).await, before + 1);

    // Closing.
    provider::delete("account", &plain, &created.id, &created.attrs)
        .await
        .unwrap();
    let read = provider::read("account", &plain, std::slice::from_ref(&created.id))
        .await
        .unwrap();
    assert_eq!(read[0].attrs["status"], "SUSPENDED");
    provider::delete("account", &plain, &created.id, &created.attrs)
        .await
        .unwrap();
}

#[tokio::test]
async fn account_moved_outside_landfall_is_seen_and_moved_back() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let loc = location();
    let cx = cx(&aws, &loc);
    let org = independent(&moto).await;
    let root_id = s(&organization(&cx).await, "root_id").to_string();
    let a = ou(&cx, "organizational_unit.a", "A", &root_id).await;
    let b = ou(&cx, "organizational_unit.b", "B", &root_id).await;
    let acct = account(&cx, "prod", &a.id).await;

    org.move_account()
        .account_id(&acct.id)
        .source_parent_id(&a.id)
        .destination_parent_id(&b.id)
        .send()
        .await
        .unwrap();
    let read = provider::read("account", &cx, std::slice::from_ref(&acct.id))
        .await
        .unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].attrs["parent_id"], json!(b.id));

    let mut desired = account_attrs("prod", &a.id);
    desired.insert("tags".into(), json!({"env": "prod", "owner": "ops"}));
    let updated = provider::update("account", &cx, &acct.id, &read[0].attrs, &desired)
        .await
        .unwrap();
    assert_eq!(updated.id, acct.id);
    assert_eq!(updated.attrs["parent_id"], json!(a.id));
    assert_eq!(
        updated.attrs["tags"],
        json!({"env": "prod", "owner": "ops"})
    );
    assert_eq!(parent_of(&org, &acct.id).await, a.id);

    // Name and email cannot change through Organizations.
    let mut renamed = desired.clone();
    renamed.insert("name".into(), "production".into());
    let err = provider::update("account", &cx, &acct.id, &updated.attrs, &renamed)
        .await
        .unwrap_err();
    assert!(
        err.message.contains("cannot change an account's name"),
        "{err}"
    );
}

#[tokio::test]
async fn policy_lifecycle_with_attachments() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let loc = location();
    let cx = cx(&aws, &loc);
    let org = independent(&moto).await;
    let root_id = s(&organization(&cx).await, "root_id").to_string();
    let workloads = ou(&cx, "organizational_unit.workloads", "Workloads", &root_id).await;
    let acct = account(&cx, "app", &workloads.id).await;

    let deny_leave = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}],
    });
    let desired = attrs(json!({
        "name": "deny-leave",
        "description": "members stay",
        "type": "SERVICE_CONTROL_POLICY",
        "content": deny_leave,
        "tags": {"owner": "security"},
    }));
    let policy = provider::create("policy", &cx, "policy.deny_leave", &desired)
        .await
        .unwrap();
    assert_eq!(policy.address.as_deref(), Some("policy.deny_leave"));
    let read = provider::read("policy", &cx, std::slice::from_ref(&policy.id))
        .await
        .unwrap();
    assert_eq!(read, vec![policy.clone()]);
    let doc = landfall::provider::doc::canonical;
    assert_eq!(doc(&read[0].attrs["content"]), doc(&deny_leave));

    // Malformed JSON text is refused before AWS sees it.
    let mut bad = desired.clone();
    bad.insert("content".into(), "{not json".into());
    let err = provider::create("policy", &cx, "policy.bad", &bad)
        .await
        .unwrap_err();
    assert!(err.is("MalformedPolicyDocumentException"), "{err}");

    // Attach to the OU and the account.
    let mut attachments = Vec::new();
    for target in [&workloads.id, &acct.id] {
        let live = provider::create(
            "policy_attachment",
            &cx,
            "policy_attachment.x",
            &attrs(json!({"policy_id": policy.id, "target_id": target})),
        )
        .await
        .unwrap();
        assert_eq!(live.id, format!("{}/{target}", policy.id));
        attachments.push(live);
    }
    let ids: Vec<String> = attachments.iter().map(|a| a.id.clone()).collect();
    let mut with_missing = ids.clone();
    with_missing.push(format!("{}/{root_id}", policy.id));
    let read = provider::read("policy_attachment", &cx, &with_missing)
        .await
        .unwrap();
    assert_eq!(read, attachments, "the unattached root is absent");

    // Update the document and name in place.
    let allow_all_but_leave = json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Deny", "Action": ["organizations:LeaveOrganization", "account:CloseAccount"], "Resource": "*"}
        ],
    });
    let mut desired2 = desired.clone();
    desired2.insert("name".into(), "deny-leave-and-close".into());
    desired2.insert("content".into(), allow_all_but_leave.clone());
    let updated = provider::update("policy", &cx, &policy.id, &policy.attrs, &desired2)
        .await
        .unwrap();
    assert_eq!(updated.id, policy.id);
    assert_eq!(updated.attrs["name"], "deny-leave-and-close");
    let described = org
        .describe_policy()
        .policy_id(&policy.id)
        .send()
        .await
        .unwrap();
    let content: Value =
        serde_json::from_str(described.policy().unwrap().content().unwrap()).unwrap();
    assert_eq!(doc(&content), doc(&allow_all_but_leave));

    // Detach from the account through the attachment; the OU keeps it, and FullAWSAccess stays.
    provider::delete(
        "policy_attachment",
        &cx,
        &attachments[1].id,
        &attachments[1].attrs,
    )
    .await
    .unwrap();
    let targets = org
        .list_targets_for_policy()
        .policy_id(&policy.id)
        .send()
        .await
        .unwrap();
    let targets: Vec<&str> = targets
        .targets()
        .iter()
        .filter_map(|t| t.target_id())
        .collect();
    assert_eq!(targets, [workloads.id.as_str()]);
    provider::delete(
        "policy_attachment",
        &cx,
        &attachments[1].id,
        &attachments[1].attrs,
    )
    .await
    .unwrap();

    // Delete the policy: detached from the OU first.
    provider::delete("policy", &cx, &policy.id, &updated.attrs)
        .await
        .unwrap();
    let err = org
        .describe_policy()
        .policy_id(&policy.id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_organizations::error::ProvideErrorMetadata::code(&err),
        Some("PolicyNotFoundException")
    );
    for target in [&workloads.id, &acct.id] {
        let policies = org
            .list_policies_for_target()
            .target_id(target.as_str())
            .filter(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
            .send()
            .await
            .unwrap();
        let names: Vec<&str> = policies
            .policies()
            .iter()
            .filter_map(|p| p.name())
            .collect();
        assert_eq!(
            names,
            ["FullAWSAccess"],
            "only the default SCP is left on {target}"
        );
    }
    assert!(
        provider::read("policy", &cx, std::slice::from_ref(&policy.id))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        provider::read("policy_attachment", &cx, &ids)
            .await
            .unwrap()
            .is_empty()
    );
    provider::delete("policy", &cx, &policy.id, &updated.attrs)
        .await
        .unwrap();
}

#[tokio::test]
async fn delegated_administrator_register_read_deregister() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let loc = location();
    let cx = cx(&aws, &loc);
    let org = independent(&moto).await;
    let root_id = s(&organization(&cx).await, "root_id").to_string();
    let security = account(&cx, "security", &root_id).await;

    let desired =
        attrs(json!({"account_id": security.id, "service_principal": "guardduty.amazonaws.com"}));
    let admin = provider::create(
        "delegated_administrator",
        &cx,
        "delegated_administrator.gd",
        &desired,
    )
    .await
    .unwrap();
    assert_eq!(admin.id, format!("{}/guardduty.amazonaws.com", security.id));
    // Registering again adopts.
    provider::create(
        "delegated_administrator",
        &cx,
        "delegated_administrator.gd",
        &desired,
    )
    .await
    .unwrap();

    let other = format!("{}/macie.amazonaws.com", security.id);
    let read = provider::read(
        "delegated_administrator",
        &cx,
        &[admin.id.clone(), other.clone()],
    )
    .await
    .unwrap();
    assert_eq!(read, vec![admin.clone()]);
    let services = org
        .list_delegated_services_for_account()
        .account_id(&security.id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        services.delegated_services()[0].service_principal(),
        Some("guardduty.amazonaws.com")
    );

    provider::delete("delegated_administrator", &cx, &admin.id, &admin.attrs)
        .await
        .unwrap();
    assert!(
        provider::read(
            "delegated_administrator",
            &cx,
            std::slice::from_ref(&admin.id)
        )
        .await
        .unwrap()
        .is_empty()
    );
    let admins = org.list_delegated_administrators().send().await.unwrap();
    assert!(admins.delegated_administrators().is_empty());
    provider::delete("delegated_administrator", &cx, &admin.id, &admin.attrs)
        .await
        .unwrap();
}

/// Non-tag requests of a batched account read: they depend on the OUs, not on the accounts.
fn structural(counts: &BTreeMap<String, u64>) -> u64 {
    counts
        .iter()
        .filter(|(op, _)| op.as_str() != "ListTagsForResource")
        .map(|(_, n)| n)
        .sum()
}

#[tokio::test]
async fn batched_reads_grow_with_ous_not_accounts() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let loc = location();
    let cx = cx(&aws, &loc);
    let root_id = s(&organization(&cx).await, "root_id").to_string();
    let mut ous = Vec::new();
    for name in ["a", "b", "c"] {
        ous.push(ou(&cx, &format!("organizational_unit.{name}"), name, &root_id).await);
    }

    let mut accounts = Vec::new();
    let mut results = Vec::new();
    for (round, n) in [2usize, 8].into_iter().enumerate() {
        while accounts.len() < n {
            let i = accounts.len();
            let parent = &ous[i % ous.len()].id;
            accounts.push(account(&cx, &format!("acct{round}x{i}"), parent).await);
        }
        let ids: Vec<String> = accounts.iter().map(|a| a.id.clone()).collect();
        let before = aws.stats().snapshot();
        let read = provider::read("account", &cx, &ids).await.unwrap();
        assert_eq!(read.len(), n);
        let counts = delta(&aws, &before);
        eprintln!(
            "account read, {} OUs, {n} accounts: total {} = {counts:?}",
            ous.len(),
            counts.values().sum::<u64>()
        );
        results.push((structural(&counts), counts["ListTagsForResource"]));
    }
    assert_eq!(
        results[0].0, results[1].0,
        "same OUs, same structural calls"
    );
    assert_eq!(
        (results[0].1, results[1].1),
        (2, 8),
        "tags once per account"
    );

    // Two more OUs (one nested): two more parents to list, twice.
    ous.push(ou(&cx, "organizational_unit.d", "d", &root_id).await);
    let d = ous[3].id.clone();
    ous.push(ou(&cx, "organizational_unit.e", "e", &d).await);
    let ids: Vec<String> = accounts.iter().map(|a| a.id.clone()).collect();
    let before = aws.stats().snapshot();
    provider::read("account", &cx, &ids).await.unwrap();
    let counts = delta(&aws, &before);
    eprintln!(
        "account read, {} OUs, {} accounts: total {} = {counts:?}",
        ous.len(),
        ids.len(),
        counts.values().sum::<u64>()
    );
    assert_eq!(structural(&counts), results[1].0 + 4);

    // OU read: 1 + 2 per OU.
    let ou_ids: Vec<String> = ous.iter().map(|o| o.id.clone()).collect();
    let before = aws.stats().snapshot();
    let read = provider::read("organizational_unit", &cx, &ou_ids)
        .await
        .unwrap();
    assert_eq!(read.len(), 5);
    let counts = delta(&aws, &before);
    eprintln!(
        "OU read, 5 OUs: total {} = {counts:?}",
        counts.values().sum::<u64>()
    );
    assert_eq!(counts.values().sum::<u64>(), 1 + 2 * 5 + 1);
}

#[tokio::test]
async fn resources_are_adopted_by_their_address_tag() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let loc = location();
    let cx = cx(&aws, &loc);
    let org = independent(&moto).await;
    let root_id = s(&organization(&cx).await, "root_id").to_string();

    // Created by landfall, but the ids never reached state.
    let tracked = ou(&cx, "organizational_unit.lost", "Lost", &root_id).await;
    let acct = account(&cx, "orphan", &tracked.id).await;
    let policy = provider::create(
        "policy",
        &cx,
        "policy.lost",
        &attrs(json!({
            "name": "lost",
            "description": "",
            "type": "SERVICE_CONTROL_POLICY",
            "content": {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]},
        })),
    )
    .await
    .unwrap();
    // Made outside landfall: never reported unless asked for by id.
    let foreign = org
        .create_organizational_unit()
        .parent_id(&root_id)
        .name("Foreign")
        .send()
        .await
        .unwrap();
    let foreign_id = foreign
        .organizational_unit()
        .unwrap()
        .id()
        .unwrap()
        .to_string();
    org.create_account()
        .email("foreign@example.com")
        .account_name("foreign")
        .send()
        .await
        .unwrap();

    let ous = provider::read("organizational_unit", &cx, &[])
        .await
        .unwrap();
    assert_eq!(ous, vec![tracked.clone()]);
    let accounts = provider::read("account", &cx, &[]).await.unwrap();
    assert_eq!(accounts, vec![acct.clone()]);
    assert_eq!(accounts[0].address.as_deref(), Some("account.orphan"));
    let policies = provider::read("policy", &cx, &[]).await.unwrap();
    assert_eq!(policies, vec![policy.clone()]);

    let both = provider::read(
        "organizational_unit",
        &cx,
        std::slice::from_ref(&foreign_id),
    )
    .await
    .unwrap();
    assert_eq!(both.len(), 2);
    let foreign_live = both.iter().find(|l| l.id == foreign_id).unwrap();
    assert_eq!(foreign_live.address, None);
    assert_eq!(foreign_live.attrs["tags"], json!({}));
}

/// What state knows in the sandbox-shaped organization below, by kind.
struct Known {
    org: String,
    ous: Vec<String>,
    accounts: Vec<String>,
    policies: Vec<String>,
    attachments: Vec<String>,
    admins: Vec<String>,
}

/// What a refresh knows from state: every known resource's attributes as a read outside refresh
/// reports them.
async fn state_hints(aws: &Aws, loc: &Location, known: &Known) -> HashMap<String, KindHints> {
    let cx = cx(aws, loc);
    let mut hints = HashMap::new();
    for (kind, ids) in [
        ("organization", vec![known.org.clone()]),
        ("organizational_unit", known.ous.clone()),
        ("account", known.accounts.clone()),
        ("policy", known.policies.clone()),
        ("policy_attachment", known.attachments.clone()),
        ("delegated_administrator", known.admins.clone()),
    ] {
        let read = provider::read(kind, &cx, &ids).await.unwrap();
        hints.insert(
            kind.to_string(),
            KindHints::new(read.into_iter().map(|l| l.attrs).collect(), Vec::new()),
        );
    }
    hints
}

/// Reads every Organizations kind the way a refresh does: concurrently, with one shared `ReadCache`
/// (knowing what state says when `hints` are given).
/// Returns the accounts read and the requests sent, by operation.
async fn refresh_org(
    aws: &Aws,
    loc: &Location,
    known: &Known,
    hints: Option<HashMap<String, KindHints>>,
) -> (Vec<Live>, BTreeMap<String, u64>) {
    let cache = hints.map(ReadCache::with_hints).unwrap_or_default();
    let cx = Cx {
        cache: Some(&cache),
        moves: &[],
        ..cx(aws, loc)
    };
    let before = aws.stats().snapshot();
    let total_before = aws.stats().total();
    let (org, ous, accounts, policies, attachments, admins) = tokio::join!(
        provider::read("organization", &cx, std::slice::from_ref(&known.org)),
        provider::read("organizational_unit", &cx, &known.ous),
        provider::read("account", &cx, &known.accounts),
        provider::read("policy", &cx, &known.policies),
        provider::read("policy_attachment", &cx, &known.attachments),
        provider::read("delegated_administrator", &cx, &known.admins),
    );
    assert_eq!(org.unwrap().len(), 1);
    let ous = ous.unwrap();
    assert_eq!(ous.len(), known.ous.len());
    let accounts = accounts.unwrap();
    assert_eq!(accounts.len(), known.accounts.len());
    let policies = policies.unwrap();
    assert_eq!(policies.len(), known.policies.len());
    assert_eq!(attachments.unwrap().len(), known.attachments.len());
    assert_eq!(admins.unwrap().len(), known.admins.len());
    let counts = delta(aws, &before);
    let total = aws.stats().total() - total_before;
    eprintln!(
        "org refresh, {} OUs, {} accounts: total {total} = {counts:?}",
        known.ous.len(),
        known.accounts.len()
    );
    assert_eq!(counts.values().sum::<u64>(), total);
    // Steady state: tags of resources state knows are compared against state, not read.
    for live in ous.iter().chain(&accounts).chain(&policies) {
        assert!(!live.attrs.contains_key("tags"), "{live:?}");
    }
    (accounts, counts)
}

#[tokio::test]
async fn refresh_of_all_org_kinds_shares_the_tree_and_reads_no_known_tags() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let loc = location();
    let cx = cx(&aws, &loc);
    let org = independent(&moto).await;

    // The example sandbox's organization (stacks/organization.toml): 7 OUs, 7 accounts, 5 policies
    // attached 7 times, 1 delegated administrator.
    let main = provider::create(
        "organization",
        &cx,
        "organization.main",
        &attrs(json!({
            "feature_set": "ALL",
            "enabled_policy_types": ["SERVICE_CONTROL_POLICY", "TAG_POLICY"],
            "aws_service_access_principals": ["guardduty.amazonaws.com"],
        })),
    )
    .await
    .unwrap();
    let root_id = s(&main, "root_id").to_string();
    let mut ous: BTreeMap<&str, String> = BTreeMap::new();
    for (name, parent) in [
        ("Security", None),
        ("Infrastructure", None),
        ("Workloads", None),
        ("Prod", Some("Workloads")),
        ("NonProd", Some("Workloads")),
        ("Sandbox", None),
        ("Suspended", None),
    ] {
        let parent = parent.map_or(root_id.clone(), |p: &str| ous[p].clone());
        let live = ou(&cx, &format!("organizational_unit.{name}"), name, &parent).await;
        ous.insert(name, live.id);
    }
    let mut accounts = Vec::new();
    for (name, ou_name) in [
        ("log-archive", "Security"),
        ("audit", "Security"),
        ("network", "Infrastructure"),
        ("shared-services", "Infrastructure"),
        ("dev", "NonProd"),
        ("stg", "NonProd"),
        ("prod", "Prod"),
    ] {
        accounts.push(account(&cx, name, &ous[ou_name]).await);
    }
    let mut policies = BTreeMap::new();
    for (name, ty) in [
        ("deny-leaving", "SERVICE_CONTROL_POLICY"),
        ("deny-root", "SERVICE_CONTROL_POLICY"),
        ("deny-all", "SERVICE_CONTROL_POLICY"),
        ("restrict-regions", "SERVICE_CONTROL_POLICY"),
        ("tags", "TAG_POLICY"),
    ] {
        let live = provider::create(
            "policy",
            &cx,
            &format!("policy.{name}"),
            &attrs(json!({
                "name": name,
                "description": "",
                "type": ty,
                "content": {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]},
                "tags": {"owner": "security"},
            })),
        )
        .await
        .unwrap();
        policies.insert(name, live.id);
    }
    let mut attachments = Vec::new();
    for (policy, target) in [
        ("deny-leaving", root_id.as_str()),
        ("deny-root", &root_id),
        ("restrict-regions", &ous["Infrastructure"]),
        ("restrict-regions", &ous["Workloads"]),
        ("restrict-regions", &ous["Sandbox"]),
        ("deny-all", &ous["Suspended"]),
        ("tags", &root_id),
    ] {
        let live = provider::create(
            "policy_attachment",
            &cx,
            "policy_attachment.x",
            &attrs(json!({"policy_id": policies[policy], "target_id": target})),
        )
        .await
        .unwrap();
        attachments.push(live.id);
    }
    let admin = provider::create(
        "delegated_administrator",
        &cx,
        "delegated_administrator.guardduty",
        &attrs(
            json!({"account_id": accounts[1].id, "service_principal": "guardduty.amazonaws.com"}),
        ),
    )
    .await
    .unwrap();

    let mut known = Known {
        org: main.id.clone(),
        ous: ous.values().cloned().collect(),
        accounts: accounts.iter().map(|a| a.id.clone()).collect(),
        policies: policies.values().cloned().collect(),
        attachments,
        admins: vec![admin.id],
    };
    let (_, first) = refresh_org(&aws, &loc, &known, None).await;
    // Without hints, the tree is walked once (ListRoots, then one listing of OUs and one of accounts
    // per parent); policies are listed once per type and described once each; no tag is read.
    let parents = 1 + known.ous.len() as u64;
    let expected: BTreeMap<String, u64> = [
        ("DescribeOrganization", 1),
        ("ListAWSServiceAccessForOrganization", 1),
        ("ListRoots", 1),
        ("ListOrganizationalUnitsForParent", parents),
        ("ListAccountsForParent", parents),
        ("ListPolicies", 4),
        ("DescribePolicy", known.policies.len() as u64),
        ("ListTargetsForPolicy", known.policies.len() as u64),
        ("ListDelegatedServicesForAccount", 1),
    ]
    .into_iter()
    .map(|(op, n)| (op.to_string(), n))
    .collect();
    assert_eq!(first, expected);

    // Knowing what state says (a real refresh), only the parents state names are listed, the
    // organization is known from its root, no policy type is listed, and attachments are read from
    // whichever side shows more: the root's SCPs in one ListPoliciesForTarget, restrict-regions'
    // three OUs in one ListTargetsForPolicy, then deny-all and tags.
    let hints = state_hints(&aws, &loc, &known).await;
    let parents_of = |kind: &str| {
        hints[kind]
            .in_state()
            .iter()
            .map(|a| a["parent_id"].as_str().unwrap().to_string())
            .collect::<BTreeSet<_>>()
            .len() as u64
    };
    let (ou_parents, account_parents) = (parents_of("organizational_unit"), parents_of("account"));
    assert!(ou_parents < parents && account_parents < parents);
    let (_, hinted) = refresh_org(&aws, &loc, &known, Some(hints.clone())).await;
    let expected_hinted: BTreeMap<String, u64> = [
        ("ListAWSServiceAccessForOrganization", 1),
        ("ListRoots", 1),
        ("ListOrganizationalUnitsForParent", ou_parents),
        ("ListAccountsForParent", account_parents),
        ("DescribePolicy", known.policies.len() as u64),
        ("ListPoliciesForTarget", 1),
        ("ListTargetsForPolicy", 3),
        ("ListDelegatedServicesForAccount", 1),
    ]
    .into_iter()
    .map(|(op, n)| (op.to_string(), n))
    .collect();
    assert_eq!(hinted, expected_hinted);

    // More accounts in the existing OUs: not one more request.
    for (i, ou_name) in ["NonProd", "Prod", "Sandbox", "Sandbox"]
        .into_iter()
        .enumerate()
    {
        let added = account(&cx, &format!("extra{i}"), &ous[ou_name]).await;
        known.accounts.push(added.id);
    }
    let (_, second) = refresh_org(&aws, &loc, &known, None).await;
    assert_eq!(second, first, "the same requests with 4 more accounts");
    // With hints: one more listing, for the Sandbox OU, which now holds accounts too.
    let hints = state_hints(&aws, &loc, &known).await;
    let (_, second_hinted) = refresh_org(&aws, &loc, &known, Some(hints.clone())).await;
    let mut expected_more = expected_hinted.clone();
    expected_more.insert("ListAccountsForParent".into(), account_parents + 1);
    assert_eq!(second_hinted, expected_more);

    // An account moved outside landfall is still seen where it is now, at the same cost.
    let moved = &accounts[4];
    org.move_account()
        .account_id(&moved.id)
        .source_parent_id(&ous["NonProd"])
        .destination_parent_id(&ous["Suspended"])
        .send()
        .await
        .unwrap();
    let (read, third) = refresh_org(&aws, &loc, &known, None).await;
    assert_eq!(third, first);
    let moved_live = read.iter().find(|l| l.id == moved.id).unwrap();
    assert_eq!(moved_live.attrs["parent_id"], json!(ous["Suspended"]));
    // With state's hints (which still place it in NonProd) it is missing from NonProd's listing:
    // ListParents and DescribeAccount find where it went.
    let (read, third_hinted) = refresh_org(&aws, &loc, &known, Some(hints)).await;
    let mut expected_moved = expected_more.clone();
    expected_moved.insert("ListParents".into(), 1);
    expected_moved.insert("DescribeAccount".into(), 1);
    assert_eq!(third_hinted, expected_moved);
    let moved_hinted = read.iter().find(|l| l.id == moved.id).unwrap();
    assert_eq!(moved_hinted.attrs["parent_id"], json!(ous["Suspended"]));
    assert_eq!(moved.attrs["parent_id"], json!(ous["NonProd"]));

    // A tag changed outside landfall is not read by refresh, but the next update sets it back.
    org.tag_resource()
        .resource_id(&moved.id)
        .tags(
            aws_sdk_organizations::types::Tag::builder()
                .key("env")
                .value("changed")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let mut state = moved.attrs.clone();
    state.insert("parent_id".into(), moved_live.attrs["parent_id"].clone());
    let updated = provider::update("account", &cx, &moved.id, &state, &moved.attrs)
        .await
        .unwrap();
    assert_eq!(updated.attrs["parent_id"], json!(ous["NonProd"]));
    assert_eq!(updated.attrs["tags"], json!({"env": "dev"}));

    // Adoption still works during a refresh: an OU landfall created but state lost is found by its tag.
    let lost = ou(&cx, "organizational_unit.lost", "Lost", &root_id).await;
    let cache = ReadCache::default();
    let refreshing = Cx {
        cache: Some(&cache),
        ..cx
    };
    let read = provider::read("organizational_unit", &refreshing, &known.ous)
        .await
        .unwrap();
    assert_eq!(read.len(), known.ous.len() + 1);
    assert_eq!(read.iter().find(|l| l.id == lost.id), Some(&lost));
}

/// Creates whose answer is lost after AWS acted (the fault proxy forwards the request, then drops the
/// connection): the retry finds what the first attempt made, by its address and lineage tags, instead
/// of making a second OU or policy (or failing on the duplicate name).
#[tokio::test]
async fn ou_and_policy_creates_whose_answer_was_lost_are_found_not_repeated() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(
        &moto,
        &[
            "--lose-response",
            "CreateOrganizationalUnit",
            "--lose-response",
            "CreatePolicy",
        ],
    );
    let aws = Aws::for_endpoint(&proxy.endpoint, landfall::aws::Options::new("eu-west-1")).await;
    let loc = location();
    let cx = cx(&aws, &loc);
    let main = provider::create(
        "organization",
        &cx,
        "organization.main",
        &attrs(json!({"feature_set": "ALL", "enabled_policy_types": ["SERVICE_CONTROL_POLICY"]})),
    )
    .await
    .unwrap();
    let root = s(&main, "root_id").to_string();
    let ou = provider::create(
        "organizational_unit",
        &cx,
        "organizational_unit.apps",
        &attrs(json!({"name": "Apps", "parent_id": root, "tags": {}})),
    )
    .await
    .unwrap();
    let policy = provider::create(
        "policy",
        &cx,
        "policy.deny",
        &attrs(json!({
            "name": "deny",
            "description": "",
            "type": "SERVICE_CONTROL_POLICY",
            "content": {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]},
            "tags": {},
        })),
    )
    .await
    .unwrap();
    assert_eq!(proxy.counts()["lost_responses"], 2);

    let org = independent(&moto).await;
    let ous = org
        .list_organizational_units_for_parent()
        .parent_id(&root)
        .send()
        .await
        .unwrap();
    assert_eq!(ous.organizational_units().len(), 1, "{ous:?}");
    assert_eq!(ous.organizational_units()[0].id(), Some(ou.id.as_str()));
    let policies = org
        .list_policies()
        .filter(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
        .send()
        .await
        .unwrap();
    let ours: Vec<_> = policies
        .policies()
        .iter()
        .filter(|p| !p.aws_managed())
        .collect();
    assert_eq!(ours.len(), 1, "{policies:?}");
    assert_eq!(ours[0].id(), Some(policy.id.as_str()));
}
