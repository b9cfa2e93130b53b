//! A small OpenID Connect identity provider on a loopback port, for the single sign-on tests:
//! discovery, an authorization endpoint that signs in one configured person at once (as a
//! provider would after its own login page), a token endpoint that checks the code, the client,
//! the redirect URI and the PKCE verifier, and a JWKS. ID tokens are EdDSA-signed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const CLIENT_ID: &str = "alongside-pages";
pub const CLIENT_SECRET: &str = "a client secret for the tests";

/// Who the provider signs in, and with what groups.
#[derive(Debug, Clone)]
pub struct IdpUser {
    pub subject: String,
    pub email: String,
    pub name: String,
    pub groups: Vec<String>,
}

struct Pending {
    nonce: Option<String>,
    challenge: String,
    redirect_uri: String,
}

#[derive(Clone)]
struct Shared {
    issuer: String,
    key: Arc<SigningKey>,
    user: Arc<Mutex<IdpUser>>,
    codes: Arc<Mutex<HashMap<String, Pending>>>,
    /// Token requests refused (bad verifier, reused code…), for assertions.
    refusals: Arc<Mutex<Vec<String>>>,
}

pub struct Idp {
    pub issuer: String,
    shared: Shared,
    handle: actix_web::dev::ServerHandle,
}

fn form(body: &web::Bytes) -> HashMap<String, String> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

impl Idp {
    pub async fn start(user: IdpUser) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Shared {
            issuer: format!("http://{addr}"),
            key: Arc::new(SigningKey::from_bytes(&[7u8; 32])),
            user: Arc::new(Mutex::new(user)),
            codes: Arc::new(Mutex::new(HashMap::new())),
            refusals: Arc::new(Mutex::new(vec![])),
        };
        let app_shared = shared.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(app_shared.clone()))
                .route(
                    "/.well-known/openid-configuration",
                    web::get().to(discovery),
                )
                .route("/jwks", web::get().to(jwks))
                .route("/authorize", web::get().to(authorize))
                .route("/token", web::post().to(token))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            issuer: shared.issuer.clone(),
            shared,
            handle,
        }
    }

    pub fn jwks_url(&self) -> String {
        format!("{}/jwks", self.issuer)
    }

    pub fn refusals(&self) -> Vec<String> {
        self.shared.refusals.lock().unwrap().clone()
    }

    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

async fn discovery(s: web::Data<Shared>) -> HttpResponse {
    let i = &s.issuer;
    HttpResponse::Ok().json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "jwks_uri": format!("{i}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["EdDSA"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": ["openid", "email", "profile"],
    }))
}

async fn jwks(s: web::Data<Shared>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "keys": [{
        "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": "idp-sso-1",
        "x": URL_SAFE_NO_PAD.encode(s.key.verifying_key().as_bytes()),
    }]}))
}

/// Signs the configured person in at once and sends the browser back with a code.
async fn authorize(s: web::Data<Shared>, q: web::Query<HashMap<String, String>>) -> HttpResponse {
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    if get("client_id") != CLIENT_ID
        || get("response_type") != "code"
        || get("code_challenge_method") != "S256"
        || get("code_challenge").is_empty()
        || !get("scope").split(' ').any(|x| x == "openid")
    {
        return HttpResponse::BadRequest().body("bad authorization request");
    }
    let code = URL_SAFE_NO_PAD.encode(rand_bytes());
    s.codes.lock().unwrap().insert(
        code.clone(),
        Pending {
            nonce: q.get("nonce").cloned(),
            challenge: get("code_challenge"),
            redirect_uri: get("redirect_uri"),
        },
    );
    let location = format!(
        "{}?code={}&state={}",
        get("redirect_uri"),
        code,
        crate::encode(&get("state"))
    );
    HttpResponse::Found()
        .insert_header(("location", location))
        .finish()
}

fn rand_bytes() -> [u8; 24] {
    let mut b = [0u8; 24];
    for (i, x) in b.iter_mut().enumerate() {
        *x = (uuid::Uuid::new_v4().as_bytes()[i % 16]) ^ (i as u8);
    }
    b
}

async fn token(
    s: web::Data<Shared>,
    req: actix_web::HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let f = form(&body);
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let refuse = |why: &str| {
        s.refusals.lock().unwrap().push(why.to_owned());
        HttpResponse::BadRequest()
            .json(json!({ "error": "invalid_grant", "error_description": why }))
    };
    // The client authenticates with HTTP Basic or in the form.
    let basic = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let (id, secret) = match basic {
        Some(pair) => {
            let (i, s) = pair.split_once(':').unwrap_or_default();
            (crate::decode(i), crate::decode(s))
        }
        None => (get("client_id"), get("client_secret")),
    };
    if id != CLIENT_ID || secret != CLIENT_SECRET {
        return refuse("client authentication failed");
    }
    if get("grant_type") != "authorization_code" {
        return refuse("unsupported grant type");
    }
    let Some(pending) = s.codes.lock().unwrap().remove(&get("code")) else {
        return refuse("unknown or used code");
    };
    if pending.redirect_uri != get("redirect_uri") {
        return refuse("redirect_uri differs");
    }
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(get("code_verifier").as_bytes()));
    if challenge != pending.challenge {
        return refuse("PKCE verifier does not match");
    }
    let user = s.user.lock().unwrap().clone();
    let now = jsonwebtoken::get_current_timestamp();
    let mut claims = json!({
        "iss": s.issuer, "aud": CLIENT_ID, "sub": user.subject, "iat": now, "exp": now + 300,
        "email": user.email, "name": user.name, "groups": user.groups,
    });
    if let Some(n) = pending.nonce {
        claims["nonce"] = Value::String(n);
    }
    let der = s.key.to_pkcs8_der().unwrap();
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some("idp-sso-1".into());
    let id_token =
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ed_der(der.as_bytes())).unwrap();
    HttpResponse::Ok().json(json!({
        "access_token": "unused", "token_type": "Bearer", "expires_in": 300, "id_token": id_token,
    }))
}
