//! The federation endpoints: the node descriptor, the steward's manifest and join endpoint, and
//! the signed node-to-node calls (feed, match, introductions, metrics). Every signed call is
//! checked by `alongside_federation` before anything else happens; refusals carry a stable code
//! and are logged with the code and the calling node only.

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_federation::{CALL_HEADER, Caller, FedError, TRACEPARENT};
use serde::Deserialize;
use tracing::Instrument;

use super::body;
use crate::node::AppState;

/// A federation error as `application/problem+json` with its stable code.
pub fn refusal(err: &FedError) -> HttpResponse {
    let status = match err {
        FedError::Call(alongside_federation::CallError::NotMember) => StatusCode::FORBIDDEN,
        FedError::Call(alongside_federation::CallError::Replayed) => StatusCode::CONFLICT,
        FedError::Call(_) => StatusCode::UNAUTHORIZED,
        FedError::NotConfigured | FedError::NotActive(_) => StatusCode::CONFLICT,
        FedError::Manifest(_)
        | FedError::TimedOut(_)
        | FedError::Unreachable(_)
        | FedError::Refused { .. }
        | FedError::WrongSteward(_)
        | FedError::Garbage(_) => StatusCode::BAD_GATEWAY,
        FedError::Core(e) => StatusCode::from_u16(e.code().http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
    };
    let detail = match err {
        FedError::Core(e) => e.public_message(),
        other => other.to_string(),
    };
    if status.is_server_error() && status != StatusCode::BAD_GATEWAY {
        tracing::error!(code = err.code(), error = %err, "federation request failed");
    } else {
        tracing::info!(code = err.code(), "federation request refused");
    }
    HttpResponse::build(status)
        .content_type("application/problem+json")
        .json(serde_json::json!({
            "type": format!("urn:alongside:problem:{}", err.code().to_lowercase()),
            "title": "Federation request refused",
            "status": status.as_u16(),
            "code": err.code(),
            "detail": detail,
        }))
}

/// The query string as `T`, or BAD_USER_INPUT naming `field` and what to send.
fn query<T: serde::de::DeserializeOwned>(
    req: &HttpRequest,
    field: &str,
    hint: &str,
) -> Result<T, FedError> {
    web::Query::<T>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|e| {
            FedError::Core(alongside_core::CoreError::bad_input(
                field,
                format!("{e}: {hint}"),
            ))
        })
}

/// A 200 with the JSON answer, or the refusal.
fn answered<T: serde::Serialize>(result: Result<T, FedError>) -> HttpResponse {
    match result {
        Ok(v) => HttpResponse::Ok().json(v),
        Err(e) => refusal(&e),
    }
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

fn path_and_query(req: &HttpRequest) -> String {
    req.uri()
        .path_and_query()
        .map_or_else(|| req.path().to_owned(), |p| p.as_str().to_owned())
}

/// Reads the body (capped) and verifies the call.
async fn verified(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<(Caller, alongside_federation::Trust, Vec<u8>), HttpResponse> {
    use actix_web::ResponseError;
    let bytes = body::read(req, payload, state.config.limits.body_bytes)
        .await
        .map_err(|p| p.error_response())?
        .to_vec();
    let span = tracing::info_span!(
        "federation.inbound",
        path = req.path(),
        traceparent = header(req, TRACEPARENT).unwrap_or("")
    );
    let (caller, trust) = state
        .federation
        .verify_inbound(
            header(req, CALL_HEADER),
            req.method().as_str(),
            &path_and_query(req),
            &bytes,
        )
        .instrument(span)
        .await
        .map_err(|e| refusal(&e))?;
    if let Err(secs) = state.guard.member_call(&caller.node_id) {
        use actix_web::ResponseError;
        tracing::info!(
            limit = "security.rate_limits.federation_per_member_per_minute",
            "rate limited"
        );
        return Err(super::problem::Problem::rate_limited(
            format!(
                "too many calls from this member; try again in {secs} s \
                 (security.rate_limits.federation_per_member_per_minute)"
            ),
            secs,
        )
        .error_response());
    }
    Ok((caller, trust, bytes))
}

/// Verifies the call, then answers with what `answer` makes of it (or the refusal).
async fn signed<T: serde::Serialize>(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    answer: impl AsyncFnOnce(Caller, alongside_federation::Trust, Vec<u8>) -> Result<T, FedError>,
) -> HttpResponse {
    match verified(req, payload, state).await {
        Ok((caller, trust, bytes)) => answered(answer(caller, trust, bytes).await),
        Err(r) => r,
    }
}

pub async fn descriptor(state: web::Data<AppState>) -> HttpResponse {
    match state.federation.descriptor().await {
        Ok(d) => HttpResponse::Ok().json(d),
        Err(e) => refusal(&e.into()),
    }
}

/// The steward's signed manifest, with the serial as its ETag.
pub async fn manifest(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let m = match state.federation.published_manifest().await {
        Ok(m) => m,
        Err(e) => return refusal(&e),
    };
    let etag = format!("\"{}\"", m.serial);
    if header(&req, "if-none-match") == Some(etag.as_str()) {
        return HttpResponse::NotModified()
            .insert_header(("ETag", etag))
            .finish();
    }
    HttpResponse::Ok()
        .insert_header(("ETag", etag))
        .insert_header(("Cache-Control", "no-cache"))
        .json(serde_json::json!({ "serial": m.serial, "manifest": m.token }))
}

#[derive(Deserialize)]
struct BridgeQuery {
    from: String,
}

/// The transition manifest a retired steward key signed, for a member still pinned to it.
pub async fn bridge(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let q: BridgeQuery = match query(&req, "from", "send ?from=KID, the steward key id pinned") {
        Ok(q) => q,
        Err(e) => return refusal(&e),
    };
    match state.federation.bridge_manifest(q.from).await {
        Ok(token) => HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-cache"))
            .json(serde_json::json!({ "manifest": token })),
        Err(e) => refusal(&e),
    }
}

pub async fn join(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    use actix_web::ResponseError;
    let bytes = match body::read(&req, payload, state.config.limits.body_bytes).await {
        Ok(b) => b,
        Err(p) => return p.error_response(),
    };
    match state
        .federation
        .receive_join(header(&req, CALL_HEADER), &path_and_query(&req), &bytes)
        .await
    {
        Ok(status) => HttpResponse::Accepted().json(serde_json::json!({
            "status": status,
            "detail": "the steward's administrators will review the request",
        })),
        Err(e) => refusal(&e),
    }
}

#[derive(Deserialize)]
pub struct FeedQuery {
    #[serde(default)]
    after: i64,
    #[serde(default = "default_page")]
    limit: i64,
    /// Comma-separated kinds the caller takes; absent: the kinds every version knows. Kinds
    /// this node does not know are skipped, so a newer caller can ask an older node.
    #[serde(default)]
    kinds: Option<String>,
}

impl FeedQuery {
    fn kinds(&self) -> Vec<alongside_core::feed::FeedKind> {
        match &self.kinds {
            None => alongside_core::feed::FIRST_KINDS.to_vec(),
            Some(list) => list
                .split(',')
                .filter_map(|k| k.trim().parse().ok())
                .collect(),
        }
    }
}

fn default_page() -> i64 {
    alongside_federation::directory::PAGE
}

pub async fn feed(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    signed(&req, payload, &state, async |_, _, _| {
        let q: FeedQuery = query(&req, "after", "`after` and `limit` are whole numbers")?;
        let kinds = q.kinds();
        state.federation.answer_feed(q.after, q.limit, kinds).await
    })
    .await
}

pub async fn match_query(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    signed(&req, payload, &state, async |caller, _, bytes| {
        state.federation.answer_match(&caller, &bytes).await
    })
    .await
}

pub async fn introduction(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    signed(&req, payload, &state, async |caller, _, bytes| {
        state
            .federation
            .receive_introduction(&caller, &bytes)
            .await
            .map(|s| serde_json::json!({ "state": s }))
    })
    .await
}

pub async fn introduction_response(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    signed(&req, payload, &state, async |caller, _, bytes| {
        state
            .federation
            .receive_response(&caller, &bytes)
            .await
            .map(|()| serde_json::json!({ "received": true }))
    })
    .await
}

pub async fn introduction_progress(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    signed(&req, payload, &state, async |caller, _, bytes| {
        state
            .federation
            .receive_progress(&caller, &bytes)
            .await
            .map(|()| serde_json::json!({ "received": true }))
    })
    .await
}

#[derive(Deserialize)]
pub struct MetricsQuery {
    from: String,
    to: String,
}

pub async fn metrics(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    signed(&req, payload, &state, async |caller, trust, _| {
        let q: MetricsQuery = query(&req, "from", "give from=YYYY-MM and to=YYYY-MM")?;
        state
            .federation
            .answer_metrics(&caller, &trust, q.from, q.to)
            .await
    })
    .await
}

/// A member's status, for its steward only.
pub async fn status(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    signed(&req, payload, &state, async |caller, trust, _| {
        state.federation.answer_status(&caller, &trust).await
    })
    .await
}

/// Federation routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(super::only(
        Method::GET,
        alongside_federation::descriptor::DESCRIPTOR_PATH,
        descriptor,
    ))
    .service(
        web::scope("/federation/v1")
            .service(super::only(Method::GET, "/manifest", manifest))
            .service(super::only(Method::GET, "/manifest/bridge", bridge))
            .service(super::only(Method::POST, "/join", join))
            .service(super::only(Method::GET, "/feed", feed))
            .service(super::only(Method::POST, "/match", match_query))
            .service(super::only(Method::POST, "/introductions", introduction))
            .service(super::only(
                Method::POST,
                "/introductions/responses",
                introduction_response,
            ))
            .service(super::only(
                Method::POST,
                "/introductions/progress",
                introduction_progress,
            ))
            .service(super::only(Method::GET, "/metrics", metrics))
            .service(super::only(Method::GET, "/status", status)),
    );
}
