//! The resource library: built-in guidance cards, search, and the de-identification gate on
//! anything shared with the federation.

use alongside_core::access::Role;
use alongside_tests::{TestNode, error_code};
use serde_json::json;

#[tokio::test]
async fn built_in_cards_search_and_the_gate() {
    let node = TestNode::spawn_with(|c| {
        c.node.institution_name = "Mercy General".into();
        c.node.jurisdiction = "US-IL".into();
    })
    .await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let member = node.user(&[]).await;
    let t = Some(coordinator.token.as_str());
    node.gql(t, "mutation { createProgram(input: {name: \"Risk management counsel\", kind: LITIGATION_SUPPORT, tier: 3, hours: \"9-5\", contact: \"x3\", privileged: true}) { id } }", json!({})).await;

    // Anyone, signed in or not, reads the built-in cards.
    let data = node
        .gql(
            None,
            "{ resources(first: 10) { edges { node { title builtIn sharing body } } } }",
            json!({}),
        )
        .await;
    let cards = data["resources"]["edges"].as_array().unwrap();
    assert_eq!(cards.len(), 3);
    assert!(
        cards
            .iter()
            .all(|c| c["node"]["builtIn"] == true && c["node"]["sharing"] == "FEDERATION")
    );
    let protected = cards
        .iter()
        .find(|c| c["node"]["title"] == "Where your conversations are protected here")
        .unwrap();
    let body = protected["node"]["body"].as_str().unwrap();
    assert!(
        body.contains("US-IL") && body.contains("Risk management counsel"),
        "{body}"
    );

    let create =
        "mutation($i: ResourceInputGql!) { createResource(input: $i) { id sharing tags } }";
    let toolkit = json!({ "kind": "TOOLKIT", "title": "After a fall: a unit huddle guide", "summary": "How to check in with each other after a patient fall.",
                          "body": "Meet within the shift. Ask how everyone is doing.", "tags": ["Huddle", "falls"], "licence": "CC BY 4.0", "sharing": "FEDERATION" });
    let made = node.gql(t, create, json!({ "i": toolkit })).await;
    assert_eq!(made["createResource"]["tags"], json!(["falls", "huddle"]));
    let id = made["createResource"]["id"].clone();

    // Identifiers keep a resource local: shared, it is refused with every finding named.
    let mut leaky = toolkit.clone();
    leaky["body"] = json!("Ask Dr. Okafor (312-555-0199) about the case on 2026-03-14.");
    let (_, body) = node.gql_raw(t, create, json!({ "i": leaky })).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("a person's name")
            && message.contains("phone")
            && message.contains("full date"),
        "{message}"
    );
    assert!(
        !message.contains("Okafor") && !message.contains("0199"),
        "the finding never echoes the value"
    );
    leaky["sharing"] = json!("LOCAL");
    node.gql(t, create, json!({ "i": leaky })).await;

    // Search by text and tags.
    let search = "query($x: String, $t: [String!]!) { resources(text: $x, tags: $t, first: 10) { edges { node { title } } } }";
    let found = node
        .gql(
            Some(&member.token),
            search,
            json!({ "x": "HUDDLE", "t": [] }),
        )
        .await;
    assert_eq!(found["resources"]["edges"].as_array().unwrap().len(), 2);
    let found = node
        .gql(
            Some(&member.token),
            search,
            json!({ "x": null, "t": ["falls", "huddle"] }),
        )
        .await;
    assert_eq!(found["resources"]["edges"].as_array().unwrap().len(), 2);
    let found = node
        .gql(
            Some(&member.token),
            search,
            json!({ "x": "feelings", "t": ["privacy"] }),
        )
        .await;
    assert_eq!(found["resources"]["edges"].as_array().unwrap().len(), 0);
    let found = node
        .gql(
            Some(&member.token),
            search,
            json!({ "x": "never stores", "t": ["privacy"] }),
        )
        .await;
    assert_eq!(
        found["resources"]["edges"][0]["node"]["title"],
        "What Alongside keeps and what it never stores"
    );

    // A list of resources is answered in one pass when every field asked is a value the
    // resource holds (api/src/graphql/plain.rs); a fragment sends the same selection through
    // async-graphql's resolver. Every field, both ways, page by page: the same answer.
    let talk = json!({ "kind": "VIDEO_LINK", "title": "When a patient is harmed: a talk", "summary": "Twenty minutes on what helps.",
                       "link": "https://example.org/talk", "tags": ["talk"], "audience": ["NURSE", "PHYSICIAN"],
                       "jurisdiction": "US-IL", "licence": "CC BY 4.0", "sharing": "FEDERATION" });
    node.gql(t, create, json!({ "i": talk })).await;
    let fields = "__typename id again: id kind title summary body link tags audience jurisdiction licence sharing builtIn updatedAt";
    let selection = format!(
        "__typename pageInfo {{ __typename hasPreviousPage hasNextPage startCursor endCursor }} edges {{ __typename cursor node {{ {fields} }} }} nodes {{ {fields} }}"
    );
    let page = |inner: &str| {
        format!("query($after: String) {{ resources(first: 3, after: $after) {{ {inner} }} }}")
    };
    let mut after = serde_json::Value::Null;
    let mut seen = Vec::new();
    for _ in 0..2 {
        let vars = json!({ "after": after });
        let plain = node
            .gql(Some(&member.token), &page(&selection), vars.clone())
            .await;
        let full = node
            .gql(
                Some(&member.token),
                &page(&format!("... on ResourceConnection {{ {selection} }}")),
                vars,
            )
            .await;
        assert_eq!(plain, full);
        let edges = plain["resources"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), 3, "{plain}");
        seen.extend(edges.iter().map(|e| e["node"].clone()));
        after = edges[2]["cursor"].clone();
    }
    // Three built-in cards, the toolkit, the local one, the talk: every field of some resource
    // holds a value, and none is left out.
    assert_eq!(
        seen.iter().find(|r| r["kind"] == "VIDEO_LINK").unwrap()["audience"],
        json!(["PHYSICIAN", "NURSE"]),
        "kept in the vocabulary's order"
    );
    assert!(
        seen.iter()
            .any(|r| r["sharing"] == "LOCAL" && r["builtIn"] == false)
    );

    // Members read but do not write; built-ins cannot be removed.
    let (_, body) = node
        .gql_raw(Some(&member.token), create, json!({ "i": toolkit }))
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
    let builtin = cards[0]["node"].clone();
    let ids = node
        .gql(
            None,
            "{ resources(first: 1) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let (_, body) = node
        .gql_raw(
            t,
            "mutation($id: ID!) { deleteResource(id: $id) }",
            json!({ "id": ids["resources"]["edges"][0]["node"]["id"] }),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{builtin}");
    node.gql(
        t,
        "mutation($id: ID!) { deleteResource(id: $id) }",
        json!({ "id": id }),
    )
    .await;
}

#[tokio::test]
async fn readiness_assessments_score_domains_and_keep_history() {
    let node = TestNode::spawn().await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let member = node.user(&[]).await;
    let questions = node.gql(None, "{ readinessQuestions }", json!({})).await;
    let domains = questions["readinessQuestions"].as_array().unwrap();
    assert_eq!(domains.len(), 10);
    let mut answers = serde_json::Map::new();
    for d in domains {
        for q in d["questions"].as_array().unwrap() {
            answers.insert(q[0].as_str().unwrap().to_owned(), json!(1));
        }
    }
    let submit = "mutation($a: JSON!, $s: Boolean!) { submitReadinessAssessment(answers: $a, shareWithSteward: $s) }";
    let first = node
        .gql(
            Some(&coordinator.token),
            submit,
            json!({ "a": answers, "s": false }),
        )
        .await;
    assert_eq!(first["submitReadinessAssessment"]["overall"], 50);
    assert!(first["submitReadinessAssessment"]["domains"][0]["next_step"].is_string());
    for v in answers.values_mut() {
        *v = json!(2);
    }
    let second = node
        .gql(
            Some(&coordinator.token),
            submit,
            json!({ "a": answers, "s": true }),
        )
        .await;
    assert_eq!(second["submitReadinessAssessment"]["overall"], 100);
    let history = node
        .gql(Some(&coordinator.token), "{ readinessHistory }", json!({}))
        .await;
    let overall: Vec<i64> = history["readinessHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["overall"].as_i64().unwrap())
        .collect();
    assert_eq!(overall, vec![100, 50], "newest first, so progress shows");
    answers.remove("leadership.budget");
    let (_, body) = node
        .gql_raw(
            Some(&coordinator.token),
            submit,
            json!({ "a": answers, "s": false }),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        "leadership.budget"
    );
    let (_, body) = node
        .gql_raw(
            Some(&member.token),
            submit,
            json!({ "a": answers, "s": false }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
}

#[tokio::test]
async fn completions_keep_training_current_and_the_directory_shows_only_what_was_published() {
    let node = TestNode::spawn().await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let peer = node.user(&[Role::PeerSupporter]).await;
    let t = Some(coordinator.token.as_str());
    let person = alongside_tests::gid("Person", &peer.person_id);
    // A profile whose training expired.
    node.gql(t, "mutation($id: ID!) { upsertPeerSupporter(input: {personId: $id, trainedOn: \"2023-01-10\", trainingExpiresOn: \"2024-01-10\", timeZone: \"UTC\", caseloadCap: 3}) { trainingCurrent } }", json!({ "id": person })).await;
    let course = node.gql(t, "mutation { createTrainingCourse(kind: REFRESHER, title: \"Peer supporter refresher\", validityMonths: 24) { id } }", json!({})).await;
    let course_id = course["createTrainingCourse"]["id"].clone();
    node.gql(t, "mutation($c: ID!) { scheduleTrainingSession(courseId: $c, startsOn: \"2026-12-01\", format: \"in person\") }", json!({ "c": course_id })).await;
    let today = chrono::Utc::now().date_naive();
    let done = node
        .gql(t, "mutation($p: ID!, $c: ID!, $d: Date!) { recordTrainingCompletion(personId: $p, courseId: $c, completedOn: $d) }", json!({ "p": person, "c": course_id, "d": today.to_string() }))
        .await;
    assert!(done["recordTrainingCompletion"].as_str().unwrap() > today.to_string().as_str());
    let profile = node.gql(t, "query($id: ID!) { person(id: $id) { supporterProfile { trainingCurrent trainedOn } } }", json!({ "id": person })).await;
    assert_eq!(
        profile["person"]["supporterProfile"]["trainingCurrent"],
        true
    );
    assert_eq!(
        profile["person"]["supporterProfile"]["trainedOn"],
        today.to_string()
    );
    let (_, body) = node.gql_raw(Some(&peer.token), "mutation($p: ID!, $c: ID!) { recordTrainingCompletion(personId: $p, courseId: $c, completedOn: \"2026-01-01\") }", json!({ "p": person, "c": course_id })).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));

    // The directory: consent decides whether a trainer is listed, and they choose the fields.
    let upsert = "mutation($i: TrainerInputGql!) { upsertTrainer(input: $i) }";
    node.gql(t, upsert, json!({ "i": { "displayName": "Rosa Lind", "credentials": "RN, CPPS", "organization": "Northside Health", "topics": ["peer support"], "contact": "rosa@train.example.org", "publishedFields": ["organization", "topics"], "consented": true } })).await;
    node.gql(t, upsert, json!({ "i": { "displayName": "Not Listed", "organization": "Elsewhere", "publishedFields": ["organization"], "consented": false } })).await;
    let listed = node
        .gql(
            None,
            "{ trainers { displayName credentials organization topics contact } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed["trainers"],
        json!([{ "displayName": "Rosa Lind", "credentials": null, "organization": "Northside Health", "topics": ["peer support"], "contact": null }])
    );
    let (_, body) = node.gql_raw(t, upsert, json!({ "i": { "displayName": "X", "publishedFields": ["home address"], "consented": true } })).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
}

/// The library's and the programs' first pages, and a person's language, are remembered by the
/// node for a moment (`db::memo`, `recent`): every change made through it shows at the next read.
#[tokio::test]
async fn remembered_first_pages_and_languages_show_a_change_at_once() {
    let node = TestNode::spawn_with(|c| c.node.institution_name = "Mercy General".into()).await;
    let admin = node.user(&[Role::Admin, Role::Coordinator]).await;
    let member = node.user(&[]).await;
    let (a, m) = (Some(admin.token.as_str()), Some(member.token.as_str()));
    let library = "{ resources(first: 10) { edges { node { id title body } } } }";
    let programs = "{ programs(first: 10) { edges { node { id name } } } }";
    let protected = |data: &serde_json::Value, title: &str| -> String {
        data["resources"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["node"]["title"] == title)
            .map(|c| c["node"]["body"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("no card {title:?}: {data}"))
    };
    let here = "Where your conversations are protected here";
    let before = node.gql(m, library, json!({})).await;
    assert!(protected(&before, here).contains("Mercy General"));
    assert_eq!(
        node.gql(m, programs, json!({})).await["programs"]["edges"],
        json!([])
    );

    // A new resource, the institution's new name and a new privileged program: all at once.
    let made = node
        .gql(a, "mutation { createResource(input: {kind: TOOLKIT, title: \"Huddle guide\", summary: \"After a fall.\", body: \"Meet within the shift.\", licence: \"CC BY 4.0\", sharing: LOCAL}) { id } }", json!({}))
        .await;
    let id = made["createResource"]["id"].clone();
    node.gql(
        a,
        "mutation { updateInstitution(input: {name: \"Mercy North\"}) { name } }",
        json!({}),
    )
    .await;
    let program = node.gql(a, "mutation { createProgram(input: {name: \"Counsel\", kind: LITIGATION_SUPPORT, tier: 3, hours: \"9-5\", contact: \"x3\", privileged: true}) { id } }", json!({})).await;
    let after = node.gql(m, library, json!({})).await;
    let cards = after["resources"]["edges"].as_array().unwrap();
    assert!(cards.iter().any(|c| c["node"]["id"] == id), "{after}");
    let body = protected(&after, here);
    assert!(
        body.contains("Mercy North") && body.contains("Counsel"),
        "{body}"
    );
    let listed = node.gql(m, programs, json!({})).await;
    assert_eq!(listed["programs"]["edges"][0]["node"]["name"], "Counsel");

    // Renamed, then retired: the programs' first page follows each.
    let pid = program["createProgram"]["id"].clone();
    let update =
        "mutation($id: ID!, $i: UpdateProgramInput!) { updateProgram(id: $id, input: $i) { id } }";
    node.gql(
        a,
        update,
        json!({ "id": pid, "i": { "name": "Counsel and support" } }),
    )
    .await;
    let listed = node.gql(m, programs, json!({})).await;
    assert_eq!(
        listed["programs"]["edges"][0]["node"]["name"],
        "Counsel and support"
    );
    node.gql(a, update, json!({ "id": pid, "i": { "active": false } }))
        .await;
    assert_eq!(
        node.gql(m, programs, json!({})).await["programs"]["edges"],
        json!([])
    );

    // Deleted: gone from the first page.
    node.gql(
        a,
        "mutation($id: ID!) { deleteResource(id: $id) }",
        json!({ "id": id }),
    )
    .await;
    let gone = node.gql(m, library, json!({})).await;
    assert!(
        gone["resources"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["node"]["id"] != id),
        "{gone}"
    );

    // A person who chooses Spanish reads the cards in it from the next request.
    node.gql(
        m,
        "mutation { updateMyProfile(input: {locale: \"es\"}) { id } }",
        json!({}),
    )
    .await;
    let spanish = node.gql(m, library, json!({})).await;
    assert!(
        spanish["resources"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["node"]["title"] != here),
        "still in English: {spanish}"
    );
}
