//! AWS access: the default credential chain, per-account credentials by assuming the access role, one
//! client per (service, account, region), request counting for `--stats`, and the retry policy.
//!
//! Only this module, the state backend and the resource providers touch the SDK.

mod error;
mod stats;

pub use error::{AwsError, call};
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

/// How to reach AWS; from `landfall.toml`, the environment and the command line.
#[derive(Debug, Clone)]
pub struct Options {
    /// The region used when nothing more specific applies (the project's home region, unless the
    /// standard AWS settings name one).
    pub home_region: String,
    /// The role assumed in member accounts, e.g. `OrganizationAccountAccessRole`.
    pub access_role: String,
}

/// Shared AWS access for one command run. Cheap to share by reference across tasks.
pub struct Aws {
    base: SdkConfig,
    options: Options,
    stats: Arc<Stats>,
    caller: OnceCell<Caller>,
    /// Per member account: an SDK configuration whose credentials come from assuming the access role.
    /// The provider caches the credentials and refreshes them before they expire.
    accounts: Mutex<HashMap<String, SdkConfig>>,
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
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .operation_attempt_timeout(Duration::from_secs(60))
                    .build(),
            )
            .load()
            .await;
        Aws {
            base,
            options,
            stats: Arc::new(Stats::default()),
            caller: OnceCell::new(),
            accounts: Mutex::new(HashMap::new()),
        }
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
        self.caller
            .get_or_try_init(|| async {
                let sts = self.sts(&self.base, &self.default_region());
                let out = call("GetCallerIdentity", || sts.get_caller_identity().send()).await?;
                Ok(Caller {
                    account: out.account().unwrap_or_default().to_string(),
                    arn: out.arn().unwrap_or_default().to_string(),
                })
            })
            .await
    }

    /// The SDK configuration for an account: the caller's own credentials for the management account
    /// (`None` or the caller's account id), the assumed access role for any other.
    pub async fn config_for(&self, account: Option<&str>) -> Result<SdkConfig, AwsError> {
        let Some(account) = account else {
            return Ok(self.base.clone());
        };
        if self.caller().await?.account == account {
            return Ok(self.base.clone());
        }
        if let Some(config) = self.accounts.lock().unwrap().get(account) {
            return Ok(config.clone());
        }
        let role = format!("arn:aws:iam::{account}:role/{}", self.options.access_role);
        let provider = aws_config::sts::AssumeRoleProvider::builder(role)
            .session_name("landfall")
            .region(Region::new(self.default_region()))
            .configure(&self.base)
            .build()
            .await;
        let config = self
            .base
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build();
        self.accounts
            .lock()
            .unwrap()
            .entry(account.to_string())
            .or_insert(config.clone());
        Ok(config)
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
                .build(),
        ))
    }

    pub async fn iam(&self, account: Option<&str>) -> Result<aws_sdk_iam::Client, AwsError> {
        let config = self.config_for(account).await?;
        Ok(aws_sdk_iam::Client::from_conf(
            aws_sdk_iam::config::Builder::from(&config)
                .region(Region::new(self.default_region()))
                .interceptor(self.stats.interceptor())
                .build(),
        ))
    }

    /// Organizations, always from the management account (the caller's credentials).
    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        aws_sdk_organizations::Client::from_conf(
            aws_sdk_organizations::config::Builder::from(&self.base)
                .region(Region::new(self.default_region()))
                .interceptor(self.stats.interceptor())
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
                .build(),
        )
    }

    fn sts(&self, config: &SdkConfig, region: &str) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(config)
                .region(Region::new(region.to_string()))
                .interceptor(self.stats.interceptor())
                .build(),
        )
    }
}
