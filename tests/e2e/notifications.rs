//! Notifications end to end: a real SMTP server, real webhook receivers on loopback, and the
//! outbox's guarantees under failure and concurrency.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use alongside_core::access::Role;
use alongside_core::notify::outbox;
use alongside_core::notify::templates::{Topic, Vars};
use alongside_core::notify::webhooks;
use alongside_tests::smtp::{SmtpSink, free_port};
use alongside_tests::{ALWAYS, TestNode, TestUser, gid};
use serde_json::{Value, json};

async fn node_mailing_to(port: u16) -> TestNode {
    TestNode::spawn_with(|c| {
        c.node.institution_name = "Mercy General".into();
        c.email.transport = "smtp".into();
        c.email.from = "Alongside <alongside@hospital.test>".into();
        c.email.smtp.host = "127.0.0.1".into();
        c.email.smtp.port = port;
        c.email.smtp.tls = "none".into();
        c.email.smtp.timeout_secs = 5;
        c.outbox.poll_interval_ms = 50;
        c.outbox.backoff_base_ms = 200;
        c.outbox.backoff_max_secs = 1;
        c.outbox.max_attempts = 50;
    })
    .await
}

async fn event_for(node: &TestNode, coordinator: &TestUser, people: &[&TestUser]) -> String {
    let involved: Vec<Value> = people
        .iter()
        .map(|u| json!({ "email": u.email, "role": "DIRECT" }))
        .collect();
    let q = "mutation($i: [InvolvedPersonInput!]!) { createEvent(input: {category: HARM_EVENT, month: \"2026-10\", department: \"Cardiology\", involved: $i}) { id } }";
    node.gql(Some(&coordinator.token), q, json!({ "i": involved }))
        .await["createEvent"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn pending(node: &TestNode) -> i64 {
    let db = node.state.db.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = db.get().unwrap();
        outbox::counts(&mut conn)
            .unwrap()
            .into_iter()
            .filter(|(s, _)| s != "done")
            .map(|(_, n)| n)
            .sum()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emails_reach_the_right_people_and_carry_no_case_details() {
    let sink = SmtpSink::start();
    let node = node_mailing_to(sink.port).await;
    node.start_worker();
    let admin = node.user(&[Role::Admin]).await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    node.gql(
        Some(&admin.token),
        "mutation { updateInstitution(input: {onCallEmail: \"oncall@hospital.test\"}) { name } }",
        json!({}),
    )
    .await;
    let nurse = node.user(&[]).await;
    let peer = node.user(&[Role::PeerSupporter]).await;
    let upsert = format!(
        "mutation($id: ID!) {{ upsertPeerSupporter(input: {{personId: $id, trainedOn: \"2025-01-01\", timeZone: \"UTC\", caseloadCap: 3, availability: {ALWAYS}}}) {{ id }} }}"
    );
    node.gql(
        Some(&coordinator.token),
        &upsert,
        json!({ "id": gid("Person", &peer.person_id) }),
    )
    .await;

    event_for(&node, &coordinator, &[&nurse]).await;
    let outreach = node
        .gql(Some(&nurse.token), "{ myOutreach { id } }", json!({}))
        .await["myOutreach"][0]["id"]
        .clone();
    let created = node
        .gql(Some(&nurse.token), "mutation($o: ID!) { requestSupport(input: {outreachId: $o}) { request { id state } } }", json!({ "o": outreach }))
        .await;
    assert_eq!(created["requestSupport"]["request"]["state"], "OFFERED");
    let id = created["requestSupport"]["request"]["id"].clone();
    node.gql(
        Some(&peer.token),
        "mutation($id: ID!) { respondToOffer(id: $id, accept: true) { state } }",
        json!({ "id": id }),
    )
    .await;
    let member = node.user(&[]).await;
    node.gql(
        Some(&member.token),
        "mutation { requestSupport(input: {urgency: CRISIS}) { crisisResources } }",
        json!({}),
    )
    .await;

    node.wait_for("five emails", || async { sink.mails().len() >= 5 })
        .await;
    let mails = sink.mails();
    // Deliveries run concurrently: compare subjects in sorted order.
    let to = |who: &str| {
        let mut subjects = mails
            .iter()
            .filter(|m| m.to.iter().any(|t| t == who))
            .map(|m| m.header("Subject").unwrap_or_default())
            .collect::<Vec<_>>();
        subjects.sort();
        subjects
    };
    assert_eq!(
        to(&nurse.email),
        vec![
            "A peer supporter will contact you",
            "Support is available to you"
        ]
    );
    // Offered the outreach request, then the crisis request.
    assert_eq!(
        to(&peer.email),
        vec!["You have a new request for support"; 2]
    );
    assert_eq!(
        to("oncall@hospital.test"),
        vec!["Crisis support requested: act now"]
    );
    assert_eq!(
        mails.len(),
        5,
        "{:?}",
        mails
            .iter()
            .map(|m| (&m.to, m.header("Subject")))
            .collect::<Vec<_>>()
    );
    let names: Vec<String> = [&nurse, &peer, &member, &coordinator]
        .iter()
        .map(|u| u.email.split('@').next().unwrap().to_owned())
        .collect();
    for mail in &mails {
        assert_eq!(mail.from, "alongside@hospital.test");
        assert!(mail.data.contains("Sign in"), "{}", mail.data);
        for secret in ["Cardiology", "HARM", "harm_event", "Harm", "2026-10"] {
            assert!(!mail.data.contains(secret), "an email carried {secret:?}");
        }
        for name in &names {
            assert!(
                !mail.data.contains(&format!("{name}@"))
                    || mail.to.iter().any(|t| t.starts_with(name.as_str())),
                "an email named someone else"
            );
        }
        assert!(
            mail.header("Message-ID")
                .is_some_and(|m| m.contains("@localhost"))
        );
    }
    node.wait_for("the outbox to drain", || async {
        pending(&node).await == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_smtp_down_messages_wait_then_arrive_exactly_once() {
    let port = free_port();
    let node = node_mailing_to(port).await;
    node.start_worker();
    let coordinator = node.user(&[Role::Coordinator]).await;
    let a = node.user(&[]).await;
    let b = node.user(&[]).await;
    event_for(&node, &coordinator, &[&a, &b]).await;

    // Nothing listens: attempts pile up, nothing is lost.
    let db = node.state.db.clone();
    node.wait_for("a few failed attempts", || {
        let db = db.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                use alongside_core::schema::outbox::dsl::*;
                use diesel::prelude::*;
                let mut conn = db.get().unwrap();
                outbox
                    .filter(attempts.ge(2))
                    .filter(state.eq("pending"))
                    .count()
                    .get_result::<i64>(&mut **conn)
                    .unwrap()
                    == 2
            })
            .await
            .unwrap()
        }
    })
    .await;

    let sink = SmtpSink::start_on(port);
    node.wait_for("both emails", || async { sink.mails().len() >= 2 })
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let mails = sink.mails();
    assert_eq!(mails.len(), 2, "each message exactly once");
    let ids: HashSet<String> = mails
        .iter()
        .filter_map(|m| m.header("Message-ID"))
        .collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(pending(&node).await, 0);
}

#[derive(Clone, Default)]
struct Receiver {
    hits: Arc<AtomicUsize>,
    accepted: Arc<Mutex<Vec<(String, String)>>>,
    secret: Arc<Mutex<String>>,
}

async fn receive(req: HttpRequest, body: web::Bytes, state: web::Data<Receiver>) -> HttpResponse {
    if req.path() == "/gone" {
        return HttpResponse::Gone().finish();
    }
    // The first delivery to /hook fails, so it must be retried.
    if state.hits.fetch_add(1, Ordering::SeqCst) == 0 {
        return HttpResponse::InternalServerError().finish();
    }
    let header = req
        .headers()
        .get(webhooks::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = String::from_utf8_lossy(&body).to_string();
    let secret = state.secret.lock().unwrap().clone();
    // The receiver's check, as docs/notifications.md describes it.
    if webhooks::verify(&secret, &header, &body, chrono::Utc::now().timestamp(), 300).is_err() {
        return HttpResponse::Unauthorized().finish();
    }
    state.accepted.lock().unwrap().push((header, body));
    HttpResponse::Ok().finish()
}

/// A webhook receiver on a loopback port, answering with `receive`.
fn start_receiver() -> (Receiver, std::net::SocketAddr) {
    let receiver = Receiver::default();
    let data = receiver.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(data.clone()))
            .default_service(web::to(receive))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let addr = server.addrs()[0];
    tokio::spawn(server.run());
    (receiver, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_signed_retried_and_stop_on_gone() {
    let (receiver, addr) = start_receiver();

    let node = node_mailing_to(free_port()).await;
    node.start_worker();
    let admin = node.user(&[Role::Admin]).await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let register = "mutation($u: String!) { registerWebhook(url: $u, eventTypes: [\"event.created\"]) { secret endpoint { id active } } }";
    let ok = node
        .gql(
            Some(&admin.token),
            register,
            json!({ "u": format!("http://{addr}/hook") }),
        )
        .await;
    *receiver.secret.lock().unwrap() = ok["registerWebhook"]["secret"].as_str().unwrap().to_owned();
    let gone = node
        .gql(
            Some(&admin.token),
            register,
            json!({ "u": format!("http://{addr}/gone") }),
        )
        .await;
    let (_, body) = node
        .gql_raw(
            Some(&coordinator.token),
            register,
            json!({ "u": "http://x.test/" }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let (_, body) = node.gql_raw(Some(&admin.token), "mutation { registerWebhook(url: \"http://x.test\", eventTypes: [\"everything\"]) { secret } }", json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");

    let someone = node.user(&[]).await;
    let event = event_for(&node, &coordinator, &[&someone]).await;
    node.wait_for("a signed delivery", || async {
        !receiver.accepted.lock().unwrap().is_empty()
    })
    .await;
    let (header, body) = receiver.accepted.lock().unwrap()[0].clone();
    let payload: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(payload["type"], "event.created");
    assert_eq!(
        payload["data"]["event_id"]
            .as_str()
            .map(|id| gid("Event", id)),
        Some(event.clone())
    );
    assert!(
        !body.contains(&someone.email),
        "ids only, never personal data"
    );

    // The receiver's check rejects a tampered body and a replayed (old) signature.
    let secret = receiver.secret.lock().unwrap().clone();
    let now = chrono::Utc::now().timestamp();
    assert!(
        webhooks::verify(
            &secret,
            &header,
            &body.replace("event.created", "event.deleted"),
            now,
            300
        )
        .is_err()
    );
    assert!(webhooks::verify(&secret, &header, &body, now + 3600, 300).is_err());

    // The first attempt got a 500 and was retried; the log shows both (the worker writes the
    // second entry just after the receiver has answered, so wait for it).
    let hook_id = ok["registerWebhook"]["endpoint"]["id"].clone();
    node.wait_for("both attempts in the delivery log", || async {
        let log = node
            .gql(
                Some(&admin.token),
                "query($id: ID!) { webhookDeliveries(endpointId: $id) { attempt statusCode } }",
                json!({ "id": hook_id }),
            )
            .await;
        let codes: Vec<i64> = log["webhookDeliveries"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["statusCode"].as_i64())
            .collect();
        codes.contains(&500) && codes.contains(&200)
    })
    .await;

    // 410 Gone disables the endpoint and is not retried.
    let gone_id = gone["registerWebhook"]["endpoint"]["id"].clone();
    node.wait_for("the gone endpoint to be disabled", || async {
        let data = node
            .gql(
                Some(&admin.token),
                "{ webhookEndpoints { id active disabledReason } }",
                json!({}),
            )
            .await;
        data["webhookEndpoints"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == gone_id && e["active"] == false)
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let log = node
        .gql(
            Some(&admin.token),
            "query($id: ID!) { webhookDeliveries(endpointId: $id) { statusCode } }",
            json!({ "id": gone_id }),
        )
        .await;
    assert_eq!(log["webhookDeliveries"], json!([{ "statusCode": 410 }]));
    let dead = node
        .gql(
            Some(&admin.token),
            "{ outboxDeadLetters { id channel state } }",
            json!({}),
        )
        .await;
    assert_eq!(dead["outboxDeadLetters"].as_array().unwrap().len(), 1);
    // An admin can re-queue it (the endpoint is disabled, so it dies again).
    let requeued = node
        .gql(
            Some(&admin.token),
            "mutation($id: ID!) { requeueOutboxMessage(id: $id) { state attempts } }",
            json!({ "id": dead["outboxDeadLetters"][0]["id"] }),
        )
        .await;
    assert_eq!(
        requeued["requeueOutboxMessage"],
        json!({ "state": "pending", "attempts": 0 })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_never_claim_the_same_row() {
    let node = TestNode::spawn().await;
    let db = node.state.db.clone();
    tokio::task::spawn_blocking({
        let db = db.clone();
        move || {
            let mut conn = db.get().unwrap();
            for i in 0..300 {
                outbox::enqueue_email(
                    &mut conn,
                    Topic::Offer,
                    &format!("p{i}@hospital.test"),
                    &format!("test:{i}"),
                    &Vars::default(),
                )
                .unwrap();
            }
        }
    })
    .await
    .unwrap();
    let worker = |db: alongside_core::db::Db| {
        std::thread::spawn(move || {
            let mut conn = db.get().unwrap();
            let mut mine = Vec::new();
            loop {
                let batch = outbox::claim(
                    &mut conn,
                    7,
                    chrono::Duration::seconds(60),
                    alongside_core::time::now(),
                )
                .unwrap();
                if batch.is_empty() {
                    break;
                }
                // Each claimed row once, counted once, and marked done with the batch.
                assert!(batch.iter().all(|c| c.row.state == "delivering"));
                let ids: Vec<_> = batch.iter().map(|c| c.row.id).collect();
                outbox::mark_all_done(&mut conn, &ids).unwrap();
                mine.extend(ids);
            }
            mine
        })
    };
    let (a, b) = (worker(db.clone()), worker(db.clone()));
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    let a_set: HashSet<_> = a.iter().collect();
    let b_set: HashSet<_> = b.iter().collect();
    assert!(a_set.is_disjoint(&b_set), "a row was claimed twice");
    assert_eq!(a.len() + b.len(), 300);
    assert_eq!(a_set.len() + b_set.len(), 300);
    use alongside_core::schema::outbox as o;
    use diesel::prelude::*;
    let mut conn = db.get().unwrap();
    let rows: Vec<(
        String,
        i32,
        Option<chrono::NaiveDateTime>,
        Option<chrono::NaiveDateTime>,
    )> = o::table
        .select((o::state, o::attempts, o::delivered_at, o::locked_until))
        .load(&mut **conn)
        .unwrap();
    assert_eq!(rows.len(), 300);
    for (state, attempts, delivered, locked) in rows {
        assert_eq!((state.as_str(), attempts), ("done", 1));
        assert!(delivered.is_some() && locked.is_none());
    }
}

#[tokio::test]
async fn scheduler_leases_let_one_replica_run_each_job() {
    use alongside_core::notify::leases::try_acquire;
    let node = TestNode::spawn().await;
    let mut conn = node.state.db.get().unwrap();
    let now = alongside_core::time::now();
    let ttl = chrono::Duration::seconds(30);
    assert!(try_acquire(&mut conn, "scheduler", "replica-a", ttl, now).unwrap());
    assert!(
        !try_acquire(&mut conn, "scheduler", "replica-b", ttl, now).unwrap(),
        "held by a"
    );
    assert!(
        try_acquire(&mut conn, "scheduler", "replica-a", ttl, now).unwrap(),
        "a renews"
    );
    assert!(
        try_acquire(&mut conn, "retention", "replica-b", ttl, now).unwrap(),
        "other jobs are free"
    );
    // a stops renewing (crashed): after the lease runs out, b takes over.
    let later = now + chrono::Duration::seconds(31);
    assert!(try_acquire(&mut conn, "scheduler", "replica-b", ttl, later).unwrap());
    assert!(!try_acquire(&mut conn, "scheduler", "replica-a", ttl, later).unwrap());
}

#[tokio::test]
async fn reminders_are_queued_once() {
    use alongside_core::notify::reminders;
    let node = TestNode::spawn().await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let peer = node.user(&[Role::PeerSupporter]).await;
    let requester = node.user(&[]).await;
    // Training expiring in 10 days.
    let expires = (chrono::Utc::now().date_naive() + chrono::Duration::days(10)).to_string();
    let upsert = format!(
        "mutation($id: ID!, $e: Date!) {{ upsertPeerSupporter(input: {{personId: $id, trainedOn: \"2025-01-01\", trainingExpiresOn: $e, timeZone: \"UTC\", caseloadCap: 3, availability: {ALWAYS}}}) {{ id }} }}"
    );
    node.gql(
        Some(&coordinator.token),
        &upsert,
        json!({ "id": gid("Person", &peer.person_id), "e": expires }),
    )
    .await;
    let today = alongside_core::time::now().date();
    assert_eq!(
        reminders::training_expiring(&node.state.db, today, chrono::Duration::days(30))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        reminders::training_expiring(&node.state.db, today, chrono::Duration::days(30))
            .await
            .unwrap(),
        0
    );

    // A follow-up due tomorrow: reminded when it comes within the hour, once.
    let created = node
        .gql(
            Some(&requester.token),
            "mutation { requestSupport(input: {}) { request { id } } }",
            json!({}),
        )
        .await;
    let id = created["requestSupport"]["request"]["id"].clone();
    node.gql(
        Some(&peer.token),
        "mutation($id: ID!) { respondToOffer(id: $id, accept: true) { state } }",
        json!({ "id": id }),
    )
    .await;
    let day = chrono::Utc::now().date_naive().to_string();
    node.gql(Some(&peer.token), "mutation($id: ID!, $d: Date!) { recordEncounter(requestId: $id, input: {occurredOn: $d, duration: UNDER_FIFTEEN, modality: PHONE}) { state } }", json!({ "id": id, "d": day })).await;
    let now = alongside_core::time::now();
    let hour = chrono::Duration::hours(1);
    assert_eq!(
        reminders::follow_ups_due(&node.state.db, now, hour)
            .await
            .unwrap(),
        0
    );
    let tomorrow = now + chrono::Duration::days(1);
    assert_eq!(
        reminders::follow_ups_due(&node.state.db, tomorrow, hour)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        reminders::follow_ups_due(&node.state.db, tomorrow, hour)
            .await
            .unwrap(),
        0
    );
    let topics: Vec<String> = {
        use alongside_core::schema::outbox::dsl::*;
        use diesel::prelude::*;
        let mut conn = node.state.db.get().unwrap();
        outbox
            .filter(recipient.eq(&peer.email))
            .select(topic)
            .load(&mut **conn)
            .unwrap()
    };
    assert!(
        topics.contains(&"training_expiry".to_string())
            && topics.contains(&"follow_up_due".to_string()),
        "{topics:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_links_work_once_and_leave_no_token_behind() {
    let sink = SmtpSink::start();
    let port = sink.port;
    let node = TestNode::spawn_with(move |c| {
        c.auth.sign_in_links = true;
        c.email.transport = "smtp".into();
        c.email.smtp.host = "127.0.0.1".into();
        c.email.smtp.port = port;
        c.email.smtp.tls = "none".into();
        c.outbox.poll_interval_ms = 50;
    })
    .await;
    node.start_worker();
    let user = node.user(&[]).await;
    let ask = |email: String| {
        let node = &node;
        async move {
            let r = node
                .http
                .post(node.url("/api/v1/auth/link"))
                .json(&json!({ "email": email }))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, known) = ask(user.email.clone()).await;
    let (status2, unknown) = ask("nobody@hospital.test".into()).await;
    assert_eq!((status, status2), (202, 202));
    assert_eq!(
        known, unknown,
        "the answer says nothing about who has an account"
    );
    node.wait_for("the sign-in email", || async { !sink.mails().is_empty() })
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mails = sink.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, vec![user.email.clone()]);
    // Undo quoted-printable line breaks and escapes, then take the token from the link.
    let body = mails[0].data.replace("=\r\n", "").replace("=3D", "=");
    let token: String = body
        .split("token=")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    assert_eq!(token.len(), 43);

    let redeem = |token: String| {
        let node = &node;
        async move {
            node.http
                .post(node.url("/api/v1/auth/link/redeem"))
                .json(&json!({ "token": token }))
                .send()
                .await
                .unwrap()
        }
    };
    let first = redeem(token.clone()).await;
    assert_eq!(first.status(), 200);
    let access = first.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    node.gql(Some(&access), "{ viewer { roles } }", json!({}))
        .await;
    assert_eq!(
        redeem(token.clone()).await.status(),
        401,
        "a link works once"
    );
    assert_eq!(redeem("made-up".into()).await.status(), 401);

    // Neither the link table nor the delivered message keeps the token.
    node.wait_for("the outbox to drain", || async {
        pending(&node).await == 0
    })
    .await;
    let db = node.state.db.clone();
    let stored = tokio::task::spawn_blocking(move || {
        use alongside_core::schema::{outbox, sign_in_links};
        use diesel::prelude::*;
        let mut conn = db.get().unwrap();
        let payloads: Vec<String> = outbox::table
            .select(outbox::payload)
            .load(&mut **conn)
            .unwrap();
        let hashes: Vec<String> = sign_in_links::table
            .select(sign_in_links::token_hash)
            .load(&mut **conn)
            .unwrap();
        (payloads, hashes)
    })
    .await
    .unwrap();
    assert!(stored.0.iter().all(|p| !p.contains(&token)));
    assert!(stored.1.iter().all(|h| h != &token));

    // Off unless configured.
    let plain = TestNode::spawn().await;
    let r = plain
        .http
        .post(plain.url("/api/v1/auth/link"))
        .json(&json!({ "email": user.email }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

/// Graceful shutdown: told to stop while delivering, the worker finishes the message in hand
/// (here a webhook whose receiver takes 300 ms) and then stops; nothing is left claimed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_worker_finishes_the_row_in_hand() {
    let slow = alongside_tests::federation::misbehaving("slow").await;
    let node = node_mailing_to(free_port()).await;
    let admin = node.user(&[Role::Admin]).await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    node.gql(
        Some(&admin.token),
        "mutation($u: String!) { registerWebhook(url: $u, eventTypes: [\"event.created\"]) { secret } }",
        json!({ "u": format!("{slow}/hook") }),
    )
    .await;
    node.gql(
        Some(&coordinator.token),
        "mutation($i: [InvolvedPersonInput!]!) { createEvent(input: {category: NEAR_MISS, month: \"2026-10\", severityBand: NO_HARM, involved: $i}) { id } }",
        json!({ "i": [{ "email": coordinator.email, "role": "WITNESS" }] }),
    )
    .await;
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(alongside_api::delivery::run_until(
        node.state.clone(),
        stopping,
    ));
    let states = || async {
        use diesel::prelude::*;
        node.state
            .db
            .run(|conn| {
                use alongside_core::schema::outbox;
                Ok(outbox::table
                    .filter(outbox::channel.eq("webhook"))
                    .select(outbox::state)
                    .load::<String>(conn)?)
            })
            .await
            .unwrap()
    };
    node.wait_for("the webhook in hand", || async {
        states().await == ["delivering"]
    })
    .await;
    stop.send(true).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), worker)
        .await
        .expect("the worker stops")
        .unwrap();
    assert_eq!(
        states().await,
        ["done"],
        "finished, not abandoned mid-delivery"
    );
}

/// Issue 18: webhooks cannot be pointed at the node's own network. Registration refuses
/// loopback, link-local (cloud metadata) and private addresses in every spelling; an endpoint
/// registered while an allowance held and then taken away is disabled (an address) or refused
/// at each delivery (a name that resolves to one), and never reached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_cannot_reach_internal_addresses() {
    let (receiver, addr) = start_receiver();
    let port = addr.port();

    // Registered while loopback was allowed (the test nodes' default)…
    let mut node = TestNode::spawn().await;
    let admin = node.user(&[Role::Admin]).await;
    let register = "mutation($u: String!) { registerWebhook(url: $u, eventTypes: [\"event.created\"]) { endpoint { id } } }";
    let literal = node
        .gql(
            Some(&admin.token),
            register,
            json!({ "u": format!("http://127.0.0.1:{port}/hook") }),
        )
        .await["registerWebhook"]["endpoint"]["id"]
        .clone();
    let named = node
        .gql(
            Some(&admin.token),
            register,
            json!({ "u": format!("http://localhost:{port}/hook") }),
        )
        .await["registerWebhook"]["endpoint"]["id"]
        .clone();

    // …then the allowance is taken away, as in production.
    node.config.outbox.webhook_allowed_networks.clear();
    node.restart().await;
    node.start_worker();
    let admin = node.user(&[Role::Admin]).await;
    for url in [
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        format!("http://127.0.0.1:{port}/metrics"),
        format!("http://localhost:{port}/"),
        "http://[::ffff:127.0.0.1]/".to_owned(),
        "http://2130706433/".to_owned(),
        "http://10.0.0.8/hook".to_owned(),
        "http://[fd00:ec2::254]/".to_owned(),
    ] {
        let (_, body) = node
            .gql_raw(Some(&admin.token), register, json!({ "u": url }))
            .await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{url}: {body}"
        );
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("webhook_allowed_networks"),
            "{body}"
        );
    }
    assert_eq!(node.count("webhook_endpoints").await, 2, "nothing stored");

    let coordinator = node.user(&[Role::Coordinator]).await;
    let someone = node.user(&[]).await;
    event_for(&node, &coordinator, &[&someone]).await;
    let endpoints = "{ webhookEndpoints { id active disabledReason } }";
    node.wait_for(
        "the endpoint at a loopback address to be disabled",
        || async {
            let data = node.gql(Some(&admin.token), endpoints, json!({})).await;
            data["webhookEndpoints"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["id"] == literal && e["active"] == false)
        },
    )
    .await;
    let attempts = "query($id: ID!) { webhookDeliveries(endpointId: $id) { error } }";
    node.wait_for("the named endpoint's delivery to be refused", || async {
        let data = node
            .gql(Some(&admin.token), attempts, json!({ "id": named }))
            .await;
        data["webhookDeliveries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| {
                a["error"].as_str().is_some_and(|e| {
                    e.contains("resolves only to addresses webhooks may not reach")
                })
            })
    })
    .await;
    assert_eq!(receiver.hits.load(Ordering::SeqCst), 0, "never reached");
}
