//! OAuth2 client credentials (RFC 6749 §4.4) at POST /oauth/token, and the node's public keys.
//! This endpoint answers in OAuth2's own error format, as OAuth2 client libraries expect.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::clients::{self, GrantError};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::body;
use crate::node::AppState;

#[derive(Deserialize, ToSchema)]
pub struct TokenForm {
    /// Must be `client_credentials`.
    #[schema(pattern = "^client_credentials$")]
    pub grant_type: String,
    /// Or send `Authorization: Basic base64(client_id:client_secret)`.
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// Space-separated subset of the client's scopes; default all of them.
    pub scope: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ClientTokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub scope: String,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header(("Cache-Control", "no-store"));
    if status == StatusCode::UNAUTHORIZED {
        response.insert_header(("WWW-Authenticate", "Basic realm=\"alongside\""));
    }
    response.json(json!({ "error": error, "error_description": description }))
}

fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get("authorization")?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// Exchanges client credentials for an access token.
#[utoipa::path(post, path = "/oauth/token", tag = "auth",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Token issued", body = ClientTokenResponse),
              (status = 400, description = "invalid_request, unsupported_grant_type or invalid_scope"),
              (status = 401, description = "invalid_client")))]
pub async fn token(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    if !body::has_content_type(&req, "application/x-www-form-urlencoded") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "send the body with Content-Type: application/x-www-form-urlencoded",
        );
    }
    let bytes = match body::read(&req, payload, state.config.limits.body_bytes).await {
        Ok(b) => b,
        Err(_) => {
            return oauth_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                "the body is too large",
            );
        }
    };
    let form: TokenForm = match serde_urlencoded::from_bytes(&bytes) {
        Ok(f) => f,
        Err(e) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &format!("malformed form: {e}"),
            );
        }
    };
    if form.grant_type != "client_credentials" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "this endpoint issues tokens for grant_type=client_credentials only",
        );
    }
    let (client_id, secret) = match (basic_credentials(&req), form.client_id, form.client_secret) {
        (Some(creds), _, _) => creds,
        (None, Some(id), Some(secret)) => (id, secret),
        _ => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client credentials are missing",
            );
        }
    };
    match clients::client_credentials(&state.db, &state.tokens, client_id, secret, form.scope).await
    {
        Ok((token, scopes)) => HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(ClientTokenResponse {
                access_token: token.token,
                token_type: "Bearer",
                expires_in: token.expires_in,
                scope: scopes
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
            }),
        Err(GrantError::InvalidClient) => oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        ),
        Err(GrantError::InvalidScope(why)) => {
            oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", &why)
        }
        Err(GrantError::Other(e)) => {
            tracing::error!(error = %e, "token endpoint failed");
            oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "the token could not be issued",
            )
        }
    }
}

/// The node's public signing keys (JWKS), for anyone verifying its tokens.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "auth",
    responses((status = 200, description = "JSON Web Key Set")))]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(state.tokens.jwks())
}
