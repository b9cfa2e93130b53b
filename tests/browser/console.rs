//! The coordinator's console, driven as a coordinator would: recording an event and watching
//! the outreach to each person involved; finding an overdue request on top of the queue and
//! assigning it by hand.

use alongside_core::access::{Principal, Role, UserPrincipal};
use alongside_core::events;
use alongside_core::requests::{self, Preferences, RequestInput};
use alongside_core::vocab::{
    CoordinatorAccess, Modality, PeerOrigin, Profession, SpecialtyPreference, Urgency,
};
use alongside_tests::TestNode;

use crate::harness::{Browser, DESK, PHONE};
use crate::journeys::{person, sign_in, supporter};
use alongside_core::db::Id;

/// A person with a staff id and a profession, as the roster would have them.
async fn staff(
    node: &TestNode,
    email: &str,
    name: &str,
    staff_id: &str,
    p: Profession,
) -> uuid::Uuid {
    let id = person(node, email, name, &[]).await;
    let db = node.state.db.clone();
    let staff_id = staff_id.to_owned();
    tokio::task::spawn_blocking(move || {
        use alongside_core::schema::people;
        use diesel::prelude::*;
        let mut conn = db.get().unwrap();
        diesel::update(people::table.filter(people::id.eq(Id(id))))
            .set((
                people::staff_id.eq(Some(staff_id)),
                people::profession.eq(p.as_str()),
            ))
            .execute(&mut **conn)
            .unwrap();
    })
    .await
    .unwrap();
    id
}

/// The person as core sees them when they act themselves.
fn as_person(person_id: uuid::Uuid) -> Principal {
    Principal::User(UserPrincipal {
        account_id: uuid::Uuid::new_v4(),
        person_id,
        roles: [Role::Member].into_iter().collect(),
    })
}

fn asking(
    urgency: Urgency,
    access: CoordinatorAccess,
    outreach: Option<uuid::Uuid>,
) -> RequestInput {
    RequestInput {
        urgency,
        preferences: Preferences {
            peer_profession: None,
            specialty: SpecialtyPreference::Any,
            language: None,
            language_required: false,
            modality: Modality::Phone,
            peer_origin: PeerOrigin::AnyDepartment,
        },
        coordinator_access: access,
        preferred_name: Some("Robin".into()),
        outreach_id: outreach,
    }
}

/// The state shown for each person on the event's page, by name.
async fn outreach_states(b: &Browser) -> Vec<(String, String)> {
    let cards = b
        .driver
        .find_all(thirtyfour::By::Css("#outreach > li"))
        .await
        .unwrap();
    let mut out = vec![];
    for card in cards {
        let name = card
            .find(thirtyfour::By::Css("h3"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let state = card
            .find(thirtyfour::By::Css(".state"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        out.push((name, state));
    }
    out
}

/// Journey: a coordinator records an event with four people involved (a physician in the
/// disclosure conversation, a nurse, a pharmacist, a housekeeper) and watches their outreach
/// change as each answers — without learning what a person did not allow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_records_an_event_and_follows_the_outreach() {
    let node = TestNode::spawn().await;
    person(
        &node,
        "coord@hospital.test",
        "Casey Moreno",
        &[Role::Coordinator],
    )
    .await;
    let physician = staff(
        &node,
        "md@hospital.test",
        "Priya Shah",
        "S-100",
        Profession::Physician,
    )
    .await;
    let nurse = staff(
        &node,
        "rn@hospital.test",
        "Dana Lee",
        "S-200",
        Profession::Nurse,
    )
    .await;
    staff(
        &node,
        "rph@hospital.test",
        "Ali Haddad",
        "S-300",
        Profession::Pharmacist,
    )
    .await;
    let housekeeper = staff(
        &node,
        "hk@hospital.test",
        "Rosa Diaz",
        "S-400",
        Profession::SupportStaff,
    )
    .await;

    let coord = Browser::open(&node.base, DESK, "en-US").await;
    sign_in(&coord, "coord@hospital.test").await;
    coord.press("Coordination console").await;
    coord.press("Events").await;
    coord.check_page("console-events").await;
    coord.press("Record an event").await;
    coord.check_page("console-event-new").await;

    // A person the node does not know: the form comes back with the row named, input kept.
    let category = "harm_event";
    let select = |id: &'static str, value: &'static str| {
        let driver = coord.driver.clone();
        async move {
            driver
                .find(thirtyfour::By::Css(format!(
                    "#{id} option[value='{value}']"
                )))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
        }
    };
    select("category", category).await;
    coord.fill("month", "2026-11").await;
    select("severity", "moderate").await;
    coord.fill("department", "Emergency").await;
    coord.tick("disclosure").await;
    coord.fill("person-0", "S-100").await;
    select("role-0", "disclosure").await;
    coord.fill("person-1", "S-200").await;
    select("role-1", "direct").await;
    coord.fill("person-2", "S-300").await;
    select("role-2", "team").await;
    coord.fill("person-3", "nobody@hospital.test").await;
    select("role-3", "peripheral").await;
    coord.press("Record the event and reach out").await;
    let page = coord.text().await;
    assert!(
        page.contains("No one with this email is known here"),
        "{page}"
    );
    let kept = coord
        .driver
        .find(thirtyfour::By::Id("person-2"))
        .await
        .unwrap()
        .value()
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("S-300"), "the rest is kept");
    let invalid = coord
        .driver
        .find(thirtyfour::By::Id("person-3"))
        .await
        .unwrap()
        .attr("aria-invalid")
        .await
        .unwrap();
    assert_eq!(
        invalid.as_deref(),
        Some("true"),
        "the row at fault is named"
    );
    coord.check_page("console-event-new-error").await;
    assert_eq!(node.count("events").await, 0, "nothing recorded");

    coord.fill("person-3", "hk@hospital.test").await;
    coord.press("Record the event and reach out").await;
    assert!(
        coord
            .text()
            .await
            .contains("Everyone involved is being offered support")
    );
    let states = outreach_states(&coord).await;
    assert_eq!(
        states,
        [
            ("Priya Shah".to_owned(), "Not answered yet".to_owned()),
            ("Dana Lee".to_owned(), "Not answered yet".to_owned()),
            ("Ali Haddad".to_owned(), "Not answered yet".to_owned()),
            ("Rosa Diaz".to_owned(), "Not answered yet".to_owned()),
        ]
    );
    coord.check_page("console-event").await;

    // Each answers in their own way: the nurse asks for support sharing only its status, the
    // housekeeper says not now; the coordinator reaches the physician and no one answers the
    // pharmacist's phone.
    let db = node.state.db.clone();
    let mine = |p| {
        let db = db.clone();
        async move { events::my_outreach(&db, &as_person(p)).await.unwrap()[0].id }
    };
    let nurse_outreach = mine(nurse).await;
    requests::request_support(
        &node.state.db,
        &as_person(nurse),
        asking(
            Urgency::Routine,
            CoordinatorAccess::StatusOnly,
            Some(nurse_outreach),
        ),
    )
    .await
    .unwrap();
    let hk_outreach = mine(housekeeper).await;
    events::decline_outreach(&node.state.db, &as_person(housekeeper), hk_outreach)
        .await
        .unwrap();
    mine(physician).await;
    // The coordinator looks again.
    let here = coord.path().await;
    coord.visit(&here).await;
    let buttons = coord
        .driver
        .find_all(thirtyfour::By::XPath(
            "//button[normalize-space()='Reached']",
        ))
        .await
        .unwrap();
    assert_eq!(
        buttons.len(),
        2,
        "only the physician and the pharmacist are still pending"
    );
    coord.press("Reached").await;
    assert!(coord.text().await.contains("Outreach recorded"));
    coord.press("No answer").await;
    let states = outreach_states(&coord).await;
    assert_eq!(
        states,
        [
            ("Priya Shah".to_owned(), "Reached".to_owned()),
            // She asked for support, sharing only its status: the console says reached, not
            // that she asked.
            ("Dana Lee".to_owned(), "Reached".to_owned()),
            ("Ali Haddad".to_owned(), "No answer".to_owned()),
            ("Rosa Diaz".to_owned(), "Declined".to_owned()),
        ]
    );
    let page = coord.text().await;
    assert!(!page.contains("Accepted support"), "{page}");
    coord.check_page("console-event-answered").await;

    // A lawsuit is filed: a month that is not one is named, then the milestone renews
    // outreach to all four.
    coord
        .driver
        .find(thirtyfour::By::Css("#kind option[value='lawsuit_filed']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    coord.fill("milestone_month", "2028-13").await;
    coord.press("Add a milestone").await;
    let page = coord.text().await;
    assert!(
        page.contains("Enter the month as YYYY-MM, not in the future"),
        "{page}"
    );
    assert_eq!(coord.value_of("milestone_month").await, "2028-13");
    coord.check_page("console-event-milestone-error").await;
    let month = requests::now().format("%Y-%m").to_string();
    coord.fill("milestone_month", &month).await;
    coord.press("Add a milestone").await;
    let page = coord.text().await;
    assert!(page.contains("Milestone added"), "{page}");
    assert!(page.contains(&format!("Lawsuit filed, {month}")), "{page}");
    let states = outreach_states(&coord).await;
    assert!(
        states.iter().all(|(_, s)| s == "Not answered yet"),
        "{states:?}"
    );

    // The claim settles: the coordinator closes the event; no milestone can follow.
    coord.press("Close this event").await;
    let page = coord.text().await;
    assert!(
        page.contains("Closed: who was involved will be forgotten"),
        "{page}"
    );
    assert!(!page.contains("Add a milestone"), "{page}");
    coord.check_page("console-event-closed").await;
    coord.quit().await;
}

/// Journey: a routine request nobody took is overdue; the coordinator finds it on top of the
/// queue (above a more urgent one still in time), reads why each peer is suggested, assigns one
/// by hand, and the supporter sees it on their own page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overdue_request_tops_the_queue_and_is_assigned_by_hand() {
    let node = TestNode::spawn().await;
    person(
        &node,
        "coord@hospital.test",
        "Casey Moreno",
        &[Role::Coordinator],
    )
    .await;
    let waiting = staff(
        &node,
        "rn@hospital.test",
        "Dana Lee",
        "S-200",
        Profession::Nurse,
    )
    .await;
    let later = staff(
        &node,
        "md@hospital.test",
        "Priya Shah",
        "S-100",
        Profession::Physician,
    )
    .await;
    // Requests come into the peer program; a tier-3 program takes escalations.
    let peers = peer_program(&node, "Peer support").await;
    let eap = alongside_core::programs::create(
        &node.state.db,
        &admin(),
        alongside_core::programs::ProgramInput {
            name: "Employee assistance".into(),
            kind: alongside_core::vocab::ProgramKind::Eap,
            tier: 3,
            audience: vec![],
            hours: "Any time".into(),
            contact: "Call 555-0100".into(),
            privileged: true,
            follow_up_days: vec![],
            ack_target_minutes: None,
            first_contact_target_hours: None,
            urgent_outreach_hours: None,
            urgent_categories: vec![],
            recontact_days: None,
        },
    )
    .await
    .unwrap()
    .id;
    // No supporter yet: nobody is offered the request, and its acknowledgement clock runs out.
    requests::request_support(
        &node.state.db,
        &as_person(waiting),
        asking(Urgency::Routine, CoordinatorAccess::Full, None),
    )
    .await
    .unwrap();
    requests::clock::sweep(&node.state.db, requests::now() + chrono::Duration::days(3))
        .await
        .unwrap();
    let mut urgent = asking(Urgency::Urgent, CoordinatorAccess::StatusOnly, None);
    urgent.preferred_name = None;
    requests::request_support(&node.state.db, &as_person(later), urgent)
        .await
        .unwrap();
    supporter(&node, "sam@hospital.test", "Sam Rivera").await;

    let coord = Browser::open(&node.base, PHONE, "en-US").await;
    sign_in(&coord, "coord@hospital.test").await;
    coord.visit("/console").await;
    let titles: Vec<String> = {
        let mut out = vec![];
        for h in coord
            .driver
            .find_all(thirtyfour::By::Css(".cards > li h2"))
            .await
            .unwrap()
        {
            out.push(h.text().await.unwrap());
        }
        out
    };
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(
        titles[0].starts_with("Routine") && titles[0].contains("Overdue"),
        "the overdue one on top: {titles:?}"
    );
    assert!(titles[1].starts_with("Urgent") && !titles[1].contains("Overdue"));
    assert!(
        coord
            .text()
            .await
            .contains("Not acknowledged: overdue since")
    );
    coord.check_page("console-queue").await;

    // The status-only request shows no details and offers no suggestions.
    coord
        .driver
        .find_all(thirtyfour::By::Css(".cards > li h2 a"))
        .await
        .unwrap()[1]
        .click()
        .await
        .unwrap();
    coord.wait_for_new_page("the urgent request").await;
    let page = coord.text().await;
    assert!(page.contains("shares only the status"), "{page}");
    assert!(!page.contains("Suggested peer supporters"));
    coord.visit("/console").await;
    coord
        .driver
        .find_all(thirtyfour::By::Css(".cards > li h2 a"))
        .await
        .unwrap()[0]
        .click()
        .await
        .unwrap();
    coord.wait_for_new_page("the overdue request").await;
    let page = coord.text().await;
    assert!(page.contains("Suggested peer supporters"), "{page}");
    assert!(page.contains("Sam Rivera"), "{page}");
    assert!(
        page.contains("Same profession as the person asking"),
        "the reasons in the coordinator's words: {page}"
    );
    coord.check_page("console-request").await;
    coord.press("Assign this peer supporter").await;
    let page = coord.text().await;
    assert!(
        page.contains("Assigned. The peer supporter sees it on their page."),
        "{page}"
    );
    assert!(page.contains("Sam Rivera"));

    let sam = Browser::open(&node.base, PHONE, "en-US").await;
    sign_in(&sam, "sam@hospital.test").await;
    sam.visit("/support").await;
    assert!(
        sam.text().await.contains("Robin"),
        "the supporter sees the person they now support"
    );
    sam.quit().await;

    // The peer sees more is needed: the coordinator passes it to professional help, then
    // closes it.
    coord
        .driver
        .find(thirtyfour::By::Css(format!(
            "#program option[value='{eap}']"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    coord.press("Pass to this program").await;
    let page = coord.text().await;
    assert!(page.contains("Passed to the program."), "{page}");
    coord.check_page("console-request-escalated").await;
    coord.press("Close this request").await;
    let page = coord.text().await;
    assert!(page.contains("Closed."), "{page}");
    assert!(!page.contains("Close this request"), "{page}");

    // The urgent one is acknowledged by hand; the queue by program shows it in its program.
    coord.visit(&format!("/console?program={eap}")).await;
    assert_eq!(
        coord
            .driver
            .find_all(thirtyfour::By::Css(".cards > li"))
            .await
            .unwrap()
            .len(),
        0
    );
    coord.visit(&format!("/console?program={peers}")).await;
    let rows = coord
        .driver
        .find_all(thirtyfour::By::Css(".cards > li h2 a"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "the closed one has left the queue");
    assert!(coord.text().await.contains("Peer support"));
    rows[0].click().await.unwrap();
    coord.wait_for_new_page("the urgent request").await;
    coord.press("Acknowledge").await;
    let page = coord.text().await;
    assert!(page.contains("Acknowledged."), "{page}");
    assert!(!page.contains("Not acknowledged"), "{page}");
    coord.quit().await;
}

/// The program's staff as core sees an administrator.
fn admin() -> Principal {
    Principal::User(UserPrincipal {
        account_id: uuid::Uuid::nil(),
        person_id: uuid::Uuid::nil(),
        roles: [Role::Admin, Role::Member].into_iter().collect(),
    })
}

async fn peer_program(node: &TestNode, name: &str) -> uuid::Uuid {
    alongside_core::programs::create(
        &node.state.db,
        &admin(),
        alongside_core::programs::ProgramInput {
            name: name.into(),
            kind: alongside_core::vocab::ProgramKind::PeerSupport,
            tier: 2,
            audience: vec![],
            hours: "Any time".into(),
            contact: "Ask the program".into(),
            privileged: false,
            follow_up_days: vec![],
            ack_target_minutes: None,
            first_contact_target_hours: None,
            urgent_outreach_hours: None,
            urgent_categories: vec![],
            recontact_days: None,
        },
    )
    .await
    .unwrap()
    .id
}

/// Journey: metrics with 40 closed requests in one program and 3 in another. The small
/// program's counts show as "fewer than 11" in the chart, the table and the CSV; the node's
/// total is "40 or more", so no view can be subtracted from another to find the 3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_counts_show_as_fewer_than_k_in_charts_and_csv() {
    let node = TestNode::spawn().await;
    person(
        &node,
        "coord@hospital.test",
        "Casey Moreno",
        &[Role::Coordinator],
    )
    .await;
    let big = peer_program(&node, "Peer support").await;
    let small = peer_program(&node, "Night shift peers").await;
    let mut asked = vec![];
    for n in 0..43 {
        let p = alongside_core::people::create(
            &node.state.db,
            &admin(),
            alongside_core::people::NewPerson {
                staff_id: Some(format!("N-{n}")),
                display_name: format!("Nurse {n}"),
                email: Some(format!("n{n}@hospital.test")),
                profession: Profession::Nurse,
                specialty: None,
                department: None,
                experience_band: None,
                languages: vec![],
            },
        )
        .await
        .unwrap();
        let created = requests::request_support(
            &node.state.db,
            &as_person(p.id),
            asking(Urgency::Routine, CoordinatorAccess::Full, None),
        )
        .await
        .unwrap();
        asked.push(created.request.id);
    }
    // All closed; three of them were the small program's.
    let db = node.state.db.clone();
    let moved: Vec<Id> = Id::list(&asked[..3]);
    tokio::task::spawn_blocking(move || {
        use alongside_core::schema::support_requests as r;
        use diesel::prelude::*;
        let mut conn = db.get().unwrap();
        let now = requests::now();
        diesel::update(r::table)
            .set((r::state.eq("closed"), r::closed_at.eq(Some(now))))
            .execute(&mut **conn)
            .unwrap();
        diesel::update(r::table.filter(r::id.eq_any(moved)))
            .set(r::program_id.eq(Some(Id(small))))
            .execute(&mut **conn)
            .unwrap();
    })
    .await
    .unwrap();

    let coord = Browser::open(&node.base, DESK, "en-US").await;
    sign_in(&coord, "coord@hospital.test").await;
    coord.visit("/console").await;
    coord.press("Metrics").await;
    let whole = coord.text().await;
    assert!(whole.contains("40 or more"), "{whole}");
    coord.check_page("console-metrics").await;

    coord
        .visit(&format!("/console/metrics?program={small}"))
        .await;
    let page = coord.text().await;
    assert!(page.contains("fewer than 11"), "{page}");
    let chart_says = coord
        .driver
        .find(thirtyfour::By::Css("#by-month-heading + .chart-box svg"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        chart_says.contains("fewer than 11"),
        "the chart labels it: {chart_says}"
    );
    coord.check_page("console-metrics-small-program").await;
    coord
        .visit(&format!("/console/metrics?program={big}"))
        .await;
    assert!(coord.text().await.contains("40"));

    // The CSVs, fetched with the coordinator's own session.
    let cookie = coord
        .cookies()
        .await
        .into_iter()
        .map(|c| format!("{}={}", c.name, c.value))
        .collect::<Vec<_>>()
        .join("; ");
    let csv = |program: String| {
        let cookie = cookie.clone();
        let url = node.url(&format!(
            "/console/metrics.csv?program={program}&table=by-month"
        ));
        async move {
            let response = reqwest::Client::new()
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            response.text().await.unwrap()
        }
    };
    let small_csv = csv(small.to_string()).await;
    assert!(small_csv.contains("fewer than 11"), "{small_csv}");
    let whole_csv = csv(String::new()).await;
    let big_csv = csv(big.to_string()).await;
    assert!(big_csv.contains(",40,"), "{big_csv}");
    assert!(whole_csv.contains("40 or more"), "{whole_csv}");
    // No view shows the 43 or the 3 that subtracting them would need.
    for (name, csv) in [
        ("small", &small_csv),
        ("whole", &whole_csv),
        ("big", &big_csv),
    ] {
        for cell in csv.lines().flat_map(|l| l.split(',')) {
            assert!(cell != "43" && cell != "3", "{name}: {csv}");
        }
    }
    // The tiers: every request beside those passed to professional help (none here), from
    // the same suppressed figures, as a chart, a table and a CSV.
    let tiers = reqwest::Client::new()
        .get(node.url(&format!("/console/metrics.csv?program={big}&table=by-tier")))
        .header("cookie", cookie.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        tiers.contains("Passed to professional help (tier 3)") && tiers.contains(",40,0"),
        "{tiers}"
    );
    coord.quit().await;
}

/// Journey: the coordinator adds a nurse to the roster by staff id with training that ends
/// soon, sees it flagged for renewal with her caseload and hours against her caps, then pauses
/// her; a mistyped staff id brings the form back with the field named and the rest kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_keeps_the_roster() {
    let node = TestNode::spawn().await;
    person(
        &node,
        "coord@hospital.test",
        "Casey Moreno",
        &[Role::Coordinator],
    )
    .await;
    staff(
        &node,
        "rn@hospital.test",
        "Dana Lee",
        "S-200",
        Profession::Nurse,
    )
    .await;
    supporter(&node, "sam@hospital.test", "Sam Rivera").await;

    let coord = Browser::open(&node.base, PHONE, "en-US").await;
    sign_in(&coord, "coord@hospital.test").await;
    coord.visit("/console").await;
    coord.press("Roster").await;
    assert!(coord.text().await.contains("Sam Rivera"));
    coord.check_page("console-roster").await;

    let today = requests::now().date();
    let ends = (today + chrono::Duration::days(20)).to_string();
    coord.fill("person", "S-2OO").await;
    coord.fill("trained_on", "2026-01-15").await;
    coord.fill("training_expires_on", &ends).await;
    coord.fill("caseload_cap", "4").await;
    coord.press("Save").await;
    assert!(
        coord
            .text()
            .await
            .contains("No one with this staff id or email is known here")
    );
    let kept = coord
        .driver
        .find(thirtyfour::By::Id("caseload_cap"))
        .await
        .unwrap()
        .value()
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("4"));
    coord.check_page("console-roster-error").await;

    coord.fill("person", "S-200").await;
    coord.press("Save").await;
    let page = coord.text().await;
    assert!(page.contains("Saved."), "{page}");
    assert!(page.contains("Dana Lee"), "{page}");
    assert!(
        page.contains(&format!("Training ends {ends}: renew it")),
        "{page}"
    );
    assert!(page.contains("Supporting 0 of at most 4"), "{page}");
    assert!(page.contains("0.0 of 10 h this month"), "{page}");

    // Pausing her: the form starts from what she has.
    coord
        .driver
        .find(thirtyfour::By::Css("a[href*='edit=S-200']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    coord.wait_for_new_page("change Dana").await;
    let cap = coord
        .driver
        .find(thirtyfour::By::Id("caseload_cap"))
        .await
        .unwrap()
        .value()
        .await
        .unwrap();
    assert_eq!(cap.as_deref(), Some("4"));
    coord.tick("paused").await;
    coord.press("Save").await;
    let paused = coord
        .driver
        .find(thirtyfour::By::XPath("//li[h2[contains(., 'Dana Lee')]]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(paused.contains("Paused"), "{paused}");
    coord.quit().await;
}

/// Journey: an admin finds an email that gave up after the mail server refused it, sees why
/// (never to whom or what it said), and queues it again once the cause is fixed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_requeues_a_message_that_gave_up() {
    let node = TestNode::spawn().await;
    person(&node, "admin@hospital.test", "Ari Admin", &[Role::Admin]).await;
    let db = node.state.db.clone();
    let id = uuid::Uuid::now_v7();
    tokio::task::spawn_blocking(move || {
        use alongside_core::schema::outbox as o;
        use diesel::prelude::*;
        let mut conn = db.get().unwrap();
        let now = requests::now();
        diesel::insert_into(o::table)
            .values((
                o::id.eq(Id(id)),
                o::channel.eq("email"),
                o::topic.eq("outreach"),
                o::idempotency_key.eq("k-1"),
                o::recipient.eq("dana@hospital.test"),
                o::payload.eq("{}"),
                o::state.eq("dead"),
                o::attempts.eq(8),
                o::next_attempt_at.eq(now),
                o::last_error.eq(Some("550 mailbox [address] unavailable")),
                o::created_at.eq(now),
            ))
            .execute(&mut **conn)
            .unwrap();
    })
    .await
    .unwrap();

    let admin = Browser::open(&node.base, PHONE, "en-US").await;
    sign_in(&admin, "admin@hospital.test").await;
    admin.visit("/console").await;
    admin.press("Notifications").await;
    let page = admin.text().await;
    assert!(page.contains("Tried 8 times"), "{page}");
    assert!(page.contains("550 mailbox [address] unavailable"), "{page}");
    assert!(!page.contains("dana@hospital.test"), "never the recipient");
    admin.check_page("console-notifications").await;
    admin.press("Try again").await;
    let page = admin.text().await;
    assert!(page.contains("Queued again"), "{page}");
    assert!(page.contains("None: every message was delivered"), "{page}");

    // The audit log: the admin's own sign-in is there, by account id only; both chains check.
    admin.press("Audit log").await;
    let page = admin.text().await;
    assert!(page.contains("sign_in"), "{page}");
    assert!(!page.contains("admin@hospital.test"), "ids only");
    admin.check_page("console-audit").await;
    admin.press("Check both chains now").await;
    let page = admin.text().await;
    assert!(page.contains("Intact:"), "{page}");
    admin.press("Entries about support cases").await;
    assert!(admin.text().await.contains("No entry yet."));
    admin.quit().await;
}
