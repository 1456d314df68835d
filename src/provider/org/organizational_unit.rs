//! Organizational units. Id: the OU id (`ou-...`).
//!
//! `read` lists OUs by parent (`ListRoots`, then `ListOrganizationalUnitsForParent`), so it finds the
//! OUs in `ids` and, by their `landfall:address` tag, OUs landfall created that state lost. During a
//! refresh it lists only the parents that state and configuration place OUs under (AWS cannot move
//! an OU, so an OU absent from its parent's listing is gone); outside one (`import`) it walks the
//! whole tree from the root. Tags are read
//! (one `ListTagsForResource` per OU: Organizations has no batched tag read) only for OUs not in
//! `ids`, the adoption candidates; during a refresh the tags of OUs in `ids` are not read but compared
//! against state (the trade-off is in [`super`]). Outside a refresh (`import`) every OU's tags are read.
//! Cost of a refresh: 1 + one call per distinct parent, plus one per listed OU not in state.
//!
//! A rename is done in place (`UpdateOrganizationalUnit`); AWS cannot move an OU, so a new `parent_id`
//! is a replacement (the schema marks it so). AWS rejects a second OU of the same name under one parent
//! and refuses to delete an OU that still holds accounts or OUs; landfall checks both itself first,
//! with a clear message (moto, the local emulator, allows both). The names under a parent are listed
//! once per run for every OU the run creates there (none under an OU the run created: it starts
//! empty; see [`RunNames`]).

use super::{
    adopting, cached_root, child_accounts, child_ous, created_here, has_address, live_untagged,
    live_with_tags, ous_to_read, parent_of, refreshing, required, sdk_tags, str_attr, sync_tags,
    tags_of,
};
use crate::aws::{AwsError, Created, call, call_create};
use crate::provider::{Attrs, Cx, Live};
use aws_sdk_organizations::Client;
use aws_sdk_organizations::types::OrganizationalUnit;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let client = cx.organizations();
    let root = cached_root(cx).await?;
    let Some(root) = root.as_ref() else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for (ou, parent_id) in ous_to_read(cx, root).await?.iter() {
        let Some(id) = ou.id() else { continue };
        let wanted = ids.iter().any(|i| i == id);
        if wanted && refreshing(cx) {
            let (id, attrs) = attrs_of(ou, parent_id);
            found.push(live_untagged(id, attrs));
            continue;
        }
        if !wanted && !adopting(cx, "organizational_unit") {
            continue;
        }
        let tags = tags_of(&client, id).await?;
        if wanted || has_address(&tags) {
            found.push(live(ou, parent_id, tags));
        }
    }
    Ok(found)
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    const OP: &str = "CreateOrganizationalUnit";
    let client = cx.organizations();
    let name = required(desired, "name", OP)?;
    let parent_id = required(desired, "parent_id", OP)?;
    let names = Names::under(cx, &client, parent_id).await?;
    if let Err(existing_id) = names.reserve(name) {
        return Err(duplicate(address, parent_id, name, &existing_id));
    }
    let created = send_create(cx, &client, address, desired, parent_id, name).await;
    names.settle(name, created.as_ref().ok().map(|(ou, _)| ou));
    let (ou, sent) = created?;
    if sent {
        // A new OU has no children: the names under it need no listing.
        Names::new_parent(cx, &ou.id);
    }
    Ok(ou)
}

/// `CreateOrganizationalUnit` with the creation tags, recognising an OU it created whose answer was
/// lost (by its tags, from a fresh listing); `true` when AWS answered the request itself.
async fn send_create(
    cx: &Cx<'_>,
    client: &Client,
    address: &str,
    desired: &Attrs,
    parent_id: &str,
    name: &str,
) -> Result<(Live, bool), AwsError> {
    const OP: &str = "CreateOrganizationalUnit";
    let tags = cx.creation_tags(address, desired);
    let sdk_tags = sdk_tags(tags.clone(), OP)?;
    let outcome = call_create(
        OP,
        || {
            client
                .create_organizational_unit()
                .parent_id(parent_id)
                .name(name)
                .set_tags(Some(sdk_tags.clone()))
                .send()
        },
        || async {
            for ou in child_ous(client, parent_id).await? {
                if ou.name() == Some(name)
                    && created_here(client, cx, ou.id().unwrap_or_default(), address)
                        .await?
                        .is_some()
                {
                    return Ok(Some(ou));
                }
            }
            Ok(None)
        },
    )
    .await?;
    let (ou, sent) = match outcome {
        Created::Sent(out) => (out.organizational_unit().cloned(), true),
        Created::Found(ou) => (Some(ou), false),
    };
    let ou = &ou.ok_or_else(|| AwsError::other(OP, "AWS returned no organizational unit"))?;
    if ou.id().is_none() {
        return Err(AwsError::other(OP, "AWS returned an OU without an id"));
    }
    Ok((live(ou, parent_id, tags), sent))
}

/// AWS's refusal of a second OU named `name` under `parent_id` (`existing_id` empty: one this run
/// is creating), with what to do.
fn duplicate(address: &str, parent_id: &str, name: &str, existing_id: &str) -> AwsError {
    let message = if existing_id.is_empty() {
        format!(
            "this run is creating another OU named `{name}` under {parent_id}; OU names are unique \
             per parent: rename one of them"
        )
    } else {
        format!(
            "{parent_id} already holds an OU named `{name}` ({existing_id}); to manage it, run \
             `landfall import {address} {existing_id}`"
        )
    };
    AwsError {
        code: Some("DuplicateOrganizationalUnitException".into()),
        ..AwsError::other("CreateOrganizationalUnit", message)
    }
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    const OP: &str = "UpdateOrganizationalUnit";
    let client = cx.organizations();
    if str_attr(current, "parent_id") != str_attr(desired, "parent_id") {
        return Err(AwsError::other(
            OP,
            format!("AWS cannot move OU {id} to another parent; it must be replaced"),
        ));
    }
    let name = required(desired, "name", OP)?;
    if str_attr(current, "name") != Some(name) {
        call(OP, || {
            client
                .update_organizational_unit()
                .organizational_unit_id(id)
                .name(name)
                .send()
        })
        .await?;
        if let Some(parent_id) = str_attr(current, "parent_id") {
            Names::renamed(cx, parent_id, id, name);
        }
    }
    sync_tags(&client, id, desired).await?;
    read_one(&client, id).await
}

pub async fn delete(cx: &Cx<'_>, id: &str, current: &Attrs) -> Result<(), AwsError> {
    let deleted = delete_ou(cx, id).await;
    if deleted.is_ok() {
        Names::deleted(cx, str_attr(current, "parent_id").unwrap_or_default(), id);
    }
    deleted
}

/// `DeleteOrganizationalUnit` once the OU is empty (checked first: moto deletes a non-empty one).
async fn delete_ou(cx: &Cx<'_>, id: &str) -> Result<(), AwsError> {
    const OP: &str = "DeleteOrganizationalUnit";
    let client = cx.organizations();
    let gone = |e: &AwsError| {
        e.is("OrganizationalUnitNotFoundException") || e.is("ParentNotFoundException")
    };
    let (accounts, ous) = match (
        child_accounts(&client, id).await,
        child_ous(&client, id).await,
    ) {
        (Ok(a), Ok(o)) => (a, o),
        (Err(e), _) | (_, Err(e)) if gone(&e) => return Ok(()),
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    if !accounts.is_empty() || !ous.is_empty() {
        let children: Vec<&str> = accounts
            .iter()
            .filter_map(|a| a.id())
            .chain(ous.iter().filter_map(|o| o.id()))
            .collect();
        return Err(AwsError {
            code: Some("OrganizationalUnitNotEmptyException".into()),
            ..AwsError::other(
                OP,
                format!(
                    "OU {id} still holds {}; move or delete them first (closed accounts stay in \
                     their OU until AWS removes them)",
                    children.join(", ")
                ),
            )
        });
    }
    match call(OP, || {
        client
            .delete_organizational_unit()
            .organizational_unit_id(id)
            .send()
    })
    .await
    {
        Err(e) if gone(&e) => Ok(()),
        other => other.map(|_| ()),
    }
}

/// The OU names under each parent this run creates OUs under, by name (the OU's id; empty while
/// this run is creating it): AWS refuses a second OU of a name under one parent (and moto does
/// not), so landfall checks first, with one `ListOrganizationalUnitsForParent` per parent per run
/// ([`crate::aws::Aws::run_memo`]) instead of one per OU created. Kept current with what the run
/// creates, renames and deletes; an OU created meanwhile outside landfall is refused by AWS itself.
#[derive(Default)]
struct RunNames(Mutex<HashMap<String, Arc<Names>>>);

/// The OU names under one parent (see [`RunNames`]); listed on first use.
#[derive(Default)]
struct Names(OnceCell<Mutex<HashMap<String, String>>>);

impl Names {
    /// The names under `parent_id`, listed the first time this run asks.
    async fn under(cx: &Cx<'_>, client: &Client, parent_id: &str) -> Result<Arc<Names>, AwsError> {
        let names = Names::of(cx, parent_id);
        names
            .0
            .get_or_try_init(|| async {
                let ous = child_ous(client, parent_id).await?;
                let by_name = ous
                    .iter()
                    .filter_map(|ou| Some((ou.name()?.to_string(), ou.id()?.to_string())))
                    .collect();
                Ok::<_, AwsError>(Mutex::new(by_name))
            })
            .await?;
        Ok(names)
    }

    /// The entry of `parent_id`, listed or not.
    fn of(cx: &Cx<'_>, parent_id: &str) -> Arc<Names> {
        let memo = cx.aws.run_memo::<RunNames>();
        let mut parents = memo.0.lock().unwrap();
        parents.entry(parent_id.to_string()).or_default().clone()
    }

    /// A parent this run just created: it holds no OU yet.
    fn new_parent(cx: &Cx<'_>, parent_id: &str) {
        let _ = Names::of(cx, parent_id).0.set(Mutex::default());
    }

    /// Takes `name` for an OU this run is about to create; `Err(the id holding it)` when taken.
    fn reserve(&self, name: &str) -> Result<(), String> {
        let Some(mut names) = self.listed() else {
            return Ok(()); // not listed: [`Names::under`] always lists first
        };
        match names.get(name) {
            Some(id) => Err(id.clone()),
            None => {
                names.insert(name.to_string(), String::new());
                Ok(())
            }
        }
    }

    /// Records how a reserved creation ended: the new OU's id, or the name freed again.
    fn settle(&self, name: &str, created: Option<&Live>) {
        let Some(mut names) = self.listed() else {
            return;
        };
        match created {
            Some(ou) => names.insert(name.to_string(), ou.id.clone()),
            None => names.remove(name),
        };
    }

    /// OU `id` under `parent_id` now has `name`.
    fn renamed(cx: &Cx<'_>, parent_id: &str, id: &str, name: &str) {
        if let Some(mut names) = Names::of(cx, parent_id).listed() {
            names.retain(|_, held| held != id);
            names.insert(name.to_string(), id.to_string());
        }
    }

    /// OU `id` under `parent_id` is gone.
    fn deleted(cx: &Cx<'_>, parent_id: &str, id: &str) {
        if let Some(mut names) = Names::of(cx, parent_id).listed() {
            names.retain(|_, held| held != id);
        }
    }

    /// The names, when listed already.
    fn listed(&self) -> Option<std::sync::MutexGuard<'_, HashMap<String, String>>> {
        Some(self.0.get()?.lock().unwrap())
    }
}

/// One OU, read directly: `DescribeOrganizationalUnit`, `ListParents`, `ListTagsForResource`.
async fn read_one(client: &Client, id: &str) -> Result<Live, AwsError> {
    let out = call("DescribeOrganizationalUnit", || {
        client
            .describe_organizational_unit()
            .organizational_unit_id(id)
            .send()
    })
    .await?;
    let ou = out.organizational_unit().ok_or_else(|| {
        AwsError::other(
            "DescribeOrganizationalUnit",
            format!("OU {id} not returned"),
        )
    })?;
    let parent_id = parent_of(client, id).await?;
    let tags = tags_of(client, id).await?;
    Ok(live(ou, &parent_id, tags))
}

fn live(ou: &OrganizationalUnit, parent_id: &str, tags: Vec<(String, String)>) -> Live {
    let (id, attrs) = attrs_of(ou, parent_id);
    live_with_tags(id, attrs, tags)
}

/// An OU's id and its attributes but `tags`.
fn attrs_of(ou: &OrganizationalUnit, parent_id: &str) -> (String, Attrs) {
    let id = ou.id().unwrap_or_default().to_string();
    let mut attrs = Attrs::new();
    attrs.insert("name".into(), ou.name().unwrap_or_default().into());
    attrs.insert("parent_id".into(), parent_id.into());
    attrs.insert("id".into(), id.clone().into());
    attrs.insert("arn".into(), ou.arn().unwrap_or_default().into());
    (id, attrs)
}
