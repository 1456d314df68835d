//! EC2 networking: VPCs, subnets, gateways, route tables, security groups and the default VPC.
//!
//! Every kind reads in batches: one `Describe*` pass filtered on landfall's `landfall:address` tag key
//! and, only for asked-for ids that pass did not return, one filtered on those ids (filters, not id
//! lists, so an id that no longer exists does not fail the whole call), with pagination followed whether
//! or not the server returns a token. In steady state every known resource carries the tag, so a read is
//! one pass per kind, account and region. Results are also checked on the client side, so a server that
//! ignores a filter (moto ignores `tag-key` for NAT gateways) still yields exactly the resources asked
//! for. VPCs are the exception: `vpc` and `default_vpc` share one unfiltered DescribeVpcs listing per
//! refresh (see [`vpc::listing`]).
//!
//! Shared here: filters, pagination, tag conversion and tag updates, attribute accessors and polling.

pub mod default_vpc;
pub mod flow_log;
pub mod internet_gateway;
pub mod nat_gateway;
pub mod route_table;
pub mod security_group;
pub mod subnet;
pub mod vpc;
pub mod vpc_endpoint;

use crate::aws::{AwsError, call};
pub(super) use crate::provider::attrs::{LandfallTags, ignore_not_found, required, tag_map};
pub(super) use crate::provider::paginate;
use crate::provider::{ADDRESS_TAG, Attrs, LINEAGE_TAG, Live};
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use serde_json::Value;
use std::collections::HashSet;
use std::future::Future;
use std::time::{Duration, Instant};

/// At most this many values in one filter (AWS's limit for EC2 filters).
const FILTER_VALUES: usize = 200;

/// An EC2 filter.
pub(super) fn filter<S: Into<String>>(name: &str, values: impl IntoIterator<Item = S>) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.into_iter().map(Into::into).collect()))
        .build()
}

/// The batched read every kind does: `describe(filter)` (one paginated `Describe*` pass) with the
/// address-tag filter, then, only for the ids that pass did not return, with `id_filter` (in chunks of
/// [`FILTER_VALUES`]). In steady state every known resource carries the address tag, so a read costs one
/// pass. Keeps resources that carry the address tag or have one of `ids`, each once. `key` gives a
/// resource's id and tags.
pub(super) async fn describe_batched<T, F, Fut, K>(
    ids: &[String],
    id_filter: &str,
    mut describe: F,
    key: K,
) -> Result<Vec<T>, AwsError>
where
    F: FnMut(Filter) -> Fut,
    Fut: Future<Output = Result<Vec<T>, AwsError>>,
    K: Fn(&T) -> (Option<&str>, &[Tag]),
{
    let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let keep = |items: Vec<T>, seen: &mut HashSet<String>, out: &mut Vec<T>| {
        for item in items {
            let (Some(id), tags) = key(&item) else {
                continue;
            };
            let ours = wanted.contains(id) || has_address_tag(tags);
            if ours && seen.insert(id.to_string()) {
                out.push(item);
            }
        }
    };
    let tagged = describe(filter("tag-key", [ADDRESS_TAG])).await?;
    keep(tagged, &mut seen, &mut out);
    // Ids the tag pass did not return: untagged (created outside landfall, or the tag removed) or gone.
    let mut missing: Vec<&str> = ids
        .iter()
        .map(String::as_str)
        .filter(|id| !seen.contains(*id))
        .collect();
    missing.sort_unstable();
    missing.dedup();
    for chunk in missing.chunks(FILTER_VALUES) {
        let items = describe(filter(id_filter, chunk.iter().copied())).await?;
        keep(items, &mut seen, &mut out);
    }
    Ok(out)
}

/// Of the resources `describe` returns for `cx`'s lineage tag, the one created for `address`: what
/// [`crate::aws::call_create`] looks for after an unanswered create.
///
/// The filter is on the lineage (a UUID) and the address is compared here: EC2 filter values are
/// patterns, and an address holds `[`, `]` and `"` (`module.net["a"].vpc.this`), which the emulator
/// reads as a character class (no match), so a lost answer there became a second resource.
pub(super) async fn find_created<T, Fut>(
    cx: &crate::provider::Cx<'_>,
    address: &str,
    describe: impl FnOnce(Filter) -> Fut,
    tags_of: impl Fn(&T) -> &[Tag],
) -> Result<Option<T>, AwsError>
where
    Fut: Future<Output = Result<Vec<T>, AwsError>>,
{
    let found = describe(filter(&format!("tag:{LINEAGE_TAG}"), [cx.lineage])).await?;
    let has = |tags: &[Tag], key: &str, value: &str| {
        tags.iter()
            .any(|t| t.key() == Some(key) && t.value() == Some(value))
    };
    Ok(found.into_iter().find(|item| {
        let tags = tags_of(item);
        has(tags, LINEAGE_TAG, cx.lineage) && has(tags, ADDRESS_TAG, address)
    }))
}

pub(super) fn has_address_tag(tags: &[Tag]) -> bool {
    tags.iter().any(|t| t.key() == Some(ADDRESS_TAG))
}

fn tag_pairs(tags: &[Tag]) -> impl Iterator<Item = (String, String)> + '_ {
    tags.iter().map(|t| {
        (
            t.key().unwrap_or_default().to_string(),
            t.value().unwrap_or_default().to_string(),
        )
    })
}

/// A `Live` from its id, its other attributes and its AWS tags: sets `id` and `tags` in the attributes
/// and lifts landfall's own tags into `address` and `lineage`.
pub(super) fn live(id: &str, mut attrs: Attrs, tags: &[Tag]) -> Live {
    let (tags, address, lineage) = Live::split_tags(tag_pairs(tags));
    attrs.insert("id".into(), id.into());
    attrs.insert("tags".into(), tags);
    Live {
        id: id.to_string(),
        attrs,
        address,
        lineage,
    }
}

/// A `Live` for a resource just created with `tags` (from [`crate::provider::Cx::creation_tags`]).
pub(super) fn created(id: &str, attrs: Attrs, tags: &[(String, String)]) -> Live {
    live(id, attrs, &to_tags(tags))
}

fn to_tags(tags: &[(String, String)]) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// Tags to set when creating a resource of the given type.
pub(super) fn tag_spec(resource_type: ResourceType, tags: &[(String, String)]) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(resource_type)
        .set_tags(Some(to_tags(tags)))
        .build()
}

/// Brings a resource's tags from `current` to `desired`: CreateTags for new and changed values,
/// DeleteTags for removed keys. landfall's own tags are never touched.
pub(super) async fn update_tags(
    ec2: &Client,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<(), AwsError> {
    let (current, desired) = (
        tag_map(current, LandfallTags::Drop),
        tag_map(desired, LandfallTags::Drop),
    );
    let set: Vec<Tag> = desired
        .iter()
        .filter(|(k, v)| current.get(*k) != Some(*v))
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    let removed: Vec<Tag> = current
        .keys()
        .filter(|k| !desired.contains_key(*k))
        .map(|k| Tag::builder().key(k).build())
        .collect();
    if !set.is_empty() {
        call("CreateTags", || {
            ec2.create_tags()
                .resources(id)
                .set_tags(Some(set.clone()))
                .send()
        })
        .await?;
    }
    if !removed.is_empty() {
        call("DeleteTags", || {
            ec2.delete_tags()
                .resources(id)
                .set_tags(Some(removed.clone()))
                .send()
        })
        .await?;
    }
    Ok(())
}

/// An optional string attribute; `None` when absent, null or empty.
pub(super) fn opt_str<'a>(
    attrs: &'a serde_json::Map<String, Value>,
    name: &str,
) -> Option<&'a str> {
    attrs
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// A bool attribute, or the schema's default when absent.
pub(super) fn bool_attr(attrs: &Attrs, name: &str, default: bool) -> bool {
    attrs.get(name).and_then(Value::as_bool).unwrap_or(default)
}

/// A list-of-strings attribute (empty when absent).
pub(super) fn str_list(attrs: &serde_json::Map<String, Value>, name: &str) -> Vec<String> {
    attrs
        .get(name)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// A list-of-objects attribute (empty when absent).
pub(super) fn object_list<'a>(
    attrs: &'a Attrs,
    name: &str,
) -> impl Iterator<Item = &'a serde_json::Map<String, Value>> {
    attrs
        .get(name)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
}

/// The error for a resource that vanished while being changed.
pub(super) fn gone(op: &str, what: &str, id: &str) -> AwsError {
    AwsError {
        operation: op.to_string(),
        code: Some(format!("{what}.NotFound")),
        message: format!("{what} {id} does not exist"),
        status: None,
        transient: false,
    }
}

/// The ARN partition of a region.
pub(super) fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// Polls `check` until it returns a value, with growing pauses (1 s up to 15 s), for at most `limit`.
pub(super) async fn poll<T, F, Fut>(op: &str, limit: Duration, mut check: F) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, AwsError>>,
{
    let deadline = Instant::now() + limit;
    let mut pause = Duration::from_secs(1);
    loop {
        if let Some(done) = check().await? {
            return Ok(done);
        }
        if Instant::now() + pause > deadline {
            return Err(AwsError::other(
                op,
                format!("still not done after {} s", limit.as_secs()),
            ));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(15));
    }
}
