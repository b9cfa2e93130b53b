//! The pages as a matrix of who × page: what each kind of person gets for every page, signed
//! in through the pages' own sign-in form. The decisions are core's; this checks the pages pass
//! them on (a page, a trip to sign in, or a refusal) and never show a signed-out browser data.

use alongside_core::access::{Role, Scope};
use alongside_tests::{PASSWORD, TestNode};

/// A browser-like client: sends its session cookie, does not follow redirects.
struct Caller {
    http: reqwest::Client,
    cookie: Option<String>,
}

impl Caller {
    fn get(&self, url: String) -> reqwest::RequestBuilder {
        self.with_cookie(self.http.get(url))
    }

    fn post(&self, url: String) -> reqwest::RequestBuilder {
        self.with_cookie(self.http.post(url))
    }

    fn with_cookie(&self, b: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.cookie {
            Some(c) => b.header("cookie", c),
            None => b,
        }
    }
}

fn client() -> Caller {
    Caller {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        cookie: None,
    }
}

async fn signed_in(node: &TestNode, roles: &[Role]) -> Caller {
    let mut caller = client();
    let email = format!("p{}@hospital.test", uuid::Uuid::new_v4().simple());
    node.create_account(&email, roles).await;
    let response = caller
        .post(node.url("/sign-in"))
        .header("origin", &node.base)
        .form(&[("email", email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "sign-in through the page");
    let set = response.headers()["set-cookie"].to_str().unwrap();
    caller.cookie = Some(set.split(';').next().unwrap().to_owned());
    caller
}

/// The first column, signed out, is also what a partner app's token gets.
/// 'P' the page (200), 'S' sent to sign in (303 to /sign-in), 'F' refused (403), 'N' not found
/// (404), 'B' the form again with the field named (400), 'G' gone (410), 'C' cannot be done
/// here now (409).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_for_every_kind_of_person() {
    let node = TestNode::spawn().await;
    let callers = [
        ("anonymous", client()),
        ("member", signed_in(&node, &[]).await),
        (
            "peer supporter",
            signed_in(&node, &[Role::PeerSupporter]).await,
        ),
        ("coordinator", signed_in(&node, &[Role::Coordinator]).await),
        ("admin", signed_in(&node, &[Role::Admin]).await),
        ("analyst", signed_in(&node, &[Role::Analyst]).await),
    ];
    let pages = [
        ("/", "PPPPPP"),
        ("/privacy", "PPPPPP"),
        ("/sign-in", "PSSSSS"),
        ("/talk", "SPPPPP"),
        ("/colleague", "SPPPPP"),
        ("/requests", "SPPPPP"),
        ("/support", "SFPFFF"),
        ("/survey?token=none", "GGGGGG"),
        // The acknowledgement page needs no sign-in: the code is the key, and only its button acts.
        ("/ack?code=00", "PPPPPP"),
        ("/handoff?code=00", "NNNNNN"),
        ("/requests/00000000-0000-0000-0000-000000000000", "SNNNNN"),
        (
            "/support/introductions/00000000-0000-0000-0000-000000000000",
            "SFNFFF",
        ),
        // The coordinator's console: coordinators and admins; an analyst sees aggregates only.
        ("/console", "SFFPPF"),
        ("/console?state=open&urgency=crisis", "SFFPPF"),
        (
            "/console?program=00000000-0000-0000-0000-000000000000",
            "SFFPPF",
        ),
        ("/console?program=nonsense", "SFFBBF"),
        ("/console/events", "SFFPPF"),
        ("/console/events/new", "SFFPPF"),
        ("/console/roster", "SFFPPF"),
        ("/console/roster?page=7", "SFFPPF"),
        ("/console/roster?page=nonsense", "SFFPPF"),
        ("/console/programs", "SFFPPF"),
        (
            "/console/programs?edit=00000000-0000-0000-0000-000000000000",
            "SFFNNF",
        ),
        ("/console/settings", "SFFPPF"),
        ("/console/training", "SFFPPF"),
        // The network: members for the steward's admins, pooled figures for analysts and
        // admins, the directory for everyone signed in.
        ("/console/network", "SFFFPF"),
        ("/console/network/metrics", "SFFFPP"),
        ("/console/network/metrics?from=2026-13", "SFFFBB"),
        ("/console/network/directory", "SPPPPP"),
        ("/console/metrics", "SFFPPP"),
        ("/console/readiness", "SFFPPP"),
        ("/console/business-case", "SFFPPP"),
        // Too few people supported: the page says so rather than describe a handful.
        (
            "/console/business-case?leaving_rate=0.2&retention_effect=0.5&replacement_cost=50000&absence_days=2&absence_day_cost=400&program_cost=30000",
            "SFFPPP",
        ),
        ("/console/business-case?leaving_rate=2", "SFFBBB"),
        (
            "/console/business-case?from=2026-01&to=2026-12&print=yes",
            "SFFPPP",
        ),
        ("/console/metrics.csv?table=by-month", "SFFPPP"),
        // Admins only: the audit log and notification health.
        ("/console/audit", "SFFFPF"),
        ("/console/notifications", "SFFFPF"),
        (
            "/console/requests/00000000-0000-0000-0000-000000000000",
            "SNNNNN",
        ),
        (
            "/console/events/00000000-0000-0000-0000-000000000000",
            "SFFNNF",
        ),
    ];
    // A partner app's token (every scope) is not a session: on every page it is as signed out.
    let partner_token = node.client_token(&Scope::ALL).await;
    let partner = client();
    for (path, wants) in pages {
        let signed_out = wants.chars().next().unwrap();
        let with_token = partner
            .get(node.url(path))
            .header("accept", "text/html")
            .bearer_auth(&partner_token)
            .send()
            .await
            .unwrap();
        let got = match with_token.status().as_u16() {
            200 => 'P',
            303 => 'S',
            404 => 'N',
            410 => 'G',
            other => panic!("{path} with a partner app's token: {other}"),
        };
        assert_eq!(got, signed_out, "{path} with a partner app's token");
        for ((who, http), want) in callers.iter().zip(wants.chars()) {
            let response = http
                .get(node.url(path))
                .header("accept", "text/html")
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let got = match status {
                200 => 'P',
                303 if location.starts_with("/sign-in") => 'S',
                // Already signed in, the sign-in page sends the person on.
                303 if path == "/sign-in" => 'S',
                400 => 'B',
                403 => 'F',
                404 => 'N',
                410 => 'G',
                other => panic!("{path} as {who}: {other}"),
            };
            assert_eq!(got, want, "{path} as {who} (location {location})");
            if status == 200 {
                let headers = response.headers().clone();
                let csp = headers
                    .get("content-security-policy")
                    .unwrap()
                    .to_str()
                    .unwrap();
                assert!(csp.contains("form-action 'self'"), "{path}: {csp}");
                assert_eq!(headers.get("cache-control").unwrap(), "no-store");
            }
        }
    }
    // A path no page serves gets an HTML page for browsers, problem JSON for API clients.
    let html = client()
        .get(node.url("/no-such-page"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(html.status(), 404);
    assert!(html.text().await.unwrap().contains("Page not found"));
    let api = client()
        .get(node.url("/no-such-page"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 404);
    assert!(
        api.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("problem+json")
    );
}

/// A form that fails validation comes back with the field named and the other answers kept,
/// and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_form_comes_back_with_the_field_named_and_answers_kept() {
    let node = TestNode::spawn().await;
    let http = signed_in(&node, &[]).await;
    let page = http
        .get(node.url("/talk"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let before = node.count("support_requests").await;
    for (fields, field, kept) in [
        (
            vec![("modality", "video"), ("preferred_name", "Sam")],
            "#urgency",
            "value=\"Sam\"",
        ),
        (
            vec![
                ("urgency", "routine"),
                ("preferred_name", "Call 555-123-4567"),
            ],
            "#preferredName",
            "id=\"urgency-routine\" name=\"urgency\" value=\"routine\" checked",
        ),
        (
            vec![("urgency", "routine"), ("modality", "carrier-pigeon")],
            "#modality",
            "id=\"urgency-routine\" name=\"urgency\" value=\"routine\" checked",
        ),
        (
            vec![("urgency", "sometime")],
            "#urgency",
            "Choose how soon you need to talk",
        ),
    ] {
        let mut form: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        form.extend(fields);
        let response = http
            .post(node.url("/talk"))
            .header("origin", &node.base)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{form:?}");
        let body = response.text().await.unwrap();
        assert!(
            body.contains(&format!("href=\"{field}\"")),
            "{field} named: {body}"
        );
        assert!(body.contains(kept), "{kept} kept: {body}");
    }
    assert_eq!(node.count("support_requests").await, before);
}

/// A session past its idle time sends the browser to sign in, says why, and returns it to the
/// page it asked for; admins' sessions are shorter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_returns_to_its_page_after_sign_in() {
    let node = TestNode::spawn().await;
    let email = "idle@hospital.test";
    node.create_account(email, &[]).await;
    let mut caller = client();
    let response = caller
        .post(node.url("/sign-in"))
        .header("origin", &node.base)
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    caller.cookie = Some(
        response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned(),
    );
    assert_eq!(
        caller
            .get(node.url("/requests"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // 31 minutes without a page (the default idle limit is 30).
    let db = node.state.db.clone();
    db.run(|conn| {
        use alongside_core::schema::browser_sessions::dsl::*;
        use diesel::prelude::*;
        let long_ago = alongside_core::time::now() - chrono::Duration::minutes(31);
        diesel::update(browser_sessions)
            .set(last_seen_at.eq(long_ago))
            .execute(conn)?;
        Ok(())
    })
    .await
    .unwrap();
    let response = caller.get(node.url("/requests")).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, "/sign-in?next=%2Frequests&expired=1");
    let cleared = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cleared.starts_with("alongside=;"),
        "the dead cookie is removed: {cleared}"
    );
    let page = caller
        .get(node.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("You were signed out because you had not used the site for a while"));
    assert!(page.contains("name=\"next\" value=\"/requests\""));
    let again = client()
        .post(node.url("/sign-in"))
        .header("origin", &node.base)
        .form(&[
            ("email", email),
            ("password", PASSWORD),
            ("next", "/requests"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.headers()["location"], "/requests");

    // An admin's session lasts 4 hours, not 12.
    node.create_account("admin@hospital.test", &[Role::Admin])
        .await;
    let admin = client()
        .post(node.url("/sign-in"))
        .header("origin", &node.base)
        .form(&[("email", "admin@hospital.test"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookie = admin.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("Max-Age=14400"), "{cookie}");
}

/// An institution's own wording, per language, replaces the shipped messages and can give the
/// crisis resources in each language; a file that does not parse stops the node from starting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_institution_overrides_wording_and_crisis_resources_per_language() {
    let wording = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(wording.path().join("es")).unwrap();
    std::fs::write(
        wording.path().join("es/local.ftl"),
        "home-title = Estamos con usted después de un día difícil\ninstitution-crisis-resources = Llame a la línea de Mercy: 555-0100, o al 988.\n",
    )
    .unwrap();
    let dir = wording.path().to_owned();
    let node = TestNode::spawn_with(move |c| c.node.wording_dir = Some(dir)).await;
    let spanish = client()
        .get(node.url("/"))
        .header("accept-language", "es")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(spanish.contains("Estamos con usted después de un día difícil"));
    // The institution's Spanish crisis line, its numbers tap-to-call.
    assert!(spanish.contains("Llame a la línea de Mercy: <a href=\"tel:5550100\" class=\"tel\">555-0100</a>, o al <a href=\"tel:988\" class=\"tel\">988</a>."), "{spanish}");
    assert!(
        spanish.contains("Qué guardamos y qué no"),
        "the rest stays as shipped"
    );
    let english = client()
        .get(node.url("/"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(english.contains("Support after a difficult event at work"));
    assert!(
        english.contains("call or text <a href=\"tel:988\" class=\"tel\">988</a>"),
        "English keeps the institution's text"
    );

    std::fs::write(
        wording.path().join("es/broken.ftl"),
        "home-title = { unclosed\n",
    )
    .unwrap();
    let mut config = node.config.clone();
    config.bind = "127.0.0.1:0".into();
    let refused = tokio::task::spawn_blocking(move || alongside_api::node::start(config))
        .await
        .unwrap();
    let message = format!(
        "{:#}",
        refused.err().expect("a broken wording file is refused")
    );
    assert!(
        message.contains("broken.ftl") && message.contains("does not parse"),
        "{message}"
    );
}

/// A form's path, its fields, and what each kind of person gets.
type FormCase<'a> = (String, Vec<(&'a str, &'a str)>, &'a str);

/// The form token a signed-in browser gets on its pages.
async fn csrf(node: &TestNode, caller: &Caller) -> String {
    let page = caller
        .get(node.url("/talk"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

/// Every form, posted with the session's own token by each kind of person, for a record that
/// does not exist: 'S' sent to sign in, 'F' refused for want of the role (403), 'N' not found
/// (404), 'B' the form again with the field named (400), 'R' done and sent on (303 elsewhere),
/// 'P' answered on a page of its own (200).
/// Nothing is changed by any of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_form_for_every_kind_of_person() {
    let node = TestNode::spawn().await;
    let mut callers = vec![("anonymous", client(), String::new())];
    for (who, roles) in [
        ("member", &[][..]),
        ("peer supporter", &[Role::PeerSupporter][..]),
        ("coordinator", &[Role::Coordinator][..]),
        ("admin", &[Role::Admin][..]),
        ("analyst", &[Role::Analyst][..]),
    ] {
        let caller = signed_in(&node, roles).await;
        let token = csrf(&node, &caller).await;
        assert!(!token.is_empty(), "{who} has a form token");
        callers.push((who, caller, token));
    }
    let z = "00000000-0000-0000-0000-000000000000";
    let forms: Vec<FormCase<'_>> = vec![
        ("/talk".into(), vec![], "SBBBBB"),
        (
            "/colleague".into(),
            vec![("colleague", "nobody@hospital.test")],
            "SBBBBB",
        ),
        ("/ack".into(), vec![("code", "00")], "NNNNNN"),
        ("/handoff".into(), vec![("code", "00")], "NNNNNN"),
        (format!("/requests/{z}/withdraw"), vec![], "SNNNNN"),
        (format!("/requests/{z}/close"), vec![], "SNNNNN"),
        (format!("/requests/{z}/outside"), vec![], "SNNNNN"),
        (
            format!("/requests/{z}/outside/introduce"),
            vec![("step", "check"), ("node", "b.test"), ("contact", "555")],
            "SBBBBB",
        ),
        (format!("/outreach/{z}/decline"), vec![], "SNNNNN"),
        (format!("/outreach/{z}/stop"), vec![], "SNNNNN"),
        (
            format!("/support/offers/{z}"),
            vec![("answer", "accept")],
            "SFNFFF",
        ),
        (
            format!("/support/introductions/{z}"),
            vec![("answer", "accept")],
            "SFNFFF",
        ),
        (
            format!("/support/introductions/{z}/conversation"),
            vec![
                ("occurred_on", "2026-01-02"),
                ("duration", "under_15_minutes"),
            ],
            "SFNFFF",
        ),
        (
            format!("/support/introductions/{z}/close"),
            vec![],
            "SFNFFF",
        ),
        // An unknown request is not found, whoever asks (core looks before it weighs roles).
        (format!("/support/requests/{z}/encounter"), vec![], "SNNNNN"),
        (
            format!("/support/requests/{z}/escalate"),
            vec![("program", z)],
            "SNNNNN",
        ),
        (
            format!("/support/follow-ups/{z}"),
            vec![("outcome", "doing_well")],
            "SFNFFF",
        ),
        // Only a person with a supporter profile has availability to change.
        ("/support/availability".into(), vec![], "SNNNNN"),
        ("/support/availability/pause".into(), vec![], "SFNFFF"),
        (
            "/support/availability/texts".into(),
            vec![("phone", "+15550100123")],
            "SNNNNN",
        ),
        // The console's forms. Core looks a request up before weighing the caller; the rest
        // weigh the caller first. An empty event is the form again, for those who may record.
        (
            format!("/console/requests/{z}/acknowledge"),
            vec![],
            "SNNNNN",
        ),
        (
            format!("/console/requests/{z}/assign"),
            vec![("supporter", z)],
            "SFFNNF",
        ),
        (
            format!("/console/requests/{z}/escalate"),
            vec![("program", z)],
            "SNNNNN",
        ),
        (format!("/console/requests/{z}/close"), vec![], "SNNNNN"),
        (
            format!("/console/requests/{z}/no-such-action"),
            vec![],
            "SNNNNN",
        ),
        ("/console/events".into(), vec![], "SFFBBF"),
        (
            "/console/roster".into(),
            vec![("person", "nobody")],
            "SFFBBF",
        ),
        (
            format!("/console/outreach/{z}"),
            vec![("state", "reached")],
            "SFFNNF",
        ),
        ("/console/programs".into(), vec![], "SFFBBF"),
        (
            format!("/console/events/{z}/milestones"),
            vec![("kind", "lawsuit_filed"), ("milestone_month", "2028-03")],
            "SFFNNF",
        ),
        ("/console/readiness".into(), vec![], "SFFBBF"),
        // Crisis resources are the admin's; the rota the coordinators'.
        (
            "/console/settings/institution".into(),
            vec![("crisis_resources", "")],
            "SFFFBF",
        ),
        (
            "/console/settings/rota".into(),
            vec![("time_zone", "Mars/Olympus")],
            "SFFBBF",
        ),
        (
            "/console/settings/shifts".into(),
            vec![("person", "nobody")],
            "SFFBBF",
        ),
        (
            "/console/settings/shifts-remove".into(),
            vec![("shift", "none")],
            "SFFNNF",
        ),
        (
            "/console/settings/overrides".into(),
            vec![("override_person", "nobody")],
            "SFFBBF",
        ),
        (
            "/console/settings/overrides-remove".into(),
            vec![("override", z)],
            "SFFNNF",
        ),
        ("/console/settings/nonsense".into(), vec![], "SNNNNN"),
        ("/console/training/course".into(), vec![], "SFFBBF"),
        ("/console/training/session".into(), vec![], "SFFBBF"),
        (
            "/console/training/completion".into(),
            vec![("person", "nobody")],
            "SFFBBF",
        ),
        (
            "/console/training/trainer".into(),
            vec![("display_name", "Pat Trainer")],
            "SFFBBF",
        ),
        ("/console/training/nonsense".into(), vec![], "SNNNNN"),
        // Not a steward: an admin is told it cannot be done here ('C').
        (
            "/console/network/members/b.test/approve".into(),
            vec![],
            "SFFFCF",
        ),
        (
            "/console/network/members/b.test/nonsense".into(),
            vec![],
            "SNNNNN",
        ),
        ("/console/network/check".into(), vec![], "SFFFCF"),
    ];
    let mut got_all = Vec::new();
    for (path, fields, wants) in &forms {
        let mut got_row = String::new();
        for (who, http, token) in &callers {
            let mut body: Vec<(&str, &str)> = fields.clone();
            body.push(("csrf", token.as_str()));
            let response = http
                .post(node.url(path))
                .header("accept", "text/html")
                .header("origin", &node.base)
                .form(&body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            got_row.push(match status {
                200 => 'P',
                303 if location.starts_with("/sign-in") => 'S',
                303 => 'R',
                400 => 'B',
                403 => 'F',
                404 => 'N',
                409 => 'C',
                other => panic!("{path} as {who}: {other}"),
            });
        }
        if got_row != *wants {
            got_all.push(format!("{path}: {got_row}, wanted {wants}"));
        }
    }
    assert!(got_all.is_empty(), "{got_all:#?}");
    assert_eq!(node.count("support_requests").await, 0);
}

/// The roster comes fifty supporters a page, by name, with links to the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_roster_comes_fifty_to_a_page() {
    use alongside_core::access::{Principal, UserPrincipal};
    use alongside_core::supporters::{self, SupporterInput};
    let node = TestNode::spawn().await;
    let admin = Principal::User(UserPrincipal {
        account_id: uuid::Uuid::nil(),
        person_id: uuid::Uuid::nil(),
        roles: [Role::Admin, Role::Member].into_iter().collect(),
    });
    for n in 0..55 {
        let p = alongside_core::people::create(
            &node.state.db,
            &admin,
            alongside_core::people::NewPerson {
                staff_id: Some(format!("S-{n:03}")),
                display_name: format!("Supporter {n:03}"),
                email: Some(format!("s{n}@hospital.test")),
                profession: alongside_core::vocab::Profession::Nurse,
                specialty: None,
                department: None,
                experience_band: None,
                languages: vec![],
            },
        )
        .await
        .unwrap();
        supporters::upsert(
            &node.state.db,
            &admin,
            SupporterInput {
                person_id: p.id,
                trained_on: None,
                training_expires_on: None,
                lived_experience: false,
                time_zone: "UTC".into(),
                availability: vec![],
                caseload_cap: 3,
                outside_matching_opt_in: false,
                active: true,
                monthly_hours_cap: 10,
            },
        )
        .await
        .unwrap();
    }
    let coordinator = signed_in(&node, &[Role::Coordinator]).await;
    let page = |n: &'static str| {
        let c = &coordinator;
        let url = node.url(&format!("/console/roster{n}"));
        async move { c.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let first = page("").await;
    assert_eq!(first.matches("<li class=\"card\">").count(), 50);
    assert!(
        first.contains("Supporters 1 to 50 of 55, by name"),
        "{first}"
    );
    assert!(first.contains("Supporter 000") && !first.contains("Supporter 050"));
    assert!(first.contains("href=\"/console/roster?page=2\""));
    let second = page("?page=2").await;
    assert_eq!(second.matches("<li class=\"card\">").count(), 5);
    assert!(second.contains("Supporter 054") && !second.contains("Supporter 049"));
    assert!(second.contains("href=\"/console/roster?page=1\""));
}
