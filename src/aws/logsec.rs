//! Clients for the logging and security services (KMS, S3 buckets in any account, CloudTrail,
//! GuardDuty, Security Hub, AWS Config): one per (service, account, region), through the same
//! assume-role layer, request counting and observer as EC2's.

use super::{Aws, AwsError, observer};
use aws_types::region::Region;

/// A getter for a regional service's client in an account (`None`: the caller's own) and region.
macro_rules! regional_client {
    ($(#[$doc:meta])* $name:ident, $sdk:ident) => {
        $(#[$doc])*
        pub async fn $name(
            &self,
            account: Option<&str>,
            region: &str,
        ) -> Result<$sdk::Client, AwsError> {
            let config = self.config_for(account).await?;
            Ok($sdk::Client::from_conf(
                $sdk::config::Builder::from(&config)
                    .region(Region::new(region.to_string()))
                    .interceptor(self.stats.interceptor())
                    .interceptor(observer(account, region))
                    .build(),
            ))
        }
    };
}

impl Aws {
    regional_client!(kms, aws_sdk_kms);
    regional_client!(cloudtrail, aws_sdk_cloudtrail);
    regional_client!(guardduty, aws_sdk_guardduty);
    regional_client!(securityhub, aws_sdk_securityhub);
    regional_client!(config_service, aws_sdk_config);

    /// S3 for buckets landfall manages (not the state backend's: that one always runs as the caller).
    /// Path-style addressing when an endpoint is configured (a local emulator cannot answer
    /// `bucket.host` names) or `LANDFALL_S3_FORCE_PATH_STYLE` asks for it, as for the state backend.
    pub async fn s3_in(
        &self,
        account: Option<&str>,
        region: &str,
    ) -> Result<aws_sdk_s3::Client, AwsError> {
        let config = self.config_for(account).await?;
        let path_style = config.endpoint_url().is_some()
            || std::env::var("LANDFALL_S3_FORCE_PATH_STYLE").is_ok_and(|v| v == "true" || v == "1");
        Ok(aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .region(Region::new(region.to_string()))
                .force_path_style(path_style)
                .interceptor(self.stats.interceptor())
                .interceptor(observer(account, region))
                .build(),
        ))
    }
}
