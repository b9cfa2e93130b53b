//! Page speed and weight for docs/performance.md: a node on SQLite (or the PostgreSQL of
//! `ALONGSIDE_TEST_DATABASE_URL`) with 200 peer supporters and 1,000 support requests (or as
//! many as `BENCH_SUPPORTERS` and `BENCH_REQUESTS` say: the console's target is measured with
//! 500 and 10,000), each page asked for 200 times, one at a time, by a signed-in browser-like
//! client over loopback.
//! Reports the server time per page (p50, p95, max: the time from sending the request to
//! reading the whole answer, on an otherwise idle node) and its weight (HTML, and HTML with the
//! stylesheet). Not a test; nothing asserts time.
//!
//! `cargo bench -p alongside-tests --bench pages`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use alongside_core::access::{Principal, Role, UserPrincipal};
use alongside_core::accounts::{self, NewUser};
use alongside_core::requests::{self, Preferences, RequestInput};
use alongside_core::supporters::{self, AvailabilityWindow, SupporterInput};
use alongside_core::vocab::{
    CoordinatorAccess, Modality, PeerOrigin, Profession, SpecialtyPreference, Urgency, Weekday,
};
use alongside_tests::{PASSWORD, TestNode};
use chrono::NaiveTime;

const ROUNDS: usize = 200;

/// A count from the environment, else `default`.
fn scale(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn user(node: &TestNode, email: String, roles: &[Role]) -> UserPrincipal {
    let db = node.state.db.clone();
    let roles: BTreeSet<Role> = roles.iter().copied().chain([Role::Member]).collect();
    let new = NewUser {
        email,
        display_name: "Bench Person".into(),
        profession: Profession::Nurse,
        roles: roles.clone(),
        password: PASSWORD.into(),
    };
    let (account, person) = db
        .run(move |conn| accounts::create_user_unchecked(conn, new))
        .await
        .unwrap();
    UserPrincipal {
        account_id: account.id,
        person_id: person.id,
        roles,
    }
}

fn admin() -> Principal {
    Principal::User(UserPrincipal {
        account_id: uuid::Uuid::nil(),
        person_id: uuid::Uuid::nil(),
        roles: [Role::Admin, Role::Member].into_iter().collect(),
    })
}

async fn seed(node: &TestNode, supporters_n: usize, requests_n: usize) {
    let requesters_n = (requests_n / 4).max(1);
    let started = Instant::now();
    for i in 0..supporters_n {
        let u = user(node, format!("s{i}@bench.test"), &[Role::PeerSupporter]).await;
        let all_day = |weekday| AvailabilityWindow {
            weekday,
            start: NaiveTime::from_hms_opt(0, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(23, 59, 0).unwrap(),
        };
        supporters::upsert(
            &node.state.db,
            &admin(),
            SupporterInput {
                person_id: u.person_id,
                trained_on: Some(chrono::NaiveDate::from_ymd_opt(2025, 1, 10).unwrap()),
                training_expires_on: None,
                lived_experience: i % 3 == 0,
                time_zone: "UTC".into(),
                availability: Weekday::ALL.iter().copied().map(all_day).collect(),
                caseload_cap: 10,
                outside_matching_opt_in: i % 2 == 0,
                active: true,
                monthly_hours_cap: 20,
            },
        )
        .await
        .unwrap();
    }
    let mut requesters = vec![];
    for i in 0..requesters_n {
        requesters.push(user(node, format!("r{i}@bench.test"), &[]).await);
    }
    for i in 0..requests_n {
        let who = Principal::User(requesters[i % requesters_n].clone());
        requests::request_support(
            &node.state.db,
            &who,
            RequestInput {
                urgency: [Urgency::Routine, Urgency::Urgent][i % 2],
                preferences: Preferences {
                    peer_profession: None,
                    specialty: SpecialtyPreference::Any,
                    language: None,
                    language_required: false,
                    modality: Modality::Phone,
                    peer_origin: PeerOrigin::AnyDepartment,
                },
                coordinator_access: CoordinatorAccess::StatusOnly,
                preferred_name: Some("Sam".into()),
                outreach_id: None,
            },
        )
        .await
        .unwrap();
    }
    println!(
        "seeded {supporters_n} supporters, {requesters_n} requesters and {requests_n} requests in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

struct Client {
    http: reqwest::Client,
    cookie: String,
}

async fn sign_in(node: &TestNode, email: &str) -> Client {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = http
        .post(node.url("/sign-in"))
        .header("origin", &node.base)
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    Client { http, cookie }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let node = TestNode::spawn_with(|c| {
        c.workers = 2;
        c.database.pool_size = 8;
    })
    .await;
    seed(
        &node,
        scale("BENCH_SUPPORTERS", 200),
        scale("BENCH_REQUESTS", 1_000),
    )
    .await;
    // A third of the requests closed, so the metrics have something to count.
    let db = node.state.db.clone();
    tokio::task::spawn_blocking(move || {
        use alongside_core::schema::support_requests as r;
        use diesel::prelude::*;
        let mut conn = db.get().unwrap();
        let ids: Vec<uuid::Uuid> = r::table.select(r::id).load(&mut **conn).unwrap();
        let closing: Vec<uuid::Uuid> = ids.into_iter().step_by(3).collect();
        for chunk in closing.chunks(500) {
            diesel::update(r::table.filter(r::id.eq_any(alongside_core::db::Id::list(chunk))))
                .set((
                    r::state.eq("closed"),
                    r::closed_at.eq(Some(alongside_core::time::now())),
                ))
                .execute(&mut **conn)
                .unwrap();
        }
    })
    .await
    .unwrap();
    user(&node, "coord@bench.test".into(), &[Role::Coordinator]).await;
    let requester = sign_in(&node, "r7@bench.test").await;
    let supporter = sign_in(&node, "s3@bench.test").await;
    let coordinator = sign_in(&node, "coord@bench.test").await;
    let anonymous = Client {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        cookie: String::new(),
    };
    // One of the requester's own requests, for its page.
    let listing = requester
        .http
        .get(node.url("/requests"))
        .header("cookie", &requester.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let request_path = listing
        .split("href=\"/requests/")
        .nth(1)
        .map(|s| format!("/requests/{}", s.split('"').next().unwrap()))
        .unwrap();
    let css_path = alongside_api::pages::stylesheet_path();
    let css = anonymous
        .http
        .get(node.url(css_path))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .len();

    let pages: Vec<(&str, String, &Client)> = vec![
        ("start page (signed out)", "/".into(), &anonymous),
        ("privacy", "/privacy".into(), &anonymous),
        ("sign-in", "/sign-in".into(), &anonymous),
        ("start page (signed in)", "/".into(), &requester),
        ("talk to someone", "/talk".into(), &requester),
        ("my requests", "/requests".into(), &requester),
        ("one request", request_path, &requester),
        ("peer supporter", "/support".into(), &supporter),
        ("availability", "/support/availability".into(), &supporter),
        (
            "survey link (expired)",
            "/survey?token=x".into(),
            &anonymous,
        ),
        ("console: queue", "/console".into(), &coordinator),
        (
            "console: queue, urgent only",
            "/console?urgency=urgent".into(),
            &coordinator,
        ),
        (
            "console: queue, page 3",
            "/console?page=3".into(),
            &coordinator,
        ),
        (
            "console: metrics (12 months)",
            "/console/metrics".into(),
            &coordinator,
        ),
        ("console: roster", "/console/roster".into(), &coordinator),
        (
            "console: programs",
            "/console/programs".into(),
            &coordinator,
        ),
    ];
    println!(
        "\n| page | p50 ms | p95 ms | max ms | HTML bytes | with CSS |\n| --- | --- | --- | --- | --- | --- |"
    );
    for (name, path, client) in pages {
        let mut times = Vec::with_capacity(ROUNDS);
        let mut bytes = 0;
        for _ in 0..ROUNDS {
            let started = Instant::now();
            let mut req = client
                .http
                .get(node.url(&path))
                .header("accept", "text/html");
            if !client.cookie.is_empty() {
                req = req.header("cookie", &client.cookie);
            }
            let response = req.send().await.unwrap();
            let status = response.status().as_u16();
            let body = response.bytes().await.unwrap();
            times.push(started.elapsed());
            // The expired survey link answers 410 Gone, with its page.
            assert!(status < 400 || status == 410, "{path}: {status}");
            bytes = body.len();
        }
        times.sort();
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} | {bytes} | {} |",
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            percentile(&times, 1.0),
            bytes + css
        );
    }
}
