//! REST endpoints under /api/v1 for integrations that are not GraphQL clients.

use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::accounts::{self, TokenPair};
use alongside_core::ids::parse_id;
use alongside_core::page::{MAX_PAGE_SIZE, PageRequest};
use alongside_core::programs::{self, Program};
use alongside_core::{CoreError, institution};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::problem::{Problem, ProblemDoc};
use super::{body, principal_of};
use crate::node::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Use once at /api/v1/auth/refresh; a second use signs out every session from it.
    pub refresh_token: String,
    pub refresh_expires_in: u64,
    pub roles: Vec<String>,
}

impl From<TokenPair> for TokenResponse {
    fn from(p: TokenPair) -> Self {
        Self {
            access_token: p.access.token,
            token_type: "Bearer",
            expires_in: p.access.expires_in,
            refresh_token: p.refresh_token,
            refresh_expires_in: p.refresh_expires_in,
            roles: p
                .principal
                .roles
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect(),
        }
    }
}

fn no_store(json: impl Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(json)
}

/// Signs in with email and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, description = "Signed in", body = TokenResponse),
              (status = 400, description = "Malformed request", body = ProblemDoc),
              (status = 401, description = "Wrong email or password", body = ProblemDoc)))]
pub async fn login(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    let input: LoginRequest = body::json(&req, payload, state.config.limits.body_bytes).await?;
    let pair = accounts::login(&state.db, &state.tokens, input.email, input.password).await?;
    Ok(no_store(TokenResponse::from(pair)))
}

/// Exchanges a refresh token, once, for a new pair.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, description = "New tokens", body = TokenResponse),
              (status = 401, description = "Unknown, expired or reused refresh token", body = ProblemDoc)))]
pub async fn refresh(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    let input: RefreshRequest = body::json(&req, payload, state.config.limits.body_bytes).await?;
    let pair = accounts::refresh(&state.db, &state.tokens, input.refresh_token).await?;
    Ok(no_store(TokenResponse::from(pair)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    pub email: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRedeem {
    /// The token from the emailed link.
    pub token: String,
}

/// Emails a single-use sign-in link, if the node allows it (`auth.sign_in_links`). Answers 202
/// whether or not the address has an account.
#[utoipa::path(post, path = "/api/v1/auth/link", tag = "auth", request_body = LinkRequest,
    responses((status = 202, description = "Sent, if the address has an account"),
              (status = 403, description = "Sign-in links are turned off", body = ProblemDoc)))]
pub async fn request_link(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    let input: LinkRequest = body::json(&req, payload, state.config.limits.body_bytes).await?;
    accounts::request_sign_in_link(&state.db, state.config.auth.sign_in_links, input.email).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "status": "if this address has an account, a sign-in link is on its way" })))
}

/// Signs in with a sign-in link's token; each link works once, for 15 minutes.
#[utoipa::path(post, path = "/api/v1/auth/link/redeem", tag = "auth", request_body = LinkRedeem,
    responses((status = 200, description = "Signed in", body = TokenResponse),
              (status = 401, description = "Unknown, used or expired link", body = ProblemDoc),
              (status = 403, description = "Sign-in links are turned off", body = ProblemDoc)))]
pub async fn redeem_link(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    let input: LinkRedeem = body::json(&req, payload, state.config.limits.body_bytes).await?;
    let pair = accounts::redeem_sign_in_link(
        &state.db,
        state.config.auth.sign_in_links,
        &state.tokens,
        input.token,
    )
    .await?;
    Ok(no_store(TokenResponse::from(pair)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoffAcknowledge {
    /// The `acknowledge_code` of the `handoff.created` webhook (or of the emailed link).
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct HandoffAcknowledged {
    /// False when the program had already acknowledged it.
    pub acknowledged_now: bool,
}

/// A tier-3 program's intake acknowledges a hand-off; what the person shared is then erased
/// from the node. No token: the code is the key.
#[utoipa::path(post, path = "/api/v1/handoffs/acknowledge", tag = "handoffs",
    request_body = HandoffAcknowledge,
    responses((status = 200, description = "Acknowledged (now or before)", body = HandoffAcknowledged),
              (status = 404, description = "No hand-off has this code", body = ProblemDoc)))]
pub async fn acknowledge_handoff(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    let input: HandoffAcknowledge =
        body::json(&req, payload, state.config.limits.body_bytes).await?;
    let now = alongside_core::requests::handoff::acknowledge(&state.db, input.code).await?;
    Ok(HttpResponse::Ok().json(HandoffAcknowledged {
        acknowledged_now: now,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MetricsQuery {
    /// First month, `YYYY-MM`.
    #[param(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub from: String,
    /// Last month, `YYYY-MM` (inclusive).
    #[param(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub to: String,
    /// `json` (default) or `csv`.
    #[param(pattern = r"^(json|csv)$")]
    pub format: Option<String>,
    /// Only this program's requests (its id).
    #[param(value_type = Option<Uuid>)]
    pub program: Option<String>,
}

/// Program metrics for a period, suppressed: counts from 1 to k−1 (and any that would let one be
/// worked out) are empty. Coordinators, admins, analysts, and partner clients with `metrics:read`.
#[utoipa::path(get, path = "/api/v1/metrics", tag = "metrics", params(MetricsQuery),
    responses((status = 200, description = "Metrics as JSON, or the requests table as CSV"),
              (status = 400, description = "Bad months or format", body = ProblemDoc),
              (status = 403, description = "No access to aggregates", body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn metrics(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    let query = web::Query::<MetricsQuery>::from_query(req.query_string())
        .map_err(|e| CoreError::bad_input("query", format!("{e}")))?
        .into_inner();
    let who = principal_of(&req, &state).await?;
    let program = query
        .program
        .as_deref()
        .map(|p| parse_id("program", p))
        .transpose()?;
    let export = alongside_core::metrics::program::export(
        &state.db,
        &who,
        query.from,
        query.to,
        program,
        state.config.metrics.suppression_k,
        state.config.surveys.questions(),
    )
    .await?;
    match query.format.as_deref().unwrap_or("json") {
        "json" => Ok(HttpResponse::Ok().json(export)),
        "csv" => Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(alongside_core::metrics::program::export_csv(&export))),
        _ => Err(CoreError::bad_input("format", "use json or csv").into()),
    }
}

#[derive(Serialize, ToSchema)]
pub struct InstitutionDoc {
    pub name: String,
    pub node_id: String,
    pub jurisdiction: String,
    /// What to do right now in a crisis.
    pub crisis_resources: String,
}

/// The institution's public settings and crisis resources. No sign-in needed.
#[utoipa::path(get, path = "/api/v1/institution", tag = "institution",
    responses((status = 200, description = "Institution", body = InstitutionDoc)))]
pub async fn institution(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    let who = principal_of(&req, &state).await?;
    let i = institution::get(&state.db, &who).await?;
    Ok(HttpResponse::Ok().json(InstitutionDoc {
        name: i.name,
        node_id: i.node_id,
        jurisdiction: i.jurisdiction,
        crisis_resources: i.crisis_resources,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct ProgramDoc {
    pub id: Uuid,
    pub name: String,
    /// peer_support, eap, counseling, chaplaincy, group_debrief, litigation_support, other.
    pub kind: String,
    /// 1 self-care and colleagues, 2 trained peers, 3 professional help.
    pub tier: i32,
    /// Professions served; empty means everyone.
    pub audience: Vec<String>,
    pub hours: String,
    pub contact: String,
    /// Conversations in this program are legally privileged in the institution's jurisdiction.
    pub privileged: bool,
    /// Follow-up check-ins in days after first contact.
    pub follow_up_days: Vec<i32>,
    pub updated_at: DateTime<Utc>,
}

impl From<Program> for ProgramDoc {
    fn from(p: Program) -> Self {
        Self {
            id: p.id,
            name: p.name,
            kind: p.kind.as_str().into(),
            tier: p.tier,
            audience: p.audience.iter().map(|a| a.as_str().to_owned()).collect(),
            hours: p.hours,
            contact: p.contact,
            privileged: p.privileged,
            follow_up_days: p.follow_up_days,
            updated_at: p.updated_at.and_utc(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ProgramList {
    pub items: Vec<ProgramDoc>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<Uuid>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<Uuid>)]
    pub after: Option<String>,
}

/// Active support programs, oldest first. No sign-in needed: meant for intranet pages.
#[utoipa::path(get, path = "/api/v1/programs", tag = "programs", params(ListQuery),
    responses((status = 200, description = "A page of programs", body = ProgramList),
              (status = 400, description = "Bad paging parameters", body = ProblemDoc)))]
pub async fn list_programs(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    let query = web::Query::<ListQuery>::from_query(req.query_string())
        .map_err(|e| CoreError::bad_input("query", format!("{e}")))?
        .into_inner();
    // A page size outside 1..=100 is a bad parameter here (400), as the document says.
    if query.limit.is_some_and(|n| n == 0 || n > MAX_PAGE_SIZE) {
        return Err(CoreError::bad_input("limit", format!("limit is 1 to {MAX_PAGE_SIZE}")).into());
    }
    let who = principal_of(&req, &state).await?;
    let after = query
        .after
        .as_deref()
        .map(|a| parse_id("after", a))
        .transpose()?;
    let page = PageRequest {
        after,
        first: Some(query.limit.unwrap_or(20)),
        ..PageRequest::default()
    };
    let page = programs::list(&state.db, &who, page, false).await?;
    let next_cursor = if page.has_next_page {
        page.items.last().map(|p| p.id)
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(ProgramList {
        items: page.items.into_iter().map(ProgramDoc::from).collect(),
        next_cursor,
    }))
}

/// One support program.
#[utoipa::path(get, path = "/api/v1/programs/{id}", tag = "programs",
    params(("id" = Uuid, Path, description = "Program id")),
    responses((status = 200, description = "The program", body = ProgramDoc),
              (status = 400, description = "The id is not a UUID", body = ProblemDoc),
              (status = 404, description = "No such active program", body = ProblemDoc)))]
pub async fn get_program(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    let id = parse_id("id", &path)?;
    let who = principal_of(&req, &state).await?;
    let program = programs::get(&state.db, &who, id).await?;
    Ok(HttpResponse::Ok().json(ProgramDoc::from(program)))
}
