//! Webhook deliveries: signed POSTs. 2xx is delivered; 410 Gone disables the endpoint and stops;
//! anything else is retried. Every attempt goes to the endpoint's delivery log.

use alongside_core::notify::outbox::OutboxRow;
use alongside_core::notify::webhooks::{self, DELIVERY_HEADER, SIGNATURE_HEADER};

use super::Outcome;
use crate::node::AppState;

pub async fn deliver(state: &AppState, http: &reqwest::Client, row: &OutboxRow) -> Outcome {
    let endpoint = row.recipient.clone();
    let target = {
        let endpoint = endpoint.clone();
        state
            .db
            .run(move |conn| webhooks::target(conn, &endpoint))
            .await
    };
    let (url, secret) = match target {
        Ok(Some((url, secret, true))) => (url, secret),
        Ok(Some((_, _, false))) | Ok(None) => {
            return Outcome::Permanent("the endpoint is disabled or gone".into());
        }
        Err(e) => return Outcome::Retry(e.to_string()),
    };
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
            let id = endpoint.clone();
            let _ = state
                .db
                .write(move |conn| webhooks::disable(conn, &id, "the receiver answered 410 Gone"))
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
    let (outbox_id, attempt) = (row.id.clone(), row.attempts);
    let _ = state
        .db
        .write(move |conn| {
            webhooks::log_attempt(
                conn,
                &endpoint,
                &outbox_id,
                attempt,
                status,
                error.as_deref(),
            )
        })
        .await;
    outcome
}
