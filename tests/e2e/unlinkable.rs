//! After the purge nothing links a person to a case: a whole case (asked, offered, accepted,
//! talked, followed up, closed, read by both) is purged, then every row of every table is read
//! back as text and searched for the request's id beside anything that names the requester or
//! the supporter, and for the two of them beside each other.

use alongside_core::access::Role;
use alongside_tests::{TestNode, gid};
use diesel::prelude::*;
use diesel::sql_types::Text;
use serde_json::json;

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

/// Every row of every table, as one line of text per row, with its table's name in front.
async fn every_row(node: &TestNode) -> Vec<String> {
    node.state
        .db
        .run(|conn| {
            use alongside_core::db::DbConnection;
            let mut out = Vec::new();
            match conn {
                DbConnection::Sqlite(c) => {
                    let tables: Vec<Name> = diesel::sql_query(
                        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
                    )
                    .load(c)?;
                    for t in tables {
                        let columns: Vec<Name> = diesel::sql_query(format!(
                            "SELECT name FROM pragma_table_info('{}')",
                            t.name
                        ))
                        .load(c)?;
                        let joined = columns
                            .iter()
                            .map(|col| format!("coalesce(CAST(\"{}\" AS TEXT), '')", col.name))
                            .collect::<Vec<_>>()
                            .join(" || '|' || ");
                        let rows: Vec<Line> = diesel::sql_query(format!(
                            "SELECT {joined} AS line FROM \"{}\"",
                            t.name
                        ))
                        .load(c)?;
                        out.extend(rows.into_iter().map(|r| format!("{}: {}", t.name, r.line)));
                    }
                }
                DbConnection::Pg(c) => {
                    let tables: Vec<Name> = diesel::sql_query(
                        "SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
                    )
                    .load(c)?;
                    for t in tables {
                        let rows: Vec<Line> = diesel::sql_query(format!(
                            "SELECT CAST(t AS TEXT) AS line FROM \"{}\" t",
                            t.name
                        ))
                        .load(c)?;
                        out.extend(rows.into_iter().map(|r| format!("{}: {}", t.name, r.line)));
                    }
                }
            }
            Ok(out)
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_purge_no_table_links_a_person_to_a_case() {
    let node = TestNode::spawn().await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let nurse = node.user(&[]).await;
    let peer = node.user(&[Role::PeerSupporter]).await;
    let days = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
        .iter()
        .map(|d| format!("{{weekday: {d}, start: \"00:00\", end: \"23:59\"}}"))
        .collect::<Vec<_>>()
        .join(", ");
    let supporter = node
        .gql(
            Some(&coordinator.token),
            &format!("mutation($id: ID!) {{ upsertPeerSupporter(input: {{personId: $id, trainedOn: \"2025-01-01\", timeZone: \"UTC\", caseloadCap: 3, availability: [{days}]}}) {{ id }} }}"),
            json!({ "id": gid("Person", &peer.person_id) }),
        )
        .await["upsertPeerSupporter"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let made = node
        .gql(
            Some(&nurse.token),
            "mutation { requestSupport(input: {urgency: URGENT, preferredName: \"Sam\", coordinatorAccess: FULL}) { request { id state } } }",
            json!({}),
        )
        .await;
    let id = made["requestSupport"]["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(made["requestSupport"]["request"]["state"], "OFFERED");
    node.gql(
        Some(&peer.token),
        "mutation($id: ID!) { respondToOffer(id: $id, accept: true) { state } }",
        json!({ "id": id }),
    )
    .await;
    let today = chrono::Utc::now().date_naive().to_string();
    node.gql(
        Some(&peer.token),
        "mutation($id: ID!, $d: Date!) { recordEncounter(requestId: $id, input: {occurredOn: $d, duration: THIRTY_TO_SIXTY, modality: VIDEO}) { state } }",
        json!({ "id": id, "d": today }),
    )
    .await;
    for who in [&nurse, &peer, &coordinator] {
        node.gql(
            Some(&who.token),
            "query($id: ID!) { supportRequest(id: $id) { state } }",
            json!({ "id": id }),
        )
        .await;
    }
    node.gql(
        Some(&nurse.token),
        "{ mySupportRequests { id } }",
        json!({}),
    )
    .await;
    node.gql(
        Some(&peer.token),
        "mutation($id: ID!) { advanceRequest(id: $id, to: CLOSED) { state } }",
        json!({ "id": id }),
    )
    .await;

    let raw = alongside_tests::raw_id(&id);
    let people = |u: &alongside_tests::TestUser| {
        vec![u.email.clone(), u.account_id.clone(), u.person_id.clone()]
    };
    let mut requester = people(&nurse);
    let staff_id: Option<String> = node
        .gql(
            Some(&coordinator.token),
            "query($id: ID!) { person(id: $id) { staffId } }",
            json!({ "id": gid("Person", &nurse.person_id) }),
        )
        .await["person"]["staffId"]
        .as_str()
        .map(str::to_owned);
    requester.extend(staff_id);
    let mut helper = people(&peer);
    helper.push(alongside_tests::raw_id(&supporter));

    // While the case lives, the chain already names both by the case's pseudonym only, and the
    // case itself by an alias: its true id and each entry's moment are kept beside the chain.
    let rows = every_row(&node).await;
    assert!(
        !rows
            .iter()
            .any(|l| l.starts_with("case_chain: ") && l.contains(&raw)),
        "the chain names the case by its alias only"
    );
    // And entries about the case are not in the chain of sign-ins and account changes, where
    // their places beside entries naming people outright would say who acted on the case when.
    let beside: Vec<&String> = rows
        .iter()
        .filter(|l| l.starts_with("audit_log: ") && l.contains("support_request"))
        .collect();
    assert!(beside.is_empty(), "{beside:#?}");
    let aside = rows
        .iter()
        .filter(|l| l.starts_with("case_audit: ") && l.contains(&raw))
        .count();
    assert!(aside >= 6, "{aside} entries about the case kept aside");
    let audit_lines: Vec<String> = rows
        .into_iter()
        .filter(|l| {
            l.starts_with("case_chain: ") && l.contains("|support_request|")
                || l.starts_with("case_chain: ") && l.contains(",support_request,")
        })
        .collect();
    assert!(audit_lines.len() >= 6, "{audit_lines:#?}");
    for line in &audit_lines {
        assert!(
            requester
                .iter()
                .chain(&helper)
                .all(|v| !line.contains(v.as_str())),
            "an audit entry about the case names a person: {line}"
        );
    }

    // Past the follow-ups (90 days) and retention (90 days): purged.
    let later = alongside_core::time::now() + chrono::Duration::days(181);
    let purged = alongside_core::retention::purge(&node.state.db, later, 90)
        .await
        .unwrap();
    assert_eq!(purged.requests, 1, "{purged:?}");

    let rows = every_row(&node).await;
    assert!(
        rows.iter().any(|l| l.starts_with("case_chain: ")),
        "the chain is read"
    );
    let mut links = Vec::new();
    for line in &rows {
        let names_requester = requester.iter().any(|v| line.contains(v.as_str()));
        let names_helper = helper.iter().any(|v| line.contains(v.as_str()));
        if line.contains(&raw) && (names_requester || names_helper) {
            links.push(format!("case and person: {line}"));
        }
        if names_requester && names_helper {
            links.push(format!("requester and supporter: {line}"));
        }
    }
    assert!(links.is_empty(), "{links:#?}");
    // Nothing holds the case id any more, and entries about cases say only their month: the id
    // (whose first bits are the case's creation time) and the moment are gone with the case.
    let holding: Vec<&String> = rows.iter().filter(|l| l.contains(&raw)).collect();
    assert!(holding.is_empty(), "{holding:#?}");
    let times: Vec<chrono::NaiveDateTime> = node
        .state
        .db
        .run(|conn| {
            use alongside_core::schema::case_chain;
            use diesel::prelude::*;
            Ok(case_chain::table
                .filter(case_chain::record_type.eq("support_request"))
                .select(case_chain::at)
                .load(conn)?)
        })
        .await
        .unwrap();
    assert!(times.len() >= 7, "{times:?}");
    for t in &times {
        use chrono::{Datelike, Timelike};
        assert!(
            t.day() == 1 && t.num_seconds_from_midnight() == 0 && t.nanosecond() == 0,
            "an entry about a case says more than its month: {t}"
        );
    }
    // The chain still verifies after the purge.
    let report = node
        .state
        .db
        .run(alongside_core::audit::verify)
        .await
        .unwrap();
    assert!(report.broken().is_none(), "{report:?}");
}

/// Pseudonyms are made before the chain's lock is taken, so two writers may try to make the
/// same one at once: both writes succeed, each person keeps one pseudonym per case, and the
/// chain stays whole.
#[tokio::test]
async fn writers_acting_at_once_on_one_case_share_its_pseudonyms() {
    use alongside_core::audit;
    let node = TestNode::spawn().await;
    let case = uuid::Uuid::now_v7();
    let writes = (0..16).map(|i| {
        let db = node.state.db.clone();
        // Four people, each acting four times on the same case, all at once.
        let actor = format!("account:{}", uuid::Uuid::from_u128(1 + i % 4));
        tokio::spawn(async move {
            db.transaction(move |conn| audit::append(conn, &actor, "view", "support_request", case))
                .await
        })
    });
    for done in futures_util::future::join_all(writes).await {
        done.unwrap().unwrap();
    }
    let report = node.state.db.run(audit::verify).await.unwrap();
    assert!(report.broken().is_none(), "{report:?}");
    // Four people and the case's own alias.
    assert_eq!(node.count("case_pseudonyms").await, 5);
    assert_eq!(node.count("case_audit").await, 16);
}
