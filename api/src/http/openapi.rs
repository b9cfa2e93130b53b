//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use actix_web::HttpResponse;
use utoipa::openapi::path::Operation;
use utoipa::openapi::{Content, OpenApi as Document, Ref, RefOr, Response};
use utoipa::{Modify, OpenApi};

use super::{events, health, oauth, problem, rest};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Alongside node REST API",
        description = "REST endpoints of an Alongside node, for integrations that are not GraphQL \
                       clients. Errors are application/problem+json with a stable `code`.",
    ),
    paths(
        health::healthz,
        health::readyz,
        health::detail,
        rest::login,
        rest::refresh,
        rest::request_link,
        rest::redeem_link,
        rest::institution,
        rest::list_programs,
        rest::get_program,
        rest::metrics,
        events::create,
        rest::acknowledge_handoff,
        oauth::token,
        oauth::jwks,
    ),
    components(schemas(problem::ProblemDoc)),
    modifiers(&ProblemResponses),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "auth", description = "Signing in, refreshing, partner client tokens, public keys"),
        (name = "institution", description = "The institution and its crisis resources"),
        (name = "programs", description = "Support programs"),
        (name = "events", description = "De-identified events from incident-reporting systems"),
        (name = "metrics", description = "Suppressed program metrics"),
        (name = "handoffs", description = "Hand-offs to tier-3 programs, acknowledged by their intake"),
    )
)]
pub struct ApiDoc;

/// Errors are `application/problem+json`, and every operation can answer 429 (rate limits) and,
/// with a body, 413 (too large) and 415 (wrong content type). Done once here rather than on each
/// handler, so a new endpoint cannot forget them.
struct ProblemResponses;

const PROBLEM: &str = "application/problem+json";

impl Modify for ProblemResponses {
    fn modify(&self, doc: &mut Document) {
        for item in doc.paths.paths.values_mut() {
            for op in [&mut item.get, &mut item.post].into_iter().flatten() {
                document_problems(op);
            }
        }
    }
}

fn document_problems(op: &mut Operation) {
    let has_body = op.request_body.is_some();
    let responses = &mut op.responses.responses;
    for (status, response) in responses.iter_mut() {
        if let RefOr::T(response) = response
            && !status.starts_with('2')
            && let Some(json) = response.content.shift_remove("application/json")
        {
            response.content.insert(PROBLEM.into(), json);
        }
    }
    let mut add = |status: &str, description: &str| {
        responses.entry(status.into()).or_insert_with(|| {
            let mut response = Response::new(description);
            response.content.insert(
                PROBLEM.into(),
                RefOr::T(Content::new(Some(Ref::from_schema_name("ProblemDoc")))),
            );
            RefOr::T(response)
        });
    };
    add(
        "429",
        "Too many requests (RATE_LIMITED): retry after `Retry-After` seconds",
    );
    add(
        "503",
        "The node's database is not answering (UNAVAILABLE): retry after `Retry-After` seconds",
    );
    if has_body {
        add(
            "400",
            "The body is malformed, has an unknown field, or a value is wrong (BAD_USER_INPUT)",
        );
        add("413", "The body is over the node's limit (LIMIT_EXCEEDED)");
        add(
            "415",
            "The body's Content-Type is not the documented one (BAD_USER_INPUT)",
        );
    }
}

pub fn json() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default()
}

pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(json())
}
