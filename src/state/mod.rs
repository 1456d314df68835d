//! State: what landfall created, one JSON document per (environment, stack), and the backends that keep
//! it (local files or S3) with a lock beside each document.
//!
//! A document has a `lineage` (random, fixed at its first write) and a `serial` (incremented by every
//! write). A saved plan records both; `apply` refuses the plan when either moved. Writes are conditional on
//! the version that was read (an ETag), so a writer that lost its lock can never overwrite newer state.

mod backend;
mod journal;
mod lock_wait;
mod moves;

pub use backend::{Backend, BackendConfig, LockInfo, StateError, Stored};
pub use journal::{Batch, Entry};
pub use moves::{MoveError, Moved, check_shapes, move_addresses};

use crate::provider::Attrs;
use serde::{Deserialize, Serialize};

pub const FORMAT_VERSION: u32 = 1;

/// The state of one stack of one environment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct State {
    pub format_version: u32,
    pub lineage: String,
    pub serial: u64,
    pub environment: String,
    pub stack: String,
    pub resources: Vec<ResourceState>,
    /// The stack's outputs as of the last apply.
    #[serde(default)]
    pub outputs: serde_json::Map<String, serde_json::Value>,
    /// Long-running creates that were started but not confirmed yet.
    #[serde(default)]
    pub pending: Vec<Pending>,
    /// Resources replaced create-before-destroy whose old copy is not deleted yet (the run was
    /// interrupted between the create and the delete). The next plan deletes them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deposed: Vec<ResourceState>,
    /// The journal of the apply that wrote this document, while it runs (or when it died): its
    /// batches of changes, beside the document, are part of the state. [`Backend::read`] replays
    /// them; only an apply's checkpoints set it (see the `journal` module).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal: Option<String>,
}

/// One managed resource.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ResourceState {
    pub address: String,
    pub kind: String,
    pub id: String,
    /// The account it lives in; `None` for the management account.
    pub account: Option<String>,
    pub region: Option<String>,
    /// Every attribute as AWS last confirmed it, computed ones included.
    pub attributes: Attrs,
    /// Addresses of the resources it depended on when it was last applied; destroy order comes from here.
    #[serde(default)]
    pub dependencies: Vec<String>,
}

/// A create that AWS accepted but has not finished (e.g. an account creation request).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Pending {
    pub address: String,
    pub operation: String,
    pub request_id: String,
    /// RFC 3339.
    pub started: String,
}

impl State {
    pub fn new(environment: &str, stack: &str) -> State {
        State {
            format_version: FORMAT_VERSION,
            lineage: new_lineage(),
            serial: 0,
            environment: environment.to_string(),
            stack: stack.to_string(),
            resources: Vec::new(),
            outputs: serde_json::Map::new(),
            pending: Vec::new(),
            deposed: Vec::new(),
            journal: None,
        }
    }

    pub fn resource(&self, address: &str) -> Option<&ResourceState> {
        self.resources.iter().find(|r| r.address == address)
    }

    /// Inserts or replaces the resource with the same address.
    pub fn put(&mut self, resource: ResourceState) {
        match self
            .resources
            .iter_mut()
            .find(|r| r.address == resource.address)
        {
            Some(slot) => *slot = resource,
            None => self.resources.push(resource),
        }
    }

    pub fn remove(&mut self, address: &str) -> Option<ResourceState> {
        let i = self.resources.iter().position(|r| r.address == address)?;
        Some(self.resources.remove(i))
    }

    /// The resource `address` with AWS id `id`: the current one, or a deposed copy of a replacement.
    pub fn find_object(&self, address: &str, id: &str) -> Option<&ResourceState> {
        self.resources
            .iter()
            .chain(&self.deposed)
            .find(|r| r.address == address && r.id == id)
    }

    /// Forgets the resource `address` with AWS id `id` (current or deposed); a newer object under the
    /// same address (the replacement) stays.
    pub fn remove_object(&mut self, address: &str, id: &str) {
        self.resources
            .retain(|r| !(r.address == address && r.id == id));
        self.deposed
            .retain(|r| !(r.address == address && r.id == id));
    }

    /// Records the replacement of `address`: the current object, if it is `old_id`, becomes deposed
    /// (to be deleted), and `new` takes its place.
    pub fn replace_object(&mut self, old_id: &str, new: ResourceState) {
        if let Some(i) = self
            .resources
            .iter()
            .position(|r| r.address == new.address && r.id == old_id)
        {
            let old = self.resources.remove(i);
            self.deposed.push(old);
        }
        self.put(new);
    }

    /// Gives back the room parsing left unused: a JSON parser grows each object and array by
    /// doubling as it reads, so about a third of a state document's memory was spare capacity (a
    /// thousand accounts' state is 75 MB in memory, read on every plan).
    pub fn compact(&mut self) {
        for r in self.resources.iter_mut().chain(self.deposed.iter_mut()) {
            compact_attrs(&mut r.attributes);
            r.dependencies.shrink_to_fit();
        }
        self.resources.shrink_to_fit();
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("state serializes");
        text.push('\n');
        text
    }

    /// Parses a state document; `what` names it in errors.
    pub fn from_json(text: &str, what: &str) -> Result<State, StateError> {
        let mut state: State = serde_json::from_str(text).map_err(|e| StateError::Corrupt {
            what: what.to_string(),
            message: e.to_string(),
        })?;
        state.compact();
        if state.format_version > FORMAT_VERSION {
            return Err(StateError::Corrupt {
                what: what.to_string(),
                message: format!(
                    "format version {} is newer than this landfall understands ({FORMAT_VERSION}); upgrade landfall",
                    state.format_version
                ),
            });
        }
        Ok(state)
    }
}

/// Rebuilds every object of `attrs` (nested ones too) at its exact size, and shrinks every array.
pub fn compact_attrs(attrs: &mut Attrs) {
    *attrs = std::mem::take(attrs)
        .into_iter()
        .map(|(k, mut v)| {
            compact_json(&mut v);
            (k, v)
        })
        .collect();
}

fn compact_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => compact_attrs(map),
        serde_json::Value::Array(items) => {
            items.iter_mut().for_each(compact_json);
            items.shrink_to_fit();
        }
        serde_json::Value::String(s) => s.shrink_to_fit(),
        _ => {}
    }
}

/// A random identifier, 32 hex digits.
pub fn new_lineage() -> String {
    use rand::Rng;
    let n: u128 = rand::rng().random();
    format!("{n:032x}")
}

/// The current time in RFC 3339, seconds precision.
pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
