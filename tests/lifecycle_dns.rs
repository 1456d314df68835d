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

// ---- Route 53 Resolver ---------------------------------------------------------------------------

async fn resolver(p: &Project) -> aws_sdk_route53resolver::Client {
    aws_sdk_route53resolver::Client::new(&p.moto.sdk_config().await)
}

const RESOLVER: &str = r#"
[vpc.main]
cidr_block = "10.0.0.0/16"

[subnet.a]
vpc_id = "${vpc.main.id}"
cidr_block = "10.0.1.0/24"
availability_zone = "eu-west-1a"

[subnet.b]
vpc_id = "${vpc.main.id}"
cidr_block = "10.0.2.0/24"
availability_zone = "eu-west-1b"

[security_group.dns]
name = "dns"
vpc_id = "${vpc.main.id}"
description = "DNS to on-premises"

[route53_resolver_endpoint.out]
name = "outbound"
subnet_ids = ["${subnet.a.id}", "${subnet.b.id}"]
security_group_ids = ["${security_group.dns.id}"]
tags = { team = "network" }

[route53_resolver_rule.onprem]
name = "onprem"
domain_name = "corp.acme.internal"
target_ips = ["192.168.10.10", "192.168.10.11"]
resolver_endpoint_id = "${route53_resolver_endpoint.out.id}"
tags = { team = "network" }

[route53_resolver_rule_association.main]
resolver_rule_id = "${route53_resolver_rule.onprem.id}"
vpc_id = "${vpc.main.id}"
"#;

/// (id, name, direction, user tags) of every endpoint of the management account.
async fn endpoints(p: &Project) -> Vec<(String, String, String, Vec<(String, String)>)> {
    let rr = resolver(p).await;
    let out = rr.list_resolver_endpoints().send().await.unwrap();
    let mut found = Vec::new();
    for e in out.resolver_endpoints() {
        let tags = user_tags(&rr, e.arn().unwrap()).await;
        found.push((
            e.id().unwrap().into(),
            e.name().unwrap_or_default().into(),
            e.direction().unwrap().as_str().into(),
            tags,
        ));
    }
    found
}

async fn user_tags(rr: &aws_sdk_route53resolver::Client, arn: &str) -> Vec<(String, String)> {
    let out = rr
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    let mut tags: Vec<(String, String)> = out
        .tags()
        .iter()
        .filter(|t| !t.key().starts_with("landfall:"))
        .map(|t| (t.key().into(), t.value().into()))
        .collect();
    tags.sort();
    tags
}

/// (id, domain, target IPs, endpoint) of every rule the client's account owns.
async fn rules(rr: &aws_sdk_route53resolver::Client) -> Vec<(String, String, Vec<String>, String)> {
    let out = rr.list_resolver_rules().send().await.unwrap();
    out.resolver_rules()
        .iter()
        .map(|r| {
            let ips = r
                .target_ips()
                .iter()
                .map(|t| t.ip().unwrap().to_string())
                .collect();
            (
                r.id().unwrap().into(),
                r.domain_name().unwrap().trim_end_matches('.').into(),
                ips,
                r.resolver_endpoint_id().unwrap_or_default().into(),
            )
        })
        .collect()
}

/// (rule, VPC) of every rule association of the client's account.
async fn rule_associations(rr: &aws_sdk_route53resolver::Client) -> Vec<(String, String)> {
    let out = rr.list_resolver_rule_associations().send().await.unwrap();
    out.resolver_rule_associations()
        .iter()
        .map(|a| {
            (
                a.resolver_rule_id().unwrap().into(),
                a.vpc_id().unwrap().into(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn resolver_endpoint_rule_and_association_lifecycle() {
    let p = Project::new(RESOLVER);
    p.apply();
    p.expect_converged();
    let rr = resolver(&p).await;
    let vpc = p.id("main.vpc.main");
    let eps = endpoints(&p).await;
    assert_eq!(eps.len(), 1, "{eps:?}");
    let endpoint = eps[0].0.clone();
    assert_eq!(endpoint, p.id("main.route53_resolver_endpoint.out"));
    assert_eq!(
        (eps[0].1.as_str(), eps[0].2.as_str()),
        ("outbound", "OUTBOUND")
    );
    let found = rules(&rr).await;
    assert_eq!(found.len(), 1, "{found:?}");
    let (rule, domain, ips, via) = found[0].clone();
    assert_eq!(domain, "corp.acme.internal");
    assert_eq!(ips, vec!["192.168.10.10", "192.168.10.11"]);
    assert_eq!(via, endpoint);
    assert_eq!(
        rule_associations(&rr).await,
        vec![(rule.clone(), vpc.clone())]
    );

    // In place: the endpoint's name and tags, the rule's tags.
    p.change(
        &[
            ("name = \"outbound\"", "name = \"to-onprem\""),
            (
                "tags = { team = \"network\" }\n\n[route53_resolver_rule",
                "tags = { team = \"dns\" }\n\n[route53_resolver_rule",
            ),
        ],
        &["~ main.route53_resolver_endpoint.out"],
    );
    let eps = endpoints(&p).await;
    assert_eq!(eps[0].0, endpoint, "changed in place");
    assert_eq!(eps[0].1, "to-onprem");
    assert_eq!(eps[0].3, vec![("team".into(), "dns".into())]);

    // Drift: the endpoint renamed outside is put back.
    rr.update_resolver_endpoint()
        .resolver_endpoint_id(&endpoint)
        .name("by-hand")
        .send()
        .await
        .unwrap();
    p.expect_plan(&["~ main.route53_resolver_endpoint.out"]);
    p.apply();
    p.expect_converged();
    assert_eq!(endpoints(&p).await[0].1, "to-onprem");

    // Replace: a new domain is a new rule; the association follows it.
    p.change(
        &[(
            "domain_name = \"corp.acme.internal\"",
            "domain_name = \"ad.acme.internal\"",
        )],
        &[
            "-/+ main.route53_resolver_rule.onprem",
            "-/+ main.route53_resolver_rule_association.main",
        ],
    );
    let found = rules(&rr).await;
    assert_eq!(found.len(), 1, "the old rule is gone: {found:?}");
    let rule = found[0].0.clone();
    assert_eq!(found[0].1, "ad.acme.internal");
    assert_eq!(
        rule_associations(&rr).await,
        vec![(rule.clone(), vpc.clone())]
    );

    p.rename_through_moved("route53_resolver_rule", "onprem");
    p.expect_plan(&["has moved to"]);
    p.apply();
    p.expect_converged();
    assert_eq!(rules(&rr).await[0].0, rule);

    // Deleted outside: the association is made again.
    rr.disassociate_resolver_rule()
        .resolver_rule_id(&rule)
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
    p.expect_plan(&["+ main.route53_resolver_rule_association.main"]);
    p.apply();
    p.expect_converged();
    assert_eq!(
        rule_associations(&rr).await,
        vec![(rule.clone(), vpc.clone())]
    );

    p.reimport("main.route53_resolver_endpoint.out", &endpoint);
    p.reimport("main.route53_resolver_rule.onprem_renamed", &rule);
    p.reimport(
        "main.route53_resolver_rule_association.main",
        &format!("{rule}:{vpc}"),
    );

    p.destroy(&[]);
    assert!(endpoints(&p).await.is_empty());
    assert!(rules(&rr).await.is_empty());
    assert!(rule_associations(&rr).await.is_empty());
}

/// The subnets of the endpoint's IP addresses, sorted.
async fn endpoint_subnets(rr: &aws_sdk_route53resolver::Client, id: &str) -> Vec<String> {
    let out = rr
        .list_resolver_endpoint_ip_addresses()
        .resolver_endpoint_id(id)
        .send()
        .await
        .unwrap();
    let mut subnets: Vec<String> = out
        .ip_addresses()
        .iter()
        .map(|i| i.subnet_id().unwrap().to_string())
        .collect();
    subnets.sort();
    subnets
}

/// The rule's name and target IPs as the emulator holds them.
async fn rule_config(rr: &aws_sdk_route53resolver::Client, id: &str) -> (String, Vec<String>) {
    let out = rr
        .get_resolver_rule()
        .resolver_rule_id(id)
        .send()
        .await
        .unwrap();
    let rule = out.resolver_rule().unwrap();
    let ips = rule
        .target_ips()
        .iter()
        .map(|t| t.ip().unwrap().to_string())
        .collect();
    (rule.name().unwrap_or_default().into(), ips)
}

/// The Resolver steps the suite above leaves out: the rule changed in place and drifting (UpdateResolverRule,
/// emulator extension route53resolver_update_rule); the endpoint's subnets changed in place and drifting; the endpoint replaced, which AWS refuses to delete
/// while a rule uses it, so the new one is made first, the rule moved to it in place, then the old one
/// deleted (regression: landfall deleted first and the apply failed); the endpoint, rule and
/// association deleted outside (made again); the endpoint and the association renamed through
/// `[[moved]]`.
#[tokio::test(flavor = "multi_thread")]
async fn resolver_endpoint_replacement_moves_the_rule_before_deleting_the_old_endpoint() {
    use aws_sdk_route53resolver::types::{IpAddressUpdate, ResolverRuleConfig, TargetAddress};
    let p = Project::new(RESOLVER);
    p.apply();
    p.expect_converged();
    let rr = resolver(&p).await;
    let vpc = p.id("main.vpc.main");
    let endpoint = p.id("main.route53_resolver_endpoint.out");
    let rule = p.id("main.route53_resolver_rule.onprem");

    // In place: the rule's name and targets.
    p.change(
        &[
            (
                "target_ips = [\"192.168.10.10\", \"192.168.10.11\"]",
                "target_ips = [\"192.168.10.12\"]",
            ),
            ("name = \"onprem\"", "name = \"corp\""),
        ],
        &["~ main.route53_resolver_rule.onprem"],
    );
    assert_eq!(
        rule_config(&rr, &rule).await,
        ("corp".into(), vec!["192.168.10.12".into()])
    );

    // Drift: targets changed outside are put back.
    let by_hand = ResolverRuleConfig::builder()
        .target_ips(TargetAddress::builder().ip("10.9.9.9").build())
        .build();
    rr.update_resolver_rule()
        .resolver_rule_id(&rule)
        .config(by_hand)
        .send()
        .await
        .unwrap();
    p.expect_plan(&["~ main.route53_resolver_rule.onprem"]);
    p.apply();
    p.expect_converged();
    assert_eq!(rule_config(&rr, &rule).await.1, vec!["192.168.10.12"]);

    // In place: the endpoint moved from subnet b to a new subnet c (an address in c first, then b's
    // let go), and the same undone outside is put back.
    p.change(
        &[
            (
                "[route53_resolver_endpoint.out]",
                "[subnet.c]\nvpc_id = \"${vpc.main.id}\"\ncidr_block = \"10.0.3.0/24\"\navailability_zone = \"eu-west-1c\"\n\n[route53_resolver_endpoint.out]",
            ),
            (
                "subnet_ids = [\"${subnet.a.id}\", \"${subnet.b.id}\"]",
                "subnet_ids = [\"${subnet.a.id}\", \"${subnet.c.id}\"]",
            ),
        ],
        &["~ main.route53_resolver_endpoint.out"],
    );
    let (a, b, c) = (
        p.id("main.subnet.a"),
        p.id("main.subnet.b"),
        p.id("main.subnet.c"),
    );
    let mut want = vec![a.clone(), c.clone()];
    want.sort();
    assert_eq!(endpoints(&p).await[0].0, endpoint, "changed in place");
    assert_eq!(endpoint_subnets(&rr, &endpoint).await, want);
    let in_c = rr
        .list_resolver_endpoint_ip_addresses()
        .resolver_endpoint_id(&endpoint)
        .send()
        .await
        .unwrap();
    let in_c = in_c
        .ip_addresses()
        .iter()
        .find(|i| i.subnet_id() == Some(c.as_str()))
        .and_then(|i| i.ip_id())
        .unwrap()
        .to_string();
    rr.associate_resolver_endpoint_ip_address()
        .resolver_endpoint_id(&endpoint)
        .ip_address(IpAddressUpdate::builder().subnet_id(&b).build())
        .send()
        .await
        .unwrap();
    rr.disassociate_resolver_endpoint_ip_address()
        .resolver_endpoint_id(&endpoint)
        .ip_address(IpAddressUpdate::builder().ip_id(in_c).subnet_id(&c).build())
        .send()
        .await
        .unwrap();
    p.expect_plan(&["~ main.route53_resolver_endpoint.out"]);
    p.apply();
    p.expect_converged();
    assert_eq!(endpoint_subnets(&rr, &endpoint).await, want);

    // Replace: another security group is another endpoint, made before the old one goes; the rule
    // moves to it in place and stays the same rule.
    p.change(
        &[
            (
                "[route53_resolver_endpoint.out]",
                "[security_group.dns2]\nname = \"dns2\"\nvpc_id = \"${vpc.main.id}\"\ndescription = \"DNS, tighter\"\n\n[route53_resolver_endpoint.out]",
            ),
            (
                "security_group_ids = [\"${security_group.dns.id}\"]",
                "security_group_ids = [\"${security_group.dns2.id}\"]",
            ),
        ],
        &[
            "-/+ main.route53_resolver_endpoint.out",
            "create the new one, then delete the old",
            "~ main.route53_resolver_rule.onprem",
        ],
    );
    let eps = endpoints(&p).await;
    assert_eq!(eps.len(), 1, "the old endpoint is gone: {eps:?}");
    let replaced = eps[0].0.clone();
    assert_ne!(replaced, endpoint);
    let found = rules(&rr).await;
    assert_eq!(
        (found[0].0.as_str(), found[0].3.as_str()),
        (rule.as_str(), replaced.as_str())
    );

    // Deleted outside, in the order AWS requires (an endpoint goes only once no rule uses it, a rule
    // once no VPC is associated with it): all three made again, the new rule through the new endpoint.
    rr.disassociate_resolver_rule()
        .resolver_rule_id(&rule)
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
    rr.delete_resolver_rule()
        .resolver_rule_id(&rule)
        .send()
        .await
        .unwrap();
    rr.delete_resolver_endpoint()
        .resolver_endpoint_id(&replaced)
        .send()
        .await
        .unwrap();
    p.expect_plan(&[
        "+ main.route53_resolver_endpoint.out",
        "+ main.route53_resolver_rule.onprem",
        "+ main.route53_resolver_rule_association.main",
    ]);
    p.apply();
    p.expect_converged();
    let eps = endpoints(&p).await;
    assert_eq!(eps.len(), 1, "{eps:?}");
    let again = eps[0].0.clone();
    assert_ne!(again, replaced);
    let found = rules(&rr).await;
    assert_eq!(found.len(), 1, "{found:?}");
    let remade = found[0].0.clone();
    assert_ne!(remade, rule);
    assert_eq!(found[0].3, again);
    assert_eq!(
        rule_config(&rr, &remade).await,
        ("corp".into(), vec!["192.168.10.12".into()])
    );
    assert_eq!(
        rule_associations(&rr).await,
        vec![(remade.clone(), vpc.clone())]
    );

    // Renamed through [[moved]]: state follows, AWS is not touched.
    p.rename_through_moved("route53_resolver_endpoint", "out");
    p.rename_through_moved("route53_resolver_rule_association", "main");
    p.expect_plan(&["has moved to"]);
    p.apply();
    p.expect_converged();
    assert_eq!(endpoints(&p).await[0].0, again);
    assert_eq!(rule_associations(&rr).await, vec![(remade, vpc)]);
    assert_eq!(p.id("main.route53_resolver_endpoint.out_renamed"), again);

    p.destroy(&[]);
    assert!(endpoints(&p).await.is_empty());
    assert!(rules(&rr).await.is_empty());
    assert!(rule_associations(&rr).await.is_empty());
}

const SHARED_RULE: &str = r#"
[organization.main]
aws_service_access_principals = ["ram.amazonaws.com"]

[account.dev]
name = "dev"
email = "aws+dev@example.com"
parent_id = "${organization.main.root_id}"

[route53_resolver_rule.onprem]
domain_name = "corp.acme.internal"
target_ips = ["192.168.10.10"]

[ram_resource_share.dns]
name = "dns"
principals = ["${account.dev.id}"]
resource_arns = ["${route53_resolver_rule.onprem.arn}"]

[vpc.dev]
account = "${account.dev.id}"
cidr_block = "10.10.0.0/16"

[route53_resolver_rule_association.dev]
account = "${account.dev.id}"
resolver_rule_id = "${route53_resolver_rule.onprem.id}"
vpc_id = "${vpc.dev.id}"
depends_on = ["ram_resource_share.dns"]
"#;

#[tokio::test(flavor = "multi_thread")]
async fn resolver_rule_shared_through_ram_is_associated_from_the_workload_account() {
    let p = Project::new(SHARED_RULE);
    p.apply();
    p.expect_converged();
    let dev = p.id("main.account.dev");
    let dev_vpc = p.id("main.vpc.dev");
    let rule = p.id("main.route53_resolver_rule.onprem");
    let dev_rr = aws_sdk_route53resolver::Client::new(&p.moto.member_config(&dev).await);
    assert_eq!(
        rule_associations(&dev_rr).await,
        vec![(rule.clone(), dev_vpc.clone())]
    );
    assert_eq!(
        p.id("main.route53_resolver_rule_association.dev"),
        format!("{rule}:{dev_vpc}")
    );

    // A rule that is not shared stays unknown to the workload account.
    let unshared = resolver(&p)
        .await
        .create_resolver_rule()
        .creator_request_id("outside")
        .name("outside")
        .rule_type(aws_sdk_route53resolver::types::RuleTypeOption::Forward)
        .domain_name("other.acme.internal")
        .target_ips(
            aws_sdk_route53resolver::types::TargetAddress::builder()
                .ip("192.168.20.10")
                .port(53)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let refused = dev_rr
        .associate_resolver_rule()
        .resolver_rule_id(unshared.resolver_rule().unwrap().id().unwrap())
        .vpc_id(&dev_vpc)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_route53resolver::error::ProvideErrorMetadata::code(&refused),
        Some("ResourceNotFoundException")
    );

    // Deleted outside, from the workload account: associated again.
    dev_rr
        .disassociate_resolver_rule()
        .resolver_rule_id(&rule)
        .vpc_id(&dev_vpc)
        .send()
        .await
        .unwrap();
    p.expect_plan(&["+ main.route53_resolver_rule_association.dev"]);
    p.apply();
    p.expect_converged();
    assert_eq!(rule_associations(&dev_rr).await.len(), 1);

    p.reimport(
        "main.route53_resolver_rule_association.dev",
        &format!("{rule}:{dev_vpc}"),
    );
    p.destroy(&["--allow-account-closure"]);
    assert!(rule_associations(&dev_rr).await.is_empty());
}
