//! Issue 12, item 2: plan runs with a read-only identity that cannot change anything, proven on the
//! emulator with IAM enforced.
//!
//! The shipped sandbox, its state in S3, and two identities in the management account: an
//! administrator (what the protected apply pipeline runs as) and the `landfall-plan` role the
//! identity stack creates (what merge-request pipelines run as, reached through web identity). The
//! administrator applies; the plan identity plans a change (the member accounts read through their
//! `landfall-plan` roles, `[defaults] plan_role`), is refused when it tries to apply it, and sees
//! an empty plan once the administrator has applied it.
//!
//! **What moto 5.2.5 enforces** (`moto/core/authorization.py`, `moto/iam/access_control.py`), once
//! its free requests (`INITIAL_NO_AUTH_ACTION_COUNT`) are used up:
//! - every request must be signed with the access key of an IAM user or of an assumed role, in the
//!   account the key belongs to (an assumed role's key belongs to the role's account, so a member
//!   account's role is checked against that account's IAM);
//! - the identity policies of that user (inline, attached, its groups') or role (inline and
//!   attached) must allow the action; an explicit Deny wins;
//! - `Resource` is matched only where moto names one: the role ARN for `sts:AssumeRole`, the bucket
//!   and key ARNs for S3, a role's ARN for IAM calls on roles; elsewhere the request's resource is
//!   `*`, so a statement limited to other ARNs does not allow it;
//! - a role's trust policy only when the role is in the caller's own account.
//!
//! **What it does not**: trust policies across accounts (any principal allowed `sts:AssumeRole` by
//! its own policies assumes any member role), conditions of identity policies (a statement with a
//! `Condition` the request does not carry is treated as a Deny), SCPs, permission boundaries,
//! session policies. Its SigV4 check disagrees with the AWS SDK for Rust on some form-encoded bodies
//! (CreatePolicy, CreateRole, CreateSecurityGroup: `SignatureDoesNotMatch`, which is what printed as
//! "unhandled error" before landfall showed AWS's code), so the administrator's runs pause the checks;
//! every run of the plan identity is checked. `AssumeRoleWithWebIdentity` is unsigned, and moto fails it with HTTP 500 while
//! IAM is enforced, so each web-identity run gets exactly one free request for it. A new account's
//! `OrganizationAccountAccessRole` has no policy (AWS gives it AdministratorAccess), so the test
//! attaches one, as AWS would, through free requests.

mod common;

use common::cli::{command, expect_code, text};
use common::moto::{Moto, REGION};
use std::path::Path;
use std::process::Output;

/// moto's default account: the organization's management account here.
const MANAGEMENT: &str = "123456789012";

/// Static keys (an IAM user, or a role session), or a role reached through web identity.
#[derive(Clone)]
enum Identity {
    Keys {
        id: String,
        secret: String,
        token: Option<String>,
    },
    WebIdentity {
        role_arn: String,
        token_file: std::path::PathBuf,
    },
}

/// `landfall ARGS` run as the administrator, with IAM checks paused: moto 5.2.5 computes a different
/// SigV4 signature than the AWS SDK for Rust for some form-encoded bodies (CreatePolicy, CreateRole
/// and CreateSecurityGroup with their documents and descriptions: `SignatureDoesNotMatch`), and the
/// administrator is allowed everything anyway. Every run of the plan identity is checked.
fn run_as_admin(d: &Path, moto: &Moto, admin: &Identity, args: &[&str]) -> Output {
    moto.free_requests(1_000_000);
    let out = run_as(d, moto, admin, args);
    moto.free_requests(0);
    out
}

/// `landfall ARGS` run as `who`.
fn run_as(d: &Path, moto: &Moto, who: &Identity, args: &[&str]) -> Output {
    let mut cmd = command(d, &moto.endpoint, moto, args);
    match who {
        Identity::Keys { id, secret, token } => {
            cmd.env("AWS_ACCESS_KEY_ID", id)
                .env("AWS_SECRET_ACCESS_KEY", secret);
            if let Some(token) = token {
                cmd.env("AWS_SESSION_TOKEN", token);
            }
        }
        Identity::WebIdentity {
            role_arn,
            token_file,
        } => {
            // The SDK's one AssumeRoleWithWebIdentity of the run (see the module docs).
            moto.free_requests(1);
            cmd.env_remove("AWS_ACCESS_KEY_ID")
                .env_remove("AWS_SECRET_ACCESS_KEY")
                .env("AWS_ROLE_ARN", role_arn)
                .env("AWS_WEB_IDENTITY_TOKEN_FILE", token_file)
                .env("AWS_ROLE_SESSION_NAME", "merge-request");
        }
    }
    cmd.output().expect("run landfall")
}

/// An SDK configuration reading the emulator as the given keys, independently of landfall.
async fn config_as(
    moto: &Moto,
    id: &str,
    secret: &str,
    token: Option<&str>,
) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&moto.endpoint)
        .region(aws_config::Region::new(REGION))
        .credentials_provider(aws_credential_types::Credentials::new(
            id,
            secret,
            token.map(str::to_string),
            None,
            "test",
        ))
        .load()
        .await
}

/// The administrator: an IAM user allowed everything, created in the emulator's free requests (3).
async fn create_admin(root: &aws_config::SdkConfig) -> (String, String) {
    let iam = aws_sdk_iam::Client::new(root);
    iam.create_user()
        .user_name("landfall-admin")
        .send()
        .await
        .unwrap();
    iam.put_user_policy()
        .user_name("landfall-admin")
        .policy_name("everything")
        .policy_document(ALLOW_ALL)
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name("landfall-admin")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    (
        key.access_key_id().to_string(),
        key.secret_access_key().to_string(),
    )
}

const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// What AWS does at account creation and the emulator does not: each member account's
/// OrganizationAccountAccessRole gets administrator rights (two free requests per account).
async fn grant_access_roles(moto: &Moto, members: &[String]) {
    moto.free_requests(2 * members.len() as u32);
    for account in members {
        aws_sdk_iam::Client::new(&moto.member_config(account).await)
            .put_role_policy()
            .role_name("OrganizationAccountAccessRole")
            .policy_name("AdministratorAccess")
            .policy_document(ALLOW_ALL)
            .send()
            .await
            .unwrap();
    }
}

/// The member accounts of the organization, by name.
async fn members(admin: &aws_config::SdkConfig) -> Vec<(String, String)> {
    let accounts = aws_sdk_organizations::Client::new(admin)
        .list_accounts()
        .send()
        .await
        .unwrap();
    accounts
        .accounts()
        .iter()
        .filter(|a| a.id() != Some(MANAGEMENT))
        .map(|a| (a.name().unwrap().to_string(), a.id().unwrap().to_string()))
        .collect()
}

/// The state objects (key -> ETag) under the sandbox's prefix, as the administrator reads them.
async fn state_objects(admin: &aws_config::SdkConfig) -> Vec<(String, String)> {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(admin)
            .force_path_style(true)
            .build(),
    );
    let listed = s3
        .list_objects_v2()
        .bucket("acme-landfall-state")
        .prefix("landfall/")
        .send()
        .await
        .unwrap();
    listed
        .contents()
        .iter()
        .map(|o| {
            (
                o.key().unwrap().to_string(),
                o.e_tag().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The dev account's baseline VPC tags and the management account's minimum password length, read
/// by the administrator: what the change of this test touches.
async fn observed(admin: &aws_config::SdkConfig, moto: &Moto, dev: &str) -> (Vec<String>, i32) {
    let assumed = aws_sdk_sts::Client::new(admin)
        .assume_role()
        .role_arn(format!(
            "arn:aws:iam::{dev}:role/OrganizationAccountAccessRole"
        ))
        .role_session_name("check")
        .send()
        .await
        .unwrap();
    let c = assumed.credentials().unwrap();
    let member = config_as(
        moto,
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token()),
    )
    .await;
    let vpcs = aws_sdk_ec2::Client::new(&member)
        .describe_vpcs()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("tag-key")
                .values("landfall:address")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(vpcs.vpcs().len(), 1, "one baseline VPC in dev");
    let mut tags: Vec<String> = vpcs.vpcs()[0]
        .tags()
        .iter()
        .map(|t| format!("{}={}", t.key().unwrap(), t.value().unwrap()))
        .collect();
    tags.sort();
    let policy = aws_sdk_iam::Client::new(admin)
        .get_account_password_policy()
        .send()
        .await
        .unwrap();
    let length = policy
        .password_policy()
        .and_then(|p| p.minimum_password_length())
        .unwrap();
    (tags, length)
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{from:?} not in {}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_plan_identity_plans_every_account_and_cannot_apply() {
    // Four free requests: the administrator (3) and the organization (1). The identity stack
    // attaches AWS-managed policies, which moto only has when asked to load them.
    let moto = Moto::start_with(&[
        ("MOTO_IAM_LOAD_MANAGED_POLICIES", "true"),
        ("INITIAL_NO_AUTH_ACTION_COUNT", "4"),
    ]);
    let root = moto.sdk_config().await;
    let (key, secret) = create_admin(&root).await;
    aws_sdk_organizations::Client::new(&root)
        .create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    // From here on IAM is enforced: the emulator's unnamed test keys are refused.
    let refused = aws_sdk_iam::Client::new(&root).list_users().send().await;
    assert!(refused.is_err(), "IAM is not enforced: {refused:?}");
    let admin = Identity::Keys {
        id: key.clone(),
        secret: secret.clone(),
        token: None,
    };
    let admin_config = config_as(&moto, &key, &secret, None).await;

    // The shipped sandbox with its state in S3 (the bucket the plan policy names), and a short
    // wait for access roles: the plan identity must be refused, not kept waiting.
    let dir = common::example_copy();
    let d = dir.path();
    edit(
        &d.join("environments/sandbox/env.toml"),
        "kind = \"local\"\n",
        "",
    );
    // The change below tags everything taggable; the emulator cannot tag Identity Center's permission
    // sets (sso-admin TagResource answers HTTP 500), so that stack stays out of this sandbox.
    edit(
        &d.join("environments/sandbox/env.toml"),
        ", \"identity-center\"",
        "",
    );
    // With IAM enforced, moto refuses the SDK's signed GuardDuty/Security Hub
    // ListOrganizationAdminAccounts (SignatureDoesNotMatch) and the plan identity's GetBucketEncryption of
    // the log bucket (AccessDenied): the logging and security stacks stay out too.
    edit(
        &d.join("environments/sandbox/env.toml"),
        ", \"logging\", \"security\"",
        "",
    );
    // Route 53's REST requests fail moto's signature check under enforced IAM the same way
    // (ListHostedZones: SignatureDoesNotMatch): the private DNS stack stays out.
    edit(&d.join("environments/sandbox/env.toml"), ", \"dns\"", "");
    // The network hub sends its flow logs to the log archive, so it stays out with the logging stack.
    edit(
        &d.join("environments/sandbox/env.toml"),
        ", \"network-hub\"",
        "",
    );
    edit(
        &d.join("landfall.toml"),
        "parallelism = 10\n",
        "parallelism = 10\naccess_role_timeout = \"5s\"\n",
    );
    expect_code(
        &run_as_admin(d, &moto, &admin, &["init", "--env", "sandbox"]),
        0,
    );

    // The administrator applies: the organization first (its new accounts' access roles get their
    // rights, as AWS gives them), then everything else, the plan roles among it.
    expect_code(
        &run_as_admin(
            d,
            &moto,
            &admin,
            &[
                "apply",
                "--env",
                "sandbox",
                "--stack",
                "organization",
                "--auto-approve",
            ],
        ),
        0,
    );
    let members = members(&admin_config).await;
    assert_eq!(members.len(), 7, "{members:?}");
    let ids: Vec<String> = members.iter().map(|(_, id)| id.clone()).collect();
    grant_access_roles(&moto, &ids).await;
    expect_code(
        &run_as_admin(
            d,
            &moto,
            &admin,
            &["apply", "--env", "sandbox", "--auto-approve"],
        ),
        0,
    );
    let dev = &members.iter().find(|(n, _)| n == "dev").unwrap().1;
    let before = observed(&admin_config, &moto, dev).await;
    assert_eq!(before.1, 16);
    assert!(
        !before.0.iter().any(|t| t == "team=platform"),
        "{:?}",
        before.0
    );

    // The merge-request pipeline's identity: the management account's landfall-plan role through
    // web identity (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE, as GitLab and GitHub OIDC set them).
    let token_file = d.join("oidc-token");
    std::fs::write(&token_file, "header.payload.signature").unwrap();
    let plan_identity = Identity::WebIdentity {
        role_arn: format!("arn:aws:iam::{MANAGEMENT}:role/landfall-plan"),
        token_file,
    };

    // A change in every account: a tag on everything taggable, and the management account's
    // password policy.
    edit(
        &d.join("landfall.toml"),
        "tags = { managed-by = \"landfall\" }",
        "tags = { managed-by = \"landfall\", team = \"platform\" }",
    );
    edit(
        &d.join("stacks/identity.toml"),
        "minimum_password_length = 16",
        "minimum_password_length = 20",
    );
    let plan_file = d.join("change.plan.json");
    let plan = run_as(
        d,
        &moto,
        &plan_identity,
        &[
            "plan",
            "--env",
            "sandbox",
            "--detailed-exitcode",
            "--out",
            plan_file.to_str().unwrap(),
        ],
    );
    expect_code(&plan, 2);
    let shown = String::from_utf8_lossy(&plan.stdout);
    assert!(shown.contains("minimum_password_length"), "{}", text(&plan));
    assert!(
        shown.contains(&format!("account dev ({dev})")),
        "a change inside dev, read through its plan role:\n{}",
        text(&plan)
    );

    // The plan identity cannot apply it: refused at the state lock, with AWS's answer in full.
    let state_before = state_objects(&admin_config).await;
    assert!(!state_before.is_empty());
    let refused = run_as(
        d,
        &moto,
        &plan_identity,
        &["apply", plan_file.to_str().unwrap()],
    );
    expect_code(&refused, 1);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("AccessDenied"), "{}", text(&refused));
    assert!(err.contains("HTTP 403"), "{}", text(&refused));
    assert!(!err.contains("unhandled error"), "{}", text(&refused));
    assert_eq!(observed(&admin_config, &moto, dev).await, before);
    assert_eq!(
        state_objects(&admin_config).await,
        state_before,
        "state untouched, no lock left behind"
    );

    // The apply identity applies the same plan file; then the plan identity sees nothing to do.
    expect_code(
        &run_as_admin(d, &moto, &admin, &["apply", plan_file.to_str().unwrap()]),
        0,
    );
    let (tags, length) = observed(&admin_config, &moto, dev).await;
    assert_eq!(length, 20);
    assert!(tags.iter().any(|t| t == "team=platform"), "{tags:?}");
    let again = run_as(
        d,
        &moto,
        &plan_identity,
        &["plan", "--env", "sandbox", "--detailed-exitcode"],
    );
    expect_code(&again, 0);
}

/// Issue 12, item 4: CreateRole and CreatePolicy refused under enforced IAM printed "unhandled
/// error". A read-only identity applying IAM in its own account gets AWS's code, HTTP status and
/// message, and leaves no lock and nothing in AWS.
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_create_prints_aws_code_status_and_message() {
    // Three free requests: the read-only user, its policy and its key.
    let moto = Moto::start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", "3")]);
    let root = moto.sdk_config().await;
    let iam = aws_sdk_iam::Client::new(&root);
    iam.create_user().user_name("reader").send().await.unwrap();
    iam.put_user_policy()
        .user_name("reader")
        .policy_name("read")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*","ec2:Describe*"],"Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name("reader")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let reader = Identity::Keys {
        id: key.access_key_id().to_string(),
        secret: key.secret_access_key().to_string(),
        token: None,
    };

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("landfall.toml"),
        "[project]\nname = \"p\"\nhome_region = \"eu-west-1\"\n\n[backend]\nkind = \"local\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(d.join("environments/test")).unwrap();
    std::fs::write(
        d.join("environments/test/env.toml"),
        "stacks = [\"main\"]\n",
    )
    .unwrap();
    std::fs::create_dir_all(d.join("stacks")).unwrap();
    std::fs::write(
        d.join("stacks/main.toml"),
        r#"
[iam_policy.read]
name = "read"
policy = { Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "ec2:Describe*", Resource = "*" }] }

[iam_role.ci]
name = "ci"
assume_role_policy = { Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { AWS = "arn:aws:iam::123456789012:root" } }] }
"#,
    )
    .unwrap();

    let plan = run_as(
        d,
        &moto,
        &reader,
        &["plan", "--env", "test", "--detailed-exitcode"],
    );
    expect_code(&plan, 2);
    let out = run_as(
        d,
        &moto,
        &reader,
        &["apply", "--env", "test", "--auto-approve"],
    );
    expect_code(&out, 1);
    let err = String::from_utf8_lossy(&out.stderr);
    for operation in ["CreatePolicy", "CreateRole"] {
        assert!(
            err.contains(&format!(
                "{operation} failed: AccessDenied (HTTP 403): User: arn:aws:iam::{MANAGEMENT}:user/reader is not authorized to perform: iam:{operation}"
            )),
            "{}",
            text(&out)
        );
    }
    assert!(!err.contains("unhandled error"), "{}", text(&out));
    let state = d.join(".landfall/state/test");
    let left: Vec<_> = std::fs::read_dir(&state)
        .map(|entries| entries.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        !left.iter().any(|f| f.to_string_lossy().ends_with(".lock")),
        "lock left behind: {left:?}"
    );
    let reads = config_as(&moto, key.access_key_id(), key.secret_access_key(), None).await;
    let roles = aws_sdk_iam::Client::new(&reads)
        .list_roles()
        .send()
        .await
        .unwrap();
    assert!(roles.roles().iter().all(|r| r.role_name() != "ci"));
}
