//! `ebs_encryption_by_default`: whether new EBS volumes (and snapshot copies) of an account and region
//! are encrypted, and with which KMS key.
//!
//! The id is the constant [`ID`]: one setting per account and region, which the location names.
//! `read` is one `GetEbsEncryptionByDefault`; the key is read (`GetEbsDefaultKmsKeyId`) only when a
//! resource in state or in the configuration names one, so the common case (AWS's managed key
//! `aws/ebs`) costs one request per account and region. A default key set outside landfall where the
//! configuration names none is therefore not shown as drift. Delete turns encryption by default off
//! and resets the key, AWS's defaults.

use super::setting;
use crate::aws::{AwsError, call};
use crate::provider::attrs::str_or_empty;
use crate::provider::{Attrs, Cx, Live};
use aws_sdk_ec2::Client;
use serde_json::Value;

/// The id of an account and region's one setting.
pub const ID: &str = "ebs-encryption-by-default";
const KIND: &str = "ebs_encryption_by_default";

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    if !ids.iter().any(|id| id == ID) {
        return Ok(Vec::new());
    }
    let ec2 = cx.ec2().await?;
    let out = call("GetEbsEncryptionByDefault", || {
        ec2.get_ebs_encryption_by_default().send()
    })
    .await?;
    let mut attrs = Attrs::new();
    attrs.insert(
        "enabled".into(),
        out.ebs_encryption_by_default().unwrap_or(false).into(),
    );
    if names_a_key(cx) {
        let key = call("GetEbsDefaultKmsKeyId", || {
            ec2.get_ebs_default_kms_key_id().send()
        })
        .await?;
        let key = key.kms_key_id().unwrap_or_default();
        // AWS reports its managed key when no other is set; the configuration says that with "".
        let key = if key.contains("alias/aws/ebs") {
            ""
        } else {
            key
        };
        attrs.insert("kms_key_id".into(), key.into());
    }
    Ok(vec![setting(ID, attrs)])
}

/// Whether a resource of this kind in state or in the configuration names its own key.
fn names_a_key(cx: &Cx<'_>) -> bool {
    cx.hints(KIND).is_some_and(|h| {
        h.in_state()
            .iter()
            .chain(&h.missing)
            .any(|a| !str_or_empty(a, "kms_key_id").is_empty())
    })
}

pub async fn create(cx: &Cx<'_>, _address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    apply(cx, None, desired).await
}

pub async fn update(
    cx: &Cx<'_>,
    _id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    apply(cx, Some(current), desired).await
}

pub async fn delete(cx: &Cx<'_>, _id: &str, current: &Attrs) -> Result<(), AwsError> {
    let ec2 = cx.ec2().await?;
    set_enabled(&ec2, false).await?;
    if !str_or_empty(current, "kms_key_id").is_empty() {
        reset_key(&ec2).await?;
    }
    Ok(())
}

/// Sets encryption by default as `desired` says, and the key where it differs from `current` (`None`:
/// unknown, so set whenever one is named).
async fn apply(cx: &Cx<'_>, current: Option<&Attrs>, desired: &Attrs) -> Result<Live, AwsError> {
    let ec2 = cx.ec2().await?;
    let enabled = desired
        .get("enabled")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    set_enabled(&ec2, enabled).await?;
    let key = str_or_empty(desired, "kms_key_id");
    let old = current.map(|c| str_or_empty(c, "kms_key_id"));
    if old != Some(key) {
        if key.is_empty() {
            if old.is_some() {
                reset_key(&ec2).await?;
            }
        } else {
            call("ModifyEbsDefaultKmsKeyId", || {
                ec2.modify_ebs_default_kms_key_id().kms_key_id(key).send()
            })
            .await?;
        }
    }
    let mut attrs = Attrs::new();
    attrs.insert("enabled".into(), enabled.into());
    attrs.insert("kms_key_id".into(), key.into());
    Ok(setting(ID, attrs))
}

async fn set_enabled(ec2: &Client, enabled: bool) -> Result<(), AwsError> {
    if enabled {
        call("EnableEbsEncryptionByDefault", || {
            ec2.enable_ebs_encryption_by_default().send()
        })
        .await?;
    } else {
        call("DisableEbsEncryptionByDefault", || {
            ec2.disable_ebs_encryption_by_default().send()
        })
        .await?;
    }
    Ok(())
}

async fn reset_key(ec2: &Client) -> Result<(), AwsError> {
    call("ResetEbsDefaultKmsKeyId", || {
        ec2.reset_ebs_default_kms_key_id().send()
    })
    .await?;
    Ok(())
}
