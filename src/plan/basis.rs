//! What a plan was derived from, recorded in the plan so that `apply FILE` can derive it again and
//! refuse any difference (see [`super::verify`]).
//!
//! A saved plan comes from a pipeline its reviewers do not control, so the file is never trusted:
//! apply resolves the configuration it has, reads state, refreshes, and derives the plan again with
//! the same code. The basis says what that derivation must find to be the plan's own:
//! - per stack ([`super::Basis`]): the state's lineage and serial, and a digest of the stack's
//!   *resolved* desired configuration ([`config_digests`]): every resource's address, kind, account,
//!   region, attribute values, dependencies and lifecycle settings, and the stack's outputs. Resolved
//!   resources are hashed, not files: a comment, a reformat or a variable moved to another file
//!   changes nothing, while an edit of a module, a shared variable or a policy file changes the
//!   digest of every stack it lands in;
//! - [`Derivation::options`]: what was asked for (targets, excludes, stacks, replacements, destroy,
//!   account closure, refresh);
//! - [`Derivation::remote_outputs`]: the outputs of the other environments' stacks that
//!   `remote.ENV.STACK.OUTPUT` references read;
//! - [`Derivation::observed`]: what the refresh found, as the diff read it.

use super::Filter;
use super::diff::Observed;
use crate::provider::Live;
use crate::resolve::{Known, Resolved};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap};

/// The plan's inputs beside configuration and state (see the module doc).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Derivation {
    pub options: Options,
    /// `ENV.STACK` → the outputs read from another environment's stack for `remote.ENV.STACK.OUTPUT`
    /// references (null: that stack had no state).
    pub remote_outputs: BTreeMap<String, Json>,
    pub observed: Observations,
}

/// The options a plan was made with: apply derives the plan again with the same ones.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Options {
    #[serde(flatten)]
    pub filter: Filter,
    /// Whether AWS was read (`--refresh=false`: planned from state alone).
    pub refresh: bool,
}

/// What the refresh found, as the diff read it ([`Observed`] without state), sorted by address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Observations {
    /// Every resource in state that was read: what AWS has (null: gone).
    pub live: BTreeMap<String, Option<Live>>,
    /// Configured resources missing from state, found in AWS by their `landfall:address` tag.
    pub adopted: BTreeMap<String, Live>,
    /// Configured resources missing from state whose address tag several live resources carry.
    pub duplicates: BTreeMap<String, Vec<String>>,
    /// Copies beside resources in state (the same address tag), by that address.
    pub copies: BTreeMap<String, Vec<Live>>,
}

impl Observations {
    pub fn record(observed: &Observed) -> Observations {
        fn sorted<T: Clone>(map: &HashMap<String, T>) -> BTreeMap<String, T> {
            map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
        }
        let mut copies = sorted(observed.copies);
        for list in copies.values_mut() {
            list.sort_by(|a: &Live, b: &Live| a.id.cmp(&b.id));
        }
        Observations {
            live: sorted(observed.live),
            adopted: sorted(observed.adopted),
            duplicates: sorted(observed.duplicates),
            copies,
        }
    }
}

/// The outputs of other environments' stacks as resolution read them (`remote.ENV.STACK.OUTPUT`),
/// by `ENV.STACK` (null: no state there).
pub fn remote_values(known: &Known) -> BTreeMap<String, Json> {
    let read = known
        .remote_outputs
        .iter()
        .map(|(k, outputs)| (k, Json::Object(outputs.clone())));
    let missing = known.remote_missing.keys().map(|k| (k, Json::Null));
    read.chain(missing)
        .map(|((env, stack), value)| (format!("{env}.{stack}"), value))
        .collect()
}

/// A SHA-256 digest of each stack's resolved desired configuration (see the module doc), by stack.
pub fn config_digests(resolved: &Resolved) -> IndexMap<String, String> {
    resolved
        .stacks
        .iter()
        .map(|stack| (stack.clone(), digest(&stack_document(resolved, stack))))
        .collect()
}

/// One digest over every stack's (the plan's `config_digest`).
pub fn combined(digests: &IndexMap<String, String>) -> String {
    digest(&serde_json::json!(digests))
}

/// Everything of one stack's resolved configuration a plan depends on, as one JSON value.
fn stack_document(resolved: &Resolved, stack: &str) -> Json {
    let mut resources: Vec<Json> = resolved
        .instances
        .iter()
        .filter(|i| i.stack == stack)
        .map(|i| {
            let mut deps: Vec<&str> = i
                .deps
                .iter()
                .map(|d| resolved.instances[d.0 as usize].address.as_str())
                .collect();
            deps.sort_unstable();
            serde_json::json!({
                "address": i.address,
                "kind": i.kind.name,
                "account": i.account.to_json(),
                "region": i.region,
                "attributes": super::desired_json(i),
                "depends_on": deps,
                "prevent_destroy": i.prevent_destroy,
                "ignore_changes": i.ignore_changes,
            })
        })
        .collect();
    resources.sort_by(|a, b| a["address"].as_str().cmp(&b["address"].as_str()));
    let outputs: serde_json::Map<String, Json> = resolved
        .outputs
        .get(stack)
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
        .unwrap_or_default();
    let waits: Vec<&str> = resolved
        .stack_deps
        .iter()
        .filter(|(s, _)| s == stack)
        .map(|(_, on)| on.as_str())
        .collect();
    serde_json::json!({ "resources": resources, "outputs": outputs, "depends_on": waits })
}

/// SHA-256 of a JSON value with every object's keys sorted (the order attributes were written in
/// does not matter; the order of list elements does).
fn digest(value: &Json) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(canonical(value).to_string().as_bytes());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn canonical(value: &Json) -> Json {
    match value {
        Json::Object(map) => {
            let sorted: BTreeMap<&String, Json> =
                map.iter().map(|(k, v)| (k, canonical(v))).collect();
            Json::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Json::Array(items) => Json::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_ignores_key_order_but_not_list_order() {
        let a = serde_json::json!({"a": 1, "b": {"x": [1, 2], "y": null}});
        let b = serde_json::json!({"b": {"y": null, "x": [1, 2]}, "a": 1});
        let c = serde_json::json!({"a": 1, "b": {"x": [2, 1], "y": null}});
        assert_eq!(digest(&a), digest(&b));
        assert_ne!(digest(&a), digest(&c));
    }
}
