//! Credentials for a member account: the caller's credentials assume the access role
//! (`arn:aws:iam::ACCOUNT:role/<access_role>`) through STS; a run that only reads (`plan`) assumes
//! the read-only `plan_role` instead when one is configured ([`super::Options::member_role`]).
//!
//! - The `AssumeRole` requests go through landfall's own STS client, so `--stats` counts them and
//!   [`call`] retries throttling. The SDK's identity cache keeps the credentials and asks again
//!   before they expire.
//! - **A new account's role is not assumable at once.** The first request into an account waits for
//!   it: `AccessDenied` is retried with backoff for up to `access_role_timeout`. Once the role has
//!   been assumed (or given up on) in this run, later failures are reported at once.
//! - **The caller's own account needs no role.** Rather than asking STS who the caller is before
//!   every run, the role is assumed first; only when that is refused does one `GetCallerIdentity`
//!   tell whether the account is the caller's own, whose credentials are then used as they are.
//!   Either way every call lands in the intended account: an assumed role's credentials belong to
//!   the role's account.

use super::{AwsError, Caller, call};
use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{self, ProvideCredentials, SharedCredentialsProvider, future};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::OnceCell;

/// Where the attempts to reach an account stand in this run.
#[derive(Debug, Clone, PartialEq)]
enum Reach {
    /// Not tried yet: the first refusal is waited out.
    Untried,
    /// The role was assumed once: refusals are reported at once.
    Assumed,
    /// The account is the caller's own: its credentials are used as they are.
    Own,
    /// Waited `access_role_timeout` in vain: every later request fails at once with this message.
    GaveUp(String),
}

/// The credentials provider of one member account. See the module docs.
#[derive(Debug)]
pub(crate) struct AccessRole {
    pub sts: aws_sdk_sts::Client,
    pub base: SharedCredentialsProvider,
    pub caller: Arc<OnceCell<Caller>>,
    pub account: String,
    pub role_arn: String,
    /// The `[defaults]` setting naming the role (`access_role` or `plan_role`), for messages.
    pub setting: &'static str,
    pub timeout: Duration,
    reach: Mutex<Reach>,
    /// The credentials last obtained: requests into the account that start together share one
    /// `AssumeRole` (the SDK's identity cache does not merge concurrent first requests).
    held: tokio::sync::Mutex<Option<Credentials>>,
}

/// Why a member account could not be reached. Not transient: [`call`] does not retry it, since
/// waiting for the role already happened here.
#[derive(Debug)]
pub struct AccessRoleError(pub String);

impl std::fmt::Display for AccessRoleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AccessRoleError {}

impl AccessRole {
    pub fn new(
        sts: aws_sdk_sts::Client,
        base: SharedCredentialsProvider,
        caller: Arc<OnceCell<Caller>>,
        account: &str,
        (role_name, setting): (&str, &'static str),
        timeout: Duration,
    ) -> AccessRole {
        AccessRole {
            sts,
            base,
            caller,
            account: account.to_string(),
            role_arn: format!("arn:aws:iam::{account}:role/{role_name}"),
            setting,
            timeout,
            reach: Mutex::new(Reach::Untried),
            held: tokio::sync::Mutex::new(None),
        }
    }

    async fn credentials(&self) -> provider::Result {
        let mut held = self.held.lock().await;
        let fresh = |c: &Credentials| {
            c.expiry()
                .is_none_or(|e| e > SystemTime::now() + Duration::from_secs(300))
        };
        if let Some(c) = held.as_ref().filter(|c| fresh(c)) {
            return Ok(c.clone());
        }
        let c = self.obtain().await?;
        *held = Some(c.clone());
        Ok(c)
    }

    async fn obtain(&self) -> provider::Result {
        let reach = self.reach.lock().unwrap().clone();
        match &reach {
            Reach::Own => return self.base.provide_credentials().await,
            Reach::GaveUp(why) => return Err(fail(why.clone())),
            Reach::Untried | Reach::Assumed => {}
        }
        let deadline = Instant::now() + self.timeout;
        let mut delay = Duration::from_millis(500);
        loop {
            let assumed = call("AssumeRole", || {
                self.sts
                    .assume_role()
                    .role_arn(&self.role_arn)
                    .role_session_name("landfall")
                    .send()
            })
            .await;
            let refusal = match assumed {
                Ok(out) => {
                    *self.reach.lock().unwrap() = Reach::Assumed;
                    return credentials_of(&out).ok_or_else(|| {
                        fail(format!(
                            "AssumeRole of {} returned no credentials",
                            self.role_arn
                        ))
                    });
                }
                Err(e) => e,
            };
            if !refusal.is("AccessDenied") || reach != Reach::Untried {
                return Err(fail(format!(
                    "could not assume {}: {refusal}",
                    self.role_arn
                )));
            }
            if self.is_own_account().await? {
                *self.reach.lock().unwrap() = Reach::Own;
                return self.base.provide_credentials().await;
            }
            if Instant::now() + delay > deadline {
                let why = format!(
                    "could not assume {} for {}: {refusal}; check that the role exists in account \
                     {} and trusts the caller, and that the caller may assume it (the role's name \
                     is `{}` under [defaults] in landfall.toml; `access_role_timeout` there sets \
                     how long to wait for a new account's role)",
                    self.role_arn,
                    humantime::format_duration(self.timeout),
                    self.account,
                    self.setting,
                );
                *self.reach.lock().unwrap() = Reach::GaveUp(why.clone());
                return Err(fail(why));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(15));
        }
    }

    /// Whether the account is the caller's own (one `GetCallerIdentity`, shared by the run).
    async fn is_own_account(&self) -> Result<bool, CredentialsError> {
        let caller = self
            .caller
            .get_or_try_init(|| caller_of(&self.sts))
            .await
            .map_err(|e| fail(e.to_string()))?;
        Ok(caller.account == self.account)
    }
}

impl ProvideCredentials for AccessRole {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.credentials())
    }
}

/// Who the credentials of `sts` belong to.
pub(crate) async fn caller_of(sts: &aws_sdk_sts::Client) -> Result<Caller, AwsError> {
    let out = call("GetCallerIdentity", || sts.get_caller_identity().send()).await?;
    Ok(Caller {
        account: out.account().unwrap_or_default().to_string(),
        arn: out.arn().unwrap_or_default().to_string(),
    })
}

fn credentials_of(
    out: &aws_sdk_sts::operation::assume_role::AssumeRoleOutput,
) -> Option<Credentials> {
    let c = out.credentials()?;
    let expiry = SystemTime::try_from(*c.expiration()).ok();
    Some(Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        expiry,
        "landfall-access-role",
    ))
}

fn fail(message: String) -> CredentialsError {
    CredentialsError::provider_error(AccessRoleError(message))
}
