//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use actix_web::HttpResponse;
use utoipa::OpenApi;

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
        rest::login,
        rest::refresh,
        rest::request_link,
        rest::redeem_link,
        rest::institution,
        rest::list_programs,
        rest::get_program,
        rest::metrics,
        events::create,
        oauth::token,
        oauth::jwks,
    ),
    components(schemas(problem::ProblemDoc)),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "auth", description = "Signing in, refreshing, partner client tokens, public keys"),
        (name = "institution", description = "The institution and its crisis resources"),
        (name = "programs", description = "Support programs"),
        (name = "events", description = "De-identified events from incident-reporting systems"),
        (name = "metrics", description = "Suppressed program metrics"),
    )
)]
pub struct ApiDoc;

pub fn json() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default()
}

pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(json())
}
