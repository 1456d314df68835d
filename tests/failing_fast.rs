//! Issue 12, item 4: landfall fails fast and says where. Missing credentials are not retried; an
//! endpoint that refuses connections or never answers fails within the budget for unanswered calls
//! (about 30 s), naming the endpoint. Checked by counting attempts with `--stats`, never by timing.

mod common;

use common::cli::{expect_code, landfall_via, text};
use common::moto::Moto;
use std::net::TcpListener;
use std::process::Output;

fn project() -> tempfile::TempDir {
    common::fixture_copy("tests/fixtures/engine")
}

/// The `--stats` lines of a run: (service.operation, attempts).
fn attempts(out: &Output) -> Vec<(String, u64)> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .skip_while(|l| !l.starts_with("API requests:"))
        .skip(1)
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let (name, n) = (words.next()?, words.next()?.parse().ok()?);
            name.contains('.').then(|| (name.to_string(), n))
        })
        .collect()
}

/// The calls a healthy `plan --stack network` makes, per operation: attempts beyond them are retries.
fn calls(dir: &std::path::Path, moto: &Moto) -> std::collections::HashMap<String, u64> {
    let out = common::cli::landfall(
        dir,
        moto,
        &["plan", "--env", "test", "--stack", "network", "--stats"],
    );
    expect_code(&out, 0);
    attempts(&out).into_iter().collect()
}

/// Every EC2 read of a failed run was attempted at most `per_call` times per call it makes. (EC2
/// reads are one call per kind and place in both runs; IAM's one account-wide read is shared by the
/// IAM kinds when it succeeds, and made again by each of them when it fails.)
#[track_caller]
fn at_most(failed: &Output, healthy: &std::collections::HashMap<String, u64>, per_call: u64) {
    let all = attempts(failed);
    // The run stops at its first failure, which may come before any EC2 read was sent.
    assert!(!all.is_empty(), "{}", text(failed));
    let tried: Vec<(String, u64)> = all
        .into_iter()
        .filter(|(op, _)| op.starts_with("EC2."))
        .collect();
    for (op, n) in &tried {
        let calls = healthy.get(op).copied().unwrap_or(1);
        assert!(
            *n <= calls * per_call,
            "{op}: {n} attempts for {calls} call(s); at most {per_call} each: {tried:?}"
        );
    }
}

/// `plan --stack network --stats` through `endpoint`, which must fail: its output and stderr.
fn failed_plan_via(dir: &std::path::Path, endpoint: &str, moto: &Moto) -> (Output, String) {
    let out = landfall_via(
        dir,
        endpoint,
        moto,
        &["plan", "--env", "test", "--stack", "network", "--stats"],
    );
    expect_code(&out, 1);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stderr)
}

#[test]
fn missing_credentials_fail_at_once_saying_where_landfall_looked() {
    let moto = Moto::start();
    let dir = project();
    let mut cmd = common::cli::command(
        dir.path(),
        &moto.endpoint,
        &moto,
        &["plan", "--env", "test", "--stack", "network", "--stats"],
    );
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    let out = cmd.output().unwrap();
    expect_code(&out, 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("NoCredentials: no AWS credentials: landfall looks where the AWS CLI does"),
        "{}",
        text(&out)
    );
    at_most(&out, &calls(dir.path(), &moto), 1);
}

#[test]
fn a_refused_connection_names_the_endpoint_after_a_few_attempts() {
    let moto = Moto::start();
    let dir = project();
    // A port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let (out, stderr) = failed_plan_via(dir.path(), &endpoint, &moto);
    assert!(
        stderr.contains(&format!("(endpoint {endpoint})")),
        "{}",
        text(&out)
    );
    at_most(&out, &calls(dir.path(), &moto), 5);
}

#[test]
fn a_silent_endpoint_fails_after_two_attempts_naming_it() {
    let moto = Moto::start();
    let dir = project();
    // Accepts connections, never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let held = std::thread::spawn(move || {
        let mut open = Vec::new();
        for stream in listener.incoming().take(64) {
            open.push(stream);
        }
    });
    let (out, stderr) = failed_plan_via(dir.path(), &endpoint, &moto);
    assert!(
        stderr.contains("timeout") && stderr.contains(&format!("(endpoint {endpoint})")),
        "{}",
        text(&out)
    );
    // 15 s per attempt and a 25 s budget for unanswered calls: two attempts, not ten.
    at_most(&out, &calls(dir.path(), &moto), 2);
    drop(held);
}

#[test]
fn landfall_log_debug_shows_each_request_with_account_region_and_latency() {
    let moto = Moto::start();
    let dir = project();
    let mut cmd = common::cli::command(
        dir.path(),
        &moto.endpoint,
        &moto,
        &["plan", "--env", "test"],
    );
    cmd.env("LANDFALL_LOG", "debug");
    let out = cmd.output().unwrap();
    expect_code(&out, 0);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("operation=\"DescribeVpcs\""))
        .unwrap_or_else(|| panic!("no DescribeVpcs request logged:\n{}", text(&out)));
    for field in [
        "service=\"EC2\"",
        "account=\"caller\"",
        "region=\"eu-west-1\"",
        "status=200",
        "latency_ms=",
        "attempt=1",
    ] {
        assert!(line.contains(field), "{field} missing in {line}");
    }
    // Without LANDFALL_LOG nothing is logged.
    let quiet = common::cli::landfall(dir.path(), &moto, &["plan", "--env", "test"]);
    assert!(
        !String::from_utf8_lossy(&quiet.stderr).contains("operation="),
        "{}",
        text(&quiet)
    );
}
