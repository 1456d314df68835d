//! `config_configuration_recorder`: the AWS Config recorder of one account and region (at most one),
//! with whether it is recording.
//!
//! The id is the recorder's name, by which one missing from state is recognised. `read` is
//! DescribeConfigurationRecorders and DescribeConfigurationRecorderStatus, one each per account and
//! region. PutConfigurationRecorder creates and updates alike (so a retried create is harmless);
//! Start/StopConfigurationRecorder follow `recording`. The name forces a replacement. Config takes
//! no tags on recorders.

use super::is_missing;
use crate::aws::{AwsError, call};
use crate::provider::attrs::required;
use crate::provider::{Attrs, Cx, Live};
use aws_sdk_config::Client;
use aws_sdk_config::types::{ConfigurationRecorder, RecordingGroup};
use serde_json::Value;
use std::collections::HashMap;

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let config = cx.config_service().await?;
    let recorders = call("DescribeConfigurationRecorders", || {
        config.describe_configuration_recorders().send()
    })
    .await?;
    let status = call("DescribeConfigurationRecorderStatus", || {
        config.describe_configuration_recorder_status().send()
    })
    .await?;
    let recording: HashMap<&str, bool> = status
        .configuration_recorders_status()
        .iter()
        .filter_map(|s| Some((s.name()?, s.recording())))
        .collect();
    Ok(recorders
        .configuration_recorders()
        .iter()
        .filter(|r| r.name().is_some_and(|n| ids.iter().any(|id| id == n)))
        .map(|r| {
            let name = r.name().unwrap_or_default();
            let group = r.recording_group();
            let mut attrs = Attrs::new();
            attrs.insert("name".into(), name.into());
            attrs.insert("role_arn".into(), r.role_arn().unwrap_or_default().into());
            attrs.insert(
                "all_supported".into(),
                group.map(|g| g.all_supported()).unwrap_or(true).into(),
            );
            attrs.insert(
                "include_global_resource_types".into(),
                group
                    .map(|g| g.include_global_resource_types())
                    .unwrap_or(false)
                    .into(),
            );
            let on = recording.get(name).copied().unwrap_or(false);
            attrs.insert("recording".into(), on.into());
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

fn flag(attrs: &Attrs, name: &str, default: bool) -> bool {
    attrs.get(name).and_then(Value::as_bool).unwrap_or(default)
}

async fn put(config: &Client, desired: &Attrs) -> Result<String, AwsError> {
    let name = required(desired, "name", "PutConfigurationRecorder")?;
    let recorder = ConfigurationRecorder::builder()
        .name(name)
        .role_arn(required(desired, "role_arn", "PutConfigurationRecorder")?)
        .recording_group(
            RecordingGroup::builder()
                .all_supported(flag(desired, "all_supported", true))
                .include_global_resource_types(flag(
                    desired,
                    "include_global_resource_types",
                    false,
                ))
                .build(),
        )
        .build();
    call("PutConfigurationRecorder", || {
        config
            .put_configuration_recorder()
            .configuration_recorder(recorder.clone())
            .send()
    })
    .await?;
    Ok(name.to_string())
}

/// Starts or stops the recorder. Starting needs a delivery channel: one configured beside the
/// recorder starts it (see `config_delivery_channel`), so a recorder alone is left stopped when
/// AWS refuses for want of one.
async fn set_recording(config: &Client, name: &str, on: bool) -> Result<(), AwsError> {
    if on {
        let result = call("StartConfigurationRecorder", || {
            config
                .start_configuration_recorder()
                .configuration_recorder_name(name)
                .send()
        })
        .await;
        match result {
            Err(e) if e.is("NoAvailableDeliveryChannelException") => Ok(()),
            other => other.map(drop),
        }
    } else {
        call("StopConfigurationRecorder", || {
            config
                .stop_configuration_recorder()
                .configuration_recorder_name(name)
                .send()
        })
        .await
        .map(drop)
    }
}

pub async fn create(cx: &Cx<'_>, _address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let config = cx.config_service().await?;
    let name = put(&config, desired).await?;
    set_recording(&config, &name, flag(desired, "recording", true)).await?;
    Ok(applied(&name, desired))
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

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    let config = cx.config_service().await?;
    let settings = ["role_arn", "all_supported", "include_global_resource_types"];
    if settings.iter().any(|a| current.get(*a) != desired.get(*a)) {
        put(&config, desired).await?;
    }
    if current.get("recording") != desired.get("recording") {
        set_recording(&config, id, flag(desired, "recording", true)).await?;
    }
    Ok(applied(id, desired))
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let config = cx.config_service().await?;
    let result = call("DeleteConfigurationRecorder", || {
        config
            .delete_configuration_recorder()
            .configuration_recorder_name(id)
            .send()
    })
    .await;
    is_missing(result)
}
