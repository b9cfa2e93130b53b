//! Bad input gets a clear error with a stable code and changes nothing.

use alongside_core::access::Role;
use alongside_tests::{TestNode, error_code};
use serde_json::{Value, json};

async fn raw(
    node: &TestNode,
    content_type: &str,
    body: impl Into<reqwest::Body>,
    token: Option<&str>,
) -> (u16, Value) {
    let mut r = node
        .http
        .post(node.url("/graphql"))
        .header("content-type", content_type)
        .body(body);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

const CREATE_PERSON: &str = "mutation { createPerson(input: {displayName: \"A\", email: \"a@b.org\", profession: NURSE}) { id } }";

#[tokio::test]
async fn transport_level_mistakes_are_refused_before_anything_runs() {
    let node = TestNode::spawn_with(|c| c.limits.body_bytes = 4096).await;
    let admin = node.user(&[Role::Admin]).await;
    let t = Some(admin.token.as_str());
    let people = node.count("people").await;
    let mutation = json!({ "query": CREATE_PERSON }).to_string();

    let cases: Vec<(&str, u16, &str, (u16, Value))> = vec![
        (
            "malformed JSON",
            400,
            "BAD_USER_INPUT",
            raw(&node, "application/json", "{\"query\": ", t).await,
        ),
        (
            "text/plain (CSRF-able)",
            415,
            "BAD_USER_INPUT",
            raw(&node, "text/plain", mutation.clone(), t).await,
        ),
        (
            "form encoding",
            415,
            "BAD_USER_INPUT",
            raw(
                &node,
                "application/x-www-form-urlencoded",
                mutation.clone(),
                t,
            )
            .await,
        ),
        ("no content type", 415, "BAD_USER_INPUT", {
            let r = node
                .http
                .post(node.url("/graphql"))
                .bearer_auth(&admin.token)
                .body(mutation.clone())
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json().await.unwrap())
        }),
        (
            "body over the cap",
            413,
            "LIMIT_EXCEEDED",
            raw(
                &node,
                "application/json",
                format!("{{\"query\": \"{}\"}}", "a".repeat(5000)),
                t,
            )
            .await,
        ),
        (
            "batch",
            400,
            "BAD_USER_INPUT",
            raw(
                &node,
                "application/json",
                format!("[{mutation}, {mutation}]"),
                t,
            )
            .await,
        ),
        (
            "not a GraphQL request",
            400,
            "BAD_USER_INPUT",
            raw(&node, "application/json", "{\"hello\": 1}", t).await,
        ),
    ];
    for (name, status, code, (got_status, body)) in cases {
        assert_eq!(got_status, status, "{name}: {body}");
        assert_eq!(error_code(&body), Some(code), "{name}: {body}");
        assert!(
            !body["errors"][0]["message"].as_str().unwrap().is_empty(),
            "{name}"
        );
    }

    // Mutations over GET never run.
    let r = node
        .http
        .get(node.url("/graphql"))
        .query(&[("query", CREATE_PERSON)])
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(node.count("people").await, people, "nothing may be stored");
}

#[tokio::test]
async fn query_limits_are_named_in_the_error() {
    let node = TestNode::spawn().await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let t = Some(coordinator.token.as_str());

    // Depth: supporter → person → supporterProfile → person … nests past the limit.
    let mut deep = String::from("email");
    for _ in 0..8 {
        deep = format!("supporterProfile {{ person {{ {deep} }} }}");
    }
    let (_, body) = node
        .gql_raw(
            t,
            &format!("{{ people(first: 1) {{ edges {{ node {{ {deep} }} }} }} }}"),
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("LIMIT_EXCEEDED"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("limits.graphql_depth")
    );

    // Complexity: a large page of nested lists.
    let (_, body) = node
        .gql_raw(t, "{ people(first: 100) { edges { node { email displayName specialty department languages profession supporterProfile { caseloadCap timeZone } } } } }", json!({}))
        .await;
    assert_eq!(error_code(&body), Some("LIMIT_EXCEEDED"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("limits.graphql_complexity")
    );

    // 1,000 aliases.
    let aliases: String = (0..1000)
        .map(|i| format!("a{i}: institution {{ name }} "))
        .collect();
    let (_, body) = node
        .gql_raw(t, &format!("{{ {aliases} }}"), json!({}))
        .await;
    assert_eq!(error_code(&body), Some("LIMIT_EXCEEDED"), "{body}");

    // 3,400 aliases of the free `__typename`: complexity does not see them, the field count does.
    let typenames: String = (0..3400).map(|i| format!("t{i}: __typename ")).collect();
    let (_, body) = node
        .gql_raw(t, &format!("{{ {typenames} }}"), json!({}))
        .await;
    assert_eq!(error_code(&body), Some("LIMIT_EXCEEDED"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("limits.graphql_fields"),
        "{body}"
    );
    // The same through a fragment spread many times.
    let spreads: String = (0..60)
        .map(|i| format!("s{i}: institution {{ ...F }} "))
        .collect();
    let fragment = format!(
        "fragment F on Institution {{ {} }}",
        (0..20).map(|i| format!("n{i}: name ")).collect::<String>()
    );
    let (_, body) = node
        .gql_raw(t, &format!("{{ {spreads} }} {fragment}"), json!({}))
        .await;
    assert_eq!(error_code(&body), Some("LIMIT_EXCEEDED"), "{body}");
    // An ordinary document is not affected.
    let (_, body) = node
        .gql_raw(t, "{ __typename institution { name } }", json!({}))
        .await;
    assert!(body.get("errors").is_none(), "{body}");

    // A huge bad value is not echoed back whole.
    let huge = "W".repeat(60_000);
    let (_, body) = node
        .gql_raw(
            t,
            "mutation($p: Profession!) { createPerson(input: {displayName: \"A\", email: \"a@b.org\", profession: $p}) { id } }",
            json!({ "p": huge }),
        )
        .await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.chars().count() <= 301,
        "{} characters",
        message.len()
    );

    // A page larger than the cap.
    let (_, body) = node
        .gql_raw(
            t,
            "{ programs(first: 101) { edges { node { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("LIMIT_EXCEEDED"), "{body}");
    let (_, body) = node
        .gql_raw(
            t,
            "{ programs(first: -1) { edges { node { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
}

#[tokio::test]
async fn invalid_values_get_field_level_errors_and_store_nothing() {
    let node = TestNode::spawn().await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let t = Some(coordinator.token.as_str());
    let people = node.count("people").await;
    let programs = node.count("programs").await;

    let cases = [
        (
            "unknown enum",
            "mutation { createPerson(input: {displayName: \"A\", email: \"a@b.org\", profession: WIZARD}) { id } }",
            None,
        ),
        (
            "bad email",
            "mutation { createPerson(input: {displayName: \"A\", email: \"not-an-email\", profession: NURSE}) { id } }",
            Some("email"),
        ),
        (
            "empty name",
            "mutation { createPerson(input: {displayName: \"  \", email: \"a@b.org\", profession: NURSE}) { id } }",
            Some("displayName"),
        ),
        (
            "bad language",
            "mutation { createPerson(input: {displayName: \"A\", email: \"a@b.org\", profession: NURSE, languages: [\"english!\"]}) { id } }",
            Some("languages"),
        ),
        (
            "tier 4",
            "mutation { createProgram(input: {name: \"X\", kind: EAP, tier: 4, hours: \"h\", contact: \"c\"}) { id } }",
            Some("tier"),
        ),
        (
            "follow-up day 0",
            "mutation { createProgram(input: {name: \"X\", kind: EAP, tier: 3, hours: \"h\", contact: \"c\", followUpDays: [0]}) { id } }",
            Some("followUpDays"),
        ),
        (
            "control characters",
            "mutation { createProgram(input: {name: \"X\\u0000\", kind: EAP, tier: 3, hours: \"h\", contact: \"c\"}) { id } }",
            Some("name"),
        ),
        (
            "a right-to-left override hiding what a name says",
            "mutation { createPerson(input: {displayName: \"Ana \\u202Egnalb\", email: \"a@b.org\", profession: NURSE}) { id } }",
            Some("displayName"),
        ),
        (
            "a zero-width space",
            "mutation { createPerson(input: {displayName: \"Ana\\u200BLee\", email: \"a@b.org\", profession: NURSE}) { id } }",
            Some("displayName"),
        ),
        (
            "the year 0",
            "mutation { createEvent(input: {category: NEAR_MISS, month: \"0000-01\", department: \"ICU\", severityBand: NO_HARM, involved: []}) { id } }",
            Some("month"),
        ),
        (
            "wrong id type",
            "{ person(id: \"UHJvZ3JhbTowMTkzMDAwMC0wMDAwLTcwMDAtODAwMC0wMDAwMDAwMDAwMDA\") { email } }",
            Some("id"),
        ),
        (
            "garbage id",
            "{ person(id: \"!!!\") { email } }",
            Some("id"),
        ),
        ("unknown field", "{ institution { secretField } }", None),
    ];
    for (name, doc, field) in cases {
        let (status, body) = node.gql_raw(t, doc, json!({})).await;
        assert_eq!(status, 200, "{name}");
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{name}: {body}");
        if let Some(field) = field {
            assert_eq!(
                body["errors"][0]["extensions"]["field"], field,
                "{name}: {body}"
            );
        }
    }
    assert_eq!(node.count("people").await, people);
    assert_eq!(node.count("programs").await, programs);
}

#[tokio::test]
async fn sql_looking_strings_are_stored_verbatim() {
    let node = TestNode::spawn().await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let nasty = "Robert'); DROP TABLE people;-- \" OR 1=1";
    let q = "mutation($n: String!, $s: String!) { createPerson(input: {displayName: $n, email: \"bobby@tables.org\", profession: NURSE, specialty: $s}) { id displayName specialty } }";
    let data = node
        .gql(
            Some(&coordinator.token),
            q,
            json!({ "n": nasty, "s": "' UNION SELECT * FROM accounts --" }),
        )
        .await;
    assert_eq!(data["createPerson"]["displayName"], nasty);
    let id = data["createPerson"]["id"].as_str().unwrap();
    let data = node
        .gql(
            Some(&coordinator.token),
            "query($id: ID!) { person(id: $id) { displayName specialty } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data["person"]["displayName"], nasty);
    assert_eq!(
        data["person"]["specialty"],
        "' UNION SELECT * FROM accounts --"
    );
    assert!(node.count("people").await >= 2, "the table is still there");
    // A duplicate is a conflict, not an internal error.
    let (_, body) = node
        .gql_raw(Some(&coordinator.token), q, json!({ "n": "x", "s": "y" }))
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
}

#[tokio::test]
async fn rest_errors_are_problem_documents() {
    let node = TestNode::spawn_with(|c| c.limits.body_bytes = 2048).await;
    let login = node.url("/api/v1/auth/login");
    let cases = [
        (
            "malformed",
            node.http
                .post(&login)
                .header("content-type", "application/json")
                .body("{"),
            400,
            "BAD_USER_INPUT",
        ),
        (
            "wrong type",
            node.http
                .post(&login)
                .header("content-type", "text/plain")
                .body("{}"),
            415,
            "BAD_USER_INPUT",
        ),
        (
            "too big",
            node.http
                .post(&login)
                .json(&json!({"email": "a".repeat(4000), "password": "x"})),
            413,
            "LIMIT_EXCEEDED",
        ),
        (
            "unknown field",
            node.http
                .post(&login)
                .json(&json!({"email": "a@b.org", "password": "x", "admin": true})),
            400,
            "BAD_USER_INPUT",
        ),
        (
            "missing field",
            node.http.post(&login).json(&json!({"email": "a@b.org"})),
            400,
            "BAD_USER_INPUT",
        ),
        (
            "page too big",
            node.http.get(node.url("/api/v1/programs?limit=1000")),
            400,
            "BAD_USER_INPUT",
        ),
        (
            "empty page",
            node.http.get(node.url("/api/v1/programs?limit=0")),
            400,
            "BAD_USER_INPUT",
        ),
        (
            "bad cursor",
            node.http.get(node.url("/api/v1/programs?after=xyz")),
            400,
            "BAD_USER_INPUT",
        ),
        (
            "bad id",
            node.http.get(node.url("/api/v1/programs/123")),
            400,
            "BAD_USER_INPUT",
        ),
        (
            "unknown program",
            node.http
                .get(node.url("/api/v1/programs/01930000-0000-7000-8000-000000000000")),
            404,
            "NOT_FOUND",
        ),
        (
            "bad token",
            node.http
                .get(node.url("/api/v1/programs"))
                .bearer_auth("x.y.z"),
            401,
            "UNAUTHENTICATED",
        ),
    ];
    for (name, request, status, code) in cases {
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), status, "{name}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{name}"
        );
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], code, "{name}: {body}");
        assert_eq!(body["status"], status, "{name}");
        assert!(
            body["type"]
                .as_str()
                .unwrap()
                .starts_with("urn:alongside:problem:")
        );
    }
}
