//! What a coordinator sees of a request is what its requester allowed, on every path: an
//! event's outreach does not say who asked (unless they allowed it), a coordinator who is also a
//! peer supporter cannot take a request herself to see who asked, and an outside-only request
//! fires no local webhook.

use alongside_core::access::Role;
use alongside_tests::{TestNode, TestUser, error_code, gid};
use serde_json::{Value, json};

async fn accept_outreach(node: &TestNode, who: &TestUser, access: &str) -> String {
    let mine = node
        .gql(Some(&who.token), "{ myOutreach { id } }", json!({}))
        .await;
    let outreach = mine["myOutreach"][0]["id"].as_str().unwrap().to_owned();
    let q = format!(
        "mutation($o: ID!) {{ requestSupport(input: {{outreachId: $o, urgency: ROUTINE, coordinatorAccess: {access}}}) {{ request {{ id }} }} }}"
    );
    node.gql(Some(&who.token), &q, json!({ "o": outreach }))
        .await["requestSupport"]["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coordinators_see_only_what_each_requester_allowed() {
    let node = TestNode::spawn().await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let private = node.user(&[Role::Member]).await;
    let open = node.user(&[Role::Member]).await;
    let event = node
        .gql(
            Some(&coordinator.token),
            "mutation($i: [InvolvedPersonInput!]!) { createEvent(input: {category: HARM_EVENT, month: \"2026-10\", department: \"ICU\", severityBand: MODERATE, involved: $i}) { id } }",
            json!({ "i": [
                { "email": private.email, "role": "DIRECT" },
                { "email": open.email, "role": "DIRECT" },
            ] }),
        )
        .await["createEvent"]["id"]
        .clone();
    let private_request = accept_outreach(&node, &private, "STATUS_ONLY").await;
    let open_request = accept_outreach(&node, &open, "FULL").await;

    let seen = node
        .gql(
            Some(&coordinator.token),
            "query($id: ID!) { event(id: $id) { outreach { id state requestId person { email } } } }",
            json!({ "id": event }),
        )
        .await;
    let rows = seen["event"]["outreach"].as_array().unwrap().clone();
    let row = |email: &str| -> Value {
        rows.iter()
            .find(|r| r["person"]["email"] == email)
            .unwrap()
            .clone()
    };
    let hidden = row(&private.email);
    assert_eq!(
        (&hidden["state"], &hidden["requestId"]),
        (&json!("REACHED"), &Value::Null),
        "a status-only request is not revealed through the event: {hidden}"
    );
    let shown = row(&open.email);
    assert_eq!(shown["state"], "ACCEPTED");
    assert_eq!(shown["requestId"], json!(open_request));

    // Marking the hidden one changes nothing and does not tell it was accepted.
    let marked = node
        .gql(
            Some(&coordinator.token),
            "mutation($id: ID!) { markOutreach(id: $id, state: NO_ANSWER) { state requestId } }",
            json!({ "id": hidden["id"] }),
        )
        .await;
    assert_eq!(
        marked["markOutreach"],
        json!({ "state": "REACHED", "requestId": null })
    );
    let own = node
        .gql(Some(&private.token), "{ myOutreach { state } }", json!({}))
        .await;
    assert_eq!(own["myOutreach"][0]["state"], "ACCEPTED");

    // A coordinator who is also a peer supporter cannot take the status-only request herself.
    let admin = node.user(&[Role::Admin]).await;
    let both = node.user(&[Role::Coordinator, Role::PeerSupporter]).await;
    node.gql(
        Some(&admin.token),
        "mutation($id: ID!) { upsertPeerSupporter(input: {personId: $id, trainedOn: \"2025-01-01\", timeZone: \"UTC\", caseloadCap: 3, active: false, availability: []}) { id } }",
        json!({ "id": gid("Person", &both.person_id) }),
    )
    .await;
    let assign = "mutation($r: ID!, $s: ID!) { assignRequest(id: $r, supporterId: $s) { state } }";
    let (_, refused) = node
        .gql_raw(
            Some(&both.token),
            assign,
            json!({ "r": private_request, "s": gid("Person", &both.person_id) }),
        )
        .await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");
    let taken = node
        .gql(
            Some(&both.token),
            assign,
            json!({ "r": open_request, "s": gid("Person", &both.person_id) }),
        )
        .await;
    assert_eq!(taken["assignRequest"]["state"], "ACCEPTED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outside_only_request_fires_no_local_webhook() {
    let node = TestNode::spawn().await;
    let admin = node.user(&[Role::Admin]).await;
    node.gql(
        Some(&admin.token),
        "mutation { registerWebhook(url: \"https://hooks.hospital.test/alongside\", eventTypes: [\"support_request.created\"]) { secret } }",
        json!({}),
    )
    .await;
    let me = node.user(&[Role::Member]).await;
    let webhooks = || async {
        node.state
            .db
            .run(|conn| {
                use alongside_core::schema::outbox;
                use diesel::prelude::*;
                Ok(outbox::table
                    .filter(outbox::channel.eq("webhook"))
                    .count()
                    .get_result::<i64>(conn)?)
            })
            .await
            .unwrap()
    };
    node.gql(
        Some(&me.token),
        "mutation { requestSupport(input: {peerOrigin: OUTSIDE_INSTITUTION_ONLY}) { request { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        webhooks().await,
        0,
        "nothing local says an outside request exists"
    );
    node.gql(
        Some(&me.token),
        "mutation { requestSupport(input: {urgency: ROUTINE}) { request { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(webhooks().await, 1, "a local request does fire");
}

/// The queue is ordered and paged in the database: with more requests than a page (and more
/// than any list reads at once), the one whose clock ran out first is on top of the first page,
/// then the urgent ones, then whoever has waited longest; the rest are on the next pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_queue_keeps_the_most_pressing_on_its_first_page() {
    use alongside_core::access::{Principal, UserPrincipal};
    use alongside_core::requests::{self, Preferences, RequestInput, queue};
    use alongside_core::vocab::{
        CoordinatorAccess, Modality, PeerOrigin, Profession, SpecialtyPreference, Urgency,
    };
    let node = TestNode::spawn().await;
    let admin = Principal::User(UserPrincipal {
        account_id: uuid::Uuid::nil(),
        person_id: uuid::Uuid::nil(),
        roles: [Role::Admin, Role::Member].into_iter().collect(),
    });
    let ask = |n: usize, urgency: Urgency| {
        let (db, admin) = (node.state.db.clone(), admin.clone());
        async move {
            let p = alongside_core::people::create(
                &db,
                &admin,
                alongside_core::people::NewPerson {
                    staff_id: None,
                    display_name: format!("Person {n}"),
                    email: Some(format!("p{n}@hospital.test")),
                    profession: Profession::Nurse,
                    specialty: None,
                    department: None,
                    experience_band: None,
                    languages: vec![],
                },
            )
            .await
            .unwrap();
            let me = Principal::User(UserPrincipal {
                account_id: uuid::Uuid::new_v4(),
                person_id: p.id,
                roles: [Role::Member].into_iter().collect(),
            });
            requests::request_support(
                &db,
                &me,
                RequestInput {
                    urgency,
                    preferences: Preferences {
                        peer_profession: None,
                        specialty: SpecialtyPreference::Any,
                        language: None,
                        language_required: false,
                        modality: Modality::Phone,
                        peer_origin: PeerOrigin::AnyDepartment,
                    },
                    coordinator_access: CoordinatorAccess::StatusOnly,
                    preferred_name: None,
                    outreach_id: None,
                },
            )
            .await
            .unwrap()
            .request
            .id
        }
    };
    // The oldest request's clock runs out; 230 more come after it, one of them urgent.
    let overdue = ask(0, Urgency::Routine).await;
    requests::clock::sweep(&node.state.db, requests::now() + chrono::Duration::days(3))
        .await
        .unwrap();
    let mut routine = vec![];
    for n in 1..=230 {
        let u = if n == 200 {
            Urgency::Urgent
        } else {
            Urgency::Routine
        };
        let id = ask(n, u).await;
        if u == Urgency::Routine {
            routine.push(id);
        }
    }
    let urgent_id = ask(231, Urgency::Urgent).await;
    let page = |n: u32| {
        let (db, admin) = (node.state.db.clone(), admin.clone());
        async move {
            queue::waiting(
                &db,
                &admin,
                queue::Filter {
                    page: n,
                    ..queue::Filter::default()
                },
            )
            .await
            .unwrap()
        }
    };
    let first = page(0).await;
    assert_eq!(first.requests.len(), queue::PAGE);
    assert!(first.more);
    let ids: Vec<_> = first.requests.iter().map(|r| r.id).collect();
    assert_eq!(ids[0], overdue, "the clock that ran out first is on top");
    assert_eq!(first.requests[1].urgency, Urgency::Urgent);
    assert_eq!(first.requests[2].urgency, Urgency::Urgent);
    assert_eq!(first.requests[2].id, urgent_id, "then who waited longest");
    assert_eq!(
        ids[3..],
        routine[..queue::PAGE - 3],
        "then the longest waiting"
    );
    let last = page(4).await;
    assert_eq!(last.requests.len(), 232 - 4 * queue::PAGE);
    assert!(!last.more);
    assert_eq!(last.requests.last().unwrap().id, *routine.last().unwrap());
}
