//! State locks under the faults a CI pipeline lives through: a lost answer to the lock's own write,
//! SIGINT and SIGTERM at any moment after the first lock is taken, and a run killed with SIGKILL.
//!
//! The project is `tests/fixtures/engine` (environment `test`: stacks `network` and `identity`). The
//! real `landfall` binary runs against a private moto server, often through the fault proxy; results
//! are read back from the emulator (or the lock files) directly, not through landfall.

mod common;

use common::cli::{command, expect_code, landfall, landfall_via, lock_id, text, wait_for};
use common::moto::{FaultProxy, Moto};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BUCKET: &str = "lf-state";

fn project() -> tempfile::TempDir {
    common::fixture_copy("tests/fixtures/engine")
}

/// What exists in the emulator with a landfall address tag: (vpcs, subnets, igws, route tables),
/// and the `ops` role.
async fn census(moto: &Moto) -> (usize, usize, usize, usize, usize) {
    let config = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let ours =
        |tags: &[aws_sdk_ec2::types::Tag]| tags.iter().any(|t| t.key() == Some("landfall:address"));
    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    let subnets = ec2.describe_subnets().send().await.unwrap();
    let igws = ec2.describe_internet_gateways().send().await.unwrap();
    let rts = ec2.describe_route_tables().send().await.unwrap();
    let roles = aws_sdk_iam::Client::new(&config)
        .list_roles()
        .send()
        .await
        .unwrap();
    (
        vpcs.vpcs().iter().filter(|v| ours(v.tags())).count(),
        subnets.subnets().iter().filter(|s| ours(s.tags())).count(),
        igws.internet_gateways()
            .iter()
            .filter(|g| ours(g.tags()))
            .count(),
        rts.route_tables().iter().filter(|r| ours(r.tags())).count(),
        roles
            .roles()
            .iter()
            .filter(|r| r.role_name() == "ops")
            .count(),
    )
}

/// The configuration of `tests/fixtures/engine`, environment `test`.
const FULL: (usize, usize, usize, usize, usize) = (1, 2, 1, 1, 1);
const NOTHING: (usize, usize, usize, usize, usize) = (0, 0, 0, 0, 0);

fn lock_file(d: &Path, stack: &str) -> PathBuf {
    d.join(format!(".landfall/state/test/{stack}.json.lock"))
}

/// Switches the project to the s3 backend (bucket `lf-state`, prefix `lz`) and creates the bucket.
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

fn s3(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

/// The lock objects in the state bucket, read from the emulator directly.
async fn s3_locks(moto: &Moto) -> Vec<String> {
    let listed = s3(&moto.sdk_config().await)
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    listed
        .contents()
        .iter()
        .filter_map(|o| o.key())
        .filter(|k| k.ends_with(".lock"))
        .map(str::to_string)
        .collect()
}

fn spawn_apply(d: &Path, endpoint: &str, moto: &Moto) -> Child {
    command(
        d,
        endpoint,
        moto,
        &["apply", "--env", "test", "--auto-approve"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap()
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name}");
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn lost_lock_answer_is_recognised_as_our_own_lock() {
    let moto = Moto::start();
    let dir = project();
    let d = dir.path();
    use_s3_backend(d, &moto);
    // Each lock object's first PutObject reaches the emulator; its answer never comes back, so the
    // retry meets the lock this very run wrote (412 to `If-None-Match: *`).
    let proxy = FaultProxy::start(&moto, &["--lose-put-response", ".lock"]);
    let out = landfall_via(
        d,
        &proxy.endpoint,
        &moto,
        &["apply", "--env", "test", "--auto-approve"],
    );
    expect_code(&out, 0);
    assert_eq!(proxy.counts()["lost_responses"], 2, "{}", text(&out));
    assert_eq!(
        s3_locks(&moto).await,
        Vec::<String>::new(),
        "locks released"
    );
    assert_eq!(census(&moto).await, FULL);
    expect_code(
        &landfall(d, &moto, &["plan", "--env", "test", "--detailed-exitcode"]),
        0,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn lost_state_write_answer_is_recognised_as_our_own_write() {
    let moto = Moto::start();
    let dir = project();
    let d = dir.path();
    use_s3_backend(d, &moto);
    // The first write of each state document (`If-None-Match: *`) lands unheard; its retry is
    // refused with 412 because of what it wrote itself.
    let proxy = FaultProxy::start(&moto, &["--lose-put-response", ".json"]);
    let out = landfall_via(
        d,
        &proxy.endpoint,
        &moto,
        &["apply", "--env", "test", "--auto-approve"],
    );
    expect_code(&out, 0);
    assert_eq!(proxy.counts()["lost_responses"], 2, "{}", text(&out));
    let state = s3(&moto.sdk_config().await)
        .get_object()
        .bucket(BUCKET)
        .key("lz/test/network.json")
        .send()
        .await
        .unwrap();
    let doc: serde_json::Value =
        serde_json::from_slice(&state.body.collect().await.unwrap().into_bytes()).unwrap();
    assert_eq!(doc["resources"].as_array().unwrap().len(), 5, "{doc}");
    assert_eq!(
        s3_locks(&moto).await,
        Vec::<String>::new(),
        "locks released"
    );
    assert_eq!(census(&moto).await, FULL);
    expect_code(
        &landfall(d, &moto, &["plan", "--env", "test", "--detailed-exitcode"]),
        0,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_finishes_in_flight_saves_state_and_unlocks() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto, &["--slow", "1.0"]);
    let dir = project();
    let d = dir.path();
    let child = spawn_apply(d, &proxy.endpoint, &moto);
    let state = d.join(".landfall/state/test/network.json");
    wait_for(
        "the first change in state",
        Duration::from_secs(120),
        || common::state::has_resources(d, "test", "network"),
    );
    signal(&child, "TERM");
    let out = child.wait_with_output().unwrap();
    expect_code(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("Interrupted: no new changes start"), "{err}");
    assert!(err.contains("apply interrupted"), "{err}");
    assert!(
        !lock_file(d, "network").exists() && !lock_file(d, "identity").exists(),
        "locks released"
    );
    // What the run confirmed is in state: recorded, and nothing exists outside it.
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    let recorded = saved["resources"].as_array().unwrap().len();
    let (vpcs, subnets, igws, rts, _) = census(&moto).await;
    assert!(recorded >= 1, "{saved}");
    assert_eq!(recorded, vpcs + subnets + igws + rts, "{saved}");
    // The next apply finishes the job without duplicates.
    expect_code(
        &landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]),
        0,
    );
    assert_eq!(census(&moto).await, FULL);
    expect_code(
        &landfall(d, &moto, &["plan", "--env", "test", "--detailed-exitcode"]),
        0,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn signal_right_after_locking_releases_every_lock() {
    let moto = Moto::start();
    let dir = project();
    let d = dir.path();
    use_s3_backend(d, &moto);
    // Every request waits 0.5-1.5 s, so the apply is still taking its second lock (or reading state)
    // when the signal comes, the moment the first lock object exists.
    let proxy = FaultProxy::start(&moto, &["--slow", "1.0"]);
    let child = spawn_apply(d, &proxy.endpoint, &moto);
    let deadline = Instant::now() + Duration::from_secs(120);
    while s3_locks(&moto).await.is_empty() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for the first lock"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    signal(&child, "INT");
    let out = child.wait_with_output().unwrap();
    expect_code(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("Interrupted while taking the locks")
            || err.contains("Interrupted before any change started"),
        "{err}"
    );
    assert!(err.contains("apply interrupted: 0 done"), "{err}");
    assert_eq!(s3_locks(&moto).await, Vec::<String>::new(), "{err}");
    assert_eq!(census(&moto).await, NOTHING, "no change started: {err}");
    expect_code(
        &landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]),
        0,
    );
    assert_eq!(census(&moto).await, FULL);
}

#[tokio::test(flavor = "multi_thread")]
async fn one_force_unlock_clears_every_lock_of_a_killed_run() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto, &["--slow", "1.0"]);
    let dir = project();
    let d = dir.path();
    let mut child = spawn_apply(d, &proxy.endpoint, &moto);
    wait_for("both locks and a change", Duration::from_secs(120), || {
        lock_file(d, "identity").exists() && common::state::has_resources(d, "test", "network")
    });
    child.kill().unwrap(); // SIGKILL: no cleanup at all
    child.wait().unwrap();
    // Requests the dead run sent are still held by the proxy; let them land, as AWS would have.
    std::thread::sleep(Duration::from_secs(2));
    let dead: Vec<String> = ["network", "identity"]
        .iter()
        .map(|stack| {
            let lock: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(lock_file(d, stack)).unwrap())
                    .unwrap();
            lock["id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(dead[0], dead[1], "one run, one lock id");

    let out = landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]);
    expect_code(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains(
            "that run holds the locks of 2 stacks of environment `test`: network, identity"
        ),
        "{err}"
    );
    assert_eq!(lock_id(&err).as_deref(), Some(dead[0].as_str()), "{err}");
    let commands: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("landfall force-unlock"))
        .collect();
    assert_eq!(
        commands,
        [format!("    landfall force-unlock --env test {}", dead[0])],
        "{err}"
    );

    let out = landfall(d, &moto, &["force-unlock", "--env", "test", &dead[0]]);
    expect_code(&out, 0);
    assert!(
        !lock_file(d, "network").exists() && !lock_file(d, "identity").exists(),
        "{}",
        text(&out)
    );
    expect_code(
        &landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]),
        0,
    );
    assert_eq!(census(&moto).await, FULL);
    expect_code(
        &landfall(d, &moto, &["plan", "--env", "test", "--detailed-exitcode"]),
        0,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn force_unlock_by_id_leaves_another_runs_lock() {
    let moto = Moto::start();
    let dir = project();
    let d = dir.path();
    let write_lock = |stack: &str, id: &str| {
        let path = lock_file(d, stack);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            path,
            format!(
                r#"{{"id":"{id}","who":"arn:aws:iam::123456789012:user/ci","host":"runner-{id}","operation":"apply","created":"2026-11-26T10:00:00Z"}}"#
            ),
        )
        .unwrap();
    };
    write_lock("network", "dead-run");
    write_lock("identity", "live-run");

    let out = landfall(d, &moto, &["force-unlock", "--env", "test", "dead-run"]);
    expect_code(&out, 0);
    assert!(!lock_file(d, "network").exists(), "{}", text(&out));
    assert!(lock_file(d, "identity").exists(), "{}", text(&out));
    // Nothing of that id is left: an error that says so, and the other lock still stands.
    let out = landfall(d, &moto, &["force-unlock", "--env", "test", "dead-run"]);
    expect_code(&out, 1);
    assert!(
        stderr(&out).contains("no stack of environment `test` has a lock with id dead-run"),
        "{}",
        text(&out)
    );
    assert!(lock_file(d, "identity").exists());
    // The per-stack form still works, and still checks the id.
    let out = landfall(
        d,
        &moto,
        &[
            "force-unlock",
            "--env",
            "test",
            "--stack",
            "identity",
            "dead-run",
        ],
    );
    expect_code(&out, 1);
    assert!(lock_file(d, "identity").exists());
    let out = landfall(
        d,
        &moto,
        &[
            "force-unlock",
            "--env",
            "test",
            "--stack",
            "identity",
            "live-run",
        ],
    );
    expect_code(&out, 0);
    assert!(!lock_file(d, "identity").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn unreadable_lock_prints_a_force_unlock_command_a_shell_accepts() {
    let moto = Moto::start();
    let dir = project();
    let d = dir.path();
    let path = lock_file(d, "network");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"\x00\xffnot json").unwrap();

    let out = landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]);
    expect_code(&out, 1);
    let line = stderr(&out)
        .lines()
        .find(|l| l.contains("landfall force-unlock"))
        .unwrap_or_else(|| panic!("{}", text(&out)))
        .trim()
        .to_string();
    assert_eq!(
        line,
        "landfall force-unlock --env test unreadable",
        "{}",
        text(&out)
    );
    assert_eq!(census(&moto).await, NOTHING);

    // The printed command, word for word, releases it.
    let words: Vec<&str> = line.split_whitespace().skip(1).collect();
    expect_code(&landfall(d, &moto, &words), 0);
    assert!(!path.exists());
    expect_code(
        &landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]),
        0,
    );
}

/// A run whose stderr is collected as it is written, to see it say that it waits.
struct Watched {
    child: Child,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
    reader: std::thread::JoinHandle<()>,
}

impl Watched {
    fn spawn(d: &Path, moto: &Moto, args: &[&str]) -> Watched {
        let mut child = command(d, &moto.endpoint, moto, args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (mut pipe, sink) = (child.stderr.take().unwrap(), stderr.clone());
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = std::io::Read::read(&mut pipe, &mut buf) {
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Watched {
            child,
            stderr,
            reader,
        }
    }

    fn said(&self, what: &str) -> bool {
        self.stderr.lock().unwrap().contains(what)
    }

    /// Waits for the end: the exit code and everything written to stderr.
    fn finish(mut self) -> (Option<i32>, String) {
        let status = self.child.wait().unwrap();
        self.reader.join().unwrap();
        let err = self.stderr.lock().unwrap().clone();
        (status.code(), err)
    }
}

/// An apply through a slow proxy, stopped (SIGSTOP) once it holds a lock: a run in progress that
/// holds the environment's lock until the test lets it go on (SIGCONT).
async fn apply_holding_the_lock(d: &Path, moto: &Moto, proxy: &FaultProxy, s3: bool) -> Child {
    let child = spawn_apply(d, &proxy.endpoint, moto);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let locked = match s3 {
            true => !s3_locks(moto).await.is_empty(),
            false => lock_file(d, "network").exists(),
        };
        if locked {
            break;
        }
        assert!(Instant::now() < deadline, "timed out waiting for a lock");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    signal(&child, "STOP");
    child
}

/// The second of two runs on one environment waits for the first and then does its work: a destroy
/// queued behind an apply removes everything that apply made.
async fn second_run_waits_then_succeeds(s3: bool) {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto, &["--slow", "1.0"]);
    let dir = project();
    let d = dir.path();
    if s3 {
        use_s3_backend(d, &moto);
    }
    let first = apply_holding_the_lock(d, &moto, &proxy, s3).await;
    let destroy = ["destroy", "--env", "test", "--auto-approve"];
    let second = Watched::spawn(
        d,
        &moto,
        &[&destroy[..], &["--lock-timeout", "10m"]].concat(),
    );
    wait_for("the second run to wait", Duration::from_secs(120), || {
        second.said("is locked by")
    });
    signal(&first, "CONT");
    let out = first.wait_with_output().unwrap();
    expect_code(&out, 0);
    let (code, err) = second.finish();
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("(apply, since "), "{err}");
    assert!(err.contains("waiting up to 10m for it"), "{err}");
    assert_eq!(census(&moto).await, NOTHING, "{err}");
    if s3 {
        assert_eq!(s3_locks(&moto).await, Vec::<String>::new());
    } else {
        assert!(!lock_file(d, "network").exists() && !lock_file(d, "identity").exists());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_lock_timeout_a_second_run_waits_for_the_first_then_succeeds_local() {
    second_run_waits_then_succeeds(false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_lock_timeout_a_second_run_waits_for_the_first_then_succeeds_s3() {
    second_run_waits_then_succeeds(true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_short_lock_timeout_fails_cleanly_naming_the_holder() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto, &["--slow", "1.0"]);
    let dir = project();
    let d = dir.path();
    let first = apply_holding_the_lock(d, &moto, &proxy, false).await;
    let holder: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(lock_file(d, "network")).unwrap()).unwrap();
    let out = landfall(
        d,
        &moto,
        &[
            "state",
            "rm",
            "--env",
            "test",
            "network.vpc.main",
            "--lock-timeout",
            "1s",
        ],
    );
    expect_code(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("waiting up to 1s for it"), "{err}");
    assert!(err.contains("Gave up waiting for the lock after"), "{err}");
    assert_eq!(lock_id(&err).as_deref(), holder["id"].as_str(), "{err}");
    // The holder's run goes on undisturbed, and its lock was never taken from it.
    signal(&first, "CONT");
    let out = first.wait_with_output().unwrap();
    expect_code(&out, 0);
    assert_eq!(census(&moto).await, FULL);
    expect_code(
        &landfall(d, &moto, &["plan", "--env", "test", "--detailed-exitcode"]),
        0,
    );
}

#[test]
fn a_bad_lock_timeout_is_a_usage_error_naming_the_flag() {
    let moto = Moto::start();
    let dir = project();
    let out = landfall(
        dir.path(),
        &moto,
        &["apply", "--env", "test", "--lock-timeout", "soon"],
    );
    expect_code(&out, 2);
    assert!(stderr(&out).contains("--lock-timeout"), "{}", text(&out));
    assert!(!dir.path().join(".landfall").exists());
}
