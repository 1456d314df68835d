//! The lifecycle of the security service kinds (GuardDuty detector and organization administrator,
//! Security Hub, AWS Config recorder, delivery channel and organization aggregator), as in
//! `tests/lifecycle.rs`: create, change in place, drift, deletion outside, `state rm` + `import`,
//! destroy; each step checked by an independent read of the emulator and followed by an empty plan.
//!
//! moto 5.2.5 lacks GuardDuty's DisableOrganizationAdminAccount and Security Hub's
//! ListOrganizationAdminAccounts: the GuardDuty administrator is dropped from state before destroy,
//! and `securityhub_organization_admin_account` is verified offline only (README lifecycle table).

mod common;

use common::cli::expect_code;
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
    let admins = guardduty(&p)
        .await
        .list_organization_admin_accounts()
        .send()
        .await
        .unwrap();
    let admins: Vec<&str> = admins
        .admin_accounts()
        .iter()
        .filter_map(|a| a.admin_account_id())
        .collect();
    assert_eq!(admins, [audit.as_str()]);
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
            ("\"SIX_HOURS\"", "\"ONE_HOUR\""),
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
    assert_eq!(
        tags, team,
        "moto 5.2.5 lacks GuardDuty's TagResource: tag changes are verified offline"
    );
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

    // moto 5.2.5 has no DisableOrganizationAdminAccount: forget the administrator instead.
    let rm = p.run(&[
        "state",
        "rm",
        "--env",
        "test",
        "main.guardduty_organization_admin_account.audit",
    ]);
    expect_code(&rm, 0);
    p.edit(&[(
        "[guardduty_organization_admin_account.audit]\nadmin_account_id = \"${account.audit.id}\"\ndepends_on = [\"organization.main\"]\n",
        "",
    )]);
    p.destroy(&[]);
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
