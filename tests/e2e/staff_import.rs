//! `alongside admin import-staff`: a roster from a CSV file on a real database — idempotent,
//! every rejected row named with its line, nothing half-applied, a dry run that changes
//! nothing, departures that stop contact, and events waiting for a staff id reaching them.

use alongside_core::access::{Role, Scope};
use alongside_core::staff_import::{ImportReport, Rejected, import};
use alongside_tests::{PASSWORD, TestNode};
use serde_json::json;

async fn run(node: &TestNode, text: &str, dry_run: bool) -> ImportReport {
    let db = node.state.db.clone();
    let text = text.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn = db.get().unwrap();
        import(&mut conn, &text, dry_run)
    })
    .await
    .unwrap()
    .unwrap()
}

const ROSTER: &str = "Staff ID,Name,Email,Phone,Department,Title,Language\n\
N-1,Ana Ortiz,ana.ortiz@hospital.test,,ICU,Registered Nurse,es\n\
HK-2,\"Rosa Martínez, Jr\",,+1 555 010 0199,Environmental Services,Housekeeper,es\n\
R-3,Sam Lee,sam.lee@hospital.test,,Medicine,Resident Physician,\n";

#[tokio::test]
async fn a_roster_file_is_imported_once_whole_or_not_at_all() {
    let node = TestNode::spawn().await;
    let coordinator = node.user(&[Role::Coordinator]).await;
    let people_before = node.count("people").await;

    // An event names the housekeeper before the roster has her.
    let client = node.client_token(&[Scope::EventsWrite]).await;
    let r = node
        .http
        .post(node.url("/api/v1/events"))
        .bearer_auth(&client)
        .json(
            &json!({ "category": "workplace_violence", "month": "2026-11",
                       "involved": [{ "staff_id": "HK-2", "role": "witness" }] }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    let report = run(&node, ROSTER, false).await;
    assert_eq!(
        (
            report.created,
            report.updated,
            report.unchanged,
            report.applied
        ),
        (3, 0, 0, true),
        "{report:?}"
    );
    assert_eq!(node.count("people").await, people_before + 3);
    assert_eq!(
        node.count("pending_involvements").await,
        0,
        "the event reached her"
    );
    assert_eq!(node.count("involvements").await, 1);
    let found = node
        .gql(
            Some(&coordinator.token),
            "query { people(first: 50) { edges { node { staffId displayName email profession department } } } }",
            json!({}),
        )
        .await;
    let rosa = found["people"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .find(|n| n["staffId"] == "HK-2")
        .unwrap()
        .clone();
    assert_eq!(
        rosa,
        json!({ "staffId": "HK-2", "displayName": "Rosa Martínez, Jr", "email": null,
                "profession": "SUPPORT_STAFF", "department": "Environmental Services" })
    );

    // The same file again changes nothing.
    let again = run(&node, ROSTER, false).await;
    assert_eq!(
        (again.created, again.updated, again.unchanged),
        (0, 0, 3),
        "{again:?}"
    );

    // A file with bad rows: every one named, and not even the good rows applied.
    let bad = "staff_id,name,email,profession,active\n\
N-1,Ana Ortiz,ana.ortiz@hospital.test,nurse,true\n\
X-1,Bad Email,not-an-email,nurse,true\n\
X-2,Two,two@hospital.test,astronaut,true\n\
X-3,Short row\n\
N-1,Ana Again,ana2@hospital.test,nurse,true\n\
X-4,Taken,sam.lee@hospital.test,,true\n\
X-5,Maybe,,,perhaps\n\
X-6,Fine,fine@hospital.test,pharmacist,true\n";
    let report = run(&node, bad, false).await;
    let lines: Vec<usize> = report.rejected.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![3, 4, 5, 6, 7, 8], "{:?}", report.rejected);
    assert!(!report.applied);
    let reason =
        |line: usize| -> &Rejected { report.rejected.iter().find(|r| r.line == line).unwrap() };
    assert!(reason(3).reason.starts_with("email:"), "{:?}", reason(3));
    assert!(reason(4).reason.contains("astronaut"), "{:?}", reason(4));
    assert!(reason(5).reason.contains("2 fields"), "{:?}", reason(5));
    assert!(reason(6).reason.contains("line 2"), "{:?}", reason(6));
    assert!(
        reason(7).reason.contains("another person"),
        "{:?}",
        reason(7)
    );
    assert!(reason(8).reason.starts_with("active:"), "{:?}", reason(8));
    assert_eq!(
        node.count("people").await,
        people_before + 3,
        "nothing half-applied"
    );

    // A dry run says what would change and changes nothing.
    let moved = ROSTER.replace(
        "N-1,Ana Ortiz,ana.ortiz@hospital.test,,ICU",
        "N-1,Ana Ortiz,ana.ortiz@hospital.test,,Emergency",
    );
    let dry = run(&node, &moved, true).await;
    assert_eq!(
        (dry.updated, dry.unchanged, dry.applied),
        (1, 2, false),
        "{dry:?}"
    );
    let still = run(&node, ROSTER, false).await;
    assert_eq!(still.unchanged, 3, "the dry run changed nothing");

    // Someone leaves: contact stops and their account no longer signs in.
    node.create_account("leaver@hospital.test", &[Role::PeerSupporter])
        .await;
    let leaving = "staff_id,name,email,active\nL-9,Leaver,leaver@hospital.test,true\n";
    assert_eq!(
        run(&node, leaving, false).await.updated,
        1,
        "taken over by email? no: by staff id, so created"
    );
    let gone = "staff_id,name,email,active\nL-9,Leaver,leaver@hospital.test,false\n";
    let report = run(&node, gone, false).await;
    assert_eq!((report.updated, report.deactivated), (1, 1), "{report:?}");
    let refused = node
        .http
        .post(node.url("/api/v1/auth/login"))
        .json(&json!({ "email": "leaver@hospital.test", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);

    // Files that cannot be read at all say why.
    for (text, says) in [
        ("", "empty"),
        ("name,email\nA,a@b.org\n", "staff_id column"),
        ("staff_id,name,shoe_size\n", "unknown column"),
        ("staff_id,name\n\"S-1,open\n", "not closed"),
    ] {
        let db = node.state.db.clone();
        let text = text.to_owned();
        let err = tokio::task::spawn_blocking(move || import(&mut db.get().unwrap(), &text, false))
            .await
            .unwrap()
            .unwrap_err();
        assert!(err.to_string().contains(says), "{err}");
    }
}
