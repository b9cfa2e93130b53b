//! The outbox delivery worker: claims due messages, sends them by email or webhook, and records
//! each outcome. What to send and when to retry is decided in `alongside_core::notify`.

mod email;
mod guarded_dns;
mod text;
mod webhook;

use std::time::Duration;

use futures_util::StreamExt;

use alongside_core::CoreError;
use alongside_core::notify::outbox::{self, Backoff, Channel, Claimed, OutboxRow};
use uuid::Uuid;

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

    /// Sends one message; what came of it is recorded by [`Self::settle`].
    async fn attempt(&self, Claimed { row }: Claimed) -> (OutboxRow, Outcome) {
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
        (row, outcome)
    }

    /// Records what came of the attempts that have ended, in one transaction: the messages
    /// delivered are marked done together (a transaction a message cost a commit each, 100 a
    /// second while a busy node makes offers); each failure is recorded with its retry.
    async fn settle(&self, ended: Vec<(OutboxRow, Outcome)>) -> Result<(), CoreError> {
        let backoff = self.backoff;
        let outcomes = self
            .state
            .db
            .write(move |conn| {
                let delivered: Vec<Uuid> = ended
                    .iter()
                    .filter(|(_, o)| matches!(o, Outcome::Delivered))
                    .map(|(row, _)| row.id)
                    .collect();
                outbox::mark_all_done(conn, &delivered)?;
                let mut outcomes = Vec::with_capacity(ended.len());
                for (row, outcome) in &ended {
                    let state = match outcome {
                        Outcome::Delivered => None,
                        Outcome::Retry(e) => {
                            Some(outbox::mark_failed(conn, row, e, &backoff, false)?)
                        }
                        Outcome::Permanent(e) => {
                            Some(outbox::mark_failed(conn, row, e, &backoff, true)?)
                        }
                    };
                    // An introduction now waits for the supporter, or has failed for good.
                    let settled = match state {
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
                    outcomes.push((row.topic.clone(), state));
                }
                Ok(outcomes)
            })
            .await?;
        for (topic, state) in outcomes {
            match state {
                Some(state) => {
                    tracing::warn!(topic = %topic, state = state.as_str(), "delivery failed")
                }
                None => tracing::debug!(topic = %topic, "delivered"),
            }
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
        // The attempts that have ended by the time one is recorded are recorded with it, so
        // fast deliveries are marked in few transactions and a slow one waits for nobody.
        let mut ended = futures_util::stream::iter(claimed)
            .map(|c| self.attempt(c))
            .buffer_unordered(CONCURRENCY)
            .ready_chunks(count.max(1));
        let mut first_error = None;
        while let Some(chunk) = ended.next().await {
            if let Err(e) = self.settle(chunk).await {
                first_error.get_or_insert(e);
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(count),
        }
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
