//! The IAM kinds against a real local emulator (moto): create/read round trips, batched reads, adoption
//! by tag, drift and its repair, policy version rotation, and deletion.
//!
//! Every test starts its own moto and checks what landfall did with an independent SDK client, not only
//! through landfall's own `read`.

mod common;

use common::moto::Moto;
use landfall::aws::Aws;
use landfall::provider::doc::canonical;
use landfall::provider::{self, Attrs, Cx, Live, Location, NoPending, ReadCache};
use serde_json::{Value, json};

const ACCOUNT: &str = "123456789012";

fn location() -> Location {
    Location {
        account: None,
        region: "eu-west-1".into(),
    }
}

fn cx<'a>(aws: &'a Aws, loc: &'a Location) -> Cx<'a> {
    Cx::standalone(aws, loc, "test")
}

async fn sdk(moto: &Moto) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(&moto.sdk_config().await)
}

fn attrs(value: Value) -> Attrs {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn trust(service: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole"
        }]
    })
}

fn allow(action: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]
    })
}

fn policy_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:policy/{name}")
}

/// The attributes of a role with every optional setting used.
fn role_attrs(name: &str, managed: &[&str]) -> Attrs {
    attrs(json!({
        "name": name,
        "path": "/",
        "description": "a test role",
        "assume_role_policy": trust("ec2.amazonaws.com"),
        "max_session_duration": 7200,
        "permissions_boundary": "",
        "managed_policy_arns": managed,
        // Written as JSON text, the way a configuration may give it.
        "inline_policies": {"read-s3": allow("s3:Get*").to_string()},
        "tags": {"team": "platform"},
    }))
}

fn customer_policy_attrs(name: &str, action: &str) -> Attrs {
    attrs(json!({
        "name": name,
        "path": "/",
        "description": "",
        "policy": allow(action),
        "tags": {"team": "platform"},
    }))
}

/// Compares like the engine does: documents by meaning, exclusive lists as sets, the rest as values.
/// Every desired attribute must be read back equal, so planning again would change nothing.
fn assert_matches(live: &Live, desired: &Attrs) {
    for (name, want) in desired {
        let got = live
            .attrs
            .get(name)
            .unwrap_or_else(|| panic!("`{name}` not read back for {}", live.id));
        match name.as_str() {
            "assume_role_policy" | "policy" => {
                assert_eq!(canonical(got), canonical(want), "`{name}` of {}", live.id)
            }
            "inline_policies" => {
                let canon = |v: &Value| -> Vec<(String, Value)> {
                    let mut items: Vec<(String, Value)> = v
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(k, d)| (k.clone(), canonical(d)))
                        .collect();
                    items.sort_by(|a, b| a.0.cmp(&b.0));
                    items
                };
                assert_eq!(canon(got), canon(want), "`{name}` of {}", live.id)
            }
            "managed_policy_arns" => {
                let sorted = |v: &Value| -> Vec<String> {
                    let mut items: Vec<String> = v
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect();
                    items.sort();
                    items
                };
                assert_eq!(sorted(got), sorted(want), "`{name}` of {}", live.id)
            }
            _ => assert_eq!(got, want, "`{name}` of {}", live.id),
        }
    }
}

async fn read_one(cx: &Cx<'_>, kind: &str, id: &str) -> Option<Live> {
    let found = provider::read(kind, cx, &[id.to_string()]).await.unwrap();
    found.into_iter().find(|l| l.id == id)
}

#[tokio::test]
async fn role_round_trip_reads_back_what_was_created() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let loc = location();
    let cx = cx(&aws, &loc);
    let iam = sdk(&moto).await;

    let boundary = provider::create(
        "iam_policy",
        &cx,
        "iam_policy.boundary",
        &customer_policy_attrs("boundary", "s3:*"),
    )
    .await
    .unwrap();
    let managed = provider::create(
        "iam_policy",
        &cx,
        "iam_policy.managed",
        &customer_policy_attrs("managed", "ec2:Describe*"),
    )
    .await
    .unwrap();
    assert_eq!(managed.id, policy_arn("managed"));

    let mut desired = role_attrs("app", &[&managed.id]);
    desired.insert("permissions_boundary".into(), boundary.id.clone().into());
    let created = provider::create("iam_role", &cx, "iam_role.app", &desired)
        .await
        .unwrap();
    assert_eq!(created.id, "app");
    assert_eq!(created.address.as_deref(), Some("iam_role.app"));
    assert_matches(&created, &desired);

    let live = read_one(&cx, "iam_role", "app").await.expect("role read");
    assert_matches(&live, &desired);
    assert_eq!(
        live.attrs["arn"],
        json!(format!("arn:aws:iam::{ACCOUNT}:role/app"))
    );
    assert_eq!(live.attrs["id"], json!("app"));
    assert_eq!(live.address.as_deref(), Some("iam_role.app"));
    assert_eq!(live.lineage.as_deref(), Some("test"));
    assert_eq!(live.attrs["tags"], json!({"team": "platform"}));

    // Independently: the role, its landfall tags, its attachment and inline policy are in IAM.
    let role = iam.get_role().role_name("app").send().await.unwrap();
    let role = role.role().unwrap();
    assert_eq!(role.max_session_duration(), Some(7200));
    assert_eq!(role.description(), Some("a test role"));
    let tags: Vec<(&str, &str)> = role.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert!(
        tags.contains(&("landfall:address", "iam_role.app")),
        "{tags:?}"
    );
    assert!(tags.contains(&("landfall:lineage", "test")), "{tags:?}");
    assert!(tags.contains(&("team", "platform")), "{tags:?}");
    let attached = iam
        .list_attached_role_policies()
        .role_name("app")
        .send()
        .await
        .unwrap();
    let attached: Vec<&str> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
        .collect();
    assert_eq!(attached, [managed.id.as_str()]);
    let inline = iam
        .get_role_policy()
        .role_name("app")
        .policy_name("read-s3")
        .send()
        .await
        .unwrap();
    assert_eq!(
        canonical(&json!(inline.policy_document())),
        canonical(&allow("s3:Get*"))
    );

    // The policies read back too, tags included.
    let live = read_one(&cx, "iam_policy", &managed.id).await.unwrap();
    assert_matches(&live, &customer_policy_attrs("managed", "ec2:Describe*"));
    assert_eq!(live.address.as_deref(), Some("iam_policy.managed"));
}

#[tokio::test]
async fn reading_many_roles_costs_a_constant_number_of_requests() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let loc = location();
    let cx = cx(&aws, &loc);

    let mut ids = Vec::new();
    for i in 0..20 {
        let name = format!("role-{i:02}");
        provider::create(
            "iam_role",
            &cx,
            &format!("iam_role.r{i}"),
            &role_attrs(&name, &[]),
        )
        .await
        .unwrap();
        ids.push(name);
    }

    let before = aws.stats().total();
    let one = provider::read("iam_role", &cx, &ids[..1]).await.unwrap();
    let cost_of_one = aws.stats().total() - before;

    let before = aws.stats().total();
    let all = provider::read("iam_role", &cx, &ids).await.unwrap();
    let cost_of_twenty = aws.stats().total() - before;

    // All 20 carry landfall's address tag, so even the read for one id reports them (adoption).
    assert_eq!(one.len(), 20);
    assert_eq!(all.len(), 20);
    for live in &all {
        let i = ids.iter().position(|id| *id == live.id).unwrap();
        assert_matches(live, &role_attrs(&ids[i], &[]));
    }
    // GetAccountAuthorizationDetails + ListRoles, one page each.
    assert_eq!(cost_of_twenty, 2, "{}", aws.stats().render());
    assert_eq!(cost_of_one, cost_of_twenty);

    // Groups: one call for any number.
    let before = aws.stats().total();
    provider::read("iam_group", &cx, &ids).await.unwrap();
    assert_eq!(aws.stats().total() - before, 1);
}

/// The reads of one refresh share a [`ReadCache`]: `iam_role`, `iam_group` and `iam_policy` share one
/// `GetAccountAuthorizationDetails` (roles, groups and customer managed policies at once) per account,
/// and `ListRoles` is fetched once. The results are the same as without the cache.
#[tokio::test]
async fn refresh_reads_share_one_authorization_details_listing() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let loc = location();
    let cx = cx(&aws, &loc);
    let iam = sdk(&moto).await;

    let policy = provider::create(
        "iam_policy",
        &cx,
        "iam_policy.p",
        &customer_policy_attrs("p", "s3:*"),
    )
    .await
    .unwrap();
    provider::create(
        "iam_role",
        &cx,
        "iam_role.r",
        &role_attrs("r", &[policy.id.as_str()]),
    )
    .await
    .unwrap();
    let group = attrs(json!({
        "name": "g",
        "path": "/",
        "managed_policy_arns": [policy.id],
        "inline_policies": {"logs": allow("logs:*")},
    }));
    provider::create("iam_group", &cx, "iam_group.g", &group)
        .await
        .unwrap();
    // Created by someone else: reported only when asked for.
    iam.create_role()
        .role_name("foreign")
        .description("not ours")
        .assume_role_policy_document(trust("ec2.amazonaws.com").to_string())
        .send()
        .await
        .unwrap();

    let groups: Vec<(&str, Vec<String>)> = vec![
        ("iam_role", vec!["r".to_string(), "foreign".to_string()]),
        ("iam_group", vec!["g".to_string()]),
        ("iam_policy", vec![policy.id.clone()]),
    ];
    // Without the cache: GetAccountAuthorizationDetails + ListRoles for roles,
    // GetAccountAuthorizationDetails for groups, GetAccountAuthorizationDetails + ListPolicyTags for
    // the one policy.
    let (fresh, fresh_cost) = read_groups(&aws, &loc, None, &groups).await;
    assert_eq!(fresh_cost, 5, "{}", aws.stats().render());

    let cache = ReadCache::default();
    let (shared, shared_cost) = read_groups(&aws, &loc, Some(&cache), &groups).await;
    // One GetAccountAuthorizationDetails for the three kinds and ListPolicyTags. No ListRoles: during
    // a refresh the description and maximum session duration of roles in state are compared with
    // state, so they are left out; everything else is what a fresh read reports.
    assert_eq!(shared_cost, 2, "{}", aws.stats().render());
    let mut fresh_but_settings = fresh.clone();
    for role in &mut fresh_but_settings[0] {
        role.attrs.remove("description");
        role.attrs.remove("max_session_duration");
    }
    assert_eq!(shared, fresh_but_settings);

    let ids: Vec<Vec<&str>> = shared
        .iter()
        .map(|found| found.iter().map(|l| l.id.as_str()).collect())
        .collect();
    assert_eq!(
        ids,
        [vec!["foreign", "r"], vec!["g"], vec![policy.id.as_str()]]
    );
    assert_matches(&fresh[0][1], &role_attrs("r", &[policy.id.as_str()]));
    assert_eq!(fresh[0][0].attrs["description"], json!("not ours"));
    assert_matches(&shared[1][0], &group);
    assert_matches(&shared[2][0], &customer_policy_attrs("p", "s3:*"));

    // Within the same refresh, neither listing is fetched again.
    let (again, again_cost) = read_groups(&aws, &loc, Some(&cache), &groups).await;
    assert_eq!(
        again_cost,
        1,
        "only ListPolicyTags: {}",
        aws.stats().render()
    );
    assert_eq!(again, fresh_but_settings);
}

/// Reads each (kind, ids) group as a refresh does, with `cache`: the results of each group (sorted by
/// id) and the number of requests sent.
async fn read_groups(
    aws: &Aws,
    loc: &Location,
    cache: Option<&ReadCache>,
    groups: &[(&str, Vec<String>)],
) -> (Vec<Vec<Live>>, u64) {
    let cx = Cx {
        aws,
        loc,
        lineage: "",
        pending: None,
        record_pending: &NoPending,
        cache,
        moves: &[],
    };
    let before = aws.stats().total();
    let mut out = Vec::new();
    for (kind, ids) in groups {
        let mut found = provider::read(kind, &cx, ids).await.unwrap();
        found.sort_by(|a, b| a.id.cmp(&b.id));
        out.push(found);
    }
    (out, aws.stats().total() - before)
}

#[tokio::test]
async fn read_adopts_tagged_resources_and_ignores_foreign_ones() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let loc = location();
    let cx = cx(&aws, &loc);
    let iam = sdk(&moto).await;

    // Created by landfall, but the state never learned the ids (a crash after the create).
    provider::create("iam_role", &cx, "iam_role.lost", &role_attrs("lost", &[]))
        .await
        .unwrap();
    provider::create(
        "iam_policy",
        &cx,
        "iam_policy.lost",
        &customer_policy_attrs("lost", "s3:*"),
    )
    .await
    .unwrap();
    // Created by someone else.
    iam.create_role()
        .role_name("foreign")
        .assume_role_policy_document(trust("ec2.amazonaws.com").to_string())
        .send()
        .await
        .unwrap();
    iam.create_policy()
        .policy_name("foreign")
        .policy_document(allow("s3:*").to_string())
        .send()
        .await
        .unwrap();

    let roles = provider::read("iam_role", &cx, &[]).await.unwrap();
    let found: Vec<(&str, Option<&str>)> = roles
        .iter()
        .map(|l| (l.id.as_str(), l.address.as_deref()))
        .collect();
    assert_eq!(found, [("lost", Some("iam_role.lost"))]);
    assert_eq!(roles[0].lineage.as_deref(), Some("test"));
    assert!(
        !roles[0].attrs["tags"]
            .as_object()
            .unwrap()
            .keys()
            .any(|k| k.starts_with("landfall:"))
    );

    let policies = provider::read("iam_policy", &cx, &[]).await.unwrap();
    let found: Vec<(&str, Option<&str>)> = policies
        .iter()
        .map(|l| (l.id.as_str(), l.address.as_deref()))
        .collect();
    assert_eq!(
        found,
        [(policy_arn("lost").as_str(), Some("iam_policy.lost"))]
    );

    // A foreign role is reported when its id is asked for, without an address; unknown ids are absent.
    let roles = provider::read("iam_role", &cx, &["foreign".into(), "missing".into()])
        .await
        .unwrap();
    let foreign = roles.iter().find(|l| l.id == "foreign").unwrap();
    assert_eq!(foreign.address, None);
    assert_eq!(foreign.attrs["description"], json!(""));
    assert_eq!(foreign.attrs["max_session_duration"], json!(3600));
    assert_eq!(foreign.attrs["permissions_boundary"], json!(""));
    assert_eq!(foreign.attrs["managed_policy_arns"], json!([]));
    assert_eq!(foreign.attrs["inline_policies"], json!({}));
    assert_eq!(foreign.attrs["tags"], json!({}));
    assert!(roles.iter().all(|l| l.id != "missing"));
}

#[tokio::test]
async fn drift_is_read_and_update_reverts_it() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let loc = location();
    let cx = cx(&aws, &loc);
    let iam = sdk(&moto).await;

    let wanted = provider::create(
        "iam_policy",
        &cx,
        "iam_policy.wanted",
        &customer_policy_attrs("wanted", "s3:*"),
    )
    .await
    .unwrap();
    let extra = provider::create(
        "iam_policy",
        &cx,
        "iam_policy.extra",
        &customer_policy_attrs("extra", "ec2:*"),
    )
    .await
    .unwrap();
    let desired = role_attrs("drifty", &[&wanted.id]);
    provider::create("iam_role", &cx, "iam_role.drifty", &desired)
        .await
        .unwrap();

    // Someone changes the role by hand.
    iam.attach_role_policy()
        .role_name("drifty")
        .policy_arn(&extra.id)
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name("drifty")
        .policy_name("sneaky")
        .policy_document(allow("iam:*").to_string())
        .send()
        .await
        .unwrap();
    iam.tag_role()
        .role_name("drifty")
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("team")
                .value("other")
                .build()
                .unwrap(),
        )
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("owner")
                .value("bob")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    iam.update_assume_role_policy()
        .role_name("drifty")
        .policy_document(trust("lambda.amazonaws.com").to_string())
        .send()
        .await
        .unwrap();
    iam.update_role()
        .role_name("drifty")
        .description("changed")
        .max_session_duration(3600)
        .send()
        .await
        .unwrap();

    let drifted = read_one(&cx, "iam_role", "drifty").await.unwrap();
    let mut managed: Vec<&str> = vec![&wanted.id, &extra.id];
    managed.sort();
    assert_eq!(drifted.attrs["managed_policy_arns"], json!(managed));
    assert!(drifted.attrs["inline_policies"].get("sneaky").is_some());
    assert_eq!(
        drifted.attrs["tags"],
        json!({"team": "other", "owner": "bob"})
    );
    assert_eq!(
        canonical(&drifted.attrs["assume_role_policy"]),
        canonical(&trust("lambda.amazonaws.com"))
    );
    assert_eq!(drifted.attrs["description"], json!("changed"));
    assert_eq!(drifted.attrs["max_session_duration"], json!(3600));
    // Drift does not touch landfall's own tags.
    assert_eq!(drifted.address.as_deref(), Some("iam_role.drifty"));

    let updated = provider::update("iam_role", &cx, "drifty", &drifted.attrs, &desired)
        .await
        .unwrap();
    assert_matches(&updated, &desired);
    let live = read_one(&cx, "iam_role", "drifty").await.unwrap();
    assert_matches(&live, &desired);
    assert_eq!(live.address.as_deref(), Some("iam_role.drifty"));

    // Independently.
    let attached = iam
        .list_attached_role_policies()
        .role_name("drifty")
        .send()
        .await
        .unwrap();
    let attached: Vec<&str> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
        .collect();
    assert_eq!(attached, [wanted.id.as_str()]);
    let inline = iam
        .list_role_policies()
        .role_name("drifty")
        .send()
        .await
        .unwrap();
    assert_eq!(inline.policy_names(), ["read-s3"]);
    let tags = iam
        .list_role_tags()
        .role_name("drifty")
        .send()
        .await
        .unwrap();
    let mut tags: Vec<(&str, &str)> = tags.tags().iter().map(|t| (t.key(), t.value())).collect();
    tags.sort();
    assert_eq!(
        tags,
        [
            ("landfall:address", "iam_role.drifty"),
            ("landfall:lineage", "test"),
            ("team", "platform")
        ]
    );

    // A permissions boundary is put, then removed, in place.
    let mut bounded = desired.clone();
    bounded.insert("permissions_boundary".into(), wanted.id.clone().into());
    provider::update("iam_role", &cx, "drifty", &live.attrs, &bounded)
        .await
        .unwrap();
    let live = read_one(&cx, "iam_role", "drifty").await.unwrap();
    assert_matches(&live, &bounded);
    provider::update("iam_role", &cx, "drifty", &live.attrs, &desired)
        .await
        .unwrap();
    let role = iam.get_role().role_name("drifty").send().await.unwrap();
    assert!(role.role().unwrap().permissions_boundary().is_none());
}

#[tokio::test]
async fn group_round_trip_drift_and_delete() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let loc = location();
    let cx = cx(&aws, &loc);
    let iam = sdk(&moto).await;

    let policy = provider::create(
        "iam_policy",
        &cx,
        "iam_policy.p",
        &customer_policy_attrs("p", "s3:*"),
    )
    .await
    .unwrap();
    let desired = attrs(json!({
        "name": "admins",
        "path": "/",
        "managed_policy_arns": [policy.id],
        "inline_policies": {"logs": allow("logs:*")},
    }));
    let created = provider::create("iam_group", &cx, "iam_group.admins", &desired)
        .await
        .unwrap();
    assert_eq!(created.id, "admins");
    let live = read_one(&cx, "iam_group", "admins").await.unwrap();
    assert_matches(&live, &desired);
    assert_eq!(
        live.attrs["arn"],
        json!(format!("arn:aws:iam::{ACCOUNT}:group/admins"))
    );

    // Drift: an extra inline policy, a detached managed policy.
    iam.put_group_policy()
        .group_name("admins")
        .policy_name("extra")
        .policy_document(allow("iam:*").to_string())
        .send()
        .await
        .unwrap();
    iam.detach_group_policy()
        .group_name("admins")
        .policy_arn(&policy.id)
        .send()
        .await
        .unwrap();
    let drifted = read_one(&cx, "iam_group", "admins").await.unwrap();
    assert_eq!(drifted.attrs["managed_policy_arns"], json!([]));
    assert!(drifted.attrs["inline_policies"].get("extra").is_some());

    // (A path change goes through UpdateGroup's NewPath, which moto 5.2.5 ignores unless the group is
    // renamed too, so it is not checked here.)
    let updated = provider::update("iam_group", &cx, "admins", &drifted.attrs, &desired)
        .await
        .unwrap();
    assert_matches(&updated, &desired);
    let live = read_one(&cx, "iam_group", "admins").await.unwrap();
    assert_matches(&live, &desired);
    assert_eq!(updated.attrs["arn"], live.attrs["arn"]);

    // Delete with a member, an attachment and an inline policy present.
    iam.create_user().user_name("alice").send().await.unwrap();
    iam.add_user_to_group()
        .group_name("admins")
        .user_name("alice")
        .send()
        .await
        .unwrap();
    provider::delete("iam_group", &cx, "admins", &live.attrs)
        .await
        .unwrap();
    let err = iam
        .get_group()
        .group_name("admins")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_iam::error::ProvideErrorMetadata::code(&err),
        Some("NoSuchEntity")
    );
    assert!(read_one(&cx, "iam_group", "admins").await.is_none());
    provider::delete("iam_group", &cx, "admins", &live.attrs)
        .await
        .unwrap();
}

#[tokio::test]
async fn policy_updates_rotate_versions_at_five() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let loc = location();
    let cx = cx(&aws, &loc);
    let iam = sdk(&moto).await;

    let created = provider::create(
        "iam_policy",
        &cx,
        "iam_policy.rot",
        &customer_policy_attrs("rot", "s3:Action0"),
    )
    .await
    .unwrap();
    let arn = created.id.clone();
    let mut current = read_one(&cx, "iam_policy", &arn).await.unwrap();
    for i in 1..=7 {
        let mut desired = customer_policy_attrs("rot", &format!("s3:Action{i}"));
        desired.insert(
            "tags".into(),
            json!({"team": "platform", "round": i.to_string()}),
        );
        provider::update("iam_policy", &cx, &arn, &current.attrs, &desired)
            .await
            .unwrap();
        current = read_one(&cx, "iam_policy", &arn).await.unwrap();
        assert_matches(&current, &desired);

        let versions = iam
            .list_policy_versions()
            .policy_arn(&arn)
            .send()
            .await
            .unwrap();
        let versions = versions.versions();
        assert_eq!(versions.len(), (i + 1).min(5), "after update {i}");
        let default = versions.iter().find(|v| v.is_default_version()).unwrap();
        let default = iam
            .get_policy_version()
            .policy_arn(&arn)
            .version_id(default.version_id().unwrap())
            .send()
            .await
            .unwrap();
        let document = default.policy_version().unwrap().document().unwrap();
        assert_eq!(
            canonical(&json!(document)),
            canonical(&allow(&format!("s3:Action{i}")))
        );
    }
    // Seven updates: v1..v8 made, the three oldest gone.
    let versions = iam
        .list_policy_versions()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    let mut ids: Vec<&str> = versions
        .versions()
        .iter()
        .filter_map(|v| v.version_id())
        .collect();
    ids.sort();
    assert_eq!(ids, ["v4", "v5", "v6", "v7", "v8"]);

    // An update that changes only tags creates no version.
    let mut desired = customer_policy_attrs("rot", "s3:Action7");
    desired.insert("tags".into(), json!({"team": "core"}));
    provider::update("iam_policy", &cx, &arn, &current.attrs, &desired)
        .await
        .unwrap();
    let live = read_one(&cx, "iam_policy", &arn).await.unwrap();
    assert_matches(&live, &desired);
    let versions = iam
        .list_policy_versions()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(versions.versions().len(), 5);
}

#[tokio::test]
async fn delete_clears_attachments_and_is_idempotent() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let loc = location();
    let cx = cx(&aws, &loc);
    let iam = sdk(&moto).await;

    let policy = provider::create(
        "iam_policy",
        &cx,
        "iam_policy.shared",
        &customer_policy_attrs("shared", "s3:*"),
    )
    .await
    .unwrap();
    let role = provider::create(
        "iam_role",
        &cx,
        "iam_role.doomed",
        &role_attrs("doomed", &[&policy.id]),
    )
    .await
    .unwrap();
    // Attached elsewhere too, with an extra version and an instance profile on the role.
    iam.create_group().group_name("g").send().await.unwrap();
    iam.attach_group_policy()
        .group_name("g")
        .policy_arn(&policy.id)
        .send()
        .await
        .unwrap();
    iam.create_user().user_name("u").send().await.unwrap();
    iam.attach_user_policy()
        .user_name("u")
        .policy_arn(&policy.id)
        .send()
        .await
        .unwrap();
    iam.create_policy_version()
        .policy_arn(&policy.id)
        .policy_document(allow("s3:Get*").to_string())
        .set_as_default(true)
        .send()
        .await
        .unwrap();
    iam.create_instance_profile()
        .instance_profile_name("doomed-profile")
        .send()
        .await
        .unwrap();
    iam.add_role_to_instance_profile()
        .instance_profile_name("doomed-profile")
        .role_name("doomed")
        .send()
        .await
        .unwrap();

    // The role: its attachment, inline policy and instance profile membership go first.
    provider::delete("iam_role", &cx, &role.id, &role.attrs)
        .await
        .unwrap();
    let err = iam.get_role().role_name("doomed").send().await.unwrap_err();
    assert_eq!(
        aws_sdk_iam::error::ProvideErrorMetadata::code(&err),
        Some("NoSuchEntity")
    );
    let profile = iam
        .get_instance_profile()
        .instance_profile_name("doomed-profile")
        .send()
        .await
        .unwrap();
    assert!(profile.instance_profile().unwrap().roles().is_empty());

    // The policy: detached from the group and the user, its old version deleted.
    provider::delete("iam_policy", &cx, &policy.id, &policy.attrs)
        .await
        .unwrap();
    let err = iam
        .get_policy()
        .policy_arn(&policy.id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_iam::error::ProvideErrorMetadata::code(&err),
        Some("NoSuchEntity")
    );
    let attached = iam
        .list_attached_group_policies()
        .group_name("g")
        .send()
        .await
        .unwrap();
    assert!(attached.attached_policies().is_empty());

    // Deleting again succeeds.
    provider::delete("iam_role", &cx, &role.id, &role.attrs)
        .await
        .unwrap();
    provider::delete("iam_policy", &cx, &policy.id, &policy.attrs)
        .await
        .unwrap();
    assert!(read_one(&cx, "iam_role", "doomed").await.is_none());
    assert!(read_one(&cx, "iam_policy", &policy.id).await.is_none());
}

#[tokio::test]
async fn password_policy_and_account_alias() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let loc = location();
    let cx = cx(&aws, &loc);
    let iam = sdk(&moto).await;

    // Absent: nothing read.
    let ids = ["password-policy".to_string()];
    assert!(
        provider::read("iam_password_policy", &cx, &ids)
            .await
            .unwrap()
            .is_empty()
    );
    let alias_ids = ["account-alias".to_string()];
    assert!(
        provider::read("iam_account_alias", &cx, &alias_ids)
            .await
            .unwrap()
            .is_empty()
    );

    let desired = attrs(json!({
        "minimum_password_length": 14,
        "require_symbols": true,
        "require_numbers": true,
        "require_uppercase_characters": true,
        "require_lowercase_characters": false,
        "allow_users_to_change_password": true,
        "max_password_age": 90,
        "password_reuse_prevention": 0,
    }));
    let created = provider::create(
        "iam_password_policy",
        &cx,
        "iam_password_policy.this",
        &desired,
    )
    .await
    .unwrap();
    assert_matches(&created, &desired);
    let live = read_one(&cx, "iam_password_policy", "password-policy")
        .await
        .unwrap();
    assert_matches(&live, &desired);
    let policy = iam.get_account_password_policy().send().await.unwrap();
    let policy = policy.password_policy().unwrap();
    assert_eq!(policy.minimum_password_length(), Some(14));
    assert!(!policy.require_lowercase_characters());
    assert_eq!(policy.max_password_age(), Some(90));

    let mut changed = desired.clone();
    changed.insert("max_password_age".into(), json!(0));
    changed.insert("password_reuse_prevention".into(), json!(5));
    provider::update(
        "iam_password_policy",
        &cx,
        "password-policy",
        &live.attrs,
        &changed,
    )
    .await
    .unwrap();
    let live = read_one(&cx, "iam_password_policy", "password-policy")
        .await
        .unwrap();
    assert_matches(&live, &changed);

    provider::delete("iam_password_policy", &cx, "password-policy", &live.attrs)
        .await
        .unwrap();
    assert!(iam.get_account_password_policy().send().await.is_err());
    provider::delete("iam_password_policy", &cx, "password-policy", &live.attrs)
        .await
        .unwrap();

    // The alias: created, renamed in place, deleted.
    let desired = attrs(json!({"alias": "acme-prod"}));
    provider::create("iam_account_alias", &cx, "iam_account_alias.this", &desired)
        .await
        .unwrap();
    let live = read_one(&cx, "iam_account_alias", "account-alias")
        .await
        .unwrap();
    assert_matches(&live, &desired);
    let renamed = attrs(json!({"alias": "acme-production"}));
    provider::update(
        "iam_account_alias",
        &cx,
        "account-alias",
        &live.attrs,
        &renamed,
    )
    .await
    .unwrap();
    let aliases = iam.list_account_aliases().send().await.unwrap();
    assert_eq!(aliases.account_aliases(), ["acme-production"]);
    let live = read_one(&cx, "iam_account_alias", "account-alias")
        .await
        .unwrap();
    assert_matches(&live, &renamed);
    provider::delete("iam_account_alias", &cx, "account-alias", &live.attrs)
        .await
        .unwrap();
    let aliases = iam.list_account_aliases().send().await.unwrap();
    assert!(aliases.account_aliases().is_empty());
    provider::delete("iam_account_alias", &cx, "account-alias", &live.attrs)
        .await
        .unwrap();
}
