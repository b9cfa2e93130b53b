//! The network's console, driven as the steward's admin and a member's coordinator would.

use alongside_api::maintenance;
use alongside_core::access::{Principal, Role};
use alongside_tests::TestNode;
use alongside_tests::federation::{fast, federation};
use serde_json::json;

use crate::harness::{Browser, DESK, PHONE};
use crate::journeys::{person, sign_in};

/// Journey 4: a hospital asks to join; the steward's admin approves it in the console; the new
/// member's status and the manifest it holds show there, and once the members have synced, a
/// coordinator at another member finds its shared resource in the network directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_steward_approves_a_join_request_in_the_console() {
    let (steward, members) = federation(&["a.test"]).await;
    let a = &members[0];
    let c = TestNode::spawn_with(|cfg| fast(cfg, "c.test", "Hospital c.test")).await;
    let key = steward.state.tokens.key().kid().to_owned();
    c.state
        .federation
        .request_join(&Principal::Operator, &steward.base, Some(&key))
        .await
        .unwrap();
    let c_admin = c.user(&[Role::Admin]).await;
    c.gql(
        Some(&c_admin.token),
        "mutation($i: ResourceInputGql!) { createResource(input: $i) { id } }",
        json!({ "i": { "kind": "TOOLKIT", "title": "Night shift debrief guide", "summary": "Ten minutes before handover.", "body": "Sit down together.", "licence": "CC BY 4.0", "sharing": "FEDERATION" } }),
    )
    .await;

    person(
        &steward,
        "admin@steward.test",
        "Noor Steward",
        &[Role::Admin],
    )
    .await;
    let b = Browser::open(&steward.base, DESK, "en-US").await;
    sign_in(&b, "admin@steward.test").await;
    b.visit("/console/network").await;
    let waiting = b
        .driver
        .find(thirtyfour::By::Id("waiting"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(waiting.contains("Hospital c.test"), "{waiting}");
    assert!(waiting.contains("Waiting"), "{waiting}");
    b.check_page("console-network").await;

    b.press("Approve Hospital c.test").await;
    let page = b.text().await;
    assert!(
        page.contains("Approved: the new manifest names it as a member."),
        "{page}"
    );
    assert!(page.contains("No request to join is waiting."), "{page}");
    let serial = steward
        .state
        .federation
        .published_manifest()
        .await
        .unwrap()
        .serial;
    assert!(
        page.contains(&format!("Current manifest: number {serial}")),
        "{page}"
    );

    // The members fetch the new manifest and sync; asked, C says what it holds.
    c.state.federation.refresh_manifest().await.unwrap();
    a.state.federation.refresh_manifest().await.unwrap();
    maintenance::sync_round(&a.state).await;
    maintenance::sync_round(&c.state).await;
    b.press("Ask every member now").await;
    let card = b
        .driver
        .find(thirtyfour::By::XPath(
            "//ul[@id='members']/li[h3[contains(., 'Hospital c.test')]]",
        ))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(card.contains("Member since"), "{card}");
    assert!(
        card.contains(&format!("Holds manifest number {serial}")),
        "{card}"
    );
    assert!(card.contains("Had everyone's directory by"), "{card}");
    assert!(!card.contains("behind"), "{card}");
    b.check_page("console-network-members").await;
    b.press("Network metrics").await;
    b.check_page("console-network-metrics").await;
    b.quit().await;

    // A coordinator at A finds C's resource in the network directory.
    person(a, "coord@a.test", "Casey Moreno", &[Role::Coordinator]).await;
    let coord = Browser::open(&a.base, PHONE, "en-US").await;
    sign_in(&coord, "coord@a.test").await;
    coord.visit("/console").await;
    coord.press("Network").await;
    let page = coord.text().await;
    assert!(page.contains("From Hospital c.test"), "{page}");
    assert!(page.contains("Night shift debrief guide"), "{page}");
    coord.check_page("console-network-directory").await;
    coord.quit().await;
}
