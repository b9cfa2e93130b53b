//! The clinician journeys in Spanish, for a person whose profile says `es`: the outreach email,
//! the outreach text message, the sign-in link and every page in Spanish, with no English left
//! on any page.

use alongside_core::access::{Principal, Role, UserPrincipal};
use alongside_core::i18n::{FILES, Locale, catalogue, messages_of};
use alongside_core::people::{self, PersonPatch};
use alongside_tests::TestNode;
use alongside_tests::smtp::SmtpSink;
use alongside_tests::text_gateway::TextGateway;
use serde_json::json;

use crate::harness::{Browser, PHONE};
use crate::journeys::{api_sign_in, person, supporter, wait_for_mail};

/// English messages of the clinicians' pages that differ in Spanish and are long enough not to
/// occur by chance.
fn english_only() -> Vec<String> {
    english_only_in(&["pages.ftl"])
}

/// The same, from the catalogue files named.
fn english_only_in(files: &[&str]) -> Vec<String> {
    let c = catalogue();
    FILES
        .iter()
        .filter(|(l, name, _)| *l == Locale::En && files.contains(name))
        .flat_map(|(_, _, text)| messages_of(text))
        .filter(|(_, vars)| vars.is_empty())
        .map(|(key, _)| (c.text(Locale::En, &key), c.text(Locale::Es, &key)))
        .filter(|(en, es)| en != es && en.len() >= 12)
        .map(|(en, _)| en)
        .collect()
}

/// Fails if the page shows an English message or a message's key.
async fn all_spanish(browser: &Browser, name: &str) {
    all_spanish_from(browser, name, &english_only()).await
}

async fn all_spanish_from(browser: &Browser, name: &str, english: &[String]) {
    let page = browser.text().await;
    assert!(
        page.contains("Si está en crisis"),
        "{name}: the crisis resources in Spanish"
    );
    for en in english {
        assert!(
            !page.contains(en.as_str()),
            "{name} shows English: {en:?}\n{page}"
        );
    }
    let keys: Vec<String> = FILES
        .iter()
        .filter(|(l, _, _)| *l == Locale::En)
        .flat_map(|(_, _, text)| messages_of(text).into_keys())
        .collect();
    for key in keys.iter().filter(|k| k.len() > 8) {
        assert!(!page.contains(key.as_str()), "{name} shows the key {key}");
    }
    let lang = browser
        .driver
        .find(thirtyfour::By::Tag("html"))
        .await
        .unwrap()
        .attr("lang")
        .await
        .unwrap();
    assert_eq!(
        lang.as_deref(),
        Some("es"),
        "{name}: the page says its language"
    );
    browser.check_page(&format!("es-{name}")).await;
}

fn admin() -> Principal {
    Principal::User(UserPrincipal {
        account_id: uuid::Uuid::nil(),
        person_id: uuid::Uuid::nil(),
        roles: [Role::Admin, Role::Member].into_iter().collect(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_housekeeper_whose_profile_says_spanish_walks_the_journey_in_spanish() {
    let sink = SmtpSink::start();
    let text_port = alongside_tests::smtp::free_port();
    let gateway = TextGateway::serve(text_port, Vec::new()).await;
    let node: TestNode = TestNode::spawn_with(|c| {
        c.email.transport = "smtp".into();
        c.email.from = "Alongside <alongside@hospital.test>".into();
        c.email.smtp.host = "127.0.0.1".into();
        c.email.smtp.port = sink.port;
        c.email.smtp.tls = "none".into();
        c.email.smtp.timeout_secs = 5;
        alongside_tests::text_gateway::point_at(c, text_port);
        c.outbox.poll_interval_ms = 50;
        c.auth.sign_in_links = true;
    })
    .await;
    node.start_worker();
    person(
        &node,
        "coord@hospital.test",
        "Coordinator",
        &[Role::Coordinator],
    )
    .await;
    let rosa = person(&node, "rosa@hospital.test", "Rosa Diaz", &[]).await;
    supporter(&node, "peer@hospital.test", "Lee Chan").await;
    people::update(
        &node.state.db,
        &admin(),
        rosa,
        PersonPatch {
            locale: Some("es".into()),
            phone: Some("+15550100123".into()),
            text_messages: Some(true),
            ..PersonPatch::default()
        },
    )
    .await
    .unwrap();
    let (coordinator, _) = api_sign_in(&node, "coord@hospital.test").await;
    node.gql(
        Some(&coordinator),
        "mutation { createEvent(input: {category: NEAR_MISS, month: \"2026-10\", department: \"ICU\", involved: [{email: \"rosa@hospital.test\", role: DISCLOSURE}]}) { id } }",
        json!({}),
    )
    .await;

    // The outreach email is in Spanish.
    let (mail, outreach_link) = wait_for_mail(&sink, "rosa@hospital.test", "/requests").await;
    assert!(mail.contains("Tiene apoyo disponible"), "{mail}");
    assert!(!mail.contains("Support is available"), "{mail}");

    // She chose texts, and a disclosure conversation is urgent: the outreach comes by text
    // too, in Spanish, with nothing of the event and no English.
    node.wait_for("the outreach text", || async {
        !gateway.phone().is_empty()
    })
    .await;
    let text = gateway.phone().remove(0);
    assert_eq!(text.to, "+15550100123");
    assert!(
        text.body.contains("tiene apoyo entre colegas"),
        "{}",
        text.body
    );
    assert!(text.body.contains(&node.base), "{}", text.body);
    let english = catalogue().text_with(
        Locale::En,
        "text-outreach",
        &[("institution", "".into()), ("link", "".into())],
    );
    let english = english.trim_matches([':', ' ']);
    assert!(english.len() > 20, "{english}");
    assert!(
        !text.body.contains(english),
        "English in the text: {}",
        text.body
    );

    // A Spanish browser, signed out: the sign-in pages are Spanish too.
    let b = Browser::open(&node.base, PHONE, "es-MX").await;
    b.visit(&outreach_link).await;
    all_spanish(&b, "sign-in").await;
    b.fill("link-email", "rosa@hospital.test").await;
    b.press("Enviarme un enlace para entrar").await;
    all_spanish(&b, "sign-in-link-sent").await;
    let (mail, sign_in_link) = wait_for_mail(&sink, "rosa@hospital.test", "/sign-in?token=").await;
    assert!(mail.contains("Use este enlace"), "{mail}");
    b.visit(&sign_in_link).await;
    all_spanish(&b, "sign-in-link").await;
    b.press("Continuar").await;
    all_spanish(&b, "home").await;
    b.press("Mis solicitudes").await;
    all_spanish(&b, "outreach").await;
    b.press("Sí, me gustaría hablar").await;
    all_spanish(&b, "talk").await;
    b.press("Pedir apoyo").await;
    assert!(
        b.text()
            .await
            .contains("Elija qué tan pronto necesita hablar")
    );
    all_spanish(&b, "talk-error").await;
    b.tick("urgency-urgent").await;
    b.tick("modality-video").await;
    b.press("Pedir apoyo").await;
    let page = b.text().await;
    assert!(page.contains("Su solicitud se envió."), "{page}");
    all_spanish(&b, "request").await;
    b.press("Mis solicitudes").await;
    all_spanish(&b, "my-requests").await;
    b.visit("/privacy").await;
    all_spanish(&b, "privacy").await;
    b.quit().await;

    // Her profile wins over an English browser once she is signed in; she can switch.
    let english = Browser::open(&node.base, PHONE, "en-US").await;
    english.visit("/sign-in").await;
    assert!(
        english.text().await.contains("Sign in"),
        "signed out: the browser's language"
    );
    english.fill("email", "rosa@hospital.test").await;
    english.fill("password", alongside_tests::PASSWORD).await;
    english.press("Sign in").await;
    assert!(english.text().await.contains("Hablar con alguien"));
    english.press("English").await;
    assert!(english.text().await.contains("Talk to someone"));
    let saved = people::get(&node.state.db, &admin(), rosa).await.unwrap();
    assert_eq!(saved.locale.as_deref(), Some("en"));
    english.press("Español").await;
    assert!(english.text().await.contains("Hablar con alguien"));
    english.quit().await;
}

/// Every console page in Spanish for an admin whose profile says `es`: no English message of
/// the pages', the console's or the readiness catalogue, no catalogue key, `lang="es"`, axe-core
/// clean at both widths.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_whose_profile_says_spanish_reads_the_console_in_spanish() {
    let node = TestNode::spawn().await;
    let ana = person(&node, "ana@hospital.test", "Ana Ruiz", &[Role::Admin]).await;
    people::update(
        &node.state.db,
        &admin(),
        ana,
        PersonPatch {
            locale: Some("es".into()),
            ..PersonPatch::default()
        },
    )
    .await
    .unwrap();
    supporter(&node, "peer@hospital.test", "Lee Chan").await;
    let english = english_only_in(&["pages.ftl", "console.ftl", "readiness.ftl"]);
    // An English browser: once she is signed in, her profile's language wins.
    let b = Browser::open(&node.base, PHONE, "en-US").await;
    crate::journeys::sign_in(&b, "ana@hospital.test").await;
    for (path, name) in [
        ("/console", "console-queue"),
        ("/console/events", "console-events"),
        ("/console/events/new", "console-event-new"),
        ("/console/roster", "console-roster"),
        ("/console/training", "console-training"),
        ("/console/programs", "console-programs"),
        ("/console/settings", "console-settings"),
        ("/console/readiness", "console-readiness"),
        ("/console/business-case", "console-business-case"),
        ("/console/metrics", "console-metrics"),
        ("/console/network/directory", "console-network-directory"),
        ("/console/network", "console-network"),
        ("/console/network/metrics", "console-network-metrics"),
        ("/console/audit", "console-audit"),
        ("/console/audit?chain=case&lane=2", "console-audit-case"),
        ("/console/notifications", "console-notifications"),
    ] {
        b.visit(path).await;
        // The settings form holds the crisis resources as the institution stored them, in its
        // default language: data being edited, not the page's words.
        let stored = catalogue().text(Locale::En, "crisis-resources-default");
        let english: Vec<String> = english
            .iter()
            .filter(|e| path != "/console/settings" || **e != stored)
            .cloned()
            .collect();
        all_spanish_from(&b, name, &english).await;
        if name == "console-audit-case" {
            // The case chain, lane by lane: eight lanes to choose from, the one shown marked.
            let page = b.text().await;
            assert!(page.contains("Carril 8"), "{page}");
            let current = b
                .driver
                .find(thirtyfour::By::Css(
                    "a[aria-current='page'][href*='lane=2']",
                ))
                .await;
            assert!(current.is_ok(), "lane 2 is marked as shown");
            b.check_page(name).await;
        }
    }
    b.quit().await;
}
