//! Where state documents live and how they are locked.
//!
//! - `local`: `<path>/<env>/<stack>.json` (default path `.landfall/state`), lock file `<stack>.json.lock`
//!   created exclusively (`O_EXCL`), so two processes on one machine exclude each other.
//! - `s3`: `s3://<bucket>/<prefix>/<env>/<stack>.json`, lock object `<key>.lock` written with
//!   `If-None-Match: *` (exactly one writer wins), state written with `If-Match` on the ETag it was read
//!   with, so a writer that lost its lock can never overwrite newer state.
//!
//! A lock names its holder's run by id. Finding a lock with this run's own id while taking it means
//! an earlier attempt of the same write succeeded unheard: the lock is ours. A lock error lists every
//! stack of the environment the holder's run has locked, so one `force-unlock --env E ID` clears a
//! dead run's locks.

use super::State;
use crate::aws::{Aws, AwsError, call};
use crate::diag::Diagnostic;
use crate::expr::Expr;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The `[backend]` settings, checked.
#[derive(Debug, Clone, PartialEq)]
pub enum BackendConfig {
    Local {
        path: PathBuf,
    },
    S3 {
        bucket: String,
        prefix: String,
        region: String,
        /// `AES256` (default) or `aws:kms`.
        encryption: String,
        kms_key_id: Option<String>,
        force_path_style: bool,
    },
}

impl BackendConfig {
    /// Reads `[backend]` (landfall.toml with the environment's overrides). Only plain values are allowed:
    /// the backend is needed before anything is evaluated.
    pub fn from_table(
        table: &IndexMap<String, Expr>,
        home_region: &str,
    ) -> Result<BackendConfig, Vec<Diagnostic>> {
        let mut diags = Vec::new();
        let mut get = |key: &str| -> Option<String> {
            let e = table.get(key)?;
            match (e.as_str(), &e.kind) {
                (Some(s), _) => Some(s.to_string()),
                (None, crate::expr::ExprKind::Lit(crate::expr::Value::Bool(b))) => {
                    Some(b.to_string())
                }
                _ => {
                    diags.push(
                        Diagnostic::error(format!("backend `{key}` must be a plain value"))
                            .at(e.span, "expressions are not allowed in [backend]"),
                    );
                    None
                }
            }
        };
        let kind = get("kind").unwrap_or_else(|| "local".into());
        let config = match kind.as_str() {
            "local" => BackendConfig::Local {
                path: get("path")
                    .unwrap_or_else(|| ".landfall/state".into())
                    .into(),
            },
            "s3" => {
                let bucket = get("bucket").unwrap_or_default();
                let path_style_env = std::env::var("LANDFALL_S3_FORCE_PATH_STYLE")
                    .is_ok_and(|v| v == "true" || v == "1");
                let config = BackendConfig::S3 {
                    prefix: get("prefix")
                        .unwrap_or_else(|| "landfall".into())
                        .trim_matches('/')
                        .to_string(),
                    region: get("region").unwrap_or_else(|| home_region.to_string()),
                    encryption: get("encryption").unwrap_or_else(|| "AES256".into()),
                    kms_key_id: get("kms_key_id"),
                    force_path_style: path_style_env
                        || get("force_path_style").is_some_and(|v| v == "true"),
                    bucket,
                };
                if let BackendConfig::S3 {
                    bucket, encryption, ..
                } = &config
                {
                    if bucket.is_empty() {
                        diags.push(Diagnostic::error(
                            "the s3 backend needs `bucket` in [backend] of landfall.toml or the environment",
                        ));
                    }
                    if encryption != "AES256" && encryption != "aws:kms" {
                        diags.push(
                            Diagnostic::error(format!("unknown encryption `{encryption}`"))
                                .at(table["encryption"].span, "expected AES256 or aws:kms"),
                        );
                    }
                }
                config
            }
            other => {
                let span = table.get("kind").map(|e| e.span);
                let d = Diagnostic::error(format!("unknown backend kind `{other}`"))
                    .help("kind = \"local\" (state under .landfall/state) or \"s3\" (with bucket)");
                diags.push(match span {
                    Some(s) => d.at(s, "expected \"local\" or \"s3\""),
                    None => d,
                });
                return Err(diags);
            }
        };
        if let Some(d) = table
            .keys()
            .find(|k| !BACKEND_KEYS.contains(&k.as_str()))
            .map(|k| {
                Diagnostic::error(format!("unknown key `{k}` in [backend]"))
                    .at(table[k.as_str()].span, "not a backend setting")
                    .suggest(k, BACKEND_KEYS.iter().copied())
            })
        {
            diags.push(d);
        }
        if diags.is_empty() {
            Ok(config)
        } else {
            Err(diags)
        }
    }

    /// Where a stack's state is, for messages.
    pub fn describe(&self, env: &str, stack: &str) -> String {
        match self {
            BackendConfig::Local { path } => path
                .join(env)
                .join(format!("{stack}.json"))
                .display()
                .to_string(),
            BackendConfig::S3 { bucket, prefix, .. } => {
                format!("s3://{bucket}/{}", s3_key(prefix, env, stack))
            }
        }
    }
}

const BACKEND_KEYS: &[&str] = &[
    "kind",
    "path",
    "bucket",
    "prefix",
    "region",
    "encryption",
    "kms_key_id",
    "force_path_style",
];

/// S3's error code for a bucket that does not exist (a missing object is `NoSuchKey`).
pub(super) const NO_SUCH_BUCKET: &str = "NoSuchBucket";

pub(super) fn no_bucket(what: String, bucket: &str, env: &str) -> StateError {
    StateError::NoBucket {
        what,
        bucket: bucket.to_string(),
        env: env.to_string(),
    }
}

pub(super) fn s3_key(prefix: &str, env: &str, stack: &str) -> String {
    if prefix.is_empty() {
        format!("{env}/{stack}.json")
    } else {
        format!("{prefix}/{env}/{stack}.json")
    }
}

/// Who holds a lock; stored in the lock object and shown when someone else wants it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LockInfo {
    pub id: String,
    pub who: String,
    pub host: String,
    pub operation: String,
    /// RFC 3339.
    pub created: String,
}

impl LockInfo {
    pub fn new(who: &str, operation: &str) -> LockInfo {
        LockInfo {
            id: super::new_lineage(),
            who: who.to_string(),
            host: gethostname::gethostname().to_string_lossy().into_owned(),
            operation: operation.to_string(),
            created: super::now(),
        }
    }
}

/// A state document as read, with the version to make the next write conditional on.
#[derive(Debug, Clone)]
pub struct Stored {
    /// With the journal it named replayed (and `journal` cleared).
    pub state: State,
    /// The version of the document itself.
    pub etag: String,
    /// The journal of an apply that did not finish, replayed into `state`: garbage once a document
    /// without it is written.
    pub journal: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state {what} is not valid: {message}")]
    Corrupt { what: String, message: String },
    /// The s3 backend's bucket does not exist: never read as "no state", which would plan to create
    /// every resource again.
    #[error(
        "state {what}: the bucket `{bucket}` does not exist. Check `[backend] bucket` (and the credentials' account), or run `landfall init --env {env}` to create it"
    )]
    NoBucket {
        what: String,
        bucket: String,
        env: String,
    },
    #[error(
        "state {what} is locked by {} on {} ({}, since {})\n  lock id: {}\n  {}\n  if that run is dead, clear {} with:\n    landfall force-unlock --env {env} {}",
        holder.who, holder.host, holder.operation, holder.created, holder.id,
        held_by_run(env, held),
        if held.len() > 1 { "its locks" } else { "the lock" },
        holder.id
    )]
    Locked {
        what: String,
        env: String,
        /// Every stack of the environment whose lock carries the holder's id (the stack asked for
        /// among them): one `force-unlock` without `--stack` releases them all.
        held: Vec<String>,
        holder: Box<LockInfo>,
    },
    #[error(
        "state {what} was changed by someone else since it was read (its version moved); nothing was overwritten. Run the command again"
    )]
    Conflict { what: String },
    #[error("state {what}: lock `{id}` is not held (the lock there is {found})")]
    LockMismatch {
        what: String,
        id: String,
        found: String,
    },
    #[error("state {what}: {message}")]
    Io { what: String, message: String },
    #[error("state {what}: {source}")]
    Aws { what: String, source: Box<AwsError> },
}

/// A configured backend, ready to use.
#[derive(Clone)]
pub struct Backend {
    config: BackendConfig,
    /// Local paths are relative to the project root.
    root: PathBuf,
    aws: Option<std::sync::Arc<Aws>>,
    /// How long [`Backend::lock`] waits for a lock someone else holds (`--lock-timeout`; zero: not at all).
    pub(super) lock_timeout: std::time::Duration,
}

impl Backend {
    /// `aws` is needed for the s3 backend only.
    /// The same project and AWS access, another configuration (another environment's backend).
    pub fn with_config(&self, config: BackendConfig) -> Backend {
        Backend::new(config, &self.root, self.aws.clone())
    }

    pub fn new(config: BackendConfig, root: &Path, aws: Option<std::sync::Arc<Aws>>) -> Backend {
        Backend {
            config,
            root: root.to_path_buf(),
            aws,
            lock_timeout: std::time::Duration::ZERO,
        }
    }

    pub fn config(&self) -> &BackendConfig {
        &self.config
    }

    pub fn describe(&self, env: &str, stack: &str) -> String {
        self.config.describe(env, stack)
    }

    pub(super) fn local_path(&self, env: &str, stack: &str) -> PathBuf {
        match &self.config {
            BackendConfig::Local { path } => {
                self.root.join(path).join(env).join(format!("{stack}.json"))
            }
            BackendConfig::S3 { .. } => unreachable!("local path of an s3 backend"),
        }
    }

    pub(super) fn s3(&self) -> Result<(aws_sdk_s3::Client, &str, String), StateError> {
        let BackendConfig::S3 {
            bucket,
            region,
            force_path_style,
            prefix,
            ..
        } = &self.config
        else {
            unreachable!("s3 client of a local backend")
        };
        let aws = self.aws.as_ref().ok_or_else(|| StateError::Io {
            what: format!("s3://{bucket}"),
            message: "no AWS access configured".into(),
        })?;
        Ok((aws.s3(region, *force_path_style), bucket, prefix.clone()))
    }

    /// Reads a stack's state; `None` when it was never written. The journal of an apply that is
    /// running, or died, is replayed into it.
    pub async fn read(&self, env: &str, stack: &str) -> Result<Option<Stored>, StateError> {
        let what = self.describe(env, stack);
        // A running apply may compact its journal (a new document, the journal deleted) between
        // the reads of the document and of its journal: read again until the document held still.
        for _ in 0..5 {
            let Some((text, etag)) = self.read_document(env, stack).await? else {
                return Ok(None);
            };
            let mut state = State::from_json(&text, &what)?;
            let Some(journal) = state.journal.take() else {
                return Ok(Some(Stored {
                    state,
                    etag,
                    journal: None,
                }));
            };
            state.replay(self.read_journal(env, stack, &journal).await?);
            state.compact();
            let now = self.read_document(env, stack).await?;
            if now.is_some_and(|(_, again)| again == etag) {
                return Ok(Some(Stored {
                    state,
                    etag,
                    journal: Some(journal),
                }));
            }
        }
        Err(StateError::Io {
            what,
            message: "it changed at every read; try again".into(),
        })
    }

    /// A state document's text and version; `None` when it was never written.
    async fn read_document(
        &self,
        env: &str,
        stack: &str,
    ) -> Result<Option<(String, String)>, StateError> {
        let what = self.describe(env, stack);
        match &self.config {
            BackendConfig::Local { .. } => {
                match std::fs::read_to_string(self.local_path(env, stack)) {
                    Ok(text) => {
                        let etag = digest(&text);
                        Ok(Some((text, etag)))
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(StateError::Io {
                        what,
                        message: e.to_string(),
                    }),
                }
            }
            BackendConfig::S3 { .. } => {
                let (s3, bucket, prefix) = self.s3()?;
                let key = s3_key(&prefix, env, stack);
                self.read_text(&s3, bucket, &key, &what, env).await
            }
        }
    }

    /// An S3 object's text and ETag; `None` when it does not exist.
    pub(super) async fn read_text(
        &self,
        s3: &aws_sdk_s3::Client,
        bucket: &str,
        key: &str,
        what: &str,
        env: &str,
    ) -> Result<Option<(String, String)>, StateError> {
        let out = match call("GetObject", || {
            s3.get_object().bucket(bucket).key(key).send()
        })
        .await
        {
            Ok(out) => out,
            Err(e) if e.is(NO_SUCH_BUCKET) => return Err(no_bucket(what.to_string(), bucket, env)),
            // Only a missing document is "never written" (NoSuchKey, or a bare 404).
            Err(e) if e.is_not_found() => return Ok(None),
            Err(source) => {
                return Err(StateError::Aws {
                    what: what.to_string(),
                    source: Box::new(source),
                });
            }
        };
        let etag = out.e_tag().unwrap_or_default().to_string();
        let bytes = out.body.collect().await.map_err(|e| StateError::Io {
            what: what.to_string(),
            message: e.to_string(),
        })?;
        Ok(Some((
            String::from_utf8_lossy(&bytes.into_bytes()).into_owned(),
            etag,
        )))
    }

    /// Writes a stack's state if it is still at version `expected` (`None`: it must not exist yet).
    /// Returns the new version.
    pub async fn write(&self, state: &State, expected: Option<&str>) -> Result<String, StateError> {
        let (env, stack) = (&state.environment, &state.stack);
        self.write_text(env, stack, state.to_json(), expected).await
    }

    /// [`Backend::write`] of a document already serialized ([`State::to_json`]): a checkpoint
    /// serializes the state under its lock instead of copying it first.
    pub async fn write_text(
        &self,
        env: &str,
        stack: &str,
        text: String,
        expected: Option<&str>,
    ) -> Result<String, StateError> {
        let what = self.describe(env, stack);
        self.count_write(text.len());
        match &self.config {
            BackendConfig::Local { .. } => {
                // File I/O with fsync: off the async workers, which run the AWS calls.
                let path = self.local_path(env, stack);
                let expected = expected.map(str::to_string);
                tokio::task::spawn_blocking(move || {
                    write_local(&path, &text, expected.as_deref(), &what)
                })
                .await
                .map_err(|e| StateError::Io {
                    what: self.describe(env, stack),
                    message: e.to_string(),
                })?
            }
            BackendConfig::S3 { .. } => {
                let (s3, bucket, prefix) = self.s3()?;
                let key = s3_key(&prefix, env, stack);
                let result = self.put(&s3, bucket, &key, &text, expected).await;
                match result {
                    Ok(out) => Ok(out.e_tag().unwrap_or_default().to_string()),
                    Err(e) if e.status == Some(412) || e.is("PreconditionFailed") => {
                        // A retry after a lost answer finds the document it wrote itself: written.
                        match self.read_text(&s3, bucket, &key, &what, env).await? {
                            Some((stored, etag)) if stored == text => Ok(etag),
                            _ => Err(StateError::Conflict { what }),
                        }
                    }
                    Err(e) if e.is(NO_SUCH_BUCKET) => Err(no_bucket(what, bucket, env)),
                    Err(source) => Err(StateError::Aws {
                        what,
                        source: Box::new(source),
                    }),
                }
            }
        }
    }

    /// Writes an S3 object with the backend's encryption if it is still at version `expected`
    /// (`None`: it must not exist yet).
    pub(super) async fn put(
        &self,
        s3: &aws_sdk_s3::Client,
        bucket: &str,
        key: &str,
        text: &str,
        expected: Option<&str>,
    ) -> Result<aws_sdk_s3::operation::put_object::PutObjectOutput, AwsError> {
        let BackendConfig::S3 {
            encryption,
            kms_key_id,
            ..
        } = &self.config
        else {
            unreachable!("s3 write of a local backend")
        };
        call("PutObject", || {
            let mut req = s3
                .put_object()
                .bucket(bucket)
                .key(key)
                .content_type("application/json")
                .server_side_encryption(encryption.as_str().into())
                .body(text.as_bytes().to_vec().into());
            if let Some(k) = kms_key_id {
                req = req.ssekms_key_id(k);
            }
            req = match expected {
                Some(etag) => req.if_match(etag),
                None => req.if_none_match("*"),
            };
            req.send()
        })
        .await
    }

    /// Counts a state write for `--stats`.
    pub(super) fn count_write(&self, bytes: usize) {
        if let Some(aws) = &self.aws {
            aws.stats().state_written(bytes);
        }
    }

    /// Takes the lock of a stack once, or reports who holds it, with every stack of `stacks` (the
    /// environment's) whose lock that same holder has. [`Backend::lock`] calls it until it gets the
    /// lock or its time is up.
    ///
    /// A lock that carries `info`'s own id is ours: the answer to our create was lost and its retry
    /// found what the first attempt wrote.
    pub(super) async fn try_lock(
        &self,
        env: &str,
        stack: &str,
        info: &LockInfo,
        stacks: &[String],
    ) -> Result<(), StateError> {
        let what = self.describe(env, stack);
        let text = serde_json::to_string_pretty(info).expect("lock info serializes");
        let taken = async || -> Result<(), StateError> {
            let holder = self
                .read_lock(env, stack)
                .await?
                .unwrap_or_else(unknown_holder);
            if holder.id == info.id {
                return Ok(());
            }
            let mut held = self.held_by(env, stacks, &holder.id).await?;
            if !held.iter().any(|s| s == stack) {
                held.insert(0, stack.to_string());
            }
            Err(StateError::Locked {
                what: what.clone(),
                env: env.to_string(),
                held,
                holder: Box::new(holder),
            })
        };
        match &self.config {
            BackendConfig::Local { .. } => {
                let path = lock_path(&self.local_path(env, stack));
                let io = |e: std::io::Error| StateError::Io {
                    what: what.clone(),
                    message: e.to_string(),
                };
                std::fs::create_dir_all(path.parent().expect("lock path has a parent"))
                    .map_err(io)?;
                match std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&path)
                {
                    Ok(mut f) => {
                        f.write_all(text.as_bytes()).map_err(io)?;
                        f.sync_all().map_err(io)
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => taken().await,
                    Err(e) => Err(io(e)),
                }
            }
            BackendConfig::S3 { .. } => {
                let (s3, bucket, prefix) = self.s3()?;
                let key = format!("{}.lock", s3_key(&prefix, env, stack));
                let result = call("PutObject", || {
                    s3.put_object()
                        .bucket(bucket)
                        .key(&key)
                        .content_type("application/json")
                        .if_none_match("*")
                        .body(text.clone().into_bytes().into())
                        .send()
                })
                .await;
                match result {
                    Ok(_) => Ok(()),
                    Err(e) if e.status == Some(412) || e.is("PreconditionFailed") => taken().await,
                    Err(source) => Err(StateError::Aws {
                        what,
                        source: Box::new(source),
                    }),
                }
            }
        }
    }

    /// Who holds the lock of a stack, if anyone.
    pub async fn read_lock(&self, env: &str, stack: &str) -> Result<Option<LockInfo>, StateError> {
        let what = self.describe(env, stack);
        let text = match &self.config {
            BackendConfig::Local { .. } => {
                // Bytes, not text: a lock that is not UTF-8 is unreadable, not an I/O failure.
                match std::fs::read(lock_path(&self.local_path(env, stack))) {
                    Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => {
                        return Err(StateError::Io {
                            what,
                            message: e.to_string(),
                        });
                    }
                }
            }
            BackendConfig::S3 { .. } => {
                let (s3, bucket, prefix) = self.s3()?;
                let key = format!("{}.lock", s3_key(&prefix, env, stack));
                match self.read_text(&s3, bucket, &key, &what, env).await? {
                    Some((text, _)) => text,
                    None => return Ok(None),
                }
            }
        };
        // A lock being written right now may be empty for an instant; report an unknown holder.
        Ok(Some(
            serde_json::from_str(&text).unwrap_or_else(|_| unknown_holder()),
        ))
    }

    /// The stacks among `stacks` whose lock carries `id`, in that order.
    pub async fn held_by(
        &self,
        env: &str,
        stacks: &[String],
        id: &str,
    ) -> Result<Vec<String>, StateError> {
        let mut held = Vec::new();
        for stack in stacks {
            if self
                .read_lock(env, stack)
                .await?
                .is_some_and(|holder| holder.id == id)
            {
                held.push(stack.clone());
            }
        }
        Ok(held)
    }

    /// Releases a lock this run holds (`id`), or any lock when `force` (for `force-unlock`, which
    /// checks the id itself).
    pub async fn unlock(&self, env: &str, stack: &str, id: &str) -> Result<(), StateError> {
        let what = self.describe(env, stack);
        match self.read_lock(env, stack).await? {
            None => {
                return Err(StateError::LockMismatch {
                    what,
                    id: id.to_string(),
                    found: "none".into(),
                });
            }
            Some(holder) if holder.id != id => {
                return Err(StateError::LockMismatch {
                    what,
                    id: id.to_string(),
                    found: holder.id,
                });
            }
            Some(_) => {}
        }
        match &self.config {
            BackendConfig::Local { .. } => {
                std::fs::remove_file(lock_path(&self.local_path(env, stack))).map_err(|e| {
                    StateError::Io {
                        what,
                        message: e.to_string(),
                    }
                })
            }
            BackendConfig::S3 { .. } => {
                let (s3, bucket, prefix) = self.s3()?;
                let key = format!("{}.lock", s3_key(&prefix, env, stack));
                call("DeleteObject", || {
                    s3.delete_object().bucket(bucket).key(&key).send()
                })
                .await
                .map(|_| ())
                .map_err(|source| StateError::Aws {
                    what,
                    source: Box::new(source),
                })
            }
        }
    }

    /// Creates the s3 backend's bucket if it is missing, with versioning, default encryption and the
    /// public access block. Returns whether it was created. Does nothing for the local backend.
    pub async fn init(&self) -> Result<bool, StateError> {
        let BackendConfig::S3 {
            region,
            encryption,
            kms_key_id,
            ..
        } = &self.config
        else {
            return Ok(false);
        };
        let (s3, bucket, _) = self.s3()?;
        let what = format!("s3://{bucket}");
        let aws_err = |source| StateError::Aws {
            what: what.clone(),
            source: Box::new(source),
        };
        let exists = match call("HeadBucket", || s3.head_bucket().bucket(bucket).send()).await {
            Ok(_) => true,
            Err(e) if e.is_not_found() => false,
            Err(e) => return Err(aws_err(e)),
        };
        if !exists {
            use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
            call("CreateBucket", || {
                let mut req = s3.create_bucket().bucket(bucket);
                if region != "us-east-1" {
                    req = req.create_bucket_configuration(
                        CreateBucketConfiguration::builder()
                            .location_constraint(BucketLocationConstraint::from(region.as_str()))
                            .build(),
                    );
                }
                req.send()
            })
            .await
            .map_err(aws_err)?;
        }
        use aws_sdk_s3::types::{
            BucketVersioningStatus, PublicAccessBlockConfiguration, ServerSideEncryption,
            ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
            ServerSideEncryptionRule, VersioningConfiguration,
        };
        call("PutBucketVersioning", || {
            s3.put_bucket_versioning()
                .bucket(bucket)
                .versioning_configuration(
                    VersioningConfiguration::builder()
                        .status(BucketVersioningStatus::Enabled)
                        .build(),
                )
                .send()
        })
        .await
        .map_err(aws_err)?;
        let mut default = ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::from(encryption.as_str()));
        if let Some(k) = kms_key_id {
            default = default.kms_master_key_id(k);
        }
        let default = default
            .build()
            .map_err(|e| aws_err(AwsError::other("PutBucketEncryption", e.to_string())))?;
        let encryption_config = ServerSideEncryptionConfiguration::builder()
            .rules(
                ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(default)
                    .build(),
            )
            .build()
            .map_err(|e| aws_err(AwsError::other("PutBucketEncryption", e.to_string())))?;
        call("PutBucketEncryption", || {
            s3.put_bucket_encryption()
                .bucket(bucket)
                .server_side_encryption_configuration(encryption_config.clone())
                .send()
        })
        .await
        .map_err(aws_err)?;
        call("PutPublicAccessBlock", || {
            s3.put_public_access_block()
                .bucket(bucket)
                .public_access_block_configuration(
                    PublicAccessBlockConfiguration::builder()
                        .block_public_acls(true)
                        .ignore_public_acls(true)
                        .block_public_policy(true)
                        .restrict_public_buckets(true)
                        .build(),
                )
                .send()
        })
        .await
        .map_err(aws_err)?;
        Ok(!exists)
    }
}

/// Writes a local state file if its current content has digest `expected` (`None`: absent).
fn write_local(
    path: &Path,
    text: &str,
    expected: Option<&str>,
    what: &str,
) -> Result<String, StateError> {
    let current = std::fs::read_to_string(path).ok().map(|t| digest(&t));
    if current.as_deref() != expected {
        return Err(StateError::Conflict {
            what: what.to_string(),
        });
    }
    let io = |e: std::io::Error| StateError::Io {
        what: what.to_string(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(path.parent().expect("state path has a parent")).map_err(io)?;
    // Write beside, then rename: a crash never leaves a half-written document.
    let tmp = path.with_extension("json.tmp");
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(text.as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    Ok(digest(text))
}

fn lock_path(state_path: &Path) -> PathBuf {
    state_path.with_extension("json.lock")
}

/// The line of a lock error that says which stacks the holder's run has locked.
fn held_by_run(env: &str, held: &[String]) -> String {
    match held {
        [one] => format!("that run holds the lock of stack `{one}` of environment `{env}`"),
        _ => format!(
            "that run holds the locks of {} stacks of environment `{env}`: {}",
            held.len(),
            held.join(", ")
        ),
    }
}

/// The id reported for a lock document that cannot be read.
pub const UNREADABLE_LOCK: &str = "unreadable";

/// The holder of a lock whose document cannot be read. Its id is a plain word, so the
/// `force-unlock` command the lock error prints works in a shell and releases exactly such locks.
fn unknown_holder() -> LockInfo {
    LockInfo {
        id: UNREADABLE_LOCK.into(),
        who: "(unknown)".into(),
        host: "(unknown)".into(),
        operation: "(unknown)".into(),
        created: "(unknown)".into(),
    }
}

fn digest(text: &str) -> String {
    let hash = Sha256::digest(text.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locked(held: &[&str]) -> String {
        StateError::Locked {
            what: "s3://acme-state/landfall/prod/network.json".into(),
            env: "prod".into(),
            held: held.iter().map(|s| s.to_string()).collect(),
            holder: Box::new(LockInfo {
                id: "4f1c".into(),
                who: "arn:aws:iam::111122223333:role/ci".into(),
                host: "runner-7".into(),
                operation: "apply".into(),
                created: "2026-11-27T10:00:00Z".into(),
            }),
        }
        .to_string()
    }

    #[test]
    fn lock_error_names_every_stack_of_the_run_and_one_command() {
        assert_eq!(
            locked(&["network", "organization", "baseline"]),
            "state s3://acme-state/landfall/prod/network.json is locked by arn:aws:iam::111122223333:role/ci on runner-7 (apply, since 2026-11-27T10:00:00Z)
  lock id: 4f1c
  that run holds the locks of 3 stacks of environment `prod`: network, organization, baseline
  if that run is dead, clear its locks with:
    landfall force-unlock --env prod 4f1c"
        );
        assert!(locked(&["network"]).contains(
            "that run holds the lock of stack `network` of environment `prod`\n  if that run is dead, clear the lock with:"
        ));
    }
}
