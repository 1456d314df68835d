//! Checkpoints as a journal: an apply killed (SIGKILL) while its changes are in the journal beside the
//! state document, not in the document, loses none of them, with the local and the s3 backend. Every
//! reader replays the journal (state commands, plan), as often as it likes; a last line cut short
//! by the crash is skipped with a warning; the next plan knows every resource AWS confirmed, and the
//! next apply compacts the journal away.

mod common;

use common::cli::{command, expect_code, landfall, landfall_via, lock_id, text, wait_for};
use common::moto::{FaultProxy, Moto};
use landfall::state::{Backend, BackendConfig, State};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

const BUCKET: &str = "lf-journal";
const STACKS: [&str; 2] = ["network", "identity"];

fn project() -> tempfile::TempDir {
    common::fixture_copy("tests/fixtures/engine")
}

fn use_s3_backend(d: &Path, moto: &Moto) {
    let config = d.join("landfall.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace(
            "kind = \"local\"",
            &format!("kind = \"s3\"\nbucket = \"{BUCKET}\"\nprefix = \"lz\""),
        ),
    )
    .unwrap();
    expect_code(&landfall(d, moto, &["init", "--env", "test"]), 0);
}

async fn backend(d: &Path, moto: &Moto, s3: bool) -> Backend {
    let config = if s3 {
        BackendConfig::S3 {
            bucket: BUCKET.into(),
            prefix: "lz".into(),
            region: "eu-west-1".into(),
            encryption: "AES256".into(),
            kms_key_id: None,
            force_path_style: true,
        }
    } else {
        BackendConfig::Local {
            path: ".landfall/state".into(),
        }
    };
    Backend::new(config, d, Some(Arc::new(moto.aws().await)))
}

fn s3_client(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

/// The journal batches stored right now (local lines or s3 objects), read directly.
async fn journal_batches(d: &Path, moto: &Moto, s3: bool) -> usize {
    if s3 {
        let listed = s3_client(&moto.sdk_config().await)
            .list_objects_v2()
            .bucket(BUCKET)
            .send()
            .await
            .unwrap();
        return listed
            .contents()
            .iter()
            .filter_map(|o| o.key())
            .filter(|k| k.contains(".journal."))
            .count();
    }
    let dir = d.join(".landfall/state/test");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".journal."))
        .map(|e| {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            text.matches('\n').count()
        })
        .sum()
}

/// The resources of the state documents alone, without their journals: address -> id.
async fn documents_alone(d: &Path, moto: &Moto, s3: bool) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for stack in STACKS {
        let text = if s3 {
            let got = s3_client(&moto.sdk_config().await)
                .get_object()
                .bucket(BUCKET)
                .key(format!("lz/test/{stack}.json"))
                .send()
                .await;
            match got {
                Ok(got) => {
                    let bytes = got.body.collect().await.unwrap().into_bytes();
                    String::from_utf8(bytes.to_vec()).unwrap()
                }
                Err(_) => continue,
            }
        } else {
            match std::fs::read_to_string(d.join(format!(".landfall/state/test/{stack}.json"))) {
                Ok(text) => text,
                Err(_) => continue,
            }
        };
        let state = State::from_json(&text, stack).unwrap();
        out.extend(state.resources.into_iter().map(|r| (r.address, r.id)));
    }
    out
}

/// The resources of state as landfall reads it (journals replayed): address -> id.
async fn state_read(backend: &Backend) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for stack in STACKS {
        if let Some(stored) = backend.read("test", stack).await.unwrap() {
            out.extend(
                stored
                    .state
                    .resources
                    .into_iter()
                    .map(|r| (r.address, r.id)),
            );
        }
    }
    out
}

/// What the emulator holds, read directly: (address tag or role name, id) of every VPC, subnet,
/// internet gateway and route table tagged by landfall, and every IAM role and policy.
async fn live(moto: &Moto) -> BTreeMap<String, String> {
    live_list(moto).await.into_iter().collect()
}

/// What the emulator holds (see [`live`]), one entry per object: an address twice is a duplicate.
async fn live_list(moto: &Moto) -> Vec<(String, String)> {
    let config = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let iam = aws_sdk_iam::Client::new(&config);
    let mut out = Vec::new();
    let address = |tags: &[aws_sdk_ec2::types::Tag]| {
        tags.iter()
            .find(|t| t.key() == Some("landfall:address"))
            .and_then(|t| t.value().map(str::to_string))
    };
    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    for v in vpcs.vpcs() {
        out.extend(address(v.tags()).zip(v.vpc_id().map(str::to_string)));
    }
    let subnets = ec2.describe_subnets().send().await.unwrap();
    for s in subnets.subnets() {
        out.extend(address(s.tags()).zip(s.subnet_id().map(str::to_string)));
    }
    let igws = ec2.describe_internet_gateways().send().await.unwrap();
    for g in igws.internet_gateways() {
        out.extend(address(g.tags()).zip(g.internet_gateway_id().map(str::to_string)));
    }
    let rts = ec2.describe_route_tables().send().await.unwrap();
    for r in rts.route_tables() {
        out.extend(address(r.tags()).zip(r.route_table_id().map(str::to_string)));
    }
    for role in iam.list_roles().send().await.unwrap().roles() {
        out.push((
            format!("role {}", role.role_name()),
            role.role_name().into(),
        ));
    }
    let policies = iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .send()
        .await
        .unwrap();
    for p in policies.policies() {
        out.extend(
            p.policy_name()
                .zip(p.arn())
                .map(|(n, a)| (format!("policy {n}"), a.to_string())),
        );
    }
    out
}

/// Appends half a batch to every local journal, as a crash in the middle of an append leaves it.
fn tear_local_journals(d: &Path) {
    use std::io::Write;
    for e in std::fs::read_dir(d.join(".landfall/state/test")).unwrap() {
        let path = e.unwrap().path();
        if path.to_string_lossy().contains(".journal.") {
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .unwrap();
            f.write_all(br#"{"serial":999,"entries":[{"address":"network.vpc.ma"#)
                .unwrap();
        }
    }
}

/// Kills an apply (SIGKILL) once its journal holds a batch, then checks that state as read knows
/// what the journal held (the same at every read, with the state commands too), that all of it
/// exists in the emulator, that the next plan creates nothing that exists, and that the next apply
/// converges and compacts the journals away.
async fn killed_with_changes_in_the_journal(s3: bool) {
    let moto = Moto::start();
    let dir = project();
    let d = dir.path();
    if s3 {
        use_s3_backend(d, &moto);
    }
    let backend = backend(d, &moto, s3).await;
    // Every request waits 0.5-1.5 s: the run is still busy when its journal has a batch.
    let proxy = FaultProxy::start(&moto, &["--slow", "1.0"]);
    let mut child = command(
        d,
        &proxy.endpoint,
        &moto,
        &["apply", "--env", "test", "--auto-approve"],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let mut batches = 0;
    let rt = tokio::runtime::Handle::current();
    wait_for("a journal batch", Duration::from_secs(60), || {
        assert!(child.try_wait().unwrap().is_none(), "apply ended too early");
        batches = tokio::task::block_in_place(|| rt.block_on(journal_batches(d, &moto, s3)));
        batches > 0
    });
    child.kill().unwrap(); // SIGKILL: no cleanup at all
    child.wait().unwrap();
    // Requests the dead run sent may still be on their way through the proxy: let them land.
    std::thread::sleep(Duration::from_secs(2));

    let alone = documents_alone(d, &moto, s3).await;
    let known = state_read(&backend).await;
    assert!(
        known.len() > alone.len(),
        "the journal holds changes the documents do not: {known:?} vs {alone:?}"
    );
    assert_eq!(
        state_read(&backend).await,
        known,
        "a second replay is the same"
    );
    let listed = landfall(d, &moto, &["state", "list", "--env", "test"]);
    expect_code(&listed, 0);
    for address in known.keys() {
        assert!(
            text(&listed).contains(address.as_str()),
            "{}",
            text(&listed)
        );
    }
    if !s3 {
        // A crash in the middle of an append: the line cut short is no change, and says so.
        tear_local_journals(d);
        assert_eq!(
            state_read(&backend).await,
            known,
            "a torn last line is no batch"
        );
        let out = landfall(d, &moto, &["state", "list", "--env", "test"]);
        expect_code(&out, 0);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("warning:") && err.contains("cut short"),
            "{err}"
        );
    }
    let live = live(&moto).await;
    let live_ids: BTreeSet<&String> = live.values().collect();
    for (address, id) in &known {
        assert!(
            live_ids.contains(id),
            "{address} ({id}) in state but not in the emulator: {live:?}"
        );
    }

    // The next plan creates nothing the emulator has (through state, or adopted by its tag).
    let out = landfall(d, &moto, &["plan", "--env", "test", "--format", "json"]);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("plan --format json: {e}\n{}", text(&out)));
    for change in plan["resource_changes"].as_array().unwrap() {
        let address = change["address"].as_str().unwrap();
        assert!(
            change["action"] != "create" || !live.contains_key(address),
            "the plan creates {address} again: {}",
            text(&out)
        );
    }

    // The dead run's locks stay; clear them the way the lock error says.
    let probe = landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]);
    expect_code(&probe, 1);
    let id = lock_id(&String::from_utf8_lossy(&probe.stderr)).expect("a lock id");
    expect_code(
        &landfall(d, &moto, &["force-unlock", "--env", "test", &id]),
        0,
    );
    let out = landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]);
    expect_code(&out, 0);
    expect_code(
        &landfall(d, &moto, &["plan", "--env", "test", "--detailed-exitcode"]),
        0,
    );
    assert_eq!(journal_batches(d, &moto, s3).await, 0, "journals compacted");
    let after = state_read(&backend).await;
    assert_eq!(after, documents_alone(d, &moto, s3).await);
    for (address, id) in &known {
        assert_eq!(after.get(address), Some(id), "{address} kept its id");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_killed_with_changes_in_the_local_journal_loses_none() {
    killed_with_changes_in_the_journal(false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_killed_with_changes_in_the_s3_journal_loses_none() {
    killed_with_changes_in_the_journal(true).await;
}

/// The answers to journal writes are lost (each batch object's first PutObject reaches the bucket,
/// its answer never comes back): the retry meets the batch this run wrote (412 to `If-None-Match`),
/// the run goes on, nothing is created twice, and the journal is compacted away at the end.
#[tokio::test(flavor = "multi_thread")]
async fn lost_answers_to_s3_journal_writes_are_recognised_as_our_own() {
    let moto = Moto::start();
    let dir = project();
    let d = dir.path();
    use_s3_backend(d, &moto);
    let proxy = FaultProxy::start(&moto, &["--lose-put-response", ".jsonl"]);
    let out = landfall_via(
        d,
        &proxy.endpoint,
        &moto,
        &["apply", "--env", "test", "--auto-approve"],
    );
    expect_code(&out, 0);
    let lost = proxy.counts()["lost_responses"].as_u64().unwrap();
    assert!(lost >= 1, "no journal write was made: {}", text(&out));
    assert_eq!(
        journal_batches(d, &moto, true).await,
        0,
        "journal compacted"
    );
    let live = live_list(&moto).await;
    let addresses: BTreeSet<&String> = live.iter().map(|(a, _)| a).collect();
    assert_eq!(addresses.len(), live.len(), "created twice: {live:?}");
    let live_ids: BTreeSet<&String> = live.iter().map(|(_, id)| id).collect();
    let known = state_read(&backend(d, &moto, true).await).await;
    assert!(!known.is_empty());
    for (address, id) in &known {
        assert!(
            live_ids.contains(id),
            "{address} ({id}) not in the emulator"
        );
    }
    expect_code(
        &landfall(d, &moto, &["plan", "--env", "test", "--detailed-exitcode"]),
        0,
    );
}
