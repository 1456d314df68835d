//! `flow_log`: VPC flow logs delivered to an S3 bucket (e.g. the log archive's, in another account).
//!
//! Read like every EC2 kind: one DescribeFlowLogs pass filtered on the address tag key per account and
//! region, and one on ids only for asked-for ids that pass missed ([`super::describe_batched`]). AWS
//! changes nothing of a flow log but its tags: every other attribute forces a replacement.
//!
//! CreateFlowLogs reports per resource failures in `Unsuccessful` instead of failing the call; those
//! are turned into an error naming AWS's code and message.

use super::{
    created, describe_batched, filter, find_created, gone, ignore_not_found, live, paginate,
    required, tag_spec, update_tags,
};
use crate::aws::{AwsError, Created, call, call_create};
use crate::provider::attrs::str_or_empty;
use crate::provider::iam::int_attr;
use crate::provider::{Attrs, Cx, Live};
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    Filter, FlowLog, FlowLogsResourceType, LogDestinationType, ResourceType, TrafficType,
};

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let ec2 = cx.ec2().await?;
    let logs = describe_batched(
        ids,
        "flow-log-id",
        |f| describe(&ec2, f),
        |l: &FlowLog| (l.flow_log_id(), l.tags()),
    )
    .await?;
    Ok(logs.iter().map(to_live).collect())
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let op = "CreateFlowLogs";
    let ec2 = cx.ec2().await?;
    let vpc = required(desired, "vpc_id", op)?;
    let destination = required(desired, "log_destination", op)?;
    let traffic = str_or_empty(desired, "traffic_type");
    let tags = cx.creation_tags(address, desired);
    let outcome = call_create(
        op,
        || {
            ec2.create_flow_logs()
                .resource_type(FlowLogsResourceType::Vpc)
                .resource_ids(vpc)
                .traffic_type(TrafficType::from(traffic))
                .log_destination_type(LogDestinationType::S3)
                .log_destination(destination)
                .set_max_aggregation_interval(int_attr(desired, "max_aggregation_interval"))
                .tag_specifications(tag_spec(ResourceType::VpcFlowLog, &tags))
                .send()
        },
        || find_created(cx, address, |f| describe(&ec2, f), FlowLog::tags),
    )
    .await?;
    let id = match outcome {
        Created::Sent(out) => {
            if let Some(failed) = out.unsuccessful().first().and_then(|u| u.error()) {
                return Err(AwsError {
                    code: failed.code().map(str::to_string),
                    ..AwsError::other(op, failed.message().unwrap_or("failed"))
                });
            }
            out.flow_log_ids().first().cloned()
        }
        Created::Found(log) => log.flow_log_id().map(str::to_string),
    };
    let id = id.ok_or_else(|| AwsError::other(op, "the response holds no flow log id"))?;
    let mut attrs = desired.clone();
    attrs.remove("tags");
    Ok(created(&id, attrs, &tags))
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    let ec2 = cx.ec2().await?;
    update_tags(&ec2, id, current, desired).await?;
    let log = describe(&ec2, filter("flow-log-id", [id]))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| gone("DescribeFlowLogs", "InvalidFlowLogId", id))?;
    Ok(to_live(&log))
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let ec2 = cx.ec2().await?;
    let out = ignore_not_found(
        call("DeleteFlowLogs", || {
            ec2.delete_flow_logs().flow_log_ids(id).send()
        })
        .await,
    )?;
    // A flow log already gone comes back as an unsuccessful item, not an error: that is done too.
    let failed = out
        .iter()
        .flat_map(|o| o.unsuccessful())
        .filter_map(|u| u.error());
    for e in failed {
        if !e.code().is_some_and(|c| c.contains("NotFound")) {
            return Err(AwsError {
                code: e.code().map(str::to_string),
                ..AwsError::other("DeleteFlowLogs", e.message().unwrap_or("failed"))
            });
        }
    }
    Ok(())
}

/// One paginated DescribeFlowLogs pass.
async fn describe(ec2: &Client, f: Filter) -> Result<Vec<FlowLog>, AwsError> {
    paginate(|token| {
        let f = f.clone();
        async move {
            let out = call("DescribeFlowLogs", || {
                ec2.describe_flow_logs()
                    .filter(f.clone())
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
            Ok((
                out.flow_logs().to_vec(),
                out.next_token().map(str::to_string),
            ))
        }
    })
    .await
}

fn to_live(log: &FlowLog) -> Live {
    let mut attrs = Attrs::new();
    attrs.insert(
        "vpc_id".into(),
        log.resource_id().unwrap_or_default().into(),
    );
    attrs.insert(
        "traffic_type".into(),
        log.traffic_type()
            .map(|t| t.as_str())
            .unwrap_or_default()
            .into(),
    );
    attrs.insert(
        "log_destination".into(),
        log.log_destination().unwrap_or_default().into(),
    );
    if let Some(interval) = log.max_aggregation_interval() {
        attrs.insert("max_aggregation_interval".into(), interval.into());
    }
    live(log.flow_log_id().unwrap_or_default(), attrs, log.tags())
}
