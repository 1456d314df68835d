//! AWS Organizations account creation under faults, end to end: the real `landfall` binary, a private
//! moto server per test, and `scripts/fault-proxy.py` in front of it.
//!
//! The project is `tests/fixtures/org` (an organization, one OU under its root, two member accounts in
//! that OU). Results are checked with direct SDK reads of the emulator, not with landfall's own state;
//! the state file is read only to see what landfall recorded (pending account creation requests).

mod common;

use common::cli::{
    command, expect_code, landfall, landfall_via, lock_id, requests, text, wait_for,
};

use common::moto::{FaultProxy, Moto};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

/// The fixture's accounts: (address, name, email).
const ACCOUNTS: [(&str, &str, &str); 2] = [
    ("org.account.alpha", "alpha", "aws+alpha@example.com"),
    ("org.account.beta", "beta", "aws+beta@example.com"),
];

/// Generous: CI machines are shared, and account creation polls back off (2 s, 4 s, 8 s...).
const WAIT: Duration = Duration::from_secs(120);

fn project() -> tempfile::TempDir {
    common::fixture_copy("tests/fixtures/org")
}

/// Adds `line` to the `[defaults]` table of the project's landfall.toml.
fn set_default(d: &Path, line: &str) {
    let settings = d.join("landfall.toml");
    let text = std::fs::read_to_string(&settings).unwrap();
    assert!(text.contains("[defaults]\n"), "{text}");
    std::fs::write(
        &settings,
        text.replace("[defaults]\n", &format!("[defaults]\n{line}\n")),
    )
    .unwrap();
}

fn lock_file(d: &Path) -> PathBuf {
    d.join(".landfall/state/test/org.json.lock")
}

/// The state as landfall last wrote it (None before the first write): the document, with the
/// journal it names replayed (a running apply's checkpoints).
fn state(d: &Path) -> Option<serde_json::Value> {
    common::state::json(d, "test", "org")
}

/// The addresses with a pending creation request recorded in state.
fn pending(d: &Path) -> Vec<String> {
    let Some(doc) = state(d) else {
        return Vec::new();
    };
    let mut out: Vec<String> = doc["pending"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|p| p["address"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// A member account as the emulator reports it.
#[derive(Debug)]
struct Member {
    id: String,
    name: String,
    email: String,
    parent: String,
}

/// Every account of the organization except the management account, read directly from the emulator.
async fn members(moto: &Moto) -> Vec<Member> {
    let org = aws_sdk_organizations::Client::new(&moto.sdk_config().await);
    let management = org
        .describe_organization()
        .send()
        .await
        .unwrap()
        .organization()
        .and_then(|o| o.master_account_id())
        .unwrap()
        .to_string();
    let mut accounts = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = org
            .list_accounts()
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        accounts.extend(out.accounts().iter().cloned());
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let mut out = Vec::new();
    for a in accounts {
        let id = a.id().unwrap().to_string();
        if id == management {
            continue;
        }
        let parents = org.list_parents().child_id(&id).send().await.unwrap();
        out.push(Member {
            parent: parents.parents()[0].id().unwrap().to_string(),
            name: a.name().unwrap_or_default().to_string(),
            email: a.email().unwrap_or_default().to_string(),
            id,
        });
    }
    out
}

/// The id of the OU named `name` directly under the root.
async fn ou_id(moto: &Moto, name: &str) -> String {
    let org = aws_sdk_organizations::Client::new(&moto.sdk_config().await);
    let roots = org.list_roots().send().await.unwrap();
    let root = roots.roots()[0].id().unwrap().to_string();
    let ous = org
        .list_organizational_units_for_parent()
        .parent_id(&root)
        .send()
        .await
        .unwrap();
    let found: Vec<String> = ous
        .organizational_units()
        .iter()
        .filter(|ou| ou.name() == Some(name))
        .filter_map(|ou| ou.id().map(str::to_string))
        .collect();
    assert_eq!(found.len(), 1, "OUs named {name} under the root: {found:?}");
    found[0].clone()
}

/// Both fixture accounts exist exactly once, in the Workloads OU, and nothing else was created.
async fn assert_both_accounts_once(moto: &Moto) {
    let members = members(moto).await;
    assert_eq!(members.len(), 2, "member accounts: {members:?}");
    let ou = ou_id(moto, "Workloads").await;
    for (address, name, email) in ACCOUNTS {
        let with_email: Vec<&Member> = members
            .iter()
            .filter(|m| m.email.eq_ignore_ascii_case(email))
            .collect();
        assert_eq!(with_email.len(), 1, "{address}: {members:?}");
        assert_eq!(with_email[0].name, name, "{address}: {members:?}");
        assert_eq!(with_email[0].parent, ou, "{address}: {members:?}");
    }
}

/// Plan through `endpoint` shows no changes.
#[track_caller]
fn assert_no_changes(d: &Path, endpoint: &str, moto: &Moto) {
    let out = landfall_via(
        d,
        endpoint,
        moto,
        &["plan", "--env", "test", "--detailed-exitcode"],
    );
    expect_code(&out, 0);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("No changes."),
        "{}",
        text(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn create_account_in_progress_for_several_polls_still_converges() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto, &["--create-account-in-progress", "3"]);
    let dir = project();
    let d = dir.path();

    let out = landfall_via(
        d,
        &proxy.endpoint,
        &moto,
        &["apply", "--env", "test", "--auto-approve", "--stats"],
    );
    expect_code(&out, 0);
    assert_both_accounts_once(&moto).await;
    // One request per account, each polled past its three IN_PROGRESS answers.
    assert_eq!(requests(&out, "CreateAccount"), 2, "{}", text(&out));
    assert!(
        requests(&out, "DescribeCreateAccountStatus") >= 8,
        "{}",
        text(&out)
    );
    let counts = proxy.counts();
    assert!(counts["in_progress"].as_u64().unwrap() > 0, "{counts}");
    assert_eq!(
        counts["in_progress"], 6,
        "3 held polls per request: {counts}"
    );
    assert!(pending(d).is_empty(), "{:?}", state(d));
    assert!(!lock_file(d).exists(), "lock released");

    assert_no_changes(d, &proxy.endpoint, &moto);
    assert_both_accounts_once(&moto).await;
}

/// Starts `apply` through a proxy that holds every account creation IN_PROGRESS, kills it (SIGKILL)
/// once both creation requests are recorded in state and polled, and clears the dead run's lock the
/// way the lock error says. Afterwards state holds both requests as pending and neither account.
fn kill_while_creations_are_pending(moto: &Moto, d: &Path) {
    // Polling never sees the creations finish: the run is still waiting when it is killed.
    let hold = FaultProxy::start(moto, &["--create-account-in-progress", "1000"]);
    let mut child = command(
        d,
        &hold.endpoint,
        moto,
        &["apply", "--env", "test", "--auto-approve"],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let want: Vec<String> = ACCOUNTS.iter().map(|(a, _, _)| a.to_string()).collect();
    wait_for("both creations pending and polled", WAIT, || {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "apply ended ({status}) before both creations were pending: {:?}",
                state(d)
            );
        }
        // Recorded, and polled at least once each (answered IN_PROGRESS).
        pending(d) == want && hold.counts()["in_progress"].as_u64().unwrap() >= 2
    });
    child.kill().unwrap(); // SIGKILL: no cleanup at all
    child.wait().unwrap();
    // What the dead run left: both requests recorded, neither account in state.
    let doc = state(d).unwrap();
    let in_state: Vec<&str> = doc["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["address"].as_str())
        .collect();
    assert!(!in_state.contains(&"org.account.alpha"), "{doc:#}");
    assert!(!in_state.contains(&"org.account.beta"), "{doc:#}");
    for p in doc["pending"].as_array().unwrap() {
        assert!(
            !p["request_id"].as_str().unwrap_or_default().is_empty(),
            "{doc:#}"
        );
    }

    // The lock stays; clear it the way the error message says.
    assert!(lock_file(d).exists(), "the killed run's lock stays");
    let probe = landfall(d, moto, &["apply", "--env", "test", "--auto-approve"]);
    expect_code(&probe, 1);
    let err = String::from_utf8_lossy(&probe.stderr).to_string();
    assert!(err.contains("is locked by"), "{err}");
    let id = lock_id(&err).unwrap_or_else(|| panic!("no lock id in: {err}"));
    let lock: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(lock_file(d)).unwrap()).unwrap();
    assert_eq!(lock["id"], id.as_str(), "{lock}");
    expect_code(
        &landfall(
            d,
            moto,
            &["force-unlock", "--env", "test", "--stack", "org", &id],
        ),
        0,
    );
    assert!(!lock_file(d).exists());
    // The probe was refused before it changed anything.
    assert_eq!(pending(d), want);
}

/// Applies again through a proxy that no longer holds the creations: no account is requested a
/// second time, both exist once, state has them and no pending request, and the plan is a no-op.
async fn apply_again_converges(moto: &Moto, d: &Path) -> Output {
    let proxy = FaultProxy::start(moto, &[]);
    let out = landfall_via(
        d,
        &proxy.endpoint,
        moto,
        &["apply", "--env", "test", "--auto-approve", "--stats"],
    );
    expect_code(&out, 0);
    assert_eq!(
        requests(&out, "CreateAccount"),
        0,
        "no second request: {}",
        text(&out)
    );
    assert_both_accounts_once(moto).await;
    assert!(pending(d).is_empty(), "{:?}", state(d));
    let doc = state(d).unwrap();
    let members = members(moto).await;
    for (address, _, email) in ACCOUNTS {
        let r = doc["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["address"] == address)
            .unwrap_or_else(|| panic!("{address} not in state: {doc:#}"));
        let m = members.iter().find(|m| m.email == email).unwrap();
        assert_eq!(r["id"], m.id.as_str(), "{doc:#}");
    }
    assert_no_changes(d, &proxy.endpoint, moto);
    assert_both_accounts_once(moto).await;
    out
}

/// The emulator creates an account at once (only the proxy reports it IN_PROGRESS), so the killed
/// run's accounts are already listed, tagged with their `landfall:address`: the next run finds them
/// by that tag (and moves them into their OU) rather than through the recorded requests.
#[tokio::test(flavor = "multi_thread")]
async fn kill_while_account_creation_is_pending_then_apply_again_creates_no_second_account() {
    let moto = Moto::start();
    let dir = project();
    let d = dir.path();
    kill_while_creations_are_pending(&moto, d);
    apply_again_converges(&moto, d).await;
}

/// As AWS behaves: an account being created is not listed yet, so nothing but the recorded request id
/// links it to its address. The emulator lists it at once; removing its `landfall:address` tag hides it
/// from adoption the same way, and the next run must resume polling the recorded request.
#[tokio::test(flavor = "multi_thread")]
async fn kill_while_account_creation_is_pending_then_apply_again_resumes_the_recorded_request() {
    let moto = Moto::start();
    let dir = project();
    let d = dir.path();
    kill_while_creations_are_pending(&moto, d);
    let org = aws_sdk_organizations::Client::new(&moto.sdk_config().await);
    for m in members(&moto).await {
        org.untag_resource()
            .resource_id(&m.id)
            .tag_keys("landfall:address")
            .send()
            .await
            .unwrap();
    }
    let out = apply_again_converges(&moto, d).await;
    // Each recorded request was polled again (once is enough: it has succeeded by now).
    assert!(
        requests(&out, "DescribeCreateAccountStatus") >= 2,
        "{}",
        text(&out)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    for (address, _, _) in ACCOUNTS {
        assert!(
            stdout.contains(&format!("+ {address} (create)")),
            "{}",
            text(&out)
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn email_already_in_use_fails_that_account_and_the_other_is_created() {
    let moto = Moto::start();
    let dir = project();
    let d = dir.path();

    // Someone created alpha's account by hand, outside landfall.
    let org = aws_sdk_organizations::Client::new(&moto.sdk_config().await);
    org.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    let created = org
        .create_account()
        .email("aws+alpha@example.com")
        .account_name("alpha")
        .send()
        .await
        .unwrap();
    let request = created.create_account_status().unwrap().id().unwrap();
    let existing = org
        .describe_create_account_status()
        .create_account_request_id(request)
        .send()
        .await
        .unwrap()
        .create_account_status()
        .unwrap()
        .account_id()
        .unwrap()
        .to_string();

    let out = landfall(
        d,
        &moto,
        &["apply", "--env", "test", "--auto-approve", "--stats"],
    );
    expect_code(&out, 1);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        err.contains(&format!(
            "the email aws+alpha@example.com already belongs to account {existing} (alpha)"
        )),
        "{}",
        text(&out)
    );
    assert!(
        err.contains(&format!("`landfall import org.account.alpha {existing}`")),
        "{}",
        text(&out)
    );
    // Only beta was requested: the taken email is caught before CreateAccount.
    assert_eq!(requests(&out, "CreateAccount"), 1, "{}", text(&out));

    // The independent branch went on: beta exists once, in its OU; alpha still only once.
    let members = members(&moto).await;
    assert_eq!(members.len(), 2, "{members:?}");
    let ou = ou_id(&moto, "Workloads").await;
    let alpha: Vec<&Member> = members
        .iter()
        .filter(|m| m.email == "aws+alpha@example.com")
        .collect();
    assert_eq!(alpha.len(), 1, "{members:?}");
    assert_eq!(alpha[0].id, existing);
    let beta: Vec<&Member> = members
        .iter()
        .filter(|m| m.email == "aws+beta@example.com")
        .collect();
    assert_eq!(beta.len(), 1, "{members:?}");
    assert_eq!(beta[0].parent, ou, "{members:?}");
    assert!(pending(d).is_empty(), "{:?}", state(d));
    let out = landfall(d, &moto, &["state", "list", "--env", "test"]);
    expect_code(&out, 0);
    let listed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(listed.contains("org.account.beta"), "{listed}");
    assert!(!listed.contains("org.account.alpha"), "{listed}");

    // Following the advice: import, apply (moves it into the OU, tags it), then nothing to do.
    expect_code(
        &landfall(
            d,
            &moto,
            &["import", "--env", "test", "org.account.alpha", &existing],
        ),
        0,
    );
    let out = landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]);
    expect_code(&out, 0);
    assert_both_accounts_once(&moto).await;
    assert_no_changes(d, &moto.endpoint, &moto);
}

#[tokio::test(flavor = "multi_thread")]
async fn bursts_of_too_many_requests_still_converge() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto, &["--throttle", "0.3", "--seed", "11"]);
    let dir = project();
    let d = dir.path();

    let out = landfall_via(
        d,
        &proxy.endpoint,
        &moto,
        &["apply", "--env", "test", "--auto-approve"],
    );
    expect_code(&out, 0);
    assert_both_accounts_once(&moto).await;
    assert!(pending(d).is_empty(), "{:?}", state(d));
    assert_no_changes(d, &proxy.endpoint, &moto);
    let counts = proxy.counts();
    assert!(counts["throttled"].as_u64().unwrap() > 0, "{counts}");
    assert_both_accounts_once(&moto).await;
}

/// AWS reports the creation FAILED with EMAIL_ALREADY_EXISTS (the email belongs to an account outside
/// the organization, which landfall's own check cannot see): a clear error with the import hint, the
/// request is forgotten (resuming it would fail again), and the other account is created.
#[tokio::test(flavor = "multi_thread")]
async fn creation_failed_with_email_already_exists_is_a_clear_error_and_is_not_resumed() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(
        &moto,
        &["--fail-create-account", "alpha=EMAIL_ALREADY_EXISTS"],
    );
    let dir = project();
    let d = dir.path();

    let out = landfall_via(
        d,
        &proxy.endpoint,
        &moto,
        &["apply", "--env", "test", "--auto-approve", "--stats"],
    );
    expect_code(&out, 1);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(err.contains("EMAIL_ALREADY_EXISTS"), "{}", text(&out));
    // (The emulator did create the account the proxy reports as failed, so the error can name it;
    // against AWS it says "another AWS account" and ACCOUNT_ID.)
    assert!(
        err.contains("the email aws+alpha@example.com already belongs to"),
        "{}",
        text(&out)
    );
    assert!(
        err.contains("`landfall import org.account.alpha "),
        "{}",
        text(&out)
    );
    assert_eq!(requests(&out, "CreateAccount"), 2, "{}", text(&out));
    assert_eq!(proxy.counts()["failed_creations"], 1);
    // The failed request is not left pending, and beta went on.
    assert!(pending(d).is_empty(), "{:?}", state(d));
    let out = landfall(d, &moto, &["state", "list", "--env", "test"]);
    let listed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(listed.contains("org.account.beta"), "{listed}");
    assert!(!listed.contains("org.account.alpha"), "{listed}");
    assert!(!lock_file(d).exists(), "lock released");
}

/// `account_creation_timeout` in landfall.toml bounds the wait; the requests stay recorded, and the
/// next apply resumes them rather than asking for new accounts.
#[tokio::test(flavor = "multi_thread")]
async fn account_creation_timeout_is_configurable_and_the_next_apply_resumes() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto, &["--create-account-in-progress", "1000"]);
    let dir = project();
    let d = dir.path();
    set_default(d, "account_creation_timeout = \"3s\"");

    let out = landfall_via(
        d,
        &proxy.endpoint,
        &moto,
        &["apply", "--env", "test", "--auto-approve"],
    );
    expect_code(&out, 1);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("still in progress after 3s"),
        "{}",
        text(&out)
    );
    assert_eq!(
        pending(d),
        vec!["org.account.alpha".to_string(), "org.account.beta".into()]
    );

    let out = apply_again_converges(&moto, d).await;
    assert_eq!(requests(&out, "CreateAccount"), 0, "{}", text(&out));
}

/// A new account's access role is refused for a while (as AWS does for a fresh account): the first
/// calls into the account wait until it can be assumed, then the VPC and role are created inside it.
#[tokio::test(flavor = "multi_thread")]
async fn first_calls_into_a_new_account_wait_until_its_access_role_can_be_assumed() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto, &["--deny-assume-role", "3"]);
    let dir = project();
    let d = dir.path();

    let out = landfall_via(
        d,
        &proxy.endpoint,
        &moto,
        &["apply", "--env", "member", "--auto-approve", "--stats"],
    );
    expect_code(&out, 0);
    assert_eq!(proxy.counts()["denied_assume_role"], 3);
    assert!(requests(&out, "AssumeRole") >= 4, "{}", text(&out));

    // The VPC and the role are the alpha account's, read with that account's own credentials.
    let alpha = members(&moto)
        .await
        .into_iter()
        .find(|m| m.name == "alpha")
        .unwrap()
        .id;
    let member = moto.member_config(&alpha).await;
    let vpcs = aws_sdk_ec2::Client::new(&member)
        .describe_vpcs()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("cidr")
                .values("10.42.0.0/16")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(vpcs.vpcs().len(), 1);
    assert_eq!(vpcs.vpcs()[0].owner_id(), Some(alpha.as_str()));
    let role = aws_sdk_iam::Client::new(&member)
        .get_role()
        .role_name("deployer")
        .send()
        .await
        .unwrap();
    assert!(
        role.role()
            .unwrap()
            .arn()
            .starts_with(&format!("arn:aws:iam::{alpha}:role/")),
        "{role:?}"
    );

    let out = landfall(
        d,
        &moto,
        &["plan", "--env", "member", "--detailed-exitcode"],
    );
    expect_code(&out, 0);
}

/// An access role that never becomes assumable: after `access_role_timeout` the resources inside the
/// account fail with what to check (not retried again for every call), the rest of the apply goes on.
#[tokio::test(flavor = "multi_thread")]
async fn an_access_role_that_stays_refused_fails_after_the_timeout_with_guidance() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto, &["--deny-assume-role", "100000"]);
    let dir = project();
    let d = dir.path();
    set_default(d, "access_role_timeout = \"2s\"");

    let out = landfall_via(
        d,
        &proxy.endpoint,
        &moto,
        &["apply", "--env", "member", "--auto-approve", "--stats"],
    );
    expect_code(&out, 1);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        err.contains("could not assume arn:aws:iam::")
            && err.contains(":role/OrganizationAccountAccessRole for 2s"),
        "{}",
        text(&out)
    );
    assert!(err.contains("access_role_timeout"), "{}", text(&out));
    // Both member resources failed; the organization stack was applied.
    assert!(err.contains("member.vpc.main: failed"), "{}", text(&out));
    assert!(
        err.contains("member.iam_role.deployer: failed"),
        "{}",
        text(&out)
    );
    assert!(err.contains("org.account.alpha: created"), "{}", text(&out));
    // The wait happened once, not once per call and retry: a handful of AssumeRole requests (a
    // retry storm would be hundreds).
    let denied = proxy.counts()["denied_assume_role"].as_u64().unwrap();
    assert!((2..=10).contains(&denied), "{denied} AssumeRole attempts");
}

/// CreateAccount's answer is lost after AWS accepted the request: the retry finds the request
/// (ListCreateAccountStatus, by name and time) rather than asking for a second account.
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_create_account_answer_asks_for_no_second_account() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto, &["--lose-response", "CreateAccount"]);
    let dir = project();
    let d = dir.path();
    let out = landfall_via(
        d,
        &proxy.endpoint,
        &moto,
        &["apply", "--env", "test", "--auto-approve", "--stats"],
    );
    expect_code(&out, 0);
    assert_eq!(proxy.counts()["lost_responses"], 1);
    // Two requests reached AWS, one per account; the lost one was not sent again.
    assert_eq!(requests(&out, "CreateAccount"), 2, "{}", text(&out));
    assert!(
        requests(&out, "ListCreateAccountStatus") >= 1,
        "{}",
        text(&out)
    );
    assert_both_accounts_once(&moto).await;
    assert!(pending(d).is_empty(), "{:?}", state(d));
    assert_no_changes(d, &moto.endpoint, &moto);
}
