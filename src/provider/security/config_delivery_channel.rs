//! `config_delivery_channel`: where AWS Config delivers configuration snapshots and history (the
//! log-archive bucket), one per account and region, beside the recorder.
//!
//! The id is the channel's name, by which one missing from state is recognised. `read` is one
//! DescribeDeliveryChannels per account and region. PutDeliveryChannel creates and updates alike.
//! A new channel starts the recorder (AWS refuses to start one without a channel, so the recorder
//! is started here once both exist). The name forces a replacement.

use super::is_missing;
use crate::aws::{AwsError, call};
use crate::provider::attrs::{required, str_or_empty};
use crate::provider::{Attrs, Cx, Live};
use aws_sdk_config::Client;
use aws_sdk_config::types::{
    ConfigSnapshotDeliveryProperties, DeliveryChannel, MaximumExecutionFrequency,
};

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let config = cx.config_service().await?;
    let out = call("DescribeDeliveryChannels", || {
        config.describe_delivery_channels().send()
    })
    .await?;
    Ok(out
        .delivery_channels()
        .iter()
        .filter(|c| c.name().is_some_and(|n| ids.iter().any(|id| id == n)))
        .map(|c| {
            let name = c.name().unwrap_or_default();
            let frequency = c
                .config_snapshot_delivery_properties()
                .and_then(|p| p.delivery_frequency())
                .map(|f| f.as_str())
                .unwrap_or("TwentyFour_Hours");
            let mut attrs = Attrs::new();
            attrs.insert("name".into(), name.into());
            attrs.insert(
                "s3_bucket_name".into(),
                c.s3_bucket_name().unwrap_or_default().into(),
            );
            attrs.insert(
                "s3_key_prefix".into(),
                c.s3_key_prefix().unwrap_or_default().into(),
            );
            attrs.insert(
                "s3_kms_key_arn".into(),
                c.s3_kms_key_arn().unwrap_or_default().into(),
            );
            attrs.insert("delivery_frequency".into(), frequency.into());
            attrs.insert("id".into(), name.into());
            Live {
                id: name.to_string(),
                attrs,
                address: None,
                lineage: None,
            }
        })
        .collect())
}

/// An optional string: AWS refuses empty prefixes and keys, so empty means not sent.
fn optional(attrs: &Attrs, name: &str) -> Option<String> {
    Some(str_or_empty(attrs, name))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

async fn put(config: &Client, desired: &Attrs) -> Result<String, AwsError> {
    let op = "PutDeliveryChannel";
    let name = required(desired, "name", op)?;
    let frequency = optional(desired, "delivery_frequency")
        .map(|f| MaximumExecutionFrequency::from(f.as_str()));
    let channel = DeliveryChannel::builder()
        .name(name)
        .s3_bucket_name(required(desired, "s3_bucket_name", op)?)
        .set_s3_key_prefix(optional(desired, "s3_key_prefix"))
        .set_s3_kms_key_arn(optional(desired, "s3_kms_key_arn"))
        .config_snapshot_delivery_properties(
            ConfigSnapshotDeliveryProperties::builder()
                .set_delivery_frequency(frequency)
                .build(),
        )
        .build();
    call(op, || {
        config
            .put_delivery_channel()
            .delivery_channel(channel.clone())
            .send()
    })
    .await?;
    Ok(name.to_string())
}

/// Starts the account's recorders that are configured to record: they could not start before a
/// channel existed.
async fn start_recorders(config: &Client) -> Result<(), AwsError> {
    let status = call("DescribeConfigurationRecorderStatus", || {
        config.describe_configuration_recorder_status().send()
    })
    .await?;
    for recorder in status.configuration_recorders_status() {
        let Some(name) = recorder.name().filter(|_| !recorder.recording()) else {
            continue;
        };
        call("StartConfigurationRecorder", || {
            config
                .start_configuration_recorder()
                .configuration_recorder_name(name)
                .send()
        })
        .await?;
    }
    Ok(())
}

fn applied(name: &str, desired: &Attrs) -> Live {
    let mut attrs = desired.clone();
    attrs.insert("id".into(), name.into());
    Live {
        id: name.to_string(),
        attrs,
        address: None,
        lineage: None,
    }
}

pub async fn create(cx: &Cx<'_>, _address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let config = cx.config_service().await?;
    let name = put(&config, desired).await?;
    start_recorders(&config).await?;
    Ok(applied(&name, desired))
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    _current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    let config = cx.config_service().await?;
    put(&config, desired).await?;
    Ok(applied(id, desired))
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let config = cx.config_service().await?;
    // AWS refuses to delete the channel while a recorder is running: stop them first (a recorder
    // that stays configured is started again when a channel is created).
    let status = call("DescribeConfigurationRecorderStatus", || {
        config.describe_configuration_recorder_status().send()
    })
    .await?;
    for recorder in status.configuration_recorders_status() {
        let Some(name) = recorder.name().filter(|_| recorder.recording()) else {
            continue;
        };
        call("StopConfigurationRecorder", || {
            config
                .stop_configuration_recorder()
                .configuration_recorder_name(name)
                .send()
        })
        .await?;
    }
    let result = call("DeleteDeliveryChannel", || {
        config
            .delete_delivery_channel()
            .delivery_channel_name(id)
            .send()
    })
    .await;
    is_missing(result)
}
