//! The support lifecycle through the real API: events, outreach, requests, offers, encounters,
//! follow-ups, clocks, escalation, visibility, retention and the audit chain.

use alongside_core::access::{Role, Scope};
use alongside_tests::{ALWAYS, TestNode, TestUser, error_code, gid};
use serde_json::{Value, json};

struct Program {
    node: TestNode,
    coordinator: TestUser,
    eap: String,
}

/// A node with a peer support program (follow-ups at 1, 7 and 30 days) and a tier-3 EAP.
async fn program() -> Program {
    let node = TestNode::spawn().await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let t = Some(coordinator.token.as_str());
    node.gql(t, "mutation { createProgram(input: {name: \"Peer support\", kind: PEER_SUPPORT, tier: 2, hours: \"24/7\", contact: \"x1\", followUpDays: [1, 7, 30]}) { id } }", json!({})).await;
    let eap = node.gql(t, "mutation { createProgram(input: {name: \"EAP\", kind: EAP, tier: 3, hours: \"24/7\", contact: \"x2\", privileged: true}) { id } }", json!({})).await["createProgram"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Program {
        node,
        coordinator,
        eap,
    }
}

impl Program {
    fn t(&self) -> Option<&str> {
        Some(&self.coordinator.token)
    }

    /// A staff member with a profile; `supporter` also gives them a current peer supporter profile.
    async fn staff(&self, profession: &str, department: &str, supporter: bool) -> TestUser {
        let user = self
            .node
            .user(if supporter {
                &[Role::PeerSupporter]
            } else {
                &[]
            })
            .await;
        let q = "mutation($id: ID!, $p: Profession!, $d: String!) { updatePerson(id: $id, input: {profession: $p, department: $d, specialty: $d, staffId: null}) { id } }";
        self.node
            .gql(
                self.t(),
                q,
                json!({ "id": gid("Person", &user.person_id), "p": profession, "d": department }),
            )
            .await;
        if supporter {
            let q = format!(
                "mutation($id: ID!) {{ upsertPeerSupporter(input: {{personId: $id, trainedOn: \"2025-01-01\", timeZone: \"UTC\", caseloadCap: 3, availability: {ALWAYS}}}) {{ id }} }}"
            );
            self.node
                .gql(
                    self.t(),
                    &q,
                    json!({ "id": gid("Person", &user.person_id) }),
                )
                .await;
        }
        user
    }

    async fn event(&self, involved: &[(&TestUser, &str)]) -> String {
        let involved: Vec<Value> = involved
            .iter()
            .map(|(u, role)| json!({ "email": u.email, "role": role }))
            .collect();
        let q = "mutation($i: [InvolvedPersonInput!]!) { createEvent(input: {category: HARM_EVENT, month: \"2026-10\", department: \"ICU\", severityBand: MODERATE, involved: $i}) { id } }";
        self.node.gql(self.t(), q, json!({ "i": involved })).await["createEvent"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

const REQUEST_FIELDS: &str = "id state origin urgency preferredName requesterProfession contactEmail eventCategory supporterName ackBreached contactBreached firstContactAt requester { email } preferences { modality peerProfession }";

async fn ask(node: &TestNode, who: &TestUser, input: &str) -> Value {
    let q = format!(
        "mutation {{ requestSupport(input: {input}) {{ crisisResources request {{ {REQUEST_FIELDS} }} }} }}"
    );
    node.gql(Some(&who.token), &q, json!({})).await["requestSupport"].clone()
}

async fn state_of(node: &TestNode, who: &TestUser, id: &str) -> String {
    let q = "query($id: ID!) { supportRequest(id: $id) { state } }";
    node.gql(Some(&who.token), q, json!({ "id": id })).await["supportRequest"]["state"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn outreach_to_closed_case_with_follow_ups_that_continue() {
    let p = program().await;
    let node = &p.node;
    let nurse = p.staff("NURSE", "ICU", false).await;
    let housekeeper = p.staff("SUPPORT_STAFF", "ICU", false).await;
    let peer = p.staff("NURSE", "Emergency", true).await;
    let involved_peer = p.staff("NURSE", "ICU", true).await;
    let event = p
        .event(&[
            (&nurse, "DISCLOSURE"),
            (&housekeeper, "PERIPHERAL"),
            (&involved_peer, "TEAM"),
        ])
        .await;

    // Everyone involved gets outreach, peripheral staff included; disclosure makes it urgent.
    let data = node.gql(p.t(), "query($id: ID!) { event(id: $id) { involvements { role person { email } } outreach { urgent state person { email } } } }", json!({ "id": event })).await;
    let outreach = data["event"]["outreach"].as_array().unwrap();
    assert_eq!(outreach.len(), 3);
    let urgent: Vec<bool> = outreach
        .iter()
        .map(|o| o["urgent"].as_bool().unwrap())
        .collect();
    assert_eq!(urgent, vec![true, false, false]);

    // The nurse accepts from her own outreach list.
    let mine = node
        .gql(
            Some(&nurse.token),
            "{ myOutreach { id urgent state } }",
            json!({}),
        )
        .await;
    let outreach_id = mine["myOutreach"][0]["id"].as_str().unwrap().to_owned();
    let created = ask(node, &nurse, &format!("{{outreachId: \"{outreach_id}\", urgency: URGENT, preferredName: \"Sam\", modality: VIDEO, coordinatorAccess: FULL}}")).await;
    let request = &created["request"];
    assert_eq!(request["origin"], "OUTREACH");
    assert_eq!(request["eventCategory"], "HARM_EVENT");
    assert!(created["crisisResources"].is_null());
    // Offered at once to the one eligible supporter: never to someone involved in the event.
    assert_eq!(request["state"], "OFFERED");
    let id = request["id"].as_str().unwrap().to_owned();
    let theirs = node
        .gql(
            Some(&involved_peer.token),
            "{ supportingRequests { id } }",
            json!({}),
        )
        .await;
    assert_eq!(theirs["supportingRequests"], json!([]));
    let offered = node
        .gql(
            Some(&peer.token),
            &format!("{{ supportingRequests {{ {REQUEST_FIELDS} }} }}"),
            json!({}),
        )
        .await;
    let seen = &offered["supportingRequests"][0];
    assert_eq!(seen["preferredName"], "Sam");
    assert_eq!(seen["requesterProfession"], "NURSE");
    assert_eq!(seen["preferences"]["modality"], "VIDEO");
    assert!(
        seen["contactEmail"].is_null(),
        "no contact details before accepting"
    );
    assert!(seen["requester"].is_null());

    let accept = format!(
        "mutation($id: ID!) {{ respondToOffer(id: $id, accept: true) {{ {REQUEST_FIELDS} }} }}"
    );
    let accepted = node
        .gql(Some(&peer.token), &accept, json!({ "id": id }))
        .await;
    assert_eq!(accepted["respondToOffer"]["state"], "ACCEPTED");
    assert_eq!(accepted["respondToOffer"]["contactEmail"], nurse.email);
    let outreach_after = node
        .gql(Some(&nurse.token), "{ myOutreach { state } }", json!({}))
        .await;
    assert_eq!(outreach_after["myOutreach"][0]["state"], "ACCEPTED");

    let today = chrono::Utc::now().date_naive().to_string();
    let encounter = "mutation($id: ID!, $d: Date!) { recordEncounter(requestId: $id, input: {occurredOn: $d, duration: THIRTY_TO_SIXTY, modality: VIDEO}) { state firstContactAt } }";
    let transitions = node.count("request_transitions").await;
    let data = node
        .gql(
            Some(&peer.token),
            encounter,
            json!({ "id": id, "d": today }),
        )
        .await;
    assert_eq!(data["recordEncounter"]["state"], "IN_CONTACT");
    assert!(data["recordEncounter"]["firstContactAt"].is_string());
    assert_eq!(node.count("follow_ups").await, 3);
    // The move to in contact is in the request's history, written with the encounter.
    assert_eq!(node.count("request_transitions").await, transitions + 1);
    assert_eq!(node.caseloads_kept().await.values().sum::<i64>(), 1);

    // Each list shows the request as its reader may: the supporter's name and the event's kind
    // come with the list's rows, and only to those who see them.
    let peer_name = peer.email.split('@').next().unwrap();
    let first_contact = data["recordEncounter"]["firstContactAt"].clone();
    let lists = [
        (
            &nurse,
            "mySupportRequests",
            json!(peer_name),
            json!("HARM_EVENT"),
        ),
        (
            &peer,
            "supportingRequests",
            Value::Null,
            json!("HARM_EVENT"),
        ),
        (
            &p.coordinator,
            "supportQueue",
            json!(peer_name),
            json!("HARM_EVENT"),
        ),
    ];
    for (reader, list, supporter_name, category) in lists {
        let q = format!("{{ {list} {{ id state supporterName eventCategory firstContactAt }} }}");
        let data = node.gql(Some(&reader.token), &q, json!({})).await;
        let row = &data[list][0];
        assert_eq!(row["id"], id.as_str(), "{list}");
        assert_eq!(row["state"], "IN_CONTACT", "{list}");
        assert_eq!(row["supporterName"], supporter_name, "{list}");
        assert_eq!(row["eventCategory"], category, "{list}");
        // What the encounter answered, without reading it back, is what was stored.
        assert_eq!(row["firstContactAt"], first_contact, "{list}");
    }

    node.gql(
        Some(&peer.token),
        "mutation($id: ID!) { advanceRequest(id: $id, to: FOLLOW_UP) { state } }",
        json!({ "id": id }),
    )
    .await;
    let closed = node
        .gql(
            Some(&peer.token),
            "mutation($id: ID!) { advanceRequest(id: $id, to: CLOSED) { state closedAt } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(closed["advanceRequest"]["state"], "CLOSED");
    // A closed case no longer counts against the supporter's caseload.
    assert!(node.caseloads_kept().await.is_empty());

    // Follow-ups continue after closing: the 1- and 7-day ones are due within 8 days.
    let due = node
        .gql(
            Some(&peer.token),
            "{ dueFollowUps(withinDays: 8) { id dueAt preferredName state } }",
            json!({}),
        )
        .await;
    let due = due["dueFollowUps"].as_array().unwrap();
    assert_eq!(due.len(), 2);
    assert_eq!(due[0]["preferredName"], "Sam");
    let done = node
        .gql(Some(&peer.token), "mutation($id: ID!) { completeFollowUp(id: $id, outcome: DOING_WELL) { state outcome } }", json!({ "id": due[0]["id"] }))
        .await;
    assert_eq!(done["completeFollowUp"]["state"], "COMPLETED");
    let (_, body) = node
        .gql_raw(
            Some(&peer.token),
            "mutation($id: ID!) { completeFollowUp(id: $id) { state } }",
            json!({ "id": due[0]["id"] }),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"));
    // Nobody else completes someone's follow-up.
    let (_, body) = node
        .gql_raw(
            Some(&involved_peer.token),
            "mutation($id: ID!) { completeFollowUp(id: $id) { state } }",
            json!({ "id": due[1]["id"] }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));

    // Every read and write of the request went to the audit log, and the chain holds.
    let mut conn = node.state.db.get().unwrap();
    let report = alongside_core::audit::verify(&mut conn).unwrap();
    assert!(report.case.entries >= 8, "{report:?}");
    assert_eq!(report.broken(), None);
}

#[tokio::test]
async fn crisis_requests_show_resources_at_once_and_alert_on_call() {
    let p = program().await;
    let member = p.staff("PHARMACIST", "Pharmacy", false).await;
    let created = ask(&p.node, &member, "{urgency: CRISIS}").await;
    assert!(created["crisisResources"].as_str().unwrap().contains("988"));
    // No supporter exists: the request still answers at once, and stays open.
    assert_eq!(created["request"]["state"], "OPEN");
    assert_eq!(p.node.count("alerts").await, 1);
}

#[tokio::test]
async fn declines_and_lapsed_offers_move_to_the_next_supporter() {
    let p = program().await;
    let node = &p.node;
    let requester = p.staff("PHYSICIAN", "Surgery", false).await;
    let first = p.staff("PHYSICIAN", "Oncology", true).await;
    let second = p.staff("NURSE", "Oncology", true).await;
    let created = ask(node, &requester, "{urgency: ROUTINE}").await;
    let id = created["request"]["id"].as_str().unwrap().to_owned();
    // Same profession ranks first.
    let (_, body) = node
        .gql_raw(
            p.t(),
            "query($id: ID!) { matchSuggestions(requestId: $id) { score } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        error_code(&body),
        Some("FORBIDDEN"),
        "status-only requests share no details for matching"
    );
    let mine = node
        .gql(
            Some(&first.token),
            "{ supportingRequests { id state offerExpiresAt: ackDueAt } }",
            json!({}),
        )
        .await;
    assert_eq!(mine["supportingRequests"][0]["id"], id.as_str());
    // The offer counts against the first supporter's caseload, as kept by the database.
    assert_eq!(node.caseloads_kept().await.values().sum::<i64>(), 1);

    node.gql(
        Some(&first.token),
        "mutation($id: ID!) { respondToOffer(id: $id, accept: false) { id } }",
        json!({ "id": id }),
    )
    .await;
    let theirs = node
        .gql(
            Some(&second.token),
            "{ supportingRequests { id state } }",
            json!({}),
        )
        .await;
    assert_eq!(theirs["supportingRequests"][0]["state"], "OFFERED");
    assert_eq!(node.caseloads_kept().await.values().sum::<i64>(), 1);
    // The first supporter cannot take it back any more.
    let (_, body) = node
        .gql_raw(
            Some(&first.token),
            "mutation($id: ID!) { respondToOffer(id: $id, accept: true) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));

    // The second lets it lapse (routine offers last 8 hours): nobody is left, so it reopens.
    let report = node.sweep_in(9 * 60).await;
    assert_eq!(report.offers_lapsed, 1);
    assert_eq!(state_of(node, &requester, &id).await, "OPEN");
    assert!(node.caseloads_kept().await.is_empty());
}

#[tokio::test]
async fn clocks_record_each_breach_once() {
    let p = program().await;
    let node = &p.node;
    let member = p.staff("NURSE", "ICU", false).await;
    let created = ask(node, &member, "{urgency: URGENT}").await;
    let id = created["request"]["id"].as_str().unwrap().to_owned();
    assert_eq!(node.sweep_in(5).await, Default::default());
    let report = node.sweep_in(31).await;
    assert_eq!((report.ack_breaches, report.contact_breaches), (1, 0));
    let report = node.sweep_in(25 * 60).await;
    assert_eq!((report.ack_breaches, report.contact_breaches), (0, 1));
    assert_eq!(node.sweep_in(26 * 60).await, Default::default());
    let data = node
        .gql(
            p.t(),
            "{ clockBreaches { requestId clock state } }",
            json!({}),
        )
        .await;
    let clocks: Vec<&str> = data["clockBreaches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["clock"].as_str().unwrap())
        .collect();
    assert_eq!(clocks, vec!["acknowledgement", "first_contact"]);
    assert_eq!(data["clockBreaches"][0]["requestId"], id.as_str());
    assert_eq!(node.count("alerts").await, 2);
    let mine = node
        .gql(
            Some(&member.token),
            "{ mySupportRequests { ackBreached contactBreached } }",
            json!({}),
        )
        .await;
    assert_eq!(
        mine["mySupportRequests"][0],
        json!({ "ackBreached": true, "contactBreached": true })
    );

    // Acknowledging stops the clock for the next request.
    let second = ask(node, &member, "{urgency: URGENT}").await;
    let second_id = second["request"]["id"].as_str().unwrap();
    node.gql(
        p.t(),
        "mutation($id: ID!) { acknowledgeRequest(id: $id) { id } }",
        json!({ "id": second_id }),
    )
    .await;
    let report = node.sweep_in(31).await;
    assert_eq!(report.ack_breaches, 0);
}

#[tokio::test]
async fn what_each_caller_sees_of_a_request() {
    let p = program().await;
    let node = &p.node;
    let requester = p.staff("NURSE", "ICU", false).await;
    let other = p.staff("NURSE", "ICU", false).await;
    let analyst = node.user(&[Role::Analyst]).await;
    let status_only = ask(
        node,
        &requester,
        "{preferredName: \"Sam\", peerProfession: PHYSICIAN}",
    )
    .await;
    let full = ask(
        node,
        &requester,
        "{preferredName: \"Sam\", coordinatorAccess: FULL}",
    )
    .await;
    let outside = ask(node, &requester, "{peerOrigin: OUTSIDE_INSTITUTION_ONLY}").await;
    assert_eq!(outside["request"]["state"], "AWAITING_FEDERATION");
    let q = format!("query($id: ID!) {{ supportRequest(id: $id) {{ {REQUEST_FIELDS} }} }}");

    let own = node
        .gql(
            Some(&requester.token),
            &q,
            json!({ "id": status_only["request"]["id"] }),
        )
        .await;
    assert_eq!(
        own["supportRequest"]["preferences"]["peerProfession"],
        "PHYSICIAN"
    );
    let coord = node
        .gql(p.t(), &q, json!({ "id": status_only["request"]["id"] }))
        .await;
    assert!(coord["supportRequest"]["preferredName"].is_null());
    assert!(coord["supportRequest"]["requester"].is_null());
    assert!(coord["supportRequest"]["preferences"].is_null());
    assert_eq!(coord["supportRequest"]["state"], "OPEN");
    let coord = node
        .gql(p.t(), &q, json!({ "id": full["request"]["id"] }))
        .await;
    assert_eq!(
        coord["supportRequest"]["requester"]["email"],
        requester.email
    );
    // Outside-only requests are counts only for local coordinators.
    let (_, body) = node
        .gql_raw(p.t(), &q, json!({ "id": outside["request"]["id"] }))
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
    let queue = node.gql(p.t(), "{ supportQueue { id } requestCounts { outsideInstitutionOnly byState { state count } } }", json!({})).await;
    assert_eq!(queue["supportQueue"].as_array().unwrap().len(), 2);
    // One outside-only request is a count from 1 to k−1: suppressed, and not to be read off the
    // counts by state either (they leave outside-only requests out).
    assert!(queue["requestCounts"]["outsideInstitutionOnly"].is_null());
    let by_state = queue["requestCounts"]["byState"].as_array().unwrap();
    let awaiting = by_state
        .iter()
        .find(|s| s["state"] == "AWAITING_FEDERATION")
        .unwrap();
    assert_eq!(awaiting["count"], 0, "{by_state:?}");
    assert!(
        by_state
            .iter()
            .all(|s| s["count"].is_null() || s["count"] == 0 || s["count"].as_u64().unwrap() >= 11),
        "{by_state:?}"
    );
    // Colleagues and analysts see nothing individual.
    let (_, body) = node
        .gql_raw(
            Some(&other.token),
            &q,
            json!({ "id": full["request"]["id"] }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
    let (_, body) = node
        .gql_raw(
            Some(&analyst.token),
            &q,
            json!({ "id": full["request"]["id"] }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
    let (_, body) = node
        .gql_raw(Some(&analyst.token), "{ supportQueue { id } }", json!({}))
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
    let counts = node
        .gql(
            Some(&analyst.token),
            "{ requestCounts { outsideInstitutionOnly } }",
            json!({}),
        )
        .await;
    assert!(counts["requestCounts"]["outsideInstitutionOnly"].is_null());
}

#[tokio::test]
async fn illegal_moves_are_conflicts_and_change_nothing() {
    let p = program().await;
    let node = &p.node;
    let requester = p.staff("NURSE", "ICU", false).await;
    let peer = p.staff("NURSE", "Emergency", true).await;
    let created = ask(node, &requester, "{}").await;
    let id = created["request"]["id"].as_str().unwrap().to_owned();
    let today = chrono::Utc::now().date_naive().to_string();
    // Offered, not yet accepted: no encounter can be recorded.
    let encounter = "mutation($id: ID!, $d: Date!) { recordEncounter(requestId: $id, input: {occurredOn: $d, duration: UNDER_FIFTEEN, modality: PHONE}) { state } }";
    let (_, body) = node
        .gql_raw(
            Some(&peer.token),
            encounter,
            json!({ "id": id, "d": today }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    // A coordinator cannot close what has not started.
    let (_, body) = node
        .gql_raw(
            p.t(),
            "mutation($id: ID!) { advanceRequest(id: $id, to: CLOSED) { state } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    node.gql(
        Some(&requester.token),
        "mutation($id: ID!) { withdrawRequest(id: $id) { state } }",
        json!({ "id": id }),
    )
    .await;
    let (_, body) = node
        .gql_raw(
            Some(&requester.token),
            "mutation($id: ID!) { withdrawRequest(id: $id) { state } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"));
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("withdrawn")
    );
    let (_, body) = node
        .gql_raw(
            Some(&requester.token),
            "mutation($id: ID!) { declineSupport(id: $id) { state } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"));
    assert_eq!(state_of(node, &requester, &id).await, "WITHDRAWN");
    // Future encounter dates and impossible escalations are bad input.
    let second = ask(node, &requester, "{}").await;
    let second_id = second["request"]["id"].as_str().unwrap().to_owned();
    node.gql(
        Some(&peer.token),
        "mutation($id: ID!) { respondToOffer(id: $id, accept: true) { state } }",
        json!({ "id": second_id }),
    )
    .await;
    let (_, body) = node
        .gql_raw(
            Some(&peer.token),
            encounter,
            json!({ "id": second_id, "d": "2099-01-01" }),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    let programs = node
        .gql(
            None,
            "{ programs { edges { node { id tier } } } }",
            json!({}),
        )
        .await;
    let tier2 = programs["programs"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["tier"] == 2)
        .unwrap()["node"]["id"]
        .clone();
    let (_, body) = node
        .gql_raw(
            Some(&peer.token),
            "mutation($id: ID!, $p: ID!) { escalateRequest(id: $id, programId: $p) { state } }",
            json!({ "id": second_id, "p": tier2 }),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    let escalated = node
        .gql(Some(&peer.token), "mutation($id: ID!, $p: ID!) { escalateRequest(id: $id, programId: $p) { state escalatedToProgramId } }", json!({ "id": second_id, "p": p.eap }))
        .await;
    assert_eq!(escalated["escalateRequest"]["state"], "ESCALATED");
    assert_eq!(
        escalated["escalateRequest"]["escalatedToProgramId"],
        p.eap.as_str()
    );
}

#[tokio::test]
async fn matching_respects_event_department_and_assignment_by_hand() {
    let p = program().await;
    let node = &p.node;
    let requester = p.staff("NURSE", "ICU", false).await;
    let same_department = p.staff("NURSE", "ICU", true).await;
    let elsewhere = p.staff("PHARMACIST", "Pharmacy", true).await;
    let created = ask(
        node,
        &requester,
        "{peerOrigin: NOT_MY_DEPARTMENT, coordinatorAccess: FULL}",
    )
    .await;
    let id = created["request"]["id"].as_str().unwrap().to_owned();
    // The ICU nurse would score higher, but the requester asked for someone outside ICU.
    let offered = node
        .gql(
            Some(&elsewhere.token),
            "{ supportingRequests { id } }",
            json!({}),
        )
        .await;
    assert_eq!(offered["supportingRequests"][0]["id"], id.as_str());
    let suggestions = node
        .gql(
            p.t(),
            "query($id: ID!) { matchSuggestions(requestId: $id) { supporterId reasons } }",
            json!({ "id": id }),
        )
        .await;
    let listed = suggestions["matchSuggestions"].as_array().unwrap();
    assert_eq!(
        listed.len(),
        1,
        "the ICU supporter is filtered out: {suggestions}"
    );
    assert_eq!(
        listed[0]["supporterId"],
        gid("Person", &elsewhere.person_id).as_str()
    );
    // A coordinator may still assign by hand, but never to the requester.
    let assign = "mutation($id: ID!, $s: ID!) { assignRequest(id: $id, supporterId: $s) { state supporterName } }";
    let (_, body) = node
        .gql_raw(
            p.t(),
            assign,
            json!({ "id": id, "s": gid("Person", &requester.person_id) }),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    let data = node
        .gql(
            p.t(),
            assign,
            json!({ "id": id, "s": gid("Person", &same_department.person_id) }),
        )
        .await;
    assert_eq!(data["assignRequest"]["state"], "ACCEPTED");
    node.caseloads_kept().await;
    let mine = node
        .gql(
            Some(&same_department.token),
            "{ supportingRequests { id contactEmail } }",
            json!({}),
        )
        .await;
    assert_eq!(
        mine["supportingRequests"][0]["contactEmail"],
        requester.email
    );
    let theirs = node
        .gql(
            Some(&elsewhere.token),
            "{ supportingRequests { id } }",
            json!({}),
        )
        .await;
    assert_eq!(theirs["supportingRequests"], json!([]));
}

#[tokio::test]
async fn milestones_renew_outreach_to_everyone_involved() {
    let p = program().await;
    let a = p.staff("PHYSICIAN", "Surgery", false).await;
    let b = p.staff("NURSE", "Surgery", false).await;
    let event = p.event(&[(&a, "DIRECT"), (&b, "WITNESS")]).await;
    let data = p.node.gql(p.t(), "mutation($id: ID!) { addMilestone(eventId: $id, kind: LAWSUIT_FILED, month: \"2026-11\") { id kind } }", json!({ "id": event })).await;
    assert_eq!(data["addMilestone"]["kind"], "LAWSUIT_FILED");
    assert_eq!(p.node.count("outreach").await, 4);
    let mine = p
        .node
        .gql(
            Some(&a.token),
            "{ myOutreach { id milestoneId state } }",
            json!({}),
        )
        .await;
    assert!(
        mine["myOutreach"][0]["milestoneId"].is_string(),
        "newest first: the renewed outreach"
    );
    let (_, body) = p.node.gql_raw(p.t(), "mutation($id: ID!) { addMilestone(eventId: $id, kind: DEPOSITION, month: \"2099-01\") { id } }", json!({ "id": event })).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    // The person can decline; a coordinator records contact attempts.
    let id = mine["myOutreach"][0]["id"].clone();
    let declined = p
        .node
        .gql(
            Some(&a.token),
            "mutation($id: ID!) { declineOutreach(id: $id) { state } }",
            json!({ "id": mine["myOutreach"][0]["id"] }),
        )
        .await;
    assert_eq!(declined["declineOutreach"]["state"], "DECLINED");
    let (_, body) = p
        .node
        .gql_raw(
            p.t(),
            "mutation($id: ID!) { markOutreach(id: $id, state: REACHED) { state } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"));
}

#[tokio::test]
async fn incident_systems_post_events_once_per_idempotency_key() {
    let p = program().await;
    let node = &p.node;
    let nurse = p.staff("NURSE", "ICU", false).await;
    let client = node.client_token(&[Scope::EventsWrite]).await;
    let post = |body: Value, key: Option<&str>| {
        let mut r = node
            .http
            .post(node.url("/api/v1/events"))
            .bearer_auth(&client)
            .json(&body);
        if let Some(k) = key {
            r = r.header("Idempotency-Key", k);
        }
        async move {
            let r = r.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let event = json!({ "category": "near_miss", "month": "2026-09", "department": "ICU", "external_ref": "RL6-1001",
                        "involved": [{ "email": nurse.email, "role": "direct" }] });
    let (status, first) = post(event.clone(), Some("retry-1")).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["outreach"], 1);
    let (status, again) = post(event.clone(), Some("retry-1")).await;
    assert_eq!(status, 200);
    assert_eq!(again["id"], first["id"]);
    assert_eq!(node.count("events").await, 1);
    assert_eq!(node.count("outreach").await, 1);
    let mut changed = event.clone();
    changed["category"] = json!("harm_event");
    let (status, body) = post(changed, Some("retry-1")).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("CONFLICT")));

    let bad = [
        (
            json!({ "category": "near_miss", "month": "2026-09", "narrative": "The patient fell", "involved": [] }),
            "narrative",
        ),
        (
            json!({ "category": "near_miss", "month": "2026-09", "patient_name": "J. Smith", "involved": [] }),
            "patient_name",
        ),
        (
            json!({ "category": "alien_abduction", "month": "2026-09", "involved": [{ "email": nurse.email, "role": "direct" }] }),
            "category",
        ),
        (
            json!({ "category": "near_miss", "month": "2099-01", "involved": [{ "email": nurse.email, "role": "direct" }] }),
            "month",
        ),
        (
            json!({ "category": "near_miss", "month": "2026-09-14", "involved": [{ "email": nurse.email, "role": "direct" }] }),
            "month",
        ),
        (
            json!({ "category": "near_miss", "month": "2026-09", "involved": [{ "email": "nobody@hospital.test", "role": "direct" }] }),
            "involved[0]",
        ),
        (
            json!({ "category": "near_miss", "month": "2026-09", "involved": [{ "email": nurse.email, "role": "bystander" }] }),
            "involved[0].role",
        ),
        (
            json!({ "category": "near_miss", "month": "2026-09", "department": "MRN 4432211", "involved": [{ "email": nurse.email, "role": "direct" }] }),
            "department",
        ),
        (
            json!({ "category": "near_miss", "month": "2026-09", "external_ref": "call 312-555-0199", "involved": [{ "email": nurse.email, "role": "direct" }] }),
            "external_ref",
        ),
        (
            json!({ "category": "near_miss", "month": "2026-09", "involved": [] }),
            "involved",
        ),
    ];
    for (body, field) in bad {
        let (status, problem) = post(body, None).await;
        assert_eq!(status, 400, "{field}: {problem}");
        assert_eq!(problem["code"], "BAD_USER_INPUT", "{field}");
        let got = problem["field"].as_str().unwrap_or("");
        assert!(
            got == field
                || got == field.replace('_', "").as_str()
                || got.eq_ignore_ascii_case(&field.replace('_', "")),
            "{field}: {problem}"
        );
        assert!(
            !problem["detail"].as_str().unwrap().contains("4432211"),
            "identifiers are never echoed"
        );
    }
    assert_eq!(node.count("events").await, 1, "nothing was stored");
    // Without events:write, refused.
    let other = node.client_token(&[Scope::ProgramsWrite]).await;
    let r = node
        .http
        .post(node.url("/api/v1/events"))
        .bearer_auth(&other)
        .json(&event)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = node
        .http
        .post(node.url("/api/v1/events"))
        .json(&event)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn retention_leaves_only_counts_and_the_audit_chain_catches_tampering() {
    let p = program().await;
    let node = &p.node;
    let nurse = p.staff("NURSE", "ICU", false).await;
    let peer = p.staff("NURSE", "Emergency", true).await;
    let event = p.event(&[(&nurse, "DIRECT")]).await;
    let outreach = node
        .gql(Some(&nurse.token), "{ myOutreach { id } }", json!({}))
        .await["myOutreach"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let created = ask(
        node,
        &nurse,
        &format!("{{outreachId: \"{outreach}\", preferredName: \"Sam\"}}"),
    )
    .await;
    let id = created["request"]["id"].as_str().unwrap().to_owned();
    node.gql(
        Some(&peer.token),
        "mutation($id: ID!) { respondToOffer(id: $id, accept: true) { state } }",
        json!({ "id": id }),
    )
    .await;
    let today = chrono::Utc::now().date_naive().to_string();
    node.gql(Some(&peer.token), "mutation($id: ID!, $d: Date!) { recordEncounter(requestId: $id, input: {occurredOn: $d, duration: UNDER_FIFTEEN, modality: PHONE}) { state } }", json!({ "id": id, "d": today })).await;
    node.gql(
        Some(&peer.token),
        "mutation($id: ID!) { advanceRequest(id: $id, to: CLOSED) { state } }",
        json!({ "id": id }),
    )
    .await;
    for f in node
        .gql(
            Some(&peer.token),
            "{ dueFollowUps(withinDays: 40) { id } }",
            json!({}),
        )
        .await["dueFollowUps"]
        .as_array()
        .unwrap()
    {
        node.gql(
            Some(&peer.token),
            "mutation($id: ID!) { completeFollowUp(id: $id, outcome: DOING_WELL) { state } }",
            json!({ "id": f["id"] }),
        )
        .await;
    }

    // Not yet: the case ended today.
    let now = alongside_core::time::now();
    let report = alongside_core::retention::purge(&node.state.db, now, 90)
        .await
        .unwrap();
    assert_eq!(report.requests, 0);
    // 91 days on, the case and its outreach are gone; counts remain. Who was involved stays
    // while the event's legal life goes on; once a coordinator closes it, that goes too.
    let later = now + chrono::Duration::days(91);
    let report = alongside_core::retention::purge(&node.state.db, later, 90)
        .await
        .unwrap();
    assert_eq!(
        (report.requests, report.involvements, report.outreach),
        (1, 0, 1)
    );
    assert_eq!(node.count("involvements").await, 1);
    node.gql(
        p.t(),
        "mutation($id: ID!) { closeEvent(id: $id) { closedAt } }",
        json!({ "id": event }),
    )
    .await;
    let report = alongside_core::retention::purge(&node.state.db, later, 90)
        .await
        .unwrap();
    assert_eq!(report.involvements, 1);
    for table in [
        "support_requests",
        "encounters",
        "follow_ups",
        "request_transitions",
        "involvements",
        "outreach",
    ] {
        assert_eq!(
            node.count(table).await,
            0,
            "{table} still holds identifiable rows"
        );
    }
    assert_eq!(node.count("request_stats").await, 1);
    assert_eq!(
        node.count("events").await,
        1,
        "the de-identified event stays"
    );
    let data = node
        .gql(
            p.t(),
            "query($id: ID!) { event(id: $id) { category involvements { role } } }",
            json!({ "id": event }),
        )
        .await;
    assert_eq!(data["event"]["involvements"], json!([]));

    // The audit chain survived all of it; then someone edits an entry.
    let verify = |db: alongside_core::db::Db| {
        tokio::task::spawn_blocking(move || {
            alongside_core::audit::verify(&mut db.get().unwrap()).unwrap()
        })
    };
    let intact = verify(node.state.db.clone()).await.unwrap();
    assert_eq!(intact.broken(), None);
    {
        use alongside_core::schema::case_chain::dsl::*;
        use diesel::prelude::*;
        let mut conn = node.state.db.get().unwrap();
        diesel::update(case_chain.filter(seq.eq(3)))
            .set(actor.eq("account:someone-else"))
            .execute(&mut **conn)
            .unwrap();
    }
    let broken = verify(node.state.db.clone()).await.unwrap();
    assert_eq!(
        broken.broken().map(|b| (b.0, b.1)),
        Some((alongside_core::audit::Chain::Case, 3))
    );
}

#[tokio::test]
async fn each_origin_and_preference_shapes_the_match() {
    let p = program().await;
    let node = &p.node;
    let requester = p.staff("PHARMACIST", "Pharmacy", false).await;
    let spanish = p.staff("NURSE", "Oncology", true).await;
    let pharmacist = p.staff("PHARMACIST", "Oncology", true).await;
    node.gql(
        Some(&spanish.token),
        "mutation { updateMyProfile(input: {languages: [\"en\", \"es\"]}) { id } }",
        json!({}),
    )
    .await;

    // Same profession wins by default…
    let created = ask(node, &requester, "{coordinatorAccess: FULL}").await;
    let first = created["request"]["id"].as_str().unwrap().to_owned();
    let mine = node
        .gql(
            Some(&pharmacist.token),
            "{ supportingRequests { id } }",
            json!({}),
        )
        .await;
    assert_eq!(mine["supportingRequests"][0]["id"], first.as_str());
    let suggestions = node
        .gql(
            p.t(),
            "query($id: ID!) { matchSuggestions(requestId: $id) { supporterId reasons } }",
            json!({ "id": first }),
        )
        .await;
    let top = &suggestions["matchSuggestions"][0];
    assert!(
        top["reasons"]
            .as_array()
            .unwrap()
            .contains(&json!("same profession")),
        "{suggestions}"
    );

    // …but a required language filters, and a requested profession outranks it.
    let created = ask(
        node,
        &requester,
        "{language: \"es\", languageRequired: true}",
    )
    .await;
    let second = created["request"]["id"].as_str().unwrap().to_owned();
    let mine = node
        .gql(
            Some(&spanish.token),
            "{ supportingRequests { id } }",
            json!({}),
        )
        .await;
    assert!(
        mine["supportingRequests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == second.as_str())
    );
    let created = ask(
        node,
        &requester,
        "{peerProfession: NURSE, specialty: OTHER}",
    )
    .await;
    let third = created["request"]["id"].as_str().unwrap().to_owned();
    let mine = node
        .gql(
            Some(&spanish.token),
            "{ supportingRequests { id } }",
            json!({}),
        )
        .await;
    assert!(
        mine["supportingRequests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == third.as_str())
    );

    // A required language nobody speaks: no offer, the request waits for a coordinator.
    let created = ask(
        node,
        &requester,
        "{language: \"tl\", languageRequired: true}",
    )
    .await;
    assert_eq!(created["request"]["state"], "OPEN");
    let (_, body) = node
        .gql_raw(
            Some(&requester.token),
            "mutation { requestSupport(input: {languageRequired: true}) { request { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "languageRequired");

    // A coordinator's referral.
    let referred = node
        .gql(p.t(), &format!("mutation($id: ID!) {{ referForSupport(personId: $id, input: {{urgency: URGENT, coordinatorAccess: FULL}}) {{ request {{ {REQUEST_FIELDS} }} }} }}"), json!({ "id": gid("Person", &requester.person_id) }))
        .await;
    assert_eq!(referred["referForSupport"]["request"]["origin"], "REFERRAL");
    assert_eq!(referred["referForSupport"]["request"]["urgency"], "URGENT");
    let mine = node
        .gql(
            Some(&requester.token),
            "{ mySupportRequests { origin } }",
            json!({}),
        )
        .await;
    assert_eq!(
        mine["mySupportRequests"][0]["origin"], "REFERRAL",
        "newest first"
    );
    // Preferred names are a name, not a message.
    let (_, body) = node.gql_raw(Some(&requester.token), "mutation { requestSupport(input: {preferredName: \"call me at 312-555-0199\"}) { request { id } } }", json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "preferredName");
}

#[tokio::test]
async fn concurrent_reads_are_each_audited_once_and_the_chain_holds() {
    use alongside_core::schema::case_chain::dsl as log;
    use diesel::prelude::*;
    let p = program().await;
    let member = p.staff("NURSE", "Emergency", false).await;
    for _ in 0..3 {
        ask(&p.node, &member, "{}").await;
    }
    let reads_before = |db: alongside_core::db::Db| {
        tokio::task::spawn_blocking(move || {
            log::case_chain
                .filter(log::action.eq("read"))
                .count()
                .get_result::<i64>(&mut **db.get().unwrap())
                .unwrap()
        })
    };
    let before = reads_before(p.node.state.db.clone()).await.unwrap();
    // 40 lists at once, each of 3 requests: they share append transactions (group commit),
    // yet every one of them is logged, each entry once, in one unbroken chain.
    let lists = (0..40).map(|_| {
        p.node.gql(
            Some(&member.token),
            "{ mySupportRequests { id } }",
            json!({}),
        )
    });
    for listed in futures_util::future::join_all(lists).await {
        assert_eq!(listed["mySupportRequests"].as_array().unwrap().len(), 3);
    }
    let after = reads_before(p.node.state.db.clone()).await.unwrap();
    assert_eq!(after - before, 40 * 3);
    let mut conn = p.node.state.db.get().unwrap();
    let report = alongside_core::audit::verify(&mut conn).unwrap();
    assert_eq!(report.broken(), None);
}

/// Encounter minutes count against the supporter's monthly hours: once over the cap, they are
/// offered nothing new until the month turns, and their other cases go on.
#[tokio::test]
async fn a_supporter_over_the_monthly_hours_cap_is_offered_no_more() {
    let p = program().await;
    let node = &p.node;
    let first = p.staff("NURSE", "ICU", false).await;
    let second = p.staff("NURSE", "ICU", false).await;
    let third = p.staff("NURSE", "ICU", false).await;
    let supporter = p.staff("NURSE", "Surgery", true).await;
    let s = Some(supporter.token.as_str());
    node.gql(
        s,
        "mutation { updateMySupporterProfile(input: {monthlyHoursCap: 1}) { id } }",
        json!({}),
    )
    .await;
    let id = ask(node, &first, "{}").await["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    node.gql(
        s,
        "mutation($id: ID!) { respondToOffer(id: $id, accept: true) { id } }",
        json!({ "id": id }),
    )
    .await;
    let today = chrono::Utc::now().date_naive().to_string();
    let encounter = "mutation($id: ID!, $d: Date!, $b: DurationBand!) { recordEncounter(requestId: $id, input: {occurredOn: $d, duration: $b, modality: PHONE}) { state } }";
    // 45 minutes: under the hour, still offered.
    for band in ["UNDER_FIFTEEN", "FIFTEEN_TO_THIRTY"] {
        node.gql(s, encounter, json!({ "id": id, "d": today, "b": band }))
            .await;
    }
    let under = ask(node, &second, "{}").await;
    assert_eq!(under["request"]["state"], "OFFERED", "{under}");
    let under_id = under["request"]["id"].as_str().unwrap().to_owned();
    node.gql(
        s,
        "mutation($id: ID!) { respondToOffer(id: $id, accept: false) { id } }",
        json!({ "id": under_id }),
    )
    .await;
    // 15 more: the hour is used up.
    node.gql(
        s,
        encounter,
        json!({ "id": id, "d": today, "b": "UNDER_FIFTEEN" }),
    )
    .await;
    let over = ask(node, &third, "{}").await;
    assert_eq!(over["request"]["state"], "OPEN", "{over}");
}

/// A write's audit entries are appended as its transaction's last statements (so the chain's
/// head is held only for the commit), and only when it commits.
#[tokio::test]
async fn audit_entries_are_appended_at_the_end_of_a_transaction_and_only_if_it_commits() {
    use alongside_core::{audit, error::CoreError, schema::case_chain};
    use diesel::prelude::*;
    let node = TestNode::spawn().await;
    let db = node.state.db.clone();
    let before = node.count("case_chain").await;
    let record = uuid::Uuid::new_v4();
    let inside = db
        .transaction(move |conn| {
            audit::append(conn, "test", "create", "support_request", record)?;
            audit::append(conn, "test", "update", "support_request", record)?;
            Ok(case_chain::table.count().get_result::<i64>(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(inside, before, "kept aside until the end");
    assert_eq!(node.count("case_chain").await, before + 2);

    let failed = db
        .transaction(move |conn| {
            audit::append(conn, "test", "delete", "support_request", record)?;
            Err::<(), _>(CoreError::Conflict("changed my mind".into()))
        })
        .await;
    assert!(failed.is_err());
    assert_eq!(node.count("case_chain").await, before + 2, "rolled back");

    // The chain names a case by its alias; its entries are found through the table kept aside.
    let actions: Vec<String> = db
        .run(move |conn| {
            use alongside_core::schema::case_audit;
            let places: Vec<(i32, i64)> = case_audit::table
                .filter(case_audit::request_id.eq(record.to_string()))
                .filter(case_audit::chain.eq(audit::Chain::Case.as_str()))
                .select((case_audit::lane, case_audit::seq))
                .load(conn)?;
            let entries: Vec<(i32, i64, String)> = case_chain::table
                .order((case_chain::lane, case_chain::seq))
                .select((case_chain::lane, case_chain::seq, case_chain::action))
                .load(conn)?;
            Ok(entries
                .into_iter()
                .filter(|(lane, seq, _)| places.contains(&(*lane, *seq)))
                .map(|(_, _, action)| action)
                .collect::<Vec<String>>())
        })
        .await
        .unwrap();
    assert_eq!(actions, ["create", "update"]);
    let mut conn = db.get().unwrap();
    let report = audit::verify(&mut conn).unwrap();
    assert_eq!(report.broken(), None);
}

/// Who was involved in an event is kept for its legal life: a lawsuit 400 days later reaches
/// everyone involved (their earlier outreach long purged), a closed event takes no milestone,
/// and an event left open forgets who was involved after the ceiling — after which a milestone
/// says it would reach nobody instead of succeeding.
#[tokio::test]
async fn an_event_keeps_who_was_involved_for_its_legal_life() {
    let p = program().await;
    let node = &p.node;
    let (nurse, aide) = (
        p.staff("NURSE", "ICU", false).await,
        p.staff("SUPPORT_STAFF", "ICU", false).await,
    );
    let event = p.event(&[(&nurse, "DIRECT"), (&aide, "DIRECT")]).await;
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let milestone = "mutation($e: ID!, $m: String!) { addMilestone(eventId: $e, kind: LAWSUIT_FILED, month: $m) { kind } }";

    // 400 days on, the first outreach is gone, who was involved is not.
    let now = alongside_core::time::now();
    let report =
        alongside_core::retention::purge(&node.state.db, now + chrono::Duration::days(400), 90)
            .await
            .unwrap();
    assert_eq!((report.involvements, report.outreach), (0, 2));
    let data = node
        .gql(p.t(), milestone, json!({ "e": event, "m": month }))
        .await;
    assert_eq!(data["addMilestone"]["kind"], "LAWSUIT_FILED");
    for who in [&nurse, &aide] {
        let mine = node
            .gql(Some(&who.token), "{ myOutreach { state } }", json!({}))
            .await;
        assert_eq!(mine["myOutreach"], json!([{ "state": "PENDING" }]));
    }

    // Closed: no milestone after.
    let closed = node
        .gql(
            p.t(),
            "mutation($id: ID!) { closeEvent(id: $id) { closedAt } }",
            json!({ "id": event }),
        )
        .await;
    assert!(closed["closeEvent"]["closedAt"].is_string());
    let (_, body) = node
        .gql_raw(p.t(), milestone, json!({ "e": event, "m": month }))
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");

    // Left open, an event forgets who was involved after the ceiling (7 years by default).
    let open = p.event(&[(&nurse, "DIRECT")]).await;
    let report = alongside_core::retention::purge_with(
        &node.state.db,
        now + chrono::Duration::days(365 * 7 + 30),
        alongside_core::retention::Policy {
            days: 90,
            involvement_years: 7,
        },
    )
    .await
    .unwrap();
    assert!(report.involvements >= 1, "{report:?}");
    let (_, body) = node
        .gql_raw(p.t(), milestone, json!({ "e": open, "m": month }))
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nobody is recorded as involved"),
        "{body}"
    );
}

/// A year after an event, the scheduler adds its anniversary milestone once, renewing outreach
/// to everyone still involved; a recent event and a closed one get none.
#[tokio::test]
async fn a_year_on_the_anniversary_reaches_everyone_involved_once() {
    let p = program().await;
    let node = &p.node;
    let nurse = p.staff("NURSE", "ICU", false).await;
    let aide = p.staff("SUPPORT_STAFF", "ICU", false).await;
    let p = &p;
    let at = |month: &str, who: &TestUser| {
        let q = format!(
            "mutation($i: [InvolvedPersonInput!]!) {{ createEvent(input: {{category: HARM_EVENT, month: \"{month}\", involved: $i}}) {{ id }} }}"
        );
        let involved = json!([{ "email": who.email, "role": "DIRECT" }]);
        async move {
            node.gql(p.t(), &q, json!({ "i": involved })).await["createEvent"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let now = alongside_core::time::now();
    let year_ago = (now.date() - chrono::Months::new(13))
        .format("%Y-%m")
        .to_string();
    let old = at(&year_ago, &nurse).await;
    let closed = at(&year_ago, &aide).await;
    node.gql(
        p.t(),
        "mutation($id: ID!) { closeEvent(id: $id) { closedAt } }",
        json!({ "id": closed }),
    )
    .await;
    let recent = at(&now.format("%Y-%m").to_string(), &aide).await;

    let marked = alongside_core::events::mark_anniversaries(&node.state.db, now)
        .await
        .unwrap();
    assert_eq!(marked, 1, "only the open event a year old");
    let data = node
        .gql(
            p.t(),
            "query($id: ID!) { event(id: $id) { milestones { kind month } } }",
            json!({ "id": old }),
        )
        .await;
    let on = (now.date() - chrono::Months::new(1))
        .format("%Y-%m")
        .to_string();
    assert_eq!(
        data["event"]["milestones"],
        json!([{ "kind": "ANNIVERSARY", "month": on }])
    );
    let mine = node
        .gql(Some(&nurse.token), "{ myOutreach { state } }", json!({}))
        .await;
    assert_eq!(
        mine["myOutreach"].as_array().unwrap().len(),
        2,
        "the first outreach and the anniversary's: {mine}"
    );
    // Once only.
    assert_eq!(
        alongside_core::events::mark_anniversaries(&node.state.db, now)
            .await
            .unwrap(),
        0
    );
    for id in [&recent, &closed] {
        let data = node
            .gql(
                p.t(),
                "query($id: ID!) { event(id: $id) { milestones { kind } } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(data["event"]["milestones"], json!([]));
    }
}

/// Follow-up for all: declined and unanswered outreach is renewed on the program's schedule,
/// once per point, never for someone who said "don't contact me again about this event" — and
/// that holds for the event's later milestones too.
#[tokio::test]
async fn declined_and_unanswered_outreach_is_gently_renewed_unless_told_to_stop() {
    let p = program().await;
    let node = &p.node;
    let (nurse, aide, housekeeper) = (
        p.staff("NURSE", "ICU", false).await,
        p.staff("SUPPORT_STAFF", "ICU", false).await,
        p.staff("SUPPORT_STAFF", "ICU", false).await,
    );
    let event = p
        .event(&[
            (&nurse, "DIRECT"),
            (&aide, "PERIPHERAL"),
            (&housekeeper, "WITNESS"),
        ])
        .await;
    let first = |who: &TestUser| {
        let token = who.token.clone();
        async move {
            node.gql(
                Some(&token),
                "{ myOutreach { id state recontacts } }",
                json!({}),
            )
            .await["myOutreach"]
                .clone()
        }
    };
    let nurse_outreach = first(&nurse).await[0]["id"].as_str().unwrap().to_owned();
    node.gql(
        Some(&nurse.token),
        "mutation($id: ID!) { declineOutreach(id: $id) { state } }",
        json!({ "id": nurse_outreach }),
    )
    .await;
    let hk_outreach = first(&housekeeper).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let stopped = node
        .gql(
            Some(&housekeeper.token),
            "mutation($id: ID!) { stopOutreach(id: $id) { state } }",
            json!({ "id": hk_outreach }),
        )
        .await;
    assert_eq!(stopped["stopOutreach"]["state"], "DECLINED");
    // Someone else's outreach cannot be stopped.
    let (_, body) = node
        .gql_raw(
            Some(&aide.token),
            "mutation($id: ID!) { stopOutreach(id: $id) { state } }",
            json!({ "id": nurse_outreach }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));

    let now = alongside_core::time::now();
    let due = |days: i64| {
        alongside_core::events::recontact::due(&node.state.db, now + chrono::Duration::days(days))
    };
    let renewals = || async {
        let db = node.state.db.clone();
        tokio::task::spawn_blocking(move || {
            use alongside_core::schema::outbox;
            use diesel::prelude::*;
            let mut conn = db.get().unwrap();
            outbox::table
                .filter(outbox::topic.eq("recontact"))
                .count()
                .get_result::<i64>(&mut **conn)
                .unwrap()
        })
        .await
        .unwrap()
    };
    assert_eq!(due(13).await.unwrap(), 0, "not before two weeks");
    assert_eq!(
        due(15).await.unwrap(),
        2,
        "the nurse who declined and the aide who did not answer"
    );
    assert_eq!(renewals().await, 2);
    assert_eq!(
        first(&nurse).await,
        json!([{ "id": nurse_outreach, "state": "PENDING", "recontacts": 1 }])
    );
    assert_eq!(due(16).await.unwrap(), 0, "once per point of the schedule");
    assert_eq!(due(100).await.unwrap(), 2, "three months");
    assert_eq!(due(400).await.unwrap(), 0, "the schedule is done");
    assert_eq!(renewals().await, 4);
    assert_eq!(
        first(&housekeeper).await[0]["state"],
        "DECLINED",
        "never renewed"
    );

    // A later milestone reaches the others, not the housekeeper.
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    node.gql(
        p.t(),
        "mutation($e: ID!, $m: String!) { addMilestone(eventId: $e, kind: DEPOSITION, month: $m) { kind } }",
        json!({ "e": event, "m": month }),
    )
    .await;
    assert_eq!(first(&nurse).await.as_array().unwrap().len(), 2);
    assert_eq!(first(&housekeeper).await.as_array().unwrap().len(), 1);
}

/// "I'm worried about a colleague": any member refers someone; the program reaches out as after
/// an event; the colleague learns who asked only if the referrer chose; limits and the audit
/// log stop misuse; incident reports cannot pretend to be referrals.
#[tokio::test]
async fn a_worried_colleague_asks_the_program_to_reach_out() {
    let p = program().await;
    let node = &p.node;
    let charge_nurse = p.staff("NURSE", "ICU", false).await;
    let (colleague, other) = (
        p.staff("NURSE", "ICU", false).await,
        p.staff("PHARMACIST", "Pharmacy", false).await,
    );
    let refer = "mutation($c: String!, $s: Boolean!) { referColleague(input: {colleague: $c, shareMyName: $s}) }";
    let outreach = "{ myOutreach { state fromColleague referrerName } }";

    let done = node
        .gql(
            Some(&charge_nurse.token),
            refer,
            json!({ "c": colleague.email, "s": false }),
        )
        .await;
    assert_eq!(done["referColleague"], true);
    let mine = node.gql(Some(&colleague.token), outreach, json!({})).await;
    assert_eq!(
        mine["myOutreach"],
        json!([{ "state": "PENDING", "fromColleague": true, "referrerName": null }])
    );
    // Asked again within the month: thanked, but the colleague is not reached twice.
    node.gql(
        Some(&other.token),
        refer,
        json!({ "c": colleague.email, "s": true }),
    )
    .await;
    let mine = node.gql(Some(&colleague.token), outreach, json!({})).await;
    assert_eq!(mine["myOutreach"].as_array().unwrap().len(), 1);

    // Named, when the referrer chooses; the coordinator sees the outreach but not who asked.
    node.gql(
        Some(&colleague.token),
        refer,
        json!({ "c": other.email, "s": true }),
    )
    .await;
    let theirs = node.gql(Some(&other.token), outreach, json!({})).await;
    assert!(
        theirs["myOutreach"][0]["referrerName"]
            .as_str()
            .is_some_and(|n| !n.is_empty()),
        "{theirs}"
    );
    let events = node
        .gql(
            p.t(),
            "{ events(first: 10) { edges { node { category outreach { fromColleague referrerName } involvements { role } } } } }",
            json!({}),
        )
        .await;
    let referrals: Vec<&Value> = events["events"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["category"] == "COLLEAGUE_CONCERN")
        .collect();
    assert_eq!(referrals.len(), 2);
    for r in &referrals {
        assert_eq!(r["node"]["outreach"][0]["referrerName"], Value::Null);
        assert_eq!(r["node"]["involvements"][0]["role"], "REFERRED");
    }

    // Bad input changes nothing; limits hold.
    for (c, why) in [
        ("", "empty"),
        ("nobody@hospital.test", "unknown"),
        (charge_nurse.email.as_str(), "oneself"),
    ] {
        let (_, body) = node
            .gql_raw(
                Some(&charge_nurse.token),
                refer,
                json!({ "c": c, "s": false }),
            )
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{why}: {body}");
    }
    for _ in 0..2 {
        let someone = p.staff("SUPPORT_STAFF", "ICU", false).await;
        node.gql(
            Some(&charge_nurse.token),
            refer,
            json!({ "c": someone.email, "s": false }),
        )
        .await;
    }
    let fourth = p.staff("SUPPORT_STAFF", "ICU", false).await;
    let (_, body) = node
        .gql_raw(
            Some(&charge_nurse.token),
            refer,
            json!({ "c": fourth.email, "s": false }),
        )
        .await;
    assert_eq!(error_code(&body), Some("LIMIT_EXCEEDED"), "{body}");
    let (_, body) = node
        .gql_raw(None, refer, json!({ "c": fourth.email, "s": false }))
        .await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));

    // An incident report cannot pose as a referral.
    let (_, body) = node
        .gql_raw(
            p.t(),
            "mutation($i: [InvolvedPersonInput!]!) { createEvent(input: {category: COLLEAGUE_CONCERN, month: \"2026-10\", involved: $i}) { id } }",
            json!({ "i": [{ "email": fourth.email, "role": "DIRECT" }] }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "category",
        "{body}"
    );
}

/// Hand-off to professional help: escalating to the EAP tells its intake by email and by its
/// signed webhook, with only what the person agreed to share; the intake acknowledges through
/// the node (page or REST), the coordinator sees when, and what was shared is then erased.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_escalation_reaches_the_programs_intake_and_its_acknowledgement_is_recorded() {
    use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
    use alongside_core::notify::webhooks;
    use std::sync::{Arc, Mutex};

    type Seen = Arc<Mutex<Vec<(String, String)>>>;
    async fn intake(req: HttpRequest, body: web::Bytes, seen: web::Data<Seen>) -> HttpResponse {
        let sig = req
            .headers()
            .get(webhooks::SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        seen.lock()
            .unwrap()
            .push((sig, String::from_utf8_lossy(&body).into_owned()));
        HttpResponse::Ok().finish()
    }
    let seen: Seen = Arc::default();
    let data = seen.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(data.clone()))
            .default_service(web::to(intake))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let addr = server.addrs()[0];
    tokio::spawn(server.run());

    let p = program().await;
    let node = &p.node;
    let peer = p.staff("NURSE", "ICU", true).await;
    let requester = p.staff("NURSE", "ICU", false).await;
    let admin = node.user(&[Role::Admin]).await;
    let hook = node
        .gql(
            Some(&admin.token),
            "mutation($u: String!) { registerWebhook(url: $u, eventTypes: [\"handoff.created\"]) { secret endpoint { id } } }",
            json!({ "u": format!("http://{addr}/intake") }),
        )
        .await;
    let secret = hook["registerWebhook"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let set = node
        .gql(
            p.t(),
            "mutation($p: ID!, $w: ID!) { setProgramIntake(programId: $p, input: {email: \"intake@eap.test\", webhookId: $w}) { intake { email webhookId } } }",
            json!({ "p": p.eap, "w": hook["registerWebhook"]["endpoint"]["id"] }),
        )
        .await;
    assert_eq!(
        set["setProgramIntake"]["intake"]["email"],
        "intake@eap.test"
    );
    // The intake is not public.
    let (_, body) = node
        .gql_raw(
            None,
            "{ programs { edges { node { intake { email } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");

    let asked = ask(node, &requester, "{}").await;
    let id = asked["request"]["id"].as_str().unwrap().to_owned();
    node.gql(
        Some(&peer.token),
        "mutation($id: ID!) { respondToOffer(id: $id, accept: true) { state } }",
        json!({ "id": id }),
    )
    .await;
    let escalate = "mutation($id: ID!, $p: ID!, $n: String, $c: String) { escalateRequest(id: $id, programId: $p, shareFirstName: $n, shareContact: $c) { state } }";
    let (_, body) = node
        .gql_raw(
            Some(&peer.token),
            escalate,
            json!({ "id": id, "p": p.eap, "n": "Ana" }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "shareContact",
        "{body}"
    );
    let done = node
        .gql(
            Some(&peer.token),
            escalate,
            json!({ "id": id, "p": p.eap, "n": "Ana", "c": "+1 555 010 0142" }),
        )
        .await;
    assert_eq!(done["escalateRequest"]["state"], "ESCALATED");

    node.start_worker();
    node.wait_for("the intake's webhook", || async {
        !seen.lock().unwrap().is_empty()
    })
    .await;
    let (sig, body) = seen.lock().unwrap()[0].clone();
    webhooks::verify(&secret, &sig, &body, chrono::Utc::now().timestamp(), 300)
        .expect("signed as every webhook");
    let payload: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(payload["type"], "handoff.created");
    assert_eq!(
        payload["data"]["shared"],
        json!({ "first_name": "Ana", "contact": "+1 555 010 0142" })
    );
    assert!(
        !body.contains(&requester.email),
        "only what they agreed to share"
    );
    let code = payload["data"]["acknowledge_code"]
        .as_str()
        .unwrap()
        .to_owned();

    // The emailed link's page shows what was shared; the coordinator sees it unacknowledged.
    let status =
        "query($id: ID!) { supportRequest(id: $id) { handoff { sentAt acknowledgedAt } } }";
    let before = node.gql(p.t(), status, json!({ "id": id })).await;
    assert!(before["supportRequest"]["handoff"]["sentAt"].is_string());
    assert_eq!(
        before["supportRequest"]["handoff"]["acknowledgedAt"],
        Value::Null
    );
    let page = node
        .http
        .get(node.url(&format!("/handoff?code={code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Ana"));

    let ack = |code: String| async move {
        let r = node
            .http
            .post(node.url("/api/v1/handoffs/acknowledge"))
            .json(&json!({ "code": code }))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    };
    assert_eq!(ack("not-a-code".into()).await.0, 404);
    assert_eq!(
        ack(code.clone()).await,
        (200, json!({ "acknowledged_now": true }))
    );
    assert_eq!(
        ack(code.clone()).await,
        (200, json!({ "acknowledged_now": false }))
    );
    let after = node.gql(p.t(), status, json!({ "id": id })).await;
    assert!(after["supportRequest"]["handoff"]["acknowledgedAt"].is_string());
    let page = node
        .http
        .get(node.url(&format!("/handoff?code={code}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Ana"), "erased once acknowledged");
    node.wait_for("the intake's email", || async {
        node.outbox_state("email").await.is_some()
    })
    .await;
}

/// A month before an open event reaches the ceiling of its legal life, coordinators are told
/// once, with the day; a closed event is not reminded of.
#[tokio::test]
async fn coordinators_are_reminded_before_an_events_ceiling() {
    let p = program().await;
    let node = &p.node;
    let nurse = p.staff("NURSE", "ICU", false).await;
    // One open event and one closed.
    p.event(&[(&nurse, "DIRECT")]).await;
    let closed = p.event(&[(&nurse, "TEAM")]).await;
    node.gql(
        p.t(),
        "mutation($id: ID!) { closeEvent(id: $id) { closedAt } }",
        json!({ "id": closed }),
    )
    .await;
    let now = alongside_core::time::now();
    let remind = |days: i64| {
        alongside_core::events::ceiling::remind(
            &node.state.db,
            now + chrono::Duration::days(days),
            7,
        )
    };
    let before = node.count("outbox").await;
    assert_eq!(remind(7 * 365 - 31).await.unwrap(), 0, "not yet");
    assert_eq!(remind(7 * 365 - 29).await.unwrap(), 1, "the open one");
    assert_eq!(remind(7 * 365 - 28).await.unwrap(), 0, "once");
    assert_eq!(
        node.count("outbox").await,
        before + 1,
        "one email to the one coordinator"
    );
}
