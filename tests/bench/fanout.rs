//! Cross-institution match latency for docs/performance.md: one requester's node fans a match
//! out to 20 members on loopback — 19 real nodes with supporters, and one that is dead (nothing
//! listening) or silent (accepts, never answers). Prints p50/p95/max over the runs and how long
//! the dead or silent member was waited for. Not a test: nothing here asserts a time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use alongside_core::access::Role;
use alongside_tests::federation::{add_member, federation, misbehaving, supporter};
use alongside_tests::smtp::free_port;
use serde_json::json;

const RUNS: usize = 100;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn measure(label: &str, bad: &str, members: &[alongside_tests::TestNode]) {
    let a = &members[0];
    let me = a.user(&[]).await;
    let made = a
        .gql(
            Some(&me.token),
            "mutation { requestSupport(input: {peerOrigin: OUTSIDE_INSTITUTION_ONLY, peerProfession: NURSE}) { request { id } } }",
            json!({}),
        )
        .await;
    let request = made["requestSupport"]["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let q = "mutation($r: ID!) { findOutsidePeers(requestId: $r) { candidates { nodeId } members { nodeId outcome elapsedMs } } }";
    // Warm up connections once.
    a.gql(Some(&me.token), q, json!({ "r": request })).await;
    let mut total = Vec::with_capacity(RUNS);
    let mut bad_wait = Vec::with_capacity(RUNS);
    let mut candidates = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        let found = a.gql(Some(&me.token), q, json!({ "r": request })).await;
        total.push(started.elapsed().as_secs_f64() * 1000.0);
        let f = &found["findOutsidePeers"];
        candidates = f["candidates"].as_array().unwrap().len();
        let answered = f["members"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["outcome"] == "ANSWERED")
            .count();
        assert_eq!(answered, 19, "{f}");
        let b = f["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["nodeId"] == bad)
            .unwrap();
        bad_wait.push(b["elapsedMs"].as_f64().unwrap());
    }
    total.sort_by(f64::total_cmp);
    bad_wait.sort_by(f64::total_cmp);
    println!(
        "{label}: {RUNS} matches, 19 members answered ({candidates} candidates each time): p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms; waited on {bad} p50 {:.0} ms, max {:.0} ms",
        percentile(&total, 0.5),
        percentile(&total, 0.95),
        total[total.len() - 1],
        percentile(&bad_wait, 0.5),
        bad_wait[bad_wait.len() - 1],
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let ids: Vec<String> = (1..=20).map(|i| format!("m{i:02}.test")).collect();
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    // m01 asks; m02..m20 answer (19 members); the 20th is added below as dead or silent.
    let (steward, members) = federation(&id_refs).await;
    for m in &members[1..] {
        supporter(m, "NURSE", true).await;
        supporter(m, "PHYSICIAN", true).await;
    }
    let _admin = members[0].user(&[Role::Admin]).await;
    add_member(
        &steward,
        "dead.test",
        format!("http://127.0.0.1:{}", free_port()),
    )
    .await;
    members[0]
        .state
        .federation
        .refresh_manifest()
        .await
        .unwrap();
    println!(
        "member timeout {} ms, match deadline {} ms",
        members[0].state.config.federation.member_timeout_ms,
        members[0].state.config.federation.match_deadline_ms
    );
    measure(
        "one member dead (connection refused)",
        "dead.test",
        &members,
    )
    .await;
    // Now the 21st: one that accepts and never answers.
    add_member(&steward, "silent.test", misbehaving("silent").await).await;
    members[0]
        .state
        .federation
        .refresh_manifest()
        .await
        .unwrap();
    println!("(20 real answers are not possible with both: the silent one is the 21st member)");
    measure("one dead and one silent member", "silent.test", &members).await;
}
