//! Journey 3: a peer at another hospital, across two real nodes of one federation.

use alongside_tests::federation::federation;
use thirtyfour::By;

use crate::harness::{Browser, DESK, PHONE};
use crate::journeys::{person, sign_in, supporter};

/// A nurse at hospital A asks for someone outside A, sees anonymous candidates from B with
/// their reasons, checks word for word what will be shared, and sends the introduction; the
/// supporter at B accepts on B's pages and sees only what was shared; the nurse sees the
/// acceptance, and later closes the request at A.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nurse_reaches_a_peer_at_another_hospital() {
    let (_steward, members) = federation(&["a.test", "b.test"]).await;
    let (a, b) = (&members[0], &members[1]);
    person(a, "nurse@a.test", "Dana Lee", &[]).await;
    supporter(b, "sam@b.test", "Sam Rivera").await;
    a.start_worker();
    b.start_worker();

    let nurse = Browser::open(&a.base, PHONE, "en-US").await;
    sign_in(&nurse, "nurse@a.test").await;
    nurse.visit("/talk").await;
    nurse.tick("urgency-routine").await;
    nurse.tick("origin-outside_institution_only").await;
    nurse.press("Ask for support").await;
    let page = nurse.text().await;
    assert!(page.contains("Looking at other hospitals"), "{page}");
    let request_path = nurse.path().await.split('?').next().unwrap().to_owned();

    // The candidates: anonymous, with the hospital and why each is suggested.
    nurse.press("Look for someone at another hospital").await;
    let page = nurse.text().await;
    assert!(page.contains("1 of 1 hospital answered in time"), "{page}");
    assert!(page.contains("Nurse at Hospital b.test"), "{page}");
    assert!(page.contains("Why we suggest them"), "{page}");
    assert!(!page.contains("Rivera"), "no name of the supporter: {page}");
    nurse.check_page("outside-candidates").await;

    // Choosing one asks what to share; an empty contact is named and nothing is sent.
    nurse.press("Choose this peer").await;
    nurse.check_page("outside-share").await;
    nurse.fill("firstName", "Dana").await;
    nurse.press("Check what will be sent").await;
    let page = nurse.text().await;
    assert!(page.contains("There is a problem"), "{page}");
    assert!(
        page.contains(
            "Enter a phone number or email address where the peer supporter can reach you"
        ),
        "{page}"
    );
    assert_eq!(
        nurse
            .driver
            .find(By::Id("firstName"))
            .await
            .unwrap()
            .value()
            .await
            .unwrap()
            .as_deref(),
        Some("Dana"),
        "the rest of the answers are kept"
    );
    assert_eq!(b.count("federation_introductions").await, 0);
    nurse.fill("contact", "555-0100").await;
    nurse.press("Check what will be sent").await;

    // The consent step shows word for word what leaves, before anything does.
    let consent = nurse.text().await;
    assert!(
        consent
            .contains("This is exactly what will be sent to one peer supporter at Hospital b.test"),
        "{consent}"
    );
    let name = nurse.driver.find(By::Id("consent-name")).await.unwrap();
    assert_eq!(name.text().await.unwrap(), "Dana");
    let contact = nurse.driver.find(By::Id("consent-contact")).await.unwrap();
    assert_eq!(contact.text().await.unwrap(), "555-0100");
    assert!(!consent.contains("Lee"), "only what the nurse typed");
    assert_eq!(b.count("federation_introductions").await, 0);
    nurse.check_page("outside-consent").await;
    nurse.press("Send the introduction").await;
    let page = nurse.text().await;
    assert!(page.contains("Your introduction was sent"), "{page}");
    assert!(
        page.contains("A peer supporter at Hospital b.test"),
        "{page}"
    );
    nurse.check_page("request-introduced").await;

    // At B, the supporter sees the introduction on B's own pages and accepts.
    b.wait_for("the introduction at B", || async {
        b.count("federation_introductions").await == 1
    })
    .await;
    let sam = Browser::open(&b.base, DESK, "en-US").await;
    sign_in(&sam, "sam@b.test").await;
    sam.visit("/support").await;
    let page = sam.text().await;
    assert!(
        page.contains("Someone at Hospital a.test asks to talk"),
        "{page}"
    );
    assert!(page.contains("Dana") && page.contains("555-0100"), "{page}");
    assert!(!page.contains("Lee"), "nothing the nurse did not share");
    sam.check_page("support-introduction").await;
    sam.press("Accept").await;
    let page = sam.text().await;
    assert!(page.contains("You accepted"), "{page}");

    // Sam talks with Dana and records it on B's pages: counts only. Without a length the form
    // comes back naming it, with the date kept.
    sam.press("Record a conversation or end the support").await;
    sam.check_page("support-introduction-page").await;
    let page = sam.text().await;
    assert!(page.contains("No conversation recorded yet"), "{page}");
    assert!(page.contains("Dana") && page.contains("555-0100"), "{page}");
    sam.press("Save the conversation").await;
    let page = sam.text().await;
    assert!(
        page.contains("Choose how long the conversation was"),
        "{page}"
    );
    sam.tick("duration-15_to_30_minutes").await;
    sam.press("Save the conversation").await;
    let page = sam.text().await;
    assert!(page.contains("The conversation is recorded"), "{page}");
    assert!(page.contains("1 conversation recorded"), "{page}");

    // Back at A, the nurse sees the acceptance.
    a.wait_for("the acceptance at A", || async {
        nurse.visit(&request_path).await;
        nurse
            .text()
            .await
            .contains("A peer supporter at Hospital b.test: accepted")
    })
    .await;
    let page = nurse.text().await;
    assert!(
        page.contains("Supported by a peer at another hospital"),
        "{page}"
    );
    nurse.check_page("request-outside-accepted").await;

    // When it is over, she closes it here.
    nurse
        .press("I no longer need support: close this request")
        .await;
    let page = nurse.text().await;
    assert!(page.contains("Closed"), "{page}");

    // Sam says the support has ended: Dana's name and contact are deleted at B.
    sam.visit("/support").await;
    sam.press("Record a conversation or end the support").await;
    sam.press("The support has ended").await;
    let page = sam.text().await;
    assert!(page.contains("The support is recorded as ended"), "{page}");
    assert!(!page.contains("555-0100"), "{page}");

    nurse.quit().await;
    sam.quit().await;
}
