//! Signed outbound calls: one call per request, its trace context, and counts per member and
//! outcome for monitoring.

use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::call::{self, Request};
use crate::descriptor::{DESCRIPTOR_PATH, NodeDescriptor};
use crate::error::FedError;
use crate::service::{Federation, Peer, now_unix};

/// The header a signed call travels in.
pub const CALL_HEADER: &str = "Alongside-Call";
/// W3C trace context, carried on every call.
pub const TRACEPARENT: &str = "traceparent";

/// A fresh W3C `traceparent` for a call that starts here.
pub fn new_traceparent() -> String {
    let t = uuid::Uuid::new_v4().simple().to_string();
    let s = uuid::Uuid::new_v4().simple().to_string();
    format!("00-{t}-{}-01", &s[..16])
}

/// A child of `parent` for the next hop, keeping its trace id.
pub fn child_traceparent(parent: Option<&str>) -> String {
    let trace = parent.and_then(|p| {
        let parts: Vec<&str> = p.split('-').collect();
        (parts.len() == 4
            && parts[1].len() == 32
            && parts[1].chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| parts[1].to_owned())
    });
    match trace {
        Some(t) => {
            let s = uuid::Uuid::new_v4().simple().to_string();
            format!("00-{t}-{}-01", &s[..16])
        }
        None => new_traceparent(),
    }
}

/// The `traceparent` for a call made inside `span`: the span itself when traces are exported
/// (so the receiver's spans are its children), else a child of the caller's `traceparent`.
fn outgoing_traceparent(span: &tracing::Span, parent: Option<&str>) -> String {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let cx = span.context();
    let ctx = cx.span().span_context().clone();
    if ctx.is_valid() {
        format!(
            "00-{}-{}-{:02x}",
            ctx.trace_id(),
            ctx.span_id(),
            ctx.trace_flags().to_u8()
        )
    } else {
        child_traceparent(parent)
    }
}

impl Federation {
    /// A node's descriptor at `base_url`, within the member timeout.
    pub(crate) async fn fetch_descriptor(
        &self,
        base_url: &str,
    ) -> Result<NodeDescriptor, reqwest::Error> {
        let url = format!("{}{DESCRIPTOR_PATH}", base_url.trim_end_matches('/'));
        self.http
            .get(&url)
            .timeout(self.settings.member_timeout)
            .send()
            .await?
            .error_for_status()?
            .json::<NodeDescriptor>()
            .await
    }

    /// Sends a signed call and decodes the JSON answer.
    pub async fn call<R: DeserializeOwned>(
        &self,
        peer: &Peer,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
        timeout: Duration,
        traceparent: Option<&str>,
    ) -> Result<R, FedError> {
        let bytes = self
            .send(peer, method, path, body, timeout, traceparent)
            .await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| FedError::Garbage(format!("{}: {e}", peer.node_id)))
    }

    /// Outbound calls so far by member and outcome ("ok" or an error code).
    pub fn call_counts(&self) -> Vec<((String, String), u64)> {
        self.calls
            .lock()
            .map(|c| c.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default()
    }

    /// Sends a signed call; returns the body of a 2xx answer.
    pub async fn send(
        &self,
        peer: &Peer,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
        timeout: Duration,
        traceparent: Option<&str>,
    ) -> Result<Vec<u8>, FedError> {
        let started = std::time::Instant::now();
        let route = path.split('?').next().unwrap_or(path).to_owned();
        let result = self
            .send_once(peer, method, path, body, timeout, traceparent)
            .await;
        let outcome = match &result {
            Ok(_) => "ok".to_owned(),
            Err(e) => e.reason().to_owned(),
        };
        tracing::debug!(
            member = %peer.node_id,
            path = %route,
            outcome = %outcome,
            ms = started.elapsed().as_secs_f64() * 1000.0,
            "federation call"
        );
        if let Ok(mut c) = self.calls.lock() {
            *c.entry((peer.node_id.clone(), outcome)).or_default() += 1;
        }
        result
    }

    async fn send_once(
        &self,
        peer: &Peer,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
        timeout: Duration,
        traceparent: Option<&str>,
    ) -> Result<Vec<u8>, FedError> {
        let token = call::sign_call(
            self.tokens.key(),
            &self.settings.node_id,
            &peer.node_id,
            Request {
                method: method.as_str(),
                path,
                body: &body,
            },
            now_unix(),
            self.settings.call_lifetime_secs,
        )?;
        let url = format!("{}{path}", peer.base_url.trim_end_matches('/'));
        let span = tracing::info_span!(
            "federation call",
            member = %peer.node_id,
            path = %path.split('?').next().unwrap_or(path),
        );
        let mut req = self
            .http
            .request(method, &url)
            .timeout(timeout)
            .header(CALL_HEADER, token)
            .header(TRACEPARENT, outgoing_traceparent(&span, traceparent));
        if !body.is_empty() {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let exchange = async {
            let resp = req.send().await?;
            let status = resp.status();
            Ok::<_, reqwest::Error>((status, resp.bytes().await?.to_vec()))
        };
        let (status, bytes) = tracing::Instrument::instrument(exchange, span)
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    FedError::TimedOut(peer.node_id.clone())
                } else {
                    FedError::Unreachable(format!("{}: {}", peer.node_id, e.without_url()))
                }
            })?;
        if status.is_success() {
            Ok(bytes)
        } else {
            let code = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v.get("code").and_then(|c| c.as_str()).map(str::to_owned))
                .unwrap_or_else(|| "UNKNOWN".into());
            Err(FedError::Refused {
                node: peer.node_id.clone(),
                status: status.as_u16(),
                code,
            })
        }
    }
}
