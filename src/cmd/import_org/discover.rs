//! Reads the organization: its root, OU tree, member accounts, customer-managed policies and their
//! attachments. Read-only calls only, through the providers' `read` where they fit.

use super::Error;
use crate::aws::{Aws, AwsError, call};
use crate::cmd::Result;
use crate::provider::{self, Cx, Live, Location, targets_of};
use aws_sdk_organizations::types::PolicyType;
use serde_json::Value as Json;
use std::collections::HashMap;

/// The policy types listed for customer-managed policies.
pub(crate) const POLICY_TYPES: [&str; 4] = [
    "SERVICE_CONTROL_POLICY",
    "TAG_POLICY",
    "BACKUP_POLICY",
    "RESOURCE_CONTROL_POLICY",
];
pub(crate) const NOT_IN_USE: &str = "AWSOrganizationsNotInUseException";
/// The organization as read.
pub(crate) struct Org {
    pub(crate) organization: Live,
    pub(crate) root_id: String,
    pub(crate) management_account_id: String,
    pub(crate) management_account_name: String,
    /// Parents before children.
    pub(crate) ous: Vec<Live>,
    pub(crate) accounts: Vec<Live>,
    pub(crate) policies: Vec<Live>,
    /// (policy id, target id).
    pub(crate) attachments: Vec<(String, String)>,
    /// AWS-managed policies attached somewhere (left out).
    pub(crate) aws_managed_attachments: usize,
}

/// Reads the organization: read-only calls only, through the providers' `read` where they fit.
pub(crate) async fn discover(aws: &Aws, home_region: &str) -> Result<Org> {
    let client = aws.organizations();
    let described = match call("DescribeOrganization", || {
        client.describe_organization().send()
    })
    .await
    {
        Ok(out) => out,
        Err(e) if e.is(NOT_IN_USE) => {
            let who = aws
                .caller()
                .await
                .map(|c| format!("account {}", c.account))
                .unwrap_or_else(|_| "the caller's account".into());
            return Err(Error::NoOrganization { who }.into());
        }
        Err(e) => return Err(e.into()),
    };
    let org_id = described
        .organization()
        .and_then(|o| o.id())
        .ok_or(Error::NoOrganizationId)?
        .to_string();
    let management_account_id = described
        .organization()
        .and_then(|o| o.master_account_id())
        .unwrap_or_default()
        .to_string();

    let loc = Location {
        account: None,
        region: home_region.to_string(),
    };
    // No read cache: with one, the providers behave as in a refresh and skip the tags of the ids
    // asked for (refresh compares those against state); here they must be read.
    let cx = Cx::standalone(aws, &loc, "");
    let read = |kind: &'static str, ids: Vec<String>| {
        let cx = &cx;
        async move {
            let found = provider::read(kind, cx, &ids).await?;
            let mut by_id: HashMap<String, Live> =
                found.into_iter().map(|l| (l.id.clone(), l)).collect();
            // In the order asked for; only what was asked for (reads also return tagged resources).
            Ok::<Vec<Live>, AwsError>(ids.iter().filter_map(|id| by_id.remove(id)).collect())
        }
    };

    let organization = read("organization", vec![org_id.clone()])
        .await?
        .pop()
        .ok_or_else(|| Error::OrganizationNotRead { id: org_id.clone() })?;
    let root_id = organization
        .attrs
        .get("root_id")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string();

    let (parents, ou_ids) = ou_tree(&client, &root_id).await?;
    let ous = read("organizational_unit", ou_ids).await?;

    let (account_ids, management_account_name) =
        member_accounts(&client, &parents, &management_account_id).await?;
    let accounts = read("account", account_ids).await?;

    let (policy_ids, aws_managed) = customer_policies(&client).await?;
    let policies = read("policy", policy_ids.clone()).await?;
    let mut attachments = Vec::new();
    for policy_id in &policy_ids {
        for target in targets_of(&client, policy_id).await? {
            attachments.push((policy_id.clone(), target));
        }
    }
    let mut aws_managed_attachments = 0;
    for policy_id in &aws_managed {
        aws_managed_attachments += targets_of(&client, policy_id).await?.len();
    }
    Ok(Org {
        organization,
        root_id,
        management_account_id,
        management_account_name,
        ous,
        accounts,
        policies,
        attachments,
        aws_managed_attachments,
    })
}

/// The OU tree below the root, breadth first (parents before children), children by name: every parent
/// (the root first) and the OU ids.
async fn ou_tree(
    client: &aws_sdk_organizations::Client,
    root_id: &str,
) -> std::result::Result<(Vec<String>, Vec<String>), AwsError> {
    let mut ou_ids = Vec::new();
    let mut parents = vec![root_id.to_string()];
    let mut i = 0;
    while i < parents.len() {
        let parent = parents[i].clone();
        i += 1;
        let mut children = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = call("ListOrganizationalUnitsForParent", || {
                client
                    .list_organizational_units_for_parent()
                    .parent_id(&parent)
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
            children.extend(out.organizational_units().iter().filter_map(|ou| {
                Some((
                    ou.name().unwrap_or_default().to_string(),
                    ou.id()?.to_string(),
                ))
            }));
            token = out.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        children.sort();
        for (_, id) in children {
            parents.push(id.clone());
            ou_ids.push(id);
        }
    }
    Ok((parents, ou_ids))
}

/// Member accounts, by parent (in tree order), then name; and the management account's name.
async fn member_accounts(
    client: &aws_sdk_organizations::Client,
    parents: &[String],
    management_account_id: &str,
) -> std::result::Result<(Vec<String>, String), AwsError> {
    let mut account_ids = Vec::new();
    let mut management_account_name = String::new();
    for parent in parents {
        let mut children = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = call("ListAccountsForParent", || {
                client
                    .list_accounts_for_parent()
                    .parent_id(parent)
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
            for a in out.accounts() {
                let (Some(id), name) = (a.id(), a.name().unwrap_or_default()) else {
                    continue;
                };
                if id == management_account_id {
                    management_account_name = name.to_string();
                } else {
                    children.push((name.to_string(), id.to_string()));
                }
            }
            token = out.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        children.sort();
        account_ids.extend(children.into_iter().map(|(_, id)| id));
    }
    Ok((account_ids, management_account_name))
}

/// Customer-managed policies of every type, by name (their ids), and the AWS-managed ones' ids.
async fn customer_policies(
    client: &aws_sdk_organizations::Client,
) -> std::result::Result<(Vec<String>, Vec<String>), AwsError> {
    let mut policy_ids = Vec::new();
    let mut aws_managed = Vec::new();
    for policy_type in POLICY_TYPES {
        let mut token: Option<String> = None;
        loop {
            let out = call("ListPolicies", || {
                client
                    .list_policies()
                    .filter(PolicyType::from(policy_type))
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
            for p in out.policies() {
                let Some(id) = p.id() else { continue };
                if p.aws_managed() {
                    aws_managed.push(id.to_string());
                } else {
                    policy_ids.push((p.name().unwrap_or_default().to_string(), id.to_string()));
                }
            }
            token = out.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    policy_ids.sort();
    Ok((
        policy_ids.into_iter().map(|(_, id)| id).collect(),
        aws_managed,
    ))
}
