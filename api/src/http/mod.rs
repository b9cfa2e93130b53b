//! HTTP routes: GraphQL, REST under /api/v1, OAuth2 token endpoint, JWKS, health.

pub mod body;
mod events;
pub mod federation;
pub mod graphql;
pub mod guard;
mod health;
pub mod language;
mod oauth;
pub mod openapi;
pub mod problem;
mod rest;
mod scim;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{HttpServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderValue;
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{FromRequest, Handler, HttpRequest, Responder, web};
use alongside_core::ErrorCode;
use alongside_core::access::Principal;

use crate::node::AppState;
use problem::Problem;

/// Registers every route. The server and the tests build apps from this one function.
pub fn configure(cfg: &mut web::ServiceConfig, state: AppState) {
    let development = state.config.development;
    cfg.app_data(web::Data::new(state))
        .service(only(Method::GET, "/healthz", health::healthz))
        .service(only(Method::GET, "/readyz", health::readyz))
        .service(only(Method::GET, "/metrics", crate::observe::endpoint))
        .service(only(Method::GET, "/.well-known/jwks.json", oauth::jwks))
        .service(only(Method::POST, "/oauth/token", oauth::token))
        .configure(federation::routes)
        .configure(scim::routes)
        .service(
            web::resource("/graphql")
                .route(web::post().to(graphql::post))
                .default_service(web::to(graphql::wrong_method)),
        )
        .service(
            web::scope("/api/v1")
                .wrap(actix_web::middleware::from_fn(problems_in_language))
                .service(only(Method::GET, "/healthz", health::healthz))
                .service(only(Method::GET, "/readyz", health::readyz))
                .service(only(Method::GET, "/health", health::detail))
                .service(only(Method::GET, "/openapi.json", openapi::document))
                .service(only(Method::POST, "/auth/login", rest::login))
                .service(only(Method::POST, "/auth/refresh", rest::refresh))
                .service(only(Method::POST, "/auth/link", rest::request_link))
                .service(only(Method::POST, "/auth/link/redeem", rest::redeem_link))
                .service(only(Method::POST, "/events", events::create))
                .service(only(
                    Method::POST,
                    "/handoffs/acknowledge",
                    rest::acknowledge_handoff,
                ))
                .service(only(Method::GET, "/institution", rest::institution))
                .service(only(Method::GET, "/metrics", rest::metrics))
                .service(only(Method::GET, "/programs", rest::list_programs))
                .service(only(Method::GET, "/programs/{id}", rest::get_program)),
        );
    if development {
        cfg.service(only(Method::GET, "/graphiql", graphql::graphiql));
    }
    cfg.configure(crate::pages::routes);
    cfg.default_service(web::to(not_found));
}

async fn not_found(req: HttpRequest, state: web::Data<AppState>) -> actix_web::HttpResponse {
    use actix_web::ResponseError;
    if crate::pages::wants_html(&req) {
        return crate::pages::not_found(&req, &state).await;
    }
    Problem::new(
        ErrorCode::NotFound,
        format!("no such endpoint: {} {}", req.method(), req.path()),
    )
    .error_response()
}

/// An endpoint for one method; the others get 405 with `Allow` naming it.
pub(crate) fn only<F, Args>(
    method: Method,
    path: &str,
    handler: F,
) -> impl HttpServiceFactory + use<F, Args>
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    let allow = method.clone();
    web::resource(path)
        .route(web::method(method).to(handler))
        .default_service(web::to(move |req: HttpRequest| {
            method_not_allowed(req, allow.clone())
        }))
}

async fn method_not_allowed(req: HttpRequest, allow: Method) -> actix_web::HttpResponse {
    use actix_web::ResponseError;
    let mut response = Problem::new(
        ErrorCode::BadUserInput,
        format!("{} takes {allow}, not {}", req.path(), req.method()),
    )
    .with_status(StatusCode::METHOD_NOT_ALLOWED)
    .error_response();
    if let Ok(value) = HeaderValue::from_str(allow.as_str()) {
        response
            .headers_mut()
            .insert(actix_web::http::header::ALLOW, value);
    }
    response
}

/// A REST refusal in its caller's language (`language`): the title and detail a person reads,
/// with the English detail kept beside them. Answers that are not refusals pass untouched.
async fn problems_in_language(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let res = next.call(req).await?.map_into_boxed_body();
    let Some(problem) = res
        .response()
        .error()
        .and_then(|e| e.as_error::<Problem>())
        .cloned()
    else {
        return Ok(res);
    };
    let Some(state) = res.request().app_data::<web::Data<AppState>>().cloned() else {
        return Ok(res);
    };
    let language = language::Language::of(res.request().headers(), state.catalogue);
    let locale = match principal_of(res.request(), &state).await {
        Ok(who) => language.known(&state.db, &who).await,
        Err(_) => language.accepted(),
    };
    if locale.is_none_or(|l| l == alongside_core::i18n::Locale::En) {
        return Ok(res);
    }
    let (req, _) = res.into_parts();
    let answer =
        actix_web::ResponseError::error_response(&problem.in_language(language.words, locale));
    Ok(ServiceResponse::new(req, answer))
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
