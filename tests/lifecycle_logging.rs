//! The lifecycle of the logging kinds (`kms_key`, `kms_alias`, `s3_bucket`, `cloudtrail_trail`,
//! `flow_log`), as in `tests/lifecycle.rs`: create, change in place, replace with dependents, drift,
//! deletion outside, `state rm` + `import`, destroy; each step checked by an independent read of the
//! emulator and followed by an empty plan.

mod common;

use common::project::Project;

async fn kms(p: &Project) -> aws_sdk_kms::Client {
    aws_sdk_kms::Client::new(&p.moto.sdk_config().await)
}

async fn s3(p: &Project) -> aws_sdk_s3::Client {
    let config = p.moto.sdk_config().await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    )
}

async fn cloudtrail(p: &Project) -> aws_sdk_cloudtrail::Client {
    aws_sdk_cloudtrail::Client::new(&p.moto.sdk_config().await)
}

const KEY: &str = r#"
[kms_key.logs]
description = "log archive"
tags = { team = "platform" }

[kms_key.logs.policy]
Version = "2012-10-17"
[[kms_key.logs.policy.Statement]]
Sid = "Root"
Effect = "Allow"
Principal = { AWS = "arn:aws:iam::123456789012:root" }
Action = "kms:*"
Resource = "*"

[kms_alias.logs]
name = "alias/logs"
target_key_id = "${kms_key.logs.id}"
"#;

/// (description, rotation enabled, key state, policy text) of a key, read from the emulator.
async fn key(p: &Project, id: &str) -> (String, bool, String, String) {
    let kms = kms(p).await;
    let meta = kms.describe_key().key_id(id).send().await.unwrap();
    let meta = meta.key_metadata().unwrap();
    let rotation = kms
        .get_key_rotation_status()
        .key_id(id)
        .send()
        .await
        .unwrap();
    let policy = kms
        .get_key_policy()
        .key_id(id)
        .policy_name("default")
        .send()
        .await
        .unwrap();
    (
        meta.description().unwrap_or_default().to_string(),
        rotation.key_rotation_enabled(),
        meta.key_state().unwrap().as_str().to_string(),
        policy.policy().unwrap_or_default().to_string(),
    )
}

/// The aliases and the key each points at.
async fn aliases(p: &Project) -> Vec<(String, String)> {
    let out = kms(p).await.list_aliases().send().await.unwrap();
    out.aliases()
        .iter()
        .filter(|a| !a.alias_name().unwrap_or_default().starts_with("alias/aws/"))
        .map(|a| {
            (
                a.alias_name().unwrap_or_default().to_string(),
                a.target_key_id().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn kms_key_and_alias_lifecycle() {
    let p = Project::new(KEY);
    p.apply();
    p.expect_converged();
    let id = p.id("main.kms_key.logs");
    let (description, rotation, state, policy) = key(&p, &id).await;
    assert_eq!(
        (description.as_str(), rotation, state.as_str()),
        ("log archive", true, "Enabled")
    );
    assert!(policy.contains("kms:*"), "{policy}");
    assert_eq!(aliases(&p).await, [("alias/logs".to_string(), id.clone())]);

    // The same policy written differently (a one-element list, keys reordered) is no change.
    p.edit(&[("Action = \"kms:*\"", "Action = [\"kms:*\"]")]);
    p.expect_converged();

    // In place: description, policy, rotation, tags.
    p.change(
        &[
            (
                "description = \"log archive\"",
                "description = \"logs\"\nenable_key_rotation = false",
            ),
            ("Sid = \"Root\"", "Sid = \"Account\""),
            ("team = \"platform\"", "team = \"security\""),
        ],
        &["~ main.kms_key.logs"],
    );
    let (description, rotation, _, policy) = key(&p, &id).await;
    assert_eq!((description.as_str(), rotation), ("logs", false));
    assert!(policy.contains("Account"), "{policy}");
    assert_eq!(p.id("main.kms_key.logs"), id, "changed in place");

    // Replace the alias (its name forces a new one); the old one goes.
    p.change(
        &[("alias/logs", "alias/log-archive")],
        &["-/+ main.kms_alias.logs"],
    );
    assert_eq!(
        aliases(&p).await,
        [("alias/log-archive".to_string(), id.clone())]
    );

    // Drift: rotation turned on outside landfall is turned off again.
    kms(&p)
        .await
        .enable_key_rotation()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    p.expect_plan(&["~ main.kms_key.logs"]);
    p.apply();
    p.expect_converged();
    assert!(!key(&p, &id).await.1);

    // Deleted outside (scheduled for deletion): a new key, and the alias follows it.
    kms(&p)
        .await
        .schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    p.expect_plan(&["+ main.kms_key.logs", "~ main.kms_alias.logs"]);
    p.apply();
    p.expect_converged();
    let new = p.id("main.kms_key.logs");
    assert_ne!(new, id);
    assert_eq!(
        aliases(&p).await,
        [("alias/log-archive".to_string(), new.clone())]
    );

    p.reimport("main.kms_key.logs", &new);
    p.reimport("main.kms_alias.logs", "alias/log-archive");

    p.destroy(&[]);
    assert_eq!(key(&p, &new).await.2, "PendingDeletion");
    assert!(aliases(&p).await.is_empty());
}

const LOGS: &str = r#"
[s3_bucket.logs]
bucket = "acme-log-archive"
versioning = true
kms_master_key_id = "${kms_key.logs.arn}"
tags = { purpose = "logs" }

[[s3_bucket.logs.lifecycle_rules]]
id = "expire"
expiration_days = 365
noncurrent_version_expiration_days = 30

[s3_bucket.logs.policy]
Version = "2012-10-17"
[[s3_bucket.logs.policy.Statement]]
Sid = "CloudTrailWrite"
Effect = "Allow"
Principal = { Service = "cloudtrail.amazonaws.com" }
Action = "s3:PutObject"
Resource = "arn:aws:s3:::acme-log-archive/*"

[kms_key.logs]
[kms_key.logs.policy]
Version = "2012-10-17"
[[kms_key.logs.policy.Statement]]
Effect = "Allow"
Principal = { AWS = "arn:aws:iam::123456789012:root" }
Action = "kms:*"
Resource = "*"

[cloudtrail_trail.org]
name = "organization"
s3_bucket_name = "${s3_bucket.logs.bucket}"
kms_key_id = "${kms_key.logs.arn}"

[vpc.main]
cidr_block = "10.0.0.0/16"

[flow_log.main]
vpc_id = "${vpc.main.id}"
log_destination = "${s3_bucket.logs.arn}"
"#;

/// (versioning status, KMS key, lifecycle expiration days, policy text, tags) of a bucket.
async fn bucket(
    p: &Project,
    name: &str,
) -> (String, String, Vec<i32>, String, Vec<(String, String)>) {
    let s3 = s3(p).await;
    // moto 5.2.5 answers GetBucketVersioning with a root element the Rust SDK refuses: read the raw answer.
    let status = match s3.get_bucket_versioning().bucket(name).send().await {
        Ok(out) => out
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        Err(e) => {
            let body = e
                .raw_response()
                .and_then(|r| r.body().bytes())
                .unwrap_or_default();
            let enabled = String::from_utf8_lossy(body).contains("<Status>Enabled</Status>");
            if enabled {
                "Enabled".into()
            } else {
                String::new()
            }
        }
    };
    let encryption = s3
        .get_bucket_encryption()
        .bucket(name)
        .send()
        .await
        .unwrap();
    let key = encryption
        .server_side_encryption_configuration()
        .unwrap()
        .rules()[0]
        .apply_server_side_encryption_by_default()
        .unwrap()
        .kms_master_key_id()
        .unwrap_or_default()
        .to_string();
    let lifecycle = s3
        .get_bucket_lifecycle_configuration()
        .bucket(name)
        .send()
        .await
        .unwrap();
    let days = lifecycle
        .rules()
        .iter()
        .filter_map(|r| r.expiration().and_then(|e| e.days()))
        .collect();
    let policy = s3
        .get_bucket_policy()
        .bucket(name)
        .send()
        .await
        .map(|p| p.policy().unwrap_or_default().to_string())
        .unwrap_or_default();
    let tagging = s3.get_bucket_tagging().bucket(name).send().await.unwrap();
    let mut tags: Vec<(String, String)> = tagging
        .tag_set()
        .iter()
        .filter(|t| !t.key().starts_with("landfall:"))
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    tags.sort();
    (status, key, days, policy, tags)
}

async fn bucket_names(p: &Project) -> Vec<String> {
    let out = s3(p).await.list_buckets().send().await.unwrap();
    out.buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_string))
        .collect()
}

/// (name, bucket, organization trail, log file validation, logging) of every trail.
async fn trails(p: &Project) -> Vec<(String, String, bool, bool, bool)> {
    let ct = cloudtrail(p).await;
    let out = ct.describe_trails().send().await.unwrap();
    let mut found = Vec::new();
    for t in out.trail_list() {
        let name = t.name().unwrap().to_string();
        let status = ct.get_trail_status().name(&name).send().await.unwrap();
        found.push((
            name,
            t.s3_bucket_name().unwrap_or_default().to_string(),
            t.is_organization_trail().unwrap_or(false),
            t.log_file_validation_enabled().unwrap_or(false),
            status.is_logging().unwrap_or(false),
        ));
    }
    found
}

/// (id, VPC, destination) of every flow log.
async fn flow_logs(p: &Project) -> Vec<(String, String, String)> {
    let out = p.ec2().await.describe_flow_logs().send().await.unwrap();
    out.flow_logs()
        .iter()
        .map(|f| {
            (
                f.flow_log_id().unwrap_or_default().to_string(),
                f.resource_id().unwrap_or_default().to_string(),
                f.log_destination().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn log_bucket_trail_and_flow_log_lifecycle() {
    let p = Project::new(LOGS);
    p.apply();
    p.expect_converged();
    let key_arn = {
        let id = p.id("main.kms_key.logs");
        let out = kms(&p)
            .await
            .describe_key()
            .key_id(&id)
            .send()
            .await
            .unwrap();
        out.key_metadata().unwrap().arn().unwrap().to_string()
    };
    let (versioning, key, days, policy, tags) = bucket(&p, "acme-log-archive").await;
    assert_eq!(
        (versioning.as_str(), key.as_str(), days),
        ("Enabled", key_arn.as_str(), vec![365])
    );
    assert!(policy.contains("CloudTrailWrite"), "{policy}");
    assert_eq!(tags, [("purpose".to_string(), "logs".to_string())]);
    assert_eq!(
        trails(&p).await,
        [(
            "organization".to_string(),
            "acme-log-archive".to_string(),
            false,
            true,
            true
        )]
    );
    let vpc = p.id("main.vpc.main");
    let (flow, flow_vpc, destination) = flow_logs(&p).await.remove(0);
    assert_eq!(
        (flow_vpc.as_str(), destination.as_str()),
        (vpc.as_str(), "arn:aws:s3:::acme-log-archive")
    );

    // In place: lifecycle, tags, the policy; the trail becomes the organization trail and stops logging.
    p.change(
        &[
            ("expiration_days = 365", "expiration_days = 400"),
            ("purpose = \"logs\"", "purpose = \"audit\""),
            ("Sid = \"CloudTrailWrite\"", "Sid = \"TrailWrite\""),
            (
                "kms_key_id = \"${kms_key.logs.arn}\"",
                "kms_key_id = \"${kms_key.logs.arn}\"\nis_organization_trail = true\nenable_logging = false",
            ),
        ],
        &["~ main.s3_bucket.logs", "~ main.cloudtrail_trail.org"],
    );
    let (_, _, days, policy, tags) = bucket(&p, "acme-log-archive").await;
    assert_eq!(days, vec![400]);
    assert!(
        policy.contains("TrailWrite") && !policy.contains("CloudTrailWrite"),
        "{policy}"
    );
    assert_eq!(tags, [("purpose".to_string(), "audit".to_string())]);
    let (_, _, org, _, logging) = trails(&p).await.remove(0);
    assert!(org && !logging);

    // Drift: the bucket policy deleted and versioning suspended outside landfall are restored.
    let client = s3(&p).await;
    client
        .delete_bucket_policy()
        .bucket("acme-log-archive")
        .send()
        .await
        .unwrap();
    p.expect_plan(&["~ main.s3_bucket.logs"]);
    p.apply();
    p.expect_converged();
    assert!(
        bucket(&p, "acme-log-archive")
            .await
            .3
            .contains("TrailWrite")
    );

    // Replace: a new bucket name; the trail follows in place, the flow log is replaced.
    p.change(
        &[("acme-log-archive", "acme-logs-2")],
        &[
            "-/+ main.s3_bucket.logs",
            "~ main.cloudtrail_trail.org",
            "-/+ main.flow_log.main",
        ],
    );
    assert_eq!(bucket_names(&p).await, ["acme-logs-2"]);
    assert_eq!(trails(&p).await[0].1, "acme-logs-2");
    let (new_flow, _, destination) = flow_logs(&p).await.remove(0);
    assert_ne!(new_flow, flow);
    assert_eq!(destination, "arn:aws:s3:::acme-logs-2");

    // Deleted outside: the trail is created again.
    cloudtrail(&p)
        .await
        .delete_trail()
        .name("organization")
        .send()
        .await
        .unwrap();
    p.expect_plan(&["+ main.cloudtrail_trail.org"]);
    p.apply();
    p.expect_converged();
    assert_eq!(trails(&p).await.len(), 1);

    p.reimport("main.s3_bucket.logs", "acme-logs-2");
    p.reimport("main.cloudtrail_trail.org", "organization");
    p.reimport("main.flow_log.main", &new_flow);

    p.destroy(&[]);
    assert!(bucket_names(&p).await.is_empty());
    assert!(trails(&p).await.is_empty());
    assert!(flow_logs(&p).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_state_adopts_the_bucket_and_trail_by_name_instead_of_creating_them_again() {
    let p = Project::new(LOGS);
    p.apply();
    std::fs::remove_dir_all(p.path().join(".landfall")).unwrap();
    let plan = p.expect_plan(&["main.s3_bucket.logs", "main.cloudtrail_trail.org"]);
    assert!(!plan.contains("+ main.s3_bucket.logs"), "{plan}");
    assert!(!plan.contains("+ main.cloudtrail_trail.org"), "{plan}");
    p.apply();
    p.expect_converged();
    assert_eq!(bucket_names(&p).await, ["acme-log-archive"]);
    assert_eq!(trails(&p).await.len(), 1);
    assert_eq!(flow_logs(&p).await.len(), 1);
}

/// Every logging kind renamed through `[[moved]]` at once: the plan moves them and changes nothing,
/// apply writes nothing, and the emulator holds the same key, alias, bucket, trail and flow log.
#[tokio::test(flavor = "multi_thread")]
async fn logging_kinds_renamed_through_moved_touch_nothing() {
    let p = Project::new(&format!(
        "{LOGS}\n[kms_alias.logs]\nname = \"alias/logs\"\ntarget_key_id = \"${{kms_key.logs.id}}\"\n"
    ));
    p.apply();
    p.expect_converged();
    let key_id = p.id("main.kms_key.logs");
    let before = (
        key(&p, &key_id).await,
        aliases(&p).await,
        bucket(&p, "acme-log-archive").await,
        trails(&p).await,
        flow_logs(&p).await,
    );
    for (kind, name) in [
        ("kms_key", "logs"),
        ("kms_alias", "logs"),
        ("s3_bucket", "logs"),
        ("cloudtrail_trail", "org"),
        ("flow_log", "main"),
    ] {
        p.rename_through_moved(kind, name);
    }
    // The bucket's and the key's sub-tables follow their resource.
    p.edit(&[
        ("[s3_bucket.logs.", "[s3_bucket.logs_renamed."),
        ("[kms_key.logs.", "[kms_key.logs_renamed."),
    ]);
    let plan = p.expect_plan(&["has moved to"]);
    for sign in ["+ main.", "- main.", "~ main.", "-/+ main."] {
        assert!(!plan.contains(sign), "{sign}:\n{plan}");
    }
    let out = p.apply();
    for write in [
        "CreateKey",
        "CreateBucket",
        "CreateTrail",
        "CreateFlowLogs",
        "DeleteAlias",
    ] {
        assert_eq!(common::cli::requests(&out, write), 0, "{write}");
    }
    p.expect_converged();
    assert_eq!(p.id("main.kms_key.logs_renamed"), key_id);
    let after = (
        key(&p, &key_id).await,
        aliases(&p).await,
        bucket(&p, "acme-log-archive").await,
        trails(&p).await,
        flow_logs(&p).await,
    );
    assert_eq!(before, after);
    p.reimport("main.cloudtrail_trail.org_renamed", "organization");
}
