//! `iam_oidc_provider`: an IAM OpenID Connect identity provider (a CI system such as GitLab or GitHub
//! Actions, whose pipelines assume roles through `sts:AssumeRoleWithWebIdentity`).
//!
//! The id is the provider's **ARN** (`arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH`), which every
//! provider API takes. IAM allows one provider per URL in an account, so `url` forces a replacement;
//! client ids, thumbprints and tags change in place.
//!
//! `read` costs one `ListOpenIDConnectProviders` (the ARNs only; IAM has no batch read of providers)
//! plus one `GetOpenIDConnectProvider` per provider state knows or, during a refresh, per provider
//! whose URL a configured provider missing from state has (to find its `landfall:address` tag). An
//! account holds a handful of providers, so that stays a few requests per account.
//!
//! IAM answers the URL without its scheme; it is reported with `https://`, as configured.

use super::{
    ignore_not_found, object, sdk_tags, set_changes, string_list, string_set, tag_changes,
    tag_pairs, take_over, wanted,
};
use crate::aws::{AwsError, call};
use crate::provider::attrs::required;
use crate::provider::{Attrs, Cx, Live};
use aws_sdk_iam::Client;
use serde_json::json;
use std::collections::BTreeSet;

/// The kind's name, for its refresh hints.
const KIND: &str = "iam_oidc_provider";

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let iam = cx.iam().await?;
    let ids: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
    let out = call("ListOpenIDConnectProviders", || {
        iam.list_open_id_connect_providers().send()
    })
    .await?;
    let adopt = adoption_paths(cx);
    let mut found = Vec::new();
    for arn in out
        .open_id_connect_provider_list()
        .iter()
        .filter_map(|p| p.arn())
    {
        let path = arn.split_once(":oidc-provider/").map_or("", |(_, p)| p);
        let to_adopt = adopt
            .as_ref()
            .is_some_and(|paths| paths.is_empty() || paths.contains(&path.to_ascii_lowercase()));
        if !ids.contains(arn) && !to_adopt {
            continue;
        }
        // Deleted between the listing and this read: simply absent.
        let Some(live) = get(&iam, arn).await? else {
            continue;
        };
        if wanted(&ids, arn, live.address.as_deref()) {
            found.push(live);
        }
    }
    Ok(found)
}

/// The URL paths (lower case, without scheme) of configured providers missing from state, whose
/// providers a refresh reads to find their address tag: `None` when there are none (or outside a
/// refresh), empty when one's URL is not known yet (then every provider is read).
fn adoption_paths(cx: &Cx<'_>) -> Option<BTreeSet<String>> {
    let missing = &cx.hints(KIND)?.missing;
    if missing.is_empty() {
        return None;
    }
    let urls: Option<BTreeSet<String>> = missing
        .iter()
        .map(|attrs| attrs.get("url").and_then(|v| v.as_str()).map(url_path))
        .collect();
    Some(urls.unwrap_or_default())
}

/// A provider URL as IAM keys it: without `https://`, without a trailing `/`, lower case.
pub(crate) fn url_path(url: &str) -> String {
    let rest = url.strip_prefix("https://").unwrap_or(url);
    rest.trim_end_matches('/').to_ascii_lowercase()
}

/// One provider by ARN (`None`: it does not exist).
async fn get(iam: &Client, arn: &str) -> Result<Option<Live>, AwsError> {
    let out = ignore_not_found(
        call("GetOpenIDConnectProvider", || {
            iam.get_open_id_connect_provider()
                .open_id_connect_provider_arn(arn)
                .send()
        })
        .await,
    )?;
    let Some(out) = out else {
        return Ok(None);
    };
    let (tags, address, lineage) = Live::split_tags(tag_pairs(out.tags()));
    let attrs = object(json!({
        "url": format!("https://{}", out.url().unwrap_or_default()),
        "client_id_list": string_list(out.client_id_list().iter().map(String::as_str)),
        "thumbprint_list": string_list(out.thumbprint_list().iter().map(String::as_str)),
        "tags": tags,
        "id": arn,
        "arn": arn,
    }));
    Ok(Some(Live {
        id: arn.to_string(),
        attrs,
        address,
        lineage,
    }))
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    let iam = cx.iam().await?;
    let url = required(desired, "url", "CreateOpenIDConnectProvider")?;
    let tags = sdk_tags(
        cx.creation_tags(address, desired),
        "CreateOpenIDConnectProvider",
    )?;
    let created = call("CreateOpenIDConnectProvider", || {
        iam.create_open_id_connect_provider()
            .url(url)
            .set_client_id_list(Some(
                string_set(desired, "client_id_list").into_iter().collect(),
            ))
            .set_thumbprint_list(Some(
                string_set(desired, "thumbprint_list").into_iter().collect(),
            ))
            .set_tags(Some(tags.clone()))
            .send()
    })
    .await;
    let arn = match created {
        Ok(out) => out
            .open_id_connect_provider_arn()
            .unwrap_or_default()
            .to_string(),
        // A retry after an answer lost on its way back, or a provider for this URL made before: it is
        // landfall's only if it carries this address and lineage.
        Err(e) if e.is("EntityAlreadyExists") => {
            let arn = arn_of_url(&iam, url).await?.ok_or_else(|| e.clone())?;
            let live = get(&iam, &arn).await?.ok_or_else(|| e.clone())?;
            let mine = [
                (crate::provider::ADDRESS_TAG, live.address.clone()),
                (crate::provider::LINEAGE_TAG, live.lineage.clone()),
            ];
            let pairs = mine
                .into_iter()
                .filter_map(|(k, v)| Some((k.to_string(), v?)));
            take_over(e, pairs.collect(), cx, address, "OIDC provider", &arn)?;
            arn
        }
        Err(e) => return Err(e),
    };
    Ok(Live {
        address: Some(address.to_string()),
        lineage: Some(cx.lineage.to_string()),
        ..applied(&arn, desired)
    })
}

/// The ARN of the account's provider for `url`, if there is one.
async fn arn_of_url(iam: &Client, url: &str) -> Result<Option<String>, AwsError> {
    let out = call("ListOpenIDConnectProviders", || {
        iam.list_open_id_connect_providers().send()
    })
    .await?;
    let suffix = format!(":oidc-provider/{}", url_path(url));
    Ok(out
        .open_id_connect_provider_list()
        .iter()
        .filter_map(|p| p.arn())
        .find(|arn| arn.to_ascii_lowercase().ends_with(&suffix))
        .map(str::to_string))
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    let iam = cx.iam().await?;
    let thumbprints = string_set(desired, "thumbprint_list");
    if thumbprints != string_set(current, "thumbprint_list") {
        call("UpdateOpenIDConnectProviderThumbprint", || {
            iam.update_open_id_connect_provider_thumbprint()
                .open_id_connect_provider_arn(id)
                .set_thumbprint_list(Some(thumbprints.iter().cloned().collect()))
                .send()
        })
        .await?;
    }
    sync_client_ids(&iam, id, current, desired).await?;
    sync_tags(&iam, id, current, desired).await?;
    Ok(applied(id, desired))
}

/// Adds the client ids (audiences) `desired` has and `current` lacks, then removes the extra ones.
async fn sync_client_ids(
    iam: &Client,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<(), AwsError> {
    let changes = set_changes(
        &string_set(current, "client_id_list"),
        &string_set(desired, "client_id_list"),
    );
    for client in &changes.put {
        call("AddClientIDToOpenIDConnectProvider", || {
            iam.add_client_id_to_open_id_connect_provider()
                .open_id_connect_provider_arn(id)
                .client_id(client)
                .send()
        })
        .await?;
    }
    for client in &changes.remove {
        call("RemoveClientIDFromOpenIDConnectProvider", || {
            iam.remove_client_id_from_open_id_connect_provider()
                .open_id_connect_provider_arn(id)
                .client_id(client)
                .send()
        })
        .await?;
    }
    Ok(())
}

async fn sync_tags(
    iam: &Client,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<(), AwsError> {
    let tags = tag_changes(current, desired);
    if !tags.put.is_empty() {
        let put = sdk_tags(tags.put, "TagOpenIDConnectProvider")?;
        call("TagOpenIDConnectProvider", || {
            iam.tag_open_id_connect_provider()
                .open_id_connect_provider_arn(id)
                .set_tags(Some(put.clone()))
                .send()
        })
        .await?;
    }
    if !tags.remove.is_empty() {
        call("UntagOpenIDConnectProvider", || {
            iam.untag_open_id_connect_provider()
                .open_id_connect_provider_arn(id)
                .set_tag_keys(Some(tags.remove.clone()))
                .send()
        })
        .await?;
    }
    Ok(())
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let iam = cx.iam().await?;
    ignore_not_found(
        call("DeleteOpenIDConnectProvider", || {
            iam.delete_open_id_connect_provider()
                .open_id_connect_provider_arn(id)
                .send()
        })
        .await,
    )
    .map(drop)
}

/// The provider as it is after a create or update applied `desired`.
fn applied(arn: &str, desired: &Attrs) -> Live {
    let attrs = super::applied_attrs(desired, arn, arn);
    let mut attrs = attrs;
    for list in ["client_id_list", "thumbprint_list"] {
        let items = string_set(desired, list);
        attrs.insert(list.into(), string_list(items.iter().map(String::as_str)));
    }
    Live {
        id: arn.to_string(),
        attrs,
        address: None,
        lineage: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_compare_without_scheme_case_or_trailing_slash() {
        assert_eq!(
            url_path("https://GitLab.example.com/"),
            "gitlab.example.com"
        );
        assert_eq!(
            url_path("https://token.actions.githubusercontent.com"),
            "token.actions.githubusercontent.com"
        );
        assert_eq!(url_path("example.com/a"), "example.com/a");
    }
}
