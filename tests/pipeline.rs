//! The repository's `.gitlab-ci.yml`, run by a real runner that is not ours: gitlab-ci-local (pinned
//! in tools/gitlab-ci-local, installed by scripts/test.sh) with its shell executor, against the
//! emulator. A git repository of the example landing zone goes through merge requests: the
//! merge-request pipeline plans what changed (web identity, plan file and comment as artifacts), the
//! main-branch pipeline applies those artifacts, and a plan overtaken by another merge is refused.
//!
//! The test stands in for GitLab where a local runner cannot: it passes the merge-request variables,
//! and keeps each merge request's artifacts in a folder the apply job reads (`LANDFALL_PLANS_FROM`)
//! instead of GitLab's artifact storage.

mod common;

use common::git::git;

use common::moto::Moto;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

/// The management account moto acts as; the CI roles live in it.
const MANAGEMENT: &str = "123456789012";

fn text(out: &Output) -> String {
    common::cli::text(out)
}

fn gitlab_ci_local() -> PathBuf {
    let bin = common::repo().join("tools/gitlab-ci-local/node_modules/.bin/gitlab-ci-local");
    assert!(
        bin.exists(),
        "gitlab-ci-local is not installed: run scripts/test.sh, or `npm ci --prefix tools/gitlab-ci-local`"
    );
    bin
}

/// One pipeline of the repository in `dir`, as gitlab-ci-local runs it with the shell executor;
/// `landfall` on PATH is the binary under test, AWS is the emulator.
fn pipeline(dir: &Path, moto: &Moto, variables: &[(&str, String)]) -> Output {
    let landfall = PathBuf::from(env!("CARGO_BIN_EXE_landfall"));
    let path = format!(
        "{}:{}",
        landfall.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new(gitlab_ci_local());
    cmd.current_dir(dir)
        .args(["--force-shell-executor", "--no-color"])
        .env("PATH", path)
        .env(
            "GCL_IGNORE_PREDEFINED_VARS",
            "CI_PIPELINE_SOURCE,CI_DEFAULT_BRANCH",
        )
        .env("NO_COLOR", "1");
    let role = |name: &str| format!("arn:aws:iam::{MANAGEMENT}:role/{name}");
    let fixed = [
        ("LANDFALL_PLAN_ROLE_ARN", role("landfall-plan")),
        ("LANDFALL_APPLY_ROLE_ARN", role("landfall-apply")),
        // moto accepts any token; the jobs still go through AssumeRoleWithWebIdentity with it.
        (
            "LANDFALL_ID_TOKEN",
            "eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl".into(),
        ),
        ("CI_DEFAULT_BRANCH", "main".into()),
    ];
    for (k, v) in moto.env().iter().chain(&fixed).chain(variables.iter()) {
        cmd.arg("--variable").arg(format!("{k}={v}"));
    }
    cmd.output().expect("run gitlab-ci-local")
}

/// The merge-request pipeline of branch `branch` (based on main's `base`); its artifacts are kept
/// in `store` under the planned commit, as GitLab keeps them with the merge request.
fn merge_request(dir: &Path, moto: &Moto, branch: &str, base: &str, store: &Path) -> Output {
    git(dir, &["checkout", "-q", branch]);
    let out = pipeline(
        dir,
        moto,
        &[
            ("CI_PIPELINE_SOURCE", "merge_request_event".into()),
            ("CI_MERGE_REQUEST_DIFF_BASE_SHA", base.into()),
            ("CI_MERGE_REQUEST_IID", "1".into()),
        ],
    );
    let head = git(dir, &["rev-parse", "HEAD"]);
    if dir.join("plans").is_dir() {
        std::fs::rename(dir.join("plans"), store.join(head)).unwrap();
    }
    git(dir, &["checkout", "-q", "main"]);
    out
}

/// Merges `branch` into main (a merge commit) and runs main's pipeline.
fn merge(dir: &Path, moto: &Moto, branch: &str, store: &Path) -> Output {
    git(dir, &["checkout", "-q", "main"]);
    git(dir, &["merge", "-q", "--no-ff", "-m", branch, branch]);
    pipeline(
        dir,
        moto,
        &[
            ("CI_PIPELINE_SOURCE", "push".into()),
            ("CI_COMMIT_BRANCH", "main".into()),
            ("LANDFALL_PLANS_FROM", store.display().to_string()),
        ],
    )
}

/// Rewrites a file (each `from` must occur) and commits it on a new branch from main.
fn branch_with_edit(dir: &Path, branch: &str, file: &str, from: &str, to: &str) -> String {
    git(dir, &["checkout", "-q", "-b", branch, "main"]);
    let path = dir.join(file);
    let content = std::fs::read_to_string(&path).unwrap();
    assert!(content.contains(from), "`{from}` is not in {file}");
    std::fs::write(&path, content.replace(from, to)).unwrap();
    git(dir, &["commit", "-q", "-a", "-m", branch]);
    git(dir, &["checkout", "-q", "main"]);
    git(dir, &["rev-parse", "main"])
}

/// The repository: the example landing zone with its pipeline on main, and its sandbox environment
/// on a branch (the first merge request adds it). State lives in S3 on the emulator, as a pipeline
/// needs (a runner's disk does not outlive its job).
fn repository() -> tempfile::TempDir {
    let dir = common::example_copy();
    let d = dir.path();
    for part in [".gitlab-ci.yml", "tools/ci"] {
        let to = d.join(part);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        let status = Command::new("cp")
            .arg("-R")
            .arg(common::repo().join(part))
            .arg(&to)
            .status()
            .unwrap();
        assert!(status.success());
    }
    std::fs::write(d.join(".gitignore"), "plans/\n.gitlab-ci-local/\n").unwrap();
    // One Python process emulates AWS for the whole apply and stalls on each account creation
    // (managed policies loaded): fewer changes in flight keep every request within its timeout on
    // a loaded machine.
    let project = d.join("landfall.toml");
    let settings = std::fs::read_to_string(&project).unwrap();
    assert!(settings.contains("parallelism = 10"));
    std::fs::write(
        &project,
        settings.replace("parallelism = 10", "parallelism = 2"),
    )
    .unwrap();
    // Only the sandbox: the other environments would manage the emulator's one organization too.
    for other in ["global", "dev", "stg", "prod"] {
        std::fs::remove_dir_all(d.join("environments").join(other)).unwrap();
    }
    let sandbox = d.join("environments/sandbox/env.toml");
    let env = std::fs::read_to_string(&sandbox).unwrap();
    let local = env.find("[backend]").expect("sandbox has a backend");
    std::fs::write(&sandbox, &env[..local]).unwrap();
    std::fs::rename(d.join("environments/sandbox"), d.join("sandbox.pending")).unwrap();
    git(d, &["init", "-q", "-b", "main"]);
    git(
        d,
        &[
            "remote",
            "add",
            "origin",
            "https://gitlab.example.com/acme/landing-zone.git",
        ],
    );
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "landing zone and pipeline"]);
    git(d, &["checkout", "-q", "-b", "add-sandbox"]);
    std::fs::rename(d.join("sandbox.pending"), d.join("environments/sandbox")).unwrap();
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "sandbox environment"]);
    git(d, &["checkout", "-q", "main"]);
    dir
}

async fn policy_content(moto: &Moto, name: &str) -> String {
    let org = aws_sdk_organizations::Client::new(&moto.sdk_config().await);
    let policies = org
        .list_policies()
        .filter(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
        .send()
        .await
        .unwrap();
    let id = policies
        .policies()
        .iter()
        .find(|p| p.name() == Some(name))
        .and_then(|p| p.id())
        .unwrap_or_else(|| panic!("policy {name} missing"))
        .to_string();
    let policy = org.describe_policy().policy_id(id).send().await.unwrap();
    policy.policy().unwrap().content().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn gitlab_pipeline_plans_merge_requests_and_applies_their_plans_on_main() {
    let moto = Moto::start_with(&[("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")]);
    let dir = repository();
    let d = dir.path();
    let store = tempfile::tempdir().unwrap();
    let main = git(d, &["rev-parse", "main"]);
    // The state bucket is made once by hand, as the README says.
    git(d, &["checkout", "-q", "add-sandbox"]);
    common::cli::expect_code(
        &common::cli::landfall(d, &moto, &["init", "--env", "sandbox"]),
        0,
    );
    git(d, &["checkout", "-q", "main"]);

    // Merge request 1 adds the sandbox: only it is planned, with the plan identity, and the plan
    // file and the comment naming the changes are its artifacts.
    let started = Instant::now();
    let out = merge_request(d, &moto, "add-sandbox", &main, store.path());
    eprintln!(
        "merge-request pipeline (sandbox, from nothing): {:.1}s",
        started.elapsed().as_secs_f64()
    );
    assert!(out.status.success(), "{}", text(&out));
    let log = text(&out);
    assert!(log.contains("PASS  plan"), "{log}");
    assert!(
        log.contains("credentials: web identity for arn:aws:iam::123456789012:role/landfall-plan"),
        "{log}"
    );
    let planned = store.path().join(git(d, &["rev-parse", "add-sandbox"]));
    let environments = std::fs::read_to_string(planned.join("environments")).unwrap();
    assert_eq!(environments.trim(), "sandbox", "{log}");
    assert!(planned.join("sandbox.plan.json").is_file(), "{log}");
    let comment = std::fs::read_to_string(planned.join("sandbox.comment/plan-1.md")).unwrap();
    for change in [
        "organizational_unit.workloads",
        "account.dev",
        "policy.deny_leaving",
        "vpc.this",
    ] {
        assert!(comment.contains(change), "{change} missing:\n{comment}");
    }

    // Main applies exactly that plan, with the apply identity.
    let out = merge(d, &moto, "add-sandbox", store.path());
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("PASS  apply"), "{}", text(&out));
    let org = aws_sdk_organizations::Client::new(&moto.sdk_config().await);
    let accounts = org.list_accounts().send().await.unwrap();
    let names: Vec<&str> = accounts
        .accounts()
        .iter()
        .filter_map(|a| a.name())
        .collect();
    for name in ["dev", "stg", "prod"] {
        assert!(names.contains(&name), "account {name} missing: {names:?}");
    }
    let dev = accounts
        .accounts()
        .iter()
        .find(|a| a.name() == Some("dev"))
        .and_then(|a| a.id())
        .unwrap();
    let vpcs = aws_sdk_ec2::Client::new(&moto.member_config(dev).await)
        .describe_vpcs()
        .send()
        .await
        .unwrap();
    assert!(
        vpcs.vpcs()
            .iter()
            .any(|v| v.cidr_block() == Some("10.10.0.0/16")),
        "the dev baseline VPC"
    );
    let before = policy_content(&moto, "deny-root-user").await;

    // Two merge requests planned against the same main; the second merged is stale once the first
    // was applied: its apply job fails, saying so, and changes nothing.
    let main = branch_with_edit(
        d,
        "close-account",
        "policies/deny-leaving.json",
        r#""Action": "organizations:LeaveOrganization","#,
        r#""Action": ["organizations:LeaveOrganization", "account:CloseAccount"],"#,
    );
    branch_with_edit(
        d,
        "deny-root-keys",
        "policies/deny-root.json",
        r#""aws:PrincipalArn": "arn:aws:iam::*:root""#,
        r#""aws:PrincipalArn": ["arn:aws:iam::*:root", "arn:aws:iam::*:user/root-*"]"#,
    );
    for branch in ["close-account", "deny-root-keys"] {
        let out = merge_request(d, &moto, branch, &main, store.path());
        assert!(out.status.success(), "{}", text(&out));
    }
    let out = merge(d, &moto, "close-account", store.path());
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        policy_content(&moto, "deny-leaving-organization")
            .await
            .contains("account:CloseAccount")
    );
    let out = merge(d, &moto, "deny-root-keys", store.path());
    assert!(!out.status.success(), "{}", text(&out));
    let log = text(&out);
    assert!(log.contains("FAIL  apply"), "{log}");
    assert!(log.to_lowercase().contains("stale"), "{log}");
    assert!(
        log.contains("the plan of environment sandbox was not applied"),
        "{log}"
    );
    assert_eq!(policy_content(&moto, "deny-root-user").await, before);
}
