//! The two audit chains as written by either backend: PostgreSQL links entries in SQL, SQLite in
//! Rust, and `audit::verify` (Rust) must agree with both, for several entries in one
//! transaction, both chains at once, concurrent writers and a purge.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use alongside_core::access::{Principal, Role, UserPrincipal};
use alongside_core::audit::{self, Chain};
use alongside_core::db::testing::TestDatabase;
use alongside_core::db::{self, Db, DbSettings};
use alongside_core::schema::{audit_log, case_audit, case_chain, case_pseudonyms};
use diesel::prelude::*;
use uuid::Uuid;

async fn node() -> (tempfile::TempDir, TestDatabase, Db) {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create(dir.path()).unwrap();
    let db = Db::connect(&DbSettings::new(database.url.clone())).unwrap();
    db::run_migrations(&mut db.get().unwrap()).unwrap();
    (dir, database, db)
}

async fn count(db: &Db, what: &'static str) -> i64 {
    db.run(move |conn| {
        Ok(match what {
            "main" => audit_log::table.count().get_result(conn)?,
            "case" => case_chain::table.count().get_result(conn)?,
            "aside" => case_audit::table.count().get_result(conn)?,
            _ => case_pseudonyms::table.count().get_result(conn)?,
        })
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn entries_written_together_link_verify_and_a_purge_unties_its_case() {
    let (_dir, _database, db) = node().await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let reader = format!("account:{}", Uuid::new_v4());
    // Both chains in one transaction, several entries each, one case twice.
    db.transaction(move |conn| {
        audit::append_many(conn, &reader, "view", "support_request", &[a, b, a])?;
        audit::append(conn, "operator", "update", "settings", Uuid::new_v4())?;
        audit::append(conn, &reader, "sign_in", "account", Uuid::new_v4())
    })
    .await
    .unwrap();
    assert_eq!(count(&db, "main").await, 2);
    assert_eq!(count(&db, "case").await, 3);
    assert_eq!(count(&db, "aside").await, 3);
    // Each case has an alias and a pseudonym for its reader.
    assert_eq!(count(&db, "pseudonyms").await, 4);

    // Eight writers at once on the same case chain: each waits for the head, none is lost.
    let mut writers = Vec::new();
    for _ in 0..8 {
        let db = db.clone();
        writers.push(tokio::spawn(async move {
            db.transaction(move |conn| {
                audit::append_many(conn, "operator", "update", "support_request", &[b, b])
            })
            .await
        }));
    }
    for w in writers {
        w.await.unwrap().unwrap();
    }
    db.transaction(move |conn| audit::append(conn, "operator", audit::PURGE, "support_request", a))
        .await
        .unwrap();

    let report = db.run(audit::verify).await.unwrap();
    assert_eq!(report.broken(), None, "{report:?}");
    assert_eq!(report.of(Chain::Main).entries, 2);
    assert_eq!(report.of(Chain::Case).entries, 3 + 16 + 1);
    // What tied entries to case `a` is gone; case `b`'s is kept.
    let a_text = a.to_string();
    let left: i64 = db
        .run(move |conn| {
            Ok(case_audit::table
                .filter(case_audit::request_id.eq(&a_text))
                .count()
                .get_result(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(left, 0);
    assert_eq!(count(&db, "aside").await, 1 + 16);
    // The chain's entries name cases by their alias only.
    let ids: Vec<String> = db
        .run(|conn| Ok(case_chain::table.select(case_chain::record_id).load(conn)?))
        .await
        .unwrap();
    assert!(
        ids.iter()
            .all(|id| id.starts_with("case:") && *id != a.to_string() && *id != b.to_string()),
        "{ids:?}"
    );
}

/// PostgreSQL: a writer takes the first lane of the case chain that no other open transaction
/// holds, instead of waiting for it; a transaction that holds a lane keeps appending to it. The
/// lanes verify one by one, their heads are witnessed, and a break names its lane. SQLite has
/// one writer at a time and writes lane 1 only.
#[tokio::test]
async fn a_writer_takes_a_free_lane_and_every_lane_verifies_and_is_witnessed() {
    use alongside_core::audit::witness;
    use alongside_core::db::DbConnection;
    let (dir, _database, db) = node().await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let mut holder = db.get().unwrap();
    let postgres = matches!(&mut **holder, DbConnection::Pg(_));
    if postgres {
        let mut other = db.get().unwrap();
        // Waiting for the held lane would fail here rather than hang the test.
        diesel::sql_query("SET statement_timeout = 5000")
            .execute(&mut **other)
            .unwrap();
        (**holder)
            .transaction::<_, alongside_core::error::CoreError, _>(|conn| {
                audit::append(conn, "operator", "update", "support_request", a)?;
                audit::append(&mut other, "operator", "update", "support_request", b)?;
                audit::append(conn, "operator", "read", "support_request", a)
            })
            .unwrap();
    } else {
        for (action, case) in [("update", a), ("update", b), ("read", a)] {
            audit::append(&mut holder, "operator", action, "support_request", case).unwrap();
        }
    }
    drop(holder);
    let lanes: Vec<(i32, i64, String)> = db
        .run(|conn| {
            Ok(case_chain::table
                .order((case_chain::lane, case_chain::seq))
                .select((case_chain::lane, case_chain::seq, case_chain::action))
                .load(conn)?)
        })
        .await
        .unwrap();
    let expected: Vec<(i32, i64, &str)> = if postgres {
        vec![(1, 1, "update"), (1, 2, "read"), (2, 1, "update")]
    } else {
        vec![(1, 1, "update"), (1, 2, "update"), (1, 3, "read")]
    };
    let lanes: Vec<(i32, i64, &str)> = lanes.iter().map(|(l, s, a)| (*l, *s, a.as_str())).collect();
    assert_eq!(lanes, expected);
    // What is kept aside points at the lane too.
    let aside: Vec<(i32, i64)> = db
        .run(move |conn| {
            Ok(case_audit::table
                .filter(case_audit::request_id.eq(b.to_string()))
                .select((case_audit::lane, case_audit::seq))
                .load(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(aside, [if postgres { (2, 1) } else { (1, 2) }]);

    // Witnessed: lane 1 as always, and every other lane with entries.
    let key = alongside_core::tokens::NodeKey::generate().unwrap();
    let file = dir.path().join("heads.jwt");
    let now = alongside_core::time::now();
    let mut conn = db.get().unwrap();
    let held = witness::witness(&mut conn, &key, &file, None, now).unwrap();
    assert_eq!(held.heads.case.len(), 8);
    assert_eq!(held.heads.case_entries(), 3);
    let keys = [(key.kid().to_owned(), key.public_key_bytes())];
    let heads = witness::read(&file, &keys).unwrap();
    let case_heads: Vec<(i32, i64)> = heads
        .iter()
        .filter(|h| h.chain == Chain::Case)
        .map(|h| (h.lane, h.seq))
        .collect();
    assert_eq!(
        case_heads,
        if postgres {
            vec![(2, 1), (1, 2)]
        } else {
            vec![(1, 3)]
        }
    );
    let report = audit::verify_against(&mut conn, &heads).unwrap();
    assert_eq!(report.broken(), None, "{report:?}");
    assert_eq!(report.of(Chain::Case).entries, 3);

    // An edit in the last lane written shows, named by its lane.
    let last_lane = if postgres { 2 } else { 1 };
    diesel::update(
        case_chain::table
            .filter(case_chain::lane.eq(last_lane))
            .filter(case_chain::seq.eq(1)),
    )
    .set(case_chain::actor.eq("operator:someone-else"))
    .execute(&mut **conn)
    .unwrap();
    let (_, seq, why) = audit::verify(&mut conn).unwrap().broken().unwrap();
    assert_eq!(seq, 1);
    assert!(
        why.contains(&format!("in lane {last_lane}, its contents do not match")),
        "{why}"
    );
    drop(conn);

    // An admin reads a lane, newest first; no lane, or one the chain does not have, reads lane 1,
    // and the answer says which lane it read.
    let admin = Principal::User(UserPrincipal {
        account_id: Uuid::nil(),
        person_id: Uuid::nil(),
        roles: [Role::Admin].into_iter().collect(),
    });
    let read = |lane| audit::recent(&db, &admin, Chain::Case, lane, None, 50);
    let lane_one: Vec<&str> = if postgres {
        vec!["read", "update"]
    } else {
        vec!["read", "update", "update"]
    };
    for asked in [None, Some(1), Some(0), Some(9)] {
        let page = read(asked).await.unwrap();
        assert_eq!(page.lane, 1, "{asked:?}");
        let actions: Vec<&str> = page.entries.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, lane_one, "{asked:?}");
    }
    let two = read(Some(2)).await.unwrap();
    assert_eq!(two.lane, 2);
    assert_eq!(two.entries.len(), if postgres { 1 } else { 0 });
    let main = audit::recent(&db, &admin, Chain::Main, Some(2), None, 50)
        .await
        .unwrap();
    assert_eq!(main.lane, 1);
    let member = Principal::User(UserPrincipal {
        account_id: Uuid::nil(),
        person_id: Uuid::nil(),
        roles: [Role::Member].into_iter().collect(),
    });
    assert!(
        audit::recent(&db, &member, Chain::Case, Some(2), None, 50)
            .await
            .is_err()
    );
}
