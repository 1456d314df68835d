//! `kms_alias`: a friendly name (`alias/...`) pointing at a KMS key.
//!
//! The id is the alias name, unique per account and region, so an alias missing from state is
//! recognised by its name (aliases take no tags). `read` is one ListAliases pass (all pages) per
//! account and region, shared by every alias read of a refresh. The name forces a replacement; the
//! target key changes in place (UpdateAlias).

use crate::aws::{AwsError, call};
use crate::provider::attrs::{ignore_not_found, required};
use crate::provider::{Attrs, Cx, Live, paginate};
use aws_sdk_kms::Client;
use aws_sdk_kms::types::AliasListEntry;
use std::collections::BTreeSet;

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let kms = cx.kms().await?;
    let wanted: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
    let aliases = cx.cached("kms:ListAliases", || list(&kms)).await?;
    Ok(aliases
        .iter()
        .filter(|a| a.alias_name().is_some_and(|n| wanted.contains(n)))
        .map(to_live)
        .collect())
}

/// Every alias of the account and region (ListAliases, all pages).
async fn list(kms: &Client) -> Result<Vec<AliasListEntry>, AwsError> {
    paginate(|marker| async move {
        let out = call("ListAliases", || {
            kms.list_aliases().set_marker(marker.clone()).send()
        })
        .await?;
        let next = out
            .truncated()
            .then(|| out.next_marker().map(str::to_string));
        Ok((out.aliases().to_vec(), next.flatten()))
    })
    .await
}

fn to_live(alias: &AliasListEntry) -> Live {
    let name = alias.alias_name().unwrap_or_default();
    let mut attrs = Attrs::new();
    attrs.insert("name".into(), name.into());
    attrs.insert(
        "target_key_id".into(),
        alias.target_key_id().unwrap_or_default().into(),
    );
    attrs.insert("id".into(), name.into());
    attrs.insert("arn".into(), alias.alias_arn().unwrap_or_default().into());
    Live {
        id: name.to_string(),
        attrs,
        address: None,
        lineage: None,
    }
}

pub async fn create(cx: &Cx<'_>, _address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let kms = cx.kms().await?;
    let name = required(desired, "name", "CreateAlias")?;
    let target = required(desired, "target_key_id", "CreateAlias")?;
    let created = call("CreateAlias", || {
        kms.create_alias()
            .alias_name(name)
            .target_key_id(target)
            .send()
    })
    .await;
    match created {
        Ok(_) => {}
        // A retry after a lost answer finds the alias it made: pointed at the same key, it is ours.
        Err(e) if e.is("AlreadyExistsException") => {
            let found = list(&kms).await?;
            let same = found.iter().any(|a| {
                a.alias_name() == Some(name)
                    && a.target_key_id().is_some_and(|t| key_matches(t, target))
            });
            if !same {
                return Err(e);
            }
        }
        Err(e) => return Err(e),
    }
    after(&kms, name).await
}

/// Whether the key id an alias reports is the configured target (given as a key id or key ARN).
fn key_matches(reported: &str, configured: &str) -> bool {
    reported == configured || configured.ends_with(&format!("key/{reported}"))
}

/// The alias as ListAliases reports it after a change (its ARN and the target key's id).
async fn after(kms: &Client, name: &str) -> Result<Live, AwsError> {
    list(kms)
        .await?
        .iter()
        .find(|a| a.alias_name() == Some(name))
        .map(to_live)
        .ok_or_else(|| {
            AwsError::other(
                "ListAliases",
                format!("alias {name} not found after the change"),
            )
        })
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    _current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    let kms = cx.kms().await?;
    let target = required(desired, "target_key_id", "UpdateAlias")?;
    call("UpdateAlias", || {
        kms.update_alias()
            .alias_name(id)
            .target_key_id(target)
            .send()
    })
    .await?;
    after(&kms, id).await
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let kms = cx.kms().await?;
    ignore_not_found(call("DeleteAlias", || kms.delete_alias().alias_name(id).send()).await)
        .map(drop)
}
