use alongside_core::access::{Role, Scope};
use alongside_tests::{PASSWORD, TestNode, TestUser, error_code};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const VIEWER: &str = "{ viewer { roles person { displayName } } }";

/// Signs `claims` with the node's own key (read from its data directory) or with `other`.
fn forge(node: &TestNode, claims: &Value, other: Option<&SigningKey>) -> String {
    let pem =
        std::fs::read_to_string(node.state.config.data_dir.join("node-signing-key.pem")).unwrap();
    let own = SigningKey::from_pkcs8_pem(&pem).unwrap();
    let key = other.unwrap_or(&own);
    let der = key.to_pkcs8_der().unwrap();
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(node.state.tokens.key().kid().to_owned());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(der.as_bytes())).unwrap()
}

fn claims(node: &TestNode, user: &TestUser) -> Value {
    let now = jsonwebtoken::get_current_timestamp();
    json!({
        "iss": node.state.tokens.settings().issuer,
        "aud": "alongside",
        "sub": user.account_id,
        "exp": now + 600,
        "iat": now,
        "jti": "t",
        "typ": "user",
        "person": user.person_id,
        "roles": ["member", "admin"],
    })
}

async fn viewer_code(node: &TestNode, token: &str) -> (u16, Option<String>) {
    let (status, body) = node.gql_raw(Some(token), VIEWER, json!({})).await;
    (status, error_code(&body).map(str::to_owned))
}

#[tokio::test]
async fn login_over_rest_and_graphql_then_use_the_token() {
    let node = TestNode::spawn().await;
    let user = node.user(&[Role::Coordinator]).await;
    let data = node.gql(Some(&user.token), VIEWER, json!({})).await;
    assert_eq!(data["viewer"]["roles"], json!(["MEMBER", "COORDINATOR"]));

    let q = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken tokenType expiresIn refreshToken } }";
    let data = node
        .gql(None, q, json!({ "e": user.email, "p": PASSWORD }))
        .await;
    assert_eq!(data["login"]["tokenType"], "Bearer");
    assert_eq!(data["login"]["expiresIn"], 900);
    let token = data["login"]["accessToken"].as_str().unwrap();
    node.gql(Some(token), VIEWER, json!({})).await;
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let node = TestNode::spawn().await;
    let user = node.user(&[]).await;
    let mut details = vec![];
    for (email, password) in [
        (user.email.as_str(), "wrong password here"),
        ("nobody@hospital.test", PASSWORD),
    ] {
        let r = node
            .http
            .post(node.url("/api/v1/auth/login"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], "UNAUTHENTICATED");
        details.push(body["detail"].clone());
    }
    assert_eq!(details[0], details[1]);
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_refresh_token_signs_the_family_out() {
    let node = TestNode::spawn().await;
    let user = node.user(&[]).await;
    let refresh = |token: String| {
        let node = &node;
        async move {
            let r = node
                .http
                .post(node.url("/api/v1/auth/refresh"))
                .json(&json!({ "refresh_token": token }))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, first) = refresh(user.refresh_token.clone()).await;
    assert_eq!(status, 200);
    let rotated = first["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rotated, user.refresh_token);
    assert_eq!(
        viewer_code(&node, first["access_token"].as_str().unwrap())
            .await
            .1,
        None
    );

    // The original token again: refused, and the rotated one dies with it.
    let (status, body) = refresh(user.refresh_token.clone()).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "UNAUTHENTICATED");
    assert!(body["detail"].as_str().unwrap().contains("already used"));
    let (status, _) = refresh(rotated).await;
    assert_eq!(status, 401);

    // Refresh tokens are stored only as digests.
    assert_eq!(node.count("refresh_tokens").await, 2);
    let raw_in_db = {
        use alongside_core::schema::refresh_tokens::dsl::*;
        use diesel::prelude::*;
        let db = node.state.db.clone();
        let raw = user.refresh_token.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = db.get().unwrap();
            refresh_tokens
                .filter(token_hash.eq(raw))
                .count()
                .get_result::<i64>(&mut **conn)
                .unwrap()
        })
        .await
        .unwrap()
    };
    assert_eq!(raw_in_db, 0);
}

#[tokio::test]
async fn forged_and_expired_tokens_are_refused() {
    let node = TestNode::spawn().await;
    let user = node.user(&[]).await;
    let good = claims(&node, &user);
    assert_eq!(
        viewer_code(&node, &forge(&node, &good, None)).await,
        (200, None)
    );

    let mut expired = good.clone();
    expired["exp"] = json!(jsonwebtoken::get_current_timestamp() - 3600);
    let mut wrong_aud = good.clone();
    wrong_aud["aud"] = json!("someone-else");
    let mut wrong_iss = good.clone();
    wrong_iss["iss"] = json!("https://evil.test");
    let mut no_exp = good.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    let mut not_yet = good.clone();
    not_yet["nbf"] = json!(jsonwebtoken::get_current_timestamp() + 3600);
    let other_key = SigningKey::from_bytes(&[7u8; 32]);
    let none_token = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(
            json!({"alg": "none", "typ": "JWT", "kid": node.state.tokens.key().kid()}).to_string()
        ),
        URL_SAFE_NO_PAD.encode(good.to_string())
    );
    let hs_token = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(node.state.tokens.key().kid().to_owned());
        jsonwebtoken::encode(&header, &good, &EncodingKey::from_secret(b"guess")).unwrap()
    };
    let cases = [
        ("expired", forge(&node, &expired, None), "expired"),
        ("wrong audience", forge(&node, &wrong_aud, None), "audience"),
        ("wrong issuer", forge(&node, &wrong_iss, None), "issuer"),
        ("missing exp", forge(&node, &no_exp, None), "claim"),
        (
            "not valid yet",
            forge(&node, &not_yet, None),
            "not valid yet",
        ),
        (
            "another key",
            forge(&node, &good, Some(&other_key)),
            "signature",
        ),
        ("alg none", none_token, ""),
        ("HS256 with kid", hs_token, "algorithm"),
        ("garbage", "not.a.token".to_owned(), "malformed"),
    ];
    for (name, token, why) in cases {
        let (status, body) = node.gql_raw(Some(&token), VIEWER, json!({})).await;
        assert_eq!(status, 401, "{name}: {body}");
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{name}: {body}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(why), "{name}: {message}");
        assert!(body.get("data").is_none(), "{name}: nothing may run");
    }
    // A header that is not a bearer token.
    let r = node
        .http
        .post(node.url("/graphql"))
        .header("authorization", "Basic abc")
        .json(&json!({"query": VIEWER}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn anonymous_callers_must_sign_in_for_personal_data() {
    let node = TestNode::spawn().await;
    let (status, body) = node.gql_raw(None, VIEWER, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn client_credentials_issue_scoped_tokens() {
    let node = TestNode::spawn().await;
    let (id, secret) = node.create_client(&[Scope::ProgramsWrite]).await;
    let token_url = node.url("/oauth/token");

    // Form body, and HTTP Basic.
    let r = node
        .http
        .post(&token_url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["scope"], "programs:write");
    assert_eq!(body["token_type"], "Bearer");
    let r = node
        .http
        .post(&token_url)
        .basic_auth(&id, Some(&secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "programs:write"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let token = r.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let create = "mutation { createProgram(input: {name: \"EAP\", kind: EAP, tier: 3, hours: \"24/7\", contact: \"x1234\"}) { name } }";
    node.gql(Some(&token), create, json!({})).await;
    // A client is not a person.
    let (_, body) = node.gql_raw(Some(&token), VIEWER, json!({})).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));

    for (form, status, error) in [
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", id.as_str()),
                ("client_secret", "wrong"),
            ],
            401,
            "invalid_client",
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "cl_nobody"),
                ("client_secret", secret.as_str()),
            ],
            401,
            "invalid_client",
        ),
        (
            vec![
                ("grant_type", "password"),
                ("client_id", id.as_str()),
                ("client_secret", secret.as_str()),
            ],
            400,
            "unsupported_grant_type",
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", id.as_str()),
                ("client_secret", secret.as_str()),
                ("scope", "admin"),
            ],
            400,
            "invalid_scope",
        ),
        (
            vec![("grant_type", "client_credentials")],
            401,
            "invalid_client",
        ),
    ] {
        let r = node.http.post(&token_url).form(&form).send().await.unwrap();
        assert_eq!(r.status(), status, "{form:?}");
        assert_eq!(r.json::<Value>().await.unwrap()["error"], error, "{form:?}");
    }
    let r = node
        .http
        .post(&token_url)
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

/// Issue 18: removing a role, suspending an account and signing out everywhere hold from the
/// very next request, not when the access token expires.
#[tokio::test]
async fn removed_roles_suspension_and_sign_out_everywhere_end_tokens_at_once() {
    let node = TestNode::spawn().await;
    let admin = node.user(&[Role::Admin]).await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let breaches = "{ clockBreaches { clock } }";
    let code = |token: String, doc: &'static str| {
        let node = &node;
        async move {
            let (_, body) = node.gql_raw(Some(&token), doc, json!({})).await;
            (error_code(&body).map(str::to_owned), body)
        }
    };
    let set_roles =
        "mutation($id: ID!, $r: [Role!]!) { setAccountRoles(accountId: $id, roles: $r) { roles } }";
    let account = |u: &TestUser| URL_SAFE_NO_PAD.encode(format!("Account:{}", u.account_id));
    assert_eq!(code(coordinator.token.clone(), breaches).await.0, None);

    // Adding a role ends nothing.
    let peer = node.user(&[]).await;
    node.gql(
        Some(&admin.token),
        set_roles,
        json!({ "id": account(&peer), "r": ["PEER_SUPPORTER"] }),
    )
    .await;
    assert_eq!(viewer_code(&node, &peer.token).await.1, None);

    // Removing one ends the token at the next request; a refreshed token has the new roles.
    node.gql(
        Some(&admin.token),
        set_roles,
        json!({ "id": account(&coordinator), "r": [] }),
    )
    .await;
    let (refused, body) = code(coordinator.token.clone(), breaches).await;
    assert_eq!(refused.as_deref(), Some("UNAUTHENTICATED"), "{body}");
    assert!(
        body.to_string().contains("refresh it or sign in again"),
        "{body}"
    );
    let refreshed = node
        .http
        .post(node.url("/api/v1/auth/refresh"))
        .json(&json!({ "refresh_token": coordinator.refresh_token }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let token = refreshed["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        code(token.clone(), breaches).await.0.as_deref(),
        Some("FORBIDDEN")
    );
    assert_eq!(viewer_code(&node, &token).await.1, None);

    // Suspension: tokens, refresh and sign-in all refused; lifted, the person signs in again.
    let suspend = "mutation($id: ID!, $s: Boolean!) { setAccountSuspended(accountId: $id, suspended: $s) { disabled } }";
    let data = node
        .gql(
            Some(&admin.token),
            suspend,
            json!({ "id": account(&peer), "s": true }),
        )
        .await;
    assert_eq!(data["setAccountSuspended"]["disabled"], true);
    let (refused, body) = code(peer.token.clone(), VIEWER).await;
    assert_eq!(refused.as_deref(), Some("UNAUTHENTICATED"));
    assert!(body.to_string().contains("suspended"), "{body}");
    let r = node
        .http
        .post(node.url("/api/v1/auth/refresh"))
        .json(&json!({ "refresh_token": peer.refresh_token }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = node
        .http
        .post(node.url("/api/v1/auth/login"))
        .json(&json!({ "email": peer.email, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let (_, body) = node
        .gql_raw(
            Some(&admin.token),
            "mutation($id: ID!) { setAccountSuspended(accountId: $id, suspended: true) { disabled } }",
            json!({ "id": account(&admin) }),
        )
        .await;
    assert_eq!(
        error_code(&body),
        Some("CONFLICT"),
        "admins cannot suspend themselves"
    );
    node.gql(
        Some(&admin.token),
        suspend,
        json!({ "id": account(&peer), "s": false }),
    )
    .await;
    let again = node.login(&peer.email, PASSWORD).await;
    let token = again["access_token"].as_str().unwrap();
    assert_eq!(viewer_code(&node, token).await.1, None);
    assert_eq!(
        viewer_code(&node, &peer.token).await.1.as_deref(),
        Some("UNAUTHENTICATED"),
        "a token from before the suspension stays ended"
    );

    // Signing out everywhere ends this token and every other one of the person's.
    let other = node.login(&peer.email, PASSWORD).await;
    let other = other["access_token"].as_str().unwrap();
    node.gql(Some(token), "mutation { signOutEverywhere }", json!({}))
        .await;
    for t in [token, other] {
        assert_eq!(
            viewer_code(&node, t).await.1.as_deref(),
            Some("UNAUTHENTICATED")
        );
    }
}
