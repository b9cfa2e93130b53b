//! Anonymous surveys: a single-use token per closed case, answers never linked to anyone,
//! results only as suppressed aggregates.

use alongside_core::access::Role;
use alongside_tests::{ALWAYS, PASSWORD, TestNode, error_code, gid};
use serde_json::{Value, json};

async fn outbox_survey_tokens(node: &TestNode) -> Vec<String> {
    let db = node.state.db.clone();
    tokio::task::spawn_blocking(move || {
        use alongside_core::schema::outbox::dsl::*;
        use diesel::prelude::*;
        let mut conn = db.get().unwrap();
        let payloads: Vec<String> = outbox
            .filter(topic.eq("survey"))
            .select(payload)
            .load(&mut **conn)
            .unwrap();
        payloads
            .iter()
            .filter_map(|p| {
                serde_json::from_str::<Value>(p).ok()?["token"]
                    .as_str()
                    .map(str::to_owned)
            })
            .collect()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_a_case_sends_an_anonymous_single_use_survey() {
    let node = TestNode::spawn_with(|c| c.metrics.suppression_k = 2.try_into().unwrap()).await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let analyst = node.user(&[Role::Analyst]).await;
    let peer = node.user(&[Role::PeerSupporter]).await;
    let upsert = format!(
        "mutation($id: ID!) {{ upsertPeerSupporter(input: {{personId: $id, trainedOn: \"2025-01-01\", timeZone: \"UTC\", caseloadCap: 5, availability: {ALWAYS}}}) {{ id }} }}"
    );
    node.gql(
        Some(&coordinator.token),
        &upsert,
        json!({ "id": gid("Person", &peer.person_id) }),
    )
    .await;
    let today = chrono::Utc::now().date_naive().to_string();
    for _ in 0..2 {
        let requester = node.user(&[]).await;
        let created = node
            .gql(
                Some(&requester.token),
                "mutation { requestSupport(input: {}) { request { id } } }",
                json!({}),
            )
            .await;
        let id = created["requestSupport"]["request"]["id"].clone();
        node.gql(
            Some(&peer.token),
            "mutation($id: ID!) { respondToOffer(id: $id, accept: true) { state } }",
            json!({ "id": id }),
        )
        .await;
        node.gql(Some(&peer.token), "mutation($id: ID!, $d: Date!) { recordEncounter(requestId: $id, input: {occurredOn: $d, duration: UNDER_FIFTEEN, modality: PHONE}) { state } }", json!({ "id": id, "d": today })).await;
        node.gql(
            Some(&peer.token),
            "mutation($id: ID!) { advanceRequest(id: $id, to: CLOSED) { state } }",
            json!({ "id": id }),
        )
        .await;
    }
    let tokens = outbox_survey_tokens(&node).await;
    assert_eq!(tokens.len(), 2);

    let submit = "mutation($t: String!, $a: JSON!) { submitSurvey(token: $t, answers: $a) }";
    let (_, body) = node
        .gql_raw(
            None,
            submit,
            json!({ "t": tokens[0], "a": { "satisfied": "9" } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    assert_eq!(body["errors"][0]["extensions"]["field"], "satisfied");
    let (_, body) = node
        .gql_raw(
            None,
            submit,
            json!({ "t": tokens[0], "a": { "favourite_colour": "blue" } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    for token in &tokens {
        let data = node
            .gql(
                None,
                submit,
                json!({ "t": token, "a": { "satisfied": "5", "heard": "yes", "stress": "lower" } }),
            )
            .await;
        assert_eq!(data["submitSurvey"], true);
    }
    let (_, body) = node
        .gql_raw(
            None,
            submit,
            json!({ "t": tokens[0], "a": { "heard": "no" } }),
        )
        .await;
    assert_eq!(
        error_code(&body),
        Some("UNAUTHENTICATED"),
        "a survey link works once"
    );

    // Results are aggregates; k = 2 here, so two identical answers show and single ones would not.
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let q = "query($f: String!, $t: String!) { surveyResults(from: $f, to: $t) }";
    let data = node
        .gql(Some(&analyst.token), q, json!({ "f": month, "t": month }))
        .await;
    let satisfied = &data["surveyResults"][0];
    assert_eq!(satisfied["id"], "satisfied");
    assert_eq!(satisfied["answers"]["cells"][0][4], 2);
    assert_eq!(satisfied["answers"]["total"], 2);
    let (_, body) = node
        .gql_raw(Some(&peer.token), q, json!({ "f": month, "t": month }))
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));

    // Nothing links an answer to a person: a used token keeps only that it was used (so its page
    // can say "already answered") and names no case or answer; once the emails are sent the
    // outbox keeps no copy of the tokens.
    let db = node.state.db.clone();
    let unused = tokio::task::spawn_blocking(move || {
        use alongside_core::schema::survey_tokens::dsl::*;
        use diesel::prelude::*;
        let mut conn = db.get().unwrap();
        survey_tokens
            .filter(used.eq(false))
            .count()
            .get_result::<i64>(&mut **conn)
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(unused, 0);
    assert_eq!(node.count("survey_responses").await, 2);
    node.start_worker();
    node.wait_for("the survey emails to be sent", || async {
        outbox_survey_tokens(&node).await.is_empty()
    })
    .await;
    // The business case uses the measured count (2 people supported, at k = 2 here).
    let case = "query($f: String!, $t: String!) { businessCase(from: $f, to: $t, leavingRateWithoutSupport: 0.5, retentionEffect: 0.5, replacementCost: 10000, absenceDaysAvoidedPerPerson: 1, costPerAbsenceDay: 100, programCost: 1000) }";
    let data = node
        .gql(
            Some(&analyst.token),
            case,
            json!({ "f": month, "t": month }),
        )
        .await;
    let report = &data["businessCase"];
    assert_eq!(report["lines"][0]["value"], 2.0);
    // 2 × 0.5 × 0.5 = 0.5 kept × 10,000 = 5,000; 2 × 1 × 100 = 200; − 1,000.
    assert_eq!(report["net_benefit"], 4200.0);
    // The console's business-case page shows the same figures, each line with how it was
    // computed and each input with the source the analyst gave.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    node.create_account("counts@hospital.test", &[Role::Analyst])
        .await;
    let signed = http
        .post(node.url("/sign-in"))
        .header("origin", &node.base)
        .form(&[("email", "counts@hospital.test"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookie = signed.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = http
        .get(node.url(&format!(
            "/console/business-case?from={month}&to={month}&leaving_rate=0.5&retention_effect=0.5&replacement_cost=10000&replacement_cost_source=HR+turnover+report+2025&absence_days=1&absence_day_cost=100&program_cost=1000&print=yes"
        )))
        .header("cookie", &cookie)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("<strong>4,200</strong>"), "{page}");
    assert!(
        page.contains("2 people × leaving rate 0.50 × share kept 0.50"),
        "{page}"
    );
    assert!(page.contains("HR turnover report 2025"), "{page}");
    // The printable page has no menu and no form.
    assert!(!page.contains("console-nav"), "{page}");
    assert!(!page.contains("<form method=\"get\""), "{page}");
    let questions = node.gql(None, "{ surveyQuestions }", json!({})).await;
    assert_eq!(questions["surveyQuestions"].as_array().unwrap().len(), 4);
}
