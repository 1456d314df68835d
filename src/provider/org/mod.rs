//! AWS Organizations: the organization, its OUs, member accounts, policies, policy attachments and
//! delegated administrators. Every call goes to the management account's Organizations client.
//!
//! Shared here: attribute access, tags, and listings of the organization tree (`ListRoots`, then
//! `ListOrganizationalUnitsForParent` / `ListAccountsForParent` per parent, so a walk costs O(OUs)
//! calls, never O(accounts)).
//!
//! **Refresh cost.** During a refresh ([`Cx::cache`] is set) every listing goes through
//! [`Cx::cached`], so `ListRoots` is sent once and each parent's children are listed at most once,
//! whichever kinds ask. The refresh also tells the kinds what state and configuration say
//! ([`Cx::hints`]), and they list only what that points to: the parents state places OUs and accounts
//! under (not every OU of the tree), `DescribePolicy` per policy in state (`ListPolicies` only when
//! configured policies are missing from state), and the tags of resources not in state only when
//! configured ones of the kind are missing (there is nothing to adopt otherwise). A steady-state
//! refresh of an organization costs `ListRoots`, one listing per parent that holds managed OUs or
//! accounts, and one call per policy and per policy's targets. Outside a refresh (`import`) the whole
//! tree is walked.
//!
//! **Tags are not refreshed for resources in state.** Organizations has no batched tag read
//! (`ListTagsForResource` takes one resource), so reading every resource's tags would make a refresh
//! cost one call per OU, account and policy. Instead, during a refresh, `read` leaves `tags` out of
//! [`Live::attrs`] for the resources in `ids`, and the engine compares the configuration's tags with
//! state's. Tags are fetched only for adoption candidates (resources not in `ids` that may be
//! landfall's: OUs and customer-managed policies, and recently created accounts), whose
//! `landfall:address` tag is what adoption looks for. The trade-off: **a tag changed outside landfall
//! on an OU, account or policy is not shown as drift** by `plan`. It is corrected by the next update
//! of that resource, whatever the update is for: `update` syncs tags from what AWS holds (one
//! `ListTagsForResource`), not from state, so tags changed or added outside landfall are set back to
//! the configuration. To check tags by hand: `aws organizations list-tags-for-resource --resource-id
//! ID`. Reads outside a refresh (`landfall import`, [`Cx::cache`] `None`) read tags as before, so an
//! imported resource records the tags it really has. Everything else (names, parents, emails, policy
//! documents, status) is still read on every refresh: an account moved to another OU outside landfall
//! shows as `parent_id` drift.
//!
//! With no organization (`AWSOrganizationsNotInUseException`), every kind reads as absent.

pub mod account;
pub mod delegated_administrator;
pub mod organization;
pub mod organizational_unit;
pub mod policy;
pub mod policy_attachment;

use crate::aws::{AwsError, call};
pub(crate) use crate::provider::attrs::{LandfallTags, required, str_attr, string_set, tag_map};
use crate::provider::{ADDRESS_TAG, Attrs, Cx, LINEAGE_TAG, Live};
use aws_sdk_organizations::Client;
use aws_sdk_organizations::types::{Account, OrganizationalUnit, Tag};
use futures_util::future::join_all;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The error AWS returns for any call when the caller's account is in no organization.
pub(crate) const NOT_IN_USE: &str = "AWSOrganizationsNotInUseException";

/// A sorted JSON list of strings.
pub(crate) fn json_list<I: IntoIterator<Item = String>>(items: I) -> Value {
    let set: BTreeSet<String> = items.into_iter().collect();
    Value::Array(set.into_iter().map(Value::String).collect())
}

/// Tags in the SDK's form.
pub(crate) fn sdk_tags(tags: Vec<(String, String)>, op: &str) -> Result<Vec<Tag>, AwsError> {
    tags.into_iter()
        .map(|(key, value)| {
            Tag::builder()
                .key(key)
                .value(value)
                .build()
                .map_err(|e| AwsError::other(op, e.to_string()))
        })
        .collect()
}

/// All tags of one resource (an OU, account, policy or root), paginated.
pub(crate) async fn tags_of(
    client: &Client,
    resource_id: &str,
) -> Result<Vec<(String, String)>, AwsError> {
    let mut tags = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = call("ListTagsForResource", || {
            client
                .list_tags_for_resource()
                .resource_id(resource_id)
                .set_next_token(token.clone())
                .send()
        })
        .await?;
        tags.extend(
            out.tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string())),
        );
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(tags);
        }
    }
}

/// Brings a resource's tags to `desired` (without landfall's own tags, which are left alone) from
/// what AWS holds now, not from state (refresh does not read tags, see the module docs):
/// `ListTagsForResource`, then `TagResource` for new and changed values and `UntagResource` for keys
/// not desired.
pub(crate) async fn sync_tags(
    client: &Client,
    resource_id: &str,
    desired: &Attrs,
) -> Result<(), AwsError> {
    let current: BTreeMap<String, String> = tags_of(client, resource_id)
        .await?
        .into_iter()
        .filter(|(k, _)| k != ADDRESS_TAG && k != LINEAGE_TAG)
        .collect();
    let desired = tag_map(desired, LandfallTags::Keep);
    let set: Vec<(String, String)> = desired
        .iter()
        .filter(|(k, v)| current.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let unset: Vec<String> = current
        .keys()
        .filter(|k| !desired.contains_key(*k))
        .cloned()
        .collect();
    if !set.is_empty() {
        let tags = sdk_tags(set, "TagResource")?;
        call("TagResource", || {
            client
                .tag_resource()
                .resource_id(resource_id)
                .set_tags(Some(tags.clone()))
                .send()
        })
        .await?;
    }
    if !unset.is_empty() {
        call("UntagResource", || {
            client
                .untag_resource()
                .resource_id(resource_id)
                .set_tag_keys(Some(unset.clone()))
                .send()
        })
        .await?;
    }
    Ok(())
}

/// Whether `read` is part of a refresh, where the tags of resources in `ids` are not read (they are
/// compared against state; see the module docs). Outside a refresh (`import`) they are.
pub(crate) fn refreshing(cx: &Cx<'_>) -> bool {
    cx.cache.is_some()
}

/// A [`Live`] whose tags were not read: `tags` is left out of its attributes, so the engine uses
/// state's, and its address and lineage are unknown (it is in state already).
pub(crate) fn live_untagged(id: String, attrs: Attrs) -> Live {
    Live {
        id,
        attrs,
        address: None,
        lineage: None,
    }
}

/// Fills `attrs["tags"]` and the address and lineage of a [`Live`] from a resource's AWS tags.
pub(crate) fn live_with_tags(id: String, mut attrs: Attrs, tags: Vec<(String, String)>) -> Live {
    let (tags, address, lineage) = Live::split_tags(tags);
    attrs.insert("tags".into(), tags);
    Live {
        id,
        attrs,
        address,
        lineage,
    }
}

/// Whether `read` has to look for adoption candidates of `kind` (resources not in state that carry
/// landfall's address tag): always outside a refresh, and during one only when configured resources
/// of the kind are missing from state.
pub(crate) fn adopting(cx: &Cx<'_>, kind: &str) -> bool {
    cx.hints(kind).is_none_or(|h| !h.missing.is_empty())
}

/// Whether a resource's tags say `cx`'s stack created it for `address`: how a create whose answer was
/// lost recognises what AWS did before sending again (see [`crate::aws::call_create`]).
pub(crate) async fn created_here(
    client: &Client,
    cx: &Cx<'_>,
    resource_id: &str,
    address: &str,
) -> Result<Option<Vec<(String, String)>>, AwsError> {
    let tags = tags_of(client, resource_id).await?;
    let ours = tags.iter().any(|(k, v)| k == ADDRESS_TAG && v == address)
        && tags
            .iter()
            .any(|(k, v)| k == LINEAGE_TAG && v == cx.lineage);
    Ok(ours.then_some(tags))
}

/// Whether a tag list carries landfall's address tag.
pub(crate) fn has_address(tags: &[(String, String)]) -> bool {
    tags.iter().any(|(k, _)| k == ADDRESS_TAG)
}

/// The organization's root: its id and the status of each policy type on it.
#[derive(Clone)]
pub(crate) struct Root {
    pub id: String,
    /// `arn:PARTITION:organizations::MANAGEMENT_ACCOUNT:root/ORGANIZATION_ID/ROOT_ID`.
    pub arn: String,
    /// Policy type => ENABLED, PENDING_ENABLE or PENDING_DISABLE.
    pub policy_types: BTreeMap<String, String>,
}

impl Root {
    /// The organization's ARN, id and management account, which the root's ARN embeds.
    pub fn organization(&self) -> Option<(String, String, String)> {
        let (prefix, path) = self.arn.split_once(":root/")?;
        let (partition_part, management) = prefix.rsplit_once("::")?;
        let partition = partition_part.strip_prefix("arn:")?.split(':').next()?;
        let (org_id, _) = path.split_once('/')?;
        Some((
            format!("arn:{partition}:organizations::{management}:organization/{org_id}"),
            org_id.to_string(),
            management.to_string(),
        ))
    }

    /// Whether exactly `want` is ENABLED on the root, with no change pending.
    pub fn settled(&self, want: &BTreeSet<String>) -> bool {
        self.policy_types.values().all(|s| s == "ENABLED")
            && self.policy_types.keys().eq(want.iter())
    }

    /// Policy types enabled on the root, or on their way to it.
    pub fn enabled_policy_types(&self) -> BTreeSet<String> {
        self.policy_types
            .iter()
            .filter(|(_, status)| matches!(status.as_str(), "ENABLED" | "PENDING_ENABLE"))
            .map(|(t, _)| t.clone())
            .collect()
    }
}

/// The organization's root; `None` without an organization.
pub(crate) async fn root(client: &Client) -> Result<Option<Root>, AwsError> {
    let out = match call("ListRoots", || client.list_roots().send()).await {
        Ok(out) => out,
        Err(e) if e.is(NOT_IN_USE) => return Ok(None),
        Err(e) => return Err(e),
    };
    out.roots()
        .first()
        .map(|root| root_of(root, "ListRoots"))
        .transpose()
}

/// The root as an answer of `op` (`ListRoots`, `EnablePolicyType`, ...) gives it.
pub(crate) fn root_of(
    root: &aws_sdk_organizations::types::Root,
    op: &str,
) -> Result<Root, AwsError> {
    let id = root
        .id()
        .ok_or_else(|| AwsError::other(op, "the root has no id"))?;
    let policy_types = root
        .policy_types()
        .iter()
        .filter_map(|t| {
            Some((
                t.r#type()?.as_str().to_string(),
                t.status()?.as_str().to_string(),
            ))
        })
        .collect();
    Ok(Root {
        id: id.to_string(),
        arn: root.arn().unwrap_or_default().to_string(),
        policy_types,
    })
}

/// The OUs directly under a parent (the root or an OU), paginated.
pub(crate) async fn child_ous(
    client: &Client,
    parent_id: &str,
) -> Result<Vec<OrganizationalUnit>, AwsError> {
    let mut ous = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = call("ListOrganizationalUnitsForParent", || {
            client
                .list_organizational_units_for_parent()
                .parent_id(parent_id)
                .set_next_token(token.clone())
                .send()
        })
        .await?;
        ous.extend(out.organizational_units().iter().cloned());
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(ous);
        }
    }
}

/// The accounts directly under a parent (the root or an OU), paginated.
pub(crate) async fn child_accounts(
    client: &Client,
    parent_id: &str,
) -> Result<Vec<Account>, AwsError> {
    let mut accounts = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = call("ListAccountsForParent", || {
            client
                .list_accounts_for_parent()
                .parent_id(parent_id)
                .set_next_token(token.clone())
                .send()
        })
        .await?;
        accounts.extend(out.accounts().iter().cloned());
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(accounts);
        }
    }
}

/// The organization's root ([`root`]), fetched once per refresh; `None` without an organization.
pub(crate) async fn cached_root(cx: &Cx<'_>) -> Result<Arc<Option<Root>>, AwsError> {
    let client = cx.organizations();
    let root = cx
        .cached("organizations:root", || async move { root(&client).await })
        .await?;
    if let Some(known) = root.as_ref() {
        // The run's first sight of the root serves [`run_root`] too.
        let _ = cx.aws.run_memo::<RunRoot>().0.set(Arc::new(known.clone()));
    }
    Ok(root)
}

/// The organization's root as first listed in this run ([`crate::aws::Aws::run_memo`]): its id and ARN do not
/// change while the organization exists (its policy types do: read those with [`root`]).
#[derive(Default)]
struct RunRoot(tokio::sync::OnceCell<Arc<Root>>);

/// The organization's root, listed once per run (see [`RunRoot`]); an error naming `op` without an
/// organization.
pub(crate) async fn run_root(cx: &Cx<'_>, op: &str) -> Result<Arc<Root>, AwsError> {
    let client = cx.organizations();
    let memo = cx.aws.run_memo::<RunRoot>();
    let root = memo
        .0
        .get_or_try_init(|| async {
            root(&client).await?.map(Arc::new).ok_or_else(|| {
                AwsError::other(op, "there is no organization (ListRoots found no root)")
            })
        })
        .await?;
    Ok(root.clone())
}

/// The OUs directly under `parent`, listed once per refresh ([`child_ous`]).
async fn cached_child_ous(
    cx: &Cx<'_>,
    parent: &str,
) -> Result<Arc<Vec<OrganizationalUnit>>, AwsError> {
    let client = cx.organizations();
    cx.cached(&format!("organizations:ous-of:{parent}"), || async move {
        child_ous(&client, parent).await
    })
    .await
}

/// The accounts directly under `parent`, listed once per refresh ([`child_accounts`]).
async fn cached_child_accounts(cx: &Cx<'_>, parent: &str) -> Result<Arc<Vec<Account>>, AwsError> {
    let client = cx.organizations();
    cx.cached(
        &format!("organizations:accounts-of:{parent}"),
        || async move { child_accounts(&client, parent).await },
    )
    .await
}

/// Every OU of the organization with its parent's id, parents before children: one
/// `ListOrganizationalUnitsForParent` per parent (the root and each OU), plus pagination, a level of
/// the tree at a time with all of its listings in flight at once (as many round trips as the tree
/// is deep); each listing is shared through the refresh's cache.
pub(crate) async fn all_ous(
    cx: &Cx<'_>,
    root_id: &str,
) -> Result<Vec<(OrganizationalUnit, String)>, AwsError> {
    let mut found = Vec::new();
    let mut level = vec![root_id.to_string()];
    while !level.is_empty() {
        let listings = join_all(level.iter().map(|p| cached_child_ous(cx, p))).await;
        let mut next = Vec::new();
        for (parent, ous) in level.iter().zip(listings) {
            for ou in ous?.iter() {
                next.extend(ou.id().map(str::to_string));
                found.push((ou.clone(), parent.clone()));
            }
        }
        level = next;
    }
    Ok(found)
}

/// The parents a refresh has to list the children of to find every resource of `kind` in state or
/// missing from it: the `parent_id`s state and configuration give them (a created account starts
/// under the root, so with accounts missing from state the root is listed too). `None` (list the
/// whole tree) outside a refresh, or when a resource's parent is not known.
fn hinted_parents(cx: &Cx<'_>, kind: &str, root: &Root) -> Option<BTreeSet<String>> {
    let hints = cx.hints(kind)?;
    let mut parents = hints.all_strings("parent_id")?;
    if kind == "account" && !hints.missing.is_empty() {
        parents.insert(root.id.clone());
    }
    Some(parents)
}

/// The OUs a read of `organizational_unit` needs, with their parents' ids. During a refresh only the
/// parents that state and configuration place OUs under are listed (all at once) (AWS cannot move an OU, so one
/// absent from its parent is gone); otherwise the whole tree is walked ([`all_ous`]).
pub(crate) async fn ous_to_read(
    cx: &Cx<'_>,
    root: &Root,
) -> Result<Vec<(OrganizationalUnit, String)>, AwsError> {
    let Some(parents) = hinted_parents(cx, "organizational_unit", root) else {
        return all_ous(cx, &root.id).await;
    };
    let parents: Vec<String> = parents.into_iter().collect();
    let listings = join_all(parents.iter().map(|p| cached_child_ous(cx, p))).await;
    let mut found = Vec::new();
    for (parent, listing) in parents.iter().zip(listings) {
        match listing {
            Ok(ous) => found.extend(ous.iter().map(|ou| (ou.clone(), parent.clone()))),
            // The parent OU itself is gone, and so are its children.
            Err(e) if e.is("ParentNotFoundException") => {}
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}

/// The accounts a read of `account` needs, with their parents' ids: one `ListAccountsForParent` per
/// parent (plus pagination). During a refresh only the parents that state and configuration place
/// accounts under are listed, and the caller looks up accounts missing from them
/// ([`moved_account`]); otherwise the root and every OU are.
pub(crate) async fn accounts_to_read(
    cx: &Cx<'_>,
    root: &Root,
) -> Result<(Vec<(Account, String)>, bool), AwsError> {
    let hinted = hinted_parents(cx, "account", root);
    let narrowed = hinted.is_some();
    let parents: Vec<String> = match hinted {
        Some(parents) => parents.into_iter().collect(),
        None => std::iter::once(root.id.clone())
            .chain(
                all_ous(cx, &root.id)
                    .await?
                    .iter()
                    .filter_map(|(ou, _)| ou.id().map(str::to_string)),
            )
            .collect(),
    };
    let listings = join_all(parents.iter().map(|p| cached_child_accounts(cx, p))).await;
    let mut found = Vec::new();
    for (parent, listing) in parents.iter().zip(listings) {
        match listing {
            Ok(accounts) => found.extend(accounts.iter().map(|a| (a.clone(), parent.clone()))),
            Err(e) if e.is("ParentNotFoundException") => {}
            Err(e) => return Err(e),
        }
    }
    Ok((found, narrowed))
}

/// An account that was not under the parent state places it in: `ListParents` and `DescribeAccount`,
/// so a move made outside landfall shows as `parent_id` drift. `None` when it left the organization.
pub(crate) async fn moved_account(
    client: &Client,
    account_id: &str,
) -> Result<Option<(Account, String)>, AwsError> {
    let not_found = |e: &AwsError| {
        e.is("AccountNotFoundException") || e.is("ChildNotFoundException") || e.is(NOT_IN_USE)
    };
    let parent = match parent_of(client, account_id).await {
        Ok(parent) => parent,
        Err(e) if not_found(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let out = match call("DescribeAccount", || {
        client.describe_account().account_id(account_id).send()
    })
    .await
    {
        Ok(out) => out,
        Err(e) if not_found(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(out.account().map(|a| (a.clone(), parent)))
}

/// The single parent (root or OU id) of an account or OU.
pub(crate) async fn parent_of(client: &Client, child_id: &str) -> Result<String, AwsError> {
    let out = call("ListParents", || {
        client.list_parents().child_id(child_id).send()
    })
    .await?;
    out.parents()
        .first()
        .and_then(|p| p.id())
        .map(str::to_string)
        .ok_or_else(|| AwsError::other("ListParents", format!("`{child_id}` has no parent")))
}

/// Splits a composite id `a/b` (attachments, delegated administrators) at its first `/`.
pub(crate) fn split_id<'a>(id: &'a str, op: &str) -> Result<(&'a str, &'a str), AwsError> {
    id.split_once('/')
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
        .ok_or_else(|| AwsError::other(op, format!("malformed id `{id}`: expected `A/B`")))
}
