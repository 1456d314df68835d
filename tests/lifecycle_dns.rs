//! The lifecycle of the DNS kinds (Route 53 private hosted zones and their VPC associations across
//! accounts), as in `tests/lifecycle.rs`: create, change in place, replacement with a dependent
//! following, rename through `[[moved]]`, drift, deletion outside, `state rm` + `import`, destroy;
//! each step checked by an independent read of the emulator and followed by an empty plan.
//!
//! Cross-account association needs the emulator extension
//! `tools/moto/extensions/route53_vpc_association_authorization.py` (moto 5.2.5 has no association
//! authorizations and finds zones only in the caller's own account).

mod common;

use aws_sdk_route53::types::{Vpc, VpcRegion};
use common::project::Project;

const REGION: &str = "eu-west-1";

async fn route53(p: &Project) -> aws_sdk_route53::Client {
    aws_sdk_route53::Client::new(&p.moto.sdk_config().await)
}

async fn member_route53(p: &Project, account: &str) -> aws_sdk_route53::Client {
    aws_sdk_route53::Client::new(&p.moto.member_config(account).await)
}

fn vpc(id: &str) -> Vpc {
    Vpc::builder()
        .vpc_id(id)
        .vpc_region(VpcRegion::from(REGION))
        .build()
}

/// A private zone as the emulator holds it: (id, name, comment, VPC ids sorted, user tags sorted).
#[derive(Debug, Clone, PartialEq)]
struct Zone {
    id: String,
    name: String,
    comment: String,
    vpcs: Vec<String>,
    tags: Vec<(String, String)>,
}

/// Every hosted zone of the management account.
async fn zones(p: &Project) -> Vec<Zone> {
    let r53 = route53(p).await;
    let listed = r53.list_hosted_zones().send().await.unwrap();
    let mut found = Vec::new();
    for z in listed.hosted_zones() {
        let id = z.id().trim_start_matches("/hostedzone/").to_string();
        let got = r53.get_hosted_zone().id(&id).send().await.unwrap();
        let mut vpcs: Vec<String> = got
            .vpcs()
            .iter()
            .map(|v| v.vpc_id().unwrap().to_string())
            .collect();
        vpcs.sort();
        let tags = r53
            .list_tags_for_resource()
            .resource_type(aws_sdk_route53::types::TagResourceType::Hostedzone)
            .resource_id(&id)
            .send()
            .await
            .unwrap();
        let mut tags: Vec<(String, String)> = tags
            .resource_tag_set()
            .map(|s| s.tags().to_vec())
            .unwrap_or_default()
            .iter()
            .filter(|t| !t.key().unwrap().starts_with("landfall:"))
            .map(|t| (t.key().unwrap().into(), t.value().unwrap().into()))
            .collect();
        tags.sort();
        found.push(Zone {
            id,
            name: z.name().into(),
            comment: z
                .config()
                .and_then(|c| c.comment())
                .unwrap_or_default()
                .into(),
            vpcs,
            tags,
        });
    }
    found
}

#[track_caller]
fn one(found: Vec<Zone>) -> Zone {
    assert_eq!(found.len(), 1, "exactly one zone: {found:?}");
    found[0].clone()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

const ZONE: &str = r#"
[vpc.a]
cidr_block = "10.1.0.0/16"

[vpc.b]
cidr_block = "10.2.0.0/16"

[vpc.c]
cidr_block = "10.3.0.0/16"

[route53_zone.internal]
name = "internal.acme.example"
comment = "platform"
vpc_id = "${vpc.a.id}"
tags = { team = "platform" }

[route53_zone_association.c]
zone_id = "${route53_zone.internal.id}"
vpc_id = "${vpc.c.id}"
"#;

#[tokio::test(flavor = "multi_thread")]
async fn private_zone_lifecycle() {
    let p = Project::new(ZONE);
    p.apply();
    p.expect_converged();
    let (a, b, c) = (p.id("main.vpc.a"), p.id("main.vpc.b"), p.id("main.vpc.c"));
    let zone = one(zones(&p).await);
    assert_eq!(zone.id, p.id("main.route53_zone.internal"));
    assert_eq!(
        (zone.name.as_str(), zone.comment.as_str()),
        ("internal.acme.example.", "platform")
    );
    assert_eq!(zone.vpcs, sorted(vec![a.clone(), c.clone()]));
    assert_eq!(zone.tags, vec![("team".into(), "platform".into())]);
    assert_eq!(
        p.id("main.route53_zone_association.c"),
        format!("{}:{c}", zone.id)
    );

    // In place: the comment, a tag, and the VPC it was created with (b joins, a leaves).
    p.change(
        &[
            ("comment = \"platform\"", "comment = \"platform DNS\""),
            ("team = \"platform\"", "team = \"network\""),
            ("vpc_id = \"${vpc.a.id}\"", "vpc_id = \"${vpc.b.id}\""),
        ],
        &["~ main.route53_zone.internal"],
    );
    let changed = one(zones(&p).await);
    assert_eq!(changed.id, zone.id, "changed in place");
    assert_eq!(changed.comment, "platform DNS");
    assert_eq!(changed.tags, vec![("team".into(), "network".into())]);
    assert_eq!(changed.vpcs, sorted(vec![b.clone(), c.clone()]));

    // Drift: the comment changed outside is put back.
    route53(&p)
        .await
        .update_hosted_zone_comment()
        .id(&zone.id)
        .comment("edited by hand")
        .send()
        .await
        .unwrap();
    p.expect_plan(&["~ main.route53_zone.internal"]);
    p.apply();
    p.expect_converged();
    assert_eq!(one(zones(&p).await).comment, "platform DNS");

    // Replace: a new name is a new zone; the association follows it to the new id.
    p.change(
        &[(
            "name = \"internal.acme.example\"",
            "name = \"corp.acme.example\"",
        )],
        &[
            "-/+ main.route53_zone.internal",
            "-/+ main.route53_zone_association.c",
        ],
    );
    let replaced = one(zones(&p).await);
    assert_ne!(replaced.id, zone.id);
    assert_eq!(replaced.name, "corp.acme.example.");
    assert_eq!(replaced.vpcs, sorted(vec![b.clone(), c.clone()]));

    // Rename through [[moved]]: nothing is created or deleted.
    p.rename_through_moved("route53_zone", "internal");
    p.expect_plan(&["has moved to"]);
    p.apply();
    p.expect_converged();
    assert_eq!(one(zones(&p).await).id, replaced.id);

    p.reimport("main.route53_zone.internal_renamed", &replaced.id);
    p.reimport(
        "main.route53_zone_association.c",
        &format!("{}:{c}", replaced.id),
    );

    // Deleted outside: the association is made again, then the zone.
    route53(&p)
        .await
        .disassociate_vpc_from_hosted_zone()
        .hosted_zone_id(&replaced.id)
        .vpc(vpc(&c))
        .send()
        .await
        .unwrap();
    p.expect_plan(&["+ main.route53_zone_association.c"]);
    p.apply();
    p.expect_converged();
    assert_eq!(
        one(zones(&p).await).vpcs,
        sorted(vec![b.clone(), c.clone()])
    );

    p.destroy(&[]);
    assert!(zones(&p).await.is_empty());
}

/// A zone deleted outside is created again; a zone holding records is deleted only with
/// `force_destroy`.
#[tokio::test(flavor = "multi_thread")]
async fn zone_deleted_outside_and_force_destroy() {
    let p = Project::new(ZONE);
    p.apply();
    let zone = one(zones(&p).await);
    let r53 = route53(&p).await;
    r53.delete_hosted_zone().id(&zone.id).send().await.unwrap();
    p.expect_plan(&[
        "+ main.route53_zone.internal",
        "+ main.route53_zone_association.c",
    ]);
    p.apply();
    p.expect_converged();
    let again = one(zones(&p).await);
    assert_ne!(again.id, zone.id);

    // A record made outside: destroy refuses (HostedZoneNotEmpty) until force_destroy is set.
    add_record(&r53, &again.id).await;
    let out = p.run(&["destroy", "--env", "test", "--auto-approve"]);
    assert_ne!(out.status.code(), Some(0), "{}", common::cli::text(&out));
    assert!(common::cli::text(&out).contains("HostedZoneNotEmpty"));
    assert_eq!(one(zones(&p).await).id, again.id, "still there");
    p.edit(&[(
        "tags = { team = \"platform\" }",
        "tags = { team = \"platform\" }\nforce_destroy = true",
    )]);
    p.apply();
    p.destroy(&[]);
    assert!(zones(&p).await.is_empty());
}

async fn add_record(r53: &aws_sdk_route53::Client, zone: &str) {
    use aws_sdk_route53::types::{
        Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
    };
    let set = ResourceRecordSet::builder()
        .name("db.internal.acme.example")
        .r#type(RrType::A)
        .ttl(300)
        .resource_records(
            ResourceRecord::builder()
                .value("10.1.0.10")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let change = Change::builder()
        .action(ChangeAction::Create)
        .resource_record_set(set)
        .build()
        .unwrap();
    r53.change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(ChangeBatch::builder().changes(change).build().unwrap())
        .send()
        .await
        .unwrap();
}

const CROSS_ACCOUNT: &str = r#"
[organization.main]

[account.dev]
name = "dev"
email = "aws+dev@example.com"
parent_id = "${organization.main.root_id}"

[vpc.shared]
cidr_block = "10.0.0.0/16"

[vpc.dev]
account = "${account.dev.id}"
cidr_block = "10.10.0.0/16"

[route53_zone.internal]
name = "internal.acme.example"
vpc_id = "${vpc.shared.id}"

[route53_zone_association.dev]
account = "${account.dev.id}"
zone_id = "${route53_zone.internal.id}"
vpc_id = "${vpc.dev.id}"
zone_owner_id = "${route53_zone.internal.owner_id}"
"#;

/// The zones a VPC is associated with, read from its own account: (zone id, owning account).
async fn zones_of_vpc(p: &Project, account: &str, vpc_id: &str) -> Vec<(String, String)> {
    let out = member_route53(p, account)
        .await
        .list_hosted_zones_by_vpc()
        .vpc_id(vpc_id)
        .vpc_region(VpcRegion::from(REGION))
        .send()
        .await
        .unwrap();
    out.hosted_zone_summaries()
        .iter()
        .map(|s| {
            let owner = s
                .owner()
                .and_then(|o| o.owning_account())
                .unwrap_or_default();
            (s.hosted_zone_id().to_string(), owner.to_string())
        })
        .collect()
}

async fn authorizations(p: &Project, zone: &str) -> Vec<String> {
    let out = route53(p)
        .await
        .list_vpc_association_authorizations()
        .hosted_zone_id(zone)
        .send()
        .await
        .unwrap();
    out.vpcs()
        .iter()
        .map(|v| v.vpc_id().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn cross_account_association_lifecycle() {
    let p = Project::new(CROSS_ACCOUNT);
    p.apply();
    p.expect_converged();
    let dev = p.id("main.account.dev");
    let (shared, dev_vpc) = (p.id("main.vpc.shared"), p.id("main.vpc.dev"));
    let zone = one(zones(&p).await);
    assert_eq!(zone.vpcs, sorted(vec![shared.clone(), dev_vpc.clone()]));
    // Read from the workload account: the zone is the management account's.
    assert_eq!(
        zones_of_vpc(&p, &dev, &dev_vpc).await,
        vec![(zone.id.clone(), "123456789012".to_string())]
    );
    // AWS's sequence ends by deleting the authorization.
    assert!(authorizations(&p, &zone.id).await.is_empty());

    // Without an authorization the workload account may not associate (what landfall must ask
    // for): disassociated outside, a plain AssociateVPCWithHostedZone from dev is refused.
    let dev_r53 = member_route53(&p, &dev).await;
    dev_r53
        .disassociate_vpc_from_hosted_zone()
        .hosted_zone_id(&zone.id)
        .vpc(vpc(&dev_vpc))
        .send()
        .await
        .unwrap();
    let refused = dev_r53
        .associate_vpc_with_hosted_zone()
        .hosted_zone_id(&zone.id)
        .vpc(vpc(&dev_vpc))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_route53::error::ProvideErrorMetadata::code(&refused),
        Some("NotAuthorizedException")
    );
    // landfall sees the association gone and makes it again, authorized.
    p.expect_plan(&["+ main.route53_zone_association.dev"]);
    p.apply();
    p.expect_converged();
    assert_eq!(zones_of_vpc(&p, &dev, &dev_vpc).await.len(), 1);
    assert!(authorizations(&p, &zone.id).await.is_empty());

    p.rename_through_moved("route53_zone_association", "dev");
    p.expect_plan(&["has moved to"]);
    p.apply();
    p.expect_converged();
    p.reimport(
        "main.route53_zone_association.dev_renamed",
        &format!("{}:{dev_vpc}", zone.id),
    );

    // Removing the association disassociates the workload VPC; the zone stays.
    let text = std::fs::read_to_string(p.path().join("stacks/main.toml")).unwrap();
    // (the association and its `[[moved]]` entry are the end of the stack).
    let cut = text.find("[route53_zone_association.dev_renamed]").unwrap();
    std::fs::write(p.path().join("stacks/main.toml"), &text[..cut]).unwrap();
    p.expect_plan(&["- main.route53_zone_association.dev_renamed"]);
    p.apply();
    p.expect_converged();
    assert!(zones_of_vpc(&p, &dev, &dev_vpc).await.is_empty());
    assert_eq!(one(zones(&p).await).vpcs, vec![shared.clone()]);

    p.destroy(&["--allow-account-closure"]);
    assert!(zones(&p).await.is_empty());
}

/// Regression for lost create answers: CreateHostedZone and AssociateVPCWithHostedZone are carried
/// out but their answers never arrive. The zone is found again by its CallerReference and the
/// association by the VPC's zones: one zone, one association, and the next plan is empty.
#[tokio::test(flavor = "multi_thread")]
async fn lost_create_answers_leave_one_zone_and_one_association() {
    use common::cli::{expect_code, landfall_via, text};
    let p = Project::new(ZONE);
    let proxy = common::moto::FaultProxy::start(
        &p.moto,
        &[
            "--lose-response",
            "CreateHostedZone",
            "--lose-response",
            "AssociateVPCWithHostedZone",
        ],
    );
    let out = landfall_via(
        p.path(),
        &proxy.endpoint,
        &p.moto,
        &["apply", "--env", "test", "--auto-approve"],
    );
    expect_code(&out, 0);
    assert_eq!(proxy.counts()["lost_responses"], 2, "{}", text(&out));
    p.expect_converged();
    let zone = one(zones(&p).await);
    let (a, c) = (p.id("main.vpc.a"), p.id("main.vpc.c"));
    assert_eq!(zone.vpcs, sorted(vec![a, c]));
    assert_eq!(zone.tags, vec![("team".into(), "platform".into())]);
    p.destroy(&[]);
}
