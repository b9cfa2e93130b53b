//! SCIM 2.0 under `/scim/v2` (RFC 7644): the hospital's identity system keeps the staff roster
//! current. Authenticated by a partner client's token with the `scim` scope (or an admin's).
//! Answers are `application/scim+json`; errors are SCIM error documents. The use cases live in
//! `alongside_core::scim`; this file only translates HTTP.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::access::Principal;
use alongside_core::scim::{self, ListAnswer, ListQuery, ScimError, ScimUser, schema};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::node::AppState;

const CONTENT_TYPE: &str = "application/scim+json";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/scim/v2")
            .service(one_of("/ServiceProviderConfig", vec![(Method::GET, web::get().to(service_provider_config))]))
            .service(one_of("/Schemas", vec![(Method::GET, web::get().to(schemas))]))
            .service(one_of("/Schemas/{id}", vec![(Method::GET, web::get().to(schema_by_id))]))
            .service(one_of("/ResourceTypes", vec![(Method::GET, web::get().to(resource_types))]))
            .service(one_of(
                "/ResourceTypes/{id}",
                vec![(Method::GET, web::get().to(resource_type_by_id))],
            ))
            .service(one_of(
                "/Users",
                vec![(Method::GET, web::get().to(list)), (Method::POST, web::post().to(create))],
            ))
            .service(one_of("/Users/.search", vec![(Method::POST, web::post().to(search))]))
            .service(one_of(
                "/Users/{id}",
                vec![
                    (Method::GET, web::get().to(get)),
                    (Method::PUT, web::put().to(replace)),
                    (Method::PATCH, web::patch().to(patch)),
                    (Method::DELETE, web::delete().to(delete)),
                ],
            ))
            .route(
                "/.search",
                web::post().to(|| async {
                    failure(ScimError::not_implemented(
                        "searching every resource type at once is not supported; use /Users/.search",
                    ))
                }),
            )
            .default_service(web::to(|req: HttpRequest| async move {
                failure(ScimError::not_found(format!(
                    "no such SCIM endpoint: {} {}",
                    req.method(),
                    req.path()
                )))
            })),
    );
}

/// A resource answering `routes`' methods; any other method gets a SCIM 405 naming them.
fn one_of(path: &str, routes: Vec<(Method, actix_web::Route)>) -> actix_web::Resource {
    let allow: Vec<String> = routes.iter().map(|(m, _)| m.to_string()).collect();
    let allow = allow.join(", ");
    let mut resource = web::resource(path);
    for (_, route) in routes {
        resource = resource.route(route);
    }
    resource.default_service(web::to(move |req: HttpRequest| {
        let allow = allow.clone();
        async move {
            let mut response = failure(ScimError {
                status: 405,
                scim_type: None,
                detail: format!("{} takes {allow}, not {}", req.path(), req.method()),
                retry_after: None,
            });
            if let Ok(v) = HeaderValue::from_str(&allow) {
                response.headers_mut().insert(header::ALLOW, v);
            }
            response
        }
    }))
}

/// The node's `/scim/v2` URL, for `meta.location`.
fn base(req: &HttpRequest, state: &AppState) -> String {
    let root = match &state.config.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    };
    format!("{root}/scim/v2")
}

fn answer(status: StatusCode, doc: Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, CONTENT_TYPE))
        .body(doc.to_string())
}

fn failure(e: ScimError) -> HttpResponse {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut doc = json!({
        "schemas": [schema::ERROR],
        "status": e.status.to_string(),
        "detail": e.detail,
    });
    if let Some(t) = e.scim_type {
        doc["scimType"] = json!(t);
    }
    let mut response = answer(status, doc);
    if let Some(secs) = e.retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    if e.status == 401
        && let Ok(v) = HeaderValue::from_str("Bearer realm=\"scim\"")
    {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}

fn reply(result: Result<HttpResponse, ScimError>) -> HttpResponse {
    result.unwrap_or_else(failure)
}

async fn caller(req: &HttpRequest, state: &AppState) -> Result<Principal, ScimError> {
    let header = match req
        .headers()
        .get(header::AUTHORIZATION)
        .map(HeaderValue::to_str)
    {
        Some(Ok(v)) => Some(v),
        Some(Err(_)) => {
            return Err(ScimError::from(alongside_core::CoreError::Unauthenticated(
                "the Authorization header is not valid text".into(),
            )));
        }
        None => None,
    };
    let who = crate::auth::principal(state, header).await?;
    // The discovery documents describe the service; they are for a provisioning client too.
    if matches!(who, Principal::Anonymous) {
        return Err(ScimError::from(alongside_core::CoreError::Unauthenticated(
            "send Authorization: Bearer <access token> of a client with the scim scope".into(),
        )));
    }
    Ok(who)
}

/// A JSON body of `application/scim+json` or `application/json`, within the body limit.
async fn json_body(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<Value, ScimError> {
    let ok_type = super::body::has_content_type(req, CONTENT_TYPE)
        || super::body::has_content_type(req, "application/json");
    if !ok_type {
        return Err(ScimError::invalid_syntax(format!(
            "send the body as {CONTENT_TYPE} (or application/json)"
        )));
    }
    let limit = state.config.limits.body_bytes;
    let raw = super::body::read(req, payload, limit)
        .await
        .map_err(|_| ScimError {
            status: 413,
            scim_type: None,
            detail: format!(
                "the request body is over the limit of {limit} bytes (limits.body_bytes)"
            ),
            retry_after: None,
        })?;
    serde_json::from_slice(&raw)
        .map_err(|e| ScimError::invalid_syntax(format!("the body is not JSON: {e}")))
}

fn list_response(resources: Vec<Value>, total: i64, start_index: i64) -> Value {
    json!({
        "schemas": [schema::LIST],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

async fn service_provider_config(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    reply(
        async {
            caller(&req, &state).await?;
            Ok(answer(
                StatusCode::OK,
                schema::service_provider_config(&base(&req, &state)),
            ))
        }
        .await,
    )
}

/// A discovery list (`/Schemas`, `/ResourceTypes`) as a ListResponse.
async fn discovery_list(
    req: &HttpRequest,
    state: &AppState,
    docs: fn(&str) -> Vec<Value>,
) -> HttpResponse {
    reply(
        async {
            caller(req, state).await?;
            let all = docs(&base(req, state));
            let n = i64::try_from(all.len()).unwrap_or(0);
            Ok(answer(StatusCode::OK, list_response(all, n, 1)))
        }
        .await,
    )
}

/// One discovery document by its id, or a SCIM 404 naming `what`.
async fn discovery_one(
    req: &HttpRequest,
    state: &AppState,
    id: &str,
    docs: fn(&str) -> Vec<Value>,
    what: &str,
) -> HttpResponse {
    reply(
        async {
            caller(req, state).await?;
            docs(&base(req, state))
                .into_iter()
                .find(|s| s["id"].as_str() == Some(id))
                .map(|s| answer(StatusCode::OK, s))
                .ok_or_else(|| ScimError::not_found(format!("no {what} {id}")))
        }
        .await,
    )
}

async fn schemas(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    discovery_list(&req, &state, schema::schemas).await
}

async fn schema_by_id(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    discovery_one(&req, &state, &id, schema::schemas, "schema").await
}

async fn resource_types(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    discovery_list(&req, &state, schema::resource_types).await
}

async fn resource_type_by_id(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    discovery_one(&req, &state, &id, schema::resource_types, "resource type").await
}

/// `attributes` and `excludedAttributes`, comma-separated (RFC 7644 §3.9).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Shape {
    attributes: Option<String>,
    excluded_attributes: Option<String>,
}

impl Shape {
    fn lists(&self) -> (Vec<String>, Vec<String>) {
        let split = |s: &Option<String>| {
            s.as_deref()
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        (split(&self.attributes), split(&self.excluded_attributes))
    }
}

fn shaped(user: &ScimUser, base: &str, attributes: &[String], excluded: &[String]) -> Value {
    Value::Object(scim::resource::project(
        user.to_json(base),
        attributes,
        excluded,
    ))
}

fn one_user(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    user: &ScimUser,
    shape: &Shape,
) -> HttpResponse {
    let (attributes, excluded) = shape.lists();
    let base = base(req, state);
    let mut response = answer(status, shaped(user, &base, &attributes, &excluded));
    if let Ok(v) = HeaderValue::from_str(&format!("{base}/Users/{}", user.id)) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("W/\"{}\"", user.version)) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListParams {
    filter: Option<String>,
    start_index: Option<String>,
    count: Option<String>,
    attributes: Option<String>,
    excluded_attributes: Option<String>,
}

fn number(name: &str, v: Option<&str>) -> Result<Option<i64>, ScimError> {
    v.map(|s| {
        s.trim()
            .parse::<i64>()
            .map_err(|_| ScimError::invalid_value(format!("{name} must be a whole number")))
    })
    .transpose()
}

fn listed(req: &HttpRequest, state: &AppState, found: ListAnswer, shape: &Shape) -> HttpResponse {
    let (attributes, excluded) = shape.lists();
    let base = base(req, state);
    let resources = found
        .users
        .iter()
        .map(|u| shaped(u, &base, &attributes, &excluded))
        .collect();
    answer(
        StatusCode::OK,
        list_response(resources, found.total, found.start_index),
    )
}

async fn list(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    reply(
        async {
            let who = caller(&req, &state).await?;
            let params = web::Query::<ListParams>::from_query(req.query_string())
                .map_err(|e| ScimError::invalid_value(format!("the query string: {e}")))?
                .into_inner();
            let query = ListQuery {
                filter: params.filter,
                start_index: number("startIndex", params.start_index.as_deref())?,
                count: number("count", params.count.as_deref())?,
            };
            let shape = Shape {
                attributes: params.attributes,
                excluded_attributes: params.excluded_attributes,
            };
            let found = scim::list(&state.db, &who, query).await?;
            Ok(listed(&req, &state, found, &shape))
        }
        .await,
    )
}

/// `POST /Users/.search`: a list request in the body (RFC 7644 §3.4.3).
async fn search(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    reply(
        async {
            let who = caller(&req, &state).await?;
            let body = json_body(&req, payload, &state).await?;
            let join = |key: &str| {
                body.get(key).and_then(Value::as_array).map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(",")
                })
            };
            let query = ListQuery {
                filter: body
                    .get("filter")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                start_index: body.get("startIndex").and_then(Value::as_i64),
                count: body.get("count").and_then(Value::as_i64),
            };
            let shape = Shape {
                attributes: join("attributes"),
                excluded_attributes: join("excludedAttributes"),
            };
            let found = scim::list(&state.db, &who, query).await?;
            Ok(listed(&req, &state, found, &shape))
        }
        .await,
    )
}

async fn create(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    shape: web::Query<Shape>,
) -> HttpResponse {
    reply(
        async {
            let who = caller(&req, &state).await?;
            let body = json_body(&req, payload, &state).await?;
            let user = scim::create(&state.db, &who, body).await?;
            Ok(one_user(&req, &state, StatusCode::CREATED, &user, &shape))
        }
        .await,
    )
}

async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    shape: web::Query<Shape>,
) -> HttpResponse {
    reply(
        async {
            let who = caller(&req, &state).await?;
            let user = scim::get(&state.db, &who, &id).await?;
            Ok(one_user(&req, &state, StatusCode::OK, &user, &shape))
        }
        .await,
    )
}

async fn replace(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    id: web::Path<String>,
    shape: web::Query<Shape>,
) -> HttpResponse {
    reply(
        async {
            let who = caller(&req, &state).await?;
            let body = json_body(&req, payload, &state).await?;
            let user = scim::replace(&state.db, &who, &id, body).await?;
            Ok(one_user(&req, &state, StatusCode::OK, &user, &shape))
        }
        .await,
    )
}

async fn patch(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    id: web::Path<String>,
    shape: web::Query<Shape>,
) -> HttpResponse {
    reply(
        async {
            let who = caller(&req, &state).await?;
            let body = json_body(&req, payload, &state).await?;
            let user = scim::patch(&state.db, &who, &id, body).await?;
            Ok(one_user(&req, &state, StatusCode::OK, &user, &shape))
        }
        .await,
    )
}

async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    reply(
        async {
            let who = caller(&req, &state).await?;
            scim::delete(&state.db, &who, &id).await?;
            Ok(HttpResponse::NoContent().finish())
        }
        .await,
    )
}
