//! Refresh: read what exists, batched per kind × account × region (never one call per resource).
//!
//! Each group asks the kind's provider for the ids state knows there; the provider also returns
//! resources carrying a `landfall:address` tag. A configured resource that state does not have is
//! looked for in the account and region it is configured for, whatever state (lineage) created it,
//! by that tag or, for kinds that take no tags, by the id AWS makes unique or as the one there is
//! ([`provider::Identity`]): a run that died before saving state, a state document deleted or rolled back, or a
//! state of another lineage must lead to an import, never to a second resource. Two live resources
//! carrying one address are reported as duplicates instead.
//!
//! The same listings also show copies: a live resource carrying the address tag of a resource in
//! state (same kind, account and region) whose id is neither that resource's nor any other known
//! one's, e.g. left by a lost create answer or by two applies racing after a lock was removed. They
//! are reported in [`Refreshed::copies`] at no extra request (only what the batched read returns
//! anyway is looked at).
//!
//! A resource keeps the address tag it was created with; `[[moved]]` entries are followed from it
//! ([`Resolved::moved_address`]), so a resource moved and then lost from state is still found.
//!
//! Only configured resources missing from state cost extra listings (a steady-state refresh makes
//! none). A resource whose account is only known once its account is adopted (a member account's
//! VPC when the organization's state was lost too) is looked for by [`refresh_missing`], after the
//! caller resolved the configuration again with what was adopted.

use crate::aws::{Aws, AwsError};
use crate::expr::Value;
use crate::provider::{self, Cx, Identity, KindHints, Live, Location, NoPending, ReadCache};
use crate::resolve::Resolved;
use crate::schema::{self, Scope};
use crate::state::State;
use indexmap::IndexMap;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, Default)]
pub struct Refreshed {
    /// By address, for every resource in state: what AWS has now (`None`: gone).
    pub live: HashMap<String, Option<Live>>,
    /// Configured resources missing from state, found by their address tag where they are
    /// configured (in any lineage): the plan imports them.
    pub adopted: HashMap<String, Live>,
    /// Configured resources missing from state whose address tag more than one live resource
    /// carries: their ids, sorted. The plan neither imports nor creates them.
    pub duplicates: HashMap<String, Vec<String>>,
    /// By address of a resource in state: other live resources carrying its address tag in the same
    /// kind, account and region (orphan copies), each with its own tags' lineage.
    pub copies: HashMap<String, Vec<Live>>,
    /// The addresses already looked for, so a later pass ([`refresh_missing`]) does not look again.
    searched: HashSet<String>,
}

#[derive(Default)]
struct Group {
    /// (address, id) of resources in state.
    known: Vec<(String, String)>,
    /// Ids of missing resources recognised by id ([`Identity::Id`]), asked for like known ones.
    recognise: Vec<String>,
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
    let mut out = Refreshed::default();
    pass(
        aws,
        home_region,
        resolved,
        states,
        parallelism,
        &mut out,
        true,
    )
    .await?;
    Ok(out)
}

/// Looks for configured resources missing from state that earlier passes could not look for (their
/// account was unknown) or did not find, in places not searched yet. Returns whether it adopted or
/// found duplicates of anything new, i.e. whether resolving again may make more accounts known.
pub async fn refresh_missing(
    aws: &Arc<Aws>,
    home_region: &str,
    resolved: &Resolved,
    states: &IndexMap<String, State>,
    parallelism: usize,
    out: &mut Refreshed,
) -> Result<bool, AwsError> {
    pass(aws, home_region, resolved, states, parallelism, out, false).await
}

/// What one refresh pass reads: per (kind, location), the ids state knows there and the ids to
/// recognise; what configured-but-missing resources look like where they would be; read hints.
#[derive(Default)]
struct Reads<'a> {
    groups: BTreeMap<(String, Location), Group>,
    hints: HashMap<String, KindHints>,
    expected: HashMap<&'a str, ((String, Location), Identity)>,
    /// Old objects of interrupted replacements carry their address too; they are not copies.
    deposed: HashSet<&'a str>,
}

async fn pass(
    aws: &Arc<Aws>,
    home_region: &str,
    resolved: &Resolved,
    states: &IndexMap<String, State>,
    parallelism: usize,
    out: &mut Refreshed,
    with_state: bool,
) -> Result<bool, AwsError> {
    let mut reads = Reads::default();
    let in_state = reads.read_state(states, home_region, with_state);
    reads.expect_missing(resolved, &in_state, &out.searched, home_region);
    if reads.groups.is_empty() {
        return Ok(false);
    }
    let Reads {
        groups,
        hints,
        expected,
        deposed,
    } = reads;
    let mut candidates: BTreeMap<String, Vec<Live>> = BTreeMap::new();
    for (key, group, found) in read_all(aws, groups, hints, parallelism).await? {
        record_found(out, resolved, &deposed, &group, &found);
        recognise(&mut candidates, resolved, &expected, &key, &group, &found);
    }
    out.searched
        .extend(expected.into_keys().map(str::to_string));
    let found_any = !candidates.is_empty();
    for (address, mut lives) in candidates {
        if lives.len() == 1 {
            out.adopted.insert(address, lives.remove(0));
        } else {
            let mut ids: Vec<String> = lives.into_iter().map(|l| l.id).collect();
            ids.sort();
            out.duplicates.insert(address, ids);
        }
    }
    Ok(found_any)
}

impl<'a> Reads<'a> {
    /// What state holds (read by id when `with_state`); returns the addresses in state.
    fn read_state(
        &mut self,
        states: &'a IndexMap<String, State>,
        home_region: &str,
        with_state: bool,
    ) -> HashSet<&'a str> {
        let mut in_state = HashSet::new();
        for state in states.values() {
            self.deposed
                .extend(state.deposed.iter().map(|r| r.id.as_str()));
            for r in &state.resources {
                in_state.insert(r.address.as_str());
                if !with_state {
                    continue;
                }
                self.hints
                    .entry(r.kind.clone())
                    .or_insert_with(|| KindHints::of_kind(&r.kind))
                    .add_state(&r.attributes);
                let loc = location(r.account.clone(), r.region.as_deref(), home_region, &r.kind);
                self.groups
                    .entry((r.kind.clone(), loc))
                    .or_default()
                    .known
                    .push((r.address.clone(), r.id.clone()));
            }
        }
        in_state
    }

    /// Where configured resources missing from state would be, if an earlier run (of any state)
    /// created them, and how each is recognised there.
    fn expect_missing(
        &mut self,
        resolved: &'a Resolved,
        in_state: &HashSet<&str>,
        searched: &HashSet<String>,
        home_region: &str,
    ) {
        for inst in &resolved.instances {
            let address = inst.address.as_str();
            if in_state.contains(address) || searched.contains(address) {
                continue;
            }
            let account = match &inst.account {
                Value::Null => None,
                Value::String(s) => Some(s.clone()),
                _ => continue, // the account is not known (yet): neither is where to look
            };
            let known: provider::Attrs = inst
                .attrs
                .iter()
                .filter(|(_, v)| !v.has_unknown() && v.first_resource().is_none())
                .map(|(k, v)| (k.to_string(), v.to_json()))
                .collect();
            let Some(identity) = provider::identity(inst.kind.name, &known) else {
                continue; // not recognisable until what it refers to is found
            };
            let key = (
                inst.kind.name.to_string(),
                location(account, inst.region.as_deref(), home_region, inst.kind.name),
            );
            let group = self.groups.entry(key.clone()).or_default();
            if let Identity::Id(id) = &identity {
                group.recognise.push(id.clone());
            }
            self.expected.insert(address, (key, identity));
            self.hints
                .entry(inst.kind.name.to_string())
                .or_insert_with(|| KindHints::of_kind(inst.kind.name))
                .missing
                .push(known);
        }
    }
}

type Found = ((String, Location), Group, Vec<Live>);

/// An account, and one of the listings several kinds share there (`None`: the whole account).
type ReadScope = (Option<String>, Option<&'static str>);

/// The scopes a group's read counts in: its account, and the listing its kind shares, if any.
fn scopes(key: &(String, Location)) -> impl Iterator<Item = ReadScope> {
    let account = key.1.account.clone();
    let listing = provider::shared_listing(&key.0).map(|l| (account.clone(), Some(l)));
    [(account, None)].into_iter().chain(listing)
}

/// Group reads in flight at once across all accounts, at most, for a process that may open
/// `open_files` files: half of them, so the sockets a refresh opens (one per read in flight) leave
/// room for everything else, at least 64 and at most 256. AWS throttles each account on its own,
/// but every member account's first read is an AssumeRole counted against the caller's account, and
/// one endpoint sent thousands of reads at once does not answer them in time: the 1,000-account
/// no-op plan failed against the emulator with 4,096 (answers after the 15 s attempt timeout) and
/// with 512 (connections refused past its listen backlog, 5 s connect timeouts), and finished with
/// 256. The price: a 28-account refresh (about 330 reads) goes out in two waves.
pub const MAX_READS_IN_FLIGHT: usize = 256;

pub fn max_reads_in_flight(open_files: u64) -> usize {
    usize::try_from(open_files / 2)
        .map_or(MAX_READS_IN_FLIGHT, |n| n.clamp(64, MAX_READS_IN_FLIGHT))
}

/// The process's limit of open files (soft), raised to its hard limit first: the soft default
/// (often 1,024) is a guard for programs that leak descriptors, not a budget.
fn open_files_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    limit.rlim_cur
}

/// Every group's batched read: `parallelism` at once in each account (AWS throttles requests per
/// account and region, so accounts do not slow each other down), at most [`max_reads_in_flight`] in
/// all. The management account's reads start first (the organization's listings walk the OU tree a
/// level at a time, the longest chain of a refresh); the others go kind by kind across accounts, so
/// each account's first read (which assumes its access role, shared by its other reads) starts early.
async fn read_all(
    aws: &Arc<Aws>,
    groups: BTreeMap<(String, Location), Group>,
    hints: HashMap<String, KindHints>,
    parallelism: usize,
) -> Result<Vec<Found>, AwsError> {
    let all = Arc::new(tokio::sync::Semaphore::new(max_reads_in_flight(
        open_files_limit(),
    )));
    let mut per_account: HashMap<Option<String>, Arc<tokio::sync::Semaphore>> = HashMap::new();
    // Reads not finished yet, per account (no listing) and per listing several kinds share there
    // (see `provider::shared_listing`): a listing is dropped after the last read needing it (an
    // account's IAM authorization details would otherwise stay until its last kind is read, near
    // the end of the refresh), an account's other listings after its last read.
    let mut unfinished: HashMap<ReadScope, Arc<AtomicUsize>> = HashMap::new();
    for key in groups.keys() {
        for scope in scopes(key) {
            unfinished
                .entry(scope)
                .or_default()
                .fetch_add(1, Ordering::Relaxed);
        }
    }
    let cache = Arc::new(ReadCache::with_hints(hints));
    let mut reads = tokio::task::JoinSet::new();
    let (management, members): (Vec<_>, Vec<_>) = groups
        .into_iter()
        .partition(|(key, _)| key.1.account.is_none());
    for (key, group) in management.into_iter().chain(members) {
        let account = per_account
            .entry(key.1.account.clone())
            .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(parallelism.max(1))))
            .clone();
        let waiting: Vec<(Option<&str>, Arc<AtomicUsize>)> = scopes(&key)
            .map(|scope| (scope.1, unfinished[&scope].clone()))
            .collect();
        let (aws, all, cache) = (aws.clone(), all.clone(), cache.clone());
        reads.spawn(async move {
            let _in_account = account.acquire_owned().await;
            let _in_all = all.acquire_owned().await;
            let mut ids: Vec<String> = group.known.iter().map(|(_, id)| id.clone()).collect();
            ids.extend(group.recognise.iter().cloned());
            ids.sort();
            ids.dedup();
            let cx = Cx {
                aws: &aws,
                loc: &key.1,
                lineage: "",
                pending: None,
                record_pending: &NoPending,
                cache: Some(&*cache),
                moves: &[],
            };
            let found = provider::read(&key.0, &cx, &ids).await;
            let in_account = key.1.account.as_deref();
            for (listing, left) in waiting {
                if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                    match listing {
                        Some(listing) => cache.forget_listing(in_account, listing),
                        None => cache.forget(in_account),
                    }
                }
            }
            (key, group, found)
        });
    }
    let mut all = Vec::new();
    while let Some(joined) = reads.join_next().await {
        let (key, group, found) = joined.map_err(|e| AwsError::other("refresh", e.to_string()))?;
        all.push((key, group, found?));
    }
    Ok(all)
}

/// What a group's read says of the resources state knows there, and the copies beside them.
fn record_found(
    out: &mut Refreshed,
    resolved: &Resolved,
    deposed: &HashSet<&str>,
    group: &Group,
    found: &[Live],
) {
    let by_id: HashMap<&str, &Live> = found.iter().map(|l| (l.id.as_str(), l)).collect();
    for (address, id) in &group.known {
        out.live.insert(
            address.clone(),
            by_id.get(id.as_str()).map(|l| (*l).clone()),
        );
    }
    let known_ids: HashSet<&str> = group.known.iter().map(|(_, id)| id.as_str()).collect();
    let in_group: HashMap<&str, &str> = group
        .known
        .iter()
        .map(|(a, id)| (a.as_str(), id.as_str()))
        .collect();
    for live in found {
        let Some(address) = live.address.as_deref().map(|a| resolved.moved_address(a)) else {
            continue;
        };
        let address = address.as_str();
        // Any id known under another address is not a copy: a resource moved to a new address
        // keeps the tag of its old one.
        let copy = in_group.get(address).is_some_and(|id| *id != live.id)
            && !known_ids.contains(live.id.as_str())
            && !deposed.contains(live.id.as_str());
        if copy {
            let seen = out.copies.entry(address.to_string()).or_default();
            if !seen.iter().any(|l| l.id == live.id) {
                seen.push(live.clone());
            }
        }
    }
}

/// Live resources of a group recognised as a configured resource missing from state.
fn recognise(
    candidates: &mut BTreeMap<String, Vec<Live>>,
    resolved: &Resolved,
    expected: &HashMap<&str, ((String, Location), Identity)>,
    key: &(String, Location),
    group: &Group,
    found: &[Live],
) {
    let known_ids: HashSet<&str> = group.known.iter().map(|(_, id)| id.as_str()).collect();
    for (address, (place, identity)) in expected {
        if place != key {
            continue;
        }
        let tagged_as = |live: &Live| {
            live.address
                .as_deref()
                .is_some_and(|a| resolved.moved_address(a) == *address)
        };
        let recognised = found.iter().filter(|live| match identity {
            Identity::Tag => tagged_as(live),
            Identity::Id(id) => live.id == *id && !known_ids.contains(id.as_str()),
            // The one there is: untagged, or tagged with this address (a taggable one per account
            // and region, like a GuardDuty detector, made by a state since lost).
            Identity::Singleton => {
                (live.address.is_none() || tagged_as(live)) && !known_ids.contains(live.id.as_str())
            }
            Identity::Unique { attr, value } => {
                live.attrs.get(*attr).and_then(|v| v.as_str()) == Some(value.as_str())
                    && !known_ids.contains(live.id.as_str())
            }
        });
        for live in recognised {
            let seen = candidates.entry(address.to_string()).or_default();
            if !seen.iter().any(|l| l.id == live.id) {
                seen.push(live.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_in_flight_take_half_the_open_files_within_bounds() {
        assert_eq!(max_reads_in_flight(300), 150);
        assert_eq!(max_reads_in_flight(1024), 256);
        assert_eq!(max_reads_in_flight(20_000), 256);
        assert_eq!(max_reads_in_flight(100), 64);
        assert_eq!(max_reads_in_flight(u64::MAX), 256);
    }
}
