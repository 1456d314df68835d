//! Refresh: read what exists, batched per kind × account × region (never one call per resource).
//!
//! Each group asks the kind's provider for the ids state knows there; the provider also returns
//! resources carrying a `landfall:address` tag, which is how a resource created by a run that died before
//! saving state is adopted instead of being created twice.

use crate::aws::{Aws, AwsError};
use crate::expr::Value;
use crate::provider::{self, Cx, KindHints, Live, Location, NoPending, ReadCache};
use crate::resolve::Resolved;
use crate::schema::{self, Scope};
use crate::state::State;
use indexmap::IndexMap;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

#[derive(Debug, Default)]
pub struct Refreshed {
    /// By address, for every resource in state: what AWS has now (`None`: gone).
    pub live: HashMap<String, Option<Live>>,
    /// Resources missing from state found by their address tag (and the state's lineage).
    pub adopted: HashMap<String, Live>,
}

#[derive(Default)]
struct Group {
    /// (address, id) of resources in state.
    known: Vec<(String, String)>,
}

fn location(account: Option<String>, region: Option<&str>, home: &str, kind: &str) -> Location {
    let regional = schema::kind(kind).is_some_and(|k| k.scope == Scope::Regional);
    Location {
        account,
        region: match region {
            Some(r) if regional => r.to_string(),
            _ => home.to_string(),
        },
    }
}

/// Refreshes every resource in `states`, and looks for tagged resources of the configuration's
/// instances that state does not have.
pub async fn refresh(
    aws: &Arc<Aws>,
    home_region: &str,
    resolved: &Resolved,
    states: &IndexMap<String, State>,
    parallelism: usize,
) -> Result<Refreshed, AwsError> {
    let mut groups: BTreeMap<(String, Location), Group> = BTreeMap::new();
    let lineage_of: HashMap<&str, &str> = states
        .iter()
        .map(|(s, st)| (s.as_str(), st.lineage.as_str()))
        .collect();
    let mut in_state = std::collections::HashSet::new();
    let mut hints: HashMap<String, KindHints> = HashMap::new();
    for state in states.values() {
        for r in &state.resources {
            hints
                .entry(r.kind.clone())
                .or_default()
                .in_state
                .push(r.attributes.clone());
            let loc = location(r.account.clone(), r.region.as_deref(), home_region, &r.kind);
            groups
                .entry((r.kind.clone(), loc))
                .or_default()
                .known
                .push((r.address.clone(), r.id.clone()));
            in_state.insert(r.address.as_str());
        }
    }
    // Where configured resources missing from state would be, if an earlier run created them. Only
    // stacks with state can have such resources: state is written before anything is created.
    for inst in &resolved.instances {
        if in_state.contains(inst.address.as_str()) || !lineage_of.contains_key(inst.stack.as_str())
        {
            continue;
        }
        let account = match &inst.account {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            _ => continue, // the account does not exist yet, so neither does the resource
        };
        let loc = location(account, inst.region.as_deref(), home_region, inst.kind.name);
        groups.entry((inst.kind.name.to_string(), loc)).or_default();
        let known: provider::Attrs = inst
            .attrs
            .iter()
            .filter(|(_, v)| !v.has_unknown() && v.first_resource().is_none())
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect();
        hints
            .entry(inst.kind.name.to_string())
            .or_default()
            .missing
            .push(known);
    }

    let limit = Arc::new(tokio::sync::Semaphore::new(parallelism.max(1)));
    let cache = Arc::new(ReadCache::with_hints(hints));
    let mut reads = tokio::task::JoinSet::new();
    for ((kind, loc), group) in groups {
        let (aws, limit, cache) = (aws.clone(), limit.clone(), cache.clone());
        reads.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let ids: Vec<String> = group.known.iter().map(|(_, id)| id.clone()).collect();
            let cx = Cx {
                aws: &aws,
                loc: &loc,
                lineage: "",
                pending: None,
                record_pending: &NoPending,
                cache: Some(&*cache),
            };
            let found = provider::read(&kind, &cx, &ids).await;
            (group, found)
        });
    }
    let addresses: HashMap<&str, &str> = resolved
        .instances
        .iter()
        .map(|i| (i.address.as_str(), i.stack.as_str()))
        .collect();
    let mut out = Refreshed::default();
    while let Some(joined) = reads.join_next().await {
        let (group, found) = joined.map_err(|e| AwsError::other("refresh", e.to_string()))?;
        let found = found?;
        let by_id: HashMap<&str, &Live> = found.iter().map(|l| (l.id.as_str(), l)).collect();
        for (address, id) in &group.known {
            out.live.insert(
                address.clone(),
                by_id.get(id.as_str()).map(|l| (*l).clone()),
            );
        }
        for live in &found {
            let Some(address) = &live.address else {
                continue;
            };
            if in_state.contains(address.as_str()) {
                continue;
            }
            // Adopt only what this environment's state created: same lineage.
            let ours = addresses
                .get(address.as_str())
                .and_then(|stack| lineage_of.get(stack))
                .is_some_and(|lineage| live.lineage.as_deref() == Some(*lineage));
            if ours {
                out.adopted.insert(address.clone(), live.clone());
            }
        }
    }
    Ok(out)
}
