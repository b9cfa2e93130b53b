//! What an operator lives with, across five real nodes (a steward and four members): a restart
//! runs its start-up jobs at once; a member away during the steward's key rotation follows it,
//! and one stranded past the bridge is named and repinned; a suspended member knows it, refuses
//! locally and hides its directory; every refusal keeps the peer's own code.

use alongside_api::cli::federation as federation_cli;
use alongside_api::maintenance;
use alongside_core::access::{Principal, Role};
use alongside_core::vocab::MemberStatus;
use alongside_tests::TestNode;
use alongside_tests::federation::{federation, steward_admin};
use serde_json::json;

async fn status(node: &TestNode) -> alongside_federation::Status {
    node.state
        .federation
        .status(&Principal::Operator)
        .await
        .unwrap()
}

/// Who holds the job lease `job` on `node`'s database.
async fn lease_holder(node: &TestNode, job: &'static str) -> Option<String> {
    use alongside_core::schema::job_leases;
    use diesel::prelude::*;
    node.state
        .db
        .run(move |conn| {
            Ok(job_leases::table
                .filter(job_leases::name.eq(job))
                .select(job_leases::holder)
                .first::<String>(conn)
                .optional()?)
        })
        .await
        .unwrap()
}

/// The key id that signed the manifest `node` publishes (a steward) or holds (a member).
async fn manifest_signer(node: &TestNode) -> Option<String> {
    let m = status(node).await.manifest?;
    jsonwebtoken::decode_header(&m.token).ok()?.kid
}

/// The steward stops as `serve` does on SIGTERM (its jobs end, its leases are released),
/// restarts on the same database and key directory, and runs its jobs again.
async fn restart_steward(
    steward: &mut TestNode,
    jobs: tokio::task::JoinHandle<()>,
) -> tokio::task::JoinHandle<()> {
    jobs.abort();
    maintenance::release_leases(&steward.state).await;
    assert_eq!(lease_holder(steward, "federation_manifest").await, None);
    steward.restart().await;
    tokio::spawn(maintenance::run_federation(steward.state.clone()))
}

/// The console's network page as an admin of `node` reads it, signed in through the pages.
async fn network_page(node: &TestNode) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let email = format!("a{}@hospital.test", uuid::Uuid::new_v4().simple());
    node.create_account(&email, &[Role::Admin]).await;
    let signed = http
        .post(node.url("/sign-in"))
        .header("origin", &node.base)
        .form(&[
            ("email", email.as_str()),
            ("password", alongside_tests::PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let cookie = signed.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    http.get(node.url("/console/network"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn gql_code(node: &TestNode, token: &str, query: &str, vars: serde_json::Value) -> String {
    let (_, body) = node.gql_raw(Some(token), query, vars).await;
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("an error was expected: {body}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_nodes_ride_out_a_restart_a_key_rotation_and_a_suspension() {
    let (mut steward, mut members) = federation(&["a.test", "b.test", "c.test", "d.test"]).await;

    // The steward's jobs take their leases as this process.
    let mut jobs = tokio::spawn(maintenance::run_federation(steward.state.clone()));
    let replica = steward.state.replica.to_string();
    steward
        .wait_for("the steward's jobs to take their lease", || {
            let (s, r) = (&steward, replica.clone());
            async move { lease_holder(s, "federation_manifest").await == Some(r) }
        })
        .await;

    // Rotation while D is offline: A, B and C fetch the transition manifest, D does not.
    members[3].stop().await;
    let first_kid = steward.state.tokens.key().kid().to_owned();
    federation_cli::keys_rotate(&steward.config, 48).unwrap();
    for m in &members[..3] {
        m.state.federation.refresh_manifest().await.unwrap();
    }
    jobs = restart_steward(&mut steward, jobs).await;
    let second_kid = steward.state.tokens.key().kid().to_owned();
    assert_ne!(second_kid, first_kid);
    // Its start-up job re-issues the manifest with the new key now, not after a dead lease.
    steward
        .wait_for("the manifest re-issued at start with the new key", || {
            let (s, k) = (&steward, second_kid.clone());
            async move { manifest_signer(s).await == Some(k) }
        })
        .await;
    assert_eq!(
        lease_holder(&steward, "federation_manifest")
            .await
            .as_deref(),
        Some(&*steward.state.replica)
    );

    // D comes back: the manifest is signed by a key it never pinned; it follows the bridge the
    // key it pinned signed, and holds the current manifest with no problem.
    members[3].restart().await;
    let (a, c, d) = (&members[0], &members[2], &members[3]);
    assert_eq!(status(d).await.steward_keys.len(), 1);
    let serial = d.state.federation.refresh_manifest().await.unwrap();
    assert_eq!(serial, status(&steward).await.manifest.unwrap().serial);
    assert_eq!(manifest_signer(d).await, Some(second_kid.clone()));
    let s = status(d).await;
    assert_eq!(s.problem, None, "{:?}", s.problem_code);
    assert!(s.steward_keys.iter().any(|k| k.kid == second_kid));

    // A second rotation while C is away, and C stays away past the bridge (the grace period):
    // its status names the problem and what to do, its CLI status fails, its metrics say so.
    federation_cli::keys_rotate(&steward.config, 48).unwrap();
    for m in [&members[0], &members[1], &members[3]] {
        m.state.federation.refresh_manifest().await.unwrap();
    }
    jobs = restart_steward(&mut steward, jobs).await;
    let third_kid = steward.state.tokens.key().kid().to_owned();
    steward
        .wait_for("the second re-issue", || {
            let (s, k) = (&steward, third_kid.clone());
            async move { manifest_signer(s).await == Some(k) }
        })
        .await;
    steward
        .state
        .db
        .run(|conn| {
            use diesel::RunQueryDsl;
            diesel::delete(alongside_core::schema::federation_bridges::table).execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    let refused = c.state.federation.refresh_manifest().await.unwrap_err();
    assert_eq!(refused.code(), "MANIFEST_UNTRUSTED_SIGNER");
    let s = status(c).await;
    assert_eq!(s.problem_code.as_deref(), Some("MANIFEST_UNTRUSTED_SIGNER"));
    assert!(s.problem.unwrap().contains("serial"));
    assert!(
        c.metrics_text()
            .await
            .contains("alongside_federation_problem{code=\"MANIFEST_UNTRUSTED_SIGNER\"} 1")
    );
    let cli = federation_cli::status(&c.config).unwrap_err().to_string();
    assert!(cli.contains("MANIFEST_UNTRUSTED_SIGNER"), "{cli}");
    // A wrong key id is refused and changes nothing; the one the steward's operator gives works.
    let wrong = federation_cli::repin(&c.config, &first_kid)
        .unwrap_err()
        .to_string();
    assert!(wrong.contains("does not publish"), "{wrong}");
    federation_cli::repin(&c.config, &third_kid).unwrap();
    let s = status(c).await;
    assert_eq!(s.problem, None);
    assert_eq!(manifest_signer(c).await, Some(third_kid.clone()));
    federation_cli::status(&c.config).unwrap();

    // A shares three resources; D has them in its directory, in pages.
    let a_admin = a.user(&[Role::Admin]).await;
    for title in ["After a code", "After a fall", "After a complaint"] {
        a.gql(
            Some(&a_admin.token),
            "mutation($i: ResourceInputGql!) { createResource(input: $i) { id } }",
            json!({ "i": { "kind": "GUIDANCE_CARD", "title": title, "summary": "For the network.", "body": "Check in.", "licence": "CC BY 4.0", "sharing": "FEDERATION" } }),
        )
        .await;
    }
    maintenance::sync_round(&d.state).await;
    let reader = d.user(&[]).await;
    let directory = "{ federation { resources { edges { node { origin } } } } }";
    let seen = d.gql(Some(&reader.token), directory, json!({})).await;
    assert_eq!(
        seen["federation"]["resources"]["edges"][0]["node"]["origin"],
        "a.test"
    );
    let paged = "query($after: String, $s: String) { federation { resources(first: 2, after: $after, search: $s) { edges { node { resource { title } } } pageInfo { hasNextPage hasPreviousPage endCursor } } } }";
    let titles = |v: &serde_json::Value| -> Vec<String> {
        v["federation"]["resources"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["resource"]["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let first = d.gql(Some(&reader.token), paged, json!({})).await;
    assert_eq!(
        titles(&first),
        ["After a complaint", "After a fall"],
        "newest first"
    );
    let info = &first["federation"]["resources"]["pageInfo"];
    assert_eq!(info["hasNextPage"], true);
    let second = d
        .gql(
            Some(&reader.token),
            paged,
            json!({ "after": info["endCursor"] }),
        )
        .await;
    assert_eq!(titles(&second), ["After a code"]);
    assert_eq!(
        second["federation"]["resources"]["pageInfo"]["hasNextPage"],
        false
    );
    assert_eq!(
        second["federation"]["resources"]["pageInfo"]["hasPreviousPage"],
        true
    );
    let searched = d
        .gql(Some(&reader.token), paged, json!({ "s": "FALL" }))
        .await;
    assert_eq!(titles(&searched), ["After a fall"]);
    assert_eq!(
        gql_code(d, &reader.token, paged, json!({ "after": "not-a-cursor" })).await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        gql_code(
            d,
            &reader.token,
            "{ federation { trainers(first: 101) { edges { cursor } } } }",
            json!({})
        )
        .await,
        "LIMIT_EXCEEDED"
    );

    // Joining goes wrong in ways an operator can act on.
    let x = TestNode::spawn_with(|c| alongside_tests::federation::fast(c, "x.test", "Hospital x"))
        .await;
    let join = |url: String, kid: Option<String>| {
        let fed = x.state.federation.clone();
        async move {
            fed.request_join(&Principal::Operator, &url, kid.as_deref())
                .await
                .unwrap_err()
        }
    };
    let not_steward = join(a.base.clone(), None).await;
    assert_eq!(not_steward.code(), "FEDERATION_WRONG_STEWARD");
    assert!(
        not_steward
            .to_string()
            .contains("not a federation's steward"),
        "{not_steward}"
    );
    let wrong_key = join(steward.base.clone(), Some(first_kid.clone())).await;
    assert_eq!(wrong_key.code(), "FEDERATION_WRONG_STEWARD");
    assert!(
        wrong_key.to_string().contains("does not publish key"),
        "{wrong_key}"
    );
    let garbage = join(
        alongside_tests::federation::misbehaving("garbage").await,
        None,
    )
    .await;
    assert!(
        garbage.to_string().contains("not an Alongside node"),
        "{garbage}"
    );
    let again = a
        .state
        .federation
        .request_join(&Principal::Operator, &steward.base, None)
        .await
        .unwrap_err();
    assert!(
        again
            .to_string()
            .contains("already counts a.test as a member"),
        "{again}"
    );

    // The steward suspends D. Until D hears of it, the others refuse its calls, and D records
    // their own code, not one of its own.
    steward
        .state
        .federation
        .set_member_status(&steward_admin(), "d.test".into(), MemberStatus::Suspended)
        .await
        .unwrap();
    for m in &members[..3] {
        m.state.federation.refresh_manifest().await.unwrap();
    }
    let synced = d.state.federation.sync_directory().await.unwrap();
    assert_eq!(synced.len(), 3);
    for (origin, r) in &synced {
        assert_eq!(
            r.as_ref().unwrap_err().reason(),
            "CALL_NOT_MEMBER",
            "{origin}"
        );
    }
    for st in d.state.federation.sync_states().await.unwrap() {
        assert_eq!(st.last_error.as_deref(), Some("CALL_NOT_MEMBER"), "{st:?}");
    }
    let metrics = d.metrics_text().await;
    assert!(
        metrics.contains("member=\"a.test\",outcome=\"CALL_NOT_MEMBER\""),
        "{metrics}"
    );
    assert!(metrics.contains(
        "alongside_federation_sync_failing{origin=\"a.test\",code=\"CALL_NOT_MEMBER\"} 1"
    ));

    // D's next refresh tells it: status says suspended; it asks nothing of anyone.
    d.state.federation.refresh_manifest().await.unwrap();
    let s = status(d).await;
    assert_eq!(s.problem_code.as_deref(), Some("FEDERATION_NOT_ACTIVE"));
    assert!(s.problem.unwrap().contains("suspended"));
    // Its admins read it on the console, in words they can act on.
    let console = network_page(d).await;
    assert!(
        console.contains("has suspended this node"),
        "the console names the problem: {console}"
    );
    let calls = |n: &TestNode| {
        n.state
            .federation
            .call_counts()
            .iter()
            .map(|(_, c)| c)
            .sum::<u64>()
    };
    let before = calls(d);
    let me = d.user(&[]).await;
    let made = d
        .gql(
            Some(&me.token),
            "mutation { requestSupport(input: {peerOrigin: OUTSIDE_INSTITUTION_ONLY, peerProfession: NURSE}) { request { id } } }",
            json!({}),
        )
        .await;
    let request = made["requestSupport"]["request"]["id"].clone();
    let find = "mutation($r: ID!) { findOutsidePeers(requestId: $r) { members { nodeId } } }";
    assert_eq!(
        gql_code(d, &me.token, find, json!({ "r": request })).await,
        "FEDERATION_NOT_ACTIVE"
    );
    let intro = "mutation($r: ID!) { requestIntroduction(requestId: $r, nodeId: \"a.test\", handle: \"h\", share: {contact: \"pager 4471\"}) { id } }";
    assert_eq!(
        gql_code(d, &me.token, intro, json!({ "r": request })).await,
        "FEDERATION_NOT_ACTIVE"
    );
    assert_eq!(
        gql_code(d, &reader.token, directory, json!({})).await,
        "FEDERATION_NOT_ACTIVE",
        "the cached directory is hidden"
    );
    assert_eq!(
        d.state
            .federation
            .sync_directory()
            .await
            .unwrap_err()
            .code(),
        "FEDERATION_NOT_ACTIVE"
    );
    assert_eq!(calls(d), before, "refused locally, before any call");
    assert!(
        federation_cli::status(&d.config)
            .unwrap_err()
            .to_string()
            .contains("FEDERATION_NOT_ACTIVE")
    );

    // Reinstated, D's directory shows again as it was.
    steward
        .state
        .federation
        .set_member_status(&steward_admin(), "d.test".into(), MemberStatus::Active)
        .await
        .unwrap();
    d.state.federation.refresh_manifest().await.unwrap();
    assert_eq!(status(d).await.problem, None);
    let seen = d.gql(Some(&reader.token), directory, json!({})).await;
    assert_eq!(
        seen["federation"]["resources"]["edges"][0]["node"]["origin"],
        "a.test"
    );
    jobs.abort();
}
