//! Fault evidence for docs/performance.md: a node under steady load while something it depends
//! on goes away. Not a test (nothing asserts time); it prints what happened.
//!
//! `cargo bench -p alongside-tests --bench faults -- smtp|member|postgres`
//!
//! - `smtp`: the SMTP server is absent for 60 s while requests keep producing emails, then
//!   comes up; every email queued must be delivered, none twice.
//! - `member`: a federation member is killed during local load on another member; the local
//!   load must not notice, and a cross-institution search must report the member unreachable.
//! - `postgres`: PostgreSQL (the local cluster, `pg_ctlcluster`) is stopped for
//!   `FAULT_PG_DOWN_SECS` (default 10) during a write load; requests meanwhile must fail with a
//!   clear error, the node must recover without a restart, and every acknowledged write must be
//!   in the database afterwards. Needs `ALONGSIDE_TEST_DATABASE_URL`, and restarts the cluster
//!   for everyone using it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alongside_tests::federation::{federation, supporter};
use alongside_tests::smtp::{SmtpSink, free_port};
use alongside_tests::{ALWAYS, TestNode, TestUser, gid};
use serde_json::{Value, json};
use tokio::sync::Mutex;

#[derive(Default)]
struct Outcomes {
    /// (seconds since start, latency ms, error code or "ok")
    all: Vec<(f64, f64, String)>,
}

impl Outcomes {
    fn summary(&self, from: f64, to: f64) -> String {
        let window: Vec<&(f64, f64, String)> = self
            .all
            .iter()
            .filter(|(t, _, _)| *t >= from && *t < to)
            .collect();
        let mut codes: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, _, c) in &window {
            *codes.entry(c.as_str()).or_default() += 1;
        }
        let mut ms: Vec<f64> = window.iter().map(|(_, l, _)| *l).collect();
        ms.sort_by(f64::total_cmp);
        let p = |q: f64| {
            ms.get(((ms.len().max(1) - 1) as f64 * q).round() as usize)
                .copied()
                .unwrap_or(0.0)
        };
        format!(
            "{} requests, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, outcomes {codes:?}",
            window.len(),
            p(0.5),
            p(0.99),
            ms.last().copied().unwrap_or(0.0)
        )
    }
}

fn code_of(body: &Value) -> String {
    match body["errors"][0]["extensions"]["code"].as_str() {
        Some(c) => c.to_owned(),
        None if body.get("data").is_some() => "ok".into(),
        None => "no response".into(),
    }
}

async fn timed(
    node: &TestNode,
    who: &TestUser,
    query: &str,
    started: Instant,
    out: &Mutex<Outcomes>,
) -> Value {
    let t0 = Instant::now();
    let body = node
        .http
        .post(node.url("/graphql"))
        .bearer_auth(&who.token)
        .json(&json!({ "query": query }))
        .timeout(Duration::from_secs(30))
        .send()
        .await;
    let body: Value = match body {
        Ok(r) => r.json().await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    };
    out.lock().await.all.push((
        started.elapsed().as_secs_f64(),
        t0.elapsed().as_secs_f64() * 1000.0,
        code_of(&body),
    ));
    body
}

async fn supporters(node: &TestNode, n: usize) {
    let admin = node.user(&[alongside_core::access::Role::Admin]).await;
    for _ in 0..n {
        let s = node
            .user(&[alongside_core::access::Role::PeerSupporter])
            .await;
        let q = format!(
            "mutation($id: ID!) {{ upsertPeerSupporter(input: {{personId: $id, trainedOn: \"2025-01-01\", timeZone: \"UTC\", caseloadCap: 50, availability: {ALWAYS}}}) {{ id }} }}"
        );
        node.gql(
            Some(&admin.token),
            &q,
            json!({ "id": gid("Person", &s.person_id) }),
        )
        .await;
    }
}

const ASK: &str = "mutation { requestSupport(input: {modality: PHONE}) { request { id state } } }";

async fn smtp() {
    let port = free_port();
    let node = TestNode::spawn_with(|c| {
        c.email.transport = "smtp".into();
        c.email.smtp.host = "127.0.0.1".into();
        c.email.smtp.port = port;
        c.email.smtp.tls = "none".into();
        c.email.smtp.timeout_secs = 5;
        c.outbox.poll_interval_ms = 200;
        c.outbox.backoff_base_ms = 1_000;
        c.outbox.backoff_max_secs = 30;
        c.outbox.max_attempts = 50;
    })
    .await;
    node.start_worker();
    supporters(&node, 10).await;
    let members: Vec<TestUser> =
        futures_util::future::join_all((0..20).map(|_| node.user(&[]))).await;
    let out = Arc::new(Mutex::new(Outcomes::default()));
    let started = Instant::now();
    let down: usize = std::env::var("FAULT_SMTP_DOWN_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    println!(
        "smtp: SMTP on 127.0.0.1:{port} is down; 5 new support requests a second (each offers an email) for {down} s"
    );
    for i in 0..down * 5 {
        let m = &members[i % members.len()];
        timed(&node, m, ASK, started, &out).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let queued = node.count("outbox").await;
    println!(
        "  requests while SMTP was down: {}",
        out.lock().await.summary(0.0, 1e9)
    );
    println!("  emails queued: {queued}, delivered so far: 0");
    let sink = SmtpSink::start_on(port);
    let back = Instant::now();
    println!(
        "  SMTP is back after {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let mut delivered = 0;
    while back.elapsed() < Duration::from_secs(300) {
        delivered = sink.mails().len();
        if delivered as i64 >= queued {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let mut keys: Vec<String> = sink
        .mails()
        .iter()
        .filter_map(|m| m.header("Message-ID"))
        .collect();
    let all = keys.len();
    keys.sort();
    keys.dedup();
    println!(
        "  delivered {delivered} of {queued} within {:.1} s of SMTP returning; {} distinct Message-IDs of {all} mails",
        back.elapsed().as_secs_f64(),
        keys.len()
    );
    let states = node
        .state
        .db
        .run(|conn| {
            use alongside_core::schema::outbox::dsl as o;
            use diesel::prelude::*;
            Ok(o::outbox
                .group_by((o::state, o::attempts))
                .select((o::state, o::attempts, diesel::dsl::count_star()))
                .load::<(String, i32, i64)>(conn)?)
        })
        .await
        .unwrap();
    println!("  outbox (state, attempts, rows): {states:?}");
}

async fn search(a: &TestNode, who: &TestUser, label: &str) {
    let made = a
        .gql(
            Some(&who.token),
            "mutation { requestSupport(input: {peerOrigin: OUTSIDE_INSTITUTION_ONLY}) { request { id } } }",
            json!({}),
        )
        .await;
    let t0 = Instant::now();
    let found = a
        .gql(
            Some(&who.token),
            "mutation($r: ID!) { findOutsidePeers(requestId: $r, timeZone: \"UTC\") { members { nodeId outcome code } } }",
            json!({ "r": made["requestSupport"]["request"]["id"] }),
        )
        .await;
    println!(
        "  search {label}: {} in {:.0} ms",
        found["findOutsidePeers"]["members"],
        t0.elapsed().as_secs_f64() * 1000.0
    );
}

async fn member() {
    let (_steward, mut members) = federation(&["a.test", "b.test"]).await;
    let b = members.pop().unwrap();
    let a = members.pop().unwrap();
    let _peer = supporter(&b, "NURSE", true).await;
    supporters(&a, 10).await;
    let people: Vec<TestUser> = futures_util::future::join_all((0..20).map(|_| a.user(&[]))).await;
    let out = Arc::new(Mutex::new(Outcomes::default()));
    let started = Instant::now();
    println!(
        "member: local load on a.test (10 requests/s: lists and new requests); b.test killed at 15 s"
    );
    search(&a, &people[0], "before").await;
    let load = {
        let (out, people) = (out.clone(), people.clone());
        let a_base = a.base.clone();
        let http = a.http.clone();
        tokio::spawn(async move {
            for i in 0..300usize {
                let who = &people[i % people.len()];
                let q = if i % 5 == 0 {
                    ASK
                } else {
                    "{ mySupportRequests { id } programs(first: 5) { edges { node { id } } } }"
                };
                let t0 = Instant::now();
                let body: Value = match http
                    .post(format!("{a_base}/graphql"))
                    .bearer_auth(&who.token)
                    .json(&json!({ "query": q }))
                    .send()
                    .await
                {
                    Ok(r) => r.json().await.unwrap_or(Value::Null),
                    Err(_) => Value::Null,
                };
                out.lock().await.all.push((
                    started.elapsed().as_secs_f64(),
                    t0.elapsed().as_secs_f64() * 1000.0,
                    code_of(&body),
                ));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_secs(15)).await;
    drop(b);
    println!(
        "  b.test stopped at {:.1} s",
        started.elapsed().as_secs_f64()
    );
    search(&a, &people[1], "after").await;
    load.await.unwrap();
    let o = out.lock().await;
    println!("  a.test before the kill: {}", o.summary(0.0, 15.0));
    println!("  a.test after the kill:  {}", o.summary(15.0, 1e9));
}

async fn postgres() {
    assert!(
        std::env::var("ALONGSIDE_TEST_DATABASE_URL").is_ok(),
        "set ALONGSIDE_TEST_DATABASE_URL to a PostgreSQL database"
    );
    let down: u64 = std::env::var("FAULT_PG_DOWN_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let node = TestNode::spawn().await;
    supporters(&node, 10).await;
    let members: Vec<TestUser> =
        futures_util::future::join_all((0..20).map(|_| node.user(&[]))).await;
    let before = node.count("support_requests").await;
    let out = Arc::new(Mutex::new(Outcomes::default()));
    let acked = Arc::new(Mutex::new(0i64));
    let started = Instant::now();
    println!(
        "postgres: 20 new support requests a second for 45 s; PostgreSQL stopped at 10 s for {down} s"
    );
    let version = std::fs::read_dir("/etc/postgresql")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .max()
        .unwrap();
    let outage = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(10)).await;
        let stop = std::process::Command::new("pg_ctlcluster")
            .args([
                "--skip-systemctl-redirect",
                &version,
                "main",
                "stop",
                "-m",
                "fast",
            ])
            .status()
            .unwrap();
        let stopped = started.elapsed().as_secs_f64();
        tokio::time::sleep(Duration::from_secs(down)).await;
        let start = std::process::Command::new("pg_ctlcluster")
            .args(["--skip-systemctl-redirect", &version, "main", "start"])
            .status()
            .unwrap();
        (
            stop.success() && start.success(),
            stopped,
            started.elapsed().as_secs_f64(),
        )
    });
    let mut tasks = Vec::new();
    for i in 0..900usize {
        let (node_url, http, who) = (
            node.url("/graphql"),
            node.http.clone(),
            members[i % members.len()].clone(),
        );
        let (out, acked) = (out.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            // Counted at the time it was sent, so the outage window holds what was sent then.
            let issued = started.elapsed().as_secs_f64();
            let t0 = Instant::now();
            let body: Value = match http
                .post(node_url)
                .bearer_auth(&who.token)
                .json(&json!({ "query": ASK }))
                .timeout(Duration::from_secs(30))
                .send()
                .await
            {
                Ok(r) => r.json().await.unwrap_or(Value::Null),
                Err(_) => Value::Null,
            };
            let code = code_of(&body);
            if code == "ok" {
                *acked.lock().await += 1;
            }
            out.lock()
                .await
                .all
                .push((issued, t0.elapsed().as_secs_f64() * 1000.0, code));
        }));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for t in tasks {
        t.await.unwrap();
    }
    let (ok, stopped, restarted) = outage.await.unwrap();
    assert!(ok, "pg_ctlcluster failed");
    let after = node.count("support_requests").await;
    let acked = *acked.lock().await;
    let o = out.lock().await;
    println!("  stopped at {stopped:.1} s, started again at {restarted:.1} s");
    println!("  sent before the stop:   {}", o.summary(0.0, stopped));
    println!(
        "  sent while it was down: {}",
        o.summary(stopped, restarted)
    );
    println!("  sent after it was back: {}", o.summary(restarted, 1e9));
    println!(
        "  acknowledged new requests: {acked}; new rows in support_requests: {}",
        after - before
    );
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let which: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let want = |s: &str| which.is_empty() || which.iter().any(|w| w == s);
    if want("smtp") {
        smtp().await;
    }
    if want("member") {
        member().await;
    }
    if which.iter().any(|w| w == "postgres") {
        postgres().await;
    }
}
