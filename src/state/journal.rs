//! The journal beside a state document: what an apply changed since it last wrote the whole document.
//!
//! An apply writes the whole document once when it starts changing things, naming its journal
//! (`journal: <id>`, a random id per run); every checkpoint after that is a [`Batch`] appended to the
//! journal, and at the end the whole document is written again without the journal, which is then
//! deleted. A checkpoint costs what changed, not the whole state.
//!
//! - local backend: `<stack>.journal.<id>.jsonl`, one line per batch, appended and fsynced;
//! - s3 backend: `<stack>.journal.<id>/<serial>.jsonl`, one object per batch (one line).
//!
//! [`Backend::read`](super::Backend::read) replays the journal a document names, so every reader
//! (plan, apply, state commands, outputs, other stacks' remote reads) sees each change that reached a
//! batch, also when the apply was killed. Entries say what state holds at an address, not what to do:
//! replaying a batch twice (a write whose answer was lost, written again) changes nothing.

use super::backend::{NO_SUCH_BUCKET, no_bucket};
use super::{Backend, BackendConfig, Pending, ResourceState, State, StateError};
use crate::aws::call;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What state holds at one address after a change (nothing, when all three are empty).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<ResourceState>,
    /// Old objects of a create-before-destroy replacement, not deleted yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deposed: Vec<ResourceState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Pending>,
}

/// One journal write: the serial it brings the document to, and what changed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Batch {
    pub serial: u64,
    pub entries: Vec<Entry>,
    /// The stack's outputs, when they changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<serde_json::Map<String, serde_json::Value>>,
}

impl State {
    /// What this state holds at `address`.
    pub fn entry(&self, address: &str) -> Entry {
        Entry {
            address: address.to_string(),
            current: self.resource(address).cloned(),
            deposed: self
                .deposed
                .iter()
                .filter(|r| r.address == address)
                .cloned()
                .collect(),
            pending: self.pending.iter().find(|p| p.address == address).cloned(),
        }
    }

    /// Makes `entry` what this state holds at its address.
    pub fn restore(&mut self, entry: Entry) {
        let address = entry.address.as_str();
        match entry.current {
            Some(r) => self.put(r),
            None => {
                self.remove(address);
            }
        }
        self.deposed.retain(|r| r.address != address);
        self.deposed.extend(entry.deposed);
        self.pending.retain(|p| p.address != address);
        self.pending.extend(entry.pending);
    }

    /// Applies journal batches in order; the serial becomes the last one's.
    pub fn replay(&mut self, batches: Vec<Batch>) {
        for batch in batches {
            self.serial = self.serial.max(batch.serial);
            for entry in batch.entries {
                self.restore(entry);
            }
            if let Some(outputs) = batch.outputs {
                self.outputs = outputs;
            }
        }
    }
}

impl Batch {
    /// The batch as written: one line of JSON.
    pub fn to_line(&self) -> String {
        let mut text = serde_json::to_string(self).expect("journal batch serializes");
        text.push('\n');
        text
    }
}

impl Backend {
    /// Appends `batch` to journal `id` of a stack. Returns the bytes written.
    pub async fn append_journal(
        &self,
        env: &str,
        stack: &str,
        id: &str,
        batch: &Batch,
    ) -> Result<usize, StateError> {
        let what = self.describe(env, stack);
        let text = batch.to_line();
        let bytes = text.len();
        self.count_write(bytes);
        match self.config() {
            BackendConfig::Local { .. } => {
                // File I/O with fsync: off the async workers, which run the AWS calls.
                let path = self.journal_path(env, stack, id);
                tokio::task::spawn_blocking(move || append_local(&path, &text))
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|r| r.map_err(|e| e.to_string()))
                    .map_err(|message| StateError::Io { what, message })?;
            }
            BackendConfig::S3 { .. } => {
                let (s3, bucket, prefix) = self.s3()?;
                let key = format!(
                    "{}{:012}.jsonl",
                    journal_prefix(&prefix, env, stack, id),
                    batch.serial
                );
                match self.put(&s3, bucket, &key, &text, None).await {
                    Ok(_) => {}
                    // Only this run writes under its journal id: a retry after a lost answer.
                    Err(e) if e.status == Some(412) || e.is("PreconditionFailed") => {}
                    Err(e) if e.is(NO_SUCH_BUCKET) => return Err(no_bucket(what, bucket, env)),
                    Err(source) => {
                        return Err(StateError::Aws {
                            what,
                            source: Box::new(source),
                        });
                    }
                }
            }
        }
        Ok(bytes)
    }

    /// The batches of journal `id` of a stack, in order (none when it was never written). A last
    /// local line cut short by a crash while it was written is no batch: it is skipped with a warning.
    pub(super) async fn read_journal(
        &self,
        env: &str,
        stack: &str,
        id: &str,
    ) -> Result<Vec<Batch>, StateError> {
        let what = format!("{} (journal {id})", self.describe(env, stack));
        match self.config() {
            BackendConfig::Local { .. } => {
                let text = match std::fs::read_to_string(self.journal_path(env, stack, id)) {
                    Ok(text) => text,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                    Err(e) => {
                        return Err(StateError::Io {
                            what,
                            message: e.to_string(),
                        });
                    }
                };
                parse_lines(&text, &what)
            }
            BackendConfig::S3 { .. } => self.read_s3_journal(env, stack, id, &what).await,
        }
    }

    /// The batch objects of an s3 journal, read in parallel.
    async fn read_s3_journal(
        &self,
        env: &str,
        stack: &str,
        id: &str,
        what: &str,
    ) -> Result<Vec<Batch>, StateError> {
        let (s3, bucket, prefix) = self.s3()?;
        let keys = self
            .journal_keys(&s3, bucket, &journal_prefix(&prefix, env, stack, id), what)
            .await?;
        let mut reads = tokio::task::JoinSet::new();
        for (i, key) in keys.into_iter().enumerate() {
            let (backend, s3, bucket) = (self.clone(), s3.clone(), bucket.to_string());
            let (what, env) = (what.to_string(), env.to_string());
            reads.spawn(
                async move { (i, backend.read_text(&s3, &bucket, &key, &what, &env).await) },
            );
        }
        let mut texts = Vec::new();
        while let Some(joined) = reads.join_next().await {
            let (i, found) = joined.map_err(|e| StateError::Io {
                what: what.to_string(),
                message: e.to_string(),
            })?;
            // A batch gone since the listing: the journal is being compacted; the caller reads again.
            if let Some((text, _)) = found? {
                texts.push((i, text));
            }
        }
        texts.sort_by_key(|(i, _)| *i);
        texts
            .iter()
            .map(|(_, text)| parse_batch(text, what))
            .collect()
    }

    /// Deletes journal `id` of a stack (nothing when it is not there).
    async fn delete_journal(&self, env: &str, stack: &str, id: &str) -> Result<(), StateError> {
        let what = format!("{} (journal {id})", self.describe(env, stack));
        match self.config() {
            BackendConfig::Local { .. } => {
                match std::fs::remove_file(self.journal_path(env, stack, id)) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StateError::Io {
                        what,
                        message: e.to_string(),
                    }),
                    _ => Ok(()),
                }
            }
            BackendConfig::S3 { .. } => {
                let (s3, bucket, prefix) = self.s3()?;
                let keys = self
                    .journal_keys(&s3, bucket, &journal_prefix(&prefix, env, stack, id), &what)
                    .await?;
                delete_keys(&s3, bucket, &keys, &what).await
            }
        }
    }

    /// Deletes journal `id` of a stack that no document names any more: garbage, whose deletion may
    /// fail harmlessly (with a warning).
    pub async fn discard_journal(&self, env: &str, stack: &str, id: &str) {
        if let Err(e) = self.delete_journal(env, stack, id).await {
            eprintln!("warning: could not delete the state journal {id}: {e}");
        }
    }

    /// The keys under `prefix`, in order.
    async fn journal_keys(
        &self,
        s3: &aws_sdk_s3::Client,
        bucket: &str,
        prefix: &str,
        what: &str,
    ) -> Result<Vec<String>, StateError> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = call("ListObjectsV2", || {
                s3.list_objects_v2()
                    .bucket(bucket)
                    .prefix(prefix)
                    .set_continuation_token(token.clone())
                    .send()
            })
            .await
            .map_err(|source| StateError::Aws {
                what: what.to_string(),
                source: Box::new(source),
            })?;
            keys.extend(
                out.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
            token = out.next_continuation_token().map(str::to_string);
            if token.is_none() || out.is_truncated() != Some(true) {
                break;
            }
        }
        keys.sort();
        Ok(keys)
    }

    fn journal_path(&self, env: &str, stack: &str, id: &str) -> PathBuf {
        self.local_path(env, stack)
            .with_extension(format!("journal.{id}.jsonl"))
    }
}

/// Deletes s3 objects, a thousand per request.
async fn delete_keys(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    keys: &[String],
    what: &str,
) -> Result<(), StateError> {
    use aws_sdk_s3::types::{Delete, ObjectIdentifier};
    let invalid = |e: aws_sdk_s3::error::BuildError| StateError::Io {
        what: what.to_string(),
        message: e.to_string(),
    };
    for chunk in keys.chunks(1000) {
        let objects = chunk
            .iter()
            .map(|k| ObjectIdentifier::builder().key(k).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(invalid)?;
        let delete = Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .map_err(invalid)?;
        call("DeleteObjects", || {
            s3.delete_objects()
                .bucket(bucket)
                .delete(delete.clone())
                .send()
        })
        .await
        .map_err(|source| StateError::Aws {
            what: what.to_string(),
            source: Box::new(source),
        })?;
    }
    Ok(())
}

/// The batches of a local journal's text. Every batch ends with a newline: text after the last one
/// is a line whose write was cut short (the run died during it), never confirmed, so skipped.
fn parse_lines(text: &str, what: &str) -> Result<Vec<Batch>, StateError> {
    let (complete, torn) = match text.rfind('\n') {
        Some(end) => (&text[..end], &text[end + 1..]),
        None => ("", text),
    };
    if !torn.is_empty() {
        eprintln!(
            "warning: state {what}: ignoring its last line ({} bytes, cut short while it was written by a run that stopped)",
            torn.len()
        );
    }
    complete
        .lines()
        .map(|line| parse_batch(line, what))
        .collect()
}

fn parse_batch(text: &str, what: &str) -> Result<Batch, StateError> {
    serde_json::from_str(text).map_err(|e| StateError::Corrupt {
        what: what.to_string(),
        message: format!("a journal batch: {e}"),
    })
}

/// Appends `text` to a journal file and makes it durable.
fn append_local(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_data()
}

/// Where the objects of journal `id` of a stack are: one per batch, named by its serial.
fn journal_prefix(prefix: &str, env: &str, stack: &str, id: &str) -> String {
    let key = super::backend::s3_key(prefix, env, stack);
    format!("{}.journal.{id}/", key.trim_end_matches(".json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(address: &str, id: &str) -> ResourceState {
        ResourceState {
            address: address.into(),
            kind: "vpc".into(),
            id: id.into(),
            account: None,
            region: Some("eu-west-1".into()),
            attributes: Default::default(),
            dependencies: Vec::new(),
        }
    }

    /// A run's changes as batches, taken from the live state after each step.
    fn run() -> (State, Vec<Batch>) {
        let mut live = State::new("dev", "net");
        let mut batches = Vec::new();
        let mut batch = |live: &State, addresses: &[&str]| {
            batches.push(Batch {
                serial: batches.len() as u64 + 2,
                entries: addresses.iter().map(|a| live.entry(a)).collect(),
                outputs: Some(live.outputs.clone()),
            })
        };
        live.put(resource("net.vpc.a", "vpc-1"));
        live.pending.push(Pending {
            address: "net.account.x".into(),
            operation: "create".into(),
            request_id: "car-1".into(),
            started: "now".into(),
        });
        batch(&live, &["net.vpc.a", "net.account.x"]);
        live.replace_object("vpc-1", resource("net.vpc.a", "vpc-2"));
        live.pending.clear();
        live.put(resource("net.account.x", "111"));
        live.outputs.insert("id".into(), "vpc-2".into());
        batch(&live, &["net.vpc.a", "net.account.x"]);
        live.remove_object("net.vpc.a", "vpc-1");
        batch(&live, &["net.vpc.a"]);
        live.serial = 4;
        (live, batches)
    }

    #[test]
    fn replaying_entries_rebuilds_the_state_they_were_taken_from() {
        let (live, batches) = run();
        let mut stored = State::new("dev", "net");
        stored.lineage = live.lineage.clone();
        stored.replay(batches);
        assert_eq!(stored, live);
    }

    #[test]
    fn replaying_a_batch_twice_changes_nothing() {
        let (live, mut batches) = run();
        let mut stored = State::new("dev", "net");
        stored.lineage = live.lineage.clone();
        batches.insert(1, batches[0].clone());
        let last = batches.last().unwrap().clone();
        batches.push(last);
        stored.replay(batches.clone());
        assert_eq!(stored, live);
        // A reader replaying the journal again on top of what it already replayed.
        stored.replay(batches);
        assert_eq!(stored, live);
    }

    #[test]
    fn a_torn_last_line_is_no_batch_and_a_torn_middle_line_is_corrupt() {
        let (_, batches) = run();
        let whole: String = batches.iter().map(Batch::to_line).collect();
        let torn = &whole[..whole.len() - 10];
        assert_eq!(parse_lines(&whole, "j").unwrap(), batches);
        assert_eq!(parse_lines(torn, "j").unwrap(), batches[..2]);
        assert!(parse_lines("", "j").unwrap().is_empty());
        let middle = whole.replacen("\"serial\":3", "\"serial\":", 1);
        let err = parse_lines(&middle, "j").unwrap_err().to_string();
        assert!(err.contains("a journal batch"), "{err}");
    }
}
