//! SCIM 2.0 provisioning against a real node, with the RFCs' own examples: discovery, create,
//! filter, paging, PATCH and PUT, deactivation and DELETE keeping history; then the roster at
//! work — a housekeeper with no email, provisioned by the identity system, named by staff id in
//! an event and reached by text.

use alongside_core::access::{Role, Scope};
use alongside_tests::text_gateway::TextGateway;
use alongside_tests::{PASSWORD, TestNode, gid};
use reqwest::Method;
use serde_json::{Value, json};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

struct Scim<'a> {
    node: &'a TestNode,
    token: String,
}

impl Scim<'_> {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut r = self
            .node
            .http
            .request(method, self.node.url(&format!("/scim/v2{path}")))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            r = r
                .header("content-type", "application/scim+json")
                .body(b.to_string());
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        if status != 204 {
            assert_eq!(
                r.headers()["content-type"],
                "application/scim+json",
                "{path}"
            );
        }
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// RFC 7643 §8.2's full user, with the enterprise extension of §8.3 (less what the node drops).
fn babs() -> Value {
    json!({
        "schemas": [USER, ENTERPRISE],
        "externalId": "701984",
        "userName": "bjensen@example.com",
        "name": {
            "formatted": "Ms. Barbara J Jensen, III",
            "familyName": "Jensen",
            "givenName": "Barbara",
            "middleName": "Jane",
            "honorificPrefix": "Ms.",
            "honorificSuffix": "III"
        },
        "displayName": "Babs Jensen",
        "nickName": "Babs",
        "profileUrl": "https://login.example.com/bjensen",
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "addresses": [{"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood"}],
        "phoneNumbers": [
            {"value": "555-555-5555", "type": "work"},
            {"value": "+1 555 555 4444", "type": "mobile"}
        ],
        "userType": "Employee",
        "title": "Tour Guide",
        "preferredLanguage": "en-US",
        "locale": "en-US",
        "timezone": "America/Los_Angeles",
        "active": true,
        "password": "t1meMa$heen",
        ENTERPRISE: {
            "employeeNumber": "701984",
            "costCenter": "4130",
            "organization": "Universal Studios",
            "division": "Theme Park",
            "department": "Tour Operations",
            "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}
        }
    })
}

const PERSON: &str = "query($id: ID!) { person(id: $id) { displayName email staffId department profession active } }";

#[tokio::test]
async fn an_identity_system_keeps_the_roster_with_the_rfc_examples() {
    let node = TestNode::spawn().await;
    let scim = Scim {
        node: &node,
        token: node.client_token(&[Scope::Scim]).await,
    };
    let coordinator = node.user(&[Role::Coordinator]).await;

    // Discovery.
    let (status, spc) = scim.call(Method::GET, "/ServiceProviderConfig", None).await;
    assert_eq!(status, 200);
    assert_eq!(spc["patch"]["supported"], true);
    assert_eq!(spc["bulk"]["supported"], false);
    let (_, schemas) = scim.call(Method::GET, "/Schemas", None).await;
    assert_eq!(schemas["totalResults"], 2);
    let user_schema = &schemas["Resources"][0];
    let names: Vec<&str> = user_schema["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"userName") && !names.contains(&"addresses"),
        "{names:?}"
    );
    let (status, _) = scim
        .call(Method::GET, &format!("/Schemas/{ENTERPRISE}"), None)
        .await;
    assert_eq!(status, 200);
    let (_, types) = scim.call(Method::GET, "/ResourceTypes", None).await;
    assert_eq!(types["Resources"][0]["endpoint"], "/Users");

    // Who may: a client with the scope; not one without, nor nobody.
    let events_client = Scim {
        node: &node,
        token: node.client_token(&[Scope::EventsWrite]).await,
    };
    let (status, e) = events_client.call(Method::GET, "/Users", None).await;
    assert_eq!(status, 403, "{e}");
    assert_eq!(
        e["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    let nobody = Scim {
        node: &node,
        token: String::new(),
    };
    let (status, _) = nobody
        .call(Method::GET, "/ServiceProviderConfig", None)
        .await;
    assert_eq!(status, 401);

    // Create: only what the node keeps comes back.
    let (status, created) = scim.call(Method::POST, "/Users", Some(babs())).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["schemas"], json!([USER, ENTERPRISE]));
    assert_eq!(created["meta"]["resourceType"], "User");
    assert!(
        created["meta"]["location"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/scim/v2/Users/{id}"))
    );
    for dropped in [
        "addresses",
        "password",
        "nickName",
        "profileUrl",
        "timezone",
    ] {
        assert!(created.get(dropped).is_none(), "{dropped} kept: {created}");
    }
    assert!(created[ENTERPRISE].get("manager").is_none());
    assert_eq!(created[ENTERPRISE]["employeeNumber"], "701984");
    let person = node
        .gql(
            Some(&coordinator.token),
            PERSON,
            json!({ "id": gid("Person", &id) }),
        )
        .await;
    assert_eq!(
        person["person"],
        json!({ "displayName": "Babs Jensen", "email": "bjensen@example.com", "staffId": "701984",
                "department": "Tour Operations", "profession": "OTHER", "active": true })
    );
    let stored = node.count("scim_users").await;
    assert_eq!(stored, 1);

    // userName is unique whatever its case.
    let mut again = babs();
    again["userName"] = json!("BJensen@Example.com");
    let (status, e) = scim.call(Method::POST, "/Users", Some(again)).await;
    assert_eq!(
        (status, e["scimType"].as_str()),
        (409, Some("uniqueness")),
        "{e}"
    );

    // Filter as Entra ID and Okta do before creating.
    let (status, found) = scim
        .call(
            Method::GET,
            "/Users?filter=userName%20eq%20%22BJENSEN%40example.com%22",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            found["totalResults"].as_i64(),
            found["Resources"][0]["id"].as_str()
        ),
        (Some(1), Some(id.as_str()))
    );
    let (_, none) = scim
        .call(
            Method::GET,
            "/Users?filter=userName%20eq%20%22nobody%22",
            None,
        )
        .await;
    assert_eq!(none["totalResults"], 0);
    let (status, e) = scim
        .call(Method::GET, "/Users?filter=title%20sw%20%22T%22", None)
        .await;
    assert_eq!(
        (status, e["scimType"].as_str()),
        (400, Some("invalidFilter")),
        "{e}"
    );
    let (_, only) = scim
        .call(
            Method::GET,
            &format!("/Users/{id}?attributes=userName,name.familyName"),
            None,
        )
        .await;
    assert_eq!(
        only,
        json!({ "id": id, "schemas": [USER, ENTERPRISE], "userName": "bjensen@example.com", "name": {"familyName": "Jensen"} })
    );

    // PATCH, RFC 7644 §3.5.2's shapes.
    let (status, patched) = scim
        .call(
            Method::PATCH,
            &format!("/Users/{id}"),
            Some(json!({ "schemas": [PATCH], "Operations": [
                { "op": "add", "path": "emails", "value": [{"value": "babs@example.com", "type": "other"}] },
                { "op": "replace", "path": "emails[type eq \"work\"].value", "value": "barbara.jensen@example.com" },
                { "op": "remove", "path": "phoneNumbers[type eq \"work\"]" },
                { "op": "replace", "value": { "displayName": "Barbara Jensen", "title": "Registered Nurse" } },
                { "op": "replace", "path": format!("{ENTERPRISE}:department"), "value": "Emergency" }
            ]})),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["emails"].as_array().unwrap().len(), 3);
    assert_eq!(
        patched["phoneNumbers"],
        json!([{"value": "+1 555 555 4444", "type": "mobile"}])
    );
    let person = node
        .gql(
            Some(&coordinator.token),
            PERSON,
            json!({ "id": gid("Person", &id) }),
        )
        .await;
    assert_eq!(
        person["person"],
        json!({ "displayName": "Barbara Jensen", "email": "barbara.jensen@example.com", "staffId": "701984",
                "department": "Emergency", "profession": "NURSE", "active": true })
    );
    let (status, e) = scim
        .call(
            Method::PATCH,
            &format!("/Users/{id}"),
            Some(json!({ "schemas": [PATCH], "Operations": [{ "op": "remove" }] })),
        )
        .await;
    assert_eq!((status, e["scimType"].as_str()), (400, Some("noTarget")));
    let (status, e) = scim
        .call(Method::PATCH, &format!("/Users/{id}"), Some(json!({ "schemas": [PATCH], "Operations": [{ "op": "remove", "path": "userName" }] })))
        .await;
    assert_eq!(
        (status, e["scimType"].as_str()),
        (400, Some("invalidValue")),
        "userName is required: {e}"
    );

    // PUT replaces: what the body leaves out is gone.
    let (status, replaced) = scim
        .call(
            Method::PUT,
            &format!("/Users/{id}"),
            Some(json!({ "schemas": [USER], "userName": "bjensen@example.com", "displayName": "B. Jensen",
                         "emails": [{"value": "bjensen@example.com", "type": "work"}] })),
        )
        .await;
    assert_eq!(status, 200, "{replaced}");
    assert!(replaced.get(ENTERPRISE).is_none() && replaced.get("phoneNumbers").is_none());
    assert_eq!(replaced["meta"]["version"], "W/\"3\"");

    // Paging.
    for n in 0..3 {
        let (status, _) = scim
            .call(
                Method::POST,
                "/Users",
                Some(json!({ "schemas": [USER], "userName": format!("staff{n}@example.com") })),
            )
            .await;
        assert_eq!(status, 201);
    }
    let (_, page) = scim
        .call(Method::GET, "/Users?startIndex=2&count=2", None)
        .await;
    assert_eq!(
        (
            page["totalResults"].as_i64(),
            page["startIndex"].as_i64(),
            page["itemsPerPage"].as_i64()
        ),
        (Some(4), Some(2), Some(2))
    );
    assert_eq!(page["Resources"][0]["userName"], "staff0@example.com");

    // Someone a coordinator added before SCIM was turned on is taken over, not duplicated; when
    // they leave, their account stops working and their history stays.
    let (_, nurse_person) = node
        .create_account("nurse.ortiz@example.com", &[Role::PeerSupporter])
        .await;
    let (status, ortiz) = scim
        .call(
            Method::POST,
            "/Users",
            Some(json!({ "schemas": [USER], "userName": "nortiz", "emails": [{"value": "Nurse.Ortiz@example.com", "type": "work"}] })),
        )
        .await;
    assert_eq!(status, 201, "{ortiz}");
    assert_eq!(ortiz["id"], nurse_person.as_str());
    node.login("nurse.ortiz@example.com", PASSWORD).await;
    let (status, _) = scim
        .call(
            Method::PATCH,
            &format!("/Users/{nurse_person}"),
            Some(json!({ "schemas": [PATCH], "Operations": [{ "op": "replace", "value": { "active": false } }] })),
        )
        .await;
    assert_eq!(status, 200);
    let refused = node
        .http
        .post(node.url("/api/v1/auth/login"))
        .json(&json!({ "email": "nurse.ortiz@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403, "a deactivated person cannot sign in");
    let (_, inactive) = scim
        .call(Method::GET, "/Users?filter=active%20eq%20false", None)
        .await;
    assert_eq!(inactive["totalResults"], 1);

    // DELETE: gone from SCIM, the person kept and inactive.
    let (status, _) = scim
        .call(Method::DELETE, &format!("/Users/{id}"), None)
        .await;
    assert_eq!(status, 204);
    let (status, e) = scim.call(Method::GET, &format!("/Users/{id}"), None).await;
    assert_eq!((status, e["status"].as_str()), (404, Some("404")));
    let person = node
        .gql(
            Some(&coordinator.token),
            PERSON,
            json!({ "id": gid("Person", &id) }),
        )
        .await;
    assert_eq!(person["person"]["active"], false);

    // Bad requests change nothing and say why.
    let before = node.count("scim_users").await;
    let (status, e) = scim
        .call(
            Method::POST,
            "/Users",
            Some(json!({ "schemas": [USER], "displayName": "No name" })),
        )
        .await;
    assert_eq!(
        (status, e["scimType"].as_str()),
        (400, Some("invalidValue")),
        "{e}"
    );
    let (status, e) = scim
        .call(
            Method::POST,
            "/Users",
            Some(json!({ "userName": "x", "active": "maybe" })),
        )
        .await;
    assert_eq!(
        (status, e["scimType"].as_str()),
        (400, Some("invalidValue")),
        "{e}"
    );
    let (status, e) = scim
        .call(
            Method::POST,
            "/Users",
            Some(json!({ "userName": "x", "emails": [{"value": "not an email"}] })),
        )
        .await;
    assert_eq!(
        (status, e["scimType"].as_str()),
        (400, Some("invalidValue")),
        "{e}"
    );
    let (status, e) = scim
        .call(Method::POST, "/Users", Some(json!(["not", "an", "object"])))
        .await;
    assert_eq!(
        (status, e["scimType"].as_str()),
        (400, Some("invalidSyntax")),
        "{e}"
    );
    assert_eq!(node.count("scim_users").await, before);
    let (status, e) = scim.call(Method::GET, "/Groups", None).await;
    assert_eq!((status, e["status"].as_str()), (404, Some("404")));
    let (status, _) = scim.call(Method::GET, "/Users/not-an-id", None).await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_housekeeper_with_no_email_named_in_an_event_is_reached_by_text() {
    let port = alongside_tests::smtp::free_port();
    let node = TestNode::spawn_with(|c| {
        alongside_tests::text_gateway::point_at(c, port);
        c.outbox.poll_interval_ms = 50;
    })
    .await;
    let gateway = TextGateway::serve(port, vec![]).await;
    let scim = Scim {
        node: &node,
        token: node.client_token(&[Scope::Scim]).await,
    };
    let (status, created) = scim
        .call(
            Method::POST,
            "/Users",
            Some(json!({
                "schemas": [USER, ENTERPRISE],
                "userName": "rosa.m",
                "name": {"givenName": "Rosa", "familyName": "Martínez"},
                "title": "Environmental Services Housekeeper",
                "preferredLanguage": "es-US",
                "phoneNumbers": [{"value": "+1 555 010 0188", "type": "mobile"}],
                ENTERPRISE: {"employeeNumber": "HK-1042", "department": "Environmental Services"}
            })),
        )
        .await;
    assert_eq!(status, 201, "{created}");

    let client = node.client_token(&[Scope::EventsWrite]).await;
    let r = node
        .http
        .post(node.url("/api/v1/events"))
        .bearer_auth(&client)
        .json(
            &json!({ "category": "unexpected_death_or_decline", "month": "2026-11",
                       "involved": [{ "staff_id": "HK-1042", "role": "peripheral" }] }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    node.start_worker();
    node.wait_for("the outreach text", || async {
        !gateway.phone().is_empty()
    })
    .await;
    let text = &gateway.phone()[0];
    assert_eq!(text.to, "+15550100188");
    assert!(
        text.body.contains("apoyo entre colegas")
            && text.body.contains(&format!("{}/requests", node.base)),
        "Spanish, with the link: {}",
        text.body
    );
    assert!(text.body.chars().count() <= 160, "one SMS: {}", text.body);
    assert!(!text.body.contains("Rosa"), "no name: {}", text.body);
    assert_eq!(
        node.count("outbox").await,
        1,
        "a text and nothing else: no address to email"
    );
}

#[tokio::test]
async fn a_staff_id_the_roster_does_not_have_yet_waits_and_is_reached_when_it_comes() {
    let node = TestNode::spawn().await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let scim = Scim {
        node: &node,
        token: node.client_token(&[Scope::Scim]).await,
    };
    let client = node.client_token(&[Scope::EventsWrite]).await;
    let post = |body: Value| {
        let r = node
            .http
            .post(node.url("/api/v1/events"))
            .bearer_auth(&client)
            .json(&body);
        async move {
            let r = r.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, created) = post(json!({ "category": "harm_event", "month": "2026-11",
        "involved": [{ "email": coordinator.email, "role": "team" }, { "staff_id": "AG-77", "role": "direct" }] }))
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["outreach"], 1);
    assert_eq!(created["pending_staff_ids"], json!(["AG-77"]));
    // The same unknown id twice, or an unknown email, is still refused.
    let (status, e) = post(json!({ "category": "harm_event", "month": "2026-11",
        "involved": [{ "staff_id": "AG-78", "role": "direct" }, { "staff_id": "AG-78", "role": "team" }] }))
    .await;
    assert_eq!(
        (status, e["field"].as_str()),
        (400, Some("involved[1]")),
        "{e}"
    );
    let (status, e) = post(json!({ "category": "harm_event", "month": "2026-11",
        "involved": [{ "email": "nobody@hospital.test", "role": "direct" }] }))
    .await;
    assert_eq!(
        (status, e["field"].as_str()),
        (400, Some("involved[0]")),
        "{e}"
    );

    let event = gid("Event", created["id"].as_str().unwrap());
    let q = "query($id: ID!) { event(id: $id) { pendingInvolvements { staffId role } involvements { role } outreach { state } } }";
    let before = node
        .gql(Some(&coordinator.token), q, json!({ "id": event }))
        .await;
    assert_eq!(
        before["event"]["pendingInvolvements"],
        json!([{ "staffId": "AG-77", "role": "DIRECT" }])
    );

    // The agency nurse arrives through SCIM: involved, and reached out to.
    let outbox_before = node.count("outbox").await;
    let (status, _) = scim
        .call(
            Method::POST,
            "/Users",
            Some(
                json!({ "schemas": [USER, ENTERPRISE], "userName": "agency.nurse",
                "emails": [{"value": "agency.nurse@hospital.test", "type": "work"}],
                ENTERPRISE: {"employeeNumber": "AG-77"} }),
            ),
        )
        .await;
    assert_eq!(status, 201);
    let after = node
        .gql(Some(&coordinator.token), q, json!({ "id": event }))
        .await;
    assert_eq!(after["event"]["pendingInvolvements"], json!([]));
    assert_eq!(after["event"]["involvements"].as_array().unwrap().len(), 2);
    assert_eq!(after["event"]["outreach"].as_array().unwrap().len(), 2);
    assert_eq!(
        node.count("outbox").await,
        outbox_before + 1,
        "one outreach email to the newcomer"
    );
    assert_eq!(node.count("pending_involvements").await, 0);
}
