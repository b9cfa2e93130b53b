//! The on-call rota and escalation: an alert goes to whoever is on call now, escalates through
//! the rota and then to the program lead when nobody acknowledges it, and stops at one tap.

use alongside_core::access::Role;
use alongside_tests::smtp::{Mail, SmtpSink};
use alongside_tests::{TestNode, TestUser, error_code, gid};
use serde_json::{Value, json};

const CRISIS: &str = "Crisis support requested";

async fn mailing_node(port: u16) -> TestNode {
    TestNode::spawn_with(|c| {
        c.email.transport = "smtp".into();
        c.email.smtp.host = "127.0.0.1".into();
        c.email.smtp.port = port;
        c.email.smtp.tls = "none".into();
        c.outbox.poll_interval_ms = 50;
        c.outbox.backoff_base_ms = 100;
        c.outbox.backoff_max_secs = 1;
    })
    .await
}

fn crisis_mails_to(mails: &[Mail], to: &str) -> Vec<String> {
    mails
        .iter()
        .filter(|m| m.to.iter().any(|t| t == to) && m.data.contains(CRISIS))
        .map(|m| m.data.replace("=\r\n", "").replace("=3D", "="))
        .collect()
}

fn ack_code(body: &str) -> String {
    body.split("/ack?code=")
        .nth(1)
        .unwrap_or_else(|| panic!("no acknowledgement link in {body}"))
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

fn all_week(person: &TestUser, position: i32) -> Vec<Value> {
    ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
        .iter()
        .map(|d| {
            json!({ "personId": gid("Person", &person.person_id), "weekday": d, "start": "00:00", "end": "00:00", "position": position })
        })
        .collect()
}

async fn crisis(node: &TestNode) {
    let me = node.user(&[Role::Member]).await;
    node.gql(
        Some(&me.token),
        "mutation { requestSupport(input: {urgency: CRISIS}) { request { state } } }",
        json!({}),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unacknowledged_alert_escalates_through_the_rota_and_stops_at_one_tap() {
    let sink = SmtpSink::start();
    let node = mailing_node(sink.port).await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let first = node.user(&[Role::Coordinator]).await;
    let second = node.user(&[Role::Coordinator]).await;
    let stand_in = node.user(&[Role::Coordinator]).await;
    let lead = node.user(&[Role::Admin]).await;
    let member = node.user(&[Role::Member]).await;

    // Only coordinators and admins manage the rota; bad input names its field.
    let set = "mutation($i: OnCallRotaInput!) { setOnCallRota(input: $i) { timeZone escalateAfterMinutes onCallNow } }";
    let mut shifts = all_week(&first, 1);
    shifts.extend(all_week(&second, 2));
    let input = json!({ "i": { "timeZone": "America/Chicago", "escalateAfterMinutes": 10, "leadPersonId": gid("Person", &lead.person_id), "shifts": shifts } });
    let (_, refused) = node.gql_raw(Some(&member.token), set, input.clone()).await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"));
    let bad = json!({ "i": { "timeZone": "Mars/Olympus", "shifts": [] } });
    let (_, refused) = node.gql_raw(Some(&coordinator.token), set, bad).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["field"], "timeZone",
        "{refused}"
    );
    let rota = node.gql(Some(&coordinator.token), set, input).await;
    assert_eq!(
        rota["setOnCallRota"]["onCallNow"],
        json!([
            gid("Person", &first.person_id),
            gid("Person", &second.person_id)
        ])
    );

    // A swap for the next hour puts someone else first; removing it puts the rota back.
    let swap = node
        .gql(
            Some(&coordinator.token),
            "mutation($p: ID!, $s: DateTime!, $e: DateTime!) { addOnCallOverride(personId: $p, position: 1, startsAt: $s, endsAt: $e) { onCallNow overrides { id } } }",
            json!({ "p": gid("Person", &stand_in.person_id), "s": chrono::Utc::now() - chrono::Duration::minutes(1), "e": chrono::Utc::now() + chrono::Duration::hours(1) }),
        )
        .await;
    assert_eq!(
        swap["addOnCallOverride"]["onCallNow"][0],
        gid("Person", &stand_in.person_id)
    );
    let id = swap["addOnCallOverride"]["overrides"][0]["id"].clone();
    let back = node
        .gql(
            Some(&coordinator.token),
            "mutation($id: ID!) { removeOnCallOverride(id: $id) { onCallNow } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        back["removeOnCallOverride"]["onCallNow"][0],
        gid("Person", &first.person_id)
    );

    // A crisis: the first on call is paged, with a one-tap acknowledgement.
    node.start_worker();
    crisis(&node).await;
    node.wait_for("the first page", || async {
        crisis_mails_to(&sink.mails(), &first.email).len() == 1
    })
    .await;
    assert!(crisis_mails_to(&sink.mails(), &second.email).is_empty());

    // Nobody answers: after 10 minutes the second on call, then the lead, then no one more.
    let report = node.sweep_in(11).await;
    assert_eq!(report.escalated, 1, "{report:?}");
    node.wait_for("the second page", || async {
        crisis_mails_to(&sink.mails(), &second.email).len() == 1
    })
    .await;
    assert_eq!(node.sweep_in(22).await.escalated, 1);
    node.wait_for("the lead's page", || async {
        crisis_mails_to(&sink.mails(), &lead.email).len() == 1
    })
    .await;
    assert_eq!(
        node.sweep_in(33).await.escalated,
        0,
        "everyone has been paged"
    );

    // The second on call acknowledges from the link: a page with one button (so a mail scanner
    // cannot), then done; a second tap says someone has it.
    let code = ack_code(&crisis_mails_to(&sink.mails(), &second.email)[0]);
    let pages_before = node.count("alert_pages").await;
    let page = node
        .http
        .get(node.url(&format!("/ack?code={code}")))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Acknowledge this alert") && html.contains("action=\"/ack\""),
        "{html}"
    );
    assert_eq!(
        node.count("alert_pages").await,
        pages_before,
        "opening the page paged no one"
    );
    let tap = || async {
        node.http
            .post(node.url("/ack"))
            .header("origin", &node.base)
            .header("accept", "text/html")
            .form(&[("code", code.as_str())])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    assert!(tap().await.contains("Thank you: you have it"));
    assert!(tap().await.contains("Someone already has it"));

    // The next crisis is acknowledged at once (through the API): nobody else is paged.
    crisis(&node).await;
    node.wait_for("the first page of the second alert", || async {
        crisis_mails_to(&sink.mails(), &first.email).len() == 2
    })
    .await;
    let code = ack_code(&crisis_mails_to(&sink.mails(), &first.email)[1]);
    let acked = node
        .gql(
            None,
            "mutation($c: String!) { acknowledgeAlert(code: $c) }",
            json!({ "c": code }),
        )
        .await;
    assert_eq!(acked["acknowledgeAlert"], true);
    assert_eq!(node.sweep_in(11).await.escalated, 0);
    let (_, unknown) = node
        .gql_raw(
            None,
            "mutation { acknowledgeAlert(code: \"00\") }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&unknown), Some("NOT_FOUND"));
    // No code stays readable once its message is delivered.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let payloads: Vec<String> = node
        .state
        .db
        .run(|conn| {
            use alongside_core::schema::outbox;
            use diesel::prelude::*;
            Ok(outbox::table
                .filter(outbox::topic.eq("crisis_alert"))
                .filter(outbox::state.eq("done"))
                .select(outbox::payload)
                .load::<String>(conn)?)
        })
        .await
        .unwrap();
    assert!(payloads.iter().all(|p| p == "{}"), "{payloads:?}");
}

/// Outreach to a disclosure participant is urgent: it goes by text where the person chose
/// texts, and if nobody reaches them within the program's hours (4 by default) the on-call is
/// alerted, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urgent_outreach_not_reached_in_time_alerts_the_on_call_once() {
    let sink = SmtpSink::start();
    let node = mailing_node(sink.port).await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let on_call = node.user(&[Role::Coordinator]).await;
    node.gql(
        Some(&coordinator.token),
        "mutation($i: OnCallRotaInput!) { setOnCallRota(input: $i) { onCallNow } }",
        json!({ "i": { "timeZone": "UTC", "shifts": all_week(&on_call, 1) } }),
    )
    .await;
    let nurse = node.user(&[Role::Member]).await;
    let bystander = node.user(&[Role::Member]).await;
    node.gql(
        Some(&nurse.token),
        "mutation { updateMyProfile(input: {phone: \"+15550100999\", textMessages: true}) { phone } }",
        json!({}),
    )
    .await;
    let q = "mutation($i: [InvolvedPersonInput!]!) { createEvent(input: {category: HARM_EVENT, month: \"2026-10\", department: \"ICU\", severityBand: MODERATE, involved: $i}) { id } }";
    node.gql(
        Some(&coordinator.token),
        q,
        json!({ "i": [
            { "email": nurse.email, "role": "DISCLOSURE" },
            { "email": bystander.email, "role": "PERIPHERAL" },
        ] }),
    )
    .await;
    // Only the urgent outreach is texted.
    let texts: Vec<String> = node
        .state
        .db
        .run(|conn| {
            use alongside_core::schema::outbox;
            use diesel::prelude::*;
            Ok(outbox::table
                .filter(outbox::channel.eq("text"))
                .select(outbox::recipient)
                .load::<String>(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(texts, ["+15550100999"]);

    assert_eq!(node.sweep_in(3 * 60).await.outreach_breaches, 0);
    let report = node.sweep_in(4 * 60 + 1).await;
    assert_eq!(
        report.outreach_breaches, 1,
        "only the urgent one: {report:?}"
    );
    assert_eq!(node.sweep_in(4 * 60 + 2).await.outreach_breaches, 0, "once");
    node.start_worker();
    node.wait_for("the on-call's alert", || async {
        sink.mails().iter().any(|m| {
            m.to.contains(&on_call.email) && m.data.replace("=\r\n", "").contains("urgent outreach")
        })
    })
    .await;
}

/// A program may mark whole event categories urgent: everyone involved in such an event gets
/// the urgent clock (two hours here), not only disclosure participants; other events do not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_category_the_program_marks_urgent_makes_everyones_outreach_urgent() {
    let node = TestNode::spawn().await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let created = node
        .gql(
            Some(&coordinator.token),
            "mutation { createProgram(input: {name: \"Peer support\", kind: PEER_SUPPORT, tier: 2, hours: \"24/7\", contact: \"x1234\", urgentOutreachHours: 2, urgentCategories: [WORKPLACE_VIOLENCE, UNEXPECTED_DEATH_OR_DECLINE, WORKPLACE_VIOLENCE]}) { urgentCategories urgentOutreachHours } }",
            json!({}),
        )
        .await;
    assert_eq!(
        created["createProgram"]["urgentCategories"],
        json!(["UNEXPECTED_DEATH_OR_DECLINE", "WORKPLACE_VIOLENCE"])
    );
    let aide = node.user(&[Role::Member]).await;
    let nurse = node.user(&[Role::Member]).await;
    let q = "mutation($c: EventCategory!, $i: [InvolvedPersonInput!]!) { createEvent(input: {category: $c, month: \"2026-10\", department: \"ED\", severityBand: MODERATE, involved: $i}) { outreach { urgent } } }";
    let violent = node
        .gql(
            Some(&coordinator.token),
            q,
            json!({ "c": "WORKPLACE_VIOLENCE", "i": [
                { "email": aide.email, "role": "PERIPHERAL" },
                { "email": nurse.email, "role": "DIRECT" },
            ] }),
        )
        .await;
    assert_eq!(
        violent["createEvent"]["outreach"],
        json!([{ "urgent": true }, { "urgent": true }])
    );
    let near_miss = node
        .gql(
            Some(&coordinator.token),
            q,
            json!({ "c": "NEAR_MISS", "i": [{ "email": aide.email, "role": "DIRECT" }] }),
        )
        .await;
    assert_eq!(
        near_miss["createEvent"]["outreach"],
        json!([{ "urgent": false }])
    );
    // The program's own clock: breached after two hours, both people, once each.
    assert_eq!(node.sweep_in(60).await.outreach_breaches, 0);
    assert_eq!(node.sweep_in(2 * 60 + 1).await.outreach_breaches, 2);
    // Nonsense is refused by name, and nothing changes.
    let (_, bad) = node
        .gql_raw(
            Some(&coordinator.token),
            "mutation { createProgram(input: {name: \"X\", kind: PEER_SUPPORT, tier: 2, hours: \"h\", contact: \"c\", urgentCategories: [SOMETHING]}) { id } }",
            json!({}),
        )
        .await;
    assert!(bad["errors"].is_array(), "{bad}");
}

/// Once a case is purged, nothing about its alerts remains, and no queued message keeps an
/// address past retention, whatever became of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purging_a_case_takes_its_alerts_and_every_old_message() {
    let node = TestNode::spawn().await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let on_call = node.user(&[Role::Coordinator]).await;
    node.gql(
        Some(&coordinator.token),
        "mutation($i: OnCallRotaInput!) { setOnCallRota(input: $i) { onCallNow } }",
        json!({ "i": { "timeZone": "UTC", "shifts": all_week(&on_call, 1) } }),
    )
    .await;
    let me = node.user(&[Role::Member]).await;
    let made = node
        .gql(
            Some(&me.token),
            "mutation { requestSupport(input: {urgency: CRISIS, coordinatorAccess: FULL}) { request { id } } }",
            json!({}),
        )
        .await;
    let request = made["requestSupport"]["request"]["id"].clone();
    assert_eq!(node.count("alerts").await, 1);
    assert_eq!(node.count("alert_pages").await, 1);
    // One message given up on: it still holds an address until retention.
    node.state
        .db
        .run(|conn| {
            use alongside_core::schema::outbox;
            use diesel::prelude::*;
            diesel::update(outbox::table.filter(outbox::topic.eq("crisis_alert")))
                .set(outbox::state.eq("dead"))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    let ended = node
        .gql(
            Some(&me.token),
            "mutation($id: ID!) { withdrawRequest(id: $id) { state } }",
            json!({ "id": request }),
        )
        .await;
    assert_eq!(ended["withdrawRequest"]["state"], "WITHDRAWN");
    let later = alongside_core::time::now() + chrono::Duration::days(91);
    let report = alongside_core::retention::purge(&node.state.db, later, 90)
        .await
        .unwrap();
    assert_eq!(report.requests, 1);
    for table in ["support_requests", "alerts", "alert_pages", "outbox"] {
        assert_eq!(node.count(table).await, 0, "{table} after the purge");
    }
}
