//! Abuse resistance: rate limits with `429` and `Retry-After`, login lock-out, security headers,
//! CORS for configured origins only, and the checks graphql-cop makes, as our own tests.

use alongside_core::access::Role;
use alongside_tests::{PASSWORD, TestNode, error_code};
use serde_json::{Value, json};

async fn login(node: &TestNode, email: &str, password: &str) -> reqwest::Response {
    node.http
        .post(node.url("/api/v1/auth/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn sign_in_is_rate_limited_per_address_with_retry_after() {
    let node = TestNode::spawn_with(|c| c.security.rate_limits.sign_in_per_ip_per_minute = 3).await;
    for _ in 0..3 {
        assert_eq!(
            login(&node, "nobody@hospital.test", "wrong password!!")
                .await
                .status(),
            401
        );
    }
    let r = login(&node, "nobody@hospital.test", "wrong password!!").await;
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "RATE_LIMITED");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("sign_in_per_ip_per_minute")
    );
    // Health checks are never limited; the rest of the API has its own allowance.
    assert_eq!(
        node.http
            .get(node.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        node.http
            .get(node.url("/api/v1/institution"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

/// A limit applies to the route a request reaches, never to the raw path: percent-encoding a
/// letter of `/api/v1/auth/login` still reaches sign-in (401), and once the allowance is spent,
/// every spelling of the path is turned away (429) like the plain one.
#[tokio::test]
async fn encoded_paths_are_limited_as_the_route_they_reach() {
    let node = TestNode::spawn_with(|c| c.security.rate_limits.sign_in_per_ip_per_minute = 3).await;
    let post = |path: &'static str| {
        let node = &node;
        async move {
            node.http
                .post(node.url(path))
                .json(&json!({ "email": "nobody@hospital.test", "password": "wrong password!!" }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let spellings = [
        "/api/v1/%61uth/login",
        "/api/v1/auth/%6Cogin",
        "/%61pi/v1/auth/login",
        "/api/v1/%61%75th/login",
    ];
    // The encoded spelling reaches the sign-in handler, and counts against the same allowance.
    assert_eq!(post(spellings[0]).await, 401);
    assert_eq!(post("/api/v1/auth/login").await, 401);
    assert_eq!(post("/api/v1/auth/login").await, 401);
    assert_eq!(post("/api/v1/auth/login").await, 429);
    for path in spellings {
        assert_eq!(post(path).await, 429, "{path}");
    }
}

#[tokio::test]
async fn graphql_sign_in_shares_the_sign_in_allowance() {
    let node = TestNode::spawn_with(|c| c.security.rate_limits.sign_in_per_ip_per_minute = 3).await;
    // Aliases do not multiply attempts: each one counts.
    let aliased: String = (0..5)
        .map(|i| format!("a{i}: login(email: \"x@hospital.test\", password: \"wrong password!\") {{ accessToken }} "))
        .collect();
    let (_, body) = node
        .gql_raw(
            None,
            Box::leak(format!("mutation {{ {aliased} }}").into_boxed_str()),
            json!({}),
        )
        .await;
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["extensions"]["code"].as_str())
        .collect();
    assert_eq!(
        codes.iter().filter(|c| **c == "RATE_LIMITED").count(),
        2,
        "{body}"
    );
    assert!(
        body["errors"][4]["extensions"]["retryAfter"].is_u64() || codes.contains(&"RATE_LIMITED")
    );
    // The REST route now shares the spent allowance.
    assert_eq!(
        login(&node, "x@hospital.test", "wrong password!!")
            .await
            .status(),
        429
    );
}

#[tokio::test]
async fn graphql_is_rate_limited_per_token() {
    let node = TestNode::spawn_with(|c| c.security.rate_limits.per_token_per_minute = 5).await;
    let a = node.user(&[]).await;
    let b = node.user(&[]).await;
    let q = json!({ "query": "{ viewer { roles } }" });
    let send = |t: &str| {
        node.http
            .post(node.url("/graphql"))
            .bearer_auth(t.to_owned())
            .json(&q)
            .send()
    };
    for _ in 0..5 {
        assert_eq!(send(&a.token).await.unwrap().status(), 200);
    }
    let r = send(&a.token).await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(
        send(&b.token).await.unwrap().status(),
        200,
        "another token has its own allowance"
    );
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_the_account_with_backoff() {
    let node = TestNode::spawn().await;
    let (account, _) = node.create_account("locked@hospital.test", &[]).await;
    for _ in 0..alongside_core::accounts::FREE_ATTEMPTS {
        assert_eq!(
            login(&node, "locked@hospital.test", "not the password")
                .await
                .status(),
            401
        );
    }
    let r = login(&node, "locked@hospital.test", "not the password").await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "30");
    // Locked: even the right password is refused, without being checked.
    let r = login(&node, "locked@hospital.test", PASSWORD).await;
    assert_eq!(r.status(), 429);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "RATE_LIMITED");
    // The next failure after the lock doubles it.
    assert_eq!(
        alongside_core::accounts::lockout_after(alongside_core::accounts::FREE_ATTEMPTS + 2),
        Some(chrono::Duration::seconds(60))
    );
    assert_eq!(
        alongside_core::accounts::lockout_after(40),
        Some(chrono::Duration::hours(1))
    );
    // Once the lock has passed, the right password works and the count starts again.
    {
        use diesel::prelude::*;
        let id = account.clone();
        node.state
            .db
            .run(move |conn| {
                use alongside_core::schema::accounts;
                diesel::update(
                    accounts::table
                        .filter(accounts::id.eq(alongside_core::db::Id(id.parse().unwrap()))),
                )
                .set(accounts::locked_until.eq(Some(
                    alongside_core::time::now() - chrono::Duration::seconds(1),
                )))
                .execute(conn)?;
                Ok(())
            })
            .await
            .unwrap();
    }
    assert_eq!(
        login(&node, "locked@hospital.test", PASSWORD)
            .await
            .status(),
        200
    );
    assert_eq!(
        login(&node, "locked@hospital.test", "not the password")
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn every_response_carries_security_headers_and_cors_is_an_allow_list() {
    let node = TestNode::spawn_with(|c| {
        c.security.cors_origins = vec!["https://app.example.org".into()];
        c.security.hsts = true;
    })
    .await;
    for path in [
        "/api/v1/institution",
        "/no/such/path",
        "/.well-known/jwks.json",
    ] {
        let r = node.http.get(node.url(path)).send().await.unwrap();
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'none'")
        );
        assert!(
            h["strict-transport-security"]
                .to_str()
                .unwrap()
                .starts_with("max-age=")
        );
        assert!(h.contains_key("cache-control"));
    }
    let graphql = |origin: &'static str| {
        node.http
            .post(node.url("/graphql"))
            .header("origin", origin)
            .json(&json!({ "query": "{ institution { name } }" }))
            .send()
    };
    let allowed = graphql("https://app.example.org").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.org"
    );
    let other = graphql("https://evil.example.com").await.unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));
    let preflight = |origin: &'static str| {
        node.http
            .request(reqwest::Method::OPTIONS, node.url("/graphql"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let ok = preflight("https://app.example.org").await.unwrap();
    assert_eq!(ok.status(), 204);
    assert!(
        ok.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("authorization")
    );
    let refused = preflight("https://evil.example.com").await.unwrap();
    assert!(
        !refused
            .headers()
            .contains_key("access-control-allow-origin")
    );
}

/// The checks graphql-cop runs against a GraphQL endpoint, in production mode.
#[tokio::test]
async fn graphql_cop_checks_in_production_mode() {
    let node = TestNode::spawn().await;
    let admin = node.user(&[Role::Admin]).await;
    let t = Some(admin.token.as_str());
    let raw = |doc: String| node.gql_raw(t, Box::leak(doc.into_boxed_str()), json!({}));

    // Alias overloading: 1,000 aliases of one field.
    let aliases: String = (0..1000)
        .map(|i| format!("a{i}: institution {{ name }} "))
        .collect();
    let (_, body) = raw(format!("{{ {aliases} }}")).await;
    assert_eq!(error_code(&body), Some("LIMIT_EXCEEDED"), "{body}");
    // Field duplication: the same field 1,000 times.
    let dup: String = (0..1000).map(|_| "name ").collect();
    let (_, body) = raw(format!("{{ institution {{ {dup} }} }}")).await;
    assert_eq!(error_code(&body), Some("LIMIT_EXCEEDED"), "{body}");
    // Directive overloading.
    let dirs: String = (0..50).map(|_| "@include(if: true) ").collect();
    let (_, body) = raw(format!("{{ institution {{ name {dirs} }} }}")).await;
    assert_eq!(error_code(&body), Some("LIMIT_EXCEEDED"), "{body}");
    // Introspection is off in production (the schema is published instead), so circular
    // introspection queries go nowhere either.
    let (_, body) = raw("{ __schema { types { name } } }".into()).await;
    assert!(body["data"]["__schema"].is_null(), "{body}");
    let (_, body) = raw("{ __type(name: \"Query\") { fields { name } } }".into()).await;
    assert!(body["data"]["__type"].is_null(), "{body}");
    let circular = "{ __schema { types { fields { type { fields { type { fields { type { name } } } } } } } } }";
    let (_, body) = raw(circular.into()).await;
    assert!(body["data"]["__schema"].is_null(), "{body}");
    // Field suggestions are off: a typo does not reveal field names.
    let (_, body) = raw("{ institution { nme } }".into()).await;
    assert!(!body.to_string().contains("Did you mean"), "{body}");
    // Batching is refused.
    let r = node
        .http
        .post(node.url("/graphql"))
        .bearer_auth(admin.token.clone())
        .json(&json!([{ "query": "{ institution { name } }" }, { "query": "{ institution { name } }" }]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Mutations over GET and as URL-encoded forms never run.
    let before = node.count("programs").await;
    let m = "mutation { createProgram(input: {name: \"x\", kind: EAP, tier: 3, hours: \"h\", contact: \"c\"}) { id } }";
    let r = node
        .http
        .get(node.url("/graphql"))
        .query(&[("query", m)])
        .bearer_auth(admin.token.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let r = node
        .http
        .post(node.url("/graphql"))
        .bearer_auth(admin.token.clone())
        .form(&[("query", m)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    assert_eq!(node.count("programs").await, before);
    // No GraphiQL in production.
    assert_eq!(
        node.http
            .get(node.url("/graphiql"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

/// Persisted-query allow-list mode: listed documents run (sent as text or by hash only), any
/// other document is refused with QUERY_NOT_ALLOWED.
#[tokio::test]
async fn only_allow_listed_queries_run_in_persisted_query_mode() {
    let listed = "query Institution { institution { name } }";
    let hash = alongside_core::secrets::sha256_hex(listed);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("queries.json");
    std::fs::write(&file, json!({ hash.clone(): listed }).to_string()).unwrap();
    let path = file.clone();
    let node = TestNode::spawn_with(move |c| c.limits.persisted_queries = Some(path)).await;
    let post = |body: Value| node.http.post(node.url("/graphql")).json(&body).send();
    let r = post(json!({ "query": listed })).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.json::<Value>().await.unwrap()["data"]["institution"]["name"].is_string());
    let r =
        post(json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } }))
            .await
            .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.json::<Value>().await.unwrap()["data"]["institution"]["name"].is_string());
    for body in [
        json!({ "query": "{ institution { name crisisResources } }" }),
        json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": "00" } } }),
        json!({ "query": "{ programs(first: 1) { edges { node { id } } } }", "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } }),
    ] {
        let r = post(body).await.unwrap();
        assert_eq!(r.status(), 400);
        let b: Value = r.json().await.unwrap();
        assert_eq!(
            b["errors"][0]["extensions"]["code"], "QUERY_NOT_ALLOWED",
            "{b}"
        );
    }
    // A list whose hash does not match its text is refused at start.
    std::fs::write(&file, json!({ "00": listed }).to_string()).unwrap();
    let mut config = node.config.clone();
    config.bind = "127.0.0.1:0".into();
    let err = tokio::task::spawn_blocking(move || alongside_api::node::start(config).map(|_| ()))
        .await
        .unwrap()
        .unwrap_err();
    assert!(err.to_string().contains("not the SHA-256"), "{err}");
}

/// Issue 18: 200 sockets sending a large body one byte at a time hold no place among the
/// requests in flight (the body is read first), so a normal client is answered throughout; and
/// each trickle is cut off at the body deadline with 408. The normal client's latencies are
/// printed, not asserted.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_uploads_cannot_starve_the_node() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const SLOW: usize = 200;
    let node = TestNode::spawn_with(|c| {
        c.limits.body_deadline_ms = 4_000;
        c.max_in_flight = 128;
    })
    .await;
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{{",
        node.addr
    );
    let mut trickles = Vec::new();
    for _ in 0..SLOW {
        let mut socket = tokio::net::TcpStream::connect(node.addr).await.unwrap();
        socket.write_all(head.as_bytes()).await.unwrap();
        trickles.push(tokio::spawn(async move {
            // One byte a second until the node answers (or closes).
            let mut answer = Vec::new();
            let mut buf = [0u8; 512];
            loop {
                tokio::select! {
                    n = socket.read(&mut buf) => match n {
                        Ok(0) | Err(_) => break,
                        Ok(n) => answer.extend_from_slice(&buf[..n]),
                    },
                    () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {
                        if socket.write_all(b" ").await.is_err() {
                            break;
                        }
                    }
                }
                if answer.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            String::from_utf8_lossy(&answer).to_string()
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let mut times = Vec::new();
    for _ in 0..60 {
        let started = std::time::Instant::now();
        let r = node
            .http
            .post(node.url("/graphql"))
            .json(&json!({ "query": "{ institution { name } }" }))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        times.push(started.elapsed());
        assert_eq!(status, 200, "answered, not turned away: {body}");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    times.sort();
    println!(
        "normal client during {SLOW} slow uploads: p50 {:?}, p99 {:?}, max {:?}",
        times[times.len() / 2],
        times[times.len() * 99 / 100],
        times[times.len() - 1]
    );

    let mut cut = 0;
    for t in trickles {
        let answer = t.await.unwrap();
        if answer.starts_with("HTTP/1.1 408") {
            cut += 1;
        }
    }
    assert_eq!(
        cut, SLOW,
        "every trickle cut off at the body deadline with 408"
    );
}
