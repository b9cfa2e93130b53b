//! Text messages through a real HTTP gateway on loopback: a supporter who chose texts gets an
//! offer by text in their language; the gateway down, failing and hanging past the timeout still
//! leaves exactly one message on the phone; numbers are checked.

use std::time::Duration;

use alongside_core::access::Role;
use alongside_tests::TestNode;
use alongside_tests::federation::supporter;
use alongside_tests::text_gateway::{Answer, TextGateway};
use serde_json::json;

const PROFILE: &str = "mutation($i: UpdateMyProfileInput!) { updateMyProfile(input: $i) { phone textMessages locale } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_by_text_arrives_once_through_a_gateway_that_was_down_failed_and_hung() {
    let port = alongside_tests::smtp::free_port();
    let node = TestNode::spawn_with(|c| {
        alongside_tests::text_gateway::point_at(c, port);
        c.text_messages.timeout_secs = 1;
        c.outbox.poll_interval_ms = 50;
        c.outbox.backoff_base_ms = 100;
        c.outbox.backoff_max_secs = 1;
        c.outbox.max_attempts = 30;
    })
    .await;

    // A supporter gives a number and chooses texts, in Spanish. Bad numbers are refused first.
    let peer = supporter(&node, "NURSE", false).await;
    for bad in ["555 0100", "+0 555 010 0123", "+1 555 CALL ME", "+1234"] {
        let (_, r) = node
            .gql_raw(
                Some(&peer.token),
                PROFILE,
                json!({ "i": { "phone": bad, "textMessages": true } }),
            )
            .await;
        assert_eq!(
            r["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{bad}: {r}"
        );
        assert_eq!(r["errors"][0]["extensions"]["field"], "phone", "{bad}: {r}");
    }
    let (_, r) = node
        .gql_raw(
            Some(&peer.token),
            PROFILE,
            json!({ "i": { "textMessages": true } }),
        )
        .await;
    assert_eq!(
        r["errors"][0]["extensions"]["field"], "phone",
        "texts need a number: {r}"
    );
    let saved = node
        .gql(
            Some(&peer.token),
            PROFILE,
            json!({ "i": { "phone": "+1 (555) 010-0123", "textMessages": true, "locale": "es" } }),
        )
        .await;
    assert_eq!(
        saved["updateMyProfile"],
        json!({ "phone": "+15550100123", "textMessages": true, "locale": "es" })
    );

    // A colleague asks; the offer is queued as a text while the gateway is down.
    node.start_worker();
    let me = node.user(&[Role::Member]).await;
    node.gql(
        Some(&me.token),
        "mutation { requestSupport(input: {urgency: URGENT}) { request { state } } }",
        json!({}),
    )
    .await;
    node.wait_for("tries against the gateway that is down", || async {
        node.outbox_attempts("text").await >= 2
    })
    .await;

    // The gateway comes back: it fails once, then sends and hangs past the client's timeout
    // (so the node cannot know it was sent), then accepts.
    let gateway = TextGateway::serve(
        port,
        vec![
            Answer::Fail,
            Answer::Hang(Duration::from_secs(3)),
            Answer::Accept,
        ],
    )
    .await;
    node.wait_for("the gateway to accept", || async {
        node.outbox_state("text").await.as_deref() == Some("done")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let requests = gateway.requests();
    assert!(requests.len() >= 3, "fail, hang, accept: {requests:?}");
    assert!(
        requests.iter().all(|r| r.key == requests[0].key),
        "every retry carries the same key"
    );
    let phone = gateway.phone();
    assert_eq!(
        phone.len(),
        1,
        "exactly one message on the phone: {phone:?}"
    );
    let text = &phone[0];
    assert_eq!(text.path, "/2010-04-01/Accounts/AC0001/Messages.json");
    use base64::Engine;
    assert_eq!(
        text.authorization,
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("AC0001:gateway-secret")
        )
    );
    assert_eq!(
        (text.from.as_str(), text.to.as_str()),
        ("+15550100000", "+15550100123")
    );
    assert!(
        text.body.contains("un colega espera")
            && text.body.contains(&format!("{}/support", node.base)),
        "Spanish, with the link: {}",
        text.body
    );
    assert!(text.body.chars().count() <= 160, "one SMS: {}", text.body);
    // Nothing about anyone: no email address, no name, no case.
    assert!(!text.body.contains('@'), "{}", text.body);
}

/// A pager that takes email: the text goes as a plain email to NUMBER@pager domain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pager_gets_the_text_through_its_email_gateway() {
    let sink = alongside_tests::smtp::SmtpSink::start();
    let port = sink.port;
    let node = TestNode::spawn_with(move |c| {
        c.text_messages.gateway = "email_to_pager".into();
        c.text_messages.pager_domain = Some("pager.hospital.test".into());
        c.email.transport = "smtp".into();
        c.email.smtp.host = "127.0.0.1".into();
        c.email.smtp.port = port;
        c.email.smtp.tls = "none".into();
        c.outbox.poll_interval_ms = 50;
    })
    .await;
    let peer = supporter(&node, "NURSE", false).await;
    node.gql(
        Some(&peer.token),
        PROFILE,
        json!({ "i": { "phone": "+15550100777", "textMessages": true } }),
    )
    .await;
    node.start_worker();
    let me = node.user(&[Role::Member]).await;
    node.gql(
        Some(&me.token),
        "mutation { requestSupport(input: {urgency: URGENT}) { request { state } } }",
        json!({}),
    )
    .await;
    node.wait_for("the pager email", || async {
        sink.mails().iter().any(|m| {
            m.to.iter()
                .any(|t| t.contains("15550100777@pager.hospital.test"))
        })
    })
    .await;
    let page = sink
        .mails()
        .into_iter()
        .find(|m| m.to.iter().any(|t| t.contains("@pager.hospital.test")))
        .unwrap();
    assert!(
        page.data
            .contains("a colleague is waiting for a peer supporter"),
        "{}",
        page.data
    );
}
