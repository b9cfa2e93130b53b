//! Cross-institution matching at network scale, for docs/performance.md. A federation of N
//! members on loopback (N = 20, 100 and 200; `FANOUT_SIZES=20,100` picks others), 5% of them
//! dead (nothing listening on their port) and 2% silent (accept, never answer), both rounded
//! up; every other member is a real node with one opted-in nurse, and one real member in 20
//! (rounded up) has three more who speak Spanish. Two of the members ask: one with member
//! selection as configured by default (`match_fanout` 8, `match_enough` 3), one asking every
//! member at once (`match_fanout` 0, as every match did before). Two queries: a nurse (every
//! member can answer) and a Spanish-speaking nurse with the language required (one member in
//! 20 can). Each row is `RUNS` matches after a first one: the first match's time, then p50, p95
//! and max of the rest as the client sees them, and the members asked per match. The selecting
//! member asks first without availability digests, then again after every member published
//! its digest and it synced the directory (the sync's time is printed).
//!
//! Every node runs in this process: 1 HTTP worker, 2 database connections and its own SQLite
//! database each; member timeout 1,000 ms, match deadline 1,500 ms (the test settings). Not a
//! test: nothing here asserts a time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use alongside_tests::TestNode;
use alongside_tests::federation::{add_member, federation_with, misbehaving, supporter};
use alongside_tests::smtp::free_port;
use serde_json::{Value, json};

const RUNS: usize = 100;

/// The requester that asks every member at once.
const ASKS_ALL: &str = "all.test";
/// The requester with the default member selection.
const SELECTS: &str = "select.test";

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn small_node(c: &mut alongside_api::config::Config) {
    c.workers = 1;
    c.database.pool_size = 2;
    if c.node.id == ASKS_ALL {
        c.federation.match_fanout = 0;
    }
}

struct Found {
    ms: f64,
    asked: usize,
    candidates: usize,
    answered: usize,
}

async fn find(node: &TestNode, token: &str, request: &str) -> Found {
    let q = "mutation($r: ID!) { findOutsidePeers(requestId: $r) { candidates { nodeId } members { nodeId outcome } } }";
    let started = Instant::now();
    let found = node.gql(Some(token), q, json!({ "r": request })).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let f = &found["findOutsidePeers"];
    let members = f["members"].as_array().expect("a match answer");
    let count = |pred: &dyn Fn(&Value) -> bool| members.iter().filter(|m| pred(m)).count();
    Found {
        ms,
        asked: count(&|m| m["outcome"] != "NOT_ASKED"),
        answered: count(&|m| m["outcome"] == "ANSWERED"),
        candidates: f["candidates"].as_array().map_or(0, Vec::len),
    }
}

/// What a match asks for.
#[derive(Clone, Copy)]
enum Query {
    Nurse,
    SpanishNurse,
}

impl Query {
    fn input(self) -> &'static str {
        match self {
            Query::Nurse => "{peerOrigin: OUTSIDE_INSTITUTION_ONLY, peerProfession: NURSE}",
            Query::SpanishNurse => {
                "{peerOrigin: OUTSIDE_INSTITUTION_ONLY, peerProfession: NURSE, language: \"es\", languageRequired: true}"
            }
        }
    }

    fn label(self) -> &'static str {
        match self {
            Query::Nurse => "a nurse",
            Query::SpanishNurse => "a Spanish-speaking nurse",
        }
    }
}

async fn measure(size: usize, label: &str, node: &TestNode, query: Query) {
    let me = node.user(&[]).await;
    let made = node
        .gql(
            Some(&me.token),
            &format!(
                "mutation {{ requestSupport(input: {}) {{ request {{ id }} }} }}",
                query.input()
            ),
            json!({}),
        )
        .await;
    let request = made["requestSupport"]["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = find(node, &me.token, &request).await;
    let mut times = Vec::with_capacity(RUNS);
    let mut asked = Vec::with_capacity(RUNS);
    let mut candidates = Vec::with_capacity(RUNS);
    let mut slow = 0;
    let mut empty = 0;
    for _ in 0..RUNS {
        let f = find(node, &me.token, &request).await;
        // Every member timing out (the cores overloaded by the calls) leaves a match empty.
        if f.candidates == 0 {
            empty += 1;
        }
        if f.ms > 300.0 {
            slow += 1;
        }
        times.push(f.ms);
        asked.push(f.asked as f64);
        candidates.push(f.candidates as f64);
    }
    times.sort_by(f64::total_cmp);
    asked.sort_by(f64::total_cmp);
    candidates.sort_by(f64::total_cmp);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    println!(
        "| {size} | {} | {label} | {:.0} ms ({} asked, {} answered) | {:.1} ms | {:.1} ms | {:.1} ms | {slow} | {:.1} (max {:.0}) | {:.1} | {empty} |",
        query.label(),
        first.ms,
        first.asked,
        first.answered,
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        times[times.len() - 1],
        mean(&asked),
        asked[asked.len() - 1],
        mean(&candidates),
    );
}

async fn network(size: usize) {
    let dead = (size * 5).div_ceil(100);
    let silent = (size * 2).div_ceil(100);
    let real = size - dead - silent - 2;
    let mut ids = vec![SELECTS.to_owned(), ASKS_ALL.to_owned()];
    ids.extend((1..=real).map(|i| format!("m{i:03}.test")));
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let started = Instant::now();
    let (steward, members) = federation_with(&id_refs, small_node).await;
    let mut spanish = 0;
    for (i, m) in members[2..].iter().enumerate() {
        supporter(m, "NURSE", true).await;
        if i % 20 == 0 {
            spanish += 1;
            let admin = m.user(&[alongside_core::access::Role::Admin]).await;
            for _ in 0..3 {
                let nurse = supporter(m, "NURSE", true).await;
                m.gql(
                    Some(&admin.token),
                    "mutation($id: ID!) { updatePerson(id: $id, input: {languages: [\"es\"]}) { id } }",
                    json!({ "id": alongside_tests::gid("Person", &nurse.person_id) }),
                )
                .await;
            }
        }
    }
    for i in 0..dead {
        let url = format!("http://127.0.0.1:{}", free_port());
        add_member(&steward, &format!("dead{i:02}.test"), url).await;
    }
    for i in 0..silent {
        add_member(
            &steward,
            &format!("silent{i:02}.test"),
            misbehaving("silent").await,
        )
        .await;
    }
    for m in &members[..2] {
        m.state.federation.refresh_manifest().await.unwrap();
    }
    eprintln!(
        "{size} members ({real} real nodes with one nurse each, {spanish} of them with three Spanish-speaking nurses more, {dead} dead, {silent} silent, 2 asking) up in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let selects = &members[0];
    for query in [Query::Nurse, Query::SpanishNurse] {
        measure(size, "selection, no digests", selects, query).await;
        measure(size, "every member at once", &members[1], query).await;
    }
    let started = Instant::now();
    for m in &members[2..] {
        assert!(m.state.federation.refresh_digest().await.unwrap());
    }
    let published = started.elapsed();
    let started = Instant::now();
    let synced = selects.state.federation.sync_directory().await.unwrap();
    eprintln!(
        "{size} members: digests published in {:.1} s, synced by the selecting member in {:.2} s ({} origins, {} failed)",
        published.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        synced.len(),
        synced.iter().filter(|(_, r)| r.is_err()).count(),
    );
    for query in [Query::Nurse, Query::SpanishNurse] {
        measure(size, "selection with digests", selects, query).await;
    }
    for m in &members {
        m.stop().await;
    }
    steward.stop().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let sizes: Vec<usize> = std::env::var("FANOUT_SIZES")
        .unwrap_or_else(|_| "20,100,200".into())
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .expect("FANOUT_SIZES: comma-separated numbers")
        })
        .collect();
    println!(
        "| members | query | requester | first match | p50 | p95 | max | matches over 300 ms (of {RUNS}) | members asked per match | candidates per match | matches with none |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for size in sizes {
        assert!(size >= 20, "FANOUT_SIZES: at least 20 members each");
        network(size).await;
    }
}
