//! The scheduler inside `serve`: clocks and offer timeouts, follow-up reminders and training
//! expiry every `maintenance.interval_secs`, retention hourly. With several replicas on one
//! database, each job runs only in the replica holding its lease. Logged as counts only.

use std::time::Duration;

use alongside_core::notify::{leases, reminders};
use alongside_core::requests::clock;
use alongside_core::{retention, time};

use crate::node::AppState;

const RETENTION_EVERY: Duration = Duration::from_secs(3600);

async fn holds(state: &AppState, job: &'static str, holder: &str, ttl: Duration) -> bool {
    let holder = holder.to_owned();
    let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::seconds(60));
    match state
        .db
        .run(move |conn| leases::try_acquire(conn, job, &holder, ttl, time::now()))
        .await
    {
        Ok(held) => held,
        Err(e) => {
            tracing::warn!(error = %e, job, "cannot take the job lease");
            false
        }
    }
}

/// One round of the frequent jobs. Public so tests can drive it.
pub async fn tick(state: &AppState) {
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
    match reminders::follow_ups_due(&state.db, time::now(), chrono::Duration::hours(1)).await {
        Ok(n) if n > 0 => tracing::info!(queued = n, "follow-up reminders"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "follow-up reminders failed"),
    }
    match reminders::training_expiring(&state.db, time::now().date(), chrono::Duration::days(30))
        .await
    {
        Ok(n) if n > 0 => tracing::info!(queued = n, "training expiry reminders"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "training expiry reminders failed"),
    }
}

/// Runs until the process ends. Errors are logged and retried next round.
pub async fn run(state: AppState) {
    let every = Duration::from_secs(state.config.maintenance.interval_secs);
    let holder = format!("replica-{}", uuid::Uuid::new_v4().simple());
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_retention: Option<tokio::time::Instant> = None;
    loop {
        ticker.tick().await;
        if holds(&state, "scheduler", &holder, every * 3).await {
            tick(&state).await;
        }
        if last_retention.is_none_or(|t| t.elapsed() >= RETENTION_EVERY)
            && holds(&state, "retention", &holder, RETENTION_EVERY).await
        {
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
