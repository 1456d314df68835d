//! Logging kinds: KMS keys and aliases, S3 buckets for the log archive, CloudTrail trails.
//!
//! Each kind reads in batches per account and region: one listing (ListAliases, ListBuckets,
//! DescribeTrails) and, only for the resources landfall manages (the ids state knows, and configured
//! ones being adopted), the per-resource settings these APIs do not list (a key's policy and
//! rotation, a bucket's sub-configurations). A no-op refresh never reads the settings of resources
//! landfall does not manage.
//!
//! Documents (key and bucket policies) are compared by meaning, like IAM's ([`crate::provider::doc`]).

pub mod cloudtrail_trail;
pub mod kms_alias;
pub mod kms_key;
pub mod s3_bucket;

use crate::aws::AwsError;
use crate::provider::{ADDRESS_TAG, Cx, LINEAGE_TAG};

impl Cx<'_> {
    pub async fn kms(&self) -> Result<aws_sdk_kms::Client, AwsError> {
        self.aws
            .kms(self.loc.account.as_deref(), &self.loc.region)
            .await
    }

    pub async fn s3(&self) -> Result<aws_sdk_s3::Client, AwsError> {
        self.aws
            .s3_in(self.loc.account.as_deref(), &self.loc.region)
            .await
    }

    pub async fn cloudtrail(&self) -> Result<aws_sdk_cloudtrail::Client, AwsError> {
        self.aws
            .cloudtrail(self.loc.account.as_deref(), &self.loc.region)
            .await
    }
}

/// Whether `tags` (key, value pairs) carry `address` and `cx`'s lineage: what a create looks for
/// after an unanswered attempt, to take over what that attempt made instead of making a second one.
pub(crate) fn is_ours(cx: &Cx<'_>, tags: &[(String, String)], address: &str) -> bool {
    let has = |k: &str, v: &str| tags.iter().any(|(tk, tv)| tk == k && tv == v);
    has(LINEAGE_TAG, cx.lineage) && has(ADDRESS_TAG, address)
}
