//! `iam_group`: a group with its path, exclusive managed policy attachments and exclusive inline
//! policies.
//!
//! The id is the group's **name** (every group API takes the name; the ARN is reported as `arn`).
//!
//! `read` is one `GetAccountAuthorizationDetails` filtered to groups (all pages) per account, or during
//! a refresh the listing shared with `iam_role` and `iam_policy` (see [`super::account_details`]). IAM
//! groups take no tags, so a group carries no `landfall:address` tag and cannot be adopted by tag:
//! only groups whose id is asked for are reported. A refresh whose state lacks a configured group
//! asks for its configured name (IAM makes it unique in the account; see
//! [`crate::provider::Identity`]), so a lost state leads to an import, not to EntityAlreadyExists.
//!
//! **Crash safety without tags.** `create` records its intent in state (a pending
//! `CreateGroup:NAME@TIME`, through [`Cx::record_pending`]) before sending `CreateGroup`. When AWS
//! answers `EntityAlreadyExists`, the group's creation date decides: created after the intent (less
//! [`CLOCK_SKEW_SECS`]), it is the group this run (whose answer was lost) or an interrupted run created, and
//! it is taken over; older, it is someone else's, and the error says how to import it. The group
//! landfall created is therefore never left behind as an orphan that blocks the next apply.
//!
//! Membership is not managed; deleting a group first removes its users, as IAM requires.

use super::{
    Principal, account_details, applied_attrs, ignore_not_found, inline_policies, non_empty,
    object, str_or_empty, string_list,
};
use crate::aws::{AwsError, call};
use crate::provider::{Attrs, CLOCK_SKEW_SECS, Cx, Live, unix_now};
use aws_sdk_iam::Client;
use aws_sdk_iam::types::EntityType;
use serde_json::json;
use std::collections::BTreeSet;

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let iam = cx.iam().await?;
    let ids: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
    let details = account_details(cx, &iam, EntityType::Group).await?;
    Ok(details
        .groups
        .iter()
        .filter_map(|group| {
            let name = group.group_name().filter(|name| ids.contains(name))?;
            let attrs = object(json!({
                "name": name,
                "path": group.path().unwrap_or("/"),
                "managed_policy_arns": string_list(
                    group.attached_managed_policies().iter().filter_map(|p| p.policy_arn()),
                ),
                "inline_policies": inline_policies(
                    group.group_policy_list().iter().map(|p| (p.policy_name(), p.policy_document())),
                ),
                "id": name,
                "arn": group.arn().unwrap_or_default(),
            }));
            Some(Live {
                id: name.to_string(),
                attrs,
                address: None,
                lineage: None,
            })
        })
        .collect())
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let iam = cx.iam().await?;
    let name = str_or_empty(desired, "name");
    let path = non_empty(str_or_empty(desired, "path")).unwrap_or("/");
    // The intent to create, recorded before asking (see the module docs): the time it was first
    // recorded, kept when an interrupted run's intent is resumed.
    let since = match cx.pending.and_then(intent_time) {
        Some(since) => since,
        None => {
            let now = unix_now();
            cx.record_pending
                .record(&format!("CreateGroup:{name}@{now}"))
                .await?;
            now
        }
    };
    let created = call("CreateGroup", || {
        iam.create_group().group_name(name).path(path).send()
    })
    .await;
    let arn = match created {
        Ok(out) => out.group().map(|g| g.arn().to_string()).unwrap_or_default(),
        Err(e) if e.is("EntityAlreadyExists") => {
            let out = call("GetGroup", || iam.get_group().group_name(name).send()).await?;
            let group = out
                .group()
                .ok_or_else(|| AwsError::other("GetGroup", "no group"))?;
            if !created_since(group.create_date().secs(), since) {
                // Older than landfall's decision to create it: someone else's group. The intent is
                // over: forget it, so a later run cannot mistake that group for landfall's.
                cx.record_pending.clear().await?;
                return Err(AwsError {
                    message: format!(
                        "the group {name} already exists (created {}); to manage it, run \
                         `landfall import {address} {name}`, or choose another name",
                        group.create_date()
                    ),
                    ..e
                });
            }
            // Created after landfall recorded its intent: by this run (an answer lost on the way
            // back) or by an interrupted one. It is landfall's.
            group.arn().to_string()
        }
        Err(e) => return Err(e),
    };
    let arn = arn.as_str();
    Principal::Group(name)
        .sync_permissions(&iam, &Attrs::new(), desired)
        .await?;
    Ok(applied(name, arn, desired))
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    let iam = cx.iam().await?;
    let path = non_empty(str_or_empty(desired, "path")).unwrap_or("/");
    if path != non_empty(str_or_empty(current, "path")).unwrap_or("/") {
        call("UpdateGroup", || {
            iam.update_group().group_name(id).new_path(path).send()
        })
        .await?;
    }
    Principal::Group(id)
        .sync_permissions(&iam, current, desired)
        .await?;
    // The ARN contains the path, so a new path means a new ARN.
    let arn = str_or_empty(current, "arn");
    let arn = match arn.split_once(":group/") {
        Some((prefix, _)) => format!("{prefix}:group{path}{id}"),
        None => arn.to_string(),
    };
    Ok(applied(id, &arn, desired))
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let iam = cx.iam().await?;
    match empty_group(&iam, id).await {
        // Only the listing calls can fail this way (the changes ignore what is gone): the group is gone.
        Err(e) if e.is_not_found() => return Ok(()),
        other => other?,
    }
    ignore_not_found(
        call("DeleteGroup", || iam.delete_group().group_name(id).send())
            .await
            .map(drop),
    )
    .map(drop)
}

/// Removes the group's users and strips its policies: IAM refuses to delete a group that has any.
async fn empty_group(iam: &Client, name: &str) -> Result<(), AwsError> {
    // All pages first: removing users while paging would shift the pages.
    let mut users = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = call("GetGroup", || {
            iam.get_group()
                .group_name(name)
                .set_marker(marker.clone())
                .send()
        })
        .await?;
        users.extend(out.users().iter().map(|u| u.user_name().to_string()));
        match out.marker() {
            Some(next) if out.is_truncated() => marker = Some(next.to_string()),
            _ => break,
        }
    }
    for user in &users {
        ignore_not_found(
            call("RemoveUserFromGroup", || {
                iam.remove_user_from_group()
                    .group_name(name)
                    .user_name(user)
                    .send()
            })
            .await
            .map(drop),
        )?;
    }
    Principal::Group(name).strip_permissions(iam).await
}

/// Whether a group created at `created` can be the one an intent recorded at `since` asked for.
fn created_since(created: i64, since: i64) -> bool {
    created >= since - CLOCK_SKEW_SECS
}

/// The time (Unix seconds) in a recorded intent `CreateGroup:NAME@SECONDS`.
fn intent_time(intent: &str) -> Option<i64> {
    intent
        .strip_prefix("CreateGroup:")?
        .rsplit_once('@')?
        .1
        .parse()
        .ok()
}

fn applied(name: &str, arn: &str, desired: &Attrs) -> Live {
    Live {
        id: name.to_string(),
        attrs: applied_attrs(desired, name, arn),
        address: None,
        lineage: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_is_landfalls_only_if_created_after_the_recorded_intent() {
        assert_eq!(
            intent_time("CreateGroup:ops@1700000000"),
            Some(1_700_000_000)
        );
        assert_eq!(intent_time("CreateGroup:a@b@12"), Some(12));
        assert_eq!(intent_time("car-1234"), None);
        let since = 1_700_000_000;
        assert!(created_since(since + 2, since));
        assert!(created_since(since - 10, since), "within clock skew");
        assert!(
            !created_since(since - 3600, since),
            "an hour older: someone else's"
        );
    }
}
