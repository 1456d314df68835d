//! IAM Identity Center: Identity Store groups, permission sets and their account assignments.
//!
//! All three live in the Identity Center instance of the organization, administered from the
//! management account (or a delegated administrator) in the instance's home region: configure them
//! with that `region` (and `account`, for a delegated administrator). The instance is discovered with
//! `ListInstances` (once per refresh, shared by the three kinds) unless `instance_arn` /
//! `identity_store_id` name it; `read` leaves those two out, so they are compared with state.

pub mod account_assignment;
pub mod group;
pub mod permission_set;

use crate::aws::{AwsError, call};
use crate::provider::attrs::str_or_empty;
use crate::provider::{Attrs, Cx};
use aws_sdk_ssoadmin::types::StatusValues;
use std::sync::Arc;
use std::time::Duration;

/// How long an asynchronous request (an assignment's creation or deletion, a provisioning) may take
/// before landfall stops waiting for it.
const TIMEOUT: Duration = Duration::from_secs(600);

/// The Identity Center instance: its ARN and its Identity Store.
#[derive(Debug, Clone)]
pub(crate) struct Instance {
    pub arn: String,
    pub identity_store_id: String,
}

/// The instances of the context's account and region (`ListInstances`, once per refresh).
async fn instances(cx: &Cx<'_>) -> Result<Arc<Vec<Instance>>, AwsError> {
    let sso = cx.ssoadmin().await?;
    cx.cached("sso:ListInstances", || async {
        let out = call("ListInstances", || sso.list_instances().send()).await?;
        Ok(out
            .instances()
            .iter()
            .filter_map(|i| {
                Some(Instance {
                    arn: i.instance_arn()?.to_string(),
                    identity_store_id: i.identity_store_id()?.to_string(),
                })
            })
            .collect())
    })
    .await
}

/// The instance `attrs` names (by `instance_arn` or `identity_store_id`), else the one there is.
pub(crate) async fn instance(cx: &Cx<'_>, attrs: &Attrs) -> Result<Instance, AwsError> {
    let (arn, store) = (
        str_or_empty(attrs, "instance_arn"),
        str_or_empty(attrs, "identity_store_id"),
    );
    if !arn.is_empty() && !store.is_empty() {
        return Ok(Instance {
            arn: arn.into(),
            identity_store_id: store.into(),
        });
    }
    let all = instances(cx).await?;
    all.iter()
        .find(|i| {
            (arn.is_empty() || i.arn == arn) && (store.is_empty() || i.identity_store_id == store)
        })
        .cloned()
        .ok_or_else(|| {
            AwsError::other(
                "ListInstances",
                format!(
                    "no IAM Identity Center instance{} in this account and region; enable Identity \
                     Center, or set `region` (and `account`) to where it is",
                    if arn.is_empty() {
                        String::new()
                    } else {
                        format!(" {arn}")
                    }
                ),
            )
        })
}

/// The instances a read covers: those named by the resources in state or configured (hints), and
/// the discovered one when any resource names none.
pub(crate) async fn instances_to_read(cx: &Cx<'_>, kind: &str) -> Result<Vec<Instance>, AwsError> {
    let empty = Attrs::new();
    let Some(hints) = cx.hints(kind) else {
        return Ok(vec![instance(cx, &empty).await?]);
    };
    let mut out: Vec<Instance> = Vec::new();
    for attrs in hints.in_state().iter().chain(&hints.missing) {
        let found = instance(cx, attrs).await?;
        if !out
            .iter()
            .any(|i| i.arn == found.arn && i.identity_store_id == found.identity_store_id)
        {
            out.push(found);
        }
    }
    Ok(out)
}

/// Waits until a request whose first answer said `first` reports success (an error when it fails).
/// `check` asks for its status.
pub(crate) async fn wait<F, Fut>(
    first: Option<StatusValues>,
    op: &str,
    mut check: F,
) -> Result<(), AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(Option<StatusValues>, Option<String>), AwsError>>,
{
    if first == Some(StatusValues::Succeeded) {
        return Ok(());
    }
    crate::provider::ec2::poll(op, TIMEOUT, || {
        let status = check();
        async move {
            match status.await? {
                (Some(StatusValues::Succeeded), _) => Ok(Some(())),
                (Some(StatusValues::Failed), reason) => Err(AwsError::other(
                    op,
                    reason.unwrap_or_else(|| "the request failed".into()),
                )),
                _ => Ok(None),
            }
        }
    })
    .await
}
