//! The re-matching sweep at scale, for docs/performance.md: 1,000 peer supporters and 10,000
//! requests waiting for a peer, on SQLite or the PostgreSQL of `ALONGSIDE_TEST_DATABASE_URL`.
//! Times one sweep in three situations: nobody can take anything (03:00); everyone is free but
//! the hard rules exclude them all (the requests need a language nobody speaks: every request is
//! looked at); and everyone is free, so offers are made until every caseload is full.
//! Not a test; nothing asserts time.
//!
//! `cargo bench -p alongside-tests --bench rematch`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use alongside_core::access::{Principal, Role, UserPrincipal};
use alongside_core::people::{self, NewPerson};
use alongside_core::requests::{self, Preferences, RequestInput};
use alongside_core::supporters::{self, AvailabilityWindow, OwnSupporterPatch, SupporterInput};
use alongside_core::vocab::{
    CoordinatorAccess, Modality, PeerOrigin, Profession, SpecialtyPreference, Urgency, Weekday,
};
use alongside_tests::TestNode;
use chrono::NaiveTime;
use uuid::Uuid;

const SUPPORTERS: usize = 1_000;
const WAITING: usize = 10_000;

fn admin() -> Principal {
    Principal::User(UserPrincipal {
        account_id: Uuid::nil(),
        person_id: Uuid::nil(),
        roles: [Role::Admin, Role::Member].into_iter().collect(),
    })
}

fn as_person(person_id: Uuid, roles: &[Role]) -> Principal {
    Principal::User(UserPrincipal {
        account_id: Uuid::nil(),
        person_id,
        roles: roles.iter().copied().chain([Role::Member]).collect(),
    })
}

async fn person(node: &TestNode, n: usize, profession: Profession) -> Uuid {
    people::create(
        &node.state.db,
        &admin(),
        NewPerson {
            staff_id: None,
            display_name: format!("P{n}"),
            email: Some(format!("p{n}@bench.test")),
            profession,
            specialty: None,
            department: None,
            experience_band: None,
            languages: vec!["en".into()],
        },
    )
    .await
    .unwrap()
    .id
}

async fn sweep(node: &TestNode, what: &str) -> usize {
    let started = Instant::now();
    let report = requests::clock::sweep(&node.state.db, requests::now())
        .await
        .unwrap();
    println!(
        "| {what} | {:.0} ms | {} offers |",
        started.elapsed().as_secs_f64() * 1000.0,
        report.reoffered
    );
    report.reoffered
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let node = TestNode::spawn_with(|c| c.database.pool_size = 8).await;
    let started = Instant::now();
    let mut supporters_list = vec![];
    for n in 0..SUPPORTERS {
        let p = person(&node, n, Profession::Nurse).await;
        supporters::upsert(
            &node.state.db,
            &admin(),
            SupporterInput {
                person_id: p,
                trained_on: Some(chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()),
                training_expires_on: None,
                lived_experience: false,
                time_zone: "UTC".into(),
                availability: vec![],
                caseload_cap: 5,
                outside_matching_opt_in: false,
                active: true,
                monthly_hours_cap: 20,
            },
        )
        .await
        .unwrap();
        supporters_list.push(p);
    }
    for n in 0..WAITING {
        let p = person(&node, SUPPORTERS + n, Profession::Physician).await;
        requests::request_support(
            &node.state.db,
            &as_person(p, &[]),
            RequestInput {
                urgency: [Urgency::Routine, Urgency::Urgent, Urgency::Crisis][n % 3],
                preferences: Preferences {
                    peer_profession: None,
                    specialty: SpecialtyPreference::Any,
                    // Korean, required: nobody here speaks it (the third case below).
                    language: Some("ko".into()),
                    language_required: true,
                    modality: Modality::Phone,
                    peer_origin: PeerOrigin::AnyDepartment,
                },
                coordinator_access: CoordinatorAccess::StatusOnly,
                preferred_name: None,
                outreach_id: None,
            },
        )
        .await
        .unwrap();
    }
    println!(
        "seeded {SUPPORTERS} supporters and {WAITING} waiting requests in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    println!("\n| sweep | time | result |\n| --- | --- | --- |");
    sweep(&node, "nobody can take anything (no hours open)").await;
    let all_week: Vec<AvailabilityWindow> = Weekday::ALL
        .iter()
        .map(|d| AvailabilityWindow {
            weekday: *d,
            start: NaiveTime::from_hms_opt(0, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(23, 59, 0).unwrap(),
        })
        .collect();
    // Opening everyone's hours triggers a re-match each: none can match these requests.
    for p in &supporters_list {
        supporters::update_own(
            &node.state.db,
            &as_person(*p, &[Role::PeerSupporter]),
            OwnSupporterPatch {
                availability: Some(all_week.clone()),
                ..OwnSupporterPatch::default()
            },
        )
        .await
        .unwrap();
    }
    sweep(
        &node,
        "everyone free, nobody eligible (every request looked at)",
    )
    .await;
    // Now the language is no longer required: every free caseload fills.
    node.state
        .db
        .run(|conn| {
            use alongside_core::schema::support_requests::dsl::*;
            use diesel::prelude::*;
            diesel::update(support_requests)
                .set(language_required.eq(false))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    // Each run offers at most OFFERS_PER_SWEEP; the following sweeps carry on until every
    // caseload is full.
    let mut n = 1;
    while sweep(
        &node,
        &format!("everyone free and eligible: sweep {n} (offers until caseloads are full)"),
    )
    .await
        > 0
    {
        n += 1;
    }
    sweep(&node, "the sweep after (caseloads full)").await;
}
