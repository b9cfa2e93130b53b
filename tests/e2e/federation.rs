//! A federation of real nodes on loopback ports: a steward and members joined through the real
//! endpoints, directory sync, a cross-institution match from request to accepted introduction,
//! refusals of bad calls, and members that are slow, silent, broken or gone.

use alongside_api::maintenance;
use alongside_core::access::{Principal, Role, UserPrincipal};
use alongside_core::vocab::MemberStatus;
use alongside_federation::{Request, sign_call};
use alongside_tests::federation::{
    add_member, fast, federation, federation_with, misbehaving, steward_admin, supporter,
};
use alongside_tests::{TestNode, TestUser};
use serde_json::{Value, json};

/// The node's federation status as its operator sees it.
async fn fed_status(node: &TestNode) -> alongside_federation::Status {
    node.state
        .federation
        .status(&Principal::Operator)
        .await
        .unwrap()
}

fn gid(kind: &str, id: &str) -> String {
    alongside_tests::gid(kind, id)
}

async fn outside_request(node: &TestNode) -> (TestUser, String) {
    let me = node.user(&[]).await;
    let made = node
        .gql(
            Some(&me.token),
            "mutation { requestSupport(input: {peerOrigin: OUTSIDE_INSTITUTION_ONLY, peerProfession: NURSE}) { request { id state } } }",
            json!({}),
        )
        .await;
    let id = made["requestSupport"]["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        made["requestSupport"]["request"]["state"],
        "AWAITING_FEDERATION"
    );
    (me, id)
}

const FIND: &str = "mutation($r: ID!) { findOutsidePeers(requestId: $r, timeZone: \"America/Chicago\") { candidates { nodeId institution handle profession specialty reasons trainingCurrent } members { nodeId outcome code candidates } asked answered } }";

async fn outbox_topics(node: &TestNode) -> Vec<(String, String)> {
    use diesel::prelude::*;
    let db = node.state.db.clone();
    db.run(|conn| {
        use alongside_core::schema::outbox;
        Ok(outbox::table
            .select((outbox::topic, outbox::state))
            .load::<(String, String)>(conn)?)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn three_nodes_from_join_to_an_accepted_introduction() {
    let (steward, members) = federation(&["a.test", "b.test"]).await;
    let (a, b) = (&members[0], &members[1]);

    // The descriptor says who each node is.
    let d = b.get_json("/.well-known/alongside/node").await;
    assert_eq!(d["id"], "b.test");
    assert_eq!(d["keys"][0]["kid"], b.state.tokens.key().kid());
    assert_eq!(
        steward.get_json("/.well-known/alongside/node").await["steward"],
        true
    );

    // B shares a resource and lists a trainer; A pulls B's feed.
    let b_admin = b.user(&[Role::Admin]).await;
    let toolkit = json!({ "kind": "TOOLKIT", "title": "After a code: a debrief guide", "summary": "Checking in after a resuscitation.", "body": "Meet within the shift.", "tags": ["debrief"], "licence": "CC BY 4.0", "sharing": "FEDERATION" });
    b.gql(
        Some(&b_admin.token),
        "mutation($i: ResourceInputGql!) { createResource(input: $i) { id } }",
        json!({ "i": toolkit }),
    )
    .await;
    let local = json!({ "kind": "ARTICLE", "title": "Our parking map", "summary": "Local only.", "body": "Level 2.", "licence": "internal", "sharing": "LOCAL" });
    b.gql(
        Some(&b_admin.token),
        "mutation($i: ResourceInputGql!) { createResource(input: $i) { id } }",
        json!({ "i": local }),
    )
    .await;
    b.gql(Some(&b_admin.token), "mutation($i: TrainerInputGql!) { upsertTrainer(input: $i) }", json!({ "i": { "displayName": "Rosa Lind", "organization": "Northside Health", "topics": ["peer support"], "publishedFields": ["organization", "topics"], "consented": true } })).await;
    maintenance::sync_round(&a.state).await;
    let reader = a.user(&[]).await;
    let view = a
        .gql(
            Some(&reader.token),
            "{ federation { resources(search: \"debrief\") { edges { node { origin originName resource { title } } } } trainers(topic: \"peer\") { edges { node { origin trainer { displayName organization } } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        view["federation"]["resources"]["edges"],
        json!([{ "node": { "origin": "b.test", "originName": "Hospital b.test", "resource": { "title": "After a code: a debrief guide" } } }])
    );
    assert_eq!(
        view["federation"]["trainers"]["edges"],
        json!([{ "node": { "origin": "b.test", "trainer": { "displayName": "Rosa Lind", "organization": "Northside Health" } } }])
    );

    // A nurse at A asks for a nurse outside A; B has one who opted in and one who did not.
    let b_peer = supporter(b, "NURSE", true).await;
    let _private = supporter(b, "NURSE", false).await;
    let (me, request) = outside_request(a).await;
    let found =
        a.gql(Some(&me.token), FIND, json!({ "r": request })).await["findOutsidePeers"].clone();
    assert_eq!(
        found["members"],
        json!([{ "nodeId": "b.test", "outcome": "ANSWERED", "code": null, "candidates": 1 }])
    );
    let candidate = &found["candidates"][0];
    assert_eq!(candidate["nodeId"], "b.test");
    assert_eq!(candidate["institution"], "Hospital b.test");
    assert_eq!(candidate["profession"], "NURSE");
    assert_eq!(candidate["trainingCurrent"], true);
    assert!(
        candidate["reasons"]
            .as_array()
            .unwrap()
            .contains(&json!("requested profession (nurse)")),
        "{candidate}"
    );

    // The requester asks for an introduction, sharing a first name and a phone number only.
    let intro = a
        .gql(
            Some(&me.token),
            "mutation($r: ID!, $n: String!, $h: String!) { requestIntroduction(requestId: $r, nodeId: $n, handle: $h, share: {firstName: \"Sam\", contact: \"pager 4471\"}) { id state } }",
            json!({ "r": request, "n": "b.test", "h": candidate["handle"] }),
        )
        .await;
    assert_eq!(intro["requestIntroduction"]["state"], "SENDING");
    a.start_worker();
    b.wait_for("the introduction at B", || async {
        b.count("federation_introductions").await == 1
    })
    .await;
    let mine = b
        .gql(
            Some(&b_peer.token),
            "{ myIntroductions { id state firstName contact peerNode } }",
            json!({}),
        )
        .await;
    let inbound = &mine["myIntroductions"][0];
    assert_eq!(inbound["firstName"], "Sam");
    assert_eq!(inbound["contact"], "pager 4471");
    assert_eq!(inbound["peerNode"], "a.test");
    assert!(
        outbox_topics(b)
            .await
            .iter()
            .any(|(t, _)| t == "introduction"),
        "B emails its supporter"
    );
    let sent = a.wait_for("A to see the introduction delivered", || async {
        let s = a
            .gql(
                Some(&me.token),
                "query($r: ID!) { introductionsForRequest(requestId: $r) { state } }",
                json!({ "r": request }),
            )
            .await;
        s["introductionsForRequest"][0]["state"] == "PENDING"
    });
    sent.await;

    // The supporter accepts on their own node; the answer flows back and A's request moves on.
    b.gql(
        Some(&b_peer.token),
        "mutation($id: ID!) { respondToIntroduction(id: $id, accept: true) { state contact } }",
        json!({ "id": inbound["id"] }),
    )
    .await;
    b.start_worker();
    a.wait_for("the acceptance at A", || async {
        let s = a
            .gql(
                Some(&me.token),
                "query($r: ID!) { introductionsForRequest(requestId: $r) { state } }",
                json!({ "r": request }),
            )
            .await;
        s["introductionsForRequest"][0]["state"] == "ACCEPTED"
    })
    .await;
    let state = a
        .gql(
            Some(&me.token),
            "query($id: ID!) { supportRequest(id: $id) { state } }",
            json!({ "id": request }),
        )
        .await;
    assert_eq!(state["supportRequest"]["state"], "SUPPORTED_OUTSIDE");
    a.wait_for("A's email to the requester", || async {
        outbox_topics(a)
            .await
            .iter()
            .any(|(t, _)| t == "introduction_answered")
    })
    .await;
    // The delivered introduction no longer holds what the requester shared.
    let payloads: Vec<String> = {
        use diesel::prelude::*;
        a.state
            .db
            .run(|conn| {
                use alongside_core::schema::outbox;
                Ok(outbox::table.select(outbox::payload).load::<String>(conn)?)
            })
            .await
            .unwrap()
    };
    assert!(
        payloads.iter().all(|p| !p.contains("pager 4471")),
        "{payloads:?}"
    );

    // The outside case lives on at A: no clock breaches (the peer's institution keeps first
    // contact), the requester closes it, the anonymous survey goes out, and retention purges it.
    let report = a.sweep_in(3 * 24 * 60).await;
    assert_eq!(
        (report.ack_breaches, report.contact_breaches),
        (0, 0),
        "{report:?}"
    );
    let closed = a
        .gql(
            Some(&me.token),
            "mutation($id: ID!) { advanceRequest(id: $id, to: CLOSED) { state } }",
            json!({ "id": request }),
        )
        .await;
    assert_eq!(closed["advanceRequest"]["state"], "CLOSED");
    assert!(
        outbox_topics(a).await.iter().any(|(t, _)| t == "survey"),
        "the survey goes out"
    );
    // Kept while the program's check-ins with her run (the last at 90 days), then purged.
    let kept = alongside_core::retention::purge(
        &a.state.db,
        alongside_core::time::now() + chrono::Duration::days(91),
        90,
    )
    .await
    .unwrap();
    assert_eq!(kept.requests, 0, "{kept:?}");
    let later = alongside_core::time::now() + chrono::Duration::days(181);
    let purged = alongside_core::retention::purge(&a.state.db, later, 90)
        .await
        .unwrap();
    assert_eq!(purged.requests, 1, "{purged:?}");

    // The steward pulls each member's suppressed figures and pools them for its analysts.
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let reports = steward
        .state
        .federation
        .pull_metrics(&month, &month)
        .await
        .unwrap();
    assert_eq!(reports.len(), 2);
    assert!(
        reports
            .iter()
            .all(|r| r.outcome == alongside_federation::matching::Outcome::Answered),
        "{reports:?}"
    );
    let q = "query($f: String!, $t: String!) { federation { metrics(from: $f, to: $t) } }";
    let analyst = steward.user(&[Role::Analyst]).await;
    let view = steward
        .gql(Some(&analyst.token), q, json!({ "f": month, "t": month }))
        .await;
    let m = &view["federation"]["metrics"];
    assert_eq!(m["members"].as_array().unwrap().len(), 2, "{m}");
    let pooled_names: Vec<&str> = m["pooled"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        pooled_names,
        [
            "requests_by_origin_and_urgency",
            "requests_by_profession",
            "requests_by_event_category",
            "escalations_by_month",
            "outside_introductions",
            "outside_acceptance_times",
        ],
        "{m}"
    );
    // One request at A this month: below k, so suppressed at the source and again when pooled.
    let pooled = &m["pooled"][0]["table"]["total"];
    assert!(pooled.is_null() || *pooled == 0, "{m}");
    let member = steward.user(&[]).await;
    let (_, body) = steward
        .gql_raw(Some(&member.token), q, json!({ "f": month, "t": month }))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");

    // Any range of whole months: months not pulled yet are named, and the pooled figures are
    // lower bounds until the steward's round fills them in.
    let today = chrono::Utc::now().date_naive();
    let back = |n: u32| {
        today
            .checked_sub_months(chrono::Months::new(n))
            .unwrap()
            .format("%Y-%m")
            .to_string()
    };
    let range = json!({ "f": back(2), "t": month });
    let partial = steward.gql(Some(&analyst.token), q, range.clone()).await;
    let missing = partial["federation"]["metrics"]["missing"]
        .as_array()
        .unwrap();
    assert_eq!(
        missing.len(),
        4,
        "two earlier months of each member: {missing:?}"
    );
    let reports = steward.state.federation.pull_metrics_round().await.unwrap();
    assert!(
        reports
            .iter()
            .all(|r| r.outcome == alongside_federation::matching::Outcome::Answered),
        "{reports:?}"
    );
    let whole = steward.gql(Some(&analyst.token), q, range).await;
    let m = &whole["federation"]["metrics"];
    assert_eq!(m["missing"], json!([]), "{m}");
    let months: Vec<(&str, &str)> = m["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["node_id"].as_str().unwrap(), r["month"].as_str().unwrap()))
        .collect();
    assert_eq!(months.len(), 6, "three months of two members: {months:?}");
    assert!(months.contains(&("a.test", back(2).as_str())));
    // The round reached back two years: a range of the last 24 months lacks nothing.
    let two_years = steward
        .gql(
            Some(&analyst.token),
            q,
            json!({ "f": back(23), "t": month }),
        )
        .await;
    assert_eq!(two_years["federation"]["metrics"]["missing"], json!([]));
    let (_, body) = steward
        .gql_raw(
            Some(&analyst.token),
            q,
            json!({ "f": back(24), "t": month }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );
    let (_, body) = steward
        .gql_raw(Some(&analyst.token), q, json!({ "f": month, "t": back(1) }))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );
}

/// Signs a call from `from` (with its key) to `to` at `path`.
fn signed(from: &TestNode, to: &str, method: &str, path: &str, body: &[u8], now: i64) -> String {
    sign_call(
        from.state.tokens.key(),
        from.state.federation.node_id(),
        to,
        Request { method, path, body },
        now,
        30,
    )
    .unwrap()
}

async fn send(
    to: &TestNode,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: &[u8],
) -> (u16, Value) {
    let r = to
        .http
        .request(method, to.url(path))
        .header("Alongside-Call", token)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn bad_calls_are_refused_with_their_codes() {
    let (steward, members) = federation(&["a.test", "b.test"]).await;
    let (a, b) = (&members[0], &members[1]);
    let now = chrono::Utc::now().timestamp();
    let path = "/federation/v1/feed?after=0&limit=10";

    let good = signed(a, "b.test", "GET", path, b"", now);
    let (status, _) = send(b, reqwest::Method::GET, path, &good, b"").await;
    assert_eq!(status, 200);
    let (status, body) = send(b, reqwest::Method::GET, path, &good, b"").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("CALL_REPLAYED"))
    );

    let elsewhere = signed(a, "c.test", "GET", path, b"", now);
    let (status, body) = send(b, reqwest::Method::GET, path, &elsewhere, b"").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("CALL_WRONG_AUDIENCE"))
    );

    let old = signed(a, "b.test", "GET", path, b"", now - 3600);
    let (_, body) = send(b, reqwest::Method::GET, path, &old, b"").await;
    assert_eq!(body["code"], "CALL_EXPIRED");

    let query = br#"{"profession":"nurse","specialty":null,"experience":"unknown","peer_profession":null,"specialty_preference":"any","event_category":null,"urgency":"routine","language":null,"language_required":false,"modality":"video","time_zone":null}"#;
    let token = signed(a, "b.test", "POST", "/federation/v1/match", query, now);
    let mut tampered = query.to_vec();
    tampered[15] = b'X';
    let (_, body) = send(
        b,
        reqwest::Method::POST,
        "/federation/v1/match",
        &token,
        &tampered,
    )
    .await;
    assert_eq!(body["code"], "CALL_MISMATCH");
    let (status, _) = send(
        b,
        reqwest::Method::POST,
        "/federation/v1/match",
        &signed(a, "b.test", "POST", "/federation/v1/match", query, now),
        query,
    )
    .await;
    assert_eq!(status, 200);

    // A node that is not a member, even with a well-formed call.
    let outsider = TestNode::spawn_with(|c| fast(c, "x.test", "Outsider")).await;
    let (status, body) = send(
        b,
        reqwest::Method::GET,
        path,
        &signed(&outsider, "b.test", "GET", path, b"", now),
        b"",
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("CALL_NOT_MEMBER"))
    );

    // Only the steward may ask a member for metrics.
    let mpath = "/federation/v1/metrics?from=2026-01&to=2026-12";
    let (status, body) = send(
        b,
        reqwest::Method::GET,
        mpath,
        &signed(a, "b.test", "GET", mpath, b"", now),
        b"",
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (403, Some("FORBIDDEN")));

    // Suspended: refused once B holds the next manifest.
    steward
        .state
        .federation
        .set_member_status(&steward_admin(), "a.test".into(), MemberStatus::Suspended)
        .await
        .unwrap();
    let (status, _) = send(
        b,
        reqwest::Method::GET,
        path,
        &signed(a, "b.test", "GET", path, b"", now),
        b"",
    )
    .await;
    assert_eq!(
        status, 200,
        "B still holds the manifest in which A is active"
    );
    b.state.federation.refresh_manifest().await.unwrap();
    let (status, body) = send(
        b,
        reqwest::Method::GET,
        path,
        &signed(a, "b.test", "GET", path, b"", now),
        b"",
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("CALL_NOT_MEMBER"))
    );

    // A manifest signed by another key, and an older serial, are refused by a member.
    let held = fed_status(b).await.manifest.unwrap();
    let pinned = fed_status(b).await.steward_keys;
    let forged = alongside_federation::manifest::sign(
        outsider.state.tokens.key(),
        &alongside_federation::manifest::verify(&held.token, "steward.test", &pinned, None, now)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        alongside_federation::manifest::verify(&forged, "steward.test", &pinned, None, now)
            .unwrap_err()
            .code(),
        "MANIFEST_UNTRUSTED_SIGNER"
    );
    assert_eq!(
        alongside_federation::manifest::verify(
            &held.token,
            "steward.test",
            &pinned,
            Some(held.serial + 1),
            now
        )
        .unwrap_err()
        .code(),
        "MANIFEST_OLDER_SERIAL"
    );
}

#[tokio::test]
async fn slow_silent_broken_and_dead_members_yield_statuses_not_waits() {
    let (steward, members) = federation(&["a.test", "b.test"]).await;
    let (a, b) = (&members[0], &members[1]);
    add_member(&steward, "silent.test", misbehaving("silent").await).await;
    add_member(&steward, "slow.test", misbehaving("slow").await).await;
    add_member(&steward, "garbage.test", misbehaving("garbage").await).await;
    let dead = format!("http://127.0.0.1:{}", alongside_tests::smtp::free_port());
    add_member(&steward, "dead.test", dead).await;
    a.state.federation.refresh_manifest().await.unwrap();
    let _peer = supporter(b, "NURSE", true).await;

    let (me, request) = outside_request(a).await;
    let found =
        a.gql(Some(&me.token), FIND, json!({ "r": request })).await["findOutsidePeers"].clone();
    let outcome = |node: &str| -> (String, Value) {
        let m = found["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["nodeId"] == node)
            .unwrap();
        (m["outcome"].as_str().unwrap().to_owned(), m["code"].clone())
    };
    assert_eq!(outcome("b.test").0, "ANSWERED");
    assert_eq!(outcome("slow.test").0, "ANSWERED");
    assert_eq!(
        outcome("silent.test"),
        ("TIMED_OUT".into(), json!("FEDERATION_TIMEOUT"))
    );
    assert_eq!(
        outcome("garbage.test"),
        ("ERROR".into(), json!("FEDERATION_BAD_ANSWER"))
    );
    assert_eq!(
        outcome("dead.test"),
        ("ERROR".into(), json!("FEDERATION_UNREACHABLE"))
    );
    assert_eq!(found["candidates"].as_array().unwrap().len(), 1);
}

/// With `match_fanout` 1 and `match_enough` 1: a match asks one member at a time and stops at
/// the first candidate; a member that failed is asked after every other one; the rest are
/// reported as not asked.
#[tokio::test]
async fn matches_ask_a_few_members_at_a_time_and_those_failing_last() {
    let (steward, members) = federation_with(&["a.test", "b.test", "c.test"], |c| {
        c.federation.match_fanout = 1;
        c.federation.match_enough = 1;
    })
    .await;
    let (a, b, c) = (&members[0], &members[1], &members[2]);
    let dead = format!("http://127.0.0.1:{}", alongside_tests::smtp::free_port());
    add_member(&steward, "dead.test", dead).await;
    a.state.federation.refresh_manifest().await.unwrap();
    let (me, request) = outside_request(a).await;
    let find = || async {
        let found = a.gql(Some(&me.token), FIND, json!({ "r": request })).await;
        let members = found["findOutsidePeers"]["members"]
            .as_array()
            .unwrap()
            .clone();
        let outcomes = members
            .iter()
            .map(|m| {
                (
                    m["nodeId"].as_str().unwrap().to_owned(),
                    m["outcome"].as_str().unwrap().to_owned(),
                )
            })
            .collect::<std::collections::BTreeMap<_, _>>();
        // The counts a page or an app shows ("N of M answered") agree with the outcomes.
        let count = |f: &dyn Fn(&str) -> bool| outcomes.values().filter(|o| f(o)).count();
        assert_eq!(
            found["findOutsidePeers"]["asked"],
            count(&|o| o != "NOT_ASKED"),
            "{outcomes:?}"
        );
        assert_eq!(
            found["findOutsidePeers"]["answered"],
            count(&|o| o == "ANSWERED"),
            "{outcomes:?}"
        );
        outcomes
    };

    // No one has a candidate: every member is asked, one after another.
    let first = find().await;
    assert_eq!(first["b.test"], "ANSWERED");
    assert_eq!(first["c.test"], "ANSWERED");
    assert_eq!(first["dead.test"], "ERROR");

    // Now both have one: each match stops at the first member asked, never the dead one.
    let _b = supporter(b, "NURSE", true).await;
    let _c = supporter(c, "NURSE", true).await;
    let mut asked = std::collections::BTreeSet::new();
    for _ in 0..20 {
        let outcomes = find().await;
        assert_eq!(outcomes["dead.test"], "NOT_ASKED", "{outcomes:?}");
        let answered: Vec<_> = outcomes
            .iter()
            .filter(|(_, o)| *o == "ANSWERED")
            .map(|(n, _)| n.clone())
            .collect();
        assert_eq!(answered.len(), 1, "{outcomes:?}");
        assert_eq!(
            outcomes.values().filter(|o| *o == "NOT_ASKED").count(),
            2,
            "{outcomes:?}"
        );
        asked.extend(answered);
    }
    // The order is drawn afresh each time, so the calls are spread over both (a chance of
    // 2 in 2^20 that 20 draws all start with the same one).
    assert_eq!(asked.len(), 2, "{asked:?}");
}

/// Members publish an availability digest in their feed; a match asks first the members whose
/// digest fits (here pharmacists), in a round of their own, and the others only when those
/// bring too few. Counts below `candidate_k` are not told, and a member publishes again only
/// when a band changes.
#[tokio::test]
async fn matches_ask_first_the_members_whose_digest_fits() {
    let (_steward, members) = federation_with(
        &["a.test", "b.test", "c.test", "d.test", "e.test", "f.test"],
        |c| {
            c.federation.match_enough = 2;
            c.federation.candidate_k = 2;
        },
    )
    .await;
    let a = &members[0];
    // B has two pharmacists; C, D and E two nurses each; F one pharmacist (below k: not told)
    // and two nurses.
    for (node, professions) in [
        (&members[1], &["PHARMACIST", "PHARMACIST"][..]),
        (&members[2], &["NURSE", "NURSE"][..]),
        (&members[3], &["NURSE", "NURSE"][..]),
        (&members[4], &["NURSE", "NURSE"][..]),
        (&members[5], &["PHARMACIST", "NURSE", "NURSE"][..]),
    ] {
        for p in professions {
            supporter(node, p, true).await;
        }
        assert!(node.state.federation.refresh_digest().await.unwrap());
        assert!(
            !node.state.federation.refresh_digest().await.unwrap(),
            "nothing changed, nothing published"
        );
    }
    let f_digest = members[5]
        .state
        .federation
        .answer_feed(0, 100, vec![alongside_core::feed::FeedKind::Availability])
        .await
        .unwrap();
    assert_eq!(f_digest.items.len(), 1);
    let bands = f_digest.items[0].item["bands"].as_array().unwrap();
    assert!(
        bands.contains(&json!({ "profession": "nurse", "language": null, "band": "few" })),
        "{bands:?}"
    );
    assert!(
        bands.iter().all(|b| b["profession"] == "nurse"),
        "one pharmacist is below k and not told: {bands:?}"
    );
    // A feed reader that does not ask for kinds (an older member) gets no digest.
    assert!(
        members[5]
            .state
            .federation
            .answer_feed(0, 100, alongside_core::feed::FIRST_KINDS.to_vec())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    maintenance::sync_round(&a.state).await;

    let me = a.user(&[]).await;
    let made = a
        .gql(
            Some(&me.token),
            "mutation { requestSupport(input: {peerOrigin: OUTSIDE_INSTITUTION_ONLY, peerProfession: PHARMACIST}) { request { id } } }",
            json!({}),
        )
        .await;
    let request = made["requestSupport"]["request"]["id"].as_str().unwrap();
    let find = || async {
        let found = a.gql(Some(&me.token), FIND, json!({ "r": request })).await;
        let asked: Vec<String> = found["findOutsidePeers"]["members"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["outcome"] != "NOT_ASKED")
            .map(|m| m["nodeId"].as_str().unwrap().to_owned())
            .collect();
        let professions: Vec<String> = found["findOutsidePeers"]["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["profession"].as_str().unwrap().to_owned())
            .collect();
        (asked, professions)
    };
    // B alone is asked (the default round of 8 would take all five) and its two pharmacists
    // are enough.
    let (asked, professions) = find().await;
    assert_eq!(asked, ["b.test"]);
    assert_eq!(professions, ["PHARMACIST", "PHARMACIST"]);

    // B's pharmacists pause, and A still holds B's last digest: B brings none, so the match
    // widens to the others, who offer nurses.
    pause_every_supporter(&members[1]).await;
    let (asked, professions) = find().await;
    assert_eq!(asked.len(), 5, "{asked:?}");
    assert!(
        !professions.is_empty() && professions.iter().all(|p| p == "NURSE"),
        "{professions:?}"
    );
}

async fn pause_every_supporter(b: &TestNode) {
    use diesel::prelude::*;
    b.state
        .db
        .run(|conn| {
            use alongside_core::schema::peer_supporters as ps;
            diesel::update(ps::table)
                .set(ps::active.eq(false))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn directory_sync_resumes_from_its_cursor_after_a_member_comes_back() {
    let (steward, members) = federation(&["a.test", "b.test"]).await;
    let (a, b) = (&members[0], &members[1]);
    let admin = b.user(&[Role::Admin]).await;
    let create = "mutation($i: ResourceInputGql!) { createResource(input: $i) { id } }";
    let card = |title: &str| json!({ "i": { "kind": "GUIDANCE_CARD", "title": title, "summary": "For the network.", "body": "Check in with each other.", "licence": "CC BY 4.0", "sharing": "FEDERATION" } });
    let first =
        b.gql(Some(&admin.token), create, card("First card")).await["createResource"]["id"].clone();
    b.gql(Some(&admin.token), create, card("Second card")).await;
    maintenance::sync_round(&a.state).await;
    assert_eq!(a.count("federation_directory").await, 2);
    let cursor = |n: &TestNode| {
        let fed = n.state.federation.clone();
        async move {
            fed.status(&Principal::Operator)
                .await
                .unwrap()
                .sync
                .iter()
                .find(|s| s.origin == "b.test")
                .map_or(0, |s| s.cursor)
        }
    };
    let before = cursor(a).await;

    // Changes made while B is unreachable wait in its feed.
    b.gql(Some(&admin.token), create, card("Third card")).await;
    b.gql(
        Some(&admin.token),
        "mutation($id: ID!) { deleteResource(id: $id) }",
        json!({ "id": first }),
    )
    .await;
    // B goes down: its address no longer answers (the steward's manifest points A at it).
    move_member(
        &steward,
        "b.test",
        format!("http://127.0.0.1:{}", alongside_tests::smtp::free_port()),
    )
    .await;
    a.state.federation.refresh_manifest().await.unwrap();
    maintenance::sync_round(&a.state).await;
    let states = fed_status(a).await.sync;
    assert_eq!(states[0].failures, 1, "{states:?}");
    assert_eq!(cursor(a).await, before, "a failed sync leaves the cursor");
    move_member(&steward, "b.test", b.base.clone()).await;
    a.state.federation.refresh_manifest().await.unwrap();
    maintenance::sync_round(&a.state).await;
    let titles: Vec<String> = a
        .state
        .federation
        .network_resources(
            &Principal::User(UserPrincipal {
                account_id: uuid::Uuid::nil(),
                person_id: uuid::Uuid::nil(),
                roles: [Role::Member].into_iter().collect(),
            }),
            None,
            alongside_federation::directory::Window::default(),
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|i| i.item.title)
        .collect();
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(
        titles.contains(&"Second card".to_owned()) && titles.contains(&"Third card".to_owned())
    );
    assert!(cursor(a).await > before);
    // Applying again changes nothing.
    maintenance::sync_round(&a.state).await;
    assert_eq!(a.count("federation_directory").await, 2);
}

/// Points the steward's manifest at another address for a member, as if it moved or went down.
async fn move_member(steward: &TestNode, id: &'static str, url: String) {
    use diesel::prelude::*;
    steward
        .state
        .db
        .run(move |conn| {
            use alongside_core::schema::federation_members as m;
            diesel::update(m::table.filter(m::node_id.eq(id)))
                .set(m::base_url.eq(url))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    steward
        .state
        .federation
        .set_member_status(&steward_admin(), id.into(), MemberStatus::Active)
        .await
        .unwrap();
}

/// Every kind of payload that leaves a node — feed items, the match query, candidate lists, an
/// introduction, metrics — for generated people with generated names, emails and departments:
/// each passes the de-identification gate and carries no name, email or department of anyone,
/// except the first name and contact the requester typed into the introduction.
#[tokio::test]
async fn nothing_identifying_leaves_a_node() {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::TestRunner;
    let (steward, members) = federation(&["a.test", "b.test"]).await;
    let (a, b) = (&members[0], &members[1]);
    let mut runner = TestRunner::deterministic();
    let name = "[A-Z][a-z]{5,10} [A-Z][a-z]{5,12}";
    let dept = "[A-Z][a-z]{5,9} (ward|unit|clinic)";
    let mut secrets: Vec<String> = Vec::new();
    let mut make = |pattern: &str| pattern.new_tree(&mut runner).unwrap().current();
    // Six supporters at B and the requester at A, each with a generated name and department.
    let admin_b = b.user(&[Role::Admin]).await;
    let admin_a = a.user(&[Role::Admin]).await;
    let mut people = Vec::new();
    for i in 0..7 {
        let (node, admin) = if i < 6 { (b, &admin_b) } else { (a, &admin_a) };
        let user = if i < 6 {
            supporter(node, "NURSE", true).await
        } else {
            node.user(&[]).await
        };
        let (n, d) = (make(name), make(dept));
        let q = "mutation($id: ID!, $n: String!, $d: String!) { updatePerson(id: $id, input: {displayName: $n, department: $d}) { id } }";
        node.gql(
            Some(&admin.token),
            q,
            json!({ "id": gid("Person", &user.person_id), "n": n, "d": d }),
        )
        .await;
        secrets.extend([n.clone(), d, user.email.clone()]);
        people.push(user);
    }
    let requester = people.pop().unwrap();
    // Shared resources and a trainer at B.
    for _ in 0..3 {
        let title = format!("Guide {}", make("[a-z]{4,8}"));
        b.gql(Some(&admin_b.token), "mutation($i: ResourceInputGql!) { createResource(input: $i) { id } }", json!({ "i": { "kind": "GUIDANCE_CARD", "title": title, "summary": "For every unit.", "body": "Check in with each other.", "licence": "CC BY 4.0", "sharing": "FEDERATION" } })).await;
    }
    b.gql(Some(&admin_b.token), "mutation($i: TrainerInputGql!) { upsertTrainer(input: $i) }", json!({ "i": { "displayName": "Rosa Lind", "organization": "Northside Health", "topics": ["peer support"], "contact": "rosa@train.example.org", "publishedFields": ["organization", "topics"], "consented": true } })).await;

    let mut payloads: Vec<(&str, String)> = Vec::new();
    // The feed B serves, with its availability digest.
    assert!(b.state.federation.refresh_digest().await.unwrap());
    let feed = b
        .state
        .federation
        .answer_feed(0, 100, alongside_core::feed::FeedKind::ALL.to_vec())
        .await
        .unwrap();
    assert_eq!(
        feed.items
            .iter()
            .filter(|i| i.kind == alongside_core::feed::FeedKind::Availability)
            .count(),
        1,
        "{feed:?}"
    );
    for item in &feed.items {
        let ok = match item.kind {
            alongside_core::feed::FeedKind::Resource => serde_json::from_value::<
                alongside_core::deid::Shareable<alongside_core::resources::Resource>,
            >(item.item.clone())
            .is_ok(),
            alongside_core::feed::FeedKind::Trainer => serde_json::from_value::<
                alongside_core::deid::Shareable<alongside_core::training::TrainerListing>,
            >(item.item.clone())
            .is_ok(),
            alongside_core::feed::FeedKind::Availability => serde_json::from_value::<
                alongside_core::deid::Shareable<
                    alongside_core::requests::outside_digest::AvailabilityDigest,
                >,
            >(item.item.clone())
            .is_ok(),
        };
        assert!(ok, "feed item fails the gate: {item:?}");
    }
    payloads.push(("feed", serde_json::to_string(&feed).unwrap()));
    // The query A sends, and B's candidates.
    let (me_a, request) = {
        let made = a.gql(Some(&requester.token), "mutation { requestSupport(input: {peerOrigin: OUTSIDE_INSTITUTION_ONLY}) { request { id } } }", json!({})).await;
        (
            requester.clone(),
            made["requestSupport"]["request"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        )
    };
    let who = a.state.tokens.verify(&me_a.token).unwrap().principal;
    let request_uuid = alongside_api::graphql::ids::decode(
        "SupportRequest",
        "id",
        &async_graphql::ID(request.clone()),
    )
    .unwrap();
    let query = alongside_core::requests::outside::outside_query(
        &a.state.db,
        &who,
        request_uuid,
        Some("Europe/Paris".into()),
    )
    .await
    .unwrap();
    let query_body = serde_json::to_vec(&query).unwrap();
    payloads.push(("query", String::from_utf8(query_body.clone()).unwrap()));
    let caller = alongside_federation::Caller {
        node_id: "a.test".into(),
        call_id: "x".into(),
        replayable_until: 0,
    };
    let answer = b
        .state
        .federation
        .answer_match(&caller, &query_body)
        .await
        .unwrap();
    assert_eq!(answer.candidates.len(), 5, "the best five of six");
    let answer_text = serde_json::to_string(&answer).unwrap();
    let _: alongside_federation::matching::MatchAnswer =
        serde_json::from_str(&answer_text).expect("candidates pass the gate when read back");
    payloads.push(("candidates", answer_text));
    // The introduction as queued in A's outbox (before delivery erases it).
    let handle = answer.candidates[0].get().handle.clone();
    a.gql(
        Some(&me_a.token),
        "mutation($r: ID!, $h: String!) { requestIntroduction(requestId: $r, nodeId: \"b.test\", handle: $h, share: {firstName: \"Sam\", contact: \"pager 4471\"}) { id } }",
        json!({ "r": request, "h": handle }),
    )
    .await;
    let queued: Vec<String> = {
        use diesel::prelude::*;
        a.state
            .db
            .run(|conn| {
                use alongside_core::schema::outbox;
                Ok(outbox::table
                    .filter(outbox::channel.eq("federation"))
                    .select(outbox::payload)
                    .load::<String>(conn)?)
            })
            .await
            .unwrap()
    };
    assert_eq!(queued.len(), 1);
    assert!(
        queued[0].contains("Sam") && queued[0].contains("pager 4471"),
        "only what was consented"
    );
    payloads.push(("introduction", queued[0].clone()));
    // Metrics, as each member answers its steward.
    let trust = b.state.federation.trust().await.unwrap();
    let steward_caller = alongside_federation::Caller {
        node_id: "steward.test".into(),
        call_id: "y".into(),
        replayable_until: 0,
    };
    let metrics = b
        .state
        .federation
        .answer_metrics(
            &steward_caller,
            &trust,
            "2026-01".into(),
            chrono::Utc::now().format("%Y-%m").to_string(),
        )
        .await
        .unwrap();
    payloads.push(("metrics", metrics.to_string()));
    let _ = steward;

    for (kind, text) in &payloads {
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{kind} carries {s:?}: {text}");
        }
        assert!(
            !text.contains('@'),
            "{kind} carries an email address: {text}"
        );
    }
}

/// Key rotation on a member and on the steward: calls signed with a member's new key verify
/// (the receiver fetches its descriptor once), the steward lists the new key in its next
/// manifest, and a steward's own rotation carries members' pins over to its new key.
#[tokio::test]
async fn rotated_keys_keep_the_federation_working() {
    let (mut steward, mut members) = federation(&["a.test", "b.test"]).await;
    let old_kid = members[0].state.tokens.key().kid().to_owned();
    let now = alongside_core::time::now();
    alongside_core::keyring::rotate(
        &members[0].config.data_dir,
        chrono::Duration::hours(48),
        now,
    )
    .unwrap();
    members[0].restart().await;
    let (a, b) = (&members[0], &members[1]);
    let new_kid = a.state.tokens.key().kid().to_owned();
    assert_ne!(new_kid, old_kid);
    let d = a.get_json("/.well-known/alongside/node").await;
    let kids: Vec<&str> = d["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(
        kids,
        [new_kid.as_str(), old_kid.as_str()],
        "the old key stays published"
    );
    assert!(d["keys"][1]["expires_at"].is_i64());

    // B does not know the new key yet: it fetches A's descriptor once, then accepts.
    let path = "/federation/v1/feed?after=0&limit=5";
    let t = chrono::Utc::now().timestamp();
    let (status, body) = send(
        b,
        reqwest::Method::GET,
        path,
        &signed(a, "b.test", "GET", path, b"", t),
        b"",
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // The steward reads A's descriptor and lists the new key in its next manifest.
    assert_eq!(
        steward
            .state
            .federation
            .refresh_member_keys()
            .await
            .unwrap(),
        1
    );
    b.state.federation.refresh_manifest().await.unwrap();
    let trust = b.state.federation.trust().await.unwrap();
    let listed: Vec<String> = trust
        .manifest
        .unwrap()
        .member("a.test")
        .unwrap()
        .keys
        .iter()
        .map(|k| k.kid.clone())
        .collect();
    assert!(
        listed.contains(&new_kid) && listed.contains(&old_kid),
        "{listed:?}"
    );

    // The steward rotates: a transition manifest signed with its old key lists the new one.
    let steward_old = steward.state.tokens.key().kid().to_owned();
    alongside_api::cli::federation::keys_rotate(&steward.config, 48).unwrap();
    b.state.federation.refresh_manifest().await.unwrap();
    let pinned = fed_status(b).await.steward_keys;
    assert_eq!(pinned.len(), 2, "{pinned:?}");
    steward.restart().await;
    let steward_new = steward.state.tokens.key().kid().to_owned();
    assert_ne!(steward_new, steward_old);
    assert!(pinned.iter().any(|k| k.kid == steward_new));
    // After its restart the steward re-issues with the new key; members accept it.
    let before = fed_status(b).await.manifest.unwrap().serial;
    assert!(
        steward
            .state
            .federation
            .reissue_manifest_if_due()
            .await
            .unwrap()
            .is_some()
    );
    let after = b.state.federation.refresh_manifest().await.unwrap();
    assert!(after > before);
    let held = fed_status(b).await.manifest.unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(&held.token)
            .unwrap()
            .kid
            .as_deref(),
        Some(steward_new.as_str())
    );
    let _ = &mut members;
}

/// An introduction nobody answers lapses after a day: the requester is told, and the request is
/// free to ask the next candidate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_introduction_lapses_and_the_next_candidate_can_be_asked() {
    let (_steward, members) = federation(&["a.test", "b.test"]).await;
    let (a, b) = (&members[0], &members[1]);
    let _peer = supporter(b, "NURSE", true).await;
    let (me, request) = outside_request(a).await;
    let introduce = |handle: Value| {
        let (a, me, request) = (a, &me, request.clone());
        async move {
            a.gql_raw(
                Some(&me.token),
                "mutation($r: ID!, $n: String!, $h: String!) { requestIntroduction(requestId: $r, nodeId: $n, handle: $h, share: {contact: \"pager 4471\"}) { id state } }",
                json!({ "r": request, "n": "b.test", "h": handle }),
            )
            .await
            .1
        }
    };
    // A stranger learns nothing, not even who is a member: sign-in comes first.
    for node_id in ["b.test", "nobody.test"] {
        let (_, body) = a
            .gql_raw(
                None,
                "mutation($r: ID!, $n: String!) { requestIntroduction(requestId: $r, nodeId: $n, handle: \"h\", share: {contact: \"x\"}) { id } }",
                json!({ "r": request, "n": node_id }),
            )
            .await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{node_id}: {body}"
        );
    }
    let found = a.gql(Some(&me.token), FIND, json!({ "r": request })).await;
    let first = introduce(found["findOutsidePeers"]["candidates"][0]["handle"].clone()).await;
    assert_eq!(
        first["data"]["requestIntroduction"]["state"], "SENDING",
        "{first}"
    );
    // While it waits, another introduction is refused.
    let found = a.gql(Some(&me.token), FIND, json!({ "r": request })).await;
    let handle = found["findOutsidePeers"]["candidates"][0]["handle"].clone();
    let refused = introduce(handle.clone()).await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "CONFLICT");

    assert_eq!(a.sweep_in(23 * 60).await.introductions_lapsed, 0);
    assert_eq!(a.sweep_in(24 * 60 + 1).await.introductions_lapsed, 1);
    let listed = a
        .gql(
            Some(&me.token),
            "query($r: ID!) { introductionsForRequest(requestId: $r) { state } }",
            json!({ "r": request }),
        )
        .await;
    assert_eq!(listed["introductionsForRequest"][0]["state"], "LAPSED");
    assert!(
        outbox_topics(a)
            .await
            .iter()
            .any(|(t, _)| t == "introduction_lapsed"),
        "the requester is told"
    );
    let next = introduce(handle).await;
    assert_eq!(
        next["data"]["requestIntroduction"]["state"], "SENDING",
        "{next}"
    );
}

/// Introduces A's nurse to B's peer and has B's peer accept; returns A's requester, the request,
/// B's peer and the introduction's id at B once A has seen the acceptance.
async fn accepted_outside_case(a: &TestNode, b: &TestNode) -> (TestUser, String, TestUser, Value) {
    let b_peer = supporter(b, "NURSE", true).await;
    let (me, request) = outside_request(a).await;
    let found = a.gql(Some(&me.token), FIND, json!({ "r": request })).await;
    a.gql(
        Some(&me.token),
        "mutation($r: ID!, $n: String!, $h: String!) { requestIntroduction(requestId: $r, nodeId: $n, handle: $h, share: {firstName: \"Sam\", contact: \"pager 4471\"}) { id } }",
        json!({ "r": request, "n": "b.test", "h": found["findOutsidePeers"]["candidates"][0]["handle"] }),
    )
    .await;
    a.start_worker();
    b.start_worker();
    b.wait_for("the introduction at B", || async {
        b.count("federation_introductions").await == 1
    })
    .await;
    let id = b
        .gql(Some(&b_peer.token), "{ myIntroductions { id } }", json!({}))
        .await["myIntroductions"][0]["id"]
        .clone();
    a.wait_for("A to see it delivered", || async {
        a.gql(
            Some(&me.token),
            "query($r: ID!) { introductionsForRequest(requestId: $r) { state } }",
            json!({ "r": request }),
        )
        .await["introductionsForRequest"][0]["state"]
            == "PENDING"
    })
    .await;
    b.gql(
        Some(&b_peer.token),
        "mutation($id: ID!) { respondToIntroduction(id: $id, accept: true) { state } }",
        json!({ "id": id }),
    )
    .await;
    a.wait_for("the acceptance at A", || async {
        a.gql(
            Some(&me.token),
            "query($id: ID!) { supportRequest(id: $id) { state } }",
            json!({ "id": request }),
        )
        .await["supportRequest"]["state"]
            == "SUPPORTED_OUTSIDE"
    })
    .await;
    (me, request, b_peer, id)
}

/// The outside peer's node tells the requester's node two things through the signed protocol —
/// first contact made, support ended — and nothing else: A's first-contact clock and its request
/// close with them, A's own program checks in on its schedule, and B keeps its counts and hours.
#[tokio::test]
async fn the_outside_peers_node_signals_first_contact_and_the_end() {
    let (_steward, members) = federation(&["a.test", "b.test"]).await;
    let (a, b) = (&members[0], &members[1]);
    let (me, request, b_peer, intro) = accepted_outside_case(a, b).await;

    // A's program schedules its check-ins with the requester (the default: 1, 7, 30, 90 days).
    let check_ins = || async {
        use diesel::prelude::*;
        a.state
            .db
            .run(|conn| {
                use alongside_core::schema::follow_ups;
                Ok(follow_ups::table
                    .filter(follow_ups::with_requester.eq(true))
                    .select(follow_ups::state)
                    .load::<String>(conn)?)
            })
            .await
            .unwrap()
    };
    assert_eq!(check_ins().await.len(), 4);
    let day_two = alongside_core::time::now() + chrono::Duration::days(2);
    let queued = alongside_core::notify::reminders::follow_ups_due(
        &a.state.db,
        day_two,
        chrono::Duration::hours(1),
    )
    .await
    .unwrap();
    assert_eq!(queued, 1, "the first check-in is due");
    assert_eq!(
        check_ins()
            .await
            .iter()
            .filter(|s| *s == "completed")
            .count(),
        1
    );
    assert!(
        outbox_topics(a).await.iter().any(|(t, _)| t == "check_in"),
        "the requester gets the check-in"
    );

    // B's peer records two conversations: counts and hours at B, one signal to A.
    let record = "mutation($id: ID!, $d: DurationBand!) { recordIntroductionConversation(id: $id, input: {occurredOn: \"2026-01-02\", duration: $d, modality: PHONE}) { state conversations firstContactAt } }";
    let first = b
        .gql(
            Some(&b_peer.token),
            record,
            json!({ "id": intro, "d": "THIRTY_TO_SIXTY" }),
        )
        .await;
    assert_eq!(first["recordIntroductionConversation"]["conversations"], 1);
    assert!(first["recordIntroductionConversation"]["firstContactAt"].is_string());
    b.gql(
        Some(&b_peer.token),
        record,
        json!({ "id": intro, "d": "UNDER_FIFTEEN" }),
    )
    .await;
    let minutes: i64 = {
        use diesel::prelude::*;
        b.state
            .db
            .run(|conn| {
                use alongside_core::schema::supporter_minutes;
                Ok(supporter_minutes::table
                    .select(supporter_minutes::minutes)
                    .load::<i64>(conn)?
                    .into_iter()
                    .sum())
            })
            .await
            .unwrap()
    };
    assert!(minutes > 0, "the conversations count in B's peer's hours");
    let contacted = a.wait_for("first contact at A", || async {
        !a.gql(
            Some(&me.token),
            "query($id: ID!) { supportRequest(id: $id) { firstContactAt } }",
            json!({ "id": request }),
        )
        .await["supportRequest"]["firstContactAt"]
            .is_null()
    });
    contacted.await;
    let seen_at_a = a
        .gql(
            Some(&me.token),
            "query($r: ID!) { introductionsForRequest(requestId: $r) { state firstContactAt conversations } }",
            json!({ "r": request }),
        )
        .await;
    let seen = &seen_at_a["introductionsForRequest"][0];
    assert_eq!(seen["state"], "ACCEPTED");
    assert!(seen["firstContactAt"].is_string());
    assert_eq!(seen["conversations"], 0, "A is never told how many");
    let signals: Vec<String> = {
        use diesel::prelude::*;
        b.state
            .db
            .run(|conn| {
                use alongside_core::schema::outbox;
                Ok(outbox::table
                    .filter(outbox::topic.eq("federation_introduction_progress"))
                    .select(outbox::payload)
                    .load::<String>(conn)?)
            })
            .await
            .unwrap()
    };
    assert_eq!(signals.len(), 1, "one signal for two conversations");
    let signal: Value = serde_json::from_str(&signals[0]).unwrap();
    let mut keys: Vec<&str> = signal
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["at", "id", "progress"], "nothing else crosses");

    // Only the peer it was accepted by can record or close it.
    let other = supporter(b, "NURSE", true).await;
    let (_, body) = b
        .gql_raw(
            Some(&other.token),
            "mutation($id: ID!) { closeIntroduction(id: $id) { state } }",
            json!({ "id": intro }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND");

    // B's peer ends it: what Sam shared is erased at B, and A closes the request (the survey).
    let closed = b
        .gql(
            Some(&b_peer.token),
            "mutation($id: ID!) { closeIntroduction(id: $id) { state closedAt contact firstName } }",
            json!({ "id": intro }),
        )
        .await;
    assert_eq!(closed["closeIntroduction"]["state"], "CLOSED", "{closed}");
    assert!(closed["closeIntroduction"]["contact"].is_null());
    assert!(closed["closeIntroduction"]["firstName"].is_null());
    a.wait_for("the request closed at A", || async {
        a.gql(
            Some(&me.token),
            "query($id: ID!) { supportRequest(id: $id) { state } }",
            json!({ "id": request }),
        )
        .await["supportRequest"]["state"]
            == "CLOSED"
    })
    .await;
    assert!(
        outbox_topics(a).await.iter().any(|(t, _)| t == "survey"),
        "the survey goes out"
    );
    // Closed once: a second close and a late conversation are refused with their reasons.
    let (_, again) = b
        .gql_raw(
            Some(&b_peer.token),
            "mutation($id: ID!) { closeIntroduction(id: $id) { state } }",
            json!({ "id": intro }),
        )
        .await;
    assert_eq!(again["errors"][0]["extensions"]["code"], "CONFLICT");
    let (_, late) = b
        .gql_raw(
            Some(&b_peer.token),
            record,
            json!({ "id": intro, "d": "UNDER_FIFTEEN" }),
        )
        .await;
    assert_eq!(late["errors"][0]["extensions"]["code"], "CONFLICT");

    // Both programs count it (here with no suppression, to see the figures): A one outside
    // match made and accepted, B one introduction answered and two conversations.
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let reader = Principal::Client(alongside_core::access::ClientPrincipal {
        client_id: "metrics test".into(),
        scopes: [alongside_core::access::Scope::MetricsRead]
            .into_iter()
            .collect(),
    });
    let figures = |node: &TestNode| {
        let (db, reader, month) = (node.state.db.clone(), reader.clone(), month.clone());
        async move {
            let m = alongside_core::metrics::program::for_period(
                &db,
                &reader,
                month.clone(),
                month,
                alongside_core::metrics::suppression::SuppressionK::NONE_FOR_TESTS,
            )
            .await
            .unwrap();
            serde_json::to_value(m.outside.unwrap()).unwrap()
        }
    };
    let at_a = figures(a).await;
    assert_eq!(
        at_a["outside_introductions"]["cells"],
        json!([[1, 1, 0, 0], [0, 0, 0, 0]]),
        "{at_a}"
    );
    assert_eq!(
        at_a["outside_acceptance_times"]["cells"],
        json!([[1, 0, 0, 0]]),
        "{at_a}"
    );
    let at_b = figures(b).await;
    assert_eq!(
        at_b["outside_introductions"]["cells"],
        json!([[0, 0, 0, 0], [1, 1, 0, 0]]),
        "{at_b}"
    );
    assert_eq!(at_b["outside_conversations"], 2, "{at_b}");

    // A signal is a signed call like any other: a member cannot report on an introduction it
    // was never sent, nor on one that went to another member.
    let path = "/federation/v1/introductions/progress";
    let now = chrono::Utc::now().timestamp();
    let unknown = json!({ "id": alongside_core::ids::new_id(), "progress": "closed", "at": "2026-01-01T00:00:00" }).to_string();
    let token = signed(b, "a.test", "POST", path, unknown.as_bytes(), now);
    let (status, body) = send(a, reqwest::Method::POST, path, &token, unknown.as_bytes()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("NOT_FOUND")),
        "{body}"
    );
    let a_intro = a
        .gql(
            Some(&me.token),
            "query($r: ID!) { introductionsForRequest(requestId: $r) { id } }",
            json!({ "r": request }),
        )
        .await["introductionsForRequest"][0]["id"]
        .clone();
    assert_eq!(a_intro, intro, "one id on both sides");
    let raw_id = alongside_tests::raw_id(a_intro.as_str().unwrap());
    let forged = json!({ "id": raw_id, "progress": "first_contact", "at": "2026-01-01T00:00:00" })
        .to_string();
    let token = signed(&members[0], "b.test", "POST", path, forged.as_bytes(), now);
    let (status, _) = send(b, reqwest::Method::POST, path, &token, forged.as_bytes()).await;
    assert_eq!(status, 404, "B sent it; A cannot report progress to B");
}

/// Issue 18: federation calls are limited by address before any work, whatever member they
/// claim to come from, and by member only once the call's signature is verified.
#[tokio::test]
async fn federation_calls_are_limited_by_address_first_then_by_verified_member() {
    let (_steward, mut members) = federation(&["a.test", "b.test"]).await;
    {
        let b = &mut members[1];
        b.config
            .security
            .rate_limits
            .federation_per_member_per_minute = 3;
        b.config.security.rate_limits.federation_per_ip_per_minute = 12;
        b.restart().await;
    }
    let (a, b) = (&members[0], &members[1]);
    let path = "/federation/v1/feed?after=0&limit=10";
    let limited_by = |body: &Value| body["detail"].as_str().unwrap_or("").to_owned();

    // A verified member: its allowance, then 429 naming the member limit.
    let mut statuses = vec![];
    for _ in 0..5 {
        let now = chrono::Utc::now().timestamp();
        let (status, body) = send(
            b,
            reqwest::Method::GET,
            path,
            &signed(a, "b.test", "GET", path, b"", now),
            b"",
        )
        .await;
        statuses.push(status);
        if status == 429 {
            assert!(
                limited_by(&body).contains("federation_per_member_per_minute"),
                "{body}"
            );
            break;
        }
    }
    assert_eq!(statuses, [200, 200, 200, 429]);

    // Calls claiming a new member each time (signed by a key no member has): each refused, and
    // the address's allowance runs out however many members they claim.
    let mut refusals = 0;
    let mut limited = false;
    for n in 0..20 {
        let now = chrono::Utc::now().timestamp();
        let forged = sign_call(
            a.state.tokens.key(),
            &format!("claimed-{n}.test"),
            "b.test",
            Request {
                method: "GET",
                path,
                body: b"",
            },
            now,
            30,
        )
        .unwrap();
        let (status, body) = send(b, reqwest::Method::GET, path, &forged, b"").await;
        if status == 429 {
            assert!(
                limited_by(&body).contains("federation_per_ip_per_minute"),
                "{body}"
            );
            limited = true;
            break;
        }
        assert!(matches!(status, 401 | 403), "{status} {body}");
        refusals += 1;
    }
    assert!(
        limited,
        "random claimed members escaped the per-address limit"
    );
    assert!(
        refusals <= 8,
        "{refusals} calls past the address's allowance of 12"
    );
}

/// Issue 18: replay protection holds across replicas. A second node process serving member b
/// from the same database (and key) refuses a call the first one already answered, and the
/// other way round; on both backends.
#[tokio::test]
async fn a_call_answered_by_one_replica_is_refused_by_another() {
    let (_steward, members) = federation(&["a.test", "b.test"]).await;
    let (a, b) = (&members[0], &members[1]);
    let replica = TestNode::spawn_with(|c| {
        fast(c, "b.test", "Hospital b.test");
        c.database_url = b.config.database_url.clone();
        c.data_dir = b.config.data_dir.clone();
    })
    .await;
    let path = "/federation/v1/feed?after=0&limit=10";
    for (first, second) in [(b, &replica), (&replica, b)] {
        let now = chrono::Utc::now().timestamp();
        let call = signed(a, "b.test", "GET", path, b"", now);
        let (status, body) = send(first, reqwest::Method::GET, path, &call, b"").await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = send(second, reqwest::Method::GET, path, &call, b"").await;
        assert_eq!(
            (status, body["code"].as_str()),
            (409, Some("CALL_REPLAYED")),
            "{body}"
        );
    }
}

/// Issue 18: an anonymous caller learns nothing about the membership from `requestIntroduction`:
/// a member and a stranger get the same sign-in answer.
#[tokio::test]
async fn an_anonymous_introduction_request_learns_nothing_about_members() {
    let (_steward, members) = federation(&["a.test", "b.test"]).await;
    let a = &members[0];
    let q = "mutation($n: String!) { requestIntroduction(requestId: \"U3VwcG9ydFJlcXVlc3Q6MDE5M2EwMDAtMDAwMC03MDAwLTgwMDAtMDAwMDAwMDAwMDAw\", nodeId: $n, handle: \"h\", share: {firstName: \"Sam\", contact: \"x\"}) { id } }";
    let mut answers = vec![];
    for node in ["b.test", "nowhere.test"] {
        let (_, body) = a.gql_raw(None, q, json!({ "n": node })).await;
        answers.push((
            body["errors"][0]["extensions"]["code"].clone(),
            body["errors"][0]["message"].clone(),
        ));
    }
    assert_eq!(answers[0].0, "UNAUTHENTICATED", "{answers:?}");
    assert_eq!(answers[0], answers[1]);
}

/// A member varying its criteria cannot list another member's supporters: each candidate is
/// described only as far as three opted-in supporters there fit the description (the one nurse
/// with another specialty and lived experience is offered as a nurse like the others; the one
/// pharmacist is not offered at all), and more than 20 different queries an hour are refused.
#[tokio::test]
async fn match_candidates_cannot_single_out_a_supporter() {
    use diesel::prelude::*;
    let (_steward, members) =
        alongside_tests::federation::federation_with(&["a.test", "b.test"], |c| {
            c.federation.candidate_k = 3;
        })
        .await;
    let (a, b) = (&members[0], &members[1]);
    let mut nurses = Vec::new();
    for _ in 0..3 {
        nurses.push(supporter(b, "NURSE", true).await);
    }
    supporter(b, "PHARMACIST", true).await;
    let unusual = alongside_core::db::Id(nurses[0].person_id.parse().unwrap());
    b.state
        .db
        .run(move |conn| {
            use alongside_core::schema::{peer_supporters as ps, people};
            diesel::update(people::table.filter(people::id.eq(unusual)))
                .set(people::specialty.eq(Some("Oncology")))
                .execute(conn)?;
            diesel::update(ps::table.filter(ps::person_id.eq(unusual)))
                .set(ps::lived_experience.eq(true))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    let now = chrono::Utc::now().timestamp();
    let path = "/federation/v1/match";
    let query = |profession: &str, urgency: &str, zone: &str| {
        format!(
            r#"{{"profession":"{profession}","specialty":null,"experience":"unknown","peer_profession":null,"specialty_preference":"any","event_category":null,"urgency":"{urgency}","language":null,"language_required":false,"modality":"video","time_zone":"{zone}"}}"#
        )
        .into_bytes()
    };
    let ask = |body: Vec<u8>| async move {
        let token = signed(a, "b.test", "POST", path, &body, now);
        send(b, reqwest::Method::POST, path, &token, &body).await
    };
    let (status, answer) = ask(query("nurse", "routine", "UTC")).await;
    assert_eq!(status, 200, "{answer}");
    let candidates = answer["candidates"].as_array().unwrap();
    assert_eq!(
        candidates.len(),
        3,
        "the three nurses, not the one pharmacist: {answer}"
    );
    for c in candidates {
        assert_eq!(c["profession"], "nurse", "{c}");
        assert!(
            c["specialty"].is_null(),
            "no specialty only one or two share: {c}"
        );
        assert!(c["lived_experience"].is_null(), "only one has it: {c}");
        let reasons: Vec<&str> = c["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert!(
            !reasons
                .iter()
                .any(|r| r.contains("specialty") || r.contains("lived")),
            "reasons say nothing withheld: {reasons:?}"
        );
    }

    // Nineteen more different queries are answered; the twenty-first is refused, though the
    // first may be asked again.
    let zones = [
        "Europe/London",
        "America/Chicago",
        "Asia/Tokyo",
        "Australia/Sydney",
        "America/Denver",
    ];
    let mut distinct = 1;
    'outer: for profession in ["pharmacist", "physician", "nurse", "other"] {
        for urgency in ["routine", "urgent"] {
            for zone in zones {
                if distinct == 20 {
                    break 'outer;
                }
                let (status, answer) = ask(query(profession, urgency, zone)).await;
                assert_eq!(status, 200, "{answer}");
                distinct += 1;
            }
        }
    }
    let (status, answer) = ask(query("trainee", "crisis", "UTC")).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (429, Some("RATE_LIMITED")),
        "{answer}"
    );
    let (status, _) = ask(query("nurse", "routine", "UTC")).await;
    assert_eq!(status, 200, "the same query again is not a new probe");
}

/// The steward asks each active member what it holds: the manifest serial, and when it last had
/// every other member's directory. A member answers its steward only; a member that cannot be
/// reached keeps what it last reported, with the failure's code beside it.
#[tokio::test]
async fn the_steward_sees_the_manifest_and_sync_each_member_holds() {
    let (steward, members) = federation(&["a.test", "b.test"]).await;
    let (a, b) = (&members[0], &members[1]);
    let health = |node: &'static str| {
        let steward = &steward;
        async move {
            steward
                .state
                .federation
                .members(&steward_admin())
                .await
                .unwrap()
                .into_iter()
                .find(|m| m.member.node_id == node)
                .unwrap()
                .health
        }
    };
    assert_eq!(health("a.test").await.checked_at, None);

    let serial = steward
        .state
        .federation
        .published_manifest()
        .await
        .unwrap()
        .serial;
    assert_eq!(steward.state.federation.check_members().await.unwrap(), 2);
    let before = health("a.test").await;
    assert_eq!(before.held_serial, Some(serial));
    assert_eq!(before.synced_at, None, "a has not synced b's directory yet");
    assert!(before.checked_at.is_some() && before.error.is_none());

    maintenance::sync_round(&a.state).await;
    steward.state.federation.check_members().await.unwrap();
    assert!(health("a.test").await.synced_at.is_some());
    assert_eq!(health("b.test").await.synced_at, None);

    // Only the steward may ask.
    let token = signed(
        a,
        "b.test",
        "GET",
        "/federation/v1/status",
        b"",
        alongside_core::time::now().and_utc().timestamp(),
    );
    let (status, body) = send(
        b,
        reqwest::Method::GET,
        "/federation/v1/status",
        &token,
        b"",
    )
    .await;
    assert_eq!(status, 403, "{body}");

    // A member that stopped answering keeps its last report, with why the check failed.
    drop(members);
    steward.state.federation.check_members().await.unwrap();
    let gone = health("a.test").await;
    assert_eq!(gone.held_serial, Some(serial));
    assert!(gone.error.is_some(), "{gone:?}");
}
