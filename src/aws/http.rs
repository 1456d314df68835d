//! One HTTP client for every SDK client of a run, and so one HTTPS connector and one connection
//! pool.
//!
//! Left to itself, every SDK client (landfall makes one per call: [`super::Aws::ec2`], ...) builds a
//! connector of its own, parsing the system's root certificates each time, and opens connections
//! that no other client reuses: every call would pay a new TCP connection and TLS handshake (two
//! to three extra round trips to AWS). Set on the base configuration, this client is inherited by
//! every client built from it, the credential providers of `aws-config` included.
//!
//! The connector is the SDK's default one (hyper 1 + rustls with aws-lc, the `HTTPS_PROXY` /
//! `NO_PROXY` settings honoured), built once per distinct set of connector settings (timeouts): the
//! SDK clients share one; `aws-config`'s instance metadata client, with timeouts of its own, gets
//! another.

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Connector, ConnectorBuilder};
use aws_smithy_runtime_api::client::http::{
    HttpConnectorSettings, SharedHttpClient, SharedHttpConnector, http_client_fn,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// What tells connectors apart: their connect and read timeouts.
type Settings = (Option<Duration>, Option<Duration>);

/// The run's HTTP client: one connector (with its connection pool) per [`Settings`], made the
/// first time a client with those settings sends a request.
pub(super) fn shared_client() -> SharedHttpClient {
    let connectors: Mutex<HashMap<Settings, SharedHttpConnector>> = Mutex::default();
    http_client_fn(move |settings, components| {
        let key = (settings.connect_timeout(), settings.read_timeout());
        connectors
            .lock()
            .unwrap()
            .entry(key)
            .or_insert_with(|| SharedHttpConnector::new(connector(settings, components)))
            .clone()
    })
}

/// The SDK's default HTTPS connector (see the module docs).
fn connector(settings: &HttpConnectorSettings, components: &RuntimeComponents) -> Connector {
    let mut builder = ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::AwsLc));
    builder
        .set_connector_settings(Some(settings.clone()))
        .set_sleep_impl(components.sleep_impl())
        .set_proxy_config(Some(ProxyConfig::from_env()));
    builder.build()
}
