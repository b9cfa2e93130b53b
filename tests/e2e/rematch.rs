//! No request is forgotten: a request made when nobody can take it is offered by the first sweep
//! after someone can (their hours begin), or at once when a supporter resumes.

use alongside_core::access::Role;
use alongside_tests::{TestNode, gid};
use chrono::{Datelike, Timelike, Utc};
use serde_json::json;

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

/// A fixed-offset zone (`Etc/GMT…`, whose sign is reversed by convention) in which it is now
/// 03:xx, and how many minutes past 03:00 it is there.
fn zone_where_it_is_three_in_the_morning() -> (String, i64) {
    let now = Utc::now();
    let mut offset = (3 - i64::from(now.hour())).rem_euclid(24);
    if offset > 11 {
        offset -= 24;
    }
    let zone = match offset {
        0 => "Etc/GMT".to_owned(),
        o if o > 0 => format!("Etc/GMT-{o}"),
        o => format!("Etc/GMT+{}", -o),
    };
    (zone, i64::from(now.minute()))
}

/// The night shift's worst moment: a nurse asks at 03:00 (in the supporter's zone), nobody is free
/// until the only trained peer's hours begin at 07:00. Sweeps leave the request waiting and offer
/// nothing; the first sweep once 07:00 is within the hour (what a crisis needs) offers it, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crisis_at_three_in_the_morning_is_offered_when_the_first_window_opens() {
    let node = TestNode::spawn().await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let nurse = node.user(&[]).await;
    let peer = node.user(&[Role::PeerSupporter]).await;
    let (zone, past_three) = zone_where_it_is_three_in_the_morning();
    let local_day = {
        use chrono::TimeZone;
        let tz: chrono_tz::Tz = zone.parse().unwrap();
        tz.from_utc_datetime(&Utc::now().naive_utc()).weekday()
    };
    let day = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
        [local_day.num_days_from_monday() as usize];
    let upsert = format!(
        "mutation($id: ID!) {{ upsertPeerSupporter(input: {{personId: $id, trainedOn: \"2025-01-01\", timeZone: \"{zone}\", caseloadCap: 2, availability: [{{weekday: {day}, start: \"07:00\", end: \"09:00\"}}]}}) {{ id }} }}"
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

    // 03:xx, 04:xx and 05:50 there: nobody can take it, it waits, nothing is offered.
    let minutes_until = |h: i64, m: i64| (h - 3) * 60 + m - past_three;
    assert_eq!(node.sweep_in(0).await.reoffered, 0);
    assert_eq!(node.sweep_in(minutes_until(4, 30)).await.reoffered, 0);
    assert_eq!(node.sweep_in(minutes_until(5, 50)).await.reoffered, 0);
    assert_eq!(state(&node, &nurse.token, &id).await, "OPEN");
    // 06:10 there: the window opens within the hour, and the first sweep offers it.
    let report = node.sweep_in(minutes_until(6, 10)).await;
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
    assert_eq!(node.sweep_in(minutes_until(6, 11)).await.reoffered, 0);
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
