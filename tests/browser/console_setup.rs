//! Setting a program up in the console, as its lead would: the programs and their clocks, the
//! crisis resources and who is on call, the readiness self-assessment.

use alongside_core::access::Role;
use alongside_tests::TestNode;

use crate::harness::{Browser, PHONE};
use crate::journeys::person;

/// Journey: an admin adds a tier-3 program (the form first refuses a target out of range and
/// keeps the rest), retires another, rewrites the crisis resources, puts a coordinator on the
/// rota and a colleague on an override, and answers the readiness assessment twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sets_up_programs_on_call_and_readiness() {
    let node = TestNode::spawn().await;
    person(&node, "admin@hospital.test", "Ari Admin", &[Role::Admin]).await;
    person(
        &node,
        "coord@hospital.test",
        "Casey Moreno",
        &[Role::Coordinator],
    )
    .await;

    let b = Browser::open(&node.base, PHONE, "en-US").await;
    crate::journeys::sign_in(&b, "admin@hospital.test").await;
    b.visit("/console").await;
    b.press("Programs").await;
    assert!(b.text().await.contains("No program yet."));
    b.check_page("console-programs").await;

    // A program with a target out of range: the form names it and keeps what was typed.
    b.fill("name", "Employee assistance").await;
    b.choose("kind", "eap").await;
    b.tick("tier-3").await;
    b.tick("audience-nurse").await;
    b.fill("hours", "Any time, day or night").await;
    b.fill("contact", "Call 555-0100").await;
    b.fill("follow_up_days", "2, 30").await;
    b.fill("ack_target_minutes", "5000").await;
    b.press("Save the program").await;
    let page = b.text().await;
    assert!(
        page.contains("Enter a whole number of minutes from 1 to 1440"),
        "{page}"
    );
    assert_eq!(b.value_of("name").await, "Employee assistance");
    assert_eq!(b.value_of("follow_up_days").await, "2, 30");
    b.check_page("console-programs-error").await;
    b.fill("ack_target_minutes", "20").await;
    // Its intake, for hand-offs: a phone without its country code is named, the rest kept.
    b.fill("intake_email", "intake@eap.example.org").await;
    b.fill("intake_phone", "555 0100").await;
    b.press("Save the program").await;
    assert!(b.text().await.contains("with its country code"));
    assert_eq!(b.value_of("intake_email").await, "intake@eap.example.org");
    assert_eq!(node.count("programs").await, 0, "nothing saved");
    b.fill("intake_phone", "+1 555 010 0100").await;
    b.press("Save the program").await;
    let page = b.text().await;
    assert!(page.contains("The program is saved."), "{page}");
    assert!(page.contains("Tier 3: professional help"), "{page}");
    assert!(page.contains("For: Nurse"), "{page}");
    assert!(
        page.contains("Acknowledge within 20 minutes · first contact within 24 hours"),
        "{page}"
    );
    assert!(
        page.contains("Follow-ups on days 2, 30 after first contact"),
        "{page}"
    );

    // Retiring it: the form starts from what it has.
    b.driver
        .find(thirtyfour::By::Css("a[href*='edit=']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for_new_page("change the program").await;
    assert_eq!(b.value_of("ack_target_minutes").await, "20");
    assert_eq!(b.value_of("intake_email").await, "intake@eap.example.org");
    assert_eq!(b.value_of("intake_phone").await, "+15550100100");
    b.tick("active").await;
    b.press("Save the program").await;
    let card = b
        .driver
        .find(thirtyfour::By::XPath(
            "//li[h2[contains(., 'Employee assistance')]]",
        ))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(card.contains("Retired"), "{card}");

    // Crisis resources and on call.
    b.press("On call").await;
    let page = b.text().await;
    assert!(page.contains("Nobody is on call now"), "{page}");
    b.check_page("console-settings").await;
    b.fill(
        "crisis_resources",
        "Call the hospital crisis line on 555-0199, or 988 at any hour.",
    )
    .await;
    b.fill("on_call_email", "not an address").await;
    b.press("Save").await;
    let page = b.text().await;
    assert!(
        page.contains("Enter an email address like name@hospital.org"),
        "{page}"
    );
    assert_eq!(
        b.value_of("crisis_resources").await,
        "Call the hospital crisis line on 555-0199, or 988 at any hour."
    );
    b.fill("on_call_email", "").await;
    b.press("Save").await;
    // Every page carries the new words at once.
    assert!(b.text().await.contains("crisis line on 555-0199"));

    // Casey on call every day of the week around the clock: on call now.
    for day in ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] {
        b.fill("person", "coord@hospital.test").await;
        b.choose("weekday", day).await;
        b.fill("start", "00:00").await;
        b.fill("end", "00:00").await;
        b.fill("position", "1").await;
        b.press("Add a shift").await;
    }
    let page = b.text().await;
    assert!(page.contains("Monday 00:00 to 00:00"), "{page}");
    let now = b
        .driver
        .find(thirtyfour::By::Id("on-call-now"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(now.contains("Casey Moreno"), "{now}");

    // An override that ends before it starts is refused, with the field named.
    b.fill("override_person", "admin@hospital.test").await;
    b.fill("starts", "2030-12-24 18:00").await;
    b.fill("ends", "2030-12-24 08:00").await;
    b.fill("override_position", "2").await;
    b.press("Add an override").await;
    let page = b.text().await;
    assert!(page.contains("after it starts"), "{page}");
    assert_eq!(b.value_of("starts").await, "2030-12-24 18:00");
    b.check_page("console-settings-error").await;
    b.fill("ends", "2030-12-26 08:00").await;
    b.press("Add an override").await;
    let page = b.text().await;
    assert!(
        page.contains("2030-12-24 18:00 to 2030-12-26 08:00"),
        "{page}"
    );

    // Readiness: a question left out is named; then the scores and next steps, and a chart.
    b.press("Readiness").await;
    assert!(b.text().await.contains("No assessment yet."));
    b.check_page("console-readiness").await;
    let questions = b
        .driver
        .find_all(thirtyfour::By::Css("fieldset[id]"))
        .await
        .unwrap();
    let mut ids = vec![];
    for q in &questions {
        ids.push(q.attr("id").await.unwrap().unwrap());
    }
    assert_eq!(ids.len(), 20);
    for id in &ids[1..] {
        b.tick(&format!("{id}-2")).await;
    }
    b.press("Save the assessment").await;
    let page = b.text().await;
    assert!(
        page.contains("Answer this question: not in place, partly or fully"),
        "{page}"
    );
    assert_eq!(
        b.driver
            .find_all(thirtyfour::By::Css("input[type=radio]:checked"))
            .await
            .unwrap()
            .len(),
        19,
        "the answers given are kept"
    );
    b.tick(&format!("{}-0", ids[0])).await;
    b.press("Save the assessment").await;
    let page = b.text().await;
    assert!(page.contains("The assessment is saved."), "{page}");
    // Leadership: one of two questions not in place, so 50, with its next step.
    assert!(page.contains("Score: 50 out of 100"), "{page}");
    assert!(
        page.contains("Ask a senior leader to sponsor the program"),
        "{page}"
    );
    assert!(page.contains("Overall score over time"), "{page}");
    b.check_page("console-readiness-scored").await;

    // The business case: a rate out of range is named; with nobody supported yet, the page
    // says there are too few to report rather than describe a handful.
    b.press("Business case").await;
    b.check_page("console-business-case").await;
    for (id, v) in [
        ("leaving_rate", "20"),
        ("retention_effect", "0.5"),
        ("replacement_cost", "50000"),
        ("absence_days", "2"),
        ("absence_day_cost", "400"),
        ("program_cost", "30000"),
    ] {
        b.fill(id, v).await;
    }
    b.fill("replacement_cost_source", "HR turnover report 2025")
        .await;
    b.press("Work out the estimate").await;
    let page = b.text().await;
    assert!(
        page.contains("Enter a number between 0 and 1, for example 0.2"),
        "{page}"
    );
    assert_eq!(
        b.value_of("replacement_cost_source").await,
        "HR turnover report 2025"
    );
    b.check_page("console-business-case-error").await;
    b.fill("leaving_rate", "0.2").await;
    b.press("Work out the estimate").await;
    let page = b.text().await;
    assert!(
        page.contains("too few to report without identifying anyone"),
        "{page}"
    );
    b.quit().await;
}

/// Journey: a coordinator adds a peer support course, schedules a session, records that a
/// supporter completed it (the roster's training follows), and lists a trainer in the network
/// directory — refused until the trainer agreed, and showing only what they chose to publish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_keeps_training_records() {
    let node = TestNode::spawn().await;
    person(
        &node,
        "coord@hospital.test",
        "Casey Moreno",
        &[Role::Coordinator],
    )
    .await;
    crate::journeys::supporter(&node, "sam@hospital.test", "Sam Rivera").await;

    let b = Browser::open(&node.base, PHONE, "en-US").await;
    crate::journeys::sign_in(&b, "coord@hospital.test").await;
    b.visit("/console").await;
    b.press("Training").await;
    assert!(b.text().await.contains("No course yet."));
    b.check_page("console-training").await;

    b.fill("title", "Peer supporter foundations").await;
    b.choose("kind", "peer_support").await;
    b.fill("validity_months", "200").await;
    b.press("Add a course").await;
    let page = b.text().await;
    assert!(
        page.contains("Enter a whole number of months from 0 to 120"),
        "{page}"
    );
    assert_eq!(b.value_of("title").await, "Peer supporter foundations");
    b.fill("validity_months", "24").await;
    b.press("Add a course").await;
    assert!(b.text().await.contains("Valid for 24 months"));

    let course = b
        .driver
        .find(thirtyfour::By::Css("#session_course option:nth-child(2)"))
        .await
        .unwrap()
        .attr("value")
        .await
        .unwrap()
        .unwrap();
    let soon = (alongside_core::time::now().date() + chrono::Duration::days(14)).to_string();
    b.choose("session_course", &course).await;
    b.fill("starts_on", &soon).await;
    b.fill("format", "In person, Room 4B").await;
    b.press("Schedule a session").await;
    let page = b.text().await;
    assert!(
        page.contains(&soon) && page.contains("In person, Room 4B"),
        "{page}"
    );

    let yesterday = alongside_core::time::now().date() - chrono::Duration::days(1);
    let done = yesterday.to_string();
    let until = yesterday
        .checked_add_months(chrono::Months::new(24))
        .unwrap()
        .to_string();
    b.fill("person", "sam@hospital.test").await;
    b.choose("completion_course", &course).await;
    b.fill("completed_on", &done).await;
    b.press("Record a completion").await;
    let page = b.text().await;
    assert!(page.contains("Sam Rivera"), "{page}");
    assert!(
        page.contains(&format!("Completed {done}, valid until {until}")),
        "{page}"
    );
    b.press("Roster").await;
    let page = b.text().await;
    assert!(page.contains("Sam Rivera"), "{page}");
    assert!(page.contains(&until), "the roster follows: {page}");
    b.press("Training").await;

    // A trainer without their agreement is not listed; with it, only what they published.
    b.fill("display_name", "Pat Okafor").await;
    b.fill("organization", "Riverside Health").await;
    b.fill("contact", "pat.trainer@example.org").await;
    b.tick("publish-organization").await;
    b.press("List a trainer").await;
    let page = b.text().await;
    assert!(
        page.contains("A trainer is listed only when they agreed"),
        "{page}"
    );
    assert_eq!(b.value_of("display_name").await, "Pat Okafor");
    b.check_page("console-training-error").await;
    b.tick("consented").await;
    b.press("List a trainer").await;
    let listed = b
        .driver
        .find(thirtyfour::By::Id("trainers"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        listed.contains("Pat Okafor") && listed.contains("Riverside Health"),
        "{listed}"
    );
    assert!(!listed.contains("pat.trainer@example.org"), "{listed}");
    b.quit().await;
}

/// Journey: with two people supported this month (k = 2 here), an analyst works out the
/// business case and prints it for leadership: the estimate, how each line was computed, each
/// input's source; the printable page has no menu and no form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_analyst_prints_the_business_case_for_leadership() {
    use alongside_tests::{ALWAYS, gid};
    use serde_json::json;
    let node = TestNode::spawn_with(|c| c.metrics.suppression_k = 2.try_into().unwrap()).await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let peer = node.user(&[Role::PeerSupporter]).await;
    let upsert = format!(
        "mutation($id: ID!) {{ upsertPeerSupporter(input: {{personId: $id, trainedOn: \"2025-01-01\", timeZone: \"UTC\", caseloadCap: 5, availability: {ALWAYS}}}) {{ id }} }}"
    );
    node.gql(
        Some(&coordinator.token),
        &upsert,
        json!({ "id": gid("Person", &peer.person_id) }),
    )
    .await;
    let today = alongside_core::time::now().date().to_string();
    for _ in 0..2 {
        let requester = node.user(&[]).await;
        let id = node
            .gql(
                Some(&requester.token),
                "mutation { requestSupport(input: {}) { request { id } } }",
                json!({}),
            )
            .await["requestSupport"]["request"]["id"]
            .clone();
        node.gql(
            Some(&peer.token),
            "mutation($id: ID!) { respondToOffer(id: $id, accept: true) { state } }",
            json!({ "id": id }),
        )
        .await;
        node.gql(Some(&peer.token), "mutation($id: ID!, $d: Date!) { recordEncounter(requestId: $id, input: {occurredOn: $d, duration: UNDER_FIFTEEN, modality: PHONE}) { state } }", json!({ "id": id, "d": today })).await;
    }
    person(
        &node,
        "analyst@hospital.test",
        "Ada Analyst",
        &[Role::Analyst],
    )
    .await;
    let b = Browser::open(&node.base, PHONE, "en-US").await;
    crate::journeys::sign_in(&b, "analyst@hospital.test").await;
    // An analyst's menu leads to the figures, and the console's menu to only what they may see.
    b.visit("/").await;
    b.press("The program's figures").await;
    let menu = b
        .driver
        .find(thirtyfour::By::Css("nav.console-nav"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        menu.contains("Business case") && menu.contains("Readiness"),
        "{menu}"
    );
    assert!(
        !menu.contains("Queue") && !menu.contains("Roster"),
        "{menu}"
    );
    b.press("Business case").await;
    for (id, v) in [
        ("leaving_rate", "0.5"),
        ("retention_effect", "0.5"),
        ("replacement_cost", "10000"),
        ("absence_days", "1"),
        ("absence_day_cost", "100"),
        ("program_cost", "1000"),
    ] {
        b.fill(id, v).await;
    }
    b.fill("replacement_cost_source", "HR turnover report 2025")
        .await;
    b.press("Work out the estimate").await;
    let page = b.text().await;
    // 2 × 0.5 × 0.5 = 0.5 kept × 10,000 = 5,000; 2 × 1 × 100 = 200; − 1,000.
    assert!(page.contains("Estimated net benefit: 4,200"), "{page}");
    assert!(
        page.contains("0.50 staff kept × replacement cost 10,000"),
        "{page}"
    );
    b.check_page("console-business-case-result").await;
    b.press("Printable page for leadership").await;
    let page = b.text().await;
    assert!(page.contains("HR turnover report 2025"), "{page}");
    assert!(!page.contains("Work out the estimate"), "{page}");
    b.check_page("console-business-case-print").await;
    b.press("Back to the inputs").await;
    assert_eq!(
        b.value_of("replacement_cost_source").await,
        "HR turnover report 2025"
    );
    b.quit().await;
}
