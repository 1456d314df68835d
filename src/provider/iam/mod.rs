//! IAM kinds: groups, roles, customer managed policies, the password policy and the account alias.
//!
//! IAM is global: one home per account, whatever the location's region. Groups, roles and policies are
//! read in bulk through `GetAccountAuthorizationDetails` (see [`account_details`]), never one call per
//! resource: during a refresh one paginated listing of all three entity types per account, shared by the
//! three kinds' reads; outside refresh one per read, of the kind's own entity type.
//!
//! This module holds what the kinds share: reading attribute values out of [`Attrs`], decoding the
//! URL-encoded documents IAM returns, diffing exclusive sets (managed policy attachments), exclusive maps
//! (inline policies) and tags, and the attach/put/detach/delete calls that are the same for roles and
//! groups apart from their names ([`Principal`]).

pub mod account_alias;
pub mod group;
pub mod oidc_provider;
pub mod password_policy;
pub mod policy;
pub mod role;

use crate::aws::{AwsError, call};
pub(crate) use crate::provider::attrs::{
    LandfallTags, ignore_not_found, str_or_empty, string_set, tag_map,
};
use crate::provider::doc::canonical;
use crate::provider::{Attrs, Cx};
use aws_sdk_iam::Client;
use aws_sdk_iam::types::{EntityType, GroupDetail, ManagedPolicyDetail, RoleDetail, Tag};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

// ---- Lost answers -------------------------------------------------------------------------------------

/// After a create's retry got `EntityAlreadyExists` (the first answer was lost on its way back, so AWS
/// may have created it), whether the existing entity is landfall's: its tags carry this address and
/// the stack's lineage. Otherwise `existing` is returned with how to import the entity (`what`, e.g.
/// `role`, by `import_id`).
pub(crate) fn take_over(
    existing: AwsError,
    tags: Vec<(String, String)>,
    cx: &Cx<'_>,
    address: &str,
    what: &str,
    import_id: &str,
) -> Result<(), AwsError> {
    let (_, tagged, lineage) = crate::provider::Live::split_tags(tags);
    if tagged.as_deref() == Some(address) && lineage.as_deref() == Some(cx.lineage) {
        return Ok(());
    }
    Err(AwsError {
        message: format!(
            "{}; to manage the existing {what}, run `landfall import {address} {import_id}`",
            existing.message
        ),
        ..existing
    })
}

// ---- Attribute values ---------------------------------------------------------------------------------

/// A whole-number attribute, if set (configuration numbers may arrive as floats).
pub(crate) fn int_attr(attrs: &Attrs, name: &str) -> Option<i32> {
    let n = attrs.get(name)?.as_f64()?;
    (n.fract() == 0.0 && n >= f64::from(i32::MIN) && n <= f64::from(i32::MAX)).then_some(n as i32)
}

/// A boolean attribute, or `default` when unset.
pub(crate) fn bool_attr(attrs: &Attrs, name: &str, default: bool) -> bool {
    attrs.get(name).and_then(Value::as_bool).unwrap_or(default)
}

/// A map attribute (`inline_policies`: name → document; `tags`: key → value).
fn map_attr<'a>(attrs: &'a Attrs, name: &str) -> impl Iterator<Item = (&'a String, &'a Value)> {
    attrs
        .get(name)
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
}

/// A sorted JSON list of strings, the form `managed_policy_arns` is reported in.
pub(crate) fn string_list<'a>(items: impl IntoIterator<Item = &'a str>) -> Value {
    let set: BTreeSet<&str> = items.into_iter().collect();
    Value::Array(set.into_iter().map(Value::from).collect())
}

/// `Some` for a non-empty string: optional API parameters are left out rather than sent empty.
pub(crate) fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// The object inside a JSON value built with `json!({...})`.
pub(crate) fn object(value: Value) -> Attrs {
    match value {
        Value::Object(map) => map,
        _ => Attrs::new(),
    }
}

/// The attributes of a resource just created or updated to `desired`, in the form `read` reports them
/// (attachments sorted, landfall's tags left out), plus the computed `id` and `arn`.
pub(crate) fn applied_attrs(desired: &Attrs, id: &str, arn: &str) -> Attrs {
    let mut attrs = desired.clone();
    if attrs.contains_key("managed_policy_arns") {
        let managed = string_set(desired, "managed_policy_arns");
        attrs.insert(
            "managed_policy_arns".into(),
            string_list(managed.iter().map(String::as_str)),
        );
    }
    if attrs.contains_key("tags") {
        let tags = tag_map(desired, LandfallTags::Drop)
            .into_iter()
            .map(|(k, v)| (k, v.into()));
        attrs.insert("tags".into(), Value::Object(tags.collect()));
    }
    attrs.insert("id".into(), id.into());
    attrs.insert("arn".into(), arn.into());
    attrs
}

// ---- Documents -------------------------------------------------------------------------------------------

/// The text to send IAM for a document attribute: JSON text as written, a table serialized.
pub(crate) fn document_text(doc: &Value) -> String {
    match doc {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A document as IAM returns it (URL-encoded JSON text; some emulators send it plain) as a JSON value.
/// Text that is not JSON is kept as a string, so it still compares unequal to any real document.
pub(crate) fn decode_document(text: &str) -> Value {
    if let Ok(value) = serde_json::from_str(text) {
        return value;
    }
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .ok()
        .and_then(|decoded| serde_json::from_str(&decoded).ok())
        .unwrap_or_else(|| Value::String(text.to_string()))
}

/// Whether two documents mean the same, however they are written.
pub(crate) fn same_document(a: &Value, b: &Value) -> bool {
    canonical(a) == canonical(b)
}

// ---- Diffs ------------------------------------------------------------------------------------------------

/// What to change to turn one exclusive collection into another.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Changes<T> {
    /// To add, or to overwrite.
    pub put: Vec<T>,
    /// Keys to remove.
    pub remove: Vec<String>,
}

/// Exclusive set: add what is missing, remove what is extra.
pub(crate) fn set_changes(
    current: &BTreeSet<String>,
    desired: &BTreeSet<String>,
) -> Changes<String> {
    Changes {
        put: desired.difference(current).cloned().collect(),
        remove: current.difference(desired).cloned().collect(),
    }
}

/// Exclusive map of documents (inline policies): put what is missing or differs in meaning, delete what is
/// extra. The documents to put are returned as text, ready to send.
pub(crate) fn document_changes(current: &Attrs, desired: &Attrs) -> Changes<(String, String)> {
    let have: BTreeMap<&String, &Value> = map_attr(current, "inline_policies").collect();
    let want: BTreeMap<&String, &Value> = map_attr(desired, "inline_policies").collect();
    Changes {
        put: want
            .iter()
            .filter(|(name, doc)| !have.get(*name).is_some_and(|old| same_document(old, doc)))
            .map(|(name, doc)| ((*name).clone(), document_text(doc)))
            .collect(),
        remove: have
            .keys()
            .filter(|name| !want.contains_key(*name))
            .map(|name| (*name).clone())
            .collect(),
    }
}

/// Tags to set (new or changed values) and keys to remove; landfall's own tags are never touched.
pub(crate) fn tag_changes(current: &Attrs, desired: &Attrs) -> Changes<(String, String)> {
    let have = tag_map(current, LandfallTags::Drop);
    let want = tag_map(desired, LandfallTags::Drop);
    Changes {
        put: want
            .iter()
            .filter(|(k, v)| have.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        remove: have
            .keys()
            .filter(|k| !want.contains_key(*k))
            .cloned()
            .collect(),
    }
}

/// Tags for an IAM request.
pub(crate) fn sdk_tags(
    tags: impl IntoIterator<Item = (String, String)>,
    operation: &str,
) -> Result<Vec<Tag>, AwsError> {
    tags.into_iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| AwsError::other(operation, e.to_string()))
        })
        .collect()
}

/// Tags from an IAM response, as (key, value) pairs for [`crate::provider::Live::split_tags`].
pub(crate) fn tag_pairs(tags: &[Tag]) -> Vec<(String, String)> {
    tags.iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

/// Whether `read` reports a resource: its id was asked for, or it carries landfall's address tag.
pub(crate) fn wanted(ids: &BTreeSet<&str>, id: &str, address: Option<&str>) -> bool {
    ids.contains(id) || address.is_some()
}

// ---- Bulk read ------------------------------------------------------------------------------------------

/// Everything `GetAccountAuthorizationDetails` reported for the entity types asked for, all pages.
#[derive(Default)]
pub(crate) struct AuthorizationDetails {
    pub roles: Vec<RoleDetail>,
    pub groups: Vec<GroupDetail>,
    pub policies: Vec<ManagedPolicyDetail>,
}

/// The entity types of the listing the reads of one refresh share: everything `iam_role`, `iam_group`
/// and `iam_policy` read.
const SHARED_ENTITIES: [EntityType; 3] = [
    EntityType::Role,
    EntityType::Group,
    EntityType::LocalManagedPolicy,
];

/// The listing of roles, groups and policies the three kinds' reads share during a refresh.
pub(crate) const SHARED_LISTING: &str = "iam:GetAccountAuthorizationDetails";

/// The authorization details a read of `own` (one of [`SHARED_ENTITIES`]) needs. During a refresh
/// ([`Cx::cache`] set) that is one listing of roles, groups and customer managed policies together,
/// fetched once per account and shared by the three kinds' reads; otherwise only `own`, fetched afresh.
pub(crate) async fn account_details(
    cx: &Cx<'_>,
    iam: &Client,
    own: EntityType,
) -> Result<Arc<AuthorizationDetails>, AwsError> {
    if cx.cache.is_none() {
        return Ok(Arc::new(authorization_details(iam, &[own]).await?));
    }
    cx.cached(SHARED_LISTING, || {
        authorization_details(iam, &SHARED_ENTITIES)
    })
    .await
}

/// Reads every entity of the given types in the account, with attachments, inline policies and
/// documents, in as many calls as there are pages (follows `Marker` while `IsTruncated`).
pub(crate) async fn authorization_details(
    iam: &Client,
    filters: &[EntityType],
) -> Result<AuthorizationDetails, AwsError> {
    let mut details = AuthorizationDetails::default();
    let mut marker: Option<String> = None;
    loop {
        let out = call("GetAccountAuthorizationDetails", || {
            iam.get_account_authorization_details()
                .set_filter(Some(filters.to_vec()))
                .set_marker(marker.clone())
                .send()
        })
        .await?;
        details.roles.extend(out.role_detail_list().iter().cloned());
        details
            .groups
            .extend(out.group_detail_list().iter().cloned());
        details.policies.extend(out.policies().iter().cloned());
        match out.marker() {
            Some(next) if out.is_truncated() => marker = Some(next.to_string()),
            _ => return Ok(details),
        }
    }
}

// ---- Roles and groups alike --------------------------------------------------------------------------

/// A role or a group: what managed and inline policies are attached to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Principal<'a> {
    Role(&'a str),
    Group(&'a str),
}

impl Principal<'_> {
    async fn attach(&self, iam: &Client, arn: &str) -> Result<(), AwsError> {
        match *self {
            Principal::Role(name) => {
                call("AttachRolePolicy", || {
                    iam.attach_role_policy()
                        .role_name(name)
                        .policy_arn(arn)
                        .send()
                })
                .await?;
            }
            Principal::Group(name) => {
                call("AttachGroupPolicy", || {
                    iam.attach_group_policy()
                        .group_name(name)
                        .policy_arn(arn)
                        .send()
                })
                .await?;
            }
        }
        Ok(())
    }

    /// Detaches a managed policy; one that is not attached (any more) is fine.
    async fn detach(&self, iam: &Client, arn: &str) -> Result<(), AwsError> {
        let result = match *self {
            Principal::Role(name) => call("DetachRolePolicy", || {
                iam.detach_role_policy()
                    .role_name(name)
                    .policy_arn(arn)
                    .send()
            })
            .await
            .map(drop),
            Principal::Group(name) => call("DetachGroupPolicy", || {
                iam.detach_group_policy()
                    .group_name(name)
                    .policy_arn(arn)
                    .send()
            })
            .await
            .map(drop),
        };
        ignore_not_found(result).map(drop)
    }

    async fn put_inline(&self, iam: &Client, policy: &str, document: &str) -> Result<(), AwsError> {
        match *self {
            Principal::Role(name) => {
                call("PutRolePolicy", || {
                    iam.put_role_policy()
                        .role_name(name)
                        .policy_name(policy)
                        .policy_document(document)
                        .send()
                })
                .await?;
            }
            Principal::Group(name) => {
                call("PutGroupPolicy", || {
                    iam.put_group_policy()
                        .group_name(name)
                        .policy_name(policy)
                        .policy_document(document)
                        .send()
                })
                .await?;
            }
        }
        Ok(())
    }

    /// Deletes an inline policy; one that is already gone is fine.
    async fn delete_inline(&self, iam: &Client, policy: &str) -> Result<(), AwsError> {
        let result = match *self {
            Principal::Role(name) => call("DeleteRolePolicy", || {
                iam.delete_role_policy()
                    .role_name(name)
                    .policy_name(policy)
                    .send()
            })
            .await
            .map(drop),
            Principal::Group(name) => call("DeleteGroupPolicy", || {
                iam.delete_group_policy()
                    .group_name(name)
                    .policy_name(policy)
                    .send()
            })
            .await
            .map(drop),
        };
        ignore_not_found(result).map(drop)
    }

    /// The managed policies attached right now, asked of IAM (for deletion, which must not trust state).
    async fn attached_now(&self, iam: &Client) -> Result<Vec<String>, AwsError> {
        let mut arns = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let (page, truncated, next) = match *self {
                Principal::Role(name) => {
                    let out = call("ListAttachedRolePolicies", || {
                        iam.list_attached_role_policies()
                            .role_name(name)
                            .set_marker(marker.clone())
                            .send()
                    })
                    .await?;
                    let arns = out.attached_policies().iter();
                    let page: Vec<String> = arns
                        .filter_map(|p| p.policy_arn().map(str::to_string))
                        .collect();
                    (page, out.is_truncated(), out.marker().map(str::to_string))
                }
                Principal::Group(name) => {
                    let out = call("ListAttachedGroupPolicies", || {
                        iam.list_attached_group_policies()
                            .group_name(name)
                            .set_marker(marker.clone())
                            .send()
                    })
                    .await?;
                    let arns = out.attached_policies().iter();
                    let page: Vec<String> = arns
                        .filter_map(|p| p.policy_arn().map(str::to_string))
                        .collect();
                    (page, out.is_truncated(), out.marker().map(str::to_string))
                }
            };
            arns.extend(page);
            match next {
                Some(next) if truncated => marker = Some(next),
                _ => return Ok(arns),
            }
        }
    }

    /// The names of the inline policies right now, asked of IAM.
    async fn inline_now(&self, iam: &Client) -> Result<Vec<String>, AwsError> {
        let mut names = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let (page, truncated, next) = match *self {
                Principal::Role(name) => {
                    let out = call("ListRolePolicies", || {
                        iam.list_role_policies()
                            .role_name(name)
                            .set_marker(marker.clone())
                            .send()
                    })
                    .await?;
                    (
                        out.policy_names().to_vec(),
                        out.is_truncated(),
                        out.marker().map(str::to_string),
                    )
                }
                Principal::Group(name) => {
                    let out = call("ListGroupPolicies", || {
                        iam.list_group_policies()
                            .group_name(name)
                            .set_marker(marker.clone())
                            .send()
                    })
                    .await?;
                    (
                        out.policy_names().to_vec(),
                        out.is_truncated(),
                        out.marker().map(str::to_string),
                    )
                }
            };
            names.extend(page);
            match next {
                Some(next) if truncated => marker = Some(next),
                _ => return Ok(names),
            }
        }
    }

    /// Makes the attachments and inline policies exactly the desired ones, from the current ones.
    /// New inline policies are put before extra attachments are detached, so permissions never dip
    /// more than the change requires.
    pub(crate) async fn sync_permissions(
        &self,
        iam: &Client,
        current: &Attrs,
        desired: &Attrs,
    ) -> Result<(), AwsError> {
        // An update compares with what is attached now, not with state: a managed policy replaced
        // in this run under the same ARN (a new description) was detached by its deletion, while
        // state still lists it. A create (nothing current) has nothing attached yet.
        let attached = if current.contains_key("managed_policy_arns") {
            self.attached_now(iam).await?.into_iter().collect()
        } else {
            BTreeSet::new()
        };
        let attachments = set_changes(&attached, &string_set(desired, "managed_policy_arns"));
        let inline = document_changes(current, desired);
        for arn in &attachments.put {
            self.attach(iam, arn).await?;
        }
        for (name, document) in &inline.put {
            self.put_inline(iam, name, document).await?;
        }
        for arn in &attachments.remove {
            self.detach(iam, arn).await?;
        }
        for name in &inline.remove {
            self.delete_inline(iam, name).await?;
        }
        Ok(())
    }

    /// Detaches every managed policy and deletes every inline policy, as IAM reports them now.
    pub(crate) async fn strip_permissions(&self, iam: &Client) -> Result<(), AwsError> {
        for arn in self.attached_now(iam).await? {
            self.detach(iam, &arn).await?;
        }
        for name in self.inline_now(iam).await? {
            self.delete_inline(iam, &name).await?;
        }
        Ok(())
    }
}

/// The inline policies of a role or group from its authorization details, as a name → document map.
pub(crate) fn inline_policies<'a>(
    policies: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> Value {
    Value::Object(
        policies
            .into_iter()
            .filter_map(|(name, doc)| Some((name?.to_string(), decode_document(doc?))))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(value: Value) -> Attrs {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn documents_decode_from_url_encoding_and_plain_text() {
        let plain = r#"{"Version":"2012-10-17"}"#;
        assert_eq!(decode_document(plain), json!({"Version": "2012-10-17"}));
        let encoded = "%7B%22Version%22%3A%20%222012-10-17%22%7D";
        assert_eq!(decode_document(encoded), json!({"Version": "2012-10-17"}));
        assert_eq!(decode_document("not json"), json!("not json"));
    }

    #[test]
    fn inline_changes_compare_by_meaning() {
        let current = attrs(json!({"inline_policies": {
            "same": r#"{"Statement":{"Action":["s3:*"],"Effect":"Allow"}}"#,
            "changed": {"Statement": [{"Effect": "Allow", "Action": "s3:*"}]},
            "extra": {"Statement": []},
        }}));
        let desired = attrs(json!({"inline_policies": {
            "same": {"Statement": [{"Effect": "Allow", "Action": "s3:*"}]},
            "changed": {"Statement": [{"Effect": "Deny", "Action": "s3:*"}]},
            "new": {"Statement": []},
        }}));
        let changes = document_changes(&current, &desired);
        let put: Vec<&str> = changes.put.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(put, ["changed", "new"]);
        assert_eq!(changes.remove, ["extra"]);
    }

    #[test]
    fn tag_changes_never_touch_landfall_tags() {
        let current = attrs(json!({"tags": {"a": "1", "b": "2", "landfall:address": "x"}}));
        let desired = attrs(json!({"tags": {"a": "1", "b": "3", "c": "4"}}));
        let changes = tag_changes(&current, &desired);
        assert_eq!(
            changes.put,
            [("b".to_string(), "3".to_string()), ("c".into(), "4".into())]
        );
        assert!(changes.remove.is_empty());
    }

    #[test]
    fn set_changes_are_exclusive() {
        let current: BTreeSet<String> = ["a", "b"].map(String::from).into();
        let desired: BTreeSet<String> = ["b", "c"].map(String::from).into();
        let changes = set_changes(&current, &desired);
        assert_eq!(changes.put, ["c"]);
        assert_eq!(changes.remove, ["a"]);
    }

    #[test]
    fn whole_numbers_read_from_floats() {
        let a = attrs(json!({"n": 3600.0, "m": 1.5}));
        assert_eq!(int_attr(&a, "n"), Some(3600));
        assert_eq!(int_attr(&a, "m"), None);
    }
}
