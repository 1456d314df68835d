//! Desired (resolved configuration) against actual (state, refreshed from AWS): the changes and the drift.

use super::{Action, AttrDrift, Change, Drift, Duplicate, OrphanCopy};
use crate::expr::{has_unknown_json, unknown_json};
use crate::provider::{Attrs, Live, doc};
use crate::resolve::{Instance, Resolved};
use crate::schema::{self, AttrType};
use crate::state::{ResourceState, State};
use indexmap::IndexMap;
use serde_json::Value as Json;
use std::collections::{HashMap, HashSet};

/// What exists: state per stack, and what refresh found.
pub struct Observed<'a> {
    /// State by stack; stacks never applied are absent.
    pub states: &'a IndexMap<String, State>,
    /// Refresh results by address: `Some(live)` found, `None` gone. Absent: not refreshed (use state).
    pub live: &'a HashMap<String, Option<Live>>,
    /// Resources missing from state but found in AWS by their `landfall:address` tag.
    pub adopted: &'a HashMap<String, Live>,
    /// Resources missing from state whose `landfall:address` tag several live resources carry: ids.
    pub duplicates: &'a HashMap<String, Vec<String>>,
    /// By address of a resource in state: other live resources carrying its address tag beside it.
    pub copies: &'a HashMap<String, Vec<Live>>,
}

/// Why a copy of a resource in state is deleted (the start of its change's reason).
const COPY_REASON: &str = "an orphan copy";

/// Which resources a plan covers (`--target`, `--exclude`, `--stack`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Filter {
    pub targets: Vec<String>,
    pub excludes: Vec<String>,
    pub stacks: Vec<String>,
    /// A destroy plan: every managed resource goes.
    pub destroy: bool,
    /// `--allow-account-closure`: accounts with `close_on_destroy = true` are closed, not forgotten.
    pub allow_account_closure: bool,
    /// `--replace ADDR`: replace these (and what is inside them) even though nothing forces it, e.g.
    /// a resource broken in a way refresh cannot see. Dependents follow the new ids.
    pub replace: Vec<String>,
}

pub use crate::address::covers;

impl Filter {
    /// `--target`, `--exclude` and `--stack` values that match nothing in the configuration or in
    /// state: a typo would otherwise plan "No changes" (or everything). Each names the closest
    /// address or stack.
    fn unmatched(&self, resolved: &Resolved, observed: &Observed) -> Vec<Refusal> {
        let addresses: Vec<&str> = resolved
            .instances
            .iter()
            .map(|i| i.address.as_str())
            .chain(
                observed
                    .states
                    .values()
                    .flat_map(|s| s.resources.iter().map(|r| r.address.as_str())),
            )
            .collect();
        let stacks: Vec<&str> = resolved
            .instances
            .iter()
            .map(|i| i.stack.as_str())
            .chain(observed.states.keys().map(String::as_str))
            .collect();
        let unknown_address = |p: &&String| !addresses.iter().any(|a| covers(p, a));
        let mut missing: Vec<(&str, &String)> = Vec::new();
        missing.extend(
            self.targets
                .iter()
                .filter(unknown_address)
                .map(|p| ("--target", p)),
        );
        missing.extend(
            self.excludes
                .iter()
                .filter(unknown_address)
                .map(|p| ("--exclude", p)),
        );
        missing.extend(
            self.stacks
                .iter()
                .filter(|s| !stacks.contains(&s.as_str()))
                .map(|s| ("--stack", s)),
        );
        missing
            .into_iter()
            .map(|(flag, value)| {
                let (what, candidates, elsewhere) = if flag == "--stack" {
                    (
                        "no stack of this environment has this name",
                        &stacks,
                        "`landfall validate` lists the stacks",
                    )
                } else {
                    (
                        "no resource in the configuration or in state has this address or lies inside it",
                        &addresses,
                        "`landfall state list` shows the addresses",
                    )
                };
                let hint = match crate::diag::did_you_mean(value, candidates.iter().copied()) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => elsewhere.to_string(),
                };
                Refusal {
                    address: value.clone(),
                    message: format!("{flag} {value}: {what}; {hint}"),
                }
            })
            .collect()
    }

    fn is_empty(&self) -> bool {
        self.targets.is_empty() && self.excludes.is_empty() && self.stacks.is_empty()
    }

    /// The instances in scope: targets and everything they depend on, minus exclusions and
    /// everything that depends on an exclusion.
    fn instances_in_scope(&self, resolved: &Resolved) -> HashSet<usize> {
        let all = &resolved.instances;
        let matching = |patterns: &[String]| -> Vec<usize> {
            (0..all.len())
                .filter(|&i| patterns.iter().any(|p| covers(p, &all[i].address)))
                .collect()
        };
        let mut scope: HashSet<usize> = if self.targets.is_empty() {
            (0..all.len()).collect()
        } else {
            resolved.graph.with_dependencies(matching(&self.targets))
        };
        if !self.stacks.is_empty() {
            scope.retain(|&i| self.stacks.contains(&all[i].stack));
        }
        if !self.excludes.is_empty() {
            let excluded = resolved.graph.with_dependents(matching(&self.excludes));
            scope.retain(|i| !excluded.contains(i));
        }
        scope
    }

    /// Whether a resource only in state (to be deleted) is in scope.
    fn orphan_in_scope(&self, r: &ResourceState, stack: &str) -> bool {
        (self.stacks.is_empty() || self.stacks.iter().any(|s| s == stack))
            && (self.targets.is_empty() || self.targets.iter().any(|t| covers(t, &r.address)))
            && !self.excludes.iter().any(|e| covers(e, &r.address))
    }
}

/// A plan cannot be made: `prevent_destroy` would be violated.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub address: String,
    pub message: String,
}

/// What [`diff`] found.
#[derive(Debug, Default)]
pub struct Diffed {
    pub changes: Vec<Change>,
    pub drift: Vec<Drift>,
    /// Destroy only: resources kept because of `lifecycle.prevent_destroy`, and what they depend on.
    pub kept: Vec<String>,
    /// Configured resources missing from state that exist more than once in AWS: neither imported
    /// nor created.
    pub duplicates: Vec<Duplicate>,
    /// Copies of resources in state left alone (another lineage's, or accounts).
    pub copies: Vec<OrphanCopy>,
}

/// An account's name or email changed: Organizations has no call for either, so the plan is refused at
/// plan time (not half-way through an apply) with where to make the change.
fn account_identity_change(c: &Change) -> Vec<Refusal> {
    if c.kind != "account" || c.action != Action::Update {
        return Vec::new();
    }
    let value = |side: &Option<serde_json::Value>, attr: &str| {
        side.as_ref()
            .and_then(|v| v.get(attr))
            .map(|v| v.as_str().map_or_else(|| v.to_string(), String::from))
            .unwrap_or_else(|| "?".into())
    };
    [
        (
            "name",
            "sign in to the account and change it under Account settings (or use the Account Management API's PutAccountName)",
        ),
        (
            "email",
            "sign in as the account's root user and change it under Account settings",
        ),
    ]
    .into_iter()
    .filter(|(attr, _)| c.changed.iter().any(|a| a == attr))
    .map(|(attr, how)| Refusal {
        address: c.address.clone(),
        message: format!(
            "{}: AWS Organizations cannot change an account's {attr} ({} -> {}), and landfall never replaces an account; {how}, then plan again (refresh reads the new {attr}), or put the old {attr} back in the configuration",
            c.address,
            value(&c.before, attr),
            value(&c.after, attr),
        ),
    })
    .collect()
}

/// Computes the changes that bring AWS to the configuration, and the drift since the last apply.
pub fn diff(
    resolved: &Resolved,
    observed: &Observed,
    filter: &Filter,
) -> Result<Diffed, Vec<Refusal>> {
    let unmatched = filter.unmatched(resolved, observed);
    if !unmatched.is_empty() {
        return Err(unmatched);
    }
    let mut changes = Vec::new();
    let mut drift = Vec::new();
    let mut refusals = Vec::new();
    let mut duplicates = Vec::new();
    let scope = filter.instances_in_scope(resolved);
    let by_address: HashMap<&str, &ResourceState> = observed
        .states
        .values()
        .flat_map(|s| s.resources.iter().map(|r| (r.address.as_str(), r)))
        .collect();

    // Drift first: it is about what state says, whatever the configuration says now.
    let position: HashMap<&str, usize> = resolved
        .instances
        .iter()
        .enumerate()
        .map(|(n, i)| (i.address.as_str(), n))
        .collect();
    for (stack, state) in observed.states {
        for r in &state.resources {
            let in_scope = match position.get(r.address.as_str()) {
                Some(i) => scope.contains(i),
                None => filter.orphan_in_scope(r, stack),
            };
            if in_scope && let Some(d) = drift_of(r, stack, observed.live.get(&r.address)) {
                drift.push(d);
            }
        }
    }

    for pattern in &filter.replace {
        let exists = resolved.instances.iter().enumerate().any(|(i, inst)| {
            scope.contains(&i)
                && covers(pattern, &inst.address)
                && by_address.contains_key(inst.address.as_str())
        });
        if !exists || filter.destroy {
            refusals.push(Refusal {
                address: pattern.clone(),
                message: format!(
                    "--replace {pattern}: {}",
                    if filter.destroy {
                        "a destroy plan replaces nothing"
                    } else {
                        "no configured resource in scope that exists (in state) has this address or lies inside it; `landfall state list` shows the addresses"
                    }
                ),
            });
        }
    }

    if !filter.destroy {
        for (i, inst) in resolved.instances.iter().enumerate() {
            if !scope.contains(&i) {
                continue;
            }
            let state = by_address.get(inst.address.as_str()).copied();
            let live = observed.live.get(&inst.address);
            let adopted = observed.adopted.get(&inst.address);
            if let (None, Some(ids)) = (state, observed.duplicates.get(&inst.address)) {
                duplicates.push(Duplicate {
                    address: inst.address.clone(),
                    kind: inst.kind.name.to_string(),
                    stack: inst.stack.clone(),
                    account: account_of(inst),
                    region: inst.region.clone(),
                    ids: ids.clone(),
                });
                continue;
            }
            let forced = state.is_some() && filter.replace.iter().any(|p| covers(p, &inst.address));
            if let Some(mut c) = diff_instance(inst, state, live, adopted, forced) {
                // Adopted from another state: say so, as two environments deploying the same stack
                // to one account and region would share it.
                let ours = observed.states.get(&inst.stack).map(|s| s.lineage.as_str());
                if let Some(other) = adopted
                    .filter(|l| l.address.is_some())
                    .and_then(|l| l.lineage.as_deref())
                    .filter(|l| Some(*l) != ours)
                    && let Some(reason) = &mut c.reason
                {
                    reason.push_str(&format!(
                        " (lineage {other}, not this state's: make sure no other environment manages it)"
                    ));
                }
                if matches!(c.action, Action::Replace) && inst.prevent_destroy {
                    refusals.push(Refusal {
                        address: inst.address.clone(),
                        message: format!(
                            "{} has lifecycle.prevent_destroy set, but the plan would replace it because {} cannot change in place",
                            inst.address,
                            quoted_list(&c.replace_because),
                        ),
                    });
                }
                refusals.extend(account_identity_change(&c));
                changes.push(c);
            }
        }
    }

    // Resources in state that the configuration no longer has (or all of them, for destroy).
    let configured: HashMap<&str, &Instance> = resolved
        .instances
        .iter()
        .map(|i| (i.address.as_str(), i))
        .collect();
    // A destroy keeps protected resources and everything they depend on.
    let mut kept: Vec<String> = Vec::new();
    if filter.destroy {
        let mut todo: Vec<&str> = resolved
            .instances
            .iter()
            .filter(|i| i.prevent_destroy && by_address.contains_key(i.address.as_str()))
            .map(|i| i.address.as_str())
            .collect();
        while let Some(a) = todo.pop() {
            if kept.iter().any(|k| k == a) {
                continue;
            }
            kept.push(a.to_string());
            if let Some(r) = by_address.get(a) {
                todo.extend(r.dependencies.iter().map(String::as_str));
            }
        }
        kept.sort();
    }
    let mut deletes = Vec::new();
    for (stack, state) in observed.states {
        for r in &state.resources {
            let instance = configured.get(r.address.as_str()).copied();
            let in_scope = match instance {
                Some(inst) if filter.destroy => {
                    let i = resolved
                        .instances
                        .iter()
                        .position(|x| std::ptr::eq(x, inst))
                        .unwrap_or(usize::MAX);
                    filter.is_empty() || scope.contains(&i)
                }
                Some(_) => false,
                None => filter.orphan_in_scope(r, stack),
            };
            if !in_scope || kept.contains(&r.address) {
                continue;
            }
            if matches!(observed.live.get(&r.address), Some(None)) {
                // Already gone: only state needs to forget it.
                deletes.push(forget(r, stack, "already deleted outside landfall"));
                continue;
            }
            if instance.is_some_and(|i| i.prevent_destroy) {
                refusals.push(Refusal {
                    address: r.address.clone(),
                    message: format!(
                        "{} has lifecycle.prevent_destroy set, but the plan would destroy it",
                        r.address
                    ),
                });
                continue;
            }
            if r.kind == "account" {
                let close = r
                    .attributes
                    .get("close_on_destroy")
                    .and_then(Json::as_bool)
                    .unwrap_or(false);
                if !(close && filter.allow_account_closure) {
                    deletes.push(forget(
                        r,
                        stack,
                        if close {
                            "the account stays open: pass --allow-account-closure to close it"
                        } else {
                            "the account stays open (close_on_destroy is not set); it is only removed from state"
                        },
                    ));
                    continue;
                }
            }
            deletes.push(Change {
                reason: Some(if filter.destroy {
                    "destroy".into()
                } else {
                    "no longer in the configuration".into()
                }),
                ..delete(r, stack)
            });
        }
    }
    // Old objects of create-before-destroy replacements whose delete an interrupted run did not reach.
    for (stack, state) in observed.states {
        for r in &state.deposed {
            if filter.orphan_in_scope(r, stack) {
                deletes.push(Change {
                    reason: Some(
                        "the old object of an interrupted replacement (create before destroy)"
                            .into(),
                    ),
                    ..delete(r, stack)
                });
            }
        }
    }
    hold_back(&mut deletes, &changes, observed, filter.destroy);
    changes.extend(deletes);
    // After hold_back: what holds back the resource in state does not hold back its copy.
    let copies = copies(observed, filter, &mut changes);
    refusals.extend(renames_without_moved(&changes));

    if refusals.is_empty() {
        Ok(Diffed {
            changes,
            drift,
            kept,
            duplicates,
            copies,
        })
    } else {
        Err(refusals)
    }
}

/// Turns into forgets the deletes of what stays needed in AWS after the plan:
/// - an OU that will still hold accounts or OUs (kept, forgotten, or closed: AWS keeps a closed account
///   in its OU for up to 90 days) — AWS refuses to delete an OU that is not empty — and so each OU above it;
/// - the organization, while member accounts stay in it (AWS refuses to delete it);
/// - a policy still attached by an attachment that stays (AWS refuses to delete it);
/// - destroy only: the guardrails of accounts this plan lets go of (forgets, so they stay open): the
///   attachments on the account, on each OU above it and on the root, and its delegated administrator
///   registrations. An account that outlives its configuration keeps what governed it.
///
/// Repeated until nothing more changes: what is held back may in turn hold its parent or its policy.
fn hold_back(deletes: &mut [Change], changes: &[Change], observed: &Observed, destroy: bool) {
    let resources: HashMap<&str, (&str, &ResourceState)> = observed
        .states
        .iter()
        .flat_map(|(stack, s)| {
            s.resources
                .iter()
                .map(move |r| (r.address.as_str(), (stack.as_str(), r)))
        })
        .collect();
    let gone = |r: &ResourceState| matches!(observed.live.get(&r.address), Some(None));
    let attr = |r: &ResourceState, k: &str| -> Option<String> {
        r.attributes
            .get(k)
            .and_then(Json::as_str)
            .map(str::to_string)
    };
    let planned: HashMap<&str, &Change> = changes.iter().map(|c| (c.address.as_str(), c)).collect();
    // Where a resource this plan moves will be: its planned parent, not the one state records.
    let parent = |r: &ResourceState| -> Option<String> {
        match planned.get(r.address.as_str()) {
            Some(c) => c
                .after
                .as_ref()
                .and_then(|a| a.get("parent_id"))
                .and_then(Json::as_str)
                .map(str::to_string),
            None => attr(r, "parent_id"),
        }
    };
    // Destroy: the targets whose guardrails stay, by id, with the account they stay for.
    let mut governed: HashMap<String, String> = HashMap::new();
    if destroy {
        let ous: HashMap<&str, &ResourceState> = resources
            .values()
            .filter(|(_, r)| r.kind == "organizational_unit")
            .map(|(_, r)| (r.id.as_str(), *r))
            .collect();
        for c in deletes.iter() {
            let Some((_, r)) = resources.get(c.address.as_str()) else {
                continue;
            };
            if c.kind != "account" || c.action != Action::Forget || gone(r) {
                continue;
            }
            governed.insert(r.id.clone(), r.address.clone());
            let mut up = attr(r, "parent_id");
            // Up the OU tree to the root (a bound, in case state holds a loop).
            for _ in 0..16 {
                let Some(id) = up.take() else { break };
                governed
                    .entry(id.clone())
                    .or_insert_with(|| r.address.clone());
                up = ous.get(id.as_str()).and_then(|o| attr(o, "parent_id"));
            }
        }
    }
    loop {
        let deleting: HashSet<String> = deletes
            .iter()
            .filter(|c| c.action == Action::Delete)
            .map(|c| c.address.clone())
            .collect();
        // What is in AWS after the plan (closed accounts included).
        let stays =
            |r: &ResourceState| !gone(r) && (r.kind == "account" || !deleting.contains(&r.address));
        let names = |list: Vec<&str>| {
            let n = list.len();
            let mut list: Vec<String> = list.iter().take(3).map(|a| format!("`{a}`")).collect();
            if n > 3 {
                list.push(format!("{} more", n - 3));
            }
            list.join(", ")
        };
        let mut held = false;
        for c in deletes.iter_mut().filter(|c| c.action == Action::Delete) {
            let Some((stack, r)) = resources.get(c.address.as_str()).copied() else {
                continue;
            };
            let staying = |kinds: &[&str], pred: &dyn Fn(&ResourceState) -> bool| -> Vec<&str> {
                let mut v: Vec<&str> = resources
                    .values()
                    .filter(|(_, x)| kinds.contains(&x.kind.as_str()) && stays(x) && pred(x))
                    .map(|(_, x)| x.address.as_str())
                    .collect();
                v.sort();
                v
            };
            let why = match r.kind.as_str() {
                "organizational_unit" => {
                    let inside = staying(&["account", "organizational_unit"], &|x| {
                        parent(x).as_deref() == Some(r.id.as_str())
                    });
                    (!inside.is_empty()).then(|| {
                        format!(
                            "left in AWS: it still holds {} (AWS deletes only empty OUs)",
                            names(inside)
                        )
                    })
                }
                "organization" => {
                    let members = staying(&["account"], &|_| true);
                    (!members.is_empty()).then(|| {
                        format!(
                            "left in AWS: member accounts stay in it ({})",
                            names(members)
                        )
                    })
                }
                "policy" => {
                    let by = staying(&["policy_attachment"], &|x| {
                        attr(x, "policy_id").as_deref() == Some(r.id.as_str())
                    });
                    (!by.is_empty())
                        .then(|| format!("left in AWS: still attached by {}", names(by)))
                }
                "policy_attachment" => attr(r, "target_id")
                    .and_then(|t| governed.get(&t))
                    .map(|a| format!("left in AWS: a guardrail of `{a}`, which stays open")),
                "delegated_administrator" => attr(r, "account_id")
                    .and_then(|t| governed.get(&t))
                    .map(|a| format!("left in AWS: `{a}` stays open and keeps this role")),
                _ => None,
            };
            if let Some(why) = why {
                *c = forget(r, stack, &why);
                held = true;
            }
        }
        if !held {
            break;
        }
    }
}

/// Kinds whose AWS name is unique within a scope, and the attributes (besides the account) that make
/// that scope: deleting one and creating another with the same name in one apply fails half-way
/// (EntityAlreadyExists, DuplicatePolicyException, DuplicateOrganizationalUnitException...), because
/// the create may run before the delete.
/// (kind, the attribute that must be unique, the attributes that make its scope). A subnet's CIDR
/// block is unique in its VPC (InvalidSubnet.Conflict), and a VPC takes one internet gateway.
const UNIQUE_NAMES: &[(&str, &str, &[&str])] = &[
    ("iam_role", "name", &[]),
    ("iam_policy", "name", &[]),
    ("iam_group", "name", &[]),
    ("policy", "name", &[]),
    ("organizational_unit", "name", &["parent_id"]),
    ("security_group", "name", &["vpc_id"]),
    ("subnet", "cidr_block", &["vpc_id"]),
    ("internet_gateway", "vpc_id", &[]),
    ("iam_oidc_provider", "url", &[]),
];

/// A delete and a create of the same uniquely named resource under two addresses: a rename made
/// without a `[[moved]]` entry. Refused, with the entry to add (or the `state mv` to run when the two
/// addresses are in different stacks).
fn renames_without_moved(changes: &[Change]) -> Vec<Refusal> {
    let identity = |c: &Change, attrs: &Option<Json>| -> Option<Vec<Json>> {
        let (_, unique, scope) = UNIQUE_NAMES.iter().find(|(k, _, _)| *k == c.kind)?;
        let attrs = attrs.as_ref()?.as_object()?;
        let name = attrs.get(*unique)?;
        if !name.is_string() {
            return None;
        }
        let mut key = vec![
            Json::from(c.kind.clone()),
            json_of(&c.account),
            json_of(&c.region),
            name.clone(),
        ];
        for a in *scope {
            let v = attrs.get(*a).cloned().unwrap_or(Json::Null);
            if has_unknown_json(&v) {
                return None;
            }
            key.push(v);
        }
        Some(key)
    };
    let deleted: Vec<(&Change, Vec<Json>)> = changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .filter_map(|c| Some((c, identity(c, &c.before)?)))
        .collect();
    let mut out = Vec::new();
    for created in changes.iter().filter(|c| c.action == Action::Create) {
        let Some(key) = identity(created, &created.after) else {
            continue;
        };
        let Some((old, _)) = deleted.iter().find(|(_, k)| *k == key) else {
            continue;
        };
        let name = key[3].as_str().unwrap_or_default();
        let unique = UNIQUE_NAMES
            .iter()
            .find(|(k, _, _)| *k == created.kind)
            .map_or("name", |(_, u, _)| *u);
        let rule = if unique == "name" {
            format!("{} names are unique", created.kind)
        } else {
            format!("no two {}s share a {unique}", created.kind)
        };
        let fix = if old.stack == created.stack {
            let rel = |a: &str| a[old.stack.len() + 1..].to_string();
            format!(
                "add to stack `{}`:\n\n[[moved]]\nfrom = {:?}\nto = {:?}\n",
                old.stack,
                rel(&old.address),
                rel(&created.address)
            )
        } else {
            format!(
                "run:\n\n    landfall state mv {} {}\n",
                old.address, created.address
            )
        };
        out.push(Refusal {
            address: created.address.clone(),
            message: format!(
                "{} would be deleted and {} created with the same {unique} `{name}`, which AWS allows only once ({rule}), so the apply would fail half-way. If this is a rename, {fix}If it is not, give the new one another {unique}.",
                old.address, created.address
            ),
        });
    }
    out
}

/// Copies of resources in state ([`Observed::copies`]): those carrying this state's lineage were
/// created by landfall for this state and lost (an unanswered create, two applies racing), so they are
/// deleted; the others (another lineage's, untagged lineage, accounts) are returned to be reported.
fn copies(observed: &Observed, filter: &Filter, changes: &mut Vec<Change>) -> Vec<OrphanCopy> {
    let mut left = Vec::new();
    for (stack, state) in observed.states {
        for r in &state.resources {
            let Some(lives) = observed.copies.get(&r.address) else {
                continue;
            };
            if !filter.orphan_in_scope(r, stack) {
                continue;
            }
            let mut lives: Vec<&Live> = lives.iter().collect();
            lives.sort_by(|a, b| a.id.cmp(&b.id));
            for live in lives {
                if live.lineage.as_deref() == Some(state.lineage.as_str()) && r.kind != "account" {
                    changes.push(Change {
                        id: Some(live.id.clone()),
                        before: Some(Json::Object(live.attrs.clone())),
                        reason: Some(format!(
                            "{COPY_REASON} ({}): it carries this address and this state's lineage, but state holds {}",
                            live.id, r.id
                        )),
                        ..delete(r, stack)
                    });
                } else {
                    left.push(OrphanCopy {
                        address: r.address.clone(),
                        kind: r.kind.clone(),
                        stack: stack.clone(),
                        account: r.account.clone(),
                        region: r.region.clone(),
                        id: live.id.clone(),
                        lineage: live.lineage.clone(),
                        state_id: r.id.clone(),
                    });
                }
            }
        }
    }
    left
}

fn json_of(v: &Option<String>) -> Json {
    v.clone().map_or(Json::Null, Json::String)
}

fn delete(r: &ResourceState, stack: &str) -> Change {
    Change {
        address: r.address.clone(),
        kind: r.kind.clone(),
        stack: stack.to_string(),
        account: r.account.clone(),
        region: r.region.clone(),
        action: Action::Delete,
        id: Some(r.id.clone()),
        before: Some(Json::Object(r.attributes.clone())),
        after: None,
        changed: Vec::new(),
        replace_because: Vec::new(),
        reason: None,
    }
}

fn forget(r: &ResourceState, stack: &str, reason: &str) -> Change {
    Change {
        action: Action::Forget,
        reason: Some(reason.to_string()),
        ..delete(r, stack)
    }
}

fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `account` of a change in an account this apply creates (its id is not known yet). Never
/// `None`, which means the management account: a call made with it fails instead of landing there.
pub const NEW_ACCOUNT: &str = "(new account)";

/// The instance's account id: `None` for the caller's own account, [`NEW_ACCOUNT`] for one this
/// apply creates (`Instance::account` says which).
pub fn account_of(inst: &Instance) -> Option<String> {
    match &inst.account {
        crate::expr::Value::Null => None,
        v => Some(
            v.as_str()
                .map_or_else(|| NEW_ACCOUNT.to_string(), str::to_string),
        ),
    }
}

/// The desired attributes as JSON (unknown values as [`unknown_json`]).
pub fn desired_json(inst: &Instance) -> Attrs {
    inst.attrs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_json()))
        .collect()
}

fn diff_instance(
    inst: &Instance,
    state: Option<&ResourceState>,
    live: Option<&Option<Live>>,
    adopted: Option<&Live>,
    forced: bool,
) -> Option<Change> {
    let desired = desired_json(inst);
    let mut change = Change {
        address: inst.address.clone(),
        kind: inst.kind.name.to_string(),
        stack: inst.stack.clone(),
        account: account_of(inst),
        region: inst.region.clone(),
        action: Action::Create,
        id: None,
        before: None,
        after: Some(Json::Object(desired.clone())),
        changed: Vec::new(),
        replace_because: Vec::new(),
        reason: None,
    };
    // What exists: state refreshed by what AWS reports (attributes AWS cannot report stay as in state).
    let (id, actual, action_if_same) = match (state, live, adopted) {
        (Some(s), Some(Some(l)), _) => (s.id.clone(), overlay(&s.attributes, &l.attrs), None),
        (Some(s), None, _) => (s.id.clone(), s.attributes.clone(), None),
        (Some(_), Some(None), _) => {
            change.reason = Some("deleted outside landfall".into());
            return Some(change);
        }
        // Found by its tag: what AWS cannot report (e.g. an account's role_name) is taken as configured.
        (None, _, Some(l)) => (
            l.id.clone(),
            overlay(&desired, &l.attrs),
            Some(Action::Import),
        ),
        (None, _, None) => return Some(change),
    };
    change.id = Some(id);
    change.before = Some(Json::Object(actual.clone()));

    if let Some(s) = state {
        let account = account_of(inst);
        // An account that does not exist yet cannot be where the resource is now.
        if inst.account.has_unknown() || s.account != account {
            change.replace_because.push("account".into());
        }
        if inst.kind.scope == schema::Scope::Regional && s.region != inst.region {
            change.replace_because.push("region".into());
        }
    }
    for attr in inst.kind.attrs.iter().filter(|a| !a.computed) {
        if inst.ignore_changes.iter().any(|n| n == attr.name) {
            continue;
        }
        let Some(want) = inst.attrs.get(attr.name) else {
            continue;
        };
        let differs = want.has_unknown()
            || !same(
                &attr.ty,
                &want.to_json(),
                actual.get(attr.name).unwrap_or(&Json::Null),
            );
        if differs {
            change.changed.push(attr.name.to_string());
            if attr.force_new {
                change.replace_because.push(attr.name.to_string());
            }
        }
    }
    let mut after = actual.clone();
    for (k, v) in &desired {
        if !inst.ignore_changes.contains(k) {
            after.insert(k.clone(), v.clone());
        }
    }
    let replacing = forced || !change.replace_because.is_empty();
    // Computed attributes of a replaced resource are new.
    if replacing {
        for attr in inst.kind.attrs.iter().filter(|a| a.computed) {
            after.insert(attr.name.into(), unknown_json());
        }
    }
    change.after = Some(Json::Object(after));
    change.action = if replacing {
        Action::Replace
    } else if !change.changed.is_empty() {
        Action::Update
    } else {
        action_if_same?
    };
    if let Some(l) = adopted.filter(|_| action_if_same.is_some()) {
        change.reason = Some(import_reason(l));
    }
    if forced {
        change.reason = Some("replacement requested with --replace".into());
    }
    Some(change)
}

/// How a resource missing from state was found (see [`crate::provider::Identity`]).
fn import_reason(live: &Live) -> String {
    match &live.address {
        Some(_) => "found in AWS by its landfall:address tag".into(),
        None => format!(
            "found in AWS as `{}` (this kind takes no tags; AWS allows only one)",
            live.id
        ),
    }
}

/// `base` with every attribute of `top` written over it.
fn overlay(base: &Attrs, top: &Attrs) -> Attrs {
    let mut out = base.clone();
    for (k, v) in top {
        out.insert(k.clone(), v.clone());
    }
    out
}

fn drift_of(r: &ResourceState, stack: &str, live: Option<&Option<Live>>) -> Option<Drift> {
    let kind = schema::kind(&r.kind)?;
    let base = Drift {
        address: r.address.clone(),
        kind: r.kind.clone(),
        stack: stack.to_string(),
        id: r.id.clone(),
        deleted: false,
        attributes: Vec::new(),
    };
    match live? {
        None => Some(Drift {
            deleted: true,
            ..base
        }),
        Some(l) => {
            let attributes: Vec<AttrDrift> = kind
                .attrs
                .iter()
                .filter(|a| !a.computed)
                .filter_map(|a| {
                    let (was, is) = (r.attributes.get(a.name)?, l.attrs.get(a.name)?);
                    (!same(&a.ty, was, is)).then(|| AttrDrift {
                        name: a.name.to_string(),
                        state: was.clone(),
                        live: is.clone(),
                    })
                })
                .collect();
            (!attributes.is_empty()).then_some(Drift { attributes, ..base })
        }
    }
}

/// Whether two values of an attribute mean the same to AWS.
pub fn same(ty: &AttrType, a: &Json, b: &Json) -> bool {
    normalize(ty, a) == normalize(ty, b)
}

fn normalize(ty: &AttrType, v: &Json) -> Json {
    match (ty, v) {
        (_, Json::Null) => Json::Null,
        (AttrType::Json, v) => doc::canonical(v),
        (AttrType::Number, Json::Number(n)) => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or(Json::Null, Json::Number),
        (AttrType::Number, Json::String(s)) => s
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| v.clone(), Json::Number),
        (AttrType::List(inner), Json::Array(items)) => {
            // Every list landfall manages is a set to AWS (attachments, routes, rules...).
            let mut items: Vec<Json> = items.iter().map(|i| normalize(inner, i)).collect();
            items.sort_by_key(|i| i.to_string());
            items.dedup();
            Json::Array(items)
        }
        (AttrType::Map(inner), Json::Object(map)) => Json::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), normalize(inner, v)))
                .collect(),
        ),
        (AttrType::Object(fields), Json::Object(map)) => Json::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .filter(|(k, _)| !(all_traffic(map) && PORTS.contains(&k.as_str())))
                .map(|(k, v)| {
                    let ty = fields
                        .iter()
                        .find(|f| f.name == k)
                        .map_or(AttrType::String, |f| f.ty);
                    (k.clone(), normalize(&ty, v))
                })
                .collect(),
        ),
        _ => v.clone(),
    }
}

/// The port fields of a rule, which AWS ignores (and does not report) for protocol `-1`.
const PORTS: [&str; 2] = ["from_port", "to_port"];

/// A rule of protocol `-1`: all traffic, on every port. Terraform's habit of writing it with
/// `from_port = 0, to_port = 0` means the same as leaving the ports out.
fn all_traffic(rule: &serde_json::Map<String, Json>) -> bool {
    rule.get("protocol").and_then(Json::as_str) == Some("-1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_all_traffic_rule_means_the_same_with_or_without_ports() {
        const FIELDS: &[crate::schema::Field] = &[
            crate::schema::field("protocol", AttrType::String),
            crate::schema::field("from_port", AttrType::Number),
            crate::schema::field("to_port", AttrType::Number),
        ];
        let rules = AttrType::List(&AttrType::Object(FIELDS));
        let written =
            json!([{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}]);
        let read = json!([{"protocol": "-1", "cidr_blocks": ["0.0.0.0/0"]}]);
        assert!(same(&rules, &written, &read));
        let tcp = json!([{"protocol": "tcp", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}]);
        let tcp_read = json!([{"protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]}]);
        assert!(!same(&rules, &tcp, &tcp_read));
    }

    #[test]
    fn covers_whole_addresses_only() {
        assert!(covers("s.vpc.main", "s.vpc.main"));
        assert!(covers("s.module.b", "s.module.b[\"dev\"].vpc.this"));
        assert!(covers("s.vpc.main", "s.vpc.main[0]"));
        assert!(!covers("s.vpc.main", "s.vpc.main2"));
    }

    #[test]
    fn lists_compare_as_sets_and_numbers_by_value() {
        let strings = AttrType::List(&AttrType::String);
        assert!(same(&strings, &json!(["b", "a"]), &json!(["a", "b"])));
        assert!(!same(&strings, &json!(["a"]), &json!(["a", "c"])));
        assert!(same(&AttrType::Number, &json!(3600), &json!(3600.0)));
        assert!(same(
            &AttrType::Json,
            &json!({"Statement": [{"Action": "s3:*", "Effect": "Allow"}]}),
            &json!("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":[\"s3:*\"]}}")
        ));
    }

    fn change(address: &str, kind: &str, action: Action, attrs: Json) -> Change {
        let (before, after) = match action {
            Action::Delete => (Some(attrs), None),
            _ => (None, Some(attrs)),
        };
        Change {
            address: address.into(),
            kind: kind.into(),
            stack: address.split('.').next().unwrap().into(),
            account: None,
            region: None,
            action,
            id: None,
            before,
            after,
            changed: vec![],
            replace_because: vec![],
            reason: None,
        }
    }

    #[test]
    fn a_rename_of_a_uniquely_named_resource_needs_a_moved_entry() {
        let refused = renames_without_moved(&[
            change(
                "id.iam_role.ops",
                "iam_role",
                Action::Delete,
                json!({"name": "ops"}),
            ),
            change(
                "id.iam_role.operators",
                "iam_role",
                Action::Create,
                json!({"name": "ops"}),
            ),
        ]);
        assert_eq!(refused.len(), 1);
        let m = &refused[0].message;
        assert!(m.starts_with("id.iam_role.ops would be deleted and id.iam_role.operators created with the same name `ops`"), "{m}");
        assert!(
            m.contains("[[moved]]\nfrom = \"iam_role.ops\"\nto = \"iam_role.operators\"\n"),
            "{m}"
        );
        // Across stacks the entry cannot say it: state mv does.
        let refused = renames_without_moved(&[
            change(
                "a.iam_group.g",
                "iam_group",
                Action::Delete,
                json!({"name": "g"}),
            ),
            change(
                "b.iam_group.g",
                "iam_group",
                Action::Create,
                json!({"name": "g"}),
            ),
        ]);
        assert!(
            refused[0]
                .message
                .contains("landfall state mv a.iam_group.g b.iam_group.g")
        );
    }

    #[test]
    fn a_subnet_or_internet_gateway_renamed_without_moved_is_refused() {
        let subnet = |a: &str, action, cidr: &str| {
            change(
                a,
                "subnet",
                action,
                json!({"vpc_id": "vpc-1", "cidr_block": cidr}),
            )
        };
        let refused = renames_without_moved(&[
            subnet("n.subnet.a", Action::Delete, "10.0.1.0/24"),
            subnet("n.subnet.b", Action::Create, "10.0.1.0/24"),
        ]);
        assert_eq!(refused.len(), 1);
        let m = &refused[0].message;
        assert!(m.contains("with the same cidr_block `10.0.1.0/24`"), "{m}");
        assert!(m.contains("from = \"subnet.a\"\nto = \"subnet.b\""), "{m}");
        assert!(
            renames_without_moved(&[
                subnet("n.subnet.a", Action::Delete, "10.0.1.0/24"),
                subnet("n.subnet.b", Action::Create, "10.0.2.0/24"),
            ])
            .is_empty()
        );
        let igw =
            |a: &str, action| change(a, "internet_gateway", action, json!({"vpc_id": "vpc-1"}));
        assert_eq!(
            renames_without_moved(&[
                igw("n.internet_gateway.a", Action::Delete),
                igw("n.internet_gateway.b", Action::Create),
            ])
            .len(),
            1
        );
    }

    #[test]
    fn names_are_compared_in_their_scope_only() {
        let ou = |a: &str, action, parent: &str| {
            change(
                a,
                "organizational_unit",
                action,
                json!({"name": "Apps", "parent_id": parent}),
            )
        };
        // Same name under another parent, or a parent not known yet: no collision.
        assert!(
            renames_without_moved(&[
                ou("o.organizational_unit.a", Action::Delete, "r-1"),
                ou("o.organizational_unit.b", Action::Create, "ou-2")
            ])
            .is_empty()
        );
        assert!(
            renames_without_moved(&[
                ou("o.organizational_unit.a", Action::Delete, "r-1"),
                change(
                    "o.organizational_unit.b",
                    "organizational_unit",
                    Action::Create,
                    json!({"name": "Apps", "parent_id": unknown_json()})
                )
            ])
            .is_empty()
        );
        assert_eq!(
            renames_without_moved(&[
                ou("o.organizational_unit.a", Action::Delete, "r-1"),
                ou("o.organizational_unit.b", Action::Create, "r-1")
            ])
            .len(),
            1
        );
        // Kinds whose names may repeat are left alone.
        assert!(
            renames_without_moved(&[
                change("n.vpc.a", "vpc", Action::Delete, json!({"name": "x"})),
                change("n.vpc.b", "vpc", Action::Create, json!({"name": "x"})),
            ])
            .is_empty()
        );
    }
}

#[cfg(test)]
mod plan_tests {
    //! The diff of small resolved projects against hand-made state and refresh results.

    use super::*;
    use crate::load;
    use crate::resolve::{Known, resolve_with};
    use serde_json::json;

    const PROJECT: &str = "[project]\nname = \"t\"\nhome_region = \"eu-west-1\"\n";
    const STACK: &str = r#"
[vpc.main]
cidr_block = "10.0.0.0/16"
tags = { env = "dev" }

[subnet.a]
vpc_id = "${vpc.main.id}"
cidr_block = "10.0.1.0/24"
availability_zone = "eu-west-1a"

[iam_role.keep]
name = "keep"
assume_role_policy = { Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }] }
[iam_role.keep.lifecycle]
prevent_destroy = true
"#;

    fn resolved(stack: &str, known: &Known) -> Resolved {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("landfall.toml"), PROJECT).unwrap();
        for (path, text) in [
            ("environments/test/env.toml", "stacks = [\"s\"]\n"),
            ("stacks/s.toml", stack),
        ] {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let loaded = load::load(dir.path(), "test").unwrap();
        let (_, r) = resolve_with(loaded, known);
        r.unwrap()
    }

    /// State as if `resolved` had been applied: ids `id-<name>`, attributes as configured.
    fn applied(r: &Resolved) -> State {
        let mut state = State::new("test", "s");
        for inst in &r.instances {
            let mut attributes = desired_json(inst);
            let id = format!("id-{}", inst.address.rsplit('.').next().unwrap());
            attributes.insert("id".into(), id.clone().into());
            state.put(ResourceState {
                address: inst.address.clone(),
                kind: inst.kind.name.into(),
                id,
                account: None,
                region: inst.region.clone(),
                attributes,
                dependencies: vec![],
            });
        }
        state
    }

    fn known_from(state: &State) -> Known {
        let mut k = Known::default();
        for r in &state.resources {
            k.attrs.insert(r.address.clone(), r.attributes.clone());
        }
        k
    }

    fn run(
        stack: &str,
        state: &State,
        live: HashMap<String, Option<Live>>,
        filter: &Filter,
    ) -> Result<Diffed, Vec<Refusal>> {
        let r = resolved(stack, &known_from(state));
        let states: IndexMap<String, State> =
            [("s".to_string(), state.clone())].into_iter().collect();
        diff(
            &r,
            &Observed {
                states: &states,
                live: &live,
                adopted: &HashMap::new(),
                duplicates: &HashMap::new(),
                copies: &HashMap::new(),
            },
            filter,
        )
    }

    /// The applied state of STACK: resolved once for the ids, again for values that reference them.
    fn baseline() -> State {
        let first = applied(&resolved(STACK, &Known::default()));
        applied(&resolved(STACK, &known_from(&first)))
    }

    #[test]
    fn nothing_applied_means_everything_is_created() {
        let r = resolved(STACK, &Known::default());
        let states = IndexMap::new();
        let d = diff(
            &r,
            &Observed {
                states: &states,
                live: &HashMap::new(),
                adopted: &HashMap::new(),
                duplicates: &HashMap::new(),
                copies: &HashMap::new(),
            },
            &Filter::default(),
        )
        .unwrap();
        assert_eq!(d.changes.len(), 3);
        assert!(d.changes.iter().all(|c| c.action == Action::Create));
    }

    #[test]
    fn missing_resource_found_twice_is_a_duplicate_neither_created_nor_imported() {
        let r = resolved(STACK, &Known::default());
        let states = IndexMap::new();
        let duplicates: HashMap<String, Vec<String>> = [(
            "s.vpc.main".to_string(),
            vec!["vpc-1".into(), "vpc-2".into()],
        )]
        .into_iter()
        .collect();
        let d = diff(
            &r,
            &Observed {
                states: &states,
                live: &HashMap::new(),
                adopted: &HashMap::new(),
                duplicates: &duplicates,
                copies: &HashMap::new(),
            },
            &Filter::default(),
        )
        .unwrap();
        assert!(d.changes.iter().all(|c| c.address != "s.vpc.main"));
        assert_eq!(d.duplicates.len(), 1);
        assert_eq!(d.duplicates[0].ids, vec!["vpc-1", "vpc-2"]);
        assert_eq!(d.duplicates[0].kind, "vpc");
    }

    #[test]
    fn applied_state_without_refresh_is_a_no_op() {
        let d = run(STACK, &baseline(), HashMap::new(), &Filter::default()).unwrap();
        assert!(d.changes.is_empty(), "{:?}", d.changes);
        assert!(d.drift.is_empty());
    }

    #[test]
    fn live_tag_change_is_drift_and_an_update() {
        let state = baseline();
        let mut vpc = state.resource("s.vpc.main").unwrap().attributes.clone();
        vpc.insert("tags".into(), json!({"env": "hacked"}));
        let live = [(
            "s.vpc.main".to_string(),
            Some(Live {
                id: "id-main".into(),
                attrs: vpc,
                address: None,
                lineage: None,
            }),
        )]
        .into_iter()
        .collect();
        let d = run(STACK, &state, live, &Filter::default()).unwrap();
        assert_eq!(d.drift.len(), 1);
        assert_eq!(d.drift[0].attributes[0].name, "tags");
        assert_eq!(d.changes.len(), 1);
        assert_eq!(d.changes[0].action, Action::Update);
        assert_eq!(d.changes[0].changed, vec!["tags".to_string()]);
    }

    #[test]
    fn force_new_change_replaces_and_dependents_follow() {
        let state = baseline();
        let changed = STACK
            .replace("10.0.0.0/16", "10.9.0.0/16")
            .replace("10.0.1.0/24", "10.9.1.0/24");
        let d = run(&changed, &state, HashMap::new(), &Filter::default()).unwrap();
        let vpc = d
            .changes
            .iter()
            .find(|c| c.address == "s.vpc.main")
            .unwrap();
        assert_eq!(vpc.action, Action::Replace);
        assert_eq!(vpc.replace_because, vec!["cidr_block".to_string()]);
        let subnet = d
            .changes
            .iter()
            .find(|c| c.address == "s.subnet.a")
            .unwrap();
        assert_eq!(subnet.action, Action::Replace);
    }

    #[test]
    fn replacing_a_protected_resource_is_refused_naming_the_attribute() {
        let changed = STACK.replace("name = \"keep\"", "name = \"kept\"");
        let err = run(&changed, &baseline(), HashMap::new(), &Filter::default()).unwrap_err();
        assert_eq!(err[0].address, "s.iam_role.keep");
        assert!(err[0].message.contains("`name`"), "{}", err[0].message);
    }

    #[test]
    fn destroy_keeps_protected_resources_and_deleted_outside_is_only_forgotten() {
        let state = baseline();
        let live = [("s.subnet.a".to_string(), None)].into_iter().collect();
        let filter = Filter {
            destroy: true,
            ..Filter::default()
        };
        let d = run(STACK, &state, live, &filter).unwrap();
        assert_eq!(d.kept, vec!["s.iam_role.keep".to_string()]);
        let action = |a: &str| d.changes.iter().find(|c| c.address == a).map(|c| c.action);
        assert_eq!(action("s.vpc.main"), Some(Action::Delete));
        assert_eq!(action("s.subnet.a"), Some(Action::Forget));
        assert_eq!(action("s.iam_role.keep"), None);
    }

    const ORG: &str = r#"
[organization.main]

[organizational_unit.workloads]
name = "Workloads"
parent_id = "r-root"

[organizational_unit.team]
name = "Team"
parent_id = "${organizational_unit.workloads.id}"

[organizational_unit.empty]
name = "Empty"
parent_id = "r-root"

[account.alpha]
name = "alpha"
email = "alpha@example.com"
parent_id = "${organizational_unit.team.id}"
close_on_destroy = CLOSE

[policy.root_guard]
name = "root-guard"
content = { Version = "2012-10-17", Statement = [{ Effect = "Deny", Action = "s3:*", Resource = "*" }] }

[policy_attachment.root_guard]
policy_id = "${policy.root_guard.id}"
target_id = "r-root"

[policy.unused]
name = "unused"
content = { Version = "2012-10-17", Statement = [{ Effect = "Deny", Action = "ec2:*", Resource = "*" }] }

[delegated_administrator.guardduty]
account_id = "${account.alpha.id}"
service_principal = "guardduty.amazonaws.com"

[vpc.main]
cidr_block = "10.0.0.0/16"
"#;

    fn destroy_org(close: bool, allow_account_closure: bool) -> HashMap<String, (Action, String)> {
        let stack = ORG.replace("CLOSE", &close.to_string());
        let first = applied(&resolved(&stack, &Known::default()));
        let state = applied(&resolved(&stack, &known_from(&first)));
        let filter = Filter {
            destroy: true,
            allow_account_closure,
            ..Filter::default()
        };
        run(&stack, &state, HashMap::new(), &filter)
            .unwrap()
            .changes
            .into_iter()
            .map(|c| (c.address, (c.action, c.reason.unwrap_or_default())))
            .collect()
    }

    #[test]
    fn destroy_leaves_what_kept_accounts_sit_in_and_are_governed_by() {
        let d = destroy_org(false, false);
        let action = |a: &str| d[&format!("s.{a}")].0;
        for a in [
            "account.alpha",
            "organizational_unit.team",
            "organizational_unit.workloads",
            "organization.main",
            "policy_attachment.root_guard",
            "policy.root_guard",
            "delegated_administrator.guardduty",
        ] {
            assert_eq!(action(a), Action::Forget, "{a}: {:?}", d[&format!("s.{a}")]);
        }
        for a in ["organizational_unit.empty", "policy.unused", "vpc.main"] {
            assert_eq!(action(a), Action::Delete, "{a}");
        }
        let why = |a: &str| d[&format!("s.{a}")].1.clone();
        assert!(
            why("organizational_unit.workloads").contains("`s.organizational_unit.team`"),
            "{}",
            why("organizational_unit.workloads")
        );
        assert!(
            why("policy_attachment.root_guard").contains("`s.account.alpha`, which stays open"),
            "{}",
            why("policy_attachment.root_guard")
        );
    }

    #[test]
    fn destroy_that_closes_the_account_still_leaves_its_ous_but_not_its_guardrails() {
        let d = destroy_org(true, true);
        let action = |a: &str| d[&format!("s.{a}")].0;
        assert_eq!(action("account.alpha"), Action::Delete);
        // AWS keeps a closed account in its OU for up to 90 days, and in the organization.
        assert_eq!(action("organizational_unit.team"), Action::Forget);
        assert_eq!(action("organizational_unit.workloads"), Action::Forget);
        assert_eq!(action("organization.main"), Action::Forget);
        assert_eq!(action("policy_attachment.root_guard"), Action::Delete);
        assert_eq!(action("policy.root_guard"), Action::Delete);
        assert_eq!(action("delegated_administrator.guardduty"), Action::Delete);
    }

    #[test]
    fn target_takes_dependencies_and_exclude_takes_dependents() {
        let changed = STACK
            .replace("10.0.0.0/16", "10.9.0.0/16")
            .replace("10.0.1.0/24", "10.9.1.0/24");
        let state = State::new("test", "s");
        let only = |f: Filter| {
            let mut a: Vec<String> = run(&changed, &state, HashMap::new(), &f)
                .unwrap()
                .changes
                .into_iter()
                .map(|c| c.address)
                .collect();
            a.sort();
            a
        };
        assert_eq!(
            only(Filter {
                targets: vec!["s.subnet.a".into()],
                ..Filter::default()
            }),
            ["s.subnet.a", "s.vpc.main"]
        );
        assert_eq!(
            only(Filter {
                excludes: vec!["s.vpc.main".into()],
                ..Filter::default()
            }),
            ["s.iam_role.keep"]
        );
    }

    /// Regression (issue 12, item 3): a `--target`, `--exclude` or `--stack` that matches nothing
    /// planned "No changes" (or everything); now it is refused with the closest name.
    #[test]
    fn filters_that_match_nothing_are_refused_with_the_closest_name() {
        let state = State::new("test", "s");
        let refused = |f: Filter| {
            run(STACK, &state, HashMap::new(), &f)
                .unwrap_err()
                .into_iter()
                .map(|r| r.message)
                .collect::<Vec<_>>()
        };
        let messages = refused(Filter {
            targets: vec!["s.vpc.mian".into(), "s.subnet.b".into()],
            excludes: vec!["s.nothing.here".into()],
            stacks: vec!["z".into()],
            ..Filter::default()
        });
        assert_eq!(messages.len(), 4, "{messages:#?}");
        assert!(
            messages[0].starts_with("--target s.vpc.mian: no resource")
                && messages[0].ends_with("did you mean `s.vpc.main`?"),
            "{messages:#?}"
        );
        assert!(
            messages[1].starts_with("--target s.subnet.b: ")
                && messages[1].ends_with("`s.subnet.a`?"),
            "{messages:#?}"
        );
        assert!(
            messages[2].ends_with("`landfall state list` shows the addresses"),
            "{messages:#?}"
        );
        assert!(
            messages[3].starts_with("--stack z: no stack of this environment has this name"),
            "{messages:#?}"
        );
        // A prefix that covers resources (a whole stack) matches.
        assert!(
            run(
                STACK,
                &state,
                HashMap::new(),
                &Filter {
                    targets: vec!["s".into()],
                    stacks: vec!["s".into()],
                    ..Filter::default()
                }
            )
            .is_ok()
        );
    }
}
