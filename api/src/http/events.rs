//! POST /api/v1/events: incident-reporting systems report de-identified events. With an
//! `Idempotency-Key`, a retry with the same body creates nothing new; the same key with another
//! body is a conflict.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::events::{self, InvolvedInput, NewEvent};
use alongside_core::idempotency::IdempotencyKey;
use alongside_core::vocab::{EventCategory, InvolvementRole, SeverityBand};
use alongside_core::{CoreError, audit, secrets};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::{Object, ObjectBuilder, Type};
use uuid::Uuid;

use super::problem::{Problem, ProblemDoc};
use super::{body, principal_of};
use crate::node::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvolvedDoc {
    /// The institution's staff id, or
    pub staff_id: Option<String>,
    /// the person's email as the node knows it.
    pub email: Option<String>,
    /// direct, team, peripheral, witness, disclosure.
    #[schema(schema_with = role_schema)]
    pub role: String,
}

/// A de-identified event. Any field not listed here (a narrative, a patient's name) is refused.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventRequest {
    /// harm_event, near_miss, unexpected_death_or_decline, ambiguous_outcome, malpractice_claim,
    /// regulatory_inquiry, media_exposure, workplace_violence, other.
    #[schema(schema_with = category_schema)]
    pub category: String,
    /// `YYYY-MM`, not in the future.
    #[schema(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub month: String,
    /// Coarse department, e.g. "Emergency".
    pub department: Option<String>,
    /// no_harm, mild, moderate, severe, death, unknown (default).
    #[schema(schema_with = severity_schema)]
    pub severity_band: Option<String>,
    #[serde(default)]
    pub disclosure_in_progress: bool,
    /// The incident system's own opaque reference.
    pub external_ref: Option<String>,
    #[schema(min_items = 1)]
    pub involved: Vec<InvolvedDoc>,
}

/// The values of one of core's vocabularies, so the document lists what the node accepts.
fn one_of<T: Copy>(all: &[T], text: fn(T) -> &'static str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(all.iter().map(|v| text(*v))))
        .build()
}

fn category_schema() -> Object {
    let reportable: Vec<EventCategory> = EventCategory::ALL
        .iter()
        .copied()
        .filter(|c| c.reportable())
        .collect();
    one_of(&reportable, EventCategory::as_str)
}

fn severity_schema() -> Object {
    one_of(SeverityBand::ALL, SeverityBand::as_str)
}

fn role_schema() -> Object {
    let reportable: Vec<InvolvementRole> = InvolvementRole::ALL
        .iter()
        .copied()
        .filter(|r| r.reportable())
        .collect();
    one_of(&reportable, InvolvementRole::as_str)
}

#[derive(Serialize, ToSchema)]
pub struct EventCreated {
    pub id: Uuid,
    pub category: String,
    pub month: String,
    pub severity_band: String,
    pub disclosure_in_progress: bool,
    pub external_ref: Option<String>,
    /// People reached out to.
    pub outreach: usize,
    /// Staff ids the roster does not have yet: they are reached out to when it brings them.
    pub pending_staff_ids: Vec<String>,
}

fn parse_enum<T: std::str::FromStr<Err = CoreError>>(
    field: &str,
    value: &str,
) -> Result<T, CoreError> {
    value.parse::<T>().map_err(|e| match e {
        CoreError::BadInput { message, .. } => CoreError::bad_input(field, message),
        other => other,
    })
}

/// Records an event and reaches out to everyone involved.
#[utoipa::path(post, path = "/api/v1/events", tag = "events", request_body = EventRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry safely: the same key and body create one event")),
    responses((status = 201, description = "Recorded", body = EventCreated),
              (status = 200, description = "A replay of an earlier request with the same key", body = EventCreated),
              (status = 400, description = "Invalid, or carries a narrative or identifiers", body = ProblemDoc),
              (status = 401, description = "No valid token", body = ProblemDoc),
              (status = 403, description = "The token lacks events:write", body = ProblemDoc),
              (status = 409, description = "Idempotency-Key reused with another body", body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn create(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    let who = principal_of(&req, &state).await?;
    if !body::has_content_type(&req, "application/json") {
        return Err(body::wrong_content_type("application/json"));
    }
    let raw = body::read(&req, payload, state.config.limits.body_bytes).await?;
    let input: EventRequest = body::parse_json(&raw)?;
    let key = match req.headers().get("idempotency-key") {
        Some(v) => {
            let text = v
                .to_str()
                .map_err(|_| CoreError::bad_input("Idempotency-Key", "must be printable text"))?;
            // Same body means the same JSON value, whatever its whitespace or key order.
            let canonical: serde_json::Value = serde_json::from_slice(&raw)
                .map_err(|e| CoreError::bad_input("body", e.to_string()))?;
            Some(IdempotencyKey::new(
                audit::actor(&who),
                text,
                secrets::sha256_hex(&canonical.to_string()),
            )?)
        }
        None => None,
    };
    let new = NewEvent {
        category: parse_enum("category", &input.category)?,
        month: input.month,
        department: input.department,
        severity_band: match &input.severity_band {
            Some(s) => parse_enum("severity_band", s)?,
            None => alongside_core::vocab::SeverityBand::Unknown,
        },
        disclosure_in_progress: input.disclosure_in_progress,
        external_ref: input.external_ref,
        involved: input
            .involved
            .iter()
            .enumerate()
            .map(|(i, p)| {
                Ok(InvolvedInput {
                    staff_id: p.staff_id.clone(),
                    email: p.email.clone(),
                    role: parse_enum(&format!("involved[{i}].role"), &p.role)?,
                })
            })
            .collect::<Result<Vec<_>, CoreError>>()?,
    };
    let (event, replayed) = events::create(&state.db, &who, new, key).await?;
    let (outreach, pending) = events::pending::intake_summary(&state.db, &who, event.id).await?;
    let doc = EventCreated {
        id: event.id,
        category: event.category.as_str().into(),
        month: event.month,
        severity_band: event.severity_band.as_str().into(),
        disclosure_in_progress: event.disclosure_in_progress,
        external_ref: event.external_ref,
        outreach,
        pending_staff_ids: pending,
    };
    let status = if replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let mut response = HttpResponse::build(status);
    if replayed {
        response.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(response.json(doc))
}
