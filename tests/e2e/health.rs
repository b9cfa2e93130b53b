use alongside_tests::{TestNode, error_code};
use serde_json::Value;

#[tokio::test]
async fn health_readiness_and_keys_answer() {
    let node = TestNode::spawn().await;
    for path in ["/healthz", "/api/v1/healthz"] {
        let r = node.http.get(node.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let ready: Value = node.get_json("/readyz").await;
    assert_eq!(ready["status"], "ready");
    let expected = if node.is_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(ready["database"], expected);

    let jwks: Value = node.get_json("/.well-known/jwks.json").await;
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(key["alg"], "EdDSA");
    assert!(
        key.get("d").is_none(),
        "the private key must never be published"
    );
}

#[tokio::test]
async fn openapi_document_is_3_1_and_lists_the_endpoints() {
    let node = TestNode::spawn().await;
    let doc: Value = node.get_json("/api/v1/openapi.json").await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/healthz",
        "/api/v1/readyz",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/programs",
        "/api/v1/programs/{id}",
        "/oauth/token",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
    // Errors are documented as what they are sent as, and the rate limit on every operation.
    let login = &doc["paths"]["/api/v1/auth/login"]["post"]["responses"];
    for status in ["400", "401", "413", "415", "429"] {
        assert!(
            login[status]["content"]["application/problem+json"].is_object(),
            "login's {status} is not documented as a problem document: {}",
            login[status]
        );
    }
    assert!(login["401"]["content"].get("application/json").is_none());
    let get_program = &doc["paths"]["/api/v1/programs/{id}"]["get"]["responses"];
    assert!(get_program["429"].is_object());
    assert!(
        get_program.get("415").is_none(),
        "no body, so no content type to refuse"
    );
    let limit = doc["paths"]["/api/v1/programs"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .unwrap();
    assert_eq!(limit["in"], "query");
    assert_eq!(limit["schema"]["maximum"], 100);
    let category = &doc["components"]["schemas"]["EventRequest"]["properties"]["category"];
    assert!(
        category["enum"]
            .as_array()
            .unwrap()
            .contains(&Value::from("near_miss")),
        "event categories are listed: {category}"
    );
}

#[tokio::test]
async fn a_known_path_with_another_method_is_405_with_allow() {
    let node = TestNode::spawn().await;
    for (method, path, allow) in [
        ("TRACE", "/api/v1/programs", "GET"),
        (
            "DELETE",
            "/api/v1/programs/01930000-0000-7000-8000-000000000000",
            "GET",
        ),
        ("GET", "/api/v1/auth/login", "POST"),
        ("PUT", "/oauth/token", "POST"),
        ("POST", "/.well-known/jwks.json", "GET"),
        ("DELETE", "/federation/v1/match", "POST"),
    ] {
        let r = node
            .http
            .request(method.parse().unwrap(), node.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405, "{method} {path}");
        assert_eq!(r.headers()["allow"], allow, "{method} {path}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{method} {path}"
        );
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], "BAD_USER_INPUT", "{method} {path}");
    }
}

#[tokio::test]
async fn unknown_paths_are_problem_documents() {
    let node = TestNode::spawn().await;
    let r = node
        .http
        .get(node.url("/api/v1/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "NOT_FOUND");
}

#[tokio::test]
async fn graphiql_is_only_served_in_development() {
    let node = TestNode::spawn().await;
    assert_eq!(
        node.http
            .get(node.url("/graphiql"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let dev = TestNode::spawn_with(|c| c.development = true).await;
    let r = dev.http.get(dev.url("/graphiql")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("graphiql"));
}

/// A database restart or failover, on PostgreSQL: while the database refuses connections the
/// node answers `UNAVAILABLE` with a time to retry (503 and `Retry-After` on REST), once one
/// call has found it down without waiting for a connection at all; once it accepts again the
/// node serves without a restart and nothing committed is lost.
#[tokio::test]
async fn requests_get_unavailable_while_the_database_is_down_and_succeed_after() {
    let node = TestNode::spawn().await;
    if !node.is_postgres() {
        eprintln!(
            "NOTE: this run is on SQLite, which cannot go down under a running node; CI runs \
             this test again on PostgreSQL, where it refuses connections"
        );
        return;
    }
    // The last page, not the first: the first is remembered for a moment and needs no database.
    let query = "{ programs(last: 5) { edges { node { id } } } }";
    node.gql(None, query, serde_json::json!({})).await;
    node.user(&[alongside_core::access::Role::Member]).await;
    let people = node.count("people").await;
    assert!(people > 0);

    node.database().accept_connections(false).unwrap();
    // The first call finds its pooled connection ended; the next finds a new one refused and
    // waits out the pool's connection timeout; the ones after are refused at once.
    let (status, during) = node.gql_raw(None, query, serde_json::json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(error_code(&during), Some("UNAVAILABLE"), "{during}");
    assert!(during["errors"][0]["extensions"]["retryAfter"].as_u64() >= Some(1));
    let message = during["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("try again"), "{message}");
    assert!(
        !message.contains("alongside_test"),
        "no detail leaks: {message}"
    );

    let rest = node
        .http
        .get(node.url("/api/v1/programs"))
        .send()
        .await
        .unwrap();
    assert_eq!(rest.status(), 503);
    assert!(rest.headers().contains_key("retry-after"));
    let problem: Value = rest.json().await.unwrap();
    assert_eq!(problem["code"], "UNAVAILABLE");
    let ready = node.http.get(node.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);

    node.database().accept_connections(true).unwrap();
    node.wait_for("the node to serve again", || async {
        let (_, after) = node.gql_raw(None, query, serde_json::json!({})).await;
        after["errors"].is_null()
    })
    .await;
    assert_eq!(node.count("people").await, people);
}

/// Pooled connections are checked before use only after a quiet moment or once another was
/// found lost, not on every call (that saved a round trip per call). So a database restart
/// that is over by the next request costs at most the one request that finds it, and nothing
/// after a quiet moment.
#[tokio::test]
async fn a_restart_between_requests_costs_at_most_the_request_that_finds_it() {
    let node = TestNode::spawn().await;
    if !node.is_postgres() {
        eprintln!(
            "NOTE: this run is on SQLite, which has no sessions to end; CI runs this test again \
             on PostgreSQL"
        );
        return;
    }
    // The last page, not the first: the first is remembered for a moment and needs no database.
    let query = "{ programs(last: 5) { edges { node { id } } } }";
    let warm = || async {
        let calls = (0..8).map(|_| node.gql_raw(None, query, serde_json::json!({})));
        for (_, r) in futures_util::future::join_all(calls).await {
            assert!(r["errors"].is_null(), "{r}");
        }
    };

    warm().await;
    assert!(node.database().end_sessions().unwrap() > 0);
    let mut failed = 0;
    for _ in 0..10 {
        let (_, r) = node.gql_raw(None, query, serde_json::json!({})).await;
        if !r["errors"].is_null() {
            assert_eq!(error_code(&r), Some("UNAVAILABLE"), "{r}");
            failed += 1;
        }
    }
    assert!(failed <= 1, "{failed} requests failed after one restart");

    warm().await;
    assert!(node.database().end_sessions().unwrap() > 0);
    // Longer than the pool's idle check (2 s): every connection is checked before use.
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    for _ in 0..10 {
        let (_, r) = node.gql_raw(None, query, serde_json::json!({})).await;
        assert!(r["errors"].is_null(), "after a quiet moment: {r}");
    }
}

/// With `max_connections` open, a worker takes no new connection until one closes, so a node
/// offered more than it can serve keeps its memory instead of holding every caller at once.
#[tokio::test]
async fn a_worker_serves_at_most_max_connections_at_once() {
    use std::io::Write;
    let node = TestNode::spawn_with(|c| {
        c.workers = 1;
        c.max_connections = 1;
    })
    .await;
    // One connection in the middle of a request: its headers are not finished.
    let mut held = std::net::TcpStream::connect(node.addr).unwrap();
    held.write_all(b"GET /healthz HTTP/1.1\r\nHost: node\r\n")
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let other = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(std::time::Duration::from_millis(800))
        .build()
        .unwrap();
    let waiting = other.get(node.url("/healthz")).send().await;
    assert!(
        waiting.as_ref().is_err_and(reqwest::Error::is_timeout),
        "a second connection was served while the first was open: {waiting:?}"
    );

    drop(held);
    let served = node.http.get(node.url("/healthz")).send().await.unwrap();
    assert_eq!(served.status(), 200);
}

/// Overload: a call that gets no database connection within `database.queue_timeout_ms` is
/// turned away at once with `UNAVAILABLE` and a time to retry (a `Retry-After` header too, and
/// 503 on REST) rather than queueing without end; it is not started, so nothing changes; the
/// refusals are counted in /metrics; once a connection is free the same request succeeds.
#[tokio::test]
async fn a_request_that_gets_no_connection_in_time_is_turned_away_and_changes_nothing() {
    let node = TestNode::spawn_with(|c| {
        c.database.pool_size = 1;
        c.database.queue_timeout_ms = 200;
    })
    .await;
    let member = node.user(&[alongside_core::access::Role::Member]).await;
    let before = node.count("support_requests").await;

    // Something holds the only connection for longer than a request may wait for it.
    let held = node.hold_a_connection().await;

    let mutation = serde_json::json!({
        "query": "mutation { requestSupport(input: {modality: PHONE}) { request { id } } }"
    });
    let r = node
        .http
        .post(node.url("/graphql"))
        .bearer_auth(&member.token)
        .json(&mutation)
        .send()
        .await
        .unwrap();
    let retry_after = r.headers().get("retry-after").cloned();
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), Some("UNAVAILABLE"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["retryAfter"], 1, "{body}");
    assert_eq!(retry_after.unwrap(), "1");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("busy") && message.contains("try again"),
        "{message}"
    );

    let rest = node
        .http
        .get(node.url("/api/v1/programs"))
        .send()
        .await
        .unwrap();
    assert_eq!(rest.status(), 503);
    assert_eq!(rest.headers()["retry-after"], "1");
    let problem: Value = rest.json().await.unwrap();
    assert_eq!(problem["code"], "UNAVAILABLE", "{problem}");

    let metrics = node.metrics_text().await;
    let shed: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("alongside_db_calls_shed_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no shed counter in {metrics}"));
    assert!(shed >= 2, "{shed} calls shed");

    held.release().await;
    assert_eq!(
        node.count("support_requests").await,
        before,
        "a request turned away changed nothing"
    );
    let (status, after) = node
        .gql_raw(
            Some(&member.token),
            mutation["query"].as_str().unwrap(),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert!(after["errors"].is_null(), "{after}");
    assert_eq!(node.count("support_requests").await, before + 1);
}

/// Overload at the door: with `max_in_flight` requests being answered, one more is turned away
/// at once with 503, `UNAVAILABLE` and `Retry-After` rather than waiting its turn; health
/// checks are not counted; the refusals are counted in /metrics; the request in flight is
/// answered as usual, and once it is, the node takes requests again.
#[tokio::test]
async fn requests_over_max_in_flight_are_turned_away_at_once() {
    let node = TestNode::spawn_with(|c| {
        c.max_in_flight = 1;
        c.database.pool_size = 1;
        c.database.queue_timeout_ms = 30_000;
    })
    .await;
    let member = node.user(&[alongside_core::access::Role::Member]).await;

    // The one request in flight waits for the database's only connection, held here.
    let held = node.hold_a_connection().await;
    let query = "{ programs(first: 5) { edges { node { id } } } }";
    let first = {
        let http = node.http.clone();
        let url = node.url("/graphql");
        let token = member.token.clone();
        tokio::spawn(async move {
            http.post(url)
                .bearer_auth(token)
                .json(&serde_json::json!({ "query": query }))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })
    };
    node.wait_for("the first request to be in flight", || async {
        node.state.guard.load().0 == 1
    })
    .await;

    let second = node
        .http
        .post(node.url("/graphql"))
        .bearer_auth(&member.token)
        .json(&serde_json::json!({ "query": query }))
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 503);
    assert_eq!(second.headers()["retry-after"], "1");
    let problem: Value = second.json().await.unwrap();
    assert_eq!(problem["code"], "UNAVAILABLE", "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("busy"),
        "{problem}"
    );
    let rest = node
        .http
        .get(node.url("/api/v1/programs"))
        .send()
        .await
        .unwrap();
    assert_eq!(rest.status(), 503);
    let health = node.http.get(node.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200, "health checks are not counted");
    assert_eq!(node.state.guard.load(), (1, 2));

    held.release().await;
    let first = first.await.unwrap();
    assert!(first["errors"].is_null(), "{first}");
    let (_, again) = node
        .gql_raw(Some(&member.token), query, serde_json::json!({}))
        .await;
    assert!(again["errors"].is_null(), "{again}");
    let metrics = node.metrics_text().await;
    assert!(
        metrics.contains("alongside_http_requests_shed_total 2"),
        "{metrics}"
    );
}

/// Never a silent drop: what the node cannot deliver shows in the health detail and the
/// metrics while readiness stays 200, and goes away when it is fixed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_cannot_reach_people_says_so() {
    let node = TestNode::spawn().await;
    let codes = |v: &Value| -> Vec<String> {
        v["degraded"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["code"].as_str().unwrap().to_owned())
            .collect()
    };
    let health: Value = node.get_json("/api/v1/health").await;
    assert_eq!(health["status"], "degraded");
    assert_eq!(
        codes(&health),
        ["NO_ON_CALL", "EMAIL_NOT_DELIVERED"],
        "{health}"
    );
    let ready: Value = node.get_json("/readyz").await;
    assert_eq!(ready["status"], "ready", "degraded is not unready");
    // Coordinators see the same reasons where they work.
    let coordinator = node
        .user(&[alongside_core::access::Role::Coordinator])
        .await;
    let seen = node
        .gql(
            Some(&coordinator.token),
            "{ degraded { code detail } }",
            serde_json::json!({}),
        )
        .await;
    assert_eq!(
        codes(&seen),
        ["NO_ON_CALL", "EMAIL_NOT_DELIVERED"],
        "{seen}"
    );
    let metrics = node
        .http
        .get(node.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("alongside_degraded{reason=\"NO_ON_CALL\"} 1"),
        "{metrics}"
    );

    // Someone on call; a supporter who wants texts on a node with no gateway.
    let admin = node.user(&[alongside_core::access::Role::Admin]).await;
    node.gql(
        Some(&admin.token),
        "mutation { updateInstitution(input: {onCallEmail: \"oncall@hospital.test\"}) { name } }",
        serde_json::json!({}),
    )
    .await;
    node.gql(
        Some(&admin.token),
        "mutation { updateMyProfile(input: {phone: \"+15550100123\", textMessages: true}) { phone } }",
        serde_json::json!({}),
    )
    .await;
    let health: Value = node.get_json("/api/v1/health").await;
    assert_eq!(
        codes(&health),
        ["EMAIL_NOT_DELIVERED", "TEXT_GATEWAY_MISSING"],
        "{health}"
    );
    assert!(
        !health.to_string().contains("+1555"),
        "no personal data in health: {health}"
    );
    let metrics = node
        .http
        .get(node.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("alongside_degraded{reason=\"NO_ON_CALL\"} 0"));
    assert!(metrics.contains("alongside_degraded{reason=\"TEXT_GATEWAY_MISSING\"} 1"));
}
