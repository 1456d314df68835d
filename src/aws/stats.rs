//! Counts the requests sent to AWS, by service and operation, for `--stats`.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Requests sent, keyed by (service, operation). Every attempt counts, retries included.
#[derive(Debug, Default)]
pub struct Stats {
    counts: Arc<Mutex<BTreeMap<(String, String), u64>>>,
    /// State writes (whole documents and journal batches), to see what checkpoints cost.
    state_writes: AtomicU64,
    /// Their bytes.
    state_bytes: AtomicU64,
}

impl Stats {
    pub fn interceptor(&self) -> StatsInterceptor {
        StatsInterceptor {
            counts: self.counts.clone(),
        }
    }

    pub fn snapshot(&self) -> BTreeMap<(String, String), u64> {
        self.counts.lock().unwrap().clone()
    }

    /// Counts one state write of `bytes`.
    pub fn state_written(&self, bytes: usize) {
        self.state_writes.fetch_add(1, Ordering::Relaxed);
        self.state_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub fn total(&self) -> u64 {
        self.counts.lock().unwrap().values().sum()
    }

    /// A table for the terminal: one line per operation, then the total.
    pub fn render(&self) -> String {
        let counts = self.snapshot();
        let mut out = String::from("API requests:\n");
        let width = counts
            .keys()
            .map(|(s, o)| s.len() + o.len() + 1)
            .max()
            .unwrap_or(0);
        for ((service, op), n) in &counts {
            let name = format!("{service}.{op}");
            out.push_str(&format!("  {name:<width$}  {n:>6}\n"));
        }
        let total: u64 = counts.values().sum();
        out.push_str(&format!("  {:<width$}  {total:>6}\n", "total"));
        let writes = self.state_writes.load(Ordering::Relaxed);
        if writes > 0 {
            let bytes = self.state_bytes.load(Ordering::Relaxed);
            out.push_str(&format!("State writes: {writes} ({bytes} bytes)\n"));
        }
        out
    }
}

#[derive(Debug, Clone)]
pub struct StatsInterceptor {
    counts: Arc<Mutex<BTreeMap<(String, String), u64>>>,
}

impl Intercept for StatsInterceptor {
    fn name(&self) -> &'static str {
        "landfall-stats"
    }

    fn read_before_attempt(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(meta) = cfg.load::<Metadata>() {
            *self
                .counts
                .lock()
                .unwrap()
                .entry((meta.service().to_string(), meta.name().to_string()))
                .or_default() += 1;
        }
        Ok(())
    }
}
