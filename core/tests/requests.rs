//! The support request's rules as use cases, against a real database and no HTTP server: who is
//! told to sign in before anything is looked up, what each relation to a request may see and
//! do, and a request for an outside peer kept from the local coordinators.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use alongside_core::CoreError;
use alongside_core::access::{ClientPrincipal, Principal, Role, Scope, UserPrincipal};
use alongside_core::db::testing::TestDatabase;
use alongside_core::db::{self, Db, DbSettings};
use alongside_core::people::{self, NewPerson};
use alongside_core::requests::{self, Audience, Preferences, RequestInput};
use alongside_core::supporters::{self, AvailabilityWindow, SupporterInput};
use alongside_core::vocab::{
    CoordinatorAccess, Modality, PeerOrigin, Profession, RequestState, SpecialtyPreference,
    Urgency, Weekday,
};
use chrono::NaiveTime;
use uuid::Uuid;

fn user(person_id: Uuid, roles: &[Role]) -> Principal {
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

fn partner_app() -> Principal {
    Principal::Client(ClientPrincipal {
        client_id: "partner".into(),
        scopes: [Scope::MetricsRead, Scope::EventsWrite]
            .into_iter()
            .collect(),
    })
}

async fn node() -> (tempfile::TempDir, TestDatabase, Db) {
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
    (dir, database, db)
}

async fn person(db: &Db, coordinator: &Principal) -> Uuid {
    people::create(
        db,
        coordinator,
        NewPerson {
            staff_id: None,
            display_name: "Sam".into(),
            email: Some(format!("p{}@hospital.test", Uuid::new_v4().simple())),
            profession: Profession::Nurse,
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

fn routine(origin: PeerOrigin, access: CoordinatorAccess) -> RequestInput {
    RequestInput {
        urgency: Urgency::Routine,
        preferences: Preferences {
            peer_profession: None,
            specialty: SpecialtyPreference::Any,
            language: None,
            language_required: false,
            modality: Modality::Phone,
            peer_origin: origin,
        },
        coordinator_access: access,
        preferred_name: Some("Sam".into()),
        outreach_id: None,
    }
}

async fn ask(db: &Db, who: &Principal, origin: PeerOrigin, access: CoordinatorAccess) -> Uuid {
    requests::request_support(db, who, routine(origin, access))
        .await
        .unwrap()
        .request
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_relation_to_a_request_sees_and_does_what_it_may() {
    let (_dir, _database, db) = node().await;
    let coordinator = user(Uuid::new_v4(), &[Role::Coordinator]);
    let requester_id = person(&db, &coordinator).await;
    let stranger_id = person(&db, &coordinator).await;
    let requester = user(requester_id, &[]);
    let stranger = user(stranger_id, &[]);
    let id = ask(
        &db,
        &requester,
        PeerOrigin::AnyDepartment,
        CoordinatorAccess::StatusOnly,
    )
    .await;

    // Sign in first, before anything is looked up: the same answer for a request that exists
    // and one that does not.
    for some in [id, Uuid::now_v7()] {
        assert!(matches!(
            requests::get(&db, &Principal::Anonymous, some).await,
            Err(CoreError::Unauthenticated(_))
        ));
        assert!(matches!(
            requests::acknowledge(&db, &Principal::Anonymous, some).await,
            Err(CoreError::Unauthenticated(_))
        ));
        assert!(matches!(
            requests::get(&db, &partner_app(), some).await,
            Err(CoreError::Forbidden(_))
        ));
    }
    // A colleague with no part in it cannot tell it from one that does not exist.
    assert!(matches!(
        requests::get(&db, &stranger, id).await,
        Err(CoreError::NotFound(_))
    ));
    assert!(matches!(
        requests::get(&db, &stranger, Uuid::now_v7()).await,
        Err(CoreError::NotFound(_))
    ));

    // The requester sees it as theirs; the coordinator sees its status only, as asked.
    let mine = requests::get(&db, &requester, id).await.unwrap();
    assert_eq!(mine.audience, Audience::Requester);
    let theirs = requests::get(&db, &coordinator, id).await.unwrap();
    assert_eq!(theirs.audience, Audience::Coordinator { full: false });
    assert_eq!(theirs.preferred_name, None, "status only: no name");

    // The program acknowledges, not the requester; once.
    assert!(matches!(
        requests::acknowledge(&db, &requester, id).await,
        Err(CoreError::Forbidden(_))
    ));
    let first = requests::acknowledge(&db, &coordinator, id).await.unwrap();
    let at = first.acknowledged_at.unwrap();
    let again = requests::acknowledge(&db, &coordinator, id).await.unwrap();
    assert_eq!(again.acknowledged_at, Some(at));

    // Only the requester withdraws it.
    assert!(requests::withdraw(&db, &coordinator, id).await.is_err());
    assert!(requests::withdraw(&db, &stranger, id).await.is_err());
    let withdrawn = requests::withdraw(&db, &requester, id).await.unwrap();
    assert_eq!(withdrawn.state, RequestState::Withdrawn);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_for_an_outside_peer_is_kept_from_local_coordinators() {
    let (_dir, _database, db) = node().await;
    let coordinator = user(Uuid::new_v4(), &[Role::Coordinator, Role::Admin]);
    let requester_id = person(&db, &coordinator).await;
    let requester = user(requester_id, &[]);
    let id = ask(
        &db,
        &requester,
        PeerOrigin::OutsideInstitutionOnly,
        CoordinatorAccess::Full,
    )
    .await;
    let mine = requests::get(&db, &requester, id).await.unwrap();
    assert_eq!(mine.state, RequestState::AwaitingFederation);
    // Even an admin-coordinator with full access asked for: the person chose to keep it from
    // their own institution.
    assert!(matches!(
        requests::get(&db, &coordinator, id).await,
        Err(CoreError::NotFound(_))
    ));
    assert!(matches!(
        requests::acknowledge(&db, &coordinator, id).await,
        Err(CoreError::NotFound(_))
    ));
}

/// Makes `person` a supporter free all week, with room for one case.
async fn free_supporter(db: &Db, admin: &Principal, person: Uuid) {
    let all_week = Weekday::ALL
        .iter()
        .map(|d| AvailabilityWindow {
            weekday: *d,
            start: NaiveTime::from_hms_opt(0, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(23, 59, 0).unwrap(),
        })
        .collect();
    supporters::upsert(
        db,
        admin,
        SupporterInput {
            person_id: person,
            trained_on: Some(chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()),
            training_expires_on: None,
            lived_experience: false,
            time_zone: "UTC".into(),
            availability: all_week,
            caseload_cap: 1,
            outside_matching_opt_in: false,
            active: true,
            monthly_hours_cap: 10,
        },
    )
    .await
    .unwrap();
}

/// Asserts that request `id` is offered to `supporter` (and not yet accepted).
async fn offered_to(db: &Db, supporter: &Principal, id: Uuid) {
    let seen = requests::get(db, supporter, id).await;
    assert!(
        matches!(&seen, Ok(v) if v.audience == Audience::Supporter { assigned: false }),
        "{seen:?}"
    );
}

/// A new request reads its requester in the same statement as the supporters: with nobody to
/// offer it to, the requester is still read and the request waits; a supporter who asks is read
/// both as the requester and as a candidate, and the offer goes to the colleague, never to
/// themselves; someone the node does not know cannot be referred.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_request_reads_its_requester_with_the_supporters() {
    let (_dir, _database, db) = node().await;
    let admin = user(Uuid::new_v4(), &[Role::Admin, Role::Coordinator]);
    let routine = || routine(PeerOrigin::AnyDepartment, CoordinatorAccess::Full);

    // Nobody supports yet.
    let early = person(&db, &admin).await;
    let waiting = requests::request_support(&db, &user(early, &[]), routine())
        .await
        .unwrap()
        .request;
    assert_eq!(waiting.state, RequestState::Open);
    assert_eq!(waiting.requester_person_id, Some(early));
    let as_coordinator = requests::get(&db, &admin, waiting.id).await.unwrap();
    assert_eq!(as_coordinator.requester_profession, Some(Profession::Nurse));

    // The first supporter takes the waiting request with their one place; then a supporter
    // with room asks, and a third is free.
    let colleague = person(&db, &admin).await;
    let asking = person(&db, &admin).await;
    let third = person(&db, &admin).await;
    for p in [colleague, asking, third] {
        free_supporter(&db, &admin, p).await;
    }
    let supporter = |p| user(p, &[Role::PeerSupporter]);
    offered_to(&db, &supporter(colleague), waiting.id).await;
    let made = requests::request_support(&db, &supporter(asking), routine())
        .await
        .unwrap()
        .request;
    assert_eq!(made.audience, Audience::Requester);
    assert_eq!(made.requester_person_id, Some(asking));
    let as_coordinator = requests::get(&db, &admin, made.id).await.unwrap();
    assert_eq!(as_coordinator.requester_profession, Some(Profession::Nurse));
    assert_eq!(made.state, RequestState::Offered);
    offered_to(&db, &supporter(third), made.id).await;
    assert!(matches!(
        requests::get(&db, &supporter(colleague), made.id).await,
        Err(CoreError::NotFound(_))
    ));

    // Referring someone the node does not know.
    let unknown = requests::refer(&db, &admin, Uuid::now_v7(), None, routine()).await;
    assert!(
        matches!(unknown, Err(CoreError::NotFound("person"))),
        "{unknown:?}"
    );
}
