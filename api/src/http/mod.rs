//! HTTP routes: GraphQL, REST under /api/v1, OAuth2 token endpoint, JWKS, health.

pub mod body;
mod events;
pub mod federation;
pub mod graphql;
pub mod guard;
mod health;
mod oauth;
pub mod openapi;
pub mod problem;
mod rest;

use actix_web::http::header::HeaderValue;
use actix_web::{HttpRequest, web};
use alongside_core::ErrorCode;
use alongside_core::access::Principal;

use crate::node::AppState;
use problem::Problem;

/// Registers every route. The server and the tests build apps from this one function.
pub fn configure(cfg: &mut web::ServiceConfig, state: AppState) {
    let development = state.config.development;
    cfg.app_data(web::Data::new(state))
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(crate::observe::endpoint))
        .route("/.well-known/jwks.json", web::get().to(oauth::jwks))
        .route("/oauth/token", web::post().to(oauth::token))
        .configure(federation::routes)
        .service(
            web::resource("/graphql")
                .route(web::post().to(graphql::post))
                .default_service(web::to(graphql::wrong_method)),
        )
        .service(
            web::scope("/api/v1")
                .route("/healthz", web::get().to(health::healthz))
                .route("/readyz", web::get().to(health::readyz))
                .route("/openapi.json", web::get().to(openapi::document))
                .route("/auth/login", web::post().to(rest::login))
                .route("/auth/refresh", web::post().to(rest::refresh))
                .route("/auth/link", web::post().to(rest::request_link))
                .route("/auth/link/redeem", web::post().to(rest::redeem_link))
                .route("/events", web::post().to(events::create))
                .route("/institution", web::get().to(rest::institution))
                .route("/metrics", web::get().to(rest::metrics))
                .route("/programs", web::get().to(rest::list_programs))
                .route("/programs/{id}", web::get().to(rest::get_program)),
        );
    if development {
        cfg.route("/graphiql", web::get().to(graphql::graphiql));
    }
    cfg.default_service(web::to(not_found));
}

async fn not_found(req: HttpRequest) -> actix_web::HttpResponse {
    use actix_web::ResponseError;
    Problem::new(
        ErrorCode::NotFound,
        format!("no such endpoint: {} {}", req.method(), req.path()),
    )
    .error_response()
}

/// The W3C `traceparent` a request came with.
#[derive(Debug, Clone)]
pub struct TraceParent(pub String);

/// The caller of a request, from its `Authorization` header.
pub async fn principal_of(req: &HttpRequest, state: &AppState) -> Result<Principal, Problem> {
    let header = req.headers().get("authorization").map(HeaderValue::to_str);
    let header = match header {
        Some(Ok(v)) => Some(v),
        Some(Err(_)) => {
            return Err(Problem::new(
                ErrorCode::Unauthenticated,
                "the Authorization header is not valid text",
            ));
        }
        None => None,
    };
    crate::auth::principal(state, header)
        .await
        .map_err(Problem::from)
}
