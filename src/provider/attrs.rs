//! Reading attribute values and tags, the same way for every kind family (EC2, IAM, Organizations).
//! One helper per meaning: a kind that needs another meaning adds it here, under its own name.

use super::Attrs;
use crate::aws::AwsError;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// A string attribute, if present and a string.
pub(crate) fn str_attr<'a>(attrs: &'a Attrs, name: &str) -> Option<&'a str> {
    attrs.get(name).and_then(Value::as_str)
}

/// A string attribute where absent (or not a string) reads as `""`, the schema's default for optional
/// strings.
pub(crate) fn str_or_empty<'a>(attrs: &'a Attrs, name: &str) -> &'a str {
    str_attr(attrs, name).unwrap_or_default()
}

/// A string attribute the operation `op` cannot do without: absent or empty is an error naming both.
pub(crate) fn required<'a>(attrs: &'a Attrs, name: &str, op: &str) -> Result<&'a str, AwsError> {
    str_attr(attrs, name)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AwsError::other(op, format!("attribute `{name}` is not set")))
}

/// A list-of-strings attribute as a sorted set (absent = empty; items that are not strings are skipped).
/// A fresh client token for one create, sent again unchanged when its answer is lost (RAM and EC2
/// accept up to 64 characters).
pub(crate) fn client_token() -> String {
    use rand::Rng;
    let n: u128 = rand::rng().random();
    format!("landfall-{n:032x}")
}

/// The added and removed members from `current`'s to `desired`'s string set `name`, each `None` when
/// empty (the shape of the SDK's optional Add*/Remove* lists).
pub(crate) fn set_delta(
    current: &Attrs,
    desired: &Attrs,
    name: &str,
) -> (Option<Vec<String>>, Option<Vec<String>>) {
    let (have, want) = (string_set(current, name), string_set(desired, name));
    let list = |a: &BTreeSet<String>, b: &BTreeSet<String>| {
        let diff: Vec<String> = a.difference(b).cloned().collect();
        (!diff.is_empty()).then_some(diff)
    };
    (list(&want, &have), list(&have, &want))
}

pub(crate) fn string_set(attrs: &Attrs, name: &str) -> BTreeSet<String> {
    attrs
        .get(name)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// Whether [`tag_map`] keeps landfall's own tags (`landfall:address`, `landfall:lineage`, any
/// `landfall:*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LandfallTags {
    /// For tags that come from the configuration, which cannot hold them.
    Keep,
    /// For tags to compare or change: landfall's own are set at creation and never changed after.
    Drop,
}

/// The `tags` attribute as a sorted map (absent = empty).
pub(crate) fn tag_map(attrs: &Attrs, landfall: LandfallTags) -> BTreeMap<String, String> {
    attrs
        .get("tags")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(k, _)| landfall == LandfallTags::Keep || !is_landfall_tag(k))
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect()
}

/// landfall's own tag keys: `landfall:address`, `landfall:lineage`, and any other `landfall:*`.
pub(crate) fn is_landfall_tag(key: &str) -> bool {
    key.starts_with("landfall:")
}

/// "Not found" as success (`None`): deleting or detaching something already gone is done.
pub(crate) fn ignore_not_found<T>(result: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(value: Value) -> Attrs {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn string_attributes_read_absent_and_empty_by_meaning() {
        let a = attrs(json!({"name": "dev", "empty": "", "n": 3}));
        assert_eq!(str_attr(&a, "name"), Some("dev"));
        assert_eq!(str_attr(&a, "n"), None);
        assert_eq!(str_attr(&a, "missing"), None);
        assert_eq!(str_or_empty(&a, "missing"), "");
        assert_eq!(required(&a, "name", "Op").unwrap(), "dev");
        let e = required(&a, "empty", "CreateVpc").unwrap_err();
        assert_eq!(e.operation, "CreateVpc");
        assert!(e.message.contains("`empty`"), "{}", e.message);
        assert!(required(&a, "missing", "Op").is_err());
    }

    #[test]
    fn a_string_set_is_sorted_and_deduplicated() {
        let a = attrs(json!({"arns": ["b", "a", "b", 1]}));
        let set: Vec<String> = string_set(&a, "arns").into_iter().collect();
        assert_eq!(set, ["a", "b"]);
        assert!(string_set(&a, "missing").is_empty());
    }

    #[test]
    fn landfall_tags_are_kept_or_dropped_as_asked() {
        let a = attrs(json!({"tags": {
            "team": "net", "landfall:address": "s.vpc.a", "landfall:lineage": "l", "landfall:x": "y"
        }}));
        let dropped = tag_map(&a, LandfallTags::Drop);
        assert_eq!(dropped.keys().collect::<Vec<_>>(), ["team"]);
        assert_eq!(tag_map(&a, LandfallTags::Keep).len(), 4);
        assert!(tag_map(&attrs(json!({})), LandfallTags::Drop).is_empty());
        assert!(
            is_landfall_tag(super::super::ADDRESS_TAG)
                && is_landfall_tag(super::super::LINEAGE_TAG)
        );
        assert!(!is_landfall_tag("landfall") && !is_landfall_tag("team:landfall:x"));
    }

    #[test]
    fn not_found_is_none_and_other_errors_stay() {
        let gone = AwsError {
            code: Some("NoSuchEntity".into()),
            ..AwsError::other("DeleteRole", "gone")
        };
        assert_eq!(ignore_not_found::<()>(Err(gone)).unwrap(), None);
        assert_eq!(ignore_not_found(Ok(3)).unwrap(), Some(3));
        let denied = AwsError {
            code: Some("AccessDenied".into()),
            ..AwsError::other("DeleteRole", "no")
        };
        assert!(ignore_not_found::<()>(Err(denied)).is_err());
    }
}
