//! Directory sync at network scale, for docs/performance.md: a federation of `DIRECTORY_MEMBERS`
//! members (default 200) on loopback, each sharing `DIRECTORY_RESOURCES` resources (default 500)
//! and listing `DIRECTORY_TRAINERS` consented trainers (default 100), made through core's own
//! use cases so every item passed the de-identification gate. Then:
//!
//! 1. a member that has never synced catches up with everyone (every page of every feed),
//! 2. a sync round with nothing changed (what every member pays each `sync_interval_secs`),
//! 3. a round after 1 resource changed at every member (a quiet day's edits).
//!
//! For each: wall time, feed calls, items applied and the size of the cache. Every node runs
//! in this process: 1 HTTP worker, 2 database connections and its own SQLite database each; the
//! catching-up member is like the others. Not a test: nothing here asserts a time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use alongside_core::access::{Principal, Role, UserPrincipal};
use alongside_core::resources::{self, ResourceInput};
use alongside_core::training::{self, TrainerInput};
use alongside_core::vocab::{Profession, ResourceKind, Sharing};
use alongside_tests::TestNode;
use alongside_tests::federation::federation_with;
use futures_util::StreamExt;

/// The member that catches up.
const NEWCOMER: &str = "new.test";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().parse().expect("a number"))
        .unwrap_or(default)
}

fn small_node(c: &mut alongside_api::config::Config) {
    c.workers = 1;
    c.database.pool_size = 2;
}

fn admin() -> Principal {
    Principal::User(UserPrincipal {
        account_id: uuid::Uuid::nil(),
        person_id: uuid::Uuid::nil(),
        roles: [Role::Admin, Role::Member].into_iter().collect(),
    })
}

fn resource(member: usize, i: usize, edit: usize) -> ResourceInput {
    ResourceInput {
        kind: ResourceKind::GuidanceCard,
        title: format!("After a hard shift, part {i} (edition {edit})"),
        summary: format!(
            "What peers at member {member} found helps in the first days after an adverse event: sleep, talking, and who to call."
        ),
        body: Some(
            "Short, practical guidance written by the program's peer supporters. ".repeat(8),
        ),
        link: None,
        tags: vec!["first-days".into(), "sleep".into()],
        audience: vec![Profession::Nurse, Profession::Physician],
        jurisdiction: None,
        licence: "CC-BY-4.0".into(),
        sharing: Sharing::Federation,
    }
}

fn trainer(i: usize) -> TrainerInput {
    TrainerInput {
        display_name: format!("Trainer {i}"),
        credentials: Some("RN, certified peer support trainer".into()),
        organization: Some("Regional peer support collaborative".into()),
        topics: vec![
            "psychological first aid".into(),
            "peer support basics".into(),
        ],
        formats: vec!["in person".into(), "online".into()],
        regions: vec!["Midwest".into()],
        contact: Some("training@collaborative.example".into()),
        published_fields: vec![
            "credentials".into(),
            "organization".into(),
            "topics".into(),
            "formats".into(),
            "regions".into(),
            "contact".into(),
        ],
        consented: true,
    }
}

async fn seed(
    node: &TestNode,
    member: usize,
    resources: usize,
    trainers: usize,
) -> Vec<uuid::Uuid> {
    let who = admin();
    let mut ids = Vec::with_capacity(resources);
    for i in 0..resources {
        let r = resources::create(&node.state.db, &who, resource(member, i, 1))
            .await
            .unwrap();
        ids.push(r.id);
    }
    for i in 0..trainers {
        training::upsert_trainer(&node.state.db, &who, None, trainer(i))
            .await
            .unwrap();
    }
    ids
}

/// Rows in the newcomer's cache of the network directory.
async fn cached(node: &TestNode) -> i64 {
    node.count("federation_directory").await
}

/// Feed calls a peer's sync makes for `items` new changes: pages of 200 (the reader asks one
/// more row to know whether more follow, so a full last page needs no extra call), at least one.
fn calls_for(items: usize) -> usize {
    items.div_ceil(200).max(1)
}

async fn round(label: &str, node: &TestNode, peers: usize, new_per_peer: usize) {
    let started = Instant::now();
    let results = node.state.federation.sync_directory().await.unwrap();
    let secs = started.elapsed().as_secs_f64();
    let failed = results.iter().filter(|(_, r)| r.is_err()).count();
    let mut why = std::collections::BTreeMap::<String, usize>::new();
    for (_, r) in &results {
        if let Err(e) = r {
            *why.entry(e.reason().to_owned()).or_default() += 1;
        }
    }
    if !why.is_empty() {
        eprintln!("{label}: failed {why:?}");
    }
    let applied: usize = results.iter().filter_map(|(_, r)| r.as_ref().ok()).sum();
    println!(
        "| {label} | {secs:.2} s | {} | {applied} | {failed} | {} |",
        peers * calls_for(new_per_peer),
        cached(node).await,
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let members = env("DIRECTORY_MEMBERS", 200);
    let resources = env("DIRECTORY_RESOURCES", 500);
    let trainers = env("DIRECTORY_TRAINERS", 100);
    assert!(members >= 2, "DIRECTORY_MEMBERS: at least 2");
    let mut ids = vec![NEWCOMER.to_owned()];
    ids.extend((1..members).map(|i| format!("m{i:03}.test")));
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let started = Instant::now();
    let (steward, nodes) = federation_with(&id_refs, small_node).await;
    eprintln!(
        "{members} members up in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let peers = &nodes[1..];
    let seeded: Vec<Vec<uuid::Uuid>> = futures_util::stream::iter(peers.iter().enumerate())
        .map(|(m, node)| seed(node, m, resources, trainers))
        .buffered(8)
        .collect()
        .await;
    eprintln!(
        "{} members seeded with {resources} resources and {trainers} trainers each in {:.1} s",
        peers.len(),
        started.elapsed().as_secs_f64()
    );
    let newcomer = &nodes[0];
    newcomer.state.federation.refresh_manifest().await.unwrap();
    println!("| sync | time | calls | items applied | peers failed | newcomer's cache (rows) |");
    println!("| --- | --- | --- | --- | --- | --- |");
    let per_peer = resources + trainers;
    round(
        "catching up (never synced)",
        newcomer,
        peers.len(),
        per_peer,
    )
    .await;
    round("nothing changed", newcomer, peers.len(), 0).await;
    let who = admin();
    for (m, (node, ids)) in peers.iter().zip(&seeded).enumerate() {
        resources::update(&node.state.db, &who, ids[0], resource(m, 0, 2))
            .await
            .unwrap();
    }
    round(
        "1 resource changed at every member",
        newcomer,
        peers.len(),
        1,
    )
    .await;
    for node in &nodes {
        node.stop().await;
    }
    steward.stop().await;
}
