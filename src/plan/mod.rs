//! Plans: what would change, and why. The JSON form is both `plan --format json` and the saved plan file
//! (`plan --out`), so a plan file is readable by anything that reads the JSON output.
//!
//! Schema (format_version 1):
//! - `format_version`, `environment`, `created` (RFC 3339), `config_digest` (SHA-256 over the stacks'
//!   configuration digests), `stacks` (per stack: `lineage` and `serial` of the state the plan read,
//!   null when there was none, and `config`, the digest of the stack's resolved configuration);
//! - `derived_from`: the rest of what the plan was derived from ([`basis::Derivation`]: `options`,
//!   `remote_outputs`, `observed`), for `apply FILE` to derive it again ([`verify`]);
//! - `resource_changes[]`: `address`, `kind`, `stack`, `account` (null: the management account), `region`,
//!   `action` (`create`, `update`, `replace`, `delete`, `forget`, `import`), `id`, `before`, `after`
//!   (unknown values are the object `{"$unknown": true}`), `changed` (attribute names),
//!   `replace_because` (attribute names that force replacement), `reason`;
//! - `drift[]`: `address`, `kind`, `stack`, `id`, `deleted`, `attributes[]` (`name`, `state`, `live`);
//! - `duplicates[]` (only when there are some): configured resources missing from state that several
//!   live resources carry the `landfall:address` tag of: `address`, `kind`, `stack`, `account`,
//!   `region`, `ids`. Such a plan cannot be saved or applied;
//! - `copies[]` (only when there are some): live resources carrying the `landfall:address` tag of a
//!   resource in state, beside it, that landfall leaves alone (another lineage's, or an account):
//!   `address`, `kind`, `stack`, `account`, `region`, `id`, `lineage`, `state_id`. Copies with this
//!   state's lineage are not listed here: they are deletes in `resource_changes`;
//! - `kept[]` (destroy plans only): addresses left alone because of `lifecycle.prevent_destroy`;
//! - `moved[]`: resources whose address changed through a `[[moved]]` entry: `from`, `to` (full
//!   addresses). State follows; AWS is not touched. `resource_changes` use the new addresses;
//! - `names` (only when there are some): organization ids the plan may mention with what to call them
//!   (`"111111111111": "account prod"`, `"ou-ab12-cdef3456": "OU workloads"`), for renderers;
//! - `summary`: `add`, `change`, `replace`, `destroy`, `forget`, `import`, `moved`, `drifted`.

pub mod basis;
mod diff;
pub mod docdiff;
pub mod names;
pub mod render;
pub mod verify;

pub use diff::{
    Diffed, Filter, NEW_ACCOUNT, Observed, Refusal, account_of, covers, desired_json, diff,
};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    /// Delete, then create (AWS cannot change a force-new attribute in place).
    Replace,
    Delete,
    /// Removed from state without touching AWS (an account that is not to be closed).
    Forget,
    /// Missing from state but found in AWS (by its `landfall:address` tag, or for kinds without tags
    /// by the id AWS makes unique): recorded in state.
    Import,
}

impl Action {
    pub fn symbol(self) -> &'static str {
        match self {
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
            Action::Forget => "-",
            Action::Import => "=",
        }
    }

    pub fn is_destructive(self) -> bool {
        matches!(self, Action::Replace | Action::Delete)
    }
}

/// The state a plan was made from, per stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Basis {
    pub lineage: Option<String>,
    pub serial: Option<u64>,
    /// The digest of the stack's resolved desired configuration ([`basis::config_digests`]).
    #[serde(default)]
    pub config: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub address: String,
    pub kind: String,
    pub stack: String,
    pub account: Option<String>,
    pub region: Option<String>,
    pub action: Action,
    /// The existing resource's id (all actions but create).
    pub id: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    #[serde(default)]
    pub changed: Vec<String>,
    #[serde(default)]
    pub replace_because: Vec<String>,
    pub reason: Option<String>,
}

/// A resource whose address changes (a `[[moved]]` entry): recorded in state before any other change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Move {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttrDrift {
    pub name: String,
    pub state: serde_json::Value,
    pub live: serde_json::Value,
}

/// A resource that changed outside landfall since the last apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    pub address: String,
    pub kind: String,
    pub stack: String,
    pub id: String,
    /// It no longer exists.
    pub deleted: bool,
    pub attributes: Vec<AttrDrift>,
}

/// A configured resource missing from state whose `landfall:address` tag more than one live
/// resource carries: importing either could be wrong and creating a third would add to the mess.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Duplicate {
    pub address: String,
    pub kind: String,
    pub stack: String,
    pub account: Option<String>,
    pub region: Option<String>,
    /// The live resources' ids, sorted.
    pub ids: Vec<String>,
}

impl Duplicate {
    /// What to do about it.
    pub fn advice(&self) -> String {
        format!(
            "delete all but one of them, or make landfall manage one with `landfall import {} {}`, then plan again",
            self.address, self.ids[0]
        )
    }
}

/// A live resource carrying the `landfall:address` tag of a resource in state, beside it (same kind,
/// account and region), that this plan does not delete: its lineage tag is not this state's (another
/// environment may manage it) or it is an account (deleting one means closing it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrphanCopy {
    pub address: String,
    pub kind: String,
    pub stack: String,
    pub account: Option<String>,
    pub region: Option<String>,
    /// The copy's id.
    pub id: String,
    /// The copy's `landfall:lineage` tag, if it has one.
    pub lineage: Option<String>,
    /// The id of the resource state holds under `address`, which landfall keeps managing.
    pub state_id: String,
}

impl OrphanCopy {
    /// What to do about it.
    pub fn advice(&self) -> String {
        let whose = match &self.lineage {
            Some(l) => format!("lineage {l}, not this state's"),
            None => "no landfall:lineage tag".into(),
        };
        format!(
            "{whose}; landfall manages {} and leaves {} alone: if no other environment manages it, delete it outside landfall",
            self.state_id, self.id
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub replace: usize,
    pub destroy: usize,
    pub forget: usize,
    pub import: usize,
    #[serde(default)]
    pub moved: usize,
    pub drifted: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub environment: String,
    pub created: String,
    pub config_digest: String,
    /// Whether this is a destroy plan.
    #[serde(default)]
    pub destroy: bool,
    pub stacks: IndexMap<String, Basis>,
    /// What else the plan was derived from; apply derives it again and refuses any difference.
    /// Absent in plans saved by landfall before 2026-11-27, which apply refuses.
    #[serde(default)]
    pub derived_from: Option<basis::Derivation>,
    /// Address changes from `[[moved]]` entries. Informational: apply derives them again from the
    /// configuration and state it verified, never from this list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub moved: Vec<Move>,
    pub resource_changes: Vec<Change>,
    pub drift: Vec<Drift>,
    /// Destroy plans: resources left alone because of `lifecycle.prevent_destroy` (and what they need).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<String>,
    /// Configured resources that exist more than once in AWS (see [`Duplicate`]): such a plan is
    /// shown but refused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duplicates: Vec<Duplicate>,
    /// Copies of resources in state that the plan leaves alone (see [`OrphanCopy`]): reported, not refused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub copies: Vec<OrphanCopy>,
    /// What to call the organization ids the plan mentions (account id → `account prod`, OU id →
    /// `OU workloads`), from state; renderers show the names next to the ids.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub names: IndexMap<String, String>,
    pub summary: Summary,
}

impl Plan {
    /// The plan as applying it needs it: without each change's `after` (the executor resolves what
    /// a step creates or updates to from the configuration and the values known then) and without
    /// what it was derived from (needed to show, save and verify it, all done by then). At 1,000
    /// accounts the creates' `after` alone held 78 MB for the whole apply.
    pub fn into_applied(mut self) -> Plan {
        for c in &mut self.resource_changes {
            c.after = None;
        }
        self.derived_from = None;
        self
    }

    pub fn summarize(changes: &[Change], drift: &[Drift], moved: &[Move]) -> Summary {
        let mut s = Summary {
            drifted: drift.len(),
            moved: moved.len(),
            ..Summary::default()
        };
        for c in changes {
            match c.action {
                Action::Create => s.add += 1,
                Action::Update => s.change += 1,
                Action::Replace => s.replace += 1,
                Action::Delete => s.destroy += 1,
                Action::Forget => s.forget += 1,
                Action::Import => s.import += 1,
            }
        }
        s
    }

    /// True when applying would change anything in AWS or in state.
    pub fn has_changes(&self) -> bool {
        !self.resource_changes.is_empty() || !self.moved.is_empty()
    }

    /// Why this plan must not be saved or applied, if it must not: what to do, per duplicate.
    pub fn refusal(&self) -> Option<String> {
        if self.duplicates.is_empty() {
            return None;
        }
        let mut text = format!(
            "{} configured resource(s) exist more than once in AWS (the same landfall:address tag); landfall will neither import nor create them:",
            self.duplicates.len()
        );
        for d in &self.duplicates {
            text.push_str(&format!(
                "\n  {}: {}\n    {}",
                d.address,
                d.ids.join(", "),
                d.advice()
            ));
        }
        Some(text)
    }

    pub fn to_json(&self) -> String {
        let mut bytes = Vec::new();
        self.write_json(&mut bytes)
            .expect("writing to memory cannot fail");
        String::from_utf8(bytes).expect("JSON is UTF-8")
    }

    /// Writes the plan as pretty-printed JSON (the plan file's form) to `w` as it is serialized,
    /// without building the text in memory first.
    pub fn write_json(&self, w: &mut impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *w, self)?;
        w.write_all(b"\n")
    }
}
