//! A saved plan against the plan derived again from its recorded basis ([`super::basis`]).
//!
//! `apply FILE` never executes what the file says: it derives the plan again from the configuration
//! it has, state and a fresh refresh, with the options the file records, and applies that derived
//! plan only if the file says exactly the same. Every difference is named:
//! - in what the plan was derived from (a stack's configuration digest, a remote output, what AWS
//!   reported): the plan is stale, or its record was edited ([`Mismatch::Stale`]);
//! - in what it would do, change by change (address, action, id, location, every attribute value
//!   before and after, what changed, why it is replaced, its reason), and in the moves, kept
//!   resources, drift, duplicates and copies it reports: the file was edited, or is stale in a way
//!   the basis does not show ([`Mismatch::Changes`]).
//!
//! The order of the changes is not compared: apply orders them by the dependency graph of the
//! configuration, never by the file.

use super::basis::{Derivation, Observations};
use super::{Change, Plan};
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// How a saved plan differs from the plan derived again, each difference as a sentence.
#[derive(Debug, Clone, PartialEq)]
pub enum Mismatch {
    /// What the plan was derived from is not what apply finds.
    Stale(Vec<String>),
    /// The changes (or what the plan reports beside them) are not what apply derives.
    Changes(Vec<String>),
}

/// Compares the plan file with the plan derived again (whose state bases were checked already).
pub fn compare(file: &Plan, derived: &Plan) -> Result<(), Mismatch> {
    let Some(basis) = &file.derived_from else {
        return Err(Mismatch::Stale(vec![
            "it records no basis to verify it against (saved by a landfall before 2026-11-27)"
                .into(),
        ]));
    };
    let mut stale = configuration(file, derived);
    if let Some(now) = &derived.derived_from {
        stale.extend(inputs(basis, now));
    }
    if !stale.is_empty() {
        return Err(Mismatch::Stale(stale));
    }
    let mut edited = changes(&file.resource_changes, &derived.resource_changes);
    edited.extend(reported(file, derived));
    if edited.is_empty() {
        Ok(())
    } else {
        Err(Mismatch::Changes(edited))
    }
}

/// The stacks' configuration digests.
fn configuration(file: &Plan, derived: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    for (stack, now) in &derived.stacks {
        match file.stacks.get(stack) {
            None => out.push(format!(
                "stack `{stack}` is in the configuration but not in the plan"
            )),
            Some(then) if then.config != now.config => out.push(format!(
                "the configuration of stack `{stack}` is not the one the plan was made from"
            )),
            Some(_) => {}
        }
    }
    for stack in file.stacks.keys() {
        if !derived.stacks.contains_key(stack) {
            out.push(format!(
                "stack `{stack}` is in the plan but no longer in the configuration"
            ));
        }
    }
    out
}

/// Remote outputs and what AWS reported.
fn inputs(then: &Derivation, now: &Derivation) -> Vec<String> {
    let mut out = Vec::new();
    for (stack, was, is) in keyed(&then.remote_outputs, &now.remote_outputs) {
        out.push(format!(
            "the outputs of `{stack}` read through remote.{stack} changed: the plan read {}, now {}",
            show(was),
            show(is)
        ));
    }
    out.extend(observations(&then.observed, &now.observed));
    out
}

/// What the refresh found then (as the file says) and now.
fn observations(then: &Observations, now: &Observations) -> Vec<String> {
    let mut out = Vec::new();
    let mut say = |what: &str, address: &str, was: String, is: String| {
        out.push(format!(
            "AWS reports {address}{what} differently: the plan file says {was}, AWS now says {is}"
        ));
    };
    for (address, was, is) in keyed(&then.live, &now.live) {
        say("", address, show(was), show(is));
    }
    for (address, was, is) in keyed(&then.adopted, &now.adopted) {
        say(" (found by its address tag)", address, show(was), show(is));
    }
    for (address, was, is) in keyed(&then.duplicates, &now.duplicates) {
        say(" (duplicates)", address, show(was), show(is));
    }
    for (address, was, is) in keyed(&then.copies, &now.copies) {
        say(" (copies beside it)", address, show(was), show(is));
    }
    out
}

/// The keys whose values differ between two maps, with both values (`None`: absent).
fn keyed<'a, T: PartialEq>(
    then: &'a BTreeMap<String, T>,
    now: &'a BTreeMap<String, T>,
) -> Vec<(&'a str, Option<&'a T>, Option<&'a T>)> {
    let mut keys: Vec<&String> = then.keys().chain(now.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|k| (k.as_str(), then.get(k), now.get(k)))
        .filter(|(_, a, b)| a != b)
        .collect()
}

/// The changes, address by address.
fn changes(file: &[Change], derived: &[Change]) -> Vec<String> {
    let (then, now) = (group(file), group(derived));
    let mut out = Vec::new();
    for (address, says, implies) in keyed(&then, &now) {
        match (says, implies) {
            (Some(says), None) => out.push(format!(
                "plan file says {}; configuration and state imply no change",
                actions(says)
            )),
            (None, Some(implies)) => out.push(format!(
                "configuration and state imply {}; the plan file does not have it",
                actions(implies)
            )),
            (Some(says), Some(implies)) if says.len() == 1 && implies.len() == 1 => {
                out.extend(fields(says[0], implies[0]));
            }
            (Some(says), Some(implies)) => out.push(format!(
                "{address}: plan file says {}; configuration and state imply {}",
                actions(says),
                actions(implies)
            )),
            (None, None) => {}
        }
    }
    out
}

fn group(list: &[Change]) -> BTreeMap<String, Vec<&Change>> {
    let mut out: BTreeMap<String, Vec<&Change>> = BTreeMap::new();
    for c in list {
        out.entry(c.address.clone()).or_default().push(c);
    }
    out
}

/// "delete network.vpc.main (vpc-1)", several joined with "and".
fn actions(list: &[&Change]) -> String {
    list.iter()
        .map(|c| {
            let action = serde_json::to_value(c.action).unwrap_or_default();
            let id = c.id.as_ref().map(|i| format!(" ({i})")).unwrap_or_default();
            format!("{} {}{id}", action.as_str().unwrap_or("?"), c.address)
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

/// The fields of one change that differ, attribute by attribute for `before` and `after`.
fn fields(says: &Change, implies: &Change) -> Vec<String> {
    if says.action != implies.action {
        return vec![format!(
            "plan file says {}; configuration and state imply {}",
            actions(&[says]),
            actions(&[implies])
        )];
    }
    let (a, b) = (as_map(says), as_map(implies));
    let mut out = Vec::new();
    for (field, was, is) in keyed(&a, &b) {
        let attributes = |v: Option<&Json>| match v {
            Some(Json::Object(m)) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            _ => BTreeMap::new(),
        };
        let (x, y) = (attributes(was), attributes(is));
        let nested = keyed(&x, &y);
        if matches!(field, "before" | "after") && !x.is_empty() && !y.is_empty() {
            for (attr, was, is) in nested {
                out.push(differs(&says.address, &format!("{field}.{attr}"), was, is));
            }
        } else {
            out.push(differs(&says.address, field, was, is));
        }
    }
    out
}

/// A plan or a change as its JSON fields, sorted.
fn as_map<T: serde::Serialize>(value: &T) -> BTreeMap<String, Json> {
    match serde_json::to_value(value) {
        Ok(Json::Object(m)) => m.into_iter().collect(),
        _ => BTreeMap::new(),
    }
}

fn differs(address: &str, field: &str, was: Option<&Json>, is: Option<&Json>) -> String {
    format!(
        "{address}: plan file says {field} = {}; configuration and state imply {}",
        show(was),
        show(is)
    )
}

/// What the plan reports beside its changes: moves, kept resources, drift, duplicates, copies.
fn reported(file: &Plan, derived: &Plan) -> Vec<String> {
    let (a, b) = (as_map(file), as_map(derived));
    let reported = ["destroy", "moved", "kept", "drift", "duplicates", "copies"];
    keyed(&a, &b)
        .into_iter()
        .filter(|(field, _, _)| reported.contains(field))
        .map(|(field, was, is)| {
            format!(
                "plan file says {field} = {}; configuration and state imply {}",
                show(was),
                show(is)
            )
        })
        .collect()
}

/// A value in a sentence: compact JSON, shortened; "nothing" when absent.
fn show<T: serde::Serialize>(value: Option<&T>) -> String {
    const LIMIT: usize = 160;
    let Some(value) = value else {
        return "nothing".into();
    };
    let text = serde_json::to_string(value).unwrap_or_default();
    if text.chars().count() <= LIMIT {
        return text;
    }
    let cut: String = text.chars().take(LIMIT).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A plan of one stack with these changes, derived from an empty observation.
    fn plan(changes: Json) -> Plan {
        serde_json::from_value(json!({
            "format_version": 1, "environment": "dev", "created": "2026-11-27T00:00:00Z",
            "config_digest": "c", "destroy": false,
            "stacks": { "network": { "lineage": "l", "serial": 3, "config": "c1" } },
            "derived_from": {
                "options": { "targets": [], "excludes": [], "stacks": [], "destroy": false,
                             "allow_account_closure": false, "replace": [], "refresh": true },
                "remote_outputs": {},
                "observed": { "live": {}, "adopted": {}, "duplicates": {}, "copies": {} }
            },
            "resource_changes": changes, "drift": [],
            "summary": { "add": 0, "change": 0, "replace": 0, "destroy": 0, "forget": 0, "import": 0, "drifted": 0 }
        }))
        .unwrap()
    }

    fn update(env: &str) -> Json {
        json!({ "address": "network.vpc.main", "kind": "vpc", "stack": "network", "account": null,
                "region": "eu-west-1", "action": "update", "id": "vpc-1",
                "before": { "tags": { "env": "a" } }, "after": { "tags": { "env": env } },
                "changed": ["tags"], "replace_because": [], "reason": null })
    }

    fn changes(file: &Plan, derived: &Plan) -> Vec<String> {
        match compare(file, derived) {
            Err(Mismatch::Changes(found)) => found,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_same_plan_passes() {
        assert_eq!(
            compare(&plan(json!([update("b")])), &plan(json!([update("b")]))),
            Ok(())
        );
    }

    #[test]
    fn an_added_change_is_named() {
        let mut extra = update("b");
        extra["address"] = json!("network.subnet.a");
        extra["action"] = json!("delete");
        let found = changes(
            &plan(json!([update("b"), extra])),
            &plan(json!([update("b")])),
        );
        assert_eq!(
            found,
            [
                "plan file says delete network.subnet.a (vpc-1); configuration and state imply no change"
            ]
        );
    }

    #[test]
    fn another_action_and_another_value_are_named() {
        let mut deleted = update("b");
        deleted["action"] = json!("delete");
        let found = changes(&plan(json!([deleted])), &plan(json!([update("b")])));
        assert_eq!(
            found,
            [
                "plan file says delete network.vpc.main (vpc-1); configuration and state imply update network.vpc.main (vpc-1)"
            ]
        );
        let found = changes(&plan(json!([update("evil")])), &plan(json!([update("b")])));
        assert_eq!(
            found,
            [
                "network.vpc.main: plan file says after.tags = {\"env\":\"evil\"}; configuration and state imply {\"env\":\"b\"}"
            ]
        );
    }

    #[test]
    fn a_changed_basis_is_stale_before_any_change_is_compared() {
        let file = plan(json!([update("b")]));
        let mut derived = plan(json!([]));
        derived.stacks["network"].config = Some("c2".into());
        let Err(Mismatch::Stale(found)) = compare(&file, &derived) else {
            panic!("not stale");
        };
        assert_eq!(
            found,
            ["the configuration of stack `network` is not the one the plan was made from"]
        );
        let mut old = file.clone();
        old.derived_from = None;
        assert!(matches!(compare(&old, &file), Err(Mismatch::Stale(_))));
    }
}
