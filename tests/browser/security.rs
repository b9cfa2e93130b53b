//! Journey 6, security in the browser: forms refused without the session's token, with
//! another session's token, or from another origin; the cookie's flags; signed-out browsers see
//! no data; signing out everywhere ends every session.

use actix_web::{App, HttpResponse, HttpServer, web};
use alongside_tests::TestNode;

use crate::harness::{Browser, PHONE};
use crate::journeys::{person, sign_in};

async fn requests_count(node: &TestNode) -> i64 {
    node.count("support_requests").await
}

/// The form token the page gave this browser.
async fn csrf_of(browser: &Browser) -> String {
    browser
        .driver
        .find(thirtyfour::By::Css("input[name='csrf']"))
        .await
        .unwrap()
        .attr("value")
        .await
        .unwrap()
        .unwrap()
}

/// Posts a form from the page shown, after changing its hidden token to `token`.
async fn post_with_token(browser: &Browser, token: &str) {
    browser
        .driver
        .execute(
            "window.__before_press = true; const f = document.querySelector('form[action=\"/talk\"]'); f.querySelector('input[name=csrf]').value = arguments[0]; document.getElementById('urgency-routine').checked = true; f.submit();",
            vec![serde_json::json!(token)],
        )
        .await
        .unwrap();
    browser.wait_for_new_page("a forged form").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_refuse_forgery_and_signed_out_browsers_see_nothing() {
    let node = TestNode::spawn().await;
    person(&node, "a@hospital.test", "Avery", &[]).await;
    person(&node, "b@hospital.test", "Blake", &[]).await;
    let a = Browser::open(&node.base, PHONE, "en-US").await;
    sign_in(&a, "a@hospital.test").await;
    let b = Browser::open(&node.base, PHONE, "en-US").await;
    sign_in(&b, "b@hospital.test").await;

    // The cookie: HttpOnly, SameSite=Lax, whole site; not Secure on a plain-http node.
    let cookie = a
        .cookies()
        .await
        .into_iter()
        .find(|c| c.name == "alongside")
        .expect("the session cookie");
    assert_eq!(cookie.http_only, Some(true));
    assert_eq!(cookie.path.as_deref(), Some("/"));
    assert_eq!(
        cookie.same_site,
        Some(thirtyfour::cookie::SameSite::Lax),
        "{cookie:?}"
    );
    assert_eq!(cookie.secure, Some(false));
    assert!(
        !a.text().await.contains(&cookie.value),
        "the token is never shown"
    );

    // Without the token, and with the other session's token: refused, nothing made.
    a.visit("/talk").await;
    let before = requests_count(&node).await;
    post_with_token(&a, "").await;
    assert!(a.text().await.contains("This form could not be sent"));
    a.check_page("forged-form").await;
    b.visit("/talk").await;
    let b_token = csrf_of(&b).await;
    a.visit("/talk").await;
    post_with_token(&a, &b_token).await;
    assert!(a.text().await.contains("This form could not be sent"));
    assert_eq!(requests_count(&node).await, before);

    // From another origin (another port on the same host: same site, so the cookie goes with
    // it), even carrying the right token: refused by origin.
    a.visit("/talk").await;
    let a_token = csrf_of(&a).await;
    let target = format!("{}/talk", node.base);
    let page = format!(
        "<!doctype html><html lang=en><title>elsewhere</title><form method=post action=\"{target}\"><input type=hidden name=csrf value=\"{a_token}\"><input type=hidden name=urgency value=routine><button>Win a prize</button></form></html>"
    );
    let other = HttpServer::new(move || {
        let page = page.clone();
        App::new().route(
            "/",
            web::get().to(move || {
                let page = page.clone();
                async move { HttpResponse::Ok().content_type("text/html").body(page) }
            }),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let other_addr = other.addrs()[0];
    let other = other.run();
    let other_handle = other.handle();
    tokio::spawn(other);
    a.visit(&format!("http://{other_addr}/")).await;
    a.press("Win a prize").await;
    assert!(a.text().await.contains("This form could not be sent"));
    assert_eq!(requests_count(&node).await, before);

    // The right token from the node's own page works (the checks above are not refusing all).
    a.visit("/talk").await;
    a.tick("urgency-routine").await;
    a.press("Ask for support").await;
    assert_eq!(requests_count(&node).await, before + 1);
    let request_path = a.path().await;

    // Signed out, the same browser sees no data: pages send it to sign in.
    a.press("Sign out").await;
    a.visit(&request_path).await;
    assert!(
        a.path().await.starts_with("/sign-in?next="),
        "{}",
        a.path().await
    );
    let page = a.text().await;
    assert!(
        !page.contains("Looking for a peer supporter") && !page.contains("Asking a peer supporter")
    );
    a.visit("/requests").await;
    assert!(a.path().await.starts_with("/sign-in"));

    // Sign out everywhere: B signed in twice; one browser ends both.
    let b2 = Browser::open(&node.base, PHONE, "en-US").await;
    sign_in(&b2, "b@hospital.test").await;
    b2.visit("/requests").await;
    assert_eq!(b2.path().await, "/requests");
    b.visit("/").await;
    b.press("Sign out on every device").await;
    b2.visit("/requests").await;
    assert!(
        b2.path().await.starts_with("/sign-in"),
        "{}",
        b2.path().await
    );

    // Persona links exist only in `alongside demo`: refused here, and no session is made.
    let c = Browser::open(&node.base, PHONE, "en-US").await;
    c.visit("/demo/as/anything").await;
    assert!(
        c.text()
            .await
            .contains("Persona sign-in is for the demo only")
    );
    assert!(c.cookies().await.is_empty());
    c.check_page("demo-refused").await;
    c.quit().await;

    other_handle.stop(false).await;
    a.quit().await;
    b.quit().await;
    b2.quit().await;
}

/// On a node whose public URL is https the cookie is `__Host-` prefixed and `Secure`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_node_sets_a_host_only_secure_cookie() {
    let node =
        TestNode::spawn_with(|c| c.public_url = Some("https://support.hospital.test".into())).await;
    person(&node, "c@hospital.test", "Casey", &[]).await;
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(node.url("/sign-in"))
        .header("origin", "https://support.hospital.test")
        .form(&[
            ("email", "c@hospital.test"),
            ("password", alongside_tests::PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("__Host-alongside="), "{cookie}");
    for flag in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} missing: {cookie}");
    }
    assert!(!cookie.contains("Domain="), "{cookie}");
}

/// Journey 5: single sign-on through the institution's identity provider (authorization code
/// with PKCE, state and nonce), mapped to a person and roles like its bearer tokens; then sign
/// out everywhere ends both browsers' sessions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_sign_on_then_sign_out_everywhere() {
    use alongside_tests::idp::{CLIENT_ID, CLIENT_SECRET, Idp, IdpUser};
    let idp = Idp::start(IdpUser {
        subject: "emp-4411".into(),
        email: "morgan.lee@hospital.test".into(),
        name: "Morgan Lee".into(),
        groups: vec!["peer-supporters".into()],
    })
    .await;
    let issuer = idp.issuer.clone();
    let jwks_url = idp.jwks_url();
    let node = TestNode::spawn_with(move |c| {
        c.oidc = Some(alongside_api::config::OidcConfig {
            issuer,
            jwks_url,
            audience: "alongside-api".into(),
            algorithms: vec!["EdDSA".into()],
            role_claim: "groups".into(),
            role_map: [("peer-supporters".to_owned(), "peer_supporter".to_owned())]
                .into_iter()
                .collect(),
            email_claim: "email".into(),
            name_claim: "name".into(),
            client_id: Some(CLIENT_ID.into()),
            client_secret: Some(CLIENT_SECRET.into()),
        });
    })
    .await;

    let first = Browser::open(&node.base, PHONE, "en-US").await;
    first.visit("/requests").await;
    first.check_page("sign-in-sso").await;
    first.press("Sign in with your hospital account").await;
    assert_eq!(first.path().await, "/requests", "{}", first.text().await);
    let page = first.text().await;
    assert!(page.contains("My requests"), "{page}");
    // The provider's group gave the role: the supporter's page is there.
    assert!(page.contains("Peer supporter"), "{page}");
    assert!(
        first
            .cookies()
            .await
            .iter()
            .all(|c| c.name != "alongside-sso"),
        "the sign-on cookie is gone once used"
    );

    // A second device signs in the same way: the same person, not a second account.
    let second = Browser::open(&node.base, PHONE, "en-US").await;
    second.visit("/sign-in").await;
    second.press("Sign in with your hospital account").await;
    assert_eq!(second.path().await, "/");
    assert_eq!(node.count("accounts").await, 1);

    // A forged return (someone else's code, this browser never left) is refused.
    let third = Browser::open(&node.base, PHONE, "en-US").await;
    third
        .visit("/sign-in/sso/callback?code=stolen&state=guessed")
        .await;
    assert!(third.text().await.contains("This form could not be sent"));
    third.visit("/requests").await;
    assert!(third.path().await.starts_with("/sign-in"));
    third.quit().await;

    first.press("Sign out on every device").await;
    assert!(first.path().await.starts_with("/sign-in"));
    second.visit("/requests").await;
    assert!(
        second.path().await.starts_with("/sign-in"),
        "{}",
        second.path().await
    );
    assert!(idp.refusals().is_empty(), "{:?}", idp.refusals());
    first.quit().await;
    second.quit().await;
    idp.stop().await;
}

/// The one-tap acknowledgement page from an alert's text or email: checked like every page; a
/// code that acknowledges nothing says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_acknowledgement_page_is_one_button() {
    let node = alongside_tests::TestNode::spawn().await;
    let phone = crate::harness::Browser::open(&node.base, crate::harness::PHONE, "en-US").await;
    phone.visit("/ack?code=0123456789abcdef01234567").await;
    assert!(phone.text().await.contains("Acknowledge this alert"));
    phone.check_page("acknowledge").await;
    phone.press("I'm on it").await;
    let page = phone.text().await;
    assert!(!page.contains("Thank you"), "{page}");
    phone.check_page("acknowledge-unknown").await;
    phone.quit().await;
}
