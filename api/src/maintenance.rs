//! The node's own periodic work while `serve` runs: the clocks and offer timeouts every
//! `maintenance.interval_secs`, retention once an hour. Logged as counts only.

use std::time::Duration;

use alongside_core::requests::clock;
use alongside_core::{retention, time};

use crate::node::AppState;

const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// Runs until the process ends. Errors are logged and retried next round.
pub async fn run(state: AppState) {
    let every = Duration::from_secs(state.config.maintenance.interval_secs);
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_retention: Option<tokio::time::Instant> = None;
    loop {
        ticker.tick().await;
        match clock::sweep(&state.db, time::now()).await {
            Ok(r) if r != clock::SweepReport::default() => tracing::info!(
                ack_breaches = r.ack_breaches,
                contact_breaches = r.contact_breaches,
                offers_lapsed = r.offers_lapsed,
                "clock sweep"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "clock sweep failed"),
        }
        if last_retention.is_none_or(|t| t.elapsed() >= RETENTION_EVERY) {
            last_retention = Some(tokio::time::Instant::now());
            match retention::purge(
                &state.db,
                time::now(),
                state.config.maintenance.retention_days,
            )
            .await
            {
                Ok(r) if r != retention::PurgeReport::default() => tracing::info!(
                    requests = r.requests,
                    involvements = r.involvements,
                    outreach = r.outreach,
                    "retention purge"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "retention purge failed"),
            }
        }
    }
}
