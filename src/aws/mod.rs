//! AWS access: the default credential chain, per-account credentials by assuming the access role, one
//! client per (service, account, region) over one shared HTTP client (connection pool; `http.rs`),
//! request counting for `--stats`, and the retry policy.
//!
//! Only this module, the state backend and the resource providers touch the SDK.

mod assume;
mod error;
mod http;
mod logsec;
mod observe;
mod stats;

pub use assume::AccessRoleError;
pub use error::{AwsError, Created, call, call_create};
pub use stats::Stats;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use aws_types::region::Region;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OnceCell;

/// A TCP connection that takes longer than this fails the attempt.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// An attempt without an answer after this long fails (AWS answers API calls within seconds; slow
/// work such as account creation is asynchronous). With the retry budget for unanswered calls (see
/// [`call`]) an endpoint that accepts connections and never answers fails a call in about 30 s.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);

/// The request observer of a client calling `account` (`None`: the caller's own) in `region`.
fn observer(account: Option<&str>, region: &str) -> observe::Observer {
    observe::Observer {
        account: account.map(str::to_string),
        region: region.to_string(),
    }
}

/// How to reach AWS; from `landfall.toml`, the environment and the command line.
#[derive(Debug, Clone)]
pub struct Options {
    /// The region used when nothing more specific applies (the project's home region, unless the
    /// standard AWS settings name one).
    pub home_region: String,
    /// The role assumed in member accounts by runs that change them, e.g.
    /// `OrganizationAccountAccessRole`.
    pub access_role: String,
    /// The read-only role assumed in member accounts by runs that only read them (`plan`); `None`:
    /// they assume `access_role` too.
    pub plan_role: Option<String>,
    /// Whether this run only reads AWS, and so assumes `plan_role` rather than `access_role`.
    pub access: Access,
    /// How long the first call into a member account waits for its access role to become assumable
    /// (a new account's role is not at once).
    pub access_role_timeout: Duration,
    /// How long an account creation may take before landfall stops waiting for it.
    pub account_creation_timeout: Duration,
}

impl Options {
    pub const DEFAULT_ACCESS_ROLE_TIMEOUT: Duration = Duration::from_secs(300);
    pub const DEFAULT_ACCOUNT_CREATION_TIMEOUT: Duration = Duration::from_secs(3600);

    /// The defaults for a home region: `OrganizationAccountAccessRole` and the default timeouts.
    pub fn new(home_region: &str) -> Options {
        Options {
            home_region: home_region.to_string(),
            access_role: "OrganizationAccountAccessRole".into(),
            plan_role: None,
            access: Access::Change,
            access_role_timeout: Self::DEFAULT_ACCESS_ROLE_TIMEOUT,
            account_creation_timeout: Self::DEFAULT_ACCOUNT_CREATION_TIMEOUT,
        }
    }

    /// The role this run assumes in member accounts, and the `[defaults]` setting that names it.
    pub fn member_role(&self) -> (&str, &'static str) {
        match (&self.plan_role, self.access) {
            (Some(role), Access::Read) => (role, "plan_role"),
            _ => (&self.access_role, "access_role"),
        }
    }
}

/// What a run does in member accounts: which of the two identities it needs there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Only reads (plan, drift, show, output): the read-only `plan_role` when one is configured.
    Read,
    /// Changes them (apply, destroy, import): `access_role`.
    Change,
}

/// Shared AWS access for one command run. Cheap to share by reference across tasks.
pub struct Aws {
    base: SdkConfig,
    options: Options,
    stats: Arc<Stats>,
    caller: Arc<OnceCell<Caller>>,
    /// Per member account: an SDK configuration whose credentials come from assuming the access role.
    /// The provider caches the credentials and refreshes them before they expire.
    accounts: Mutex<HashMap<String, SdkConfig>>,
    /// The caller's STS client, shared by every member account's access role (one client per
    /// account cost about 18 KB each: 18 MB at 1,000 accounts).
    caller_sts: std::sync::OnceLock<aws_sdk_sts::Client>,
    /// Values read once per run and shared by every step ([`Aws::run_memo`]), by type.
    memos: Mutex<HashMap<std::any::TypeId, Arc<dyn std::any::Any + Send + Sync>>>,
}

/// Who landfall runs as.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: String,
    pub arn: String,
}

impl Aws {
    /// Loads credentials and region the way the AWS CLI does: environment variables, shared config and
    /// credentials files with profiles, SSO, web identity (CI OIDC), container and instance metadata.
    /// `AWS_ENDPOINT_URL` and the per-service `AWS_ENDPOINT_URL_<SERVICE>` are honoured.
    pub async fn load(options: Options) -> Aws {
        Aws::from_loader(aws_config::defaults(BehaviorVersion::latest()), options).await
    }

    /// For tests and benchmarks: a given endpoint (e.g. a local emulator) with static test credentials.
    pub async fn for_endpoint(endpoint: &str, options: Options) -> Aws {
        let loader = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new(options.home_region.clone()))
            .credentials_provider(aws_credential_types::Credentials::new(
                "testing",
                "testing",
                None,
                None,
                "landfall-test",
            ));
        Aws::from_loader(loader, options).await
    }

    async fn from_loader(loader: aws_config::ConfigLoader, options: Options) -> Aws {
        // landfall retries itself (see `call`), with its own classification of transient errors;
        // one attempt per SDK call keeps the counts in `--stats` honest.
        let base = loader
            .http_client(http::shared_client())
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .build(),
            )
            .load()
            .await;
        Aws {
            base,
            options,
            stats: Arc::new(Stats::default()),
            caller: Arc::default(),
            accounts: Mutex::new(HashMap::new()),
            caller_sts: std::sync::OnceLock::new(),
            memos: Mutex::new(HashMap::new()),
        }
    }

    /// The `T` kept for this run (a default one the first time): how a read that every step would
    /// repeat (e.g. the organization's accounts, for the duplicate-email check) is made once per
    /// run. Whoever changes what it holds keeps it current.
    pub fn run_memo<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let memo = self
            .memos
            .lock()
            .unwrap()
            .entry(std::any::TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()))
            .clone();
        // Keyed by its type: the downcast cannot fail.
        memo.downcast::<T>().unwrap_or_default()
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The region of the standard settings (`AWS_REGION`, profile), else the project's home region.
    pub fn default_region(&self) -> String {
        self.base
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| self.options.home_region.clone())
    }

    /// The account and ARN of the credentials in use (one STS call, cached).
    pub async fn caller(&self) -> Result<&Caller, AwsError> {
        let sts = self.caller_sts();
        self.caller.get_or_try_init(|| assume::caller_of(sts)).await
    }

    /// The SDK configuration for an account: the caller's own credentials for the management account
    /// (`None`), the access role (the plan role, in a run that only reads) assumed for any other ([`assume`]: it waits for a new account's role,
    /// and falls back to the caller's credentials when the account is the caller's own).
    pub async fn config_for(&self, account: Option<&str>) -> Result<SdkConfig, AwsError> {
        let Some(account) = account else {
            return Ok(self.base.clone());
        };
        if let Some(config) = self.accounts.lock().unwrap().get(account) {
            return Ok(config.clone());
        }
        let base = self
            .base
            .credentials_provider()
            .ok_or_else(|| AwsError::other("credentials", "no AWS credentials are configured"))?;
        let provider = assume::AccessRole::new(
            self.caller_sts().clone(),
            base,
            self.caller.clone(),
            account,
            self.options.member_role(),
            self.options.access_role_timeout,
        );
        let config = self
            .base
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build();
        Ok(self
            .accounts
            .lock()
            .unwrap()
            .entry(account.to_string())
            .or_insert(config)
            .clone())
    }

    pub async fn ec2(
        &self,
        account: Option<&str>,
        region: &str,
    ) -> Result<aws_sdk_ec2::Client, AwsError> {
        let config = self.config_for(account).await?;
        Ok(aws_sdk_ec2::Client::from_conf(
            aws_sdk_ec2::config::Builder::from(&config)
                .region(Region::new(region.to_string()))
                .interceptor(self.stats.interceptor())
                .interceptor(observer(account, region))
                .build(),
        ))
    }

    pub async fn iam(&self, account: Option<&str>) -> Result<aws_sdk_iam::Client, AwsError> {
        let config = self.config_for(account).await?;
        Ok(aws_sdk_iam::Client::from_conf(
            aws_sdk_iam::config::Builder::from(&config)
                .region(Region::new(self.default_region()))
                .interceptor(self.stats.interceptor())
                .interceptor(observer(account, &self.default_region()))
                .build(),
        ))
    }

    /// IAM Identity Center's administration API in `region` (the instance's home region).
    pub async fn ssoadmin(
        &self,
        account: Option<&str>,
        region: &str,
    ) -> Result<aws_sdk_ssoadmin::Client, AwsError> {
        let config = self.config_for(account).await?;
        Ok(aws_sdk_ssoadmin::Client::from_conf(
            aws_sdk_ssoadmin::config::Builder::from(&config)
                .region(Region::new(region.to_string()))
                .interceptor(self.stats.interceptor())
                .interceptor(observer(account, region))
                .build(),
        ))
    }

    /// The Identity Store of IAM Identity Center in `region` (users and groups).
    pub async fn identitystore(
        &self,
        account: Option<&str>,
        region: &str,
    ) -> Result<aws_sdk_identitystore::Client, AwsError> {
        let config = self.config_for(account).await?;
        Ok(aws_sdk_identitystore::Client::from_conf(
            aws_sdk_identitystore::config::Builder::from(&config)
                .region(Region::new(region.to_string()))
                .interceptor(self.stats.interceptor())
                .interceptor(observer(account, region))
                .build(),
        ))
    }

    /// S3 Control (account-level S3 settings) in `region`; see [`S3ControlEndpoint`].
    pub async fn s3control(
        &self,
        account: Option<&str>,
        region: &str,
    ) -> Result<aws_sdk_s3control::Client, AwsError> {
        let config = self.config_for(account).await?;
        Ok(aws_sdk_s3control::Client::from_conf(
            aws_sdk_s3control::config::Builder::from(&config)
                .region(Region::new(region.to_string()))
                .endpoint_resolver(S3ControlEndpoint::default())
                .interceptor(self.stats.interceptor())
                .interceptor(observer(account, region))
                .build(),
        ))
    }

    /// The Account Management API (alternate contacts), called from inside the account itself.
    pub async fn account(
        &self,
        account: Option<&str>,
    ) -> Result<aws_sdk_account::Client, AwsError> {
        let config = self.config_for(account).await?;
        Ok(aws_sdk_account::Client::from_conf(
            aws_sdk_account::config::Builder::from(&config)
                .region(Region::new(self.default_region()))
                .interceptor(self.stats.interceptor())
                .interceptor(observer(account, &self.default_region()))
                .build(),
        ))
    }

    /// RAM (resource shares) in an account and region.
    pub async fn ram(
        &self,
        account: Option<&str>,
        region: &str,
    ) -> Result<aws_sdk_ram::Client, AwsError> {
        let config = self.config_for(account).await?;
        Ok(aws_sdk_ram::Client::from_conf(
            aws_sdk_ram::config::Builder::from(&config)
                .region(Region::new(region.to_string()))
                .interceptor(self.stats.interceptor())
                .interceptor(observer(account, region))
                .build(),
        ))
    }

    // ---- DNS (issue 13) ----
    /// Route 53 (hosted zones, a global service) in an account.
    pub async fn route53(
        &self,
        account: Option<&str>,
    ) -> Result<aws_sdk_route53::Client, AwsError> {
        let config = self.config_for(account).await?;
        Ok(aws_sdk_route53::Client::from_conf(
            aws_sdk_route53::config::Builder::from(&config)
                .region(Region::new(self.default_region()))
                .interceptor(self.stats.interceptor())
                .interceptor(observer(account, &self.default_region()))
                .build(),
        ))
    }

    /// Route 53 Resolver (endpoints, rules, rule associations) in an account and region.
    pub async fn route53resolver(
        &self,
        account: Option<&str>,
        region: &str,
    ) -> Result<aws_sdk_route53resolver::Client, AwsError> {
        let config = self.config_for(account).await?;
        Ok(aws_sdk_route53resolver::Client::from_conf(
            aws_sdk_route53resolver::config::Builder::from(&config)
                .region(Region::new(region.to_string()))
                .interceptor(self.stats.interceptor())
                .interceptor(observer(account, region))
                .build(),
        ))
    }

    /// Organizations, always from the management account (the caller's credentials).
    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        aws_sdk_organizations::Client::from_conf(
            aws_sdk_organizations::config::Builder::from(&self.base)
                .region(Region::new(self.default_region()))
                .interceptor(self.stats.interceptor())
                .interceptor(observer(None, &self.default_region()))
                .build(),
        )
    }

    /// S3 for the state backend. Path-style addressing when asked for (needed by local emulators).
    pub fn s3(&self, region: &str, force_path_style: bool) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&self.base)
                .region(Region::new(region.to_string()))
                .force_path_style(force_path_style)
                .interceptor(self.stats.interceptor())
                .interceptor(observer(None, region))
                .build(),
        )
    }

    /// The STS client of the caller's own credentials, in the default region.
    fn caller_sts(&self) -> &aws_sdk_sts::Client {
        self.caller_sts
            .get_or_init(|| self.sts(&self.base, &self.default_region()))
    }

    fn sts(&self, config: &SdkConfig, region: &str) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(config)
                .region(Region::new(region.to_string()))
                .interceptor(self.stats.interceptor())
                .interceptor(observer(None, region))
                .build(),
        )
    }
}

/// S3 Control's endpoint rules put the account id in front of the host
/// (`ACCOUNT.s3-control.REGION.amazonaws.com`), and do the same to a custom endpoint
/// (`AWS_ENDPOINT_URL`), which then names a host that does not exist (`123456789012.127.0.0.1`). With a
/// custom endpoint, requests go to it as given: every S3 Control request carries the account id in
/// its `x-amz-account-id` header as well. AWS's own endpoints are left as the rules make them.
#[derive(Debug, Default)]
struct S3ControlEndpoint(aws_sdk_s3control::config::endpoint::DefaultResolver);

impl aws_sdk_s3control::config::endpoint::ResolveEndpoint for S3ControlEndpoint {
    fn resolve_endpoint<'a>(
        &'a self,
        params: &'a aws_sdk_s3control::config::endpoint::Params,
    ) -> aws_sdk_s3control::config::endpoint::EndpointFuture<'a> {
        let resolved = self.0.resolve_endpoint(params);
        let (Some(_custom), Some(account)) = (params.endpoint(), params.account_id()) else {
            return resolved;
        };
        aws_sdk_s3control::config::endpoint::EndpointFuture::new(Box::pin(async move {
            let endpoint = resolved.await?;
            let url = endpoint.url().replacen(&format!("://{account}."), "://", 1);
            Ok(endpoint.into_builder().url(url).build())
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3control::config::endpoint::{Params, ResolveEndpoint};

    async fn resolve(endpoint: Option<&str>) -> String {
        let params = Params::builder()
            .region("eu-west-1")
            .account_id("123456789012")
            .requires_account_id(true)
            .set_endpoint(endpoint.map(str::to_string))
            .build()
            .unwrap();
        let resolved = S3ControlEndpoint::default().resolve_endpoint(&params).await;
        resolved.unwrap().url().to_string()
    }

    #[tokio::test]
    async fn s3_control_reaches_a_custom_endpoint_as_given_and_aws_with_the_account_host() {
        assert_eq!(
            resolve(Some("http://127.0.0.1:5000")).await,
            "http://127.0.0.1:5000"
        );
        assert_eq!(
            resolve(None).await,
            "https://123456789012.s3-control.eu-west-1.amazonaws.com"
        );
    }
}
