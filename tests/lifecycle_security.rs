//! The lifecycle of the security service kinds (GuardDuty detector and organization administrator,
//! Security Hub, AWS Config recorder, delivery channel and organization aggregator), as in
//! `tests/lifecycle.rs`: create, change in place, drift, deletion outside, `state rm` + `import`,
//! destroy; each step checked by an independent read of the emulator and followed by an empty plan.
//!
//! What moto 5.2.5 lacks here comes from the emulator extensions (tools/moto/extensions):
//! `guardduty_organization` (organization configuration, DisableOrganizationAdminAccount, detector
//! tags, one detector per account and region), `securityhub_organization_admin`
//! (ListOrganizationAdminAccounts, DisableOrganizationAdminAccount) and `config_aggregator_tags`
//! (PutConfigurationAggregator keeps an aggregator's tags).

mod common;

use common::project::Project;

async fn guardduty(p: &Project) -> aws_sdk_guardduty::Client {
    aws_sdk_guardduty::Client::new(&p.moto.sdk_config().await)
}

async fn securityhub(p: &Project) -> aws_sdk_securityhub::Client {
    aws_sdk_securityhub::Client::new(&p.moto.sdk_config().await)
}

async fn config(p: &Project) -> aws_sdk_config::Client {
    aws_sdk_config::Client::new(&p.moto.sdk_config().await)
}

const SECURITY: &str = r#"
[organization.main]
aws_service_access_principals = ["guardduty.amazonaws.com", "config.amazonaws.com"]

[account.audit]
name = "audit"
email = "aws+audit@example.com"
parent_id = "${organization.main.root_id}"

[guardduty_organization_admin_account.audit]
admin_account_id = "${account.audit.id}"
depends_on = ["organization.main"]

[guardduty_detector.main]
finding_publishing_frequency = "SIX_HOURS"
tags = { team = "security" }

[securityhub_account.main]

[s3_bucket.config]
bucket = "acme-config-logs"

[config_configuration_recorder.main]
role_arn = "arn:aws:iam::123456789012:role/config-recorder"

[config_delivery_channel.main]
s3_bucket_name = "${s3_bucket.config.bucket}"
depends_on = ["config_configuration_recorder.main"]

[config_configuration_aggregator.org]
name = "organization"
role_arn = "arn:aws:iam::123456789012:role/config-aggregator"
tags = { team = "security" }
"#;

/// (id, enabled, frequency, tags) of every detector.
async fn detectors(p: &Project) -> Vec<(String, bool, String, Vec<(String, String)>)> {
    let gd = guardduty(p).await;
    let ids = gd.list_detectors().send().await.unwrap();
    let mut found = Vec::new();
    for id in ids.detector_ids() {
        let d = gd.get_detector().detector_id(id).send().await.unwrap();
        let mut tags: Vec<(String, String)> = d
            .tags()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| !k.starts_with("landfall:"))
            .collect();
        tags.sort();
        found.push((
            id.clone(),
            d.status().is_some_and(|s| s.as_str() == "ENABLED"),
            d.finding_publishing_frequency()
                .map(|f| f.as_str().to_string())
                .unwrap_or_default(),
            tags,
        ));
    }
    found
}

async fn hub_enabled(p: &Project) -> bool {
    securityhub(p).await.describe_hub().send().await.is_ok()
}

/// (name, include global resources, recording) of every recorder.
async fn recorders(p: &Project) -> Vec<(String, bool, bool)> {
    let c = config(p).await;
    let recorders = c.describe_configuration_recorders().send().await.unwrap();
    let status = c
        .describe_configuration_recorder_status()
        .send()
        .await
        .unwrap();
    recorders
        .configuration_recorders()
        .iter()
        .map(|r| {
            let name = r.name().unwrap_or_default().to_string();
            let recording = status
                .configuration_recorders_status()
                .iter()
                .any(|s| s.name() == Some(name.as_str()) && s.recording());
            let global = r
                .recording_group()
                .map(|g| g.include_global_resource_types())
                .unwrap_or(false);
            (name, global, recording)
        })
        .collect()
}

/// (name, bucket, frequency) of every delivery channel.
async fn channels(p: &Project) -> Vec<(String, String, String)> {
    let out = config(p)
        .await
        .describe_delivery_channels()
        .send()
        .await
        .unwrap();
    out.delivery_channels()
        .iter()
        .map(|c| {
            (
                c.name().unwrap_or_default().to_string(),
                c.s3_bucket_name().unwrap_or_default().to_string(),
                c.config_snapshot_delivery_properties()
                    .and_then(|d| d.delivery_frequency())
                    .map(|f| f.as_str().to_string())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

/// (name, role) of every aggregator.
async fn aggregators(p: &Project) -> Vec<(String, String)> {
    let out = config(p)
        .await
        .describe_configuration_aggregators()
        .send()
        .await
        .unwrap();
    out.configuration_aggregators()
        .iter()
        .map(|a| {
            (
                a.configuration_aggregator_name()
                    .unwrap_or_default()
                    .to_string(),
                a.organization_aggregation_source()
                    .map(|s| s.role_arn().to_string())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn security_services_lifecycle() {
    let p = Project::new(SECURITY);
    p.apply();
    p.expect_converged();
    let audit = p.id("main.account.audit");
    assert_eq!(guardduty_admins(&p).await, std::slice::from_ref(&audit));
    let team = vec![("team".to_string(), "security".to_string())];
    let detector = p.id("main.guardduty_detector.main");
    assert_eq!(
        detectors(&p).await,
        [(detector.clone(), true, "SIX_HOURS".into(), team.clone())]
    );
    assert!(hub_enabled(&p).await);
    assert_eq!(recorders(&p).await, [("default".to_string(), false, true)]);
    assert_eq!(
        channels(&p).await,
        [(
            "default".to_string(),
            "acme-config-logs".to_string(),
            "TwentyFour_Hours".to_string()
        )]
    );
    assert_eq!(
        aggregators(&p).await,
        [(
            "organization".to_string(),
            "arn:aws:iam::123456789012:role/config-aggregator".to_string()
        )]
    );

    // In place: detector frequency and tags, recorder scope, channel frequency.
    p.change(
        &[
            (
                "\"SIX_HOURS\"\ntags = { team = \"security\" }",
                "\"ONE_HOUR\"\ntags = { team = \"secops\" }",
            ),
            (
                "role/config-recorder\"",
                "role/config-recorder\"\ninclude_global_resource_types = true",
            ),
            (
                "depends_on = [\"config_configuration_recorder.main\"]",
                "depends_on = [\"config_configuration_recorder.main\"]\ndelivery_frequency = \"Six_Hours\"",
            ),
        ],
        &[
            "~ main.guardduty_detector.main",
            "~ main.config_configuration_recorder.main",
            "~ main.config_delivery_channel.main",
        ],
    );
    let (same, _, frequency, tags) = detectors(&p).await.remove(0);
    assert_eq!(same, detector, "changed in place");
    assert_eq!(frequency, "ONE_HOUR");
    // TagResource/UntagResource come from the emulator extension `guardduty_organization`.
    assert_eq!(tags, [("team".to_string(), "secops".to_string())]);
    assert_eq!(recorders(&p).await, [("default".to_string(), true, true)]);
    assert_eq!(channels(&p).await[0].2, "Six_Hours");

    // Drift: the detector disabled and the recorder stopped outside landfall are restored.
    guardduty(&p)
        .await
        .update_detector()
        .detector_id(&detector)
        .enable(false)
        .send()
        .await
        .unwrap();
    config(&p)
        .await
        .stop_configuration_recorder()
        .configuration_recorder_name("default")
        .send()
        .await
        .unwrap();
    p.expect_plan(&[
        "~ main.guardduty_detector.main",
        "~ main.config_configuration_recorder.main",
    ]);
    p.apply();
    p.expect_converged();
    assert!(detectors(&p).await[0].1);
    assert!(recorders(&p).await[0].2);

    // Deleted outside: Security Hub disabled and the aggregator deleted are created again.
    securityhub(&p)
        .await
        .disable_security_hub()
        .send()
        .await
        .unwrap();
    config(&p)
        .await
        .delete_configuration_aggregator()
        .configuration_aggregator_name("organization")
        .send()
        .await
        .unwrap();
    p.expect_plan(&[
        "+ main.securityhub_account.main",
        "+ main.config_configuration_aggregator.org",
    ]);
    p.apply();
    p.expect_converged();
    assert!(hub_enabled(&p).await);
    assert_eq!(aggregators(&p).await.len(), 1);

    p.reimport("main.guardduty_detector.main", &detector);
    p.reimport("main.config_configuration_recorder.main", "default");
    p.reimport("main.config_delivery_channel.main", "default");
    p.reimport("main.config_configuration_aggregator.org", "organization");

    // DisableOrganizationAdminAccount comes from the emulator extension `guardduty_organization`.
    p.destroy(&[]);
    assert!(guardduty_admins(&p).await.is_empty());
    assert!(detectors(&p).await.is_empty());
    assert!(!hub_enabled(&p).await);
    assert!(recorders(&p).await.is_empty());
    assert!(channels(&p).await.is_empty());
    assert!(aggregators(&p).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn one_per_account_services_are_adopted_not_created_twice_after_a_lost_state() {
    let p = Project::new(SECURITY);
    p.apply();
    std::fs::remove_dir_all(p.path().join(".landfall/state/test")).unwrap();
    let plan = p.expect_plan(&["main.securityhub_account.main"]);
    for kind in [
        "securityhub_account.main",
        "config_configuration_recorder.main",
        "config_delivery_channel.main",
        "config_configuration_aggregator.org",
    ] {
        assert!(!plan.contains(&format!("+ main.{kind}")), "{kind}:\n{plan}");
    }
    p.apply();
    p.expect_converged();
    assert_eq!(recorders(&p).await.len(), 1);
}

/// The organization's GuardDuty administrators, read in the management account.
async fn guardduty_admins(p: &Project) -> Vec<String> {
    let out = guardduty(p)
        .await
        .list_organization_admin_accounts()
        .send()
        .await
        .unwrap();
    out.admin_accounts()
        .iter()
        .filter_map(|a| a.admin_account_id().map(str::to_string))
        .collect()
}

async fn guardduty_in(p: &Project, account: &str) -> aws_sdk_guardduty::Client {
    aws_sdk_guardduty::Client::new(&p.moto.member_config(account).await)
}

const GUARDDUTY_ORG: &str = r#"
[organization.main]
aws_service_access_principals = ["guardduty.amazonaws.com"]

[account.audit]
name = "audit"
email = "aws+audit@example.com"
parent_id = "${organization.main.root_id}"

[guardduty_organization_admin_account.audit]
admin_account_id = "${account.audit.id}"
depends_on = ["organization.main"]

[guardduty_detector.audit]
account = "${account.audit.id}"

[guardduty_organization_configuration.audit]
account = "${account.audit.id}"
detector_id = "${guardduty_detector.audit.id}"
auto_enable_organization_members = "NEW"
features = { S3_DATA_EVENTS = "NEW" }
depends_on = ["guardduty_organization_admin_account.audit"]
"#;

/// (auto-enable for members, features not NONE) of the organization configuration, read through the
/// audit account's detector.
async fn org_configuration(p: &Project, audit: &str, detector: &str) -> (String, Vec<String>) {
    let out = guardduty_in(p, audit)
        .await
        .describe_organization_configuration()
        .detector_id(detector)
        .send()
        .await
        .unwrap();
    let mut features: Vec<String> = out
        .features()
        .iter()
        .filter(|f| f.auto_enable().is_some_and(|a| a.as_str() != "NONE"))
        .map(|f| {
            format!(
                "{}={}",
                f.name().map(|n| n.as_str()).unwrap_or_default(),
                f.auto_enable().map(|a| a.as_str()).unwrap_or_default()
            )
        })
        .collect();
    features.sort();
    let members = out.auto_enable_organization_members().unwrap().as_str();
    (members.to_string(), features)
}

#[tokio::test(flavor = "multi_thread")]
async fn guardduty_organization_configuration_lifecycle() {
    let p = Project::new(GUARDDUTY_ORG);
    p.apply();
    p.expect_converged();
    let audit = p.id("main.account.audit");
    let detector = p.id("main.guardduty_detector.audit");
    assert_eq!(
        p.id("main.guardduty_organization_configuration.audit"),
        detector
    );
    let s3 = "S3_DATA_EVENTS=NEW".to_string();
    assert_eq!(
        org_configuration(&p, &audit, &detector).await,
        ("NEW".into(), vec![s3.clone()])
    );

    // In place: every member, a feature added for all, one dropped (set to NONE).
    p.change(
        &[(
            "\"NEW\"\nfeatures = { S3_DATA_EVENTS = \"NEW\" }",
            "\"ALL\"\nfeatures = { EKS_AUDIT_LOGS = \"ALL\" }",
        )],
        &["~ main.guardduty_organization_configuration.audit"],
    );
    let eks = "EKS_AUDIT_LOGS=ALL".to_string();
    assert_eq!(
        org_configuration(&p, &audit, &detector).await,
        ("ALL".into(), vec![eks.clone()])
    );

    // Reset outside landfall (auto-enable off, the feature too): put back.
    guardduty_in(&p, &audit)
        .await
        .update_organization_configuration()
        .detector_id(&detector)
        .auto_enable_organization_members(aws_sdk_guardduty::types::AutoEnableMembers::None)
        .features(
            aws_sdk_guardduty::types::OrganizationFeatureConfiguration::builder()
                .name("EKS_AUDIT_LOGS".into())
                .auto_enable("NONE".into())
                .build(),
        )
        .send()
        .await
        .unwrap();
    p.expect_plan(&["~ main.guardduty_organization_configuration.audit"]);
    p.apply();
    p.expect_converged();
    assert_eq!(
        org_configuration(&p, &audit, &detector).await,
        ("ALL".into(), vec![eks.clone()])
    );

    p.reimport("main.guardduty_organization_configuration.audit", &detector);

    // Renamed through [[moved]]: nothing is written, the configuration stays.
    p.rename_through_moved("guardduty_organization_configuration", "audit");
    p.expect_plan(&["has moved to"]);
    p.apply();
    p.expect_converged();
    assert_eq!(
        org_configuration(&p, &audit, &detector).await,
        ("ALL".into(), vec![eks])
    );

    // Removed from the configuration (destroyed): auto-enable off for members and every feature.
    p.edit(&[
        (
            "[guardduty_organization_configuration.audit_renamed]",
            "[guardduty_organization_configuration.gone]",
        ),
        (
            "\"ALL\"\nfeatures = { EKS_AUDIT_LOGS = \"ALL\" }",
            "\"ALL\"\ncount = 0",
        ),
        (
            "[[moved]]\nfrom = \"guardduty_organization_configuration.audit\"\nto = \"guardduty_organization_configuration.audit_renamed\"\n",
            "",
        ),
    ]);
    p.expect_plan(&["- main.guardduty_organization_configuration.audit_renamed"]);
    p.apply();
    p.expect_converged();
    assert_eq!(
        org_configuration(&p, &audit, &detector).await,
        ("NONE".into(), vec![])
    );

    p.destroy(&[]);
    assert!(guardduty_admins(&p).await.is_empty());
    let left = guardduty_in(&p, &audit)
        .await
        .list_detectors()
        .send()
        .await
        .unwrap();
    assert!(left.detector_ids().is_empty());
}

/// Only the delegated administrator may set the organization configuration: without the
/// administrator, apply fails naming GuardDuty's answer, and nothing is recorded.
#[tokio::test(flavor = "multi_thread")]
async fn guardduty_organization_configuration_outside_the_administrator_is_refused() {
    let p = Project::new(&GUARDDUTY_ORG.replace(
        "depends_on = [\"guardduty_organization_admin_account.audit\"]",
        "",
    ).replace(
        "[guardduty_organization_admin_account.audit]\nadmin_account_id = \"${account.audit.id}\"\ndepends_on = [\"organization.main\"]\n",
        "",
    ));
    let out = p.run(&["apply", "--env", "test", "--auto-approve"]);
    common::cli::expect_code(&out, 1);
    let text = common::cli::text(&out);
    assert!(text.contains("BadRequestException"), "{text}");
    let list = p.run(&["state", "list", "--env", "test"]);
    let list = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(
        !list.contains("guardduty_organization_configuration"),
        "{list}"
    );
    assert!(list.contains("guardduty_detector.audit"), "{list}");
}

/// Regression: a GuardDuty detector (one per account and region, tagged with its address) was not
/// recognised after state was lost, and the plan created a second one.
#[tokio::test(flavor = "multi_thread")]
async fn guardduty_detector_is_adopted_after_a_lost_state() {
    let p = Project::new(SECURITY);
    p.apply();
    let detector = p.id("main.guardduty_detector.main");
    std::fs::remove_dir_all(p.path().join(".landfall/state/test")).unwrap();
    let plan = p.expect_plan(&[]);
    assert!(
        !plan.contains("+ main.guardduty_detector.main"),
        "a second detector planned:\n{plan}"
    );
    p.apply();
    p.expect_converged();
    assert_eq!(p.id("main.guardduty_detector.main"), detector);
    let ids = guardduty(&p).await.list_detectors().send().await.unwrap();
    assert_eq!(ids.detector_ids(), [detector]);
}

/// Regression: changing an aggregator's role did not converge against moto, which replaced the
/// aggregator's tags (its address tag included) on PutConfigurationAggregator; AWS keeps them (the
/// emulator extension `config_aggregator_tags` does as AWS).
#[tokio::test(flavor = "multi_thread")]
async fn config_aggregator_role_arn_change_converges() {
    let p = Project::new(SECURITY);
    p.apply();
    p.change(
        &[("role/config-aggregator", "role/config-aggregator-2")],
        &["~ main.config_configuration_aggregator.org"],
    );
    assert_eq!(
        aggregators(&p).await,
        [(
            "organization".to_string(),
            "arn:aws:iam::123456789012:role/config-aggregator-2".to_string()
        )]
    );
    let c = config(&p).await;
    let arn = c
        .describe_configuration_aggregators()
        .send()
        .await
        .unwrap()
        .configuration_aggregators()[0]
        .configuration_aggregator_arn()
        .unwrap()
        .to_string();
    let tags = c
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    let mut team: Vec<(&str, &str)> = tags
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?, t.value()?)))
        .filter(|(k, _)| *k == "team" || *k == "landfall:address")
        .collect();
    team.sort();
    let address = (
        "landfall:address",
        "main.config_configuration_aggregator.org",
    );
    assert_eq!(team, [address, ("team", "security")]);
}

const SECURITYHUB_ADMIN: &str = r#"
[organization.main]
aws_service_access_principals = ["securityhub.amazonaws.com"]

[account.audit]
name = "audit"
email = "aws+audit@example.com"
parent_id = "${organization.main.root_id}"

[account.security]
name = "security"
email = "aws+security@example.com"
parent_id = "${organization.main.root_id}"

[securityhub_organization_admin_account.audit]
admin_account_id = "${account.audit.id}"
depends_on = ["organization.main"]
"#;

/// The organization's Security Hub administrators, read in the management account.
async fn securityhub_admins(p: &Project) -> Vec<String> {
    let out = securityhub(p)
        .await
        .list_organization_admin_accounts()
        .send()
        .await
        .unwrap();
    out.admin_accounts()
        .iter()
        .filter_map(|a| a.account_id().map(str::to_string))
        .collect()
}

/// Testable since the emulator extension `securityhub_organization_admin` added
/// ListOrganizationAdminAccounts and DisableOrganizationAdminAccount.
#[tokio::test(flavor = "multi_thread")]
async fn securityhub_organization_admin_account_lifecycle() {
    let p = Project::new(SECURITYHUB_ADMIN);
    p.apply();
    p.expect_converged();
    let audit = p.id("main.account.audit");
    let security = p.id("main.account.security");
    assert_eq!(securityhub_admins(&p).await, std::slice::from_ref(&audit));

    // Another administrator: replaced (disabled, then the other enabled).
    p.change(
        &[("${account.audit.id}", "${account.security.id}")],
        &["main.securityhub_organization_admin_account.audit"],
    );
    assert_eq!(
        securityhub_admins(&p).await,
        std::slice::from_ref(&security)
    );

    // Disabled outside landfall: enabled again.
    securityhub(&p)
        .await
        .disable_organization_admin_account()
        .admin_account_id(&security)
        .send()
        .await
        .unwrap();
    p.expect_plan(&["+ main.securityhub_organization_admin_account.audit"]);
    p.apply();
    p.expect_converged();
    assert_eq!(
        securityhub_admins(&p).await,
        std::slice::from_ref(&security)
    );

    p.reimport(
        "main.securityhub_organization_admin_account.audit",
        &security,
    );

    p.rename_through_moved("securityhub_organization_admin_account", "audit");
    p.expect_plan(&["has moved to"]);
    p.apply();
    p.expect_converged();
    assert_eq!(securityhub_admins(&p).await, [security]);

    p.destroy(&[]);
    assert!(securityhub_admins(&p).await.is_empty());
}

/// Every security kind renamed through `[[moved]]` at once: the plan moves them and changes nothing,
/// and the emulator holds the same detector, hub, recorder, channel, aggregator and administrator.
#[tokio::test(flavor = "multi_thread")]
async fn security_kinds_renamed_through_moved_touch_nothing() {
    let p = Project::new(SECURITY);
    p.apply();
    let before = (
        detectors(&p).await,
        recorders(&p).await,
        channels(&p).await,
        aggregators(&p).await,
        guardduty_admins(&p).await,
    );
    for (kind, name) in [
        ("guardduty_organization_admin_account", "audit"),
        ("guardduty_detector", "main"),
        ("securityhub_account", "main"),
        ("config_configuration_recorder", "main"),
        ("config_delivery_channel", "main"),
        ("config_configuration_aggregator", "org"),
    ] {
        p.rename_through_moved(kind, name);
    }
    // The channel's depends_on names the recorder's old address.
    p.edit(&[(
        "depends_on = [\"config_configuration_recorder.main\"]",
        "depends_on = [\"config_configuration_recorder.main_renamed\"]",
    )]);
    let plan = p.expect_plan(&["has moved to"]);
    for sign in ["+ main.", "- main.", "~ main."] {
        assert!(!plan.contains(sign), "{sign}:\n{plan}");
    }
    let out = p.apply();
    assert_eq!(common::cli::requests(&out, "CreateDetector"), 0);
    p.expect_converged();
    let after = (
        detectors(&p).await,
        recorders(&p).await,
        channels(&p).await,
        aggregators(&p).await,
        guardduty_admins(&p).await,
    );
    assert_eq!(before, after);
    assert!(hub_enabled(&p).await);
}

/// GUARDDUTY_ORG with a second account able to administer GuardDuty, with its own detector.
fn guardduty_org_with_security() -> String {
    format!(
        r#"{GUARDDUTY_ORG}
[account.security]
name = "security"
email = "aws+security@example.com"
parent_id = "${{organization.main.root_id}}"

[guardduty_detector.security]
account = "${{account.security.id}}"
"#
    )
}

/// Another administrator replaces GuardDuty's (the old one disabled before the new one is enabled:
/// the emulator, like AWS, refuses a second one), and the organization configuration follows it to
/// the new administrator's detector (`detector_id` and `account` force a new one; the old is reset
/// through the old administrator's detector first, while that may still set it).
#[tokio::test(flavor = "multi_thread")]
async fn guardduty_administrator_replaced_and_the_organization_configuration_follows() {
    let p = Project::new(&guardduty_org_with_security());
    p.apply();
    let (audit, security) = (p.id("main.account.audit"), p.id("main.account.security"));
    let old_detector = p.id("main.guardduty_detector.audit");
    let new_detector = p.id("main.guardduty_detector.security");
    assert_eq!(guardduty_admins(&p).await, std::slice::from_ref(&audit));

    p.change(
        &[
            (
                "admin_account_id = \"${account.audit.id}\"",
                "admin_account_id = \"${account.security.id}\"",
            ),
            (
                "[guardduty_organization_configuration.audit]\naccount = \"${account.audit.id}\"\ndetector_id = \"${guardduty_detector.audit.id}\"",
                "[guardduty_organization_configuration.audit]\naccount = \"${account.security.id}\"\ndetector_id = \"${guardduty_detector.security.id}\"",
            ),
        ],
        &[
            "-/+ main.guardduty_organization_admin_account.audit",
            "-/+ main.guardduty_organization_configuration.audit",
        ],
    );
    assert_eq!(guardduty_admins(&p).await, std::slice::from_ref(&security));
    assert_eq!(
        p.id("main.guardduty_organization_configuration.audit"),
        new_detector
    );
    assert_eq!(
        org_configuration(&p, &security, &new_detector).await,
        ("NEW".into(), vec!["S3_DATA_EVENTS=NEW".to_string()])
    );
    // The old administrator's detector may no longer read or set it.
    let old = guardduty_in(&p, &audit)
        .await
        .describe_organization_configuration()
        .detector_id(&old_detector)
        .send()
        .await;
    assert!(old.is_err(), "{old:?}");

    p.destroy(&[]);
    assert!(guardduty_admins(&p).await.is_empty());
}

/// When the account's hub was (last) enabled, as Security Hub reports it.
async fn hub_subscribed_at(p: &Project) -> String {
    let out = securityhub(p).await.describe_hub().send().await.unwrap();
    out.subscribed_at().unwrap_or_default().to_string()
}

/// The settings that force a replacement: Security Hub enabled again without the default standards;
/// the aggregator under a new name; the recorder, then the recorder and the channel together, then
/// the channel alone, under new names. AWS (and the emulator) allow one recorder and one channel per account and region, so
/// each old one is deleted before its successor is made, and the new recorder records once a
/// channel exists.
#[tokio::test(flavor = "multi_thread")]
async fn security_services_replaced() {
    let p = Project::new(SECURITY);
    p.apply();
    let subscribed = hub_subscribed_at(&p).await;
    let role = "arn:aws:iam::123456789012:role/config-aggregator".to_string();

    p.change(
        &[
            (
                "[securityhub_account.main]",
                "[securityhub_account.main]\nenable_default_standards = false",
            ),
            ("name = \"organization\"", "name = \"organization-wide\""),
            (
                "role_arn = \"arn:aws:iam::123456789012:role/config-recorder\"",
                "role_arn = \"arn:aws:iam::123456789012:role/config-recorder\"\nname = \"recorder\"",
            ),
        ],
        &[
            "-/+ main.securityhub_account.main",
            "-/+ main.config_configuration_aggregator.org",
            "-/+ main.config_configuration_recorder.main",
        ],
    );
    assert!(hub_enabled(&p).await);
    assert_ne!(hub_subscribed_at(&p).await, subscribed, "enabled again");
    assert_eq!(
        aggregators(&p).await,
        [("organization-wide".to_string(), role.clone())]
    );
    assert_eq!(recorders(&p).await, [("recorder".to_string(), false, true)]);
    assert_eq!(channels(&p).await[0].0, "default", "the channel stays");

    p.change(
        &[
            ("name = \"recorder\"", "name = \"main\""),
            (
                "s3_bucket_name = \"${s3_bucket.config.bucket}\"",
                "s3_bucket_name = \"${s3_bucket.config.bucket}\"\nname = \"main\"",
            ),
        ],
        &[
            "-/+ main.config_configuration_recorder.main",
            "-/+ main.config_delivery_channel.main",
        ],
    );
    assert_eq!(recorders(&p).await, [("main".to_string(), false, true)]);
    assert_eq!(
        channels(&p).await,
        [(
            "main".to_string(),
            "acme-config-logs".to_string(),
            "TwentyFour_Hours".to_string()
        )]
    );

    // The channel alone: deleting the old one stops the recorder, the new one starts it again.
    p.change(
        &[(
            "\nname = \"main\"\ndepends_on",
            "\nname = \"channel\"\ndepends_on",
        )],
        &["-/+ main.config_delivery_channel.main"],
    );
    assert_eq!(channels(&p).await[0].0, "channel");
    assert_eq!(recorders(&p).await, [("main".to_string(), false, true)]);

    p.destroy(&[]);
    assert!(recorders(&p).await.is_empty());
    assert!(channels(&p).await.is_empty());
    assert!(aggregators(&p).await.is_empty());
}

/// What the first lifecycle leaves out: the detector, the recorder and (after stopping the recorder,
/// as AWS requires) the channel deleted outside, the aggregator's role and the channel's frequency
/// changed outside, and the GuardDuty administrator disabled outside are put back; the administrator
/// is imported by its account id.
#[tokio::test(flavor = "multi_thread")]
async fn security_services_deleted_or_changed_outside() {
    let p = Project::new(SECURITY);
    p.apply();
    let audit = p.id("main.account.audit");
    let detector = p.id("main.guardduty_detector.main");
    let c = config(&p).await;

    // Deleted outside: the detector and the recorder.
    guardduty(&p)
        .await
        .delete_detector()
        .detector_id(&detector)
        .send()
        .await
        .unwrap();
    c.delete_configuration_recorder()
        .configuration_recorder_name("default")
        .send()
        .await
        .unwrap();
    p.expect_plan(&[
        "+ main.guardduty_detector.main",
        "+ main.config_configuration_recorder.main",
    ]);
    p.apply();
    p.expect_converged();
    let team = vec![("team".to_string(), "security".to_string())];
    let (new, enabled, frequency, tags) = detectors(&p).await.remove(0);
    assert_ne!(new, detector, "a new detector");
    assert_eq!(
        (enabled, frequency.as_str(), tags),
        (true, "SIX_HOURS", team)
    );
    assert_eq!(recorders(&p).await, [("default".to_string(), false, true)]);

    // Deleted outside: the channel (the recorder stopped first); changed outside: the aggregator's role.
    c.stop_configuration_recorder()
        .configuration_recorder_name("default")
        .send()
        .await
        .unwrap();
    c.delete_delivery_channel()
        .delivery_channel_name("default")
        .send()
        .await
        .unwrap();
    let source = aws_sdk_config::types::OrganizationAggregationSource::builder()
        .role_arn("arn:aws:iam::123456789012:role/drifted")
        .all_aws_regions(true)
        .build()
        .unwrap();
    c.put_configuration_aggregator()
        .configuration_aggregator_name("organization")
        .organization_aggregation_source(source)
        .send()
        .await
        .unwrap();
    p.expect_plan(&[
        "+ main.config_delivery_channel.main",
        "~ main.config_configuration_recorder.main",
        "~ main.config_configuration_aggregator.org",
    ]);
    p.apply();
    p.expect_converged();
    assert_eq!(recorders(&p).await, [("default".to_string(), false, true)]);
    assert_eq!(channels(&p).await.len(), 1);
    assert_eq!(
        aggregators(&p).await,
        [(
            "organization".to_string(),
            "arn:aws:iam::123456789012:role/config-aggregator".to_string()
        )]
    );

    // Changed outside: the channel's frequency; disabled outside: the GuardDuty administrator.
    let channel = aws_sdk_config::types::DeliveryChannel::builder()
        .name("default")
        .s3_bucket_name("acme-config-logs")
        .config_snapshot_delivery_properties(
            aws_sdk_config::types::ConfigSnapshotDeliveryProperties::builder()
                .delivery_frequency(aws_sdk_config::types::MaximumExecutionFrequency::OneHour)
                .build(),
        )
        .build();
    c.put_delivery_channel()
        .delivery_channel(channel)
        .send()
        .await
        .unwrap();
    guardduty(&p)
        .await
        .disable_organization_admin_account()
        .admin_account_id(&audit)
        .send()
        .await
        .unwrap();
    p.expect_plan(&[
        "~ main.config_delivery_channel.main",
        "+ main.guardduty_organization_admin_account.audit",
    ]);
    p.apply();
    p.expect_converged();
    assert_eq!(channels(&p).await[0].2, "TwentyFour_Hours");
    assert_eq!(guardduty_admins(&p).await, std::slice::from_ref(&audit));

    p.reimport("main.guardduty_organization_admin_account.audit", &audit);
    assert_eq!(guardduty_admins(&p).await, [audit]);
}

/// Regression: a lost answer to EnableOrganizationAdminAccount failed the apply. GuardDuty carried it
/// out, and the retry was refused (BadRequestException: the account is already the administrator);
/// the administrator is now found enabled and taken as created.
#[tokio::test(flavor = "multi_thread")]
async fn guardduty_administrator_lost_enable_answer_is_taken_as_done() {
    use common::cli::{expect_code, landfall_via, text};
    let p = Project::new(GUARDDUTY_ORG);
    let proxy = common::moto::FaultProxy::start(
        &p.moto,
        &["--lose-response", "EnableOrganizationAdminAccount"],
    );
    let out = landfall_via(
        p.path(),
        &proxy.endpoint,
        &p.moto,
        &["apply", "--env", "test", "--auto-approve"],
    );
    assert_eq!(proxy.counts()["lost_responses"], 1, "{}", text(&out));
    expect_code(&out, 0);
    p.expect_converged();
    let audit = p.id("main.account.audit");
    assert_eq!(guardduty_admins(&p).await, [audit]);
}
