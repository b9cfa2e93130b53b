//! The journeys of the people Alongside serves, one test each.

use std::collections::BTreeSet;

use alongside_core::access::{Principal, Role};
use alongside_core::accounts::{self, NewUser};
use alongside_core::supporters::{self, AvailabilityWindow, SupporterInput};
use alongside_core::vocab::{Profession, Weekday};
use alongside_tests::smtp::SmtpSink;
use alongside_tests::{PASSWORD, TestNode};
use chrono::NaiveTime;
use serde_json::json;

use crate::harness::{Browser, DESK, PHONE};

/// A person with a password account, a display name and roles; returns their person id.
pub async fn person(node: &TestNode, email: &str, name: &str, roles: &[Role]) -> uuid::Uuid {
    let db = node.state.db.clone();
    let user = NewUser {
        email: email.into(),
        display_name: name.into(),
        profession: Profession::Nurse,
        roles: roles
            .iter()
            .copied()
            .chain([Role::Member])
            .collect::<BTreeSet<_>>(),
        password: PASSWORD.into(),
    };
    let (_, person) = tokio::task::spawn_blocking(move || {
        let mut conn = db.get().unwrap();
        accounts::create_user_unchecked(&mut conn, user)
    })
    .await
    .unwrap()
    .unwrap();
    person.id
}

/// A trained peer supporter free at every hour of every day (so 03:00 is covered).
pub async fn supporter(node: &TestNode, email: &str, name: &str) -> uuid::Uuid {
    let id = person(node, email, name, &[Role::PeerSupporter]).await;
    let admin = Principal::User(alongside_core::access::UserPrincipal {
        account_id: uuid::Uuid::nil(),
        person_id: uuid::Uuid::nil(),
        roles: [Role::Admin, Role::Member].into_iter().collect(),
    });
    let all_day = |weekday| AvailabilityWindow {
        weekday,
        start: NaiveTime::from_hms_opt(0, 0, 0).unwrap(),
        end: NaiveTime::from_hms_opt(23, 59, 0).unwrap(),
    };
    supporters::upsert(
        &node.state.db,
        &admin,
        SupporterInput {
            person_id: id,
            trained_on: Some(chrono::NaiveDate::from_ymd_opt(2025, 1, 10).unwrap()),
            training_expires_on: None,
            lived_experience: false,
            time_zone: "UTC".into(),
            availability: [
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
                Weekday::Sat,
                Weekday::Sun,
            ]
            .into_iter()
            .map(all_day)
            .collect(),
            caseload_cap: 5,
            outside_matching_opt_in: true,
            active: true,
            monthly_hours_cap: 10,
        },
    )
    .await
    .unwrap();
    id
}

/// Signs in on the sign-in page with a password.
pub async fn sign_in(browser: &Browser, email: &str) {
    browser.visit("/sign-in").await;
    browser.fill("email", email).await;
    browser.fill("password", PASSWORD).await;
    browser.press("Sign in").await;
}

/// Journey 1: at 03:00 a nurse on a 360 px phone asks for crisis support: the crisis resources are on
/// the next page; a supporter signed in elsewhere sees the offer and accepts; the nurse's page
/// shows the supporter's first name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nurse_in_crisis_at_night_reaches_a_peer() {
    let node = TestNode::spawn().await;
    person(&node, "nurse@hospital.test", "Dana Lee", &[]).await;
    supporter(&node, "sam@hospital.test", "Sam Rivera").await;
    let crisis_line = alongside_core::institution::get(&node.state.db, &Principal::Anonymous)
        .await
        .unwrap()
        .crisis_resources;

    let nurse = Browser::open(&node.base, PHONE, "en-US").await;
    nurse.visit("/").await;
    assert!(
        nurse.text().await.contains(&crisis_line),
        "crisis resources in the header"
    );
    // One tap away: the crisis line is a link a phone calls.
    let call = nurse
        .driver
        .find(thirtyfour::By::Css(".crisis a[href='tel:988']"))
        .await
        .expect("988 is tap-to-call in the header");
    assert_eq!(call.text().await.unwrap(), "988");
    nurse.check_page("home").await;
    nurse.visit("/privacy").await;
    nurse.check_page("privacy").await;

    // Signing in from the request form returns to it.
    nurse.visit("/talk").await;
    assert!(
        nurse.path().await.starts_with("/sign-in?next=%2Ftalk"),
        "{}",
        nurse.path().await
    );
    nurse.check_page("sign-in").await;
    nurse.fill("email", "nurse@hospital.test").await;
    nurse.fill("password", PASSWORD).await;
    nurse.press("Sign in").await;
    assert_eq!(nurse.path().await, "/talk", "{}", nurse.text().await);
    nurse.check_page("talk").await;

    // Two taps: crisis, then send. The crisis line shows beside the choice before anything else.
    nurse.tick("urgency-crisis").await;
    nurse.press("Ask for support").await;
    let page = nurse.text().await;
    let crisis_at = page
        .find("Get help now")
        .expect("crisis heading on the next page");
    let state_at = page.find("Status:").expect("the request's state");
    assert!(
        crisis_at < state_at,
        "crisis resources come before anything else"
    );
    assert!(page[crisis_at..].contains(&crisis_line));
    nurse.check_page("request-crisis").await;
    let request_path = nurse.path().await.split('?').next().unwrap().to_owned();

    // The supporter, at a desk elsewhere, sees the offer with its time left and accepts.
    let sam = Browser::open(&node.base, DESK, "en-US").await;
    sign_in(&sam, "sam@hospital.test").await;
    sam.visit("/support").await;
    let offers = sam.text().await;
    assert!(offers.contains("Crisis: needs help now"), "{offers}");
    assert!(offers.contains("minutes left to answer"), "{offers}");
    sam.check_page("support-offer").await;
    sam.press("Accept").await;
    assert!(
        sam.text()
            .await
            .contains("The person now sees your first name")
    );
    sam.check_page("support-accepted").await;

    nurse.visit(&request_path).await;
    let page = nurse.text().await;
    assert!(page.contains("Sam will get in touch with you."), "{page}");
    assert!(
        !page.contains("Get help now"),
        "once a peer has it, their name comes first"
    );
    assert!(!page.contains("Rivera"), "only the first name is shown");
    nurse.check_page("request-accepted").await;
    nurse.visit("/requests").await;
    nurse.check_page("my-requests").await;

    nurse.quit().await;
    sam.quit().await;
}

/// Journey 4: the survey link in the closing email opens and submits without sign-in, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_closing_email_survey_works_once_without_sign_in() {
    let sink = SmtpSink::start();
    let node = mailing_node(sink.port).await;
    node.start_worker();
    person(&node, "tech@hospital.test", "Ari", &[]).await;
    supporter(&node, "peer@hospital.test", "Jo Park").await;
    let (requester, _) = api_sign_in(&node, "tech@hospital.test").await;
    let (peer, _) = api_sign_in(&node, "peer@hospital.test").await;
    let created = node
        .gql(
            Some(&requester),
            "mutation { requestSupport(input: {}) { request { id } } }",
            json!({}),
        )
        .await;
    let id = created["requestSupport"]["request"]["id"].clone();
    let today = chrono::Utc::now().date_naive().to_string();
    node.gql(
        Some(&peer),
        "mutation($id: ID!) { respondToOffer(id: $id, accept: true) { state } }",
        json!({ "id": id }),
    )
    .await;
    node.gql(Some(&peer), "mutation($id: ID!, $d: Date!) { recordEncounter(requestId: $id, input: {occurredOn: $d, duration: UNDER_FIFTEEN, modality: PHONE}) { state } }", json!({ "id": id, "d": today })).await;
    node.gql(
        Some(&peer),
        "mutation($id: ID!) { advanceRequest(id: $id, to: CLOSED) { state } }",
        json!({ "id": id }),
    )
    .await;

    let link = wait_for_link(&sink, "tech@hospital.test", "/survey?token=").await;
    let browser = Browser::open(&node.base, PHONE, "en-US").await;
    browser.visit(&link).await;
    assert!(browser.text().await.contains("How was your support?"));
    browser.check_page("survey").await;

    // Sending nothing names the question to answer and keeps the page.
    browser.press("Send my answers").await;
    assert!(
        browser
            .text()
            .await
            .contains("Answer at least one question")
    );
    browser.check_page("survey-error").await;
    browser.tick("q-satisfied-4").await;
    browser.tick("q-heard-1").await;
    browser.press("Send my answers").await;
    assert!(browser.text().await.contains("Thank you"));
    browser.check_page("survey-thanks").await;

    // Once only: the same link now says it was answered.
    browser.visit(&link).await;
    assert!(browser.text().await.contains("already been answered"));
    browser.check_page("survey-answered").await;
    browser.visit("/survey?token=not-a-real-token").await;
    assert!(browser.text().await.contains("has expired"));
    assert_eq!(node.count("survey_responses").await, 1);
    browser.quit().await;
}

/// Journey 2: a housekeeper who was involved in an event receives outreach by email, follows its link,
/// signs in with the one-time link, accepts the outreach and asks for a peer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_housekeeper_reached_by_email_signs_in_by_link_and_asks_for_a_peer() {
    let sink = SmtpSink::start();
    let node = mailing_node(sink.port).await;
    node.start_worker();
    person(
        &node,
        "coord@hospital.test",
        "Coordinator",
        &[Role::Coordinator],
    )
    .await;
    person(&node, "rosa@hospital.test", "Rosa Diaz", &[]).await;
    supporter(&node, "peer@hospital.test", "Lee Chan").await;
    let (coordinator, _) = api_sign_in(&node, "coord@hospital.test").await;
    node.gql(
        Some(&coordinator),
        "mutation { createEvent(input: {category: HARM_EVENT, month: \"2026-10\", department: \"ICU\", involved: [{email: \"rosa@hospital.test\", role: PERIPHERAL}]}) { id } }",
        json!({}),
    )
    .await;

    let outreach_link = wait_for_link(&sink, "rosa@hospital.test", "/requests").await;
    let rosa = Browser::open(&node.base, PHONE, "en-US").await;
    rosa.visit(&outreach_link).await;
    assert!(rosa.path().await.starts_with("/sign-in?next=%2Frequests"));
    rosa.fill("link-email", "rosa@hospital.test").await;
    rosa.press("Email me a sign-in link").await;
    assert!(rosa.text().await.contains("Check your email"));
    rosa.check_page("sign-in-link-sent").await;

    let sign_in_link = wait_for_link(&sink, "rosa@hospital.test", "/sign-in?token=").await;
    rosa.visit(&sign_in_link).await;
    rosa.check_page("sign-in-link").await;
    rosa.press("Continue").await;
    rosa.press("My requests").await;
    let page = rosa.text().await;
    assert!(page.contains("Your program reached out to you"), "{page}");
    rosa.check_page("outreach").await;
    rosa.press("Yes, I would like to talk").await;
    rosa.tick("urgency-routine").await;
    rosa.fill("preferredName", "Rosa").await;
    rosa.press("Ask for support").await;
    let page = rosa.text().await;
    assert!(page.contains("Your request has been sent."), "{page}");
    assert!(page.contains("Asking a peer supporter"), "{page}");
    // The outreach is answered: it is no longer offered.
    rosa.press("My requests").await;
    assert!(
        !rosa
            .text()
            .await
            .contains("Your program reached out to you")
    );
    // A used sign-in link does not work twice.
    rosa.visit(&sign_in_link).await;
    rosa.press("Continue").await;
    assert!(
        rosa.text()
            .await
            .contains("This sign-in link does not work")
    );
    rosa.check_page("sign-in-link-used").await;
    rosa.quit().await;
}

pub async fn mailing_node(port: u16) -> TestNode {
    TestNode::spawn_with(|c| {
        c.email.transport = "smtp".into();
        c.email.from = "Alongside <alongside@hospital.test>".into();
        c.email.smtp.host = "127.0.0.1".into();
        c.email.smtp.port = port;
        c.email.smtp.tls = "none".into();
        c.email.smtp.timeout_secs = 5;
        c.outbox.poll_interval_ms = 50;
        c.auth.sign_in_links = true;
    })
    .await
}

/// A bearer token through the REST sign-in, for the steps a journey does not show.
pub async fn api_sign_in(node: &TestNode, email: &str) -> (String, serde_json::Value) {
    let body = node.login(email, PASSWORD).await;
    (body["access_token"].as_str().unwrap().to_owned(), body)
}

/// Waits for an email to `to` carrying a link that contains `part`; returns the link.
async fn wait_for_link(sink: &SmtpSink, to: &str, part: &str) -> String {
    wait_for_mail(sink, to, part).await.1
}

/// Waits for an email to `to` carrying a link that contains `part`; returns its decoded text
/// and the link.
pub async fn wait_for_mail(sink: &SmtpSink, to: &str, part: &str) -> (String, String) {
    for _ in 0..200 {
        for mail in sink.mails() {
            if !mail.to.iter().any(|t| t.contains(to)) {
                continue;
            }
            let text = decoded(&mail.data);
            if let Some(link) = text
                .split_whitespace()
                .find(|w| w.starts_with("http") && w.contains(part))
            {
                let link = link.trim_end_matches(['"', '>', '.']).to_owned();
                return (text, link);
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no email to {to} with a link containing {part}");
}

/// A message's text: headers as sent, quoted-printable and base64 parts decoded.
fn decoded(data: &str) -> String {
    use base64::Engine;
    let mut out = String::new();
    let mut encoding = "";
    let mut in_body = false;
    let mut block = String::new();
    let flush = |block: &mut String, encoding: &str, out: &mut String| {
        match encoding {
            "base64" => {
                let joined: String = block.split_whitespace().collect();
                if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(joined) {
                    out.push_str(&String::from_utf8_lossy(&bytes));
                }
            }
            "quoted-printable" => {
                let soft = block.replace("=\r\n", "").replace("=\n", "");
                let mut bytes = vec![];
                let raw = soft.as_bytes();
                let mut i = 0;
                while i < raw.len() {
                    let hex = |b: u8| (b as char).to_digit(16);
                    if raw[i] == b'='
                        && i + 2 < raw.len()
                        && let (Some(h), Some(l)) = (hex(raw[i + 1]), hex(raw[i + 2]))
                    {
                        bytes.push((h * 16 + l) as u8);
                        i += 3;
                        continue;
                    }
                    bytes.push(raw[i]);
                    i += 1;
                }
                out.push_str(&String::from_utf8_lossy(&bytes));
            }
            _ => out.push_str(block),
        }
        out.push('\n');
        block.clear();
    };
    // Only the message's own boundaries split it: a part's line may start with "--" too (a
    // quoted-printable line broken inside a sign-in link's token, say).
    let boundaries: Vec<String> = data
        .lines()
        .filter_map(|l| {
            let at = l.to_ascii_lowercase().find("boundary=")?;
            // The value ends at its closing quote or at the next parameter.
            let value = l[at + 9..].trim_start().trim_start_matches('"');
            let end = value.find(['"', ';', ' ', '\t']).unwrap_or(value.len());
            Some(format!("--{}", &value[..end]))
        })
        .collect();
    for line in data.lines() {
        let lower = line.to_ascii_lowercase();
        if boundaries.iter().any(|b| line.starts_with(b.as_str())) {
            flush(&mut block, encoding, &mut out);
            in_body = false;
            encoding = "";
            out.push_str(line);
            out.push('\n');
            continue;
        }
        if !in_body {
            if let Some(e) = lower.strip_prefix("content-transfer-encoding:") {
                encoding = match e.trim() {
                    "base64" => "base64",
                    "quoted-printable" => "quoted-printable",
                    _ => "",
                };
            }
            if line.trim().is_empty() {
                in_body = true;
            }
            out.push_str(line);
            out.push('\n');
            continue;
        }
        block.push_str(line);
        block.push('\n');
    }
    flush(&mut block, encoding, &mut out);
    out
}

/// A quoted-printable line that starts with "--" (a link's token broken there) is text, not a
/// boundary: only the message's own boundary splits it.
#[test]
fn a_quoted_printable_line_starting_with_two_dashes_is_not_a_boundary() {
    let data = "Content-Type: multipart/alternative;\r\n boundary=\"b1\"\r\n\r\n--b1\r\n\
                Content-Type: text/plain; charset=utf-8\r\n\
                Content-Transfer-Encoding: quoted-printable\r\n\r\n\
                Entre: http://127.0.0.1:4000/sign-in?token=3Dabc=\r\n\
                --def\r\n--b1--\r\n";
    let text = decoded(data);
    assert!(
        text.contains("http://127.0.0.1:4000/sign-in?token=abc--def"),
        "{text}"
    );
}

/// A boundary parameter followed by another parameter on its line is still found whole, so
/// the second part's headers are read and its quoted-printable text decoded.
#[test]
fn a_boundary_followed_by_another_parameter_still_splits() {
    let data = "Content-Type: multipart/alternative; boundary=\"b2\"; charset=utf-8\r\n\r\n--b2\r\n\
                Content-Type: text/plain; charset=utf-8\r\n\r\n\
                first part\r\n--b2\r\n\
                Content-Type: text/plain; charset=utf-8\r\n\
                Content-Transfer-Encoding: quoted-printable\r\n\r\n\
                token=3Dabc\r\n--b2--\r\n";
    let text = decoded(data);
    assert!(text.contains("token=abc"), "{text}");
}

/// A peer supporter between cases: accepts an offer, records a conversation (structured only),
/// checks in when a follow-up is due, and sets when they can be asked, pausing and resuming.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_supporter_records_care_and_sets_availability() {
    let node = TestNode::spawn().await;
    person(&node, "nurse@hospital.test", "Dana", &[]).await;
    let sam_id = supporter(&node, "sam@hospital.test", "Sam Rivera").await;
    let (nurse, _) = api_sign_in(&node, "nurse@hospital.test").await;
    node.gql(
        Some(&nurse),
        "mutation { requestSupport(input: {urgency: URGENT, preferredName: \"Dana\", modality: VIDEO}) { request { id } } }",
        json!({}),
    )
    .await;

    let sam = Browser::open(&node.base, PHONE, "en-US").await;
    sign_in(&sam, "sam@hospital.test").await;
    sam.visit("/support").await;
    sam.press("Accept").await;
    sam.press("Urgent, today · Dana").await;
    let page = sam.text().await;
    assert!(
        page.contains("nurse@hospital.test"),
        "the contact once assigned: {page}"
    );
    assert!(page.contains("never what was said"));
    assert!(
        sam.driver
            .find_all(thirtyfour::By::Css("textarea"))
            .await
            .unwrap()
            .is_empty(),
        "no free-text box anywhere"
    );
    sam.check_page("support-person").await;

    // A date in the future is refused, naming the field; the other answers are kept.
    let tomorrow = (chrono::Utc::now().date_naive() + chrono::Duration::days(2)).format("%m%d%Y");
    sam.fill("occurredOn", &tomorrow.to_string()).await;
    sam.tick("duration-15_to_30_minutes").await;
    sam.tick("next-follow_up").await;
    sam.press("Save the conversation").await;
    let page = sam.text().await;
    assert!(page.contains("The date cannot be in the future"), "{page}");
    assert!(
        sam.driver
            .find(thirtyfour::By::Id("duration-15_to_30_minutes"))
            .await
            .unwrap()
            .is_selected()
            .await
            .unwrap()
    );
    sam.check_page("support-person-error").await;
    let today = chrono::Utc::now().date_naive().format("%m%d%Y");
    sam.fill("occurredOn", &today.to_string()).await;
    sam.press("Save the conversation").await;
    let page = sam.text().await;
    assert!(page.contains("The conversation is recorded."), "{page}");
    assert!(page.contains("Follow-up"), "moved to follow-up: {page}");

    // The first check-in is due within a day: it shows, and is marked done.
    sam.press("Back to peer supporter").await;
    let page = sam.text().await;
    assert!(
        page.contains("Check-ins due") && page.contains("Due "),
        "{page}"
    );
    sam.check_page("support-follow-ups").await;
    let outcome = sam
        .driver
        .find(thirtyfour::By::Css(
            "input[name='outcome'][value='doing_well']",
        ))
        .await
        .unwrap()
        .id()
        .await
        .unwrap()
        .unwrap();
    sam.tick(&outcome).await;
    sam.press("Mark as done").await;
    assert!(sam.text().await.contains("The check-in is recorded."));

    // Availability: a cap out of range is refused and kept; pause and resume.
    sam.press("When you can be asked, and pausing").await;
    sam.check_page("availability").await;
    sam.fill("caseloadCap", "99").await;
    sam.press("Save").await;
    let page = sam.text().await;
    assert!(page.contains("Enter a number between 1 and 50"), "{page}");
    sam.check_page("availability-error").await;
    sam.fill("caseloadCap", "2").await;
    sam.press("Save").await;
    assert!(sam.text().await.contains("Saved."));
    sam.press("Pause: don't ask me for now").await;
    assert!(sam.text().await.contains("You are paused"));
    let paused = alongside_core::supporters::for_person(
        &node.state.db,
        &Principal::User(alongside_core::access::UserPrincipal {
            account_id: uuid::Uuid::nil(),
            person_id: uuid::Uuid::nil(),
            roles: [Role::Admin, Role::Member].into_iter().collect(),
        }),
        sam_id,
    )
    .await
    .unwrap()
    .unwrap();
    assert!(!paused.active);
    assert_eq!(paused.caseload_cap, 2);
    sam.press("Resume: I can be asked again").await;
    assert!(
        sam.text()
            .await
            .contains("You can be asked to support people.")
    );

    // Text messages: a number without its country code is named and kept; then saved.
    sam.fill("phone", "555 0100").await;
    sam.tick("text-messages").await;
    sam.press("Save text message settings").await;
    let page = sam.text().await;
    assert!(
        page.contains("Enter your mobile number with its country code"),
        "{page}"
    );
    let kept = sam.driver.find(thirtyfour::By::Id("phone")).await.unwrap();
    assert_eq!(kept.value().await.unwrap().as_deref(), Some("555 0100"));
    sam.check_page("availability-texts-error").await;
    sam.fill("phone", "+1 555 010 0123").await;
    sam.press("Save text message settings").await;
    assert!(sam.text().await.contains("Saved."));
    let person = alongside_core::people::get(
        &node.state.db,
        &Principal::User(alongside_core::access::UserPrincipal {
            account_id: uuid::Uuid::nil(),
            person_id: uuid::Uuid::nil(),
            roles: [Role::Admin, Role::Member].into_iter().collect(),
        }),
        sam_id,
    )
    .await
    .unwrap();
    assert_eq!(person.phone.as_deref(), Some("+15550100123"));
    assert!(person.text_messages);
    sam.quit().await;
}

/// A charge nurse on her phone is worried about a colleague: a staff id not on the roster is
/// named as the field to fix, with what she typed kept; then the program is asked to reach out,
/// without her name; the colleague, signed in, reads that a colleague was thinking of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charge_nurse_worried_about_a_colleague_asks_the_program_to_reach_out() {
    let node = TestNode::spawn().await;
    person(&node, "charge@hospital.test", "Maya Chen", &[]).await;
    person(&node, "night.nurse@hospital.test", "Sam Okafor", &[]).await;
    let nurse = Browser::open(&node.base, PHONE, "en").await;
    sign_in(&nurse, "charge@hospital.test").await;
    nurse.visit("/").await;
    nurse.press("Worried about a colleague?").await;
    nurse.check_page("colleague").await;
    nurse.fill("colleague", "N-0000").await;
    nurse.tick("share_my_name").await;
    nurse.press("Ask the program to reach out").await;
    assert!(nurse.text().await.contains("not your own"));
    assert_eq!(
        nurse.value_of("colleague").await,
        "N-0000",
        "what she typed is kept"
    );
    nurse.check_page("colleague-error").await;
    nurse.fill("colleague", "night.nurse@hospital.test").await;
    nurse.tick("share_my_name").await;
    nurse.press("Ask the program to reach out").await;
    assert!(
        nurse
            .text()
            .await
            .contains("The program will reach out to your colleague")
    );
    nurse.check_page("colleague-sent").await;
    nurse.quit().await;

    let colleague = Browser::open(&node.base, PHONE, "en").await;
    sign_in(&colleague, "night.nurse@hospital.test").await;
    colleague.visit("/requests").await;
    let page = colleague.text().await;
    assert!(
        page.contains("A colleague was thinking of you") && !page.contains("Maya"),
        "{page}"
    );
    colleague.check_page("requests-from-colleague").await;
    colleague.quit().await;
}

/// An EAP's intake coordinator opens the hand-off email's link on a phone: the page shows the
/// first name and contact the person agreed to share and nothing in the email did; one button
/// acknowledges, and the details are gone from the page after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eap_intake_opens_a_hand_off_and_acknowledges_it() {
    let sink = SmtpSink::start();
    let node = mailing_node(sink.port).await;
    node.start_worker();
    person(&node, "tech@hospital.test", "Ari Stone", &[]).await;
    supporter(&node, "peer@hospital.test", "Jo Park").await;
    person(
        &node,
        "lead@hospital.test",
        "Kim Lead",
        &[Role::Coordinator],
    )
    .await;
    let (requester, _) = api_sign_in(&node, "tech@hospital.test").await;
    let (peer, _) = api_sign_in(&node, "peer@hospital.test").await;
    let (lead, _) = api_sign_in(&node, "lead@hospital.test").await;
    let eap = node
        .gql(
            Some(&lead),
            "mutation { createProgram(input: {name: \"Employee assistance\", kind: EAP, tier: 3, hours: \"24/7\", contact: \"ext 4100\", privileged: true}) { id } }",
            json!({}),
        )
        .await["createProgram"]["id"]
        .clone();
    node.gql(
        Some(&lead),
        "mutation($p: ID!) { setProgramIntake(programId: $p, input: {email: \"intake@eap.test\"}) { id } }",
        json!({ "p": eap }),
    )
    .await;
    let id = node
        .gql(
            Some(&requester),
            "mutation { requestSupport(input: {}) { request { id } } }",
            json!({}),
        )
        .await["requestSupport"]["request"]["id"]
        .clone();
    node.gql(
        Some(&peer),
        "mutation($id: ID!) { respondToOffer(id: $id, accept: true) { state } }",
        json!({ "id": id }),
    )
    .await;
    node.gql(
        Some(&peer),
        "mutation($id: ID!, $p: ID!) { escalateRequest(id: $id, programId: $p, shareFirstName: \"Ari\", shareContact: \"Ward 4 desk, ext 2210\") { state } }",
        json!({ "id": id, "p": eap }),
    )
    .await;
    let (text, link) = wait_for_mail(&sink, "intake@eap.test", "/handoff?code=").await;
    assert!(
        !text.contains("Ari") && !text.contains("2210"),
        "no details in the email: {text}"
    );

    let intake = Browser::open(&node.base, PHONE, "en").await;
    intake.visit(link.trim_start_matches(&node.base)).await;
    let page = intake.text().await;
    assert!(
        page.contains("Ari") && page.contains("Ward 4 desk, ext 2210"),
        "{page}"
    );
    intake.check_page("handoff").await;
    intake.press("Acknowledge the referral").await;
    assert!(intake.text().await.contains("Referral acknowledged"));
    intake.check_page("handoff-done").await;
    intake.visit(link.trim_start_matches(&node.base)).await;
    let page = intake.text().await;
    assert!(
        page.contains("Acknowledged on") && !page.contains("2210"),
        "{page}"
    );
    intake.quit().await;
}
