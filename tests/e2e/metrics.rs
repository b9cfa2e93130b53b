//! Program metrics: aggregates only, with small cells and whatever would reveal them suppressed.

use alongside_core::access::{Role, Scope};
use alongside_core::db::Id;
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

/// An analyst queries every range and program view the API allows over two months and two
/// programs and subtracts each view from every larger one. Wherever the difference is itself a
/// view with a suppressed cell, one of the two views must hide that cell too.
#[tokio::test]
async fn no_range_or_program_view_can_be_subtracted_to_reveal_a_suppressed_cell() {
    use chrono::Datelike;
    use diesel::prelude::*;
    let node = TestNode::spawn().await;
    let analyst = node.user(&[Role::Analyst]).await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let member = node.user(&[]).await;
    let program = |name: &str| {
        format!(
            "mutation {{ createProgram(input: {{name: \"{name}\", kind: EAP, tier: 3, hours: \"9-5\", contact: \"desk\"}}) {{ id }} }}"
        )
    };
    let mut programs = Vec::new();
    for name in ["Counselling", "Chaplaincy"] {
        let made = node
            .gql(Some(&coordinator.token), &program(name), json!({}))
            .await;
        programs.push(made["createProgram"]["id"].as_str().unwrap().to_owned());
    }
    // Last month: 12 urgent and 12 routine in the first program. This month: 3 urgent and 12
    // routine in the first, 12 routine in the second. Before, last month..this month showed 15
    // urgent beside last month's 12: this month's 3, by subtraction.
    let now = chrono::Utc::now().naive_utc();
    let last_month = now
        .date()
        .with_day(1)
        .unwrap()
        .checked_sub_months(chrono::Months::new(1))
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap();
    let plan: [(&str, usize, usize, Option<chrono::NaiveDateTime>); 4] = [
        ("URGENT", 12, 0, Some(last_month)),
        ("ROUTINE", 12, 0, Some(last_month)),
        ("URGENT", 3, 0, None),
        ("ROUTINE", 12, 0, None),
    ];
    let mut plan: Vec<_> = plan.to_vec();
    plan.push(("ROUTINE", 12, 1, None));
    for (urgency, n, program, when) in plan {
        for _ in 0..n {
            let made = node
                .gql(
                    Some(&member.token),
                    &format!("mutation {{ requestSupport(input: {{urgency: {urgency}}}) {{ request {{ id }} }} }}"),
                    json!({}),
                )
                .await;
            let id = Id(alongside_tests::raw_id(
                made["requestSupport"]["request"]["id"].as_str().unwrap(),
            )
            .parse()
            .unwrap());
            let program_id = Id(alongside_tests::raw_id(&programs[program]).parse().unwrap());
            node.state
                .db
                .run(move |conn| {
                    use alongside_core::schema::support_requests as sr;
                    let row = sr::table.filter(sr::id.eq(id));
                    diesel::update(row)
                        .set(sr::program_id.eq(Some(program_id)))
                        .execute(conn)?;
                    if let Some(at) = when {
                        diesel::update(row)
                            .set(sr::created_at.eq(at))
                            .execute(conn)?;
                    }
                    Ok(())
                })
                .await
                .unwrap();
        }
    }
    let (last, this) = (
        last_month.format("%Y-%m").to_string(),
        now.format("%Y-%m").to_string(),
    );
    let q = "query($f: String!, $t: String!, $p: ID) { programMetrics(from: $f, to: $t, programId: $p) }";
    // Views by (months, programs) they cover; None is every program.
    let mut views = std::collections::BTreeMap::new();
    for (months, from, to) in [
        (vec![&last], &last, &last),
        (vec![&this], &this, &this),
        (vec![&last, &this], &last, &this),
    ] {
        for p in [None, Some(0), Some(1)] {
            let data = node
                .gql(
                    Some(&analyst.token),
                    q,
                    json!({ "f": from, "t": to, "p": p.map(|i: usize| programs[i].clone()) }),
                )
                .await;
            let table = data["programMetrics"]["requests_by_origin_and_urgency"].clone();
            let key: Vec<String> = months.iter().map(|m| m.to_string()).collect();
            views.insert((key, p), table);
        }
    }
    let cells = |t: &Value| -> Vec<Value> {
        let mut all: Vec<Value> = t["cells"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r.as_array().unwrap().clone())
            .collect();
        all.extend(t["row_totals"].as_array().unwrap().iter().cloned());
        all.extend(t["column_totals"].as_array().unwrap().iter().cloned());
        all.push(t["total"].clone());
        all
    };
    // Pairs (bigger, smaller) whose difference is a view of its own.
    let months_of = |k: &(Vec<String>, Option<usize>)| k.0.clone();
    let mut checked = 0;
    for (big_key, big) in &views {
        for (small_key, small) in &views {
            let diff_months: Vec<String> = months_of(big_key)
                .into_iter()
                .filter(|m| !small_key.0.contains(m))
                .collect();
            let same_program = big_key.1 == small_key.1;
            let (diff_key, ok) = if same_program
                && !diff_months.is_empty()
                && small_key.0.iter().all(|m| big_key.0.contains(m))
            {
                ((diff_months, big_key.1), true)
            } else if big_key.0 == small_key.0 && big_key.1.is_none() && small_key.1.is_some() {
                // Every program minus one: the other program.
                ((big_key.0.clone(), Some(1 - small_key.1.unwrap())), true)
            } else {
                ((vec![], None), false)
            };
            if !ok {
                continue;
            }
            let Some(diff) = views.get(&diff_key) else {
                continue;
            };
            for ((b, s), d) in cells(big).iter().zip(cells(small)).zip(cells(diff)) {
                checked += 1;
                if d.is_null() {
                    assert!(
                        b.is_null() || s.is_null(),
                        "{big_key:?} minus {small_key:?} reveals a cell {diff_key:?} hides: {b} - {s}"
                    );
                } else if let (Some(b), Some(s)) = (b.as_u64(), s.as_u64()) {
                    assert_eq!(b - s, d.as_u64().unwrap(), "published figures are true");
                }
            }
        }
    }
    assert!(checked > 100, "{checked} cells compared");
    // The month with 3 urgent requests hides them, and so does every view containing it.
    let both = &views[&(vec![last.clone(), this.clone()], None)];
    assert!(both["column_totals"][1].is_null(), "{both}");
    assert_eq!(views[&(vec![last.clone()], None)]["column_totals"][1], 12);
}

/// The escalation rate per month: requests supported (a contact recorded) beside those passed
/// to a tier-3 program, suppressed like every table (k = 2 here).
#[tokio::test]
async fn escalations_by_month_give_the_escalation_rate() {
    let node = TestNode::spawn_with(|c| c.metrics.suppression_k = 2.try_into().unwrap()).await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let analyst = node.user(&[Role::Analyst]).await;
    let peer = node.user(&[Role::PeerSupporter]).await;
    let upsert = format!(
        "mutation($id: ID!) {{ upsertPeerSupporter(input: {{personId: $id, trainedOn: \"2025-01-01\", timeZone: \"UTC\", caseloadCap: 5, availability: {}}}) {{ id }} }}",
        alongside_tests::ALWAYS
    );
    node.gql(
        Some(&coordinator.token),
        &upsert,
        json!({ "id": alongside_tests::gid("Person", &peer.person_id) }),
    )
    .await;
    let eap = node.gql(Some(&coordinator.token), "mutation { createProgram(input: {name: \"EAP\", kind: EAP, tier: 3, hours: \"24/7\", contact: \"x2\", privileged: true}) { id } }", json!({})).await["createProgram"]["id"].clone();
    let today = chrono::Utc::now().date_naive().to_string();
    for n in 0..3 {
        let requester = node.user(&[]).await;
        let id = node
            .gql(
                Some(&requester.token),
                "mutation { requestSupport(input: {}) { request { id } } }",
                json!({}),
            )
            .await["requestSupport"]["request"]["id"]
            .clone();
        node.gql(
            Some(&peer.token),
            "mutation($id: ID!) { respondToOffer(id: $id, accept: true) { state } }",
            json!({ "id": id }),
        )
        .await;
        node.gql(Some(&peer.token), "mutation($id: ID!, $d: Date!) { recordEncounter(requestId: $id, input: {occurredOn: $d, duration: UNDER_FIFTEEN, modality: PHONE}) { state } }", json!({ "id": id, "d": today })).await;
        if n < 2 {
            node.gql(
                Some(&peer.token),
                "mutation($id: ID!, $p: ID!) { escalateRequest(id: $id, programId: $p) { state } }",
                json!({ "id": id, "p": eap }),
            )
            .await;
        }
    }
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let data = node
        .gql(
            Some(&analyst.token),
            "query($f: String!, $t: String!) { programMetrics(from: $f, to: $t) }",
            json!({ "f": month, "t": month }),
        )
        .await;
    let t = &data["programMetrics"]["escalations_by_month"];
    assert_eq!(t["rows"], json!([month]), "{t}");
    assert_eq!(t["columns"], json!(["supported", "escalated"]), "{t}");
    assert_eq!(t["cells"], json!([[3, 2]]), "{t}");
}
