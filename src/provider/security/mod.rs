//! Security service kinds, run organization-wide from the audit account: GuardDuty detectors and the
//! GuardDuty administrator, Security Hub and its administrator, AWS Config recorders, delivery channels
//! and the organization aggregator.
//!
//! Each reads with one listing per account and region (ListDetectors, DescribeHub,
//! ListOrganizationAdminAccounts, DescribeConfigurationRecorders...), plus one call per resource where
//! the listing leaves settings out (GetDetector). Most of these are one per account and region
//! (a detector, a hub, a recorder): they are recognised as the one there is, and a create that finds
//! one already there takes it over instead of failing.

pub mod config_aggregator;
pub mod config_delivery_channel;
pub mod config_recorder;
pub mod guardduty_admin_account;
pub mod guardduty_detector;
pub mod guardduty_org_config;
pub mod securityhub_account;
pub mod securityhub_admin_account;

use crate::aws::AwsError;
use crate::provider::Cx;
use sha2::{Digest, Sha256};

impl Cx<'_> {
    pub async fn guardduty(&self) -> Result<aws_sdk_guardduty::Client, AwsError> {
        self.aws
            .guardduty(self.loc.account.as_deref(), &self.loc.region)
            .await
    }

    pub async fn securityhub(&self) -> Result<aws_sdk_securityhub::Client, AwsError> {
        self.aws
            .securityhub(self.loc.account.as_deref(), &self.loc.region)
            .await
    }

    pub async fn config_service(&self) -> Result<aws_sdk_config::Client, AwsError> {
        self.aws
            .config_service(self.loc.account.as_deref(), &self.loc.region)
            .await
    }

    /// The id of the account the context works in (the caller's own for the management account).
    pub async fn account_id(&self) -> Result<String, AwsError> {
        match &self.loc.account {
            Some(account) => Ok(account.clone()),
            None => Ok(self.aws.caller().await?.account.clone()),
        }
    }

    /// An idempotency token for a create, the same in every attempt of every run for one address in
    /// one state: AWS answers a repeated create with what the first one made.
    pub fn client_token(&self, address: &str) -> String {
        let digest = Sha256::digest(format!("{}|{address}", self.lineage));
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The administrator accounts asked for (`ids`) among those a service reports enabled, as resources.
fn admin_live(enabled: Vec<String>, ids: &[String]) -> Vec<crate::provider::Live> {
    enabled
        .into_iter()
        .filter(|a| ids.contains(a))
        .map(admin_one)
        .collect()
}

/// One delegated administrator account (GuardDuty's or Security Hub's) as a resource.
fn admin_one(account: String) -> crate::provider::Live {
    let mut attrs = crate::provider::Attrs::new();
    attrs.insert("admin_account_id".into(), account.clone().into());
    attrs.insert("id".into(), account.clone().into());
    crate::provider::Live {
        id: account,
        attrs,
        address: None,
        lineage: None,
    }
}

/// `update` of a delegated administrator: every attribute forces a replacement, nothing changes in
/// place.
pub(crate) async fn admin_update(
    _cx: &Cx<'_>,
    id: &str,
    _current: &crate::provider::Attrs,
    _desired: &crate::provider::Attrs,
) -> Result<crate::provider::Live, AwsError> {
    Ok(admin_one(id.to_string()))
}

/// A deletion's result, with AWS Config's "no such ..." answers (its codes for a thing already
/// gone, which do not say NotFound) taken as done.
fn is_missing<T>(result: Result<T, AwsError>) -> Result<(), AwsError> {
    match result {
        Err(e) if e.code.as_deref().is_some_and(|c| c.starts_with("NoSuch")) => Ok(()),
        other => crate::provider::attrs::ignore_not_found(other).map(drop),
    }
}
