//! OpenTelemetry export: with `observability.otlp_endpoint` set, spans reach a real OTLP/HTTP
//! receiver, and a cross-institution match is one trace: the asking node's request, its
//! GraphQL use case and its federation call, and the answering node's request, which takes its
//! parent from nothing but the `traceparent` header on that call.
//!
//! Its own test binary, because the tracing subscriber is process-wide.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpResponse, HttpServer, web};
use alongside_api::telemetry::{self, Otlp};
use alongside_tests::federation::{federation, supporter};
use serde_json::{Value, json};

#[derive(Debug, Clone)]
struct Span {
    name: String,
    trace: String,
    id: String,
    parent: String,
    attributes: HashMap<String, String>,
    node: String,
}

/// A collector's OTLP/HTTP JSON traces receiver, keeping what it is sent.
async fn receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let received: Arc<Mutex<Vec<Value>>> = Arc::default();
    let keep = received.clone();
    let server = HttpServer::new(move || {
        let keep = keep.clone();
        App::new().route(
            "/v1/traces",
            web::post().to(move |body: web::Bytes| {
                let keep = keep.clone();
                async move {
                    keep.lock()
                        .unwrap()
                        .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
                    HttpResponse::Ok().json(json!({}))
                }
            }),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let url = format!("http://{}", server.addrs()[0]);
    tokio::spawn(server.run());
    (url, received)
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(o) => o.values().next().map(text).unwrap_or_default(),
        other => other.to_string(),
    }
}

fn attributes(list: &Value) -> HashMap<String, String> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|kv| (text(&kv["key"]), text(&kv["value"])))
        .collect()
}

fn spans(batches: &[Value]) -> Vec<Span> {
    let mut out = Vec::new();
    for batch in batches {
        for rs in batch["resourceSpans"].as_array().into_iter().flatten() {
            let node = attributes(&rs["resource"]["attributes"])
                .remove("alongside.node")
                .unwrap_or_default();
            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                for s in ss["spans"].as_array().into_iter().flatten() {
                    out.push(Span {
                        name: text(&s["name"]),
                        trace: text(&s["traceId"]).to_lowercase(),
                        id: text(&s["spanId"]).to_lowercase(),
                        parent: text(&s["parentSpanId"]).to_lowercase(),
                        attributes: attributes(&s["attributes"]),
                        node: node.clone(),
                    });
                }
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_institution_match_is_one_trace() {
    let (url, received) = receiver().await;
    let exporting = telemetry::init(
        "text",
        &Otlp {
            endpoint: Some(url),
            node_id: "otlp-test".into(),
            filter: alongside_api::config::ObservabilityConfig::default().otlp_filter,
        },
    );

    let (_steward, members) = federation(&["a.test", "b.test"]).await;
    let (a, b) = (&members[0], &members[1]);
    let _peer = supporter(b, "NURSE", true).await;
    let me = a.user(&[]).await;
    let made = a
        .gql(
            Some(&me.token),
            "mutation { requestSupport(input: {peerOrigin: OUTSIDE_INSTITUTION_ONLY, peerProfession: NURSE}) { request { id } } }",
            json!({}),
        )
        .await;
    let request = made["requestSupport"]["request"]["id"].clone();
    let found = a
        .gql(
            Some(&me.token),
            "mutation($r: ID!) { findOutsidePeers(requestId: $r, timeZone: \"UTC\") { members { nodeId outcome } } }",
            json!({ "r": request }),
        )
        .await;
    assert_eq!(
        found["findOutsidePeers"]["members"],
        json!([{ "nodeId": "b.test", "outcome": "ANSWERED" }])
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // Flushes the batch to the receiver, as `serve` does when it stops.
    tokio::task::spawn_blocking(move || exporting.shutdown())
        .await
        .unwrap();

    let all = spans(&received.lock().unwrap());
    assert!(!all.is_empty(), "the receiver got no spans");
    assert!(
        all.iter().all(|s| s.node == "otlp-test"),
        "resource attribute alongside.node"
    );
    let by_id: HashMap<&str, &Span> = all.iter().map(|s| (s.id.as_str(), s)).collect();

    // The asking node's use case, and its call to B inside it.
    let use_case = all
        .iter()
        .find(|s| {
            s.name == "use case"
                && s.attributes.get("operation").map(String::as_str)
                    == Some("MutationRoot.findOutsidePeers")
        })
        .unwrap_or_else(|| panic!("no span for the findOutsidePeers use case in {all:#?}"));
    let call = all
        .iter()
        .find(|s| {
            s.name == "federation call"
                && s.trace == use_case.trace
                && s.attributes.get("member").map(String::as_str) == Some("b.test")
                && s.attributes.get("path").map(String::as_str) == Some("/federation/v1/match")
        })
        .unwrap_or_else(|| panic!("no federation call to b.test in the match's trace: {all:#?}"));
    // B's request for that call is the call's child: same trace, parent = the call's span.
    let answered = all
        .iter()
        .find(|s| {
            s.name == "request"
                && s.attributes.get("route").map(String::as_str) == Some("/federation/v1/match")
        })
        .unwrap_or_else(|| panic!("no request span for /federation/v1/match in {all:#?}"));
    assert_eq!(
        answered.trace, use_case.trace,
        "one trace across both nodes"
    );
    assert_eq!(
        answered.parent, call.id,
        "B's request is a child of A's call"
    );
    assert_eq!(
        answered.attributes["trace_id"], use_case.trace,
        "logged trace id"
    );
    // A's chain up to its request for /graphql: call -> ... -> use case -> request (the root).
    let mut up = call;
    let mut chain = vec![up.name.clone()];
    while let Some(parent) = by_id.get(up.parent.as_str()) {
        up = parent;
        chain.push(up.name.clone());
    }
    assert!(chain.contains(&"use case".to_owned()), "{chain:?}");
    assert_eq!(up.name, "request", "{chain:?}");
    assert_eq!(up.attributes["route"], "/graphql");
    assert!(
        up.parent.is_empty() || up.parent.chars().all(|c| c == '0'),
        "A's request is the root"
    );
    // Database calls are spans too.
    assert!(
        all.iter()
            .any(|s| s.name == "db" && s.trace == answered.trace),
        "database calls of the match are in its trace"
    );
}
