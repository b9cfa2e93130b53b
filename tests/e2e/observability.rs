//! Prometheus metrics at /metrics: restricted to configured addresses, and carrying request,
//! GraphQL, database, outbox, federation and scheduler series without personal data.

use alongside_core::access::Role;
use alongside_tests::TestNode;
use serde_json::json;

#[tokio::test]
async fn metrics_are_served_to_allowed_addresses_only() {
    let node = TestNode::spawn().await;
    let admin = node.user(&[Role::Admin]).await;
    node.gql(
        Some(&admin.token),
        "query Institution { institution { name } }",
        json!({}),
    )
    .await;
    let (_, body) = node
        .gql_raw(Some(&admin.token), "{ nosuchfield }", json!({}))
        .await;
    assert!(body["errors"].is_array());
    alongside_api::maintenance::tick(&node.state).await;
    let text = node.metrics_text().await;
    for series in [
        "alongside_http_requests_total{method=\"POST\",route=\"/graphql\",status=\"200\"}",
        "alongside_http_request_duration_seconds_bucket{route=\"/graphql\",le=\"+Inf\"}",
        "alongside_graphql_operations_total{operation=\"Institution\"} 1",
        "alongside_graphql_errors_total{code=\"BAD_USER_INPUT\"} 1",
        "alongside_db_pool_connections{state=\"idle\"}",
        "alongside_scheduler_runs_total{job=\"clock_sweep\",outcome=\"ok\"} 1",
        "# TYPE alongside_outbox_messages gauge",
        "# TYPE alongside_federation_calls_total counter",
    ] {
        assert!(text.contains(series), "missing {series} in\n{text}");
    }
    assert!(!text.contains(&admin.email) && !text.contains(&admin.token));

    let closed = TestNode::spawn_with(|c| c.observability.metrics_allow = vec![]).await;
    let r = closed
        .http
        .get(closed.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
