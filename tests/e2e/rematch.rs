//! No request is forgotten: a request made when nobody can take it is offered by the first sweep
//! after someone can (their hours begin), or at once when a supporter resumes.

use alongside_core::access::Role;
use alongside_tests::{TestNode, gid};
use chrono::{Datelike, Duration, Timelike, Utc};
use serde_json::json;

/// A weekly window of one hour starting `from_now` from now (UTC), in GraphQL's shape.
fn window_in(from_now: Duration) -> String {
    let start = Utc::now() + from_now;
    let end = start + Duration::hours(1);
    let day = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
        [start.weekday().num_days_from_monday() as usize];
    format!(
        "[{{weekday: {day}, start: \"{:02}:{:02}\", end: \"{:02}:{:02}\"}}]",
        start.hour(),
        start.minute(),
        end.hour(),
        end.minute()
    )
}

async fn state(node: &TestNode, token: &str, id: &str) -> String {
    node.gql(
        Some(token),
        "query($id: ID!) { supportRequest(id: $id) { state } }",
        json!({ "id": id }),
    )
    .await["supportRequest"]["state"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crisis_at_night_is_offered_when_the_first_window_opens() {
    let node = TestNode::spawn().await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let nurse = node.user(&[]).await;
    let peer = node.user(&[Role::PeerSupporter]).await;
    // Free only in three hours' time: a crisis (which needs someone within the hour) waits.
    let upsert = format!(
        "mutation($id: ID!) {{ upsertPeerSupporter(input: {{personId: $id, trainedOn: \"2025-01-01\", timeZone: \"UTC\", caseloadCap: 2, availability: {}}}) {{ id }} }}",
        window_in(Duration::hours(3))
    );
    node.gql(
        Some(&coordinator.token),
        &upsert,
        json!({ "id": gid("Person", &peer.person_id) }),
    )
    .await;
    let created = node
        .gql(
            Some(&nurse.token),
            "mutation { requestSupport(input: {urgency: CRISIS}) { request { id state } } }",
            json!({}),
        )
        .await;
    let id = created["requestSupport"]["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(created["requestSupport"]["request"]["state"], "OPEN");

    // Sweeps while nobody can take it leave it waiting, and offer nothing.
    assert_eq!(node.sweep_in(0).await.reoffered, 0);
    assert_eq!(node.sweep_in(60).await.reoffered, 0);
    assert_eq!(state(&node, &nurse.token, &id).await, "OPEN");
    // The first sweep once the window is within the hour offers it.
    let report = node.sweep_in(125).await;
    assert_eq!(report.reoffered, 1);
    assert_eq!(state(&node, &nurse.token, &id).await, "OFFERED");
    let offered = node
        .gql(
            Some(&peer.token),
            "{ supportingRequests { id state } }",
            json!({}),
        )
        .await;
    assert_eq!(offered["supportingRequests"][0]["id"], id.as_str());
    // A second sweep makes no second offer.
    assert_eq!(node.sweep_in(126).await.reoffered, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supporter_resuming_is_offered_a_waiting_request_at_once() {
    let node = TestNode::spawn().await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let nurse = node.user(&[]).await;
    let peer = node.user(&[Role::PeerSupporter]).await;
    let upsert = format!(
        "mutation($id: ID!) {{ upsertPeerSupporter(input: {{personId: $id, trainedOn: \"2025-01-01\", timeZone: \"UTC\", caseloadCap: 2, active: false, availability: {}}}) {{ id }} }}",
        alongside_tests::ALWAYS
    );
    node.gql(
        Some(&coordinator.token),
        &upsert,
        json!({ "id": gid("Person", &peer.person_id) }),
    )
    .await;
    let created = node
        .gql(
            Some(&nurse.token),
            "mutation { requestSupport(input: {urgency: URGENT}) { request { id state } } }",
            json!({}),
        )
        .await;
    let id = created["requestSupport"]["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(created["requestSupport"]["request"]["state"], "OPEN");
    // No sweep: the resumption itself offers it.
    node.gql(
        Some(&peer.token),
        "mutation { updateMySupporterProfile(input: {active: true}) { active } }",
        json!({}),
    )
    .await;
    assert_eq!(state(&node, &nurse.token, &id).await, "OFFERED");
}
