//! The organization itself, managed from the management account.
//!
//! Id: the organization id (`o-...`). The organization takes no tags, so `read` returns it when its id
//! is in `ids`, and during a refresh whose state lacks the configured organization (there is at most
//! one: the plan imports it). `create` adopts too: when the caller's account already runs an
//! organization with the desired feature set, `create` takes it over (and reports an error when the
//! feature set differs, as changing it is a replacement).
//!
//! `read` costs three calls: `ListRoots` (root id, enabled policy types; shared with the other kinds'
//! tree walk during a refresh, see [`super::cached_root`]; without an organization it says so, and
//! nothing else is sent), `DescribeOrganization` and `ListAWSServiceAccessForOrganization` (skipped
//! under consolidated billing, which has no trusted access).
//! During a refresh of an organization state records with all features, `DescribeOrganization` is
//! skipped: the feature set cannot go back, and the root's ARN carries the organization's id, ARN and
//! management account.
//! A new organization is reported from `CreateOrganization`'s answer and one `ListRoots` (it has no
//! trusted access yet), and a change from what AWS confirmed: nothing is read again after it.
//! `enabled_policy_types` and `aws_service_access_principals` are exclusive sets: `create` and `update`
//! enable what is missing and disable what is not listed, waiting until the root reports each policy type
//! change as done (the root in the last change's answer, else polled with `ListRoots`). `delete` is
//! `DeleteOrganization` (AWS refuses while member accounts remain).

use super::{
    NOT_IN_USE, Root, adopting, cached_root, json_list, refreshing, root, root_of, str_attr,
    string_set,
};
use crate::aws::{AwsError, call};
use crate::provider::{Attrs, Cx, Live};
use aws_sdk_organizations::Client;
use aws_sdk_organizations::types::{Organization, OrganizationFeatureSet, PolicyType};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// How long a policy type may take to be enabled or disabled on the root.
const POLICY_TYPE_TIMEOUT: Duration = Duration::from_secs(300);

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    // A refresh whose state lacks the configured organization is told so (hints), and gets the
    // caller's organization, if any: there is at most one, and it cannot carry a tag.
    let recognising = ids.is_empty() && refreshing(cx) && adopting(cx, "organization");
    if ids.is_empty() && !recognising {
        return Ok(Vec::new());
    }
    Ok(describe(cx)
        .await?
        .filter(|live| recognising || ids.contains(&live.id))
        .into_iter()
        .collect())
}

pub async fn create(cx: &Cx<'_>, _address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let client = cx.organizations();
    let feature_set = str_attr(desired, "feature_set").unwrap_or("ALL");
    let created = call("CreateOrganization", || {
        client
            .create_organization()
            .feature_set(OrganizationFeatureSet::from(feature_set))
            .send()
    })
    .await;
    let current = match created {
        Ok(out) => match out.organization() {
            Some(org) => created_live(cx, org).await?,
            None => describe(cx).await?,
        },
        Err(e) if e.is("AlreadyInOrganizationException") => describe(cx).await?, // adopted
        Err(e) => return Err(e),
    };
    let current = current.ok_or_else(|| {
        AwsError::other(
            "DescribeOrganization",
            "the new organization is not visible",
        )
    })?;
    let current_set = str_attr(&current.attrs, "feature_set").unwrap_or_default();
    if current_set != feature_set {
        return Err(AwsError::other(
            "CreateOrganization",
            format!(
                "this account already manages organization {} with feature set {current_set}, not \
                 {feature_set}; set feature_set = \"{current_set}\" to adopt it",
                current.id
            ),
        ));
    }
    converge(cx, current, desired).await
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    _current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    // Work from what AWS reports now, not from state: the sets are exclusive.
    let current = describe(cx)
        .await?
        .filter(|live| live.id == id)
        .ok_or_else(|| {
            AwsError::other("DescribeOrganization", format!("organization {id} is gone"))
        })?;
    converge(cx, current, desired).await
}

/// Brings the organization's policy types and service access from `current` (as AWS reported it
/// just now) to `desired`, and reports what AWS confirmed: the root's policy types as the last
/// change's answer (or a poll) shows them settled, and each service access AWS enabled or disabled.
async fn converge(cx: &Cx<'_>, mut current: Live, desired: &Attrs) -> Result<Live, AwsError> {
    let root_id = str_attr(&current.attrs, "root_id").unwrap_or_default();
    let want = string_set(desired, "enabled_policy_types");
    set_policy_types(cx, root_id, &current.attrs, &want).await?;
    current
        .attrs
        .insert("enabled_policy_types".into(), json_list(want));
    let want = string_set(desired, "aws_service_access_principals");
    set_service_access(cx, &current.attrs, &want).await?;
    current
        .attrs
        .insert("aws_service_access_principals".into(), json_list(want));
    Ok(current)
}

/// Enables and disables policy types on the root until exactly `want` is enabled: done when the
/// answer to the last change shows the root settled, else once a poll of the root does.
async fn set_policy_types(
    cx: &Cx<'_>,
    root_id: &str,
    current: &Attrs,
    want: &BTreeSet<String>,
) -> Result<(), AwsError> {
    let client = cx.organizations();
    let have = string_set(current, "enabled_policy_types");
    if have == *want {
        return Ok(());
    }
    let mut answered = None;
    for policy_type in want.difference(&have) {
        let enabled = call("EnablePolicyType", || {
            client
                .enable_policy_type()
                .root_id(root_id)
                .policy_type(PolicyType::from(policy_type.as_str()))
                .send()
        })
        .await;
        answered = match enabled {
            Ok(out) => out.root().map(|r| root_of(r, "EnablePolicyType")),
            Err(e) if e.is("PolicyTypeAlreadyEnabledException") => None,
            Err(e) => return Err(e),
        };
    }
    for policy_type in have.difference(want) {
        let disabled = call("DisablePolicyType", || {
            client
                .disable_policy_type()
                .root_id(root_id)
                .policy_type(PolicyType::from(policy_type.as_str()))
                .send()
        })
        .await;
        answered = match disabled {
            Ok(out) => out.root().map(|r| root_of(r, "DisablePolicyType")),
            Err(e) if e.is("PolicyTypeNotEnabledException") => None,
            Err(e) => return Err(e),
        };
    }
    match answered.transpose()? {
        Some(root) if root.settled(want) => Ok(()),
        _ => wait_for_policy_types(&client, want).await,
    }
}

/// Enables and disables trusted access for service principals until exactly `want` has it.
async fn set_service_access(
    cx: &Cx<'_>,
    current: &Attrs,
    want: &BTreeSet<String>,
) -> Result<(), AwsError> {
    let client = cx.organizations();
    let have = string_set(current, "aws_service_access_principals");
    for principal in want.difference(&have) {
        call("EnableAWSServiceAccess", || {
            client
                .enable_aws_service_access()
                .service_principal(principal)
                .send()
        })
        .await?;
    }
    for principal in have.difference(want) {
        call("DisableAWSServiceAccess", || {
            client
                .disable_aws_service_access()
                .service_principal(principal)
                .send()
        })
        .await?;
    }
    Ok(())
}

pub async fn delete(cx: &Cx<'_>, _id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let client = cx.organizations();
    match call("DeleteOrganization", || client.delete_organization().send()).await {
        Err(e) if e.is(NOT_IN_USE) => Ok(()),
        Err(e) if e.is("OrganizationNotEmptyException") => Err(AwsError {
            message: format!(
                "{}; close or remove the member accounts first (AWS keeps closed accounts for 90 days)",
                e.message
            ),
            ..e
        }),
        other => other.map(|_| ()),
    }
}

/// During a refresh, the organization as [`describe`] reports it but without `DescribeOrganization`,
/// when state says its feature set is ALL: AWS cannot turn an organization back to consolidated
/// billing, and the root's ARN carries the organization's id, ARN and management account. `None` when
/// that does not apply.
async fn from_root(cx: &Cx<'_>) -> Result<Option<Option<Live>>, AwsError> {
    let all_features = cx.hints("organization").is_some_and(|h| {
        h.in_state().len() == 1 && str_attr(&h.in_state()[0], "feature_set") == Some("ALL")
    });
    if !all_features {
        return Ok(None);
    }
    let root = cached_root(cx).await?;
    let Some(root) = root.as_ref() else {
        return Ok(Some(None));
    };
    let Some((arn, id, management)) = root.organization() else {
        return Ok(None);
    };
    let principals = service_principals(&cx.organizations()).await?;
    Ok(Some(Some(live(
        &id,
        &arn,
        "ALL",
        &management,
        root,
        principals,
    ))))
}

/// The organization as AWS reports it; `None` when the caller's account is in no organization. The root
/// comes from [`cached_root`] (fresh outside a refresh), first: without an organization `ListRoots`
/// says so, and the refresh shares it with the other kinds.
async fn describe(cx: &Cx<'_>) -> Result<Option<Live>, AwsError> {
    if let Some(known) = from_root(cx).await? {
        return Ok(known);
    }
    let root = cached_root(cx).await?;
    let Some(root) = root.as_ref() else {
        return Ok(None);
    };
    let client = &cx.organizations();
    let out = match call("DescribeOrganization", || {
        client.describe_organization().send()
    })
    .await
    {
        Ok(out) => out,
        Err(e) if e.is(NOT_IN_USE) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(org) = out.organization() else {
        return Ok(None);
    };
    let principals = if org.feature_set() == Some(&OrganizationFeatureSet::All) {
        service_principals(client).await?
    } else {
        Vec::new()
    };
    live_of(org, root, principals).map(Some)
}

/// An organization `CreateOrganization` just made, as it answered, with its root (`ListRoots`):
/// no service has trusted access to a new organization, so there is none to list.
async fn created_live(cx: &Cx<'_>, org: &Organization) -> Result<Option<Live>, AwsError> {
    let root = cached_root(cx).await?;
    let Some(root) = root.as_ref() else {
        return Ok(None);
    };
    live_of(org, root, Vec::new()).map(Some)
}

/// The organization from what `DescribeOrganization` or `CreateOrganization` answered.
fn live_of(org: &Organization, root: &Root, principals: Vec<String>) -> Result<Live, AwsError> {
    let id = org
        .id()
        .ok_or_else(|| AwsError::other("DescribeOrganization", "the organization has no id"))?;
    Ok(live(
        id,
        org.arn().unwrap_or_default(),
        org.feature_set().map(|f| f.as_str()).unwrap_or_default(),
        org.master_account_id().unwrap_or_default(),
        root,
        principals,
    ))
}

fn live(
    id: &str,
    arn: &str,
    feature_set: &str,
    management_account_id: &str,
    root: &Root,
    principals: Vec<String>,
) -> Live {
    let mut attrs = Attrs::new();
    attrs.insert("feature_set".into(), feature_set.into());
    attrs.insert(
        "enabled_policy_types".into(),
        json_list(root.enabled_policy_types()),
    );
    attrs.insert(
        "aws_service_access_principals".into(),
        json_list(principals),
    );
    attrs.insert("id".into(), id.into());
    attrs.insert("arn".into(), arn.into());
    attrs.insert("root_id".into(), root.id.clone().into());
    attrs.insert(
        "management_account_id".into(),
        Value::from(management_account_id),
    );
    Live {
        id: id.to_string(),
        attrs,
        address: None,
        lineage: None,
    }
}

async fn service_principals(client: &Client) -> Result<Vec<String>, AwsError> {
    let mut principals = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = call("ListAWSServiceAccessForOrganization", || {
            client
                .list_aws_service_access_for_organization()
                .set_next_token(token.clone())
                .send()
        })
        .await?;
        principals.extend(
            out.enabled_service_principals()
                .iter()
                .filter_map(|p| p.service_principal())
                .map(str::to_string),
        );
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(principals);
        }
    }
}

/// Polls the root until exactly `want` is ENABLED and nothing is pending.
async fn wait_for_policy_types(client: &Client, want: &BTreeSet<String>) -> Result<(), AwsError> {
    let deadline = Instant::now() + POLICY_TYPE_TIMEOUT;
    let mut delay = Duration::from_millis(500);
    loop {
        if root(client).await?.is_some_and(|r| r.settled(want)) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(AwsError::other(
                "EnablePolicyType",
                format!(
                    "the root's policy types did not settle within {}s",
                    POLICY_TYPE_TIMEOUT.as_secs()
                ),
            ));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}
