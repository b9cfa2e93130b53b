//! The first slice of the domain through the real APIs: institution, people, peer supporters,
//! programs, with paging, global ids and nested loading.

use alongside_core::access::Role;
use alongside_tests::{TestNode, error_code};
use serde_json::{Value, json};

#[tokio::test]
async fn admins_change_institution_settings_everyone_reads_them() {
    let node = TestNode::spawn_with(|c| c.node.id = "mercy.example.org".into()).await;
    let admin = node.user(&[Role::Admin]).await;
    let q = "mutation { updateInstitution(input: {name: \"Mercy General\", crisisResources: \"Call 988 or page the on-call chaplain at x4444.\"}) { name nodeId crisisResources } }";
    let data = node.gql(Some(&admin.token), q, json!({})).await;
    assert_eq!(data["updateInstitution"]["name"], "Mercy General");
    assert_eq!(data["updateInstitution"]["nodeId"], "mercy.example.org");
    let rest: Value = node.get_json("/api/v1/institution").await;
    assert_eq!(
        rest["crisis_resources"],
        "Call 988 or page the on-call chaplain at x4444."
    );
    assert_eq!(rest["name"], "Mercy General");
}

#[tokio::test]
async fn coordinators_register_people_and_supporters_and_page_through_them() {
    let node = TestNode::spawn().await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let t = Some(coordinator.token.as_str());
    let create = "mutation($e: String!, $p: Profession!) { createPerson(input: {displayName: \"Staff\", email: $e, profession: $p, specialty: \"Emergency Medicine\", department: \"Emergency\", experienceBand: FIVE_TO_FIFTEEN, languages: [\"en\", \"es\"]}) { id profession experienceBand languages } }";
    let mut ids = vec![];
    for (i, profession) in [
        "PHYSICIAN",
        "NURSE",
        "PHARMACIST",
        "SUPPORT_STAFF",
        "TRAINEE",
    ]
    .iter()
    .enumerate()
    {
        let data = node
            .gql(
                t,
                create,
                json!({ "e": format!("staff{i}@hospital.test"), "p": profession }),
            )
            .await;
        assert_eq!(data["createPerson"]["profession"], *profession);
        assert_eq!(data["createPerson"]["languages"], json!(["en", "es"]));
        ids.push(data["createPerson"]["id"].as_str().unwrap().to_owned());
    }

    // Supporter profiles for two of them, one with expired training.
    let upsert = "mutation($id: ID!, $exp: Date) { upsertPeerSupporter(input: {personId: $id, trainedOn: \"2024-03-01\", trainingExpiresOn: $exp, livedExperience: true, timeZone: \"America/Chicago\", availability: [{weekday: MON, start: \"18:00\", end: \"22:00\"}, {weekday: SAT, start: \"22:00\", end: \"02:00\"}], caseloadCap: 4, outsideMatchingOptIn: true}) { id trainingCurrent timeZone availability { weekday start end } person { email } } }";
    let current = node
        .gql(t, upsert, json!({ "id": ids[0], "exp": "2099-01-01" }))
        .await;
    assert_eq!(current["upsertPeerSupporter"]["trainingCurrent"], true);
    assert_eq!(
        current["upsertPeerSupporter"]["availability"][1],
        json!({"weekday": "SAT", "start": "22:00", "end": "02:00"})
    );
    assert_eq!(
        current["upsertPeerSupporter"]["person"]["email"],
        "staff0@hospital.test"
    );
    let expired = node
        .gql(t, upsert, json!({ "id": ids[1], "exp": "2025-01-01" }))
        .await;
    assert_eq!(expired["upsertPeerSupporter"]["trainingCurrent"], false);
    // Upsert again replaces, not duplicates.
    node.gql(t, upsert, json!({ "id": ids[1], "exp": "2098-01-01" }))
        .await;
    assert_eq!(node.count("peer_supporters").await, 2);

    // Forward paging, two at a time, over the six people (the coordinator is one).
    let page = "query($after: String) { people(first: 2, after: $after) { edges { cursor node { id supporterProfile { caseloadCap } } } pageInfo { hasNextPage hasPreviousPage endCursor } } }";
    let mut seen = vec![];
    let mut after = Value::Null;
    loop {
        let data = node.gql(t, page, json!({ "after": after })).await;
        let conn = &data["people"];
        for edge in conn["edges"].as_array().unwrap() {
            seen.push(edge["node"]["id"].as_str().unwrap().to_owned());
        }
        if !conn["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen.len(), 6);
    for id in &ids {
        assert!(seen.contains(id));
    }
    // Backward paging from the end gives the last two, in order.
    let data = node
        .gql(
            t,
            "{ people(last: 2) { edges { node { id } } pageInfo { hasPreviousPage } } }",
            json!({}),
        )
        .await;
    let last: Vec<_> = data["people"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(last, seen[4..].to_vec());
    assert_eq!(data["people"]["pageInfo"]["hasPreviousPage"], true);

    // Nested loading: supporters → person → supporterProfile, and node(id).
    let data = node.gql(t, "{ peerSupporters(first: 10) { edges { node { id person { displayName supporterProfile { caseloadCap } } } } } }", json!({})).await;
    let edges = data["peerSupporters"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 2);
    assert_eq!(
        edges[0]["node"]["person"]["supporterProfile"]["caseloadCap"],
        4
    );
    // Lists of supporters, people and programs are answered in one pass when every field asked
    // is a plain value (api/src/graphql/plain.rs); a fragment sends the same selection through
    // async-graphql's resolver. Every plain field, both ways: the same answer.
    for program in [
        "{name: \"Peer support\", kind: PEER_SUPPORT, tier: 2, audience: [NURSE, PHYSICIAN], hours: \"24/7\", contact: \"x1234\", followUpDays: [1, 7], urgentOutreachHours: 2, urgentCategories: [WORKPLACE_VIOLENCE], recontactDays: [14]}",
        "{name: \"Counselling\", kind: EAP, tier: 3, hours: \"9-5\", contact: \"x3\", privileged: true}",
    ] {
        node.gql(
            t,
            &format!("mutation {{ createProgram(input: {program}) {{ id }} }}"),
            json!({}),
        )
        .await;
    }
    let program_fields = "__typename id name kind tier audience hours contact privileged followUpDays ackTargetMinutes firstContactTargetHours urgentOutreachHours recontactDays urgentCategories active updatedAt";
    let person_fields = "__typename id staffId displayName email active profession specialty department experienceBand languages locale phone textMessages createdAt updatedAt";
    let supporter_fields = format!(
        "__typename id again: id trainedOn trainingExpiresOn trainingCurrent livedExperience timeZone caseloadCap monthlyHoursCap outsideMatchingOptIn active updatedAt person {{ {person_fields} }}"
    );
    // Only what a list shows: read as cards (`supporters::list_cards`), not whole rows.
    let card_fields = "__typename id again: id trainedOn trainingExpiresOn trainingCurrent livedExperience timeZone caseloadCap monthlyHoursCap outsideMatchingOptIn active person { __typename id displayName active profession specialty department experienceBand languages }";
    let page_info = "pageInfo { __typename hasPreviousPage hasNextPage startCursor endCursor }";
    for (list, kind, fields) in [
        ("peerSupporters", "PeerSupporterConnection", card_fields),
        (
            "peerSupporters",
            "PeerSupporterConnection",
            supporter_fields.as_str(),
        ),
        ("people", "PersonConnection", person_fields),
        ("programs", "ProgramConnection", program_fields),
    ] {
        let selection = format!(
            "__typename {page_info} edges {{ __typename cursor node {{ {fields} }} }} nodes {{ {fields} }}"
        );
        let query = |inner: &str| {
            format!(
                "query($after: String, $first: Int, $last: Int) {{ {list}(after: $after, first: $first, last: $last) {{ {inner} }} }}"
            )
        };
        // The first two, the one after the first, the last one.
        let mut after = Value::Null;
        for (first, last) in [
            (json!(2), Value::Null),
            (json!(2), Value::Null),
            (Value::Null, json!(1)),
        ] {
            if last.is_number() {
                after = Value::Null;
            }
            let vars = json!({ "after": after, "first": first, "last": last });
            let plain = node.gql(t, &query(&selection), vars.clone()).await;
            let full = node
                .gql(
                    t,
                    &query(&format!("... on {kind} {{ {selection} }}")),
                    vars.clone(),
                )
                .await;
            assert_eq!(plain, full, "{list} {vars}");
            assert!(
                !plain[list]["edges"].as_array().unwrap().is_empty(),
                "{list} {vars}"
            );
            after = plain[list]["edges"][0]["cursor"].clone();
        }
    }
    // Supporters paged one at a time, forward and backward, with their people read in the same
    // query (edges or nodes) and without: the same order and the same people either way.
    let with_people = "query($after: String, $before: String, $first: Int, $last: Int) { peerSupporters(first: $first, last: $last, after: $after, before: $before) { edges { cursor node { id person { email } } } pageInfo { hasNextPage hasPreviousPage } } }";
    let as_nodes = "query($after: String, $before: String, $first: Int, $last: Int) { peerSupporters(first: $first, last: $last, after: $after, before: $before) { nodes { id person { email } } edges { cursor } pageInfo { hasNextPage hasPreviousPage } } }";
    let bare = "query($after: String, $before: String, $first: Int, $last: Int) { peerSupporters(first: $first, last: $last, after: $after, before: $before) { edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage } } }";
    let all: Vec<&str> = edges
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    for query in [with_people, as_nodes, bare] {
        let first = node
            .gql(t, query, json!({ "first": 1, "after": null }))
            .await;
        let conn = &first["peerSupporters"];
        let node_of = |c: &Value| {
            c.get("nodes")
                .map(|n| n[0].clone())
                .unwrap_or_else(|| c["edges"][0]["node"].clone())
        };
        assert_eq!(node_of(conn)["id"], all[0], "{query}");
        assert_eq!(conn["pageInfo"]["hasNextPage"], true);
        assert_eq!(conn["pageInfo"]["hasPreviousPage"], false);
        let cursor = conn["edges"][0]["cursor"].clone();
        let second = node
            .gql(t, query, json!({ "first": 1, "after": cursor }))
            .await;
        let conn = &second["peerSupporters"];
        assert_eq!(node_of(conn)["id"], all[1], "{query}");
        assert_eq!(conn["pageInfo"]["hasNextPage"], false);
        assert_eq!(conn["pageInfo"]["hasPreviousPage"], true);
        let back = node
            .gql(
                t,
                query,
                json!({ "last": 1, "before": conn["edges"][0]["cursor"] }),
            )
            .await;
        let conn = &back["peerSupporters"];
        assert_eq!(node_of(conn)["id"], all[0], "{query}");
        assert_eq!(conn["pageInfo"]["hasPreviousPage"], false);
        if query != bare {
            let email = node_of(conn)["person"]["email"]
                .as_str()
                .unwrap()
                .to_owned();
            assert!(email.ends_with("@hospital.test"), "{email}");
        }
    }
    let supporter_id = edges[0]["node"]["id"].as_str().unwrap();
    let data = node
        .gql(
            t,
            "query($id: ID!) { node(id: $id) { id ... on PeerSupporter { caseloadCap } } }",
            json!({ "id": supporter_id }),
        )
        .await;
    assert_eq!(data["node"]["caseloadCap"], 4);
    let data = node
        .gql(
            t,
            "query($id: ID!) { node(id: $id) { ... on Person { email } } }",
            json!({ "id": ids[2] }),
        )
        .await;
    assert_eq!(data["node"]["email"], "staff2@hospital.test");
}

#[tokio::test]
async fn supporter_profiles_are_validated_and_supporters_edit_their_own() {
    let node = TestNode::spawn().await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let peer = node.user(&[]).await;
    let peer_id = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!("Person:{}", peer.person_id))
    };
    let t = Some(coordinator.token.as_str());
    let upsert = "mutation($id: ID!, $tz: String!, $cap: Int!, $on: Date, $exp: Date) { upsertPeerSupporter(input: {personId: $id, trainedOn: $on, trainingExpiresOn: $exp, timeZone: $tz, caseloadCap: $cap}) { id } }";
    for (vars, field) in [
        (
            json!({ "id": peer_id, "tz": "Not a zone!", "cap": 3, "on": "2025-01-01" }),
            "timeZone",
        ),
        (
            json!({ "id": peer_id, "tz": "UTC", "cap": 0, "on": "2025-01-01" }),
            "caseloadCap",
        ),
        (
            json!({ "id": peer_id, "tz": "UTC", "cap": 3, "on": "2099-01-01" }),
            "trainedOn",
        ),
        (
            json!({ "id": peer_id, "tz": "UTC", "cap": 3, "on": "2025-01-01", "exp": "2024-01-01" }),
            "trainingExpiresOn",
        ),
    ] {
        let (_, body) = node.gql_raw(t, upsert, vars).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    assert_eq!(node.count("peer_supporters").await, 0);
    node.gql(
        t,
        upsert,
        json!({ "id": peer_id, "tz": "UTC", "cap": 3, "on": "2025-01-01" }),
    )
    .await;

    // The profile made them a peer supporter; after signing in again they can pause themselves.
    let fresh = node.login(&peer.email, alongside_tests::PASSWORD).await;
    let token = fresh["access_token"].as_str().unwrap();
    assert!(
        fresh["roles"]
            .as_array()
            .unwrap()
            .contains(&json!("peer_supporter"))
    );
    let data = node
        .gql(Some(token), "mutation { updateMySupporterProfile(input: {active: false, availability: [{weekday: TUE, start: \"07:00\", end: \"09:30\"}]}) { active availability { start end } } }", json!({}))
        .await;
    assert_eq!(data["updateMySupporterProfile"]["active"], false);
    assert_eq!(
        data["updateMySupporterProfile"]["availability"][0]["end"],
        "09:30"
    );
    let (_, body) = node
        .gql_raw(Some(token), "mutation { updateMySupporterProfile(input: {availability: [{weekday: TUE, start: \"7pm\", end: \"09:30\"}]}) { active } }", json!({}))
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn programs_are_public_and_retired_ones_disappear() {
    let node = TestNode::spawn().await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let t = Some(coordinator.token.as_str());
    let create = "mutation($n: String!) { createProgram(input: {name: $n, kind: PEER_SUPPORT, tier: 2, audience: [NURSE, PHYSICIAN, NURSE], hours: \"24/7\", contact: \"Page 5555\", privileged: false, followUpDays: [30, 1, 7, 7, 90]}) { id audience followUpDays } }";
    let a = node
        .gql(t, create, json!({ "n": "RISE peer support" }))
        .await;
    assert_eq!(a["createProgram"]["followUpDays"], json!([1, 7, 30, 90]));
    assert_eq!(
        a["createProgram"]["audience"],
        json!(["PHYSICIAN", "NURSE"])
    );
    node.gql(t, create, json!({ "n": "Second program" })).await;
    let id = a["createProgram"]["id"].as_str().unwrap();

    let list: Value = node.get_json("/api/v1/programs").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert_eq!(list["items"][0]["kind"], "peer_support");
    assert_eq!(list["items"][0]["follow_up_days"], json!([1, 7, 30, 90]));
    let uuid = list["items"][0]["id"].as_str().unwrap().to_owned();
    let paged: Value = node.get_json("/api/v1/programs?limit=1").await;
    assert_eq!(paged["items"].as_array().unwrap().len(), 1);
    let next = paged["next_cursor"].as_str().unwrap();
    let rest: Value = node
        .get_json(&format!("/api/v1/programs?limit=1&after={next}"))
        .await;
    assert_eq!(rest["items"][0]["name"], "Second program");
    assert!(rest.get("next_cursor").is_none());

    node.gql(
        t,
        "mutation($id: ID!) { updateProgram(id: $id, input: {active: false}) { active } }",
        json!({ "id": id }),
    )
    .await;
    let list: Value = node.get_json("/api/v1/programs").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        node.http
            .get(node.url(&format!("/api/v1/programs/{uuid}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let data = node
        .gql(
            t,
            "{ programs(includeInactive: true) { edges { node { name active } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["programs"]["edges"].as_array().unwrap().len(), 2);
    let (_, body) = node
        .gql_raw(
            None,
            "query($id: ID!) { program(id: $id) { name } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
}
