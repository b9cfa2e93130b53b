//! The two audit chains as written by either backend: PostgreSQL links entries in SQL, SQLite in
//! Rust, and `audit::verify` (Rust) must agree with both, for several entries in one
//! transaction, both chains at once, concurrent writers and a purge.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

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
