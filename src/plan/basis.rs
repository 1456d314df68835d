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
use crate::provider::Live;
use crate::resolve::{Instance, Known, Resolved};
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
    /// Records what the refresh found, taking it over (not a copy: at 26,000 resources what AWS
    /// reported is as large as the state).
    pub fn record(
        live: HashMap<String, Option<Live>>,
        adopted: HashMap<String, Live>,
        duplicates: HashMap<String, Vec<String>>,
        mut copies: HashMap<String, Vec<Live>>,
    ) -> Observations {
        for list in copies.values_mut() {
            list.sort_by(|a: &Live, b: &Live| a.id.cmp(&b.id));
        }
        Observations {
            live: live.into_iter().collect(),
            adopted: adopted.into_iter().collect(),
            duplicates: duplicates.into_iter().collect(),
            copies: copies.into_iter().collect(),
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
        .map(|stack| (stack.clone(), stack_digest(resolved, stack)))
        .collect()
}

/// One digest over every stack's (the plan's `config_digest`).
pub fn combined(digests: &IndexMap<String, String>) -> String {
    digest(&serde_json::json!(digests))
}

/// The digest of everything of one stack's resolved configuration a plan depends on: the canonical
/// form of `{"resources": [...], "outputs": {...}, "depends_on": [...]}`, hashed as it is written,
/// one resource at a time (at 26,000 resources the whole document and its canonical copy held
/// 180 MB at once).
fn stack_digest(resolved: &Resolved, stack: &str) -> String {
    let instances = stack_instances(resolved, stack);
    let (outputs, waits) = (stack_outputs(resolved, stack), stack_waits(resolved, stack));
    // Keys in sorted order, as `canonical` puts them.
    let mut hash = Hashing::default();
    hash.write(b"{\"depends_on\":");
    hash.json(&serde_json::json!(waits));
    hash.write(b",\"outputs\":");
    hash.json(&Json::Object(outputs));
    hash.write(b",\"resources\":[");
    for (n, i) in instances.into_iter().enumerate() {
        if n > 0 {
            hash.write(b",");
        }
        hash.json(&resource_document(resolved, i));
    }
    hash.write(b"]}");
    hash.finish()
}

/// The stack's resources, by address, for its digest.
fn stack_instances<'a>(resolved: &'a Resolved, stack: &str) -> Vec<&'a Instance> {
    let mut instances: Vec<&Instance> = resolved
        .instances
        .iter()
        .filter(|i| i.stack == stack)
        .collect();
    instances.sort_by(|a, b| a.address.cmp(&b.address));
    instances
}

/// The stack's outputs, as far as known, for its digest.
fn stack_outputs(resolved: &Resolved, stack: &str) -> serde_json::Map<String, Json> {
    resolved
        .outputs
        .get(stack)
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
        .unwrap_or_default()
}

/// The stacks the stack's `depends_on` waits for, for its digest.
fn stack_waits<'a>(resolved: &'a Resolved, stack: &str) -> Vec<&'a str> {
    resolved
        .stack_deps
        .iter()
        .filter(|(s, _)| s == stack)
        .map(|(_, on)| on.as_str())
        .collect()
}

/// One resource of a stack's document (see [`stack_digest`]).
fn resource_document(resolved: &Resolved, i: &Instance) -> Json {
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
}

/// SHA-256 over JSON written in canonical form, piece by piece.
#[derive(Default)]
struct Hashing(sha2::Sha256);

impl Hashing {
    fn write(&mut self, bytes: &[u8]) {
        use sha2::Digest;
        self.0.update(bytes);
    }

    /// Writes `value` with every object's keys sorted (compact, as `serde_json::to_string`).
    fn json(&mut self, value: &Json) {
        serde_json::to_writer(&mut *self, &Canonical(value)).expect("hashing cannot fail");
    }

    fn finish(self) -> String {
        use sha2::Digest;
        self.0
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

impl std::io::Write for Hashing {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Hashing::write(self, buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A JSON value serialized with every object's keys sorted, without copying it.
struct Canonical<'a>(&'a Json);

impl Serialize for Canonical<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            Json::Object(map) => {
                let mut entries: Vec<(&String, &Json)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                let mut out = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    out.serialize_entry(k, &Canonical(v))?;
                }
                out.end()
            }
            Json::Array(items) => {
                let mut out = serializer.serialize_seq(Some(items.len()))?;
                for v in items {
                    out.serialize_element(&Canonical(v))?;
                }
                out.end()
            }
            other => other.serialize(serializer),
        }
    }
}

/// SHA-256 of a JSON value with every object's keys sorted (the order attributes were written in
/// does not matter; the order of list elements does).
fn digest(value: &Json) -> String {
    let mut hash = Hashing::default();
    hash.json(value);
    hash.finish()
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

    /// The digest as it was computed before it was hashed as written: the whole stack as one JSON
    /// value, copied with sorted keys, printed, hashed. Plans saved before must still verify.
    fn whole_document_digest(resolved: &Resolved, stack: &str) -> String {
        fn sorted(value: &Json) -> Json {
            match value {
                Json::Object(map) => {
                    let keys: BTreeMap<&String, Json> =
                        map.iter().map(|(k, v)| (k, sorted(v))).collect();
                    Json::Object(keys.into_iter().map(|(k, v)| (k.clone(), v)).collect())
                }
                Json::Array(items) => Json::Array(items.iter().map(sorted).collect()),
                other => other.clone(),
            }
        }
        let resources: Vec<Json> = stack_instances(resolved, stack)
            .into_iter()
            .map(|i| resource_document(resolved, i))
            .collect();
        let (outputs, waits) = (stack_outputs(resolved, stack), stack_waits(resolved, stack));
        let document =
            serde_json::json!({ "resources": resources, "outputs": outputs, "depends_on": waits });
        use sha2::{Digest, Sha256};
        Sha256::digest(sorted(&document).to_string().as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn stack_digests_are_those_of_the_whole_document() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let loaded = crate::load::load(root, "sandbox").unwrap();
        let resolved = crate::resolve::resolve(loaded).1.unwrap();
        let digests = config_digests(&resolved);
        assert!(digests.len() > 1);
        for (stack, digest) in &digests {
            assert_eq!(digest, &whole_document_digest(&resolved, stack), "{stack}");
        }
    }

    #[test]
    fn the_digest_hashes_the_compact_json_with_sorted_keys() {
        use sha2::{Digest, Sha256};
        let value = serde_json::json!({"b": {"y": null, "x": [1, 2.5]}, "a": "é\"\n"});
        let text = r#"{"a":"é\"\n","b":{"x":[1,2.5],"y":null}}"#;
        let expected: String = Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(digest(&value), expected);
    }
}
