//! The scheduler inside `serve`: clocks and offer timeouts, follow-up reminders and training
//! expiry every `maintenance.interval_secs` (then the audit head is witnessed if it moved),
//! retention hourly. With several replicas on one
//! database, each job runs only in the replica holding its lease. Logged as counts only.

use std::time::Duration;

use alongside_core::audit::witness::Witnessed;
use alongside_core::notify::{leases, reminders};
use alongside_core::requests::clock;
use alongside_core::{audit, retention, time};

use crate::node::AppState;

const RETENTION_EVERY: Duration = Duration::from_secs(3600);

async fn holds(state: &AppState, job: &'static str, ttl: Duration) -> bool {
    let holder = state.replica.clone();
    let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::seconds(60));
    match state
        .db
        .write(move |conn| leases::try_acquire(conn, job, &holder, ttl, time::now()))
        .await
    {
        Ok(held) => held,
        Err(e) => {
            tracing::warn!(error = %e, job, "cannot take the job lease");
            false
        }
    }
}

/// Beats this process's heartbeat on the leases it holds until the process ends, so another
/// replica takes them over at once if it dies, and only then.
pub async fn heartbeat(state: AppState) {
    let mut ticker = tokio::time::interval(leases::HEARTBEAT);
    loop {
        ticker.tick().await;
        let holder = state.replica.clone();
        if let Err(e) = state
            .db
            .write(move |conn| leases::heartbeat(conn, &holder, time::now()))
            .await
        {
            tracing::warn!(code = e.code().as_str(), "cannot beat the lease heartbeat");
        }
    }
}

/// On a graceful stop: this process's leases are released, so the next process (a restart, a
/// new version) runs the jobs documented to run at start at once.
pub async fn release_leases(state: &AppState) {
    let holder = state.replica.clone();
    match state
        .db
        .write(move |conn| leases::release_all(conn, &holder))
        .await
    {
        Ok(n) => tracing::info!(released = n, "job leases released"),
        Err(e) => tracing::warn!(code = e.code().as_str(), "cannot release the job leases"),
    }
}

/// One round of the frequent jobs. Public so tests can drive it.
pub async fn tick(state: &AppState) {
    let swept = clock::sweep(&state.db, time::now()).await;
    state.metrics.scheduler_run("clock_sweep", swept.is_ok());
    match swept {
        Ok(r) if r != clock::SweepReport::default() => tracing::info!(
            ack_breaches = r.ack_breaches,
            contact_breaches = r.contact_breaches,
            offers_lapsed = r.offers_lapsed,
            "clock sweep"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "clock sweep failed"),
    }
    let due = reminders::follow_ups_due(&state.db, time::now(), chrono::Duration::hours(1)).await;
    state
        .metrics
        .scheduler_run("follow_up_reminders", due.is_ok());
    match due {
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

/// Signs the audit chains' heads and appends them to the witness file when it moved since `last`.
pub async fn witness(state: &AppState, last: Option<Witnessed>) -> Option<Witnessed> {
    let tokens = state.tokens.clone();
    let file = state
        .config
        .maintenance
        .witness_file(&state.config.data_dir);
    let previous = last.clone();
    let done = state
        .db
        .run(move |conn| {
            audit::witness::witness(conn, tokens.key(), &file, previous.as_ref(), time::now())
        })
        .await;
    state.metrics.scheduler_run("audit_witness", done.is_ok());
    match done {
        Ok(head) => Some(head),
        Err(e) => {
            tracing::warn!(error = %e, "cannot witness the audit head");
            last
        }
    }
}

/// Runs until the process ends. Errors are logged and retried next round.
pub async fn run(state: AppState) {
    let every = Duration::from_secs(state.config.maintenance.interval_secs);
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_retention: Option<tokio::time::Instant> = None;
    let mut witnessed: Option<Witnessed> = None;
    loop {
        ticker.tick().await;
        if holds(&state, "scheduler", every * 3).await {
            tick(&state).await;
            witnessed = witness(&state, witnessed).await;
        }
        if last_retention.is_none_or(|t| t.elapsed() >= RETENTION_EVERY)
            && holds(&state, "retention", RETENTION_EVERY).await
        {
            last_retention = Some(tokio::time::Instant::now());
            let purged = retention::purge_with(
                &state.db,
                time::now(),
                retention::Policy {
                    days: state.config.maintenance.retention_days,
                    involvement_years: state.config.maintenance.event_involvement_years,
                },
            )
            .await;
            state.metrics.scheduler_run("retention", purged.is_ok());
            match purged {
                Ok(r) if r != retention::PurgeReport::default() => tracing::info!(
                    requests = r.requests,
                    involvements = r.involvements,
                    outreach = r.outreach,
                    messages = r.messages,
                    introductions = r.introductions,
                    "retention purge"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "retention purge failed"),
            }
            if state.config.maintenance.anniversary_outreach {
                let marked =
                    alongside_core::events::mark_anniversaries(&state.db, time::now()).await;
                state.metrics.scheduler_run("anniversaries", marked.is_ok());
                match marked {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(events = n, "anniversary outreach"),
                    Err(e) => {
                        tracing::warn!(code = e.code().as_str(), "anniversary outreach failed")
                    }
                }
            }
            let reminded = alongside_core::events::ceiling::remind(
                &state.db,
                time::now(),
                state.config.maintenance.event_involvement_years,
            )
            .await;
            state
                .metrics
                .scheduler_run("ceiling_reminders", reminded.is_ok());
            match reminded {
                Ok(0) => {}
                Ok(n) => tracing::info!(events = n, "coordinators reminded of the ceiling"),
                Err(e) => tracing::warn!(code = e.code().as_str(), "ceiling reminder failed"),
            }
            let renewed = alongside_core::events::recontact::due(&state.db, time::now()).await;
            state.metrics.scheduler_run("recontacts", renewed.is_ok());
            match renewed {
                Ok(0) => {}
                Ok(n) => tracing::info!(outreach = n, "outreach renewed"),
                Err(e) => tracing::warn!(code = e.code().as_str(), "re-contact failed"),
            }
        }
    }
}

/// The federation's jobs: a member refreshes its manifest, pulls the directory feeds of the
/// other members (with jitter, so members do not all call at once) and recomputes its
/// availability digest; a steward re-issues its
/// manifest at half its life and pulls members' metrics: this month and the last, and any month
/// of the last two years it lacks.
pub async fn run_federation(state: AppState) {
    let cfg = state.config.federation.clone();
    let manifest_every = Duration::from_secs(cfg.manifest_refresh_secs.max(1));
    let metrics_every = Duration::from_secs(cfg.metrics_pull_secs.max(1));
    let digest_every = Duration::from_secs(cfg.digest_refresh_minutes.max(1) * 60);
    let mut next_digest = tokio::time::Instant::now();
    let mut next_sync = tokio::time::Instant::now();
    let mut next_manifest = tokio::time::Instant::now();
    let mut next_metrics = tokio::time::Instant::now();
    loop {
        let now = tokio::time::Instant::now();
        if now >= next_manifest {
            next_manifest = now + manifest_every;
            if holds(&state, "federation_manifest", manifest_every * 2).await {
                federation_manifest_round(&state).await;
            }
        }
        if now >= next_sync {
            let base = cfg.sync_interval_secs.max(1) * 1000;
            let spread = u128::from(base / 5 + 1);
            let jitter = u64::try_from(uuid::Uuid::new_v4().as_u128() % spread).unwrap_or(0);
            let every = Duration::from_millis(base + jitter);
            next_sync = now + every;
            if holds(&state, "federation_sync", every * 2).await {
                sync_round(&state).await;
            }
        }
        if now >= next_digest {
            next_digest = now + digest_every;
            if holds(&state, "federation_digest", digest_every).await {
                digest_round(&state).await;
            }
        }
        if now >= next_metrics {
            next_metrics = now + metrics_every;
            if holds(&state, "federation_metrics", metrics_every).await
                && let Ok(Some(alongside_core::vocab::FederationMode::Steward)) =
                    state.federation.mode().await
            {
                match state.federation.pull_metrics_round().await {
                    Ok(r) => tracing::info!(members = r.len(), "network metrics pulled"),
                    Err(e) => tracing::warn!(code = e.reason(), "network metrics pull failed"),
                }
            }
        }
        let wake = next_sync
            .min(next_manifest)
            .min(next_metrics)
            .min(next_digest);
        tokio::time::sleep_until(wake).await;
    }
}

/// One manifest round: a member fetches, a steward re-issues when due. Public for tests.
pub async fn federation_manifest_round(state: &AppState) {
    match state.federation.mode().await {
        Ok(Some(alongside_core::vocab::FederationMode::Member)) => {
            match state.federation.refresh_manifest().await {
                Ok(serial) => tracing::debug!(serial, "manifest checked"),
                Err(e) => tracing::warn!(code = e.reason(), "manifest refresh failed"),
            }
        }
        Ok(Some(_)) => {
            match state
                .federation
                .refresh_member_keys()
                .await
                .and(state.federation.reissue_manifest_if_due().await)
            {
                Ok(Some(serial)) => tracing::info!(serial, "manifest re-issued"),
                Ok(None) => {}
                Err(e) => tracing::warn!(code = e.reason(), "manifest re-issue failed"),
            }
            // What each member holds and when it last synced, for the steward's console.
            match state.federation.check_members().await {
                Ok(answered) => tracing::debug!(answered, "members checked"),
                Err(e) => tracing::warn!(code = e.reason(), "member check failed"),
            }
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "cannot read federation settings"),
    }
}

/// Recomputes the availability digest (a member only; published when a band changed). Public
/// for tests.
pub async fn digest_round(state: &AppState) {
    let refreshed = state.federation.refresh_digest().await;
    state
        .metrics
        .scheduler_run("federation_digest", refreshed.is_ok());
    match refreshed {
        Ok(true) => tracing::info!("availability digest published"),
        Ok(false) => {}
        Err(e) => tracing::warn!(code = e.reason(), "availability digest not refreshed"),
    }
}

/// One directory sync round. Public for tests.
pub async fn sync_round(state: &AppState) {
    let synced = state.federation.sync_directory().await;
    state.metrics.scheduler_run(
        "federation_sync",
        matches!(&synced, Ok(r) if r.iter().all(|(_, x)| x.is_ok())),
    );
    match synced {
        Ok(results) => {
            for (origin, r) in results {
                match r {
                    Ok(n) if n > 0 => {
                        tracing::info!(origin = %origin, changed = n, "directory synced")
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(origin = %origin, code = e.reason(), "directory sync failed")
                    }
                }
            }
        }
        Err(alongside_federation::FedError::NotConfigured) => {}
        Err(e) => tracing::warn!(code = e.reason(), "directory sync failed"),
    }
}
