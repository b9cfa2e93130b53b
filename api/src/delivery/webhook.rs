//! Webhook deliveries: signed POSTs. 2xx is delivered; 410 Gone disables the endpoint and stops;
//! anything else is retried. An endpoint whose URL now points where webhooks may not go is
//! disabled; a name that resolves only to such addresses is retried (DNS answers change), and
//! the connection is only ever made to an address the rule permits. No redirect is followed.
//! Every attempt goes to the endpoint's delivery log.

use std::sync::Arc;
use std::time::Duration;

use alongside_core::CoreError;
use alongside_core::notify::destinations::Destinations;
use alongside_core::notify::outbox::OutboxRow;
use alongside_core::notify::webhooks::{self, DELIVERY_HEADER, SIGNATURE_HEADER};

use super::Outcome;
use super::guarded_dns::{GuardedResolver, refused_by_guard};
use crate::config::OutboxConfig;
use crate::node::AppState;

/// The HTTP client for webhooks and the rule it connects by.
pub struct Client {
    http: reqwest::Client,
    destinations: Destinations,
}

impl Client {
    pub fn new(config: &OutboxConfig) -> Result<Self, CoreError> {
        let destinations = Destinations::new(&config.webhook_allowed_networks)?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.webhook_timeout_secs))
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve the name itself, past the guard.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver::new(destinations.clone())))
            .build()
            .map_err(|e| CoreError::internal(format!("HTTP client: {e}")))?;
        Ok(Self { http, destinations })
    }
}

pub async fn deliver(state: &AppState, client: &Client, row: &OutboxRow) -> Outcome {
    let http = &client.http;
    let Ok(endpoint) = uuid::Uuid::parse_str(&row.recipient) else {
        return Outcome::Permanent("the message names no webhook endpoint".into());
    };
    let target = state
        .db
        .run(move |conn| webhooks::target(conn, endpoint))
        .await;
    let (url, secret) = match target {
        Ok(Some((url, secret, true))) => (url, secret),
        Ok(Some((_, _, false))) | Ok(None) => {
            return Outcome::Permanent("the endpoint is disabled or gone".into());
        }
        Err(e) => return Outcome::Retry(e.to_string()),
    };
    // An address in the URL itself is never resolved, so it is checked here; it cannot change,
    // so the endpoint is turned off (an endpoint registered before this rule, or a rule
    // narrowed since).
    if let Some(reason) = client.destinations.refused_address(&url) {
        let _ = state
            .db
            .write(move |conn| webhooks::disable(conn, endpoint, &reason))
            .await;
        return Outcome::Permanent(
            "the endpoint's address is not allowed: endpoint disabled".into(),
        );
    }
    let timestamp = chrono::Utc::now().timestamp();
    let signature = match webhooks::sign(&secret, timestamp, &row.payload) {
        Ok(s) => s,
        Err(e) => return Outcome::Retry(e.to_string()),
    };
    let response = http
        .post(&url)
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, signature)
        .header(DELIVERY_HEADER, &row.idempotency_key)
        .body(row.payload.clone())
        .send()
        .await;
    let (status, outcome) = match response {
        Ok(r) if r.status().is_success() => {
            (Some(i32::from(r.status().as_u16())), Outcome::Delivered)
        }
        Ok(r) if r.status() == reqwest::StatusCode::GONE => {
            let _ = state
                .db
                .write(move |conn| {
                    webhooks::disable(conn, endpoint, "the receiver answered 410 Gone")
                })
                .await;
            (
                Some(410),
                Outcome::Permanent("410 Gone: endpoint disabled".into()),
            )
        }
        Ok(r) => (
            Some(i32::from(r.status().as_u16())),
            Outcome::Retry(format!("HTTP {}", r.status().as_u16())),
        ),
        Err(e) => (
            None,
            Outcome::Retry(format!(
                "request failed: {}",
                if e.is_timeout() {
                    "timeout"
                } else if refused_by_guard(&e) {
                    "the name resolves only to addresses webhooks may not reach"
                } else {
                    "connection"
                }
            )),
        ),
    };
    let error = match &outcome {
        Outcome::Delivered => None,
        Outcome::Retry(e) | Outcome::Permanent(e) => Some(e.clone()),
    };
    let (outbox_id, attempt) = (row.id, row.attempts);
    let _ = state
        .db
        .write(move |conn| {
            webhooks::log_attempt(conn, endpoint, outbox_id, attempt, status, error.as_deref())
        })
        .await;
    outcome
}
