//! What every request did, seen by an interceptor on every client: the endpoint it went to (so an
//! error with no answer — refused, timed out, dropped — can name it) and, with `LANDFALL_LOG=debug`,
//! one log line per attempt: service, operation, account, region, HTTP status or error, latency, and
//! landfall's attempt number (its own retries, see [`super::call`]).

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use std::cell::RefCell;
use std::future::Future;
use std::time::Instant;

#[derive(Debug, Default)]
struct Slot {
    endpoint: Option<String>,
    attempt: u32,
}

tokio::task_local! {
    static SLOT: RefCell<Slot>;
}

/// Runs landfall's attempt number `attempt` of a call, returning its result and the endpoint it was
/// sent to (if it got that far).
pub async fn tracked<T>(attempt: u32, send: impl Future<Output = T>) -> (T, Option<String>) {
    let slot = RefCell::new(Slot {
        endpoint: None,
        attempt,
    });
    // Boxed: the SDK's futures are large, and every call goes through here.
    let send = Box::pin(send);
    SLOT.scope(slot, async {
        let out = send.await;
        (out, SLOT.with(|s| s.borrow().endpoint.clone()))
    })
    .await
}

/// `scheme://host[:port]` of a URI: no path or query (they may carry request parameters).
fn origin(uri: &str) -> String {
    match uri.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split(['/', '?']).next().unwrap_or(rest);
            format!("{scheme}://{host}")
        }
        None => uri.split(['/', '?']).next().unwrap_or(uri).to_string(),
    }
}

/// When the SDK's attempt was sent.
#[derive(Debug, Clone)]
struct Started(Instant);

impl Storable for Started {
    type Storer = StoreReplace<Started>;
}

/// The interceptor of one client: which account (`None`: the caller's) and region it calls.
#[derive(Debug, Clone)]
pub struct Observer {
    pub account: Option<String>,
    pub region: String,
}

impl Intercept for Observer {
    fn name(&self) -> &'static str {
        "landfall-observer"
    }

    fn read_before_transmit(
        &self,
        ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let uri = origin(ctx.request().uri());
        // Outside `tracked` (a call not made through `call`) there is nowhere to write: fine.
        let _ = SLOT.try_with(|s| s.borrow_mut().endpoint = Some(uri));
        cfg.interceptor_state().store_put(Started(Instant::now()));
        Ok(())
    }

    fn read_after_attempt(
        &self,
        ctx: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if !tracing::enabled!(target: "landfall::aws", tracing::Level::DEBUG) {
            return Ok(());
        }
        let (service, operation) = cfg
            .load::<Metadata>()
            .map(|m| (m.service().to_string(), m.name().to_string()))
            .unwrap_or_default();
        let latency_ms = cfg
            .load::<Started>()
            .map(|s| s.0.elapsed().as_millis() as u64);
        let status = ctx.response().map(|r| r.status().as_u16());
        let error = match ctx.output_or_error() {
            Some(Err(e)) if status.is_none() => Some(e.to_string()),
            _ => None,
        };
        let attempt = SLOT.try_with(|s| s.borrow().attempt).unwrap_or(1);
        tracing::debug!(
            target: "landfall::aws",
            service,
            operation,
            account = self.account.as_deref().unwrap_or("caller"),
            region = self.region,
            status,
            error,
            latency_ms,
            attempt,
            "request"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_keeps_scheme_host_and_port_only() {
        assert_eq!(
            origin("https://ec2.eu-west-1.amazonaws.com/?Action=DescribeVpcs"),
            "https://ec2.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            origin("http://127.0.0.1:5000/bucket/key"),
            "http://127.0.0.1:5000"
        );
    }
}
