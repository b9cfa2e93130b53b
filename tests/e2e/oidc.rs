//! Tokens from the institution's identity provider, verified against a JWKS this test serves
//! over real HTTP.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::{App, HttpResponse, HttpServer, web};
use alongside_api::config::OidcConfig;
use alongside_tests::{TestNode, error_code};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const ISSUER: &str = "https://idp.hospital.test";
const AUDIENCE: &str = "alongside-node";

struct Idp {
    key: SigningKey,
    url: String,
    fetches: Arc<AtomicUsize>,
    _handle: actix_web::dev::ServerHandle,
}

impl Idp {
    async fn start() -> Self {
        let key = SigningKey::from_bytes(&[42u8; 32]);
        let jwks = json!({ "keys": [{
            "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": "idp-1",
            "x": URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()),
        }]});
        let fetches = Arc::new(AtomicUsize::new(0));
        let counter = fetches.clone();
        let server = HttpServer::new(move || {
            let jwks = jwks.clone();
            let counter = counter.clone();
            App::new().route(
                "/jwks",
                web::get().to(move || {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let body = jwks.clone();
                    async move { HttpResponse::Ok().json(body) }
                }),
            )
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            key,
            url: format!("http://{addr}/jwks"),
            fetches,
            _handle: handle,
        }
    }

    fn token(&self, claims: Value, kid: &str, key: Option<&SigningKey>) -> String {
        let der = key.unwrap_or(&self.key).to_pkcs8_der().unwrap();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ed_der(der.as_bytes())).unwrap()
    }
}

fn claims(sub: &str, email: &str, groups: &[&str]) -> Value {
    let now = jsonwebtoken::get_current_timestamp();
    json!({ "iss": ISSUER, "aud": AUDIENCE, "sub": sub, "exp": now + 300, "iat": now,
            "email": email, "name": "Dr. Example", "groups": groups })
}

#[tokio::test]
async fn identity_provider_tokens_map_to_people_and_roles() {
    let idp = Idp::start().await;
    let jwks_url = idp.url.clone();
    let node = TestNode::spawn_with(move |c| {
        c.oidc = Some(OidcConfig {
            issuer: ISSUER.into(),
            jwks_url,
            audience: AUDIENCE.into(),
            algorithms: vec!["EdDSA".into(), "RS256".into()],
            role_claim: "groups".into(),
            role_map: BTreeMap::from([("sv-coordinators".into(), "coordinator".into())]),
            email_claim: "email".into(),
            name_claim: "name".into(),
            client_id: None,
            client_secret: None,
        })
    })
    .await;
    let viewer = "{ viewer { roles account { external } person { email displayName } } }";

    // First sight creates the person; the mapped group gives the role.
    let token = idp.token(
        claims(
            "abc-123",
            "Dr.Example@Hospital.test",
            &["sv-coordinators", "other"],
        ),
        "idp-1",
        None,
    );
    let data = node.gql(Some(&token), viewer, json!({})).await;
    assert_eq!(data["viewer"]["roles"], json!(["MEMBER", "COORDINATOR"]));
    assert_eq!(data["viewer"]["account"]["external"], true);
    assert_eq!(
        data["viewer"]["person"]["email"],
        "dr.example@hospital.test"
    );
    // The role works.
    node.gql(
        Some(&token),
        "{ people(first: 5) { edges { node { email } } } }",
        json!({}),
    )
    .await;

    // The provider is the source of truth for roles: without the group, only member.
    let token = idp.token(
        claims("abc-123", "dr.example@hospital.test", &[]),
        "idp-1",
        None,
    );
    let data = node.gql(Some(&token), viewer, json!({})).await;
    assert_eq!(data["viewer"]["roles"], json!(["MEMBER"]));
    assert_eq!(
        node.count("people").await,
        1,
        "the same subject is the same person"
    );
    assert_eq!(
        idp.fetches.load(Ordering::SeqCst),
        1,
        "the key set is cached"
    );

    let mut wrong_aud = claims("abc-123", "dr.example@hospital.test", &[]);
    wrong_aud["aud"] = json!("another-app");
    let mut wrong_iss = claims("abc-123", "dr.example@hospital.test", &[]);
    wrong_iss["iss"] = json!("https://evil.test");
    let other_key = SigningKey::from_bytes(&[9u8; 32]);
    for (name, token) in [
        ("wrong audience", idp.token(wrong_aud, "idp-1", None)),
        ("wrong issuer", idp.token(wrong_iss, "idp-1", None)),
        (
            "another key under the provider's kid",
            idp.token(
                claims("x", "x@hospital.test", &[]),
                "idp-1",
                Some(&other_key),
            ),
        ),
        (
            "unknown kid",
            idp.token(claims("x", "x@hospital.test", &[]), "idp-2", None),
        ),
    ] {
        let (status, body) = node.gql_raw(Some(&token), viewer, json!({})).await;
        assert_eq!(status, 401, "{name}: {body}");
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{name}");
    }
    assert_eq!(
        node.count("people").await,
        1,
        "refused tokens create nobody"
    );
}
