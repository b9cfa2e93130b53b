//! No personal data in logs: a whole support lifecycle, sign-in links, failed sign-ins, emails
//! delivered by the worker and a cross-institution introduction, with every log line captured
//! as JSON at debug level for Alongside's crates. Then no email address, name, preferred name,
//! shared contact, password or token value may appear in any of them.
//!
//! Its own test binary, so the process-wide log subscriber captures only this run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use alongside_core::access::Role;
use alongside_tests::federation::{federation, supporter};
use alongside_tests::smtp::SmtpSink;
use alongside_tests::{ALWAYS, PASSWORD, TestNode, gid};
use serde_json::json;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture() -> Captured {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "info,alongside_api=debug,alongside_core=debug,alongside_federation=debug",
        ))
        .with_writer(move || writer.clone())
        .init();
    captured
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_lifecycle_logs_no_personal_data() {
    let logs = capture();
    let sink = SmtpSink::start();
    let port = sink.port;
    let node = TestNode::spawn_with(|c| {
        c.auth.sign_in_links = true;
        c.email.transport = "smtp".into();
        c.email.smtp.host = "127.0.0.1".into();
        c.email.smtp.port = port;
        c.email.smtp.tls = "none".into();
        c.outbox.poll_interval_ms = 50;
    })
    .await;
    node.start_worker();
    let coordinator = node.user(&[Role::Coordinator]).await;
    let t = Some(coordinator.token.as_str());
    node.gql(t, "mutation { createProgram(input: {name: \"Peer support\", kind: PEER_SUPPORT, tier: 2, hours: \"24/7\", contact: \"x1\", followUpDays: [1, 7]}) { id } }", json!({})).await;
    let nurse = node.user(&[]).await;
    let peer = node.user(&[Role::PeerSupporter]).await;
    let names = ["Nadia Okonkwo-Ferreira", "Bartholomew Quince"];
    for (user, name, dept) in [
        (&nurse, names[0], "Cardiothoracic ICU"),
        (&peer, names[1], "Emergency"),
    ] {
        node.gql(t, "mutation($id: ID!, $n: String!, $d: String!) { updatePerson(id: $id, input: {displayName: $n, profession: NURSE, department: $d}) { id } }", json!({ "id": gid("Person", &user.person_id), "n": name, "d": dept })).await;
    }
    node.gql(t, &format!("mutation($id: ID!) {{ upsertPeerSupporter(input: {{personId: $id, trainedOn: \"2025-01-01\", timeZone: \"UTC\", caseloadCap: 3, availability: {ALWAYS}}}) {{ id }} }}"), json!({ "id": gid("Person", &peer.person_id) })).await;

    // An event with the nurse involved: outreach by email.
    node.gql(t, "mutation($i: [InvolvedPersonInput!]!) { createEvent(input: {category: HARM_EVENT, month: \"2026-10\", department: \"ICU\", severityBand: MODERATE, involved: $i}) { id } }", json!({ "i": [{ "email": nurse.email, "role": "DISCLOSURE" }] })).await;
    let mine = node
        .gql(Some(&nurse.token), "{ myOutreach { id } }", json!({}))
        .await;
    let outreach = mine["myOutreach"][0]["id"].as_str().unwrap().to_owned();
    // She asks for support with a preferred name; the supporter accepts, meets, closes.
    let made = node.gql(Some(&nurse.token), &format!("mutation {{ requestSupport(input: {{outreachId: \"{outreach}\", urgency: URGENT, preferredName: \"Samwise\", modality: VIDEO}}) {{ request {{ id state }} }} }}"), json!({})).await;
    let request = made["requestSupport"]["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    node.gql(
        Some(&peer.token),
        "mutation($id: ID!) { respondToOffer(id: $id, accept: true) { state } }",
        json!({ "id": request }),
    )
    .await;
    node.gql(Some(&peer.token), "mutation($id: ID!, $d: Date!) { recordEncounter(requestId: $id, input: {occurredOn: $d, duration: THIRTY_TO_SIXTY, modality: VIDEO}) { state } }", json!({ "id": request, "d": chrono::Utc::now().date_naive().to_string() })).await;
    node.gql(
        Some(&peer.token),
        "mutation($id: ID!) { advanceRequest(id: $id, to: CLOSED) { state } }",
        json!({ "id": request }),
    )
    .await;

    // Failed sign-ins, a sign-in link, a refresh.
    for _ in 0..3 {
        node.http
            .post(node.url("/api/v1/auth/login"))
            .json(&json!({ "email": nurse.email, "password": "a wrong password" }))
            .send()
            .await
            .unwrap();
    }
    node.http
        .post(node.url("/api/v1/auth/link"))
        .json(&json!({ "email": peer.email }))
        .send()
        .await
        .unwrap();
    node.http
        .post(node.url("/api/v1/auth/refresh"))
        .json(&json!({ "refresh_token": coordinator.refresh_token }))
        .send()
        .await
        .unwrap();
    node.wait_for("the emails", || async { sink.mails().len() >= 4 })
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mails = sink.mails();
    let mut secrets: Vec<String> = vec![
        PASSWORD.into(),
        "a wrong password".into(),
        "Samwise".into(),
        "pager 4471".into(),
        nurse.token.clone(),
        peer.token.clone(),
        coordinator.token.clone(),
        coordinator.refresh_token.clone(),
        nurse.refresh_token.clone(),
    ];
    secrets.extend(names.iter().map(|n| n.to_string()));
    secrets.extend([
        nurse.email.clone(),
        peer.email.clone(),
        coordinator.email.clone(),
    ]);
    // Tokens sent by email (sign-in link, survey) must not be logged either.
    for m in &mails {
        let body = m.data.replace("=\r\n", "").replace("=3D", "=");
        for part in body.split("token=").skip(1) {
            let token: String = part
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            if token.len() > 20 {
                secrets.push(token);
            }
        }
    }

    // A cross-institution introduction, with a shared contact.
    let (_steward, members) = federation(&["a.test", "b.test"]).await;
    let (a, b) = (&members[0], &members[1]);
    supporter(b, "NURSE", true).await;
    let me = a.user(&[]).await;
    secrets.push(me.email.clone());
    let made = a.gql(Some(&me.token), "mutation { requestSupport(input: {peerOrigin: OUTSIDE_INSTITUTION_ONLY}) { request { id } } }", json!({})).await;
    let r = made["requestSupport"]["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let found = a
        .gql(
            Some(&me.token),
            "mutation($r: ID!) { findOutsidePeers(requestId: $r) { candidates { handle } } }",
            json!({ "r": r }),
        )
        .await;
    let handle = found["findOutsidePeers"]["candidates"][0]["handle"]
        .as_str()
        .unwrap()
        .to_owned();
    secrets.push(handle.clone());
    a.gql(Some(&me.token), "mutation($r: ID!, $h: String!) { requestIntroduction(requestId: $r, nodeId: \"b.test\", handle: $h, share: {firstName: \"Samwise\", contact: \"pager 4471\"}) { id } }", json!({ "r": r, "h": handle })).await;
    a.start_worker();
    b.wait_for("the introduction", || async {
        b.count("federation_introductions").await == 1
    })
    .await;

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let lines = text.lines().count();
    assert!(lines > 20, "the run logged ({lines} lines)");
    // The capture works: requests, database calls, federation calls and deliveries were logged.
    for expected in ["\"request\"", "db call", "federation call", "delivered"] {
        assert!(text.contains(expected), "no {expected} line in the logs");
    }
    eprintln!("{lines} log lines checked");
    for s in &secrets {
        assert!(!text.contains(s.as_str()), "the logs contain {s:?}");
    }
    assert!(
        !text.contains('@'),
        "no email address of any kind: {}",
        text.lines().find(|l| l.contains('@')).unwrap_or("")
    );

    // The case is purged; the log, which outlives it, must not link either person to it or
    // to each other: no line holds the case id beside the requester's or supporter's account,
    // person or supporter id, nor ids of both people.
    let later = alongside_core::time::now() + chrono::Duration::days(181);
    let purged = alongside_core::retention::purge(&node.state.db, later, 90)
        .await
        .unwrap();
    assert_eq!(purged.requests, 1, "{purged:?}");
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    // Each id in every spelling a log line could use: hyphenated, plain hex, and the API's
    // global id.
    let spellings = |kind: &str, raw: &str| {
        vec![
            raw.to_owned(),
            raw.replace('-', ""),
            gid(kind, raw),
            gid(kind, raw).trim_end_matches('=').to_owned(),
        ]
    };
    let case = spellings("SupportRequest", &alongside_tests::raw_id(&request));
    let person = |u: &alongside_tests::TestUser| {
        let mut all = spellings("Person", &u.person_id);
        all.extend(spellings("Account", &u.account_id));
        all
    };
    let (asked, helped) = (person(&nurse), person(&peer));
    let names = |line: &str, ids: &[String]| ids.iter().any(|v| line.contains(v.as_str()));
    let links = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|line| {
                let (a, h) = (names(line, &asked), names(line, &helped));
                names(line, &case) && (a || h) || a && h
            })
            .map(str::to_owned)
            .collect()
    };
    // The search finds such a line when there is one.
    let planted = format!("{{\"case\":\"{}\",\"by\":\"{}\"}}", case[1], asked[4]);
    assert_eq!(links(&planted).len(), 1);
    let found = links(&text);
    assert!(
        found.is_empty(),
        "log lines link people to the case: {found:#?}"
    );
}
