//! Program metrics: aggregates only, with small cells and whatever would reveal them suppressed.

use alongside_core::access::{Role, Scope};
use alongside_tests::{TestNode, error_code};
use serde_json::{Value, json};

#[tokio::test]
async fn metrics_are_aggregates_with_small_cells_suppressed() {
    let node = TestNode::spawn().await;
    let member = node.user(&[]).await;
    let analyst = node.user(&[Role::Analyst]).await;
    for urgency in std::iter::repeat_n("ROUTINE", 12).chain(std::iter::repeat_n("URGENT", 3)) {
        let q = format!(
            "mutation {{ requestSupport(input: {{urgency: {urgency}}}) {{ request {{ id }} }} }}"
        );
        node.gql(Some(&member.token), &q, json!({})).await;
    }
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let q = "query($f: String!, $t: String!) { programMetrics(from: $f, to: $t) }";
    let data = node
        .gql(Some(&analyst.token), q, json!({ "f": month, "t": month }))
        .await;
    let m = &data["programMetrics"];
    assert_eq!(m["k"], 11);
    let table = &m["requests_by_origin_and_urgency"];
    assert_eq!(table["rows"], json!(["self", "outreach", "referral"]));
    // self × urgent = 3 is suppressed, and with it whatever would give it away (here the
    // self × routine cell, the smallest other count in its row).
    assert!(table["cells"][0][1].is_null());
    assert!(table["cells"][0][0].is_null());
    assert_eq!(table["row_totals"][0], 15);
    assert!(table["column_totals"][1].is_null(), "the urgent total is 3");
    let shown: Vec<u64> = table["cells"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().filter_map(Value::as_u64))
        .collect();
    assert!(shown.iter().all(|n| *n == 0 || *n >= 11), "{shown:?}");
    // The test users are nurses: 15 requests by a nurse is shown, every other profession is 0.
    let professions = &m["requests_by_profession"];
    let nurse = professions["columns"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c == "nurse")
        .unwrap();
    assert_eq!(professions["cells"][0][nurse], 15);
    assert_eq!(professions["total"], 15);
    assert_eq!(
        m["requests_by_event_category"]["total"], 0,
        "none followed an event"
    );
    assert_eq!(m["outreach"]["total"], 0);
    assert!(m["contacts_per_person"].is_null(), "nothing to divide");
    assert_eq!(m["follow_ups_due"], 0);
    assert_eq!(m["supporter_hours"], 0);
    assert!(
        m["requests_per_supporter"].is_null(),
        "no supporter was active"
    );
    let text = m.to_string();
    assert!(
        !text.contains(&member.email) && !text.contains(&member.person_id),
        "no identifiers"
    );

    // No one was supported yet: the business case refuses rather than describe a handful.
    let case = "query($f: String!, $t: String!) { businessCase(from: $f, to: $t, leavingRateWithoutSupport: 0.2, retentionEffect: 0.5, replacementCost: 50000, absenceDaysAvoidedPerPerson: 2, costPerAbsenceDay: 400, programCost: 30000) }";
    let (_, body) = node
        .gql_raw(
            Some(&analyst.token),
            case,
            json!({ "f": month, "t": month }),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"));

    // Members see no aggregates; a partner client needs metrics:read.
    let (_, body) = node
        .gql_raw(Some(&member.token), q, json!({ "f": month, "t": month }))
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
    let client = node.client_token(&[Scope::MetricsRead]).await;
    let r = node
        .http
        .get(node.url(&format!(
            "/api/v1/metrics?from={month}&to={month}&format=csv"
        )))
        .bearer_auth(&client)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csv = r.text().await.unwrap();
    assert!(
        csv.starts_with(
            "# requests by origin and urgency\n,routine,urgent,crisis,total\nself,,,0,15\n"
        ),
        "{csv}"
    );
    let r = node
        .http
        .get(node.url(&format!("/api/v1/metrics?from={month}&to={month}")))
        .bearer_auth(&client)
        .send()
        .await
        .unwrap();
    let json: Value = r.json().await.unwrap();
    assert_eq!(json["requests_by_origin_and_urgency"]["row_totals"][0], 15);
    assert!(
        csv.contains("# requests by profession\n") && csv.contains("# satisfied\n"),
        "{csv}"
    );
    assert!(json["survey"].is_array());
    // Filtered to one program (none of these requests belongs to this one).
    let r = node
        .http
        .get(node.url(&format!(
            "/api/v1/metrics?from={month}&to={month}&program=01930000-0000-7000-8000-000000000000"
        )))
        .bearer_auth(&client)
        .send()
        .await
        .unwrap();
    let json: Value = r.json().await.unwrap();
    assert_eq!(json["requests_by_origin_and_urgency"]["total"], 0);
    let other = node.client_token(&[Scope::EventsWrite]).await;
    let r = node
        .http
        .get(node.url(&format!("/api/v1/metrics?from={month}&to={month}")))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = node
        .http
        .get(node.url("/api/v1/metrics?from=2026-13&to=2026-01"))
        .bearer_auth(&client)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

/// An attacker who can edit directory data (a coordinator) moves one person to another
/// profession between two queries, hoping the difference shows how many requests that person
/// made. Requests are counted by the profession their requester had when they asked, so the
/// two answers are the same.
#[tokio::test]
async fn changing_a_profile_does_not_move_the_metrics() {
    let node = TestNode::spawn().await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let ask = "mutation { requestSupport(input: {urgency: ROUTINE}) { request { id } } }";
    for _ in 0..11 {
        let nurse = node.user(&[]).await;
        node.gql(Some(&nurse.token), ask, json!({})).await;
    }
    let target = node.user(&[]).await;
    for _ in 0..2 {
        node.gql(Some(&target.token), ask, json!({})).await;
    }
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let q = "query($f: String!, $t: String!) { programMetrics(from: $f, to: $t) }";
    let vars = json!({ "f": month, "t": month });
    let before = node.gql(Some(&coordinator.token), q, vars.clone()).await;
    assert_eq!(
        before["programMetrics"]["requests_by_profession"]["total"],
        13
    );

    use base64::Engine;
    let id = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("Person:{}", target.person_id));
    let moved = node
        .gql(
            Some(&coordinator.token),
            "mutation($id: ID!) { updatePerson(id: $id, input: {profession: PHARMACIST}) { profession } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(moved["updatePerson"]["profession"], "PHARMACIST");
    let after = node.gql(Some(&coordinator.token), q, vars).await;
    assert_eq!(
        before["programMetrics"]["requests_by_profession"],
        after["programMetrics"]["requests_by_profession"],
        "the table must not move when a profile does"
    );
    // And a request made after the change counts under the new profession.
    node.gql(Some(&target.token), ask, json!({})).await;
    let later = node
        .gql(
            Some(&coordinator.token),
            q,
            json!({ "f": month, "t": month }),
        )
        .await;
    let table = &later["programMetrics"]["requests_by_profession"];
    let column = |name: &str| {
        table["columns"]
            .as_array()
            .unwrap()
            .iter()
            .position(|c| c == name)
            .unwrap()
    };
    assert_eq!(table["total"], 14);
    assert!(
        table["cells"][0][column("pharmacist")].is_null(),
        "one pharmacist's request is suppressed (and the nurses' 13 with it, or the total would \
         give it away)"
    );
}
