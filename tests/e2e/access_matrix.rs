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
    /// Let through, then refused for what was asked: the id names nothing (NOT_FOUND), the
    /// input is wrong (BAD_USER_INPUT) or the state does not allow it (CONFLICT). Ids in these
    /// rows name nothing, so only who is let through is being checked.
    N,
}
use Want::{A, F, N, U};

/// An id of each kind that names nothing.
const NOTHING: &str = "01900000-0000-7000-8000-000000000000";

fn nothing(kind: &str) -> String {
    global_id(kind, NOTHING)
}

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
    other_email: String,
    /// An account no row changes, to sign in with.
    signin_email: String,
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
        (
            "node",
            "query($id: ID!) { node(id: $id) { id } }",
            |f| json!({ "id": f.other_person }),
            [U, F, F, A, A, F, F],
        ),
        (
            "program",
            "query($id: ID!) { program(id: $id) { name } }",
            |f| json!({ "id": f.program }),
            [A, A, A, A, A, A, A],
        ),
        (
            "event",
            "query($id: ID!) { event(id: $id) { id } }",
            |_| json!({ "id": nothing("Event") }),
            [U, F, F, N, N, F, F],
        ),
        (
            "supportRequest",
            "query($id: ID!) { supportRequest(id: $id) { id } }",
            |_| json!({ "id": nothing("SupportRequest") }),
            [U, N, N, N, N, N, F],
        ),
        (
            "matchSuggestions",
            "query($id: ID!) { matchSuggestions(requestId: $id) { score } }",
            |_| json!({ "id": nothing("SupportRequest") }),
            [U, F, F, N, N, F, F],
        ),
        (
            "programMetrics",
            "{ programMetrics(from: \"2026-01\", to: \"2026-02\") }",
            |_| json!({}),
            [U, F, F, A, A, A, F],
        ),
        (
            "surveyQuestions",
            "{ surveyQuestions }",
            |_| json!({}),
            [A, A, A, A, A, A, A],
        ),
        (
            "surveyResults",
            "{ surveyResults(from: \"2026-01\", to: \"2026-02\") }",
            |_| json!({}),
            [U, F, F, A, A, A, F],
        ),
        (
            "businessCase",
            "{ businessCase(from: \"2026-01\", to: \"2026-02\", leavingRateWithoutSupport: 0.2, retentionEffect: 0.3, replacementCost: 80000, absenceDaysAvoidedPerPerson: 2, costPerAbsenceDay: 400, programCost: 50000) }",
            |_| json!({}),
            [U, F, F, N, N, N, F],
        ),
        (
            "outboxDeadLetters",
            "{ outboxDeadLetters { id } }",
            |_| json!({}),
            [U, F, F, F, A, F, F],
        ),
        (
            "webhookEndpoints",
            "{ webhookEndpoints { id } }",
            |_| json!({}),
            [U, F, F, F, A, F, F],
        ),
        (
            "webhookDeliveries",
            "query($id: ID!) { webhookDeliveries(endpointId: $id) { at } }",
            |_| json!({ "id": nothing("WebhookEndpoint") }),
            [U, F, F, F, A, F, F],
        ),
        (
            "readinessQuestions",
            "{ readinessQuestions }",
            |_| json!({}),
            [A, A, A, A, A, A, A],
        ),
        (
            "readinessHistory",
            "{ readinessHistory }",
            |_| json!({}),
            [U, F, F, A, A, A, F],
        ),
        (
            "resources",
            "{ resources(first: 5) { edges { node { title } } } }",
            |_| json!({}),
            [A, A, A, A, A, A, A],
        ),
        (
            "resource",
            "query($id: ID!) { resource(id: $id) { title } }",
            |_| json!({ "id": nothing("Resource") }),
            [N, N, N, N, N, N, N],
        ),
        (
            "trainingCourses",
            "{ trainingCourses { id } }",
            |_| json!({}),
            [A, A, A, A, A, A, A],
        ),
        (
            "trainers",
            "{ trainers { displayName } }",
            |_| json!({}),
            [A, A, A, A, A, A, A],
        ),
        (
            "introductionsForRequest",
            "query($id: ID!) { introductionsForRequest(requestId: $id) { id } }",
            |_| json!({ "id": nothing("SupportRequest") }),
            [U, N, N, N, N, N, F],
        ),
        (
            "login",
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }",
            |f| json!({ "e": f.signin_email, "p": alongside_tests::PASSWORD }),
            [A, A, A, A, A, A, A],
        ),
        (
            "requestSignInLink",
            "mutation($e: String!) { requestSignInLink(email: $e) }",
            |f| json!({ "e": f.other_email }),
            [F, F, F, F, F, F, F],
        ),
        (
            "signInWithLink",
            "mutation { signInWithLink(token: \"not-a-link\") { accessToken } }",
            |_| json!({}),
            [F, F, F, F, F, F, F],
        ),
        (
            "refreshToken",
            "mutation { refreshToken(refreshToken: \"not-a-token\") { accessToken } }",
            |_| json!({}),
            [U, U, U, U, U, U, U],
        ),
        (
            "setProgramIntake",
            "mutation($id: ID!) { setProgramIntake(programId: $id, input: {email: \"intake@eap.test\"}) { name } }",
            |f| json!({ "id": f.program }),
            [U, F, F, N, N, F, N],
        ),
        (
            "addMilestone",
            "mutation($id: ID!) { addMilestone(eventId: $id, kind: INVESTIGATION, month: \"2026-01\") { kind } }",
            |_| json!({ "id": nothing("Event") }),
            [U, F, F, N, N, F, F],
        ),
        (
            "closeEvent",
            "mutation($id: ID!) { closeEvent(id: $id) { id } }",
            |_| json!({ "id": nothing("Event") }),
            [U, F, F, N, N, F, F],
        ),
        (
            "markOutreach",
            "mutation($id: ID!) { markOutreach(id: $id, state: REACHED) { state } }",
            |_| json!({ "id": nothing("Outreach") }),
            [U, F, F, N, N, F, F],
        ),
        (
            "declineOutreach",
            "mutation($id: ID!) { declineOutreach(id: $id) { state } }",
            |_| json!({ "id": nothing("Outreach") }),
            [U, N, N, N, N, N, F],
        ),
        (
            "stopOutreach",
            "mutation($id: ID!) { stopOutreach(id: $id) { state } }",
            |_| json!({ "id": nothing("Outreach") }),
            [U, N, N, N, N, N, F],
        ),
        (
            "referColleague",
            "mutation($e: String!) { referColleague(input: {colleague: $e}) }",
            |f| json!({ "e": f.other_email }),
            [U, A, A, A, A, A, F],
        ),
        (
            "acknowledgeRequest",
            "mutation($id: ID!) { acknowledgeRequest(id: $id) { state } }",
            |_| json!({ "id": nothing("SupportRequest") }),
            [U, N, N, N, N, N, F],
        ),
        (
            "respondToOffer",
            "mutation($id: ID!) { respondToOffer(id: $id, accept: true) { state } }",
            |_| json!({ "id": nothing("SupportRequest") }),
            [U, F, N, F, F, F, F],
        ),
        (
            "assignRequest",
            "mutation($id: ID!, $s: ID!) { assignRequest(id: $id, supporterId: $s) { state } }",
            |_| json!({ "id": nothing("SupportRequest"), "s": nothing("Person") }),
            [U, F, F, N, N, F, F],
        ),
        (
            "recordEncounter",
            "mutation($id: ID!) { recordEncounter(requestId: $id, input: {occurredOn: \"2026-01-05\", duration: UNDER_FIFTEEN, modality: PHONE}) { state } }",
            |_| json!({ "id": nothing("SupportRequest") }),
            [U, F, N, F, F, F, F],
        ),
        (
            "escalateRequest",
            "mutation($id: ID!, $p: ID!) { escalateRequest(id: $id, programId: $p) { state } }",
            |f| json!({ "id": nothing("SupportRequest"), "p": f.program }),
            [U, N, N, N, N, N, F],
        ),
        (
            "advanceRequest",
            "mutation($id: ID!) { advanceRequest(id: $id, to: CLOSED) { state } }",
            |_| json!({ "id": nothing("SupportRequest") }),
            [U, N, N, N, N, N, F],
        ),
        (
            "submitSurvey",
            "mutation { submitSurvey(token: \"not-a-survey-token\", answers: {}) }",
            |_| json!({}),
            [N, N, N, N, N, N, N],
        ),
        (
            "withdrawRequest",
            "mutation($id: ID!) { withdrawRequest(id: $id) { state } }",
            |_| json!({ "id": nothing("SupportRequest") }),
            [U, N, N, N, N, N, F],
        ),
        (
            "declineSupport",
            "mutation($id: ID!) { declineSupport(id: $id) { state } }",
            |_| json!({ "id": nothing("SupportRequest") }),
            [U, N, N, N, N, N, F],
        ),
        (
            "completeFollowUp",
            "mutation($id: ID!) { completeFollowUp(id: $id, outcome: DOING_WELL) { id } }",
            |_| json!({ "id": nothing("FollowUp") }),
            [U, F, N, F, F, F, F],
        ),
        (
            "requeueOutboxMessage",
            "mutation($id: ID!) { requeueOutboxMessage(id: $id) { id } }",
            |_| json!({ "id": nothing("OutboxMessage") }),
            [U, F, F, F, N, F, F],
        ),
        (
            "registerWebhook",
            "mutation { registerWebhook(url: \"https://hooks.example.org/alongside\", eventTypes: [\"support_request.created\"]) { endpoint { id } } }",
            |_| json!({}),
            [U, F, F, F, A, F, F],
        ),
        (
            "setWebhookActive",
            "mutation($id: ID!) { setWebhookActive(id: $id, active: false) { id } }",
            |_| json!({ "id": nothing("WebhookEndpoint") }),
            [U, F, F, F, N, F, F],
        ),
        (
            "submitReadinessAssessment",
            "mutation { submitReadinessAssessment(answers: {}) }",
            |_| json!({}),
            [U, F, F, N, N, F, F],
        ),
        (
            "createResource",
            "mutation { createResource(input: {kind: ARTICLE, title: \"Parking\", summary: \"Where to park.\", body: \"Level 2.\", licence: \"internal\", sharing: LOCAL}) { id } }",
            |_| json!({}),
            [U, F, F, A, A, F, F],
        ),
        (
            "updateResource",
            "mutation($id: ID!) { updateResource(id: $id, input: {kind: ARTICLE, title: \"Parking\", summary: \"Where to park.\", body: \"Level 2.\", licence: \"internal\", sharing: LOCAL}) { id } }",
            |_| json!({ "id": nothing("Resource") }),
            [U, F, F, N, N, F, F],
        ),
        (
            "deleteResource",
            "mutation($id: ID!) { deleteResource(id: $id) }",
            |_| json!({ "id": nothing("Resource") }),
            [U, F, F, N, N, F, F],
        ),
        (
            "createTrainingCourse",
            "mutation { createTrainingCourse(kind: PEER_SUPPORT, title: \"Peer support basics\", validityMonths: 24) { id } }",
            |_| json!({}),
            [U, F, F, A, A, F, F],
        ),
        (
            "scheduleTrainingSession",
            "mutation($id: ID!) { scheduleTrainingSession(courseId: $id, startsOn: \"2026-03-01\", format: \"in person\") }",
            |_| json!({ "id": nothing("TrainingCourse") }),
            [U, F, F, N, N, F, F],
        ),
        (
            "recordTrainingCompletion",
            "mutation($p: ID!, $c: ID!) { recordTrainingCompletion(personId: $p, courseId: $c, completedOn: \"2026-01-05\") }",
            |f| json!({ "p": f.other_person, "c": nothing("TrainingCourse") }),
            [U, F, F, N, N, F, F],
        ),
        (
            "upsertTrainer",
            "mutation { upsertTrainer(input: {displayName: \"Rosa Lind\", consented: true}) }",
            |_| json!({}),
            [U, F, F, A, A, F, F],
        ),
        (
            "findOutsidePeers",
            "mutation($id: ID!) { findOutsidePeers(requestId: $id) { candidates { handle } } }",
            |_| json!({ "id": nothing("SupportRequest") }),
            [U, N, N, N, N, N, F],
        ),
        (
            "requestIntroduction",
            "mutation($id: ID!) { requestIntroduction(requestId: $id, nodeId: \"b.test\", handle: \"h\", share: {contact: \"pager 4471\"}) { id } }",
            |_| json!({ "id": nothing("SupportRequest") }),
            [U, N, N, N, N, N, F],
        ),
        (
            "respondToIntroduction",
            "mutation($id: ID!) { respondToIntroduction(id: $id, accept: true) { state } }",
            |_| json!({ "id": nothing("Introduction") }),
            [U, F, N, F, F, F, F],
        ),
        (
            "recordIntroductionConversation",
            "mutation($id: ID!) { recordIntroductionConversation(id: $id, input: {occurredOn: \"2026-01-05\", duration: UNDER_FIFTEEN, modality: PHONE}) { state } }",
            |_| json!({ "id": nothing("Introduction") }),
            [U, F, N, F, F, F, F],
        ),
        (
            "closeIntroduction",
            "mutation($id: ID!) { closeIntroduction(id: $id) { state } }",
            |_| json!({ "id": nothing("Introduction") }),
            [U, F, N, F, F, F, F],
        ),
        (
            "approveMember",
            "mutation { approveMember(nodeId: \"x.test\") { nodeId } }",
            |_| json!({}),
            [U, F, F, F, N, F, F],
        ),
        (
            "suspendMember",
            "mutation { suspendMember(nodeId: \"x.test\") { nodeId } }",
            |_| json!({}),
            [U, F, F, F, N, F, F],
        ),
        (
            "setOnCallRota",
            "mutation { setOnCallRota(input: {timeZone: \"America/Chicago\", shifts: []}) { timeZone } }",
            |_| json!({}),
            [U, F, F, A, A, F, F],
        ),
        (
            "addOnCallOverride",
            "mutation($p: ID!) { addOnCallOverride(personId: $p, position: 1, startsAt: \"2026-03-01T00:00:00Z\", endsAt: \"2026-03-02T00:00:00Z\") { timeZone } }",
            |_| json!({ "p": nothing("Person") }),
            [U, F, F, N, N, F, F],
        ),
        (
            "removeOnCallOverride",
            "mutation($id: ID!) { removeOnCallOverride(id: $id) { timeZone } }",
            |_| json!({ "id": nothing("OnCallOverride") }),
            [U, F, F, N, N, F, F],
        ),
        (
            "acknowledgeAlert",
            "mutation { acknowledgeAlert(code: \"NO_ON_CALL\") }",
            |_| json!({}),
            [N, N, N, N, N, N, N],
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
    node.create_account("signin@hospital.test", &[]).await;

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
        other_email: "other@hospital.test".into(),
        signin_email: "signin@hospital.test".into(),
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
                (_, Some("NOT_FOUND" | "BAD_USER_INPUT" | "CONFLICT")) => N,
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

/// The root fields of a type in the committed schema, in order.
fn root_fields(schema: &str, type_name: &str) -> Vec<String> {
    let start = schema
        .find(&format!("type {type_name} {{"))
        .unwrap_or_else(|| panic!("{type_name} is not in docs/schema.graphql"));
    let body = &schema[start..];
    let body = &body[..body.find("\n}").unwrap()];
    let (mut fields, mut in_doc, mut depth) = (vec![], false, 0i32);
    for line in body.lines().skip(1) {
        let t = line.trim();
        if t.starts_with("\"\"\"") {
            // A one-line docstring opens and closes on the same line.
            if !(t.len() > 3 && t.ends_with("\"\"\"")) {
                in_doc = !in_doc;
            }
            continue;
        }
        if in_doc {
            continue;
        }
        if depth == 0 && line.starts_with('\t') && !line.starts_with("\t\t") {
            let name: String = t
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                fields.push(name);
            }
        }
        depth += t.matches('(').count() as i32 - t.matches(')').count() as i32;
    }
    fields
}

/// The matrix is built from the schema: a root field added without a row fails here, naming it.
#[test]
fn every_root_field_of_the_schema_has_a_row() {
    let schema = include_str!("../../docs/schema.graphql");
    let covered: std::collections::BTreeSet<String> = operations()
        .iter()
        .map(|(name, ..)| name.split(['(', '.']).next().unwrap_or_default().to_owned())
        .collect();
    let fields: Vec<String> = ["QueryRoot", "MutationRoot"]
        .iter()
        .flat_map(|t| root_fields(schema, t))
        .collect();
    assert!(fields.len() > 90, "the schema parse found {}", fields.len());
    let missing: Vec<&String> = fields.iter().filter(|f| !covered.contains(*f)).collect();
    assert!(
        missing.is_empty(),
        "root fields with no row in the access matrix: {missing:?}"
    );
    let stale: Vec<&String> = covered.iter().filter(|c| !fields.contains(c)).collect();
    assert!(
        stale.is_empty(),
        "rows for fields the schema no longer has: {stale:?}"
    );
}
