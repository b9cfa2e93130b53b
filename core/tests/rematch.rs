//! Re-matching as a property, against a real database: for any sequence of supporters pausing,
//! resuming, changing their caseload and their hours, after each sweep (or the change itself)
//! every request still waiting has nobody eligible, no supporter holds more than their cap, and
//! every offer went to someone the hard rules allow.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use alongside_core::access::{Principal, Role, UserPrincipal};
use alongside_core::db::testing::TestDatabase;
use alongside_core::db::{self, Db, DbSettings};
use alongside_core::people::{self, NewPerson};
use alongside_core::requests::{self, Preferences, RequestInput, Scope};
use alongside_core::supporters::{self, AvailabilityWindow, OwnSupporterPatch, SupporterInput};
use alongside_core::vocab::{
    CoordinatorAccess, Modality, PeerOrigin, Profession, RequestState, SpecialtyPreference,
    Urgency, Weekday,
};
use chrono::NaiveTime;
use proptest::prelude::*;
use uuid::Uuid;

fn admin() -> Principal {
    Principal::User(UserPrincipal {
        account_id: Uuid::nil(),
        person_id: Uuid::nil(),
        roles: [Role::Admin, Role::Coordinator, Role::Member]
            .into_iter()
            .collect(),
    })
}

fn as_person(person_id: Uuid, roles: &[Role]) -> Principal {
    Principal::User(UserPrincipal {
        account_id: Uuid::nil(),
        person_id,
        roles: roles
            .iter()
            .copied()
            .chain([Role::Member])
            .collect::<BTreeSet<_>>(),
    })
}

fn all_week() -> Vec<AvailabilityWindow> {
    Weekday::ALL
        .iter()
        .map(|d| AvailabilityWindow {
            weekday: *d,
            start: NaiveTime::from_hms_opt(0, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(23, 59, 0).unwrap(),
        })
        .collect()
}

async fn person(db: &Db, n: usize, profession: Profession) -> Uuid {
    people::create(
        db,
        &admin(),
        NewPerson {
            staff_id: None,
            display_name: format!("Person {n}"),
            email: Some(format!("p{n}-{}@hospital.test", Uuid::new_v4().simple())),
            profession,
            specialty: None,
            department: None,
            experience_band: None,
            languages: vec![],
        },
    )
    .await
    .unwrap()
    .id
}

#[derive(Debug, Clone)]
enum Change {
    Pause(usize),
    Resume(usize),
    Cap(usize, i32),
    Hours(usize, bool),
    Close(usize),
    Sweep,
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        (0..4usize).prop_map(Change::Pause),
        (0..4usize).prop_map(Change::Resume),
        (0..4usize, 1..3i32).prop_map(|(s, c)| Change::Cap(s, c)),
        (0..4usize, any::<bool>()).prop_map(|(s, h)| Change::Hours(s, h)),
        (0..6usize).prop_map(Change::Close),
        Just(Change::Sweep),
    ]
}

/// The invariants, as a coordinator and each supporter can see them. `before` holds the offers
/// that existed before the last change; an offer made since must break no hard rule now.
async fn check(
    db: &Db,
    supporters: &[(Uuid, Principal)],
    requests: &[Uuid],
    before: &BTreeSet<(Uuid, Uuid)>,
) -> BTreeSet<(Uuid, Uuid)> {
    for id in requests {
        let view = requests::get(db, &admin(), *id).await.unwrap();
        if view.state == RequestState::Open {
            let eligible = requests::suggestions(db, &admin(), *id).await.unwrap();
            assert!(
                eligible.is_empty(),
                "request {id} waits although {} could take it",
                eligible[0].display_name
            );
        }
    }
    let mut offers = BTreeSet::new();
    for (person, who) in supporters {
        let profile = supporters::for_person(db, &admin(), *person)
            .await
            .unwrap()
            .unwrap();
        let mine = requests::list(db, who, Scope::Supporting, None)
            .await
            .unwrap();
        let offered: Vec<Uuid> = mine
            .iter()
            .filter(|r| r.state == RequestState::Offered)
            .map(|r| r.id)
            .collect();
        let new = offered.iter().any(|r| !before.contains(&(*r, *person)));
        if new {
            assert!(profile.active, "a new offer to a paused supporter");
            assert!(
                !profile.availability.is_empty(),
                "a new offer to someone not available"
            );
            assert!(
                offered.len() <= usize::try_from(profile.caseload_cap).unwrap(),
                "a new offer past a cap of {}: {} offered",
                profile.caseload_cap,
                offered.len()
            );
        }
        offers.extend(offered.into_iter().map(|r| (r, *person)));
    }
    // One live offer per request at most.
    let mut per_request = std::collections::BTreeMap::new();
    for (r, _) in &offers {
        *per_request.entry(*r).or_insert(0) += 1;
    }
    assert!(
        per_request.values().all(|n| *n == 1),
        "two live offers for one request"
    );
    offers
}

async fn run(changes: Vec<Change>, urgencies: Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create(dir.path()).unwrap();
    let db = Db::connect(&DbSettings::new(database.url.clone())).unwrap();
    db::run_migrations(&mut db.get().unwrap()).unwrap();
    alongside_core::institution::ensure(
        &mut db.get().unwrap(),
        &alongside_core::institution::InstitutionDefaults {
            name: "Test".into(),
            node_id: "test.local".into(),
            jurisdiction: "US".into(),
            crisis_resources: alongside_core::institution::DEFAULT_CRISIS_RESOURCES.into(),
        },
    )
    .unwrap();
    let mut supporters_list = vec![];
    for n in 0..4 {
        let p = person(&db, n, Profession::Nurse).await;
        supporters::upsert(
            &db,
            &admin(),
            SupporterInput {
                person_id: p,
                trained_on: Some(chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()),
                training_expires_on: None,
                lived_experience: false,
                time_zone: "UTC".into(),
                // Nobody is free at first: every request waits.
                availability: vec![],
                caseload_cap: 1,
                outside_matching_opt_in: false,
                active: true,
                monthly_hours_cap: 10,
            },
        )
        .await
        .unwrap();
        supporters_list.push((p, as_person(p, &[Role::PeerSupporter])));
    }
    let mut request_ids = vec![];
    for (n, u) in urgencies.iter().enumerate() {
        let p = person(&db, 100 + n, Profession::Physician).await;
        let created = requests::request_support(
            &db,
            &as_person(p, &[]),
            RequestInput {
                urgency: [Urgency::Routine, Urgency::Urgent, Urgency::Crisis][usize::from(*u % 3)],
                preferences: Preferences {
                    peer_profession: None,
                    specialty: SpecialtyPreference::Any,
                    language: None,
                    language_required: false,
                    modality: Modality::Phone,
                    peer_origin: PeerOrigin::AnyDepartment,
                },
                coordinator_access: CoordinatorAccess::Full,
                preferred_name: None,
                outreach_id: None,
            },
        )
        .await
        .unwrap();
        assert_eq!(created.request.state, RequestState::Open, "nobody free yet");
        request_ids.push(created.request.id);
    }
    let mut offers = check(&db, &supporters_list, &request_ids, &BTreeSet::new()).await;
    for c in changes {
        let patch = |s: usize| supporters_list[s].1.clone();
        match c {
            Change::Pause(s) | Change::Resume(s) => {
                let active = matches!(c, Change::Resume(_));
                supporters::update_own(
                    &db,
                    &patch(s),
                    OwnSupporterPatch {
                        active: Some(active),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            }
            Change::Cap(s, cap) => {
                supporters::update_own(
                    &db,
                    &patch(s),
                    OwnSupporterPatch {
                        caseload_cap: Some(cap),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            }
            Change::Hours(s, open) => {
                let availability = if open { all_week() } else { vec![] };
                supporters::update_own(
                    &db,
                    &patch(s),
                    OwnSupporterPatch {
                        availability: Some(availability),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            }
            Change::Close(r) => {
                // The person who asked no longer needs it (frees an offer or a caseload).
                if let Some(id) = request_ids.get(r) {
                    let view = requests::get(&db, &admin(), *id).await.unwrap();
                    if requests::state::can_transition(view.state, RequestState::Withdrawn) {
                        let who = as_person(view.requester_person_id.unwrap(), &[]);
                        requests::withdraw(&db, &who, *id).await.unwrap();
                    }
                }
            }
            Change::Sweep => {
                requests::clock::sweep(&db, requests::now()).await.unwrap();
            }
        }
        offers = check(&db, &supporters_list, &request_ids, &offers).await;
    }
}

proptest! {
    // Each case builds a database and a dozen people: few cases, each a real run.
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]
    #[test]
    fn a_waiting_request_is_offered_as_soon_as_someone_can_take_it(
        changes in proptest::collection::vec(change(), 1..12),
        urgencies in proptest::collection::vec(0u8..3, 1..6),
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(run(changes, urgencies));
    }
}
