//! `config_configuration_aggregator`: an AWS Config aggregator collecting the whole organization's
//! configuration data, in the audit account.
//!
//! The id is the aggregator's name, by which one missing from state is recognised. `read` is one
//! DescribeConfigurationAggregators per account and region (all pages) and one ListTagsForResource
//! per aggregator asked for. PutConfigurationAggregator creates and updates alike; tags change with
//! TagResource/UntagResource. The name forces a replacement.

use super::is_missing;
use crate::aws::{AwsError, call};
use crate::provider::attrs::required;
use crate::provider::iam::{applied_attrs, tag_changes};
use crate::provider::{Attrs, Cx, Live, paginate};
use aws_sdk_config::Client;
use aws_sdk_config::types::{ConfigurationAggregator, OrganizationAggregationSource, Tag};
use serde_json::Value;

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let config = cx.config_service().await?;
    let all = paginate(|token| {
        let config = &config;
        async move {
            let out = call("DescribeConfigurationAggregators", || {
                config
                    .describe_configuration_aggregators()
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
            let page = out.configuration_aggregators().to_vec();
            Ok((page, out.next_token().map(str::to_string)))
        }
    })
    .await?;
    let mut found = Vec::new();
    for aggregator in all.iter().filter(|a| {
        a.configuration_aggregator_name()
            .is_some_and(|n| ids.iter().any(|id| id == n))
    }) {
        found.push(to_live(&config, aggregator).await?);
    }
    Ok(found)
}

async fn to_live(config: &Client, aggregator: &ConfigurationAggregator) -> Result<Live, AwsError> {
    let name = aggregator
        .configuration_aggregator_name()
        .unwrap_or_default();
    let arn = aggregator
        .configuration_aggregator_arn()
        .unwrap_or_default();
    let tags = call("ListTagsForResource", || {
        config.list_tags_for_resource().resource_arn(arn).send()
    })
    .await?;
    let pairs = tags.tags().iter().map(|t| {
        (
            t.key().unwrap_or_default().to_string(),
            t.value().unwrap_or_default().to_string(),
        )
    });
    let (tags, address, lineage) = Live::split_tags(pairs);
    let source = aggregator.organization_aggregation_source();
    let mut attrs = Attrs::new();
    attrs.insert("name".into(), name.into());
    attrs.insert(
        "role_arn".into(),
        source.map(|s| s.role_arn()).unwrap_or_default().into(),
    );
    attrs.insert(
        "all_regions".into(),
        source.is_some_and(|s| s.all_aws_regions()).into(),
    );
    attrs.insert("tags".into(), tags);
    attrs.insert("id".into(), name.into());
    attrs.insert("arn".into(), arn.into());
    Ok(Live {
        id: name.to_string(),
        attrs,
        address,
        lineage,
    })
}

fn config_tags(tags: impl IntoIterator<Item = (String, String)>) -> Vec<Tag> {
    tags.into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// PutConfigurationAggregator with the whole configuration; returns the aggregator's ARN.
async fn put(config: &Client, desired: &Attrs, tags: Option<Vec<Tag>>) -> Result<String, AwsError> {
    let op = "PutConfigurationAggregator";
    let name = required(desired, "name", op)?;
    let source = OrganizationAggregationSource::builder()
        .role_arn(required(desired, "role_arn", op)?)
        .all_aws_regions(
            desired
                .get("all_regions")
                .and_then(Value::as_bool)
                .unwrap_or(true),
        )
        .build()
        .map_err(|e| AwsError::other(op, e.to_string()))?;
    let out = call(op, || {
        config
            .put_configuration_aggregator()
            .configuration_aggregator_name(name)
            .organization_aggregation_source(source.clone())
            .set_tags(tags.clone())
            .send()
    })
    .await?;
    let arn = out
        .configuration_aggregator()
        .and_then(|a| a.configuration_aggregator_arn());
    Ok(arn.unwrap_or_default().to_string())
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let config = cx.config_service().await?;
    let tags = config_tags(cx.creation_tags(address, desired));
    let arn = put(&config, desired, Some(tags)).await?;
    let name = required(desired, "name", "PutConfigurationAggregator")?;
    Ok(Live {
        id: name.to_string(),
        attrs: applied_attrs(desired, name, &arn),
        address: Some(address.to_string()),
        lineage: Some(cx.lineage.to_string()),
    })
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    let config = cx.config_service().await?;
    let mut arn = current
        .get("arn")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if ["role_arn", "all_regions"]
        .iter()
        .any(|a| current.get(*a) != desired.get(*a))
    {
        arn = put(&config, desired, None).await?;
    }
    let tags = tag_changes(current, desired);
    if !tags.put.is_empty() {
        let put = config_tags(tags.put);
        call("TagResource", || {
            config
                .tag_resource()
                .resource_arn(&arn)
                .set_tags(Some(put.clone()))
                .send()
        })
        .await?;
    }
    if !tags.remove.is_empty() {
        call("UntagResource", || {
            config
                .untag_resource()
                .resource_arn(&arn)
                .set_tag_keys(Some(tags.remove.clone()))
                .send()
        })
        .await?;
    }
    Ok(Live {
        id: id.to_string(),
        attrs: applied_attrs(desired, id, &arn),
        address: None,
        lineage: None,
    })
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let config = cx.config_service().await?;
    let result = call("DeleteConfigurationAggregator", || {
        config
            .delete_configuration_aggregator()
            .configuration_aggregator_name(id)
            .send()
    })
    .await;
    is_missing(result)
}
