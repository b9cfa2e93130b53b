//! The API speaks to a person in their language: readiness questions and the human message of
//! an error follow the caller's profile, then `Accept-Language`; codes stay English.

use alongside_core::access::Role;
use alongside_core::i18n::{Locale, catalogue};
use alongside_tests::TestNode;
use serde_json::{Value, json};

async fn gql_in(
    node: &TestNode,
    token: Option<&str>,
    language: &str,
    query: &str,
    vars: Value,
) -> Value {
    let mut request = node
        .http
        .post(node.url("/graphql"))
        .header("accept-language", language)
        .json(&json!({ "query": query, "variables": vars }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().json().await.unwrap()
}

async fn rest_in(node: &TestNode, token: Option<&str>, language: &str, path: &str) -> (u16, Value) {
    let mut request = node
        .http
        .get(node.url(path))
        .header("accept-language", language);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn es(key: &str) -> String {
    catalogue().text(Locale::Es, key)
}

#[tokio::test]
async fn the_api_speaks_to_a_person_in_their_language_and_keeps_codes_english() {
    let node = TestNode::spawn().await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let token = coordinator.token.as_str();
    let leadership = "{ readinessQuestions }";

    // Signed out: the browser's language, else the node's default (English).
    let english = gql_in(&node, None, "fr", leadership, json!({})).await;
    assert_eq!(
        english["data"]["readinessQuestions"][0]["title"],
        "Leadership commitment"
    );
    let spanish = gql_in(&node, None, "es-MX,en;q=0.5", leadership, json!({})).await;
    assert_eq!(
        spanish["data"]["readinessQuestions"][0]["title"],
        es("readiness-domain-leadership").as_str()
    );
    assert_eq!(
        spanish["data"]["readinessQuestions"][0]["questions"][0],
        json!(["leadership.sponsor", es("readiness-q-leadership-sponsor")]),
        "question ids stay as they are"
    );

    // The anonymous survey too, answers' words with the values to send.
    let survey = gql_in(&node, None, "es", "{ surveyQuestions }", json!({})).await;
    let first = &survey["data"]["surveyQuestions"][0];
    assert_eq!(first["id"], "satisfied");
    assert_eq!(first["text"], es("survey-q-satisfied").as_str());
    assert_eq!(first["options"][0], json!(["1", es("survey-likert-1")]));
    let stress = &survey["data"]["surveyQuestions"][3];
    assert_eq!(
        stress["options"][1],
        json!(["about the same", es("survey-choice-about-the-same")])
    );
    let survey = gql_in(&node, None, "en", "{ surveyQuestions }", json!({})).await;
    assert_eq!(
        survey["data"]["surveyQuestions"][0]["text"],
        "Overall, I am satisfied with the support I received."
    );

    // Her profile says Spanish: it wins over an English header.
    node.gql(
        Some(token),
        "mutation { updateMyProfile(input: {locale: \"es\"}) { locale } }",
        json!({}),
    )
    .await;
    let questions = gql_in(&node, Some(token), "en-US", leadership, json!({})).await;
    assert_eq!(
        questions["data"]["readinessQuestions"][0]["title"],
        es("readiness-domain-leadership").as_str()
    );

    // A refusal: the code and field as ever, the message in Spanish, the English detail kept.
    let submit = "mutation($a: JSON!) { submitReadinessAssessment(answers: $a) }";
    let refused = gql_in(&node, Some(token), "en-US", submit, json!({ "a": {} })).await;
    let error = &refused["errors"][0];
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    let field = error["extensions"]["field"].as_str().unwrap();
    assert_eq!(
        error["message"].as_str().unwrap(),
        catalogue().text_with(
            Locale::Es,
            "api-error-bad-user-input-field",
            &[("field", field.into())]
        )
    );
    assert!(
        error["extensions"]["englishDetail"]
            .as_str()
            .unwrap()
            .contains("is not answered"),
        "{error}"
    );

    // Scores read in her language too: the next step of a domain not fully in place.
    let mut answers = serde_json::Map::new();
    for d in questions["data"]["readinessQuestions"].as_array().unwrap() {
        for q in d["questions"].as_array().unwrap() {
            answers.insert(q[0].as_str().unwrap().to_owned(), json!(1));
        }
    }
    let scored = gql_in(&node, Some(token), "en-US", submit, json!({ "a": answers })).await;
    assert_eq!(
        scored["data"]["submitReadinessAssessment"]["domains"][0]["next_step"],
        es("readiness-next-leadership").as_str()
    );
    let history = node
        .gql(Some(token), "{ readinessHistory }", json!({}))
        .await;
    assert_eq!(
        history["readinessHistory"][0]["domains"][0]["title"],
        es("readiness-domain-leadership").as_str()
    );

    // REST: a refusal in her language, with the English detail; the code stays English.
    let missing = format!("/api/v1/programs/{}", uuid::Uuid::new_v4());
    let (status, problem) = rest_in(&node, Some(token), "en-US", &missing).await;
    assert_eq!(status, 404);
    assert_eq!(problem["code"], "NOT_FOUND");
    assert_eq!(problem["title"], es("api-title-not-found").as_str());
    assert_eq!(problem["detail"], es("api-error-not-found").as_str());
    assert!(problem["english_detail"].is_string(), "{problem}");

    // Someone whose language is not known reads the English detail, as before.
    let other = node.user(&[Role::Coordinator]).await;
    let (status, problem) = rest_in(&node, Some(&other.token), "de", &missing).await;
    assert_eq!(status, 404);
    assert_eq!(problem["title"], "Not found");
    assert!(problem.get("english_detail").is_none(), "{problem}");
    let refused = gql_in(&node, Some(&other.token), "de", submit, json!({ "a": {} })).await;
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("is not answered")
    );
    assert!(
        refused["errors"][0]["extensions"]
            .get("englishDetail")
            .is_none()
    );

    // No valid sign-in: only the header tells the language.
    let (status, problem) = rest_in(&node, Some("not-a-token"), "es", "/api/v1/programs").await;
    assert_eq!(status, 401);
    assert_eq!(problem["code"], "UNAUTHENTICATED");
    assert_eq!(problem["detail"], es("api-error-unauthenticated").as_str());
    let refused = gql_in(&node, Some("not-a-token"), "es", leadership, json!({})).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    assert_eq!(
        refused["errors"][0]["message"],
        es("api-error-unauthenticated").as_str()
    );
    assert!(refused["errors"][0]["extensions"]["englishDetail"].is_string());
}

/// The built-in guidance cards read in the reader's language, the filled-in card too, and text
/// search finds them in it; the institution's own resources stay as written.
#[tokio::test]
async fn built_in_cards_read_in_the_readers_language() {
    let node = TestNode::spawn_with(|c| {
        c.node.institution_name = "Mercy General".into();
        c.node.jurisdiction = "US-IL".into();
    })
    .await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    node.gql(Some(&coordinator.token), "mutation { createProgram(input: {name: \"Risk management counsel\", kind: LITIGATION_SUPPORT, tier: 3, hours: \"9-5\", contact: \"x3\", privileged: true}) { id } }", json!({})).await;
    let list = "query($q: String) { resources(first: 10, text: $q) { edges { node { title summary body licence builtIn } } } }";
    let spanish = gql_in(&node, None, "es", list, json!({ "q": null })).await;
    let cards = spanish["data"]["resources"]["edges"].as_array().unwrap();
    assert_eq!(cards.len(), 3);
    for key in ["safe-to-talk", "protected-here", "what-alongside-keeps"] {
        let title = es(&format!("card-{key}-title"));
        let card = cards
            .iter()
            .find(|c| c["node"]["title"] == title.as_str())
            .unwrap_or_else(|| panic!("{key} in Spanish: {spanish}"));
        assert_eq!(
            card["node"]["summary"],
            es(&format!("card-{key}-summary")).as_str()
        );
        assert_eq!(card["node"]["licence"], es("card-licence").as_str());
        let body = card["node"]["body"].as_str().unwrap();
        assert!(!body.contains("card-"), "{body}");
        assert!(body.contains("\n\n"), "paragraphs kept: {body}");
    }
    let protected = cards
        .iter()
        .find(|c| c["node"]["title"] == es("card-protected-here-title").as_str())
        .unwrap();
    let body = protected["node"]["body"].as_str().unwrap();
    assert!(
        body.contains("Mercy General")
            && body.contains("US-IL")
            && body.contains("Risk management counsel")
            && body.contains("protegidos por la ley"),
        "{body}"
    );

    // Search reads what the reader reads.
    let found = gql_in(&node, None, "es", list, json!({ "q": "colega de apoyo" })).await;
    assert!(
        !found["data"]["resources"]["edges"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{found}"
    );
    let english = gql_in(&node, None, "en", list, json!({ "q": "colega de apoyo" })).await;
    assert_eq!(english["data"]["resources"]["edges"], json!([]));
    let english = gql_in(&node, None, "en", list, json!({ "q": "safely talk" })).await;
    assert_eq!(
        english["data"]["resources"]["edges"][0]["node"]["title"],
        "What you can safely talk about with a peer"
    );
}
