//! Prometheus-format metrics at `/metrics`: request counts and latency by route, GraphQL errors
//! by code and operations by name, database pool use, outbox depth and age, federation calls by
//! member and outcome, directory sync lag per origin, and scheduler runs. Labels never carry
//! personal data: routes are patterns, operation names are the client's and checked.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::node::AppState;

/// Logs the detail of a failure on our side (never shown to the caller) where an API turns a
/// core error into a response; `surface` says which API.
pub fn log_failure(err: &alongside_core::CoreError, surface: &'static str) {
    use alongside_core::CoreError;
    match err {
        CoreError::Internal(detail) => {
            tracing::error!(error = %detail, surface, "internal error");
        }
        CoreError::Unavailable { detail, .. } => {
            tracing::warn!(error = %detail, surface, "database unavailable");
        }
        // Counted in /metrics; a line per refusal would flood the log when it matters least.
        CoreError::Busy { .. } => {}
        _ => {}
    }
}

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];
/// Distinct GraphQL operation names kept; later ones count as "other".
const MAX_OPERATIONS: usize = 200;

#[derive(Debug, Default, Clone)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.buckets[i] += 1;
            }
        }
        self.count += 1;
        self.sum += secs;
    }
}

/// The node's counters. Cheap to update: one short lock each.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    graphql_errors: Mutex<BTreeMap<String, u64>>,
    graphql_operations: Mutex<BTreeMap<String, u64>>,
    scheduler_runs: Mutex<BTreeMap<(String, String), u64>>,
}

fn bump<K: Ord>(map: &Mutex<BTreeMap<K, u64>>, key: K) {
    if let Ok(mut m) = map.lock() {
        *m.entry(key).or_default() += 1;
    }
}

/// Escapes a label value for the text format.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    pub fn request(&self, method: &str, route: &str, status: u16, secs: f64) {
        bump(
            &self.requests,
            (method.to_owned(), route.to_owned(), status),
        );
        if let Ok(mut l) = self.latency.lock() {
            l.entry(route.to_owned()).or_default().observe(secs);
        }
    }

    pub fn graphql_error(&self, code: &str) {
        bump(&self.graphql_errors, code.to_owned());
    }

    /// Counts a GraphQL operation by the name the client gave it (letters, digits and `_`,
    /// at most 64), "anonymous" without one.
    pub fn graphql_operation(&self, name: Option<&str>) {
        let name = match name {
            None => "anonymous".to_owned(),
            Some(n)
                if n.len() <= 64
                    && !n.is_empty()
                    && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                n.to_owned()
            }
            Some(_) => "other".to_owned(),
        };
        if let Ok(mut m) = self.graphql_operations.lock() {
            let key = if m.contains_key(&name) || m.len() < MAX_OPERATIONS {
                name
            } else {
                "other".to_owned()
            };
            *m.entry(key).or_default() += 1;
        }
    }

    pub fn scheduler_run(&self, job: &str, ok: bool) {
        bump(
            &self.scheduler_runs,
            (job.to_owned(), if ok { "ok" } else { "error" }.to_owned()),
        );
    }

    fn render_counters(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP alongside_http_requests_total HTTP requests by route and status.\n# TYPE alongside_http_requests_total counter"
        );
        if let Ok(m) = self.requests.lock() {
            for ((method, route, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "alongside_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                    label(method),
                    label(route)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP alongside_http_request_duration_seconds Request latency by route.\n# TYPE alongside_http_request_duration_seconds histogram"
        );
        if let Ok(m) = self.latency.lock() {
            for (route, h) in m.iter() {
                let route = label(route);
                for (i, b) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "alongside_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{b}\"}} {}",
                        h.buckets[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "alongside_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    out,
                    "alongside_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "alongside_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.count
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP alongside_graphql_errors_total GraphQL errors by code.\n# TYPE alongside_graphql_errors_total counter"
        );
        if let Ok(m) = self.graphql_errors.lock() {
            for (code, n) in m.iter() {
                let _ = writeln!(
                    out,
                    "alongside_graphql_errors_total{{code=\"{}\"}} {n}",
                    label(code)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP alongside_graphql_operations_total GraphQL operations by the client's operation name.\n# TYPE alongside_graphql_operations_total counter"
        );
        if let Ok(m) = self.graphql_operations.lock() {
            for (op, n) in m.iter() {
                let _ = writeln!(
                    out,
                    "alongside_graphql_operations_total{{operation=\"{}\"}} {n}",
                    label(op)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP alongside_scheduler_runs_total Scheduler job runs by outcome.\n# TYPE alongside_scheduler_runs_total counter"
        );
        if let Ok(m) = self.scheduler_runs.lock() {
            for ((job, outcome), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "alongside_scheduler_runs_total{{job=\"{}\",outcome=\"{outcome}\"}} {n}",
                    label(job)
                );
            }
        }
    }
}

/// Records every request: method, route pattern (never the raw path), status, latency.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.metrics.clone());
    let method = req.method().as_str().to_owned();
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let span = tracing::info_span!(
        "request",
        method = %method,
        route = %route,
        trace_id = tracing::field::Empty
    );
    // Part of the caller's trace (W3C traceparent), so one match can be followed across nodes.
    let trace_id = crate::telemetry::join_trace(&span, req.headers());
    span.record("trace_id", trace_id.as_str());
    let res = tracing::Instrument::instrument(next.call(req), span.clone())
        .await?
        .map_into_boxed_body();
    let secs = started.elapsed().as_secs_f64();
    let status = res.status().as_u16();
    span.in_scope(|| tracing::info!(status, ms = secs * 1000.0, "request"));
    if let Some(m) = metrics {
        m.request(&method, &route, status, secs);
    }
    Ok(res)
}

/// `GET /metrics`, for the addresses in `observability.metrics_allow` only.
pub async fn endpoint(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let peer = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    if !state
        .config
        .observability
        .metrics_allow
        .iter()
        .any(|a| a == &peer)
    {
        return HttpResponse::NotFound()
            .content_type("application/problem+json")
            .body(r#"{"type":"urn:alongside:problem:not_found","title":"Not found","status":404,"code":"NOT_FOUND","detail":"no such endpoint: GET /metrics"}"#);
    }
    let mut out = String::new();
    state.metrics.render_counters(&mut out);
    render_live(&state, &mut out).await;
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(out)
}

/// Values read at scrape time: pool, outbox, federation.
async fn render_live(state: &AppState, out: &mut String) {
    if let Ok(reasons) = crate::node::degraded(state).await {
        let _ = writeln!(
            out,
            "# HELP alongside_degraded Reasons the node cannot reach someone it must (1 while it holds): no one on call, emails only logged, texts without a gateway.\n# TYPE alongside_degraded gauge"
        );
        for code in ["NO_ON_CALL", "EMAIL_NOT_DELIVERED", "TEXT_GATEWAY_MISSING"] {
            let on = u8::from(reasons.iter().any(|r| r.code == code));
            let _ = writeln!(out, "alongside_degraded{{reason=\"{code}\"}} {on}");
        }
    }
    let pool = state.db.pool_state();
    let _ = writeln!(
        out,
        "# HELP alongside_db_pool_connections Database pool connections by state.\n# TYPE alongside_db_pool_connections gauge"
    );
    let _ = writeln!(
        out,
        "alongside_db_pool_connections{{state=\"idle\"}} {}",
        pool.idle_connections
    );
    let _ = writeln!(
        out,
        "alongside_db_pool_connections{{state=\"in_use\"}} {}",
        pool.connections.saturating_sub(pool.idle_connections)
    );
    let _ = writeln!(
        out,
        "# HELP alongside_db_calls_shed_total Database calls turned away (UNAVAILABLE, not started) because no connection came free within database.queue_timeout_ms.\n# TYPE alongside_db_calls_shed_total counter\nalongside_db_calls_shed_total {}",
        state.db.shed_calls()
    );
    let (in_flight, turned_away) = state.guard.load();
    let _ = writeln!(
        out,
        "# HELP alongside_http_requests_in_flight Requests being answered now (health, metrics and key documents not counted).\n# TYPE alongside_http_requests_in_flight gauge\nalongside_http_requests_in_flight {in_flight}"
    );
    let _ = writeln!(
        out,
        "# HELP alongside_http_requests_shed_total Requests turned away (503 UNAVAILABLE) because max_in_flight were being answered.\n# TYPE alongside_http_requests_shed_total counter\nalongside_http_requests_shed_total {turned_away}"
    );
    let now = alongside_core::time::now();
    let outbox = state
        .db
        .run(move |conn| alongside_core::notify::outbox::depth(conn, now))
        .await;
    if let Ok(rows) = outbox {
        let _ = writeln!(
            out,
            "# HELP alongside_outbox_messages Outbox messages by channel and state.\n# TYPE alongside_outbox_messages gauge"
        );
        for d in &rows {
            let _ = writeln!(
                out,
                "alongside_outbox_messages{{channel=\"{}\",state=\"{}\"}} {}",
                label(&d.channel),
                label(&d.state),
                d.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP alongside_outbox_oldest_pending_seconds Age of the oldest message not yet delivered, by channel.\n# TYPE alongside_outbox_oldest_pending_seconds gauge"
        );
        for d in rows.iter().filter(|d| d.state == "pending") {
            let _ = writeln!(
                out,
                "alongside_outbox_oldest_pending_seconds{{channel=\"{}\"}} {}",
                label(&d.channel),
                d.oldest_secs
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP alongside_federation_calls_total Outbound federation calls by member and outcome.\n# TYPE alongside_federation_calls_total counter"
    );
    for ((member, outcome), n) in state.federation.call_counts() {
        let _ = writeln!(
            out,
            "alongside_federation_calls_total{{member=\"{}\",outcome=\"{}\"}} {n}",
            label(&member),
            label(&outcome)
        );
    }
    if let Ok(s) = state
        .federation
        .status(&alongside_core::access::Principal::Operator)
        .await
        && s.mode.is_some()
    {
        if let Some(m) = &s.manifest {
            let _ = writeln!(
                out,
                "# HELP alongside_federation_manifest_serial The manifest serial held (a member) or last issued (a steward).\n# TYPE alongside_federation_manifest_serial gauge\nalongside_federation_manifest_serial {}",
                m.serial
            );
            let _ = writeln!(
                out,
                "# HELP alongside_federation_manifest_age_seconds Seconds since the manifest held was stored (fetched or issued).\n# TYPE alongside_federation_manifest_age_seconds gauge\nalongside_federation_manifest_age_seconds {}",
                (now - m.stored_at).num_seconds()
            );
        }
        let _ = writeln!(
            out,
            "# HELP alongside_federation_problem 1 while the federation has a problem on this node, by its code (see `alongside federation status`).\n# TYPE alongside_federation_problem gauge"
        );
        if let Some(code) = &s.problem_code {
            let _ = writeln!(
                out,
                "alongside_federation_problem{{code=\"{}\"}} 1",
                label(code)
            );
        }
    }
    if let Ok(states) = state.federation.sync_states().await {
        let _ = writeln!(
            out,
            "# HELP alongside_federation_sync_lag_seconds Seconds since the last successful directory sync, per origin.\n# TYPE alongside_federation_sync_lag_seconds gauge"
        );
        for s in &states {
            let lag = s.synced_at.map_or(-1, |t| (now - t).num_seconds());
            let _ = writeln!(
                out,
                "alongside_federation_sync_lag_seconds{{origin=\"{}\"}} {lag}",
                label(&s.origin)
            );
        }
        let _ = writeln!(
            out,
            "# HELP alongside_federation_sync_failing 1 per origin whose last directory sync failed, by the code it failed with (the peer's own when it refused).\n# TYPE alongside_federation_sync_failing gauge"
        );
        for s in states.iter().filter(|s| s.failures > 0) {
            let _ = writeln!(
                out,
                "alongside_federation_sync_failing{{origin=\"{}\",code=\"{}\"}} 1",
                label(&s.origin),
                label(s.last_error.as_deref().unwrap_or("UNKNOWN"))
            );
        }
    }
}
