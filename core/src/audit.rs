//! The append-only audit log of every read and write of a support record. Each entry carries the
//! hash of the one before it, so editing or deleting an entry breaks the chain from there on, and
//! `alongside admin audit verify` names the first broken entry.
//!
//! Appends take the single `audit_head` row with an UPDATE first, which serialises concurrent
//! appenders on PostgreSQL (a row lock) as SQLite's single writer already does.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use crate::access::Principal;
use crate::db::DbConnection;
use crate::error::CoreError;
use crate::schema::{audit_head, audit_log};
use crate::{secrets, time};

/// Who did it, as the log records it: ids only, never names.
pub fn actor(who: &Principal) -> String {
    match who {
        Principal::Anonymous => "anonymous".into(),
        Principal::User(u) => format!("account:{}", u.account_id),
        Principal::Client(c) => format!("client:{}", c.client_id),
    }
}

fn entry_hash(
    prev: &str,
    seq: i64,
    at: NaiveDateTime,
    actor: &str,
    action: &str,
    kind: &str,
    id: &str,
) -> String {
    secrets::sha256_hex(&format!(
        "{prev}|{seq}|{}|{actor}|{action}|{kind}|{id}",
        at.format("%Y-%m-%dT%H:%M:%S%.6f")
    ))
}

/// Appends one entry; call inside the transaction that does the read or write.
pub fn append(
    conn: &mut DbConnection,
    actor: &str,
    action: &str,
    record_type: &str,
    record_id: Uuid,
) -> Result<(), CoreError> {
    // Lock the head first (a no-op update), then read it.
    diesel::update(audit_head::table.filter(audit_head::id.eq(1)))
        .set(audit_head::seq.eq(audit_head::seq))
        .execute(conn)?;
    let (seq, prev): (i64, String) = audit_head::table
        .filter(audit_head::id.eq(1))
        .select((audit_head::seq, audit_head::hash))
        .first(conn)?;
    let seq = seq + 1;
    let at = time::now();
    let id = record_id.to_string();
    let hash = entry_hash(&prev, seq, at, actor, action, record_type, &id);
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::seq.eq(seq),
            audit_log::at.eq(at),
            audit_log::actor.eq(actor),
            audit_log::action.eq(action),
            audit_log::record_type.eq(record_type),
            audit_log::record_id.eq(&id),
            audit_log::prev_hash.eq(&prev),
            audit_log::hash.eq(&hash),
        ))
        .execute(conn)?;
    diesel::update(audit_head::table.filter(audit_head::id.eq(1)))
        .set((audit_head::seq.eq(seq), audit_head::hash.eq(&hash)))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub entries: i64,
    /// The sequence number of the first entry that does not fit the chain, and why.
    pub first_broken: Option<(i64, String)>,
}

type Entry = (
    i64,
    NaiveDateTime,
    String,
    String,
    String,
    String,
    String,
    String,
);

/// Walks the whole chain in order, in batches.
pub fn verify(conn: &mut DbConnection) -> Result<VerifyReport, CoreError> {
    const BATCH: i64 = 5_000;
    let mut prev = "0".repeat(64);
    let mut expected_seq = 1i64;
    let mut count = 0i64;
    loop {
        let batch: Vec<Entry> = audit_log::table
            .filter(audit_log::seq.ge(expected_seq))
            .order(audit_log::seq.asc())
            .limit(BATCH)
            .load(conn)?;
        if batch.is_empty() {
            break;
        }
        for (seq, at, actor, action, kind, id, prev_hash, hash) in batch {
            if seq != expected_seq {
                return Ok(broken(
                    count,
                    expected_seq,
                    format!("entry {expected_seq} is missing"),
                ));
            }
            if prev_hash != prev {
                return Ok(broken(
                    count,
                    seq,
                    "it does not point at the entry before it".into(),
                ));
            }
            if entry_hash(&prev_hash, seq, at, &actor, &action, &kind, &id) != hash {
                return Ok(broken(
                    count,
                    seq,
                    "its contents do not match its hash".into(),
                ));
            }
            prev = hash;
            expected_seq += 1;
            count += 1;
        }
    }
    let (head_seq, head_hash): (i64, String) = audit_head::table
        .filter(audit_head::id.eq(1))
        .select((audit_head::seq, audit_head::hash))
        .first(conn)?;
    if head_seq != count || head_hash != prev {
        return Ok(broken(
            count,
            count + 1,
            "entries after it were removed".into(),
        ));
    }
    Ok(VerifyReport {
        entries: count,
        first_broken: None,
    })
}

fn broken(entries: i64, seq: i64, why: String) -> VerifyReport {
    VerifyReport {
        entries,
        first_broken: Some((seq, why)),
    }
}
