//! Every kind of caller × every operation, through the real GraphQL endpoint.

use alongside_core::access::{Role, Scope};
use alongside_tests::{TestNode, error_code};
use serde_json::{Value, json};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Want {
    /// Runs.
    A,
    /// UNAUTHENTICATED.
    U,
    /// FORBIDDEN.
    F,
}
use Want::{A, F, U};

const CALLERS: [&str; 7] = [
    "anonymous",
    "member",
    "peer_supporter",
    "coordinator",
    "admin",
    "analyst",
    "client",
];

struct Fixture {
    other_person: String,
    other_account: String,
    program: String,
}

type Vars = fn(&Fixture) -> Value;

/// Whether any value in a response's data is not null (a refused operation returns none).
fn has_values(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Object(m) => m.values().any(has_values),
        Value::Array(a) => a.iter().any(has_values),
        _ => true,
    }
}

fn unique_email() -> String {
    format!("p{}@hospital.test", Uuid::new_v4().simple())
}

/// (operation, document, variables, expected for each caller in `CALLERS` order)
fn operations() -> Vec<(&'static str, &'static str, Vars, [Want; 7])> {
    vec![
        (
            "institution",
            "{ institution { name crisisResources } }",
            |_| json!({}),
            [A, A, A, A, A, A, A],
        ),
        (
            "updateInstitution",
            "mutation { updateInstitution(input: {crisisResources: \"Call 988\"}) { name } }",
            |_| json!({}),
            [U, F, F, F, A, F, F],
        ),
        (
            "programs",
            "{ programs(first: 5) { edges { node { name } } } }",
            |_| json!({}),
            [A, A, A, A, A, A, A],
        ),
        (
            "programs(includeInactive)",
            "{ programs(first: 5, includeInactive: true) { edges { node { name } } } }",
            |_| json!({}),
            [U, F, F, A, A, F, A],
        ),
        (
            "createProgram",
            "mutation { createProgram(input: {name: \"Chaplaincy\", kind: CHAPLAINCY, tier: 3, hours: \"24/7\", contact: \"x5\"}) { id } }",
            |_| json!({}),
            [U, F, F, A, A, F, A],
        ),
        (
            "updateProgram",
            "mutation($id: ID!) { updateProgram(id: $id, input: {hours: \"8-5\"}) { id } }",
            |f| json!({ "id": f.program }),
            [U, F, F, A, A, F, A],
        ),
        (
            "viewer",
            "{ viewer { roles } }",
            |_| json!({}),
            [U, A, A, A, A, A, F],
        ),
        (
            "updateMyProfile",
            "mutation { updateMyProfile(input: {languages: [\"en\", \"es\"]}) { languages } }",
            |_| json!({}),
            [U, A, A, A, A, A, F],
        ),
        (
            "people",
            "{ people(first: 5) { edges { node { email } } } }",
            |_| json!({}),
            [U, F, F, A, A, F, F],
        ),
        (
            "person",
            "query($id: ID!) { person(id: $id) { email } }",
            |f| json!({ "id": f.other_person }),
            [U, F, F, A, A, F, F],
        ),
        (
            "createPerson",
            "mutation($e: String!) { createPerson(input: {displayName: \"New\", email: $e, profession: PHARMACIST}) { id } }",
            |_| json!({ "e": unique_email() }),
            [U, F, F, A, A, F, F],
        ),
        (
            "updatePerson",
            "mutation($id: ID!) { updatePerson(id: $id, input: {department: \"ICU\"}) { id } }",
            |f| json!({ "id": f.other_person }),
            [U, F, F, A, A, F, F],
        ),
        (
            "peerSupporters",
            "{ peerSupporters(first: 5) { edges { node { caseloadCap } } } }",
            |_| json!({}),
            [U, F, F, A, A, F, F],
        ),
        (
            "upsertPeerSupporter",
            "mutation($id: ID!) { upsertPeerSupporter(input: {personId: $id, trainedOn: \"2025-01-10\", timeZone: \"UTC\", caseloadCap: 3}) { id } }",
            |f| json!({ "id": f.other_person }),
            [U, F, F, A, A, F, F],
        ),
        (
            "updateMySupporterProfile",
            "mutation { updateMySupporterProfile(input: {caseloadCap: 2}) { caseloadCap } }",
            |_| json!({}),
            [U, F, A, F, F, F, F],
        ),
        (
            "createUser",
            "mutation($e: String!) { createUser(input: {email: $e, displayName: \"N\", profession: NURSE, roles: [ANALYST], password: \"a long enough password\"}) { account { id } } }",
            |_| json!({ "e": unique_email() }),
            [U, F, F, F, A, F, F],
        ),
        (
            "createEvent",
            "mutation { createEvent(input: {category: NEAR_MISS, month: \"2026-01\", involved: [{email: \"other@hospital.test\", role: WITNESS}]}) { id } }",
            |_| json!({}),
            [U, F, F, A, A, F, F],
        ),
        (
            "events",
            "{ events(first: 5) { edges { node { category } } } }",
            |_| json!({}),
            [U, F, F, A, A, F, F],
        ),
        (
            "myOutreach",
            "{ myOutreach { state } }",
            |_| json!({}),
            [U, A, A, A, A, A, F],
        ),
        (
            "requestSupport",
            "mutation { requestSupport(input: {urgency: ROUTINE}) { request { state } } }",
            |_| json!({}),
            [U, A, A, A, A, A, F],
        ),
        (
            "mySupportRequests",
            "{ mySupportRequests { state } }",
            |_| json!({}),
            [U, A, A, A, A, A, F],
        ),
        (
            "referForSupport",
            "mutation($id: ID!) { referForSupport(personId: $id, input: {}) { request { state } } }",
            |f| json!({ "id": f.other_person }),
            [U, F, F, A, A, F, F],
        ),
        (
            "supportQueue",
            "{ supportQueue { state } }",
            |_| json!({}),
            [U, F, F, A, A, F, F],
        ),
        (
            "requestCounts",
            "{ requestCounts { outsideInstitutionOnly } }",
            |_| json!({}),
            [U, F, F, A, A, A, F],
        ),
        (
            "clockBreaches",
            "{ clockBreaches { clock } }",
            |_| json!({}),
            [U, F, F, A, A, F, F],
        ),
        (
            "supportingRequests",
            "{ supportingRequests { state } }",
            |_| json!({}),
            [U, F, A, F, F, F, F],
        ),
        (
            "dueFollowUps",
            "{ dueFollowUps { state } }",
            |_| json!({}),
            [U, F, A, F, F, F, F],
        ),
        (
            "setAccountRoles",
            "mutation($id: ID!) { setAccountRoles(accountId: $id, roles: [PEER_SUPPORTER]) { roles } }",
            |f| json!({ "id": f.other_account }),
            [U, F, F, F, A, F, F],
        ),
        (
            "federation.resources",
            "{ federation { resources { edges { node { origin } } } trainers { edges { node { origin } } } } }",
            |_| json!({}),
            [U, A, A, A, A, A, A],
        ),
        (
            "federation.status",
            "{ federation { status { nodeId problem } } }",
            |_| json!({}),
            [U, F, F, F, A, F, F],
        ),
        (
            "federation.members",
            "{ federation { members { nodeId } } }",
            |_| json!({}),
            [U, F, F, F, A, F, F],
        ),
        (
            "federation.metrics",
            "{ federation { metrics(from: \"2026-01\", to: \"2026-02\") } }",
            |_| json!({}),
            [U, F, F, F, A, A, F],
        ),
        (
            "myIntroductions",
            "{ myIntroductions { id } }",
            |_| json!({}),
            [U, F, A, F, F, F, F],
        ),
        (
            "onCallRota",
            "{ onCallRota { timeZone onCallNow } }",
            |_| json!({}),
            [U, F, F, A, A, F, F],
        ),
        (
            "degraded",
            "{ degraded { code detail } }",
            |_| json!({}),
            [U, F, F, A, A, F, F],
        ),
        (
            "setAccountSuspended",
            "mutation($id: ID!) { setAccountSuspended(accountId: $id, suspended: true) { disabled } }",
            |f| json!({ "id": f.other_account }),
            [U, F, F, F, A, F, F],
        ),
        // Last: it ends each caller's own token.
        (
            "signOutEverywhere",
            "mutation { signOutEverywhere }",
            |_| json!({}),
            [U, A, A, A, A, A, F],
        ),
    ]
}

fn global_id(kind: &str, id: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}:{id}"))
}

#[tokio::test]
async fn every_caller_against_every_operation() {
    let node = TestNode::spawn().await;
    let member = node.user(&[]).await;
    let peer = node.user(&[Role::PeerSupporter]).await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let admin = node.user(&[Role::Admin]).await;
    let analyst = node.user(&[Role::Analyst]).await;
    let client = node.client_token(&[Scope::ProgramsWrite]).await;
    let (other_account, other_person) = node.create_account("other@hospital.test", &[]).await;

    // The peer supporter needs a profile to edit their own.
    let upsert = "mutation($id: ID!) { upsertPeerSupporter(input: {personId: $id, trainedOn: \"2025-01-10\", timeZone: \"UTC\", caseloadCap: 3}) { id } }";
    node.gql(
        Some(&coordinator.token),
        upsert,
        json!({ "id": global_id("Person", &peer.person_id) }),
    )
    .await;
    let program = node
        .gql(Some(&coordinator.token), "mutation { createProgram(input: {name: \"Peers\", kind: PEER_SUPPORT, tier: 2, hours: \"24/7\", contact: \"x1\"}) { id } }", json!({}))
        .await["createProgram"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let fixture = Fixture {
        other_person: global_id("Person", &other_person),
        other_account: global_id("Account", &other_account),
        program,
    };

    let tokens: [Option<&str>; 7] = [
        None,
        Some(&member.token),
        Some(&peer.token),
        Some(&coordinator.token),
        Some(&admin.token),
        Some(&analyst.token),
        Some(&client),
    ];
    let mut failures = vec![];
    let mut checked = 0;
    for (name, doc, vars, wants) in operations() {
        for (i, want) in wants.iter().enumerate() {
            let people_before = node.count("people").await;
            let (status, body) = node.gql_raw(tokens[i], doc, vars(&fixture)).await;
            let got = match (status, error_code(&body)) {
                (200, None) => A,
                (_, Some("UNAUTHENTICATED")) => U,
                (_, Some("FORBIDDEN")) => F,
                _ => {
                    failures.push(format!(
                        "{name} as {}: unexpected {status} {body}",
                        CALLERS[i]
                    ));
                    continue;
                }
            };
            if got != *want {
                failures.push(format!(
                    "{name} as {}: wanted {want:?}, got {got:?}: {body}",
                    CALLERS[i]
                ));
            }
            if got != A {
                assert!(
                    !has_values(&body["data"]),
                    "{name} as {}: refused but returned data: {body}",
                    CALLERS[i]
                );
                assert_eq!(
                    node.count("people").await,
                    people_before,
                    "{name} as {}: refused but wrote",
                    CALLERS[i]
                );
            }
            checked += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "access matrix failures:\n{}",
        failures.join("\n")
    );
    assert_eq!(checked, operations().len() * CALLERS.len());
}

#[tokio::test]
async fn admins_cannot_remove_their_own_admin_role() {
    let node = TestNode::spawn().await;
    let admin = node.user(&[Role::Admin]).await;
    let (_, body) = node
        .gql_raw(
            Some(&admin.token),
            "mutation($id: ID!) { setAccountRoles(accountId: $id, roles: [COORDINATOR]) { roles } }",
            json!({ "id": global_id("Account", &admin.account_id) }),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"));
}

#[tokio::test]
async fn members_edit_their_own_profile_but_not_their_email() {
    let node = TestNode::spawn().await;
    let member = node.user(&[]).await;
    let me = global_id("Person", &member.person_id);
    let (_, body) = node
        .gql_raw(
            Some(&member.token),
            "mutation($id: ID!) { updatePerson(id: $id, input: {email: \"x@y.org\"}) { id } }",
            json!({ "id": me }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
    let data = node
        .gql(Some(&member.token), "mutation($id: ID!) { updatePerson(id: $id, input: {specialty: \"Oncology\"}) { specialty } }", json!({ "id": me }))
        .await;
    assert_eq!(data["updatePerson"]["specialty"], "Oncology");
    let data = node
        .gql(
            Some(&member.token),
            "query($id: ID!) { person(id: $id) { email } }",
            json!({ "id": me }),
        )
        .await;
    assert_eq!(data["person"]["email"], member.email);
}
