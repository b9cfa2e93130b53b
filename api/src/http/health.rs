//! Liveness and readiness.

use actix_web::{HttpResponse, web};
use alongside_core::ErrorCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::problem::Problem;
use crate::node::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// "ok" or "ready".
    pub status: &'static str,
    /// "sqlite" or "postgres" (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<&'static str>,
}

/// The process is up.
#[utoipa::path(get, path = "/api/v1/healthz", tag = "health",
    responses((status = 200, description = "Alive", body = Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok",
        database: None,
    })
}

/// One reason the node cannot reach someone it must.
#[derive(Serialize, ToSchema)]
pub struct DegradedReason {
    /// Stable: `NO_ON_CALL`, `EMAIL_NOT_DELIVERED`, `TEXT_GATEWAY_MISSING`.
    pub code: &'static str,
    pub detail: String,
}

#[derive(Serialize, ToSchema)]
pub struct HealthDetail {
    /// "ok", or "degraded" when the node serves but cannot reach someone it must.
    pub status: &'static str,
    pub degraded: Vec<DegradedReason>,
}

/// Whether the node can reach the people it must: "degraded" with a reason per gap (nobody on
/// call, emails only logged, texts without a gateway). Readiness stays 200 meanwhile.
#[utoipa::path(get, path = "/api/v1/health", tag = "health",
    responses((status = 200, description = "What the node can deliver", body = HealthDetail),
              (status = 503, description = "The database does not answer", body = super::problem::ProblemDoc)))]
pub async fn detail(state: web::Data<AppState>) -> Result<HttpResponse, Problem> {
    let reasons = crate::node::degraded(&state)
        .await
        .map_err(|_| Problem::new(ErrorCode::Unavailable, "the database is not answering"))?;
    Ok(HttpResponse::Ok().json(HealthDetail {
        status: if reasons.is_empty() { "ok" } else { "degraded" },
        degraded: reasons
            .into_iter()
            .map(|d| DegradedReason {
                code: d.code,
                detail: d.detail,
            })
            .collect(),
    }))
}

/// The node can serve requests: its database answers.
#[utoipa::path(get, path = "/api/v1/readyz", tag = "health",
    responses((status = 200, description = "Ready", body = Health),
              (status = 503, description = "The database does not answer", body = super::problem::ProblemDoc)))]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, Problem> {
    let backend = state.db.backend();
    match state.db.run(|conn| conn.ping()).await {
        Ok(()) => Ok(HttpResponse::Ok().json(Health {
            status: "ready",
            database: Some(backend.name()),
        })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(Problem::new(
                ErrorCode::Unavailable,
                "the database is not answering",
            ))
        }
    }
}
