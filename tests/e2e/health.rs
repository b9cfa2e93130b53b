use alongside_tests::TestNode;
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
