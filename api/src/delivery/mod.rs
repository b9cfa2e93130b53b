//! The outbox delivery worker: claims due messages, sends them by email or webhook, and records
//! each outcome. What to send and when to retry is decided in `alongside_core::notify`.

mod email;
mod guarded_dns;
mod text;
mod webhook;

use std::time::Duration;

use futures_util::StreamExt;

use alongside_core::CoreError;
use alongside_core::notify::outbox::{self, Backoff, Channel, Claimed};

use crate::node::AppState;
pub use email::Mailer;

/// Deliveries in flight at once per worker (the SMTP pool holds up to 10 connections).
const CONCURRENCY: usize = 8;

/// The result of one delivery attempt.
#[derive(Debug)]
pub enum Outcome {
    Delivered,
    /// Try again later.
    Retry(String),
    /// Do not try again (a 410 Gone, an impossible address).
    Permanent(String),
}

pub struct Worker {
    state: AppState,
    mailer: Mailer,
    http: reqwest::Client,
    /// Webhooks' own client: it connects only where `destinations` permits (see `guarded_dns`).
    webhooks: webhook::Client,
    backoff: Backoff,
}

impl Worker {
    pub fn new(state: AppState) -> Result<Self, CoreError> {
        let cfg = &state.config.outbox;
        let backoff = Backoff {
            base: chrono::Duration::milliseconds(
                i64::try_from(cfg.backoff_base_ms).unwrap_or(i64::MAX),
            ),
            max: chrono::Duration::seconds(i64::try_from(cfg.backoff_max_secs).unwrap_or(i64::MAX)),
            max_attempts: cfg.max_attempts,
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(cfg.webhook_timeout_secs))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| CoreError::internal(format!("HTTP client: {e}")))?;
        let webhooks = webhook::Client::new(&state.config.outbox)?;
        let mailer = Mailer::from_config(&state.config)?;
        Ok(Self {
            state,
            mailer,
            http,
            webhooks,
            backoff,
        })
    }

    async fn deliver_one(&self, Claimed { row }: Claimed) -> Result<(), CoreError> {
        let outcome = if row.channel == Channel::Email.as_str() {
            self.mailer.deliver(&self.state, &row).await
        } else if row.channel == Channel::Federation.as_str() {
            use alongside_federation::introductions::Delivery;
            match self
                .state
                .federation
                .deliver(&row.topic, &row.recipient, &row.payload)
                .await
            {
                Delivery::Delivered => Outcome::Delivered,
                Delivery::Retry(e) => Outcome::Retry(e),
                Delivery::Permanent(e) => Outcome::Permanent(e),
            }
        } else if row.channel == Channel::Text.as_str() {
            text::deliver(&self.state, &self.http, &self.mailer, &row).await
        } else {
            webhook::deliver(&self.state, &self.webhooks, &row).await
        };
        let backoff = self.backoff;
        let topic = row.topic.clone();
        let result = self
            .state
            .db
            .write(move |conn| {
                let result = match outcome {
                    Outcome::Delivered => outbox::mark_done(conn, row.id).map(|()| None),
                    Outcome::Retry(e) => {
                        outbox::mark_failed(conn, &row, &e, &backoff, false).map(Some)
                    }
                    Outcome::Permanent(e) => {
                        outbox::mark_failed(conn, &row, &e, &backoff, true).map(Some)
                    }
                }?;
                // An introduction now waits for the supporter, or has failed for good.
                let settled = match result {
                    None => Some(true),
                    Some(outbox::OutboxState::Dead) => Some(false),
                    Some(_) => None,
                };
                if let Some(delivered) = settled {
                    alongside_core::requests::outside::delivery_settled(
                        conn,
                        &row.topic,
                        &row.idempotency_key,
                        delivered,
                    )?;
                }
                Ok(result)
            })
            .await?;
        match result {
            Some(state) => {
                tracing::warn!(topic = %topic, state = state.as_str(), "delivery failed")
            }
            None => tracing::debug!(topic = %topic, "delivered"),
        }
        Ok(())
    }

    /// Delivers one batch; returns how many messages it handled.
    pub async fn deliver_batch(&self) -> Result<usize, CoreError> {
        let limit = self.state.config.outbox.batch_size;
        let lease = chrono::Duration::seconds(
            i64::try_from(self.state.config.outbox.lease_secs).unwrap_or(60),
        );
        let claimed: Vec<Claimed> = self
            .state
            .db
            .write(move |conn| outbox::claim(conn, limit, lease, alongside_core::time::now()))
            .await?;
        let count = claimed.len();
        // Up to `CONCURRENCY` deliveries at once: a slow receiver does not hold up the batch.
        let results: Vec<Result<(), CoreError>> = futures_util::stream::iter(claimed)
            .map(|c| self.deliver_one(c))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        results.into_iter().collect::<Result<Vec<()>, _>>()?;
        Ok(count)
    }
}

/// Runs until the process ends: a batch at a time, resting when there is nothing due.
pub async fn run(state: AppState) {
    let (_keep, shutdown) = tokio::sync::watch::channel(false);
    run_until(state, shutdown).await;
}

/// Like [`run`], until `shutdown` turns true: the batch in hand is finished first, so no row
/// is left half-delivered (a row claimed and not finished would wait out its lease and be sent
/// again).
pub async fn run_until(state: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let idle = Duration::from_millis(state.config.outbox.poll_interval_ms);
    let worker = match Worker::new(state) {
        Ok(w) => w,
        Err(e) => {
            tracing::error!(error = %e, "the outbox worker cannot start; messages stay queued");
            return;
        }
    };
    while !*shutdown.borrow() {
        let rest = match worker.deliver_batch().await {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => {
                tracing::warn!(error = %e, "outbox batch failed");
                true
            }
        };
        if rest {
            tokio::select! {
                _ = tokio::time::sleep(idle) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
    tracing::info!("outbox worker stopped");
}
