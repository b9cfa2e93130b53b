//! The two hash chains and where each is stored. Entries about support cases have a chain of
//! their own: in one chain, an entry about a case would sit between the entries that name people
//! outright (a sign-in, an account change), and its place would say who acted on the case, and
//! when, long after the purge erased every other link. Two tables record no interleaving, not
//! even in a rowid.
//!
//! The case chain runs in [`CASE_LANES`] lanes, each a chain with a head of its own. A head
//! stays locked until its writer commits, so with one head every write of the node (and every
//! audited read) queued for it on PostgreSQL; there a writer now takes the first lane no other
//! transaction holds, so writers wait for a lane only when more transactions append at once
//! than there are lanes. Uncontended, every entry goes to lane 1. SQLite has one writer at a
//! time anyway and always writes lane 1. The main chain has one lane.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Array, Nullable, Text, Timestamp};

use crate::db::DbConnection;
use crate::db::fixed::Fixed;
use crate::db::together::{Before, Held, write_held_pg};
use crate::error::CoreError;
use crate::schema::{audit_head, audit_log, case_audit, case_chain, case_chain_head};
use diesel::pg::Pg;
use diesel::query_builder::QueryFragment;

/// Which chain an entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Chain {
    /// Everything not about a support case: sign-ins, accounts, settings, introductions.
    Main,
    /// Entries about support cases, naming the case by an alias and people by pseudonyms.
    Case,
}

/// A lane of a chain: 1 to the chain's [`Chain::lanes`].
pub type Lane = i32;

/// Lanes of the case chain: as many as the default pool has connections, so appenders wait for
/// a lane only when a larger pool is that busy. Changing it needs a migration (the head rows).
pub const CASE_LANES: Lane = 8;

impl Chain {
    pub const ALL: [Chain; 2] = [Chain::Main, Chain::Case];

    /// How many lanes the chain runs in.
    pub fn lanes(self) -> Lane {
        match self {
            Chain::Main => 1,
            Chain::Case => CASE_LANES,
        }
    }

    /// As stored in `case_audit.chain`.
    pub fn as_str(self) -> &'static str {
        match self {
            Chain::Main => "main",
            Chain::Case => "case",
        }
    }

    /// As a person reads it in a report.
    pub fn described(self) -> &'static str {
        match self {
            Chain::Main => "the audit chain",
            Chain::Case => "the chain of case entries",
        }
    }

    fn log_table(self) -> &'static str {
        match self {
            Chain::Main => "audit_log",
            Chain::Case => "case_chain",
        }
    }

    fn head_table(self) -> &'static str {
        match self {
            Chain::Main => "audit_head",
            Chain::Case => "case_chain_head",
        }
    }
}

/// One stored entry: seq, at, actor, action, record type, record id, previous hash, hash.
pub type Entry = (
    i64,
    NaiveDateTime,
    String,
    String,
    String,
    String,
    String,
    String,
);

/// One entry ready to be written.
pub struct Row<'a> {
    pub seq: i64,
    pub at: NaiveDateTime,
    pub actor: &'a str,
    pub action: &'a str,
    pub record_type: &'a str,
    pub record_id: &'a str,
    pub prev_hash: &'a str,
    pub hash: &'a str,
}

/// A case entry's true case id and moment, kept beside the chain (`case_audit`) until the
/// case is purged.
pub struct Aside<'a> {
    pub seq: i64,
    pub request_id: &'a str,
    pub at: NaiveDateTime,
}

/// Rows per INSERT: well under SQLite's bound-parameter limit at 8 columns a row.
pub const ROWS_PER_INSERT: usize = 500;

/// Runs `body` with the chain's tables in scope under the given names.
macro_rules! per_chain {
    ($chain:expr, log $log:ident => $body:expr) => {
        match $chain {
            Chain::Main => {
                use audit_log as $log;
                $body
            }
            Chain::Case => {
                use case_chain as $log;
                $body
            }
        }
    };
    ($chain:expr, head $head:ident => $body:expr) => {
        match $chain {
            Chain::Main => {
                use audit_head as $head;
                $body
            }
            Chain::Case => {
                use case_chain_head as $head;
                $body
            }
        }
    };
    ($chain:expr, log $log:ident, head $head:ident => $body:expr) => {
        match $chain {
            Chain::Main => {
                use audit_head as $head;
                use audit_log as $log;
                $body
            }
            Chain::Case => {
                use case_chain as $log;
                use case_chain_head as $head;
                $body
            }
        }
    };
}

/// A lane's committed head: entries in it and the last one's hash.
pub fn head(conn: &mut DbConnection, chain: Chain, lane: Lane) -> Result<(i64, String), CoreError> {
    per_chain!(chain, head head => Ok(head::table
        .filter(head::id.eq(lane))
        .select((head::seq, head::hash))
        .first(conn)?))
}

/// Every lane's committed head, lane 1 first.
pub fn heads(conn: &mut DbConnection, chain: Chain) -> Result<Vec<(i64, String)>, CoreError> {
    let heads: Vec<(i64, String)> = per_chain!(chain, head head => head::table
        .filter(head::id.between(1, chain.lanes()))
        .order(head::id.asc())
        .select((head::seq, head::hash))
        .load(conn)?);
    if heads.len() != chain.lanes() as usize {
        return Err(CoreError::internal(format!(
            "{} has {} lane heads, not {}",
            chain.described(),
            heads.len(),
            chain.lanes()
        )));
    }
    Ok(heads)
}

/// Reads lane 1's head and holds it until the commit: SQLite's way, where a no-op update takes
/// the write lock first (in process, no round trip), should the transaction not hold it yet.
/// On PostgreSQL a row lock taken with the read (appends there use [`append_on_postgres`],
/// which chooses a lane and locks it itself).
pub fn lock_head(conn: &mut DbConnection, chain: Chain) -> Result<(i64, String), CoreError> {
    per_chain!(chain, head head => {
        let query = head::table
            .filter(head::id.eq(1))
            .select((head::seq, head::hash));
        Ok(match conn {
            DbConnection::Pg(c) => query.for_update().first(c)?,
            DbConnection::Sqlite(c) => {
                diesel::update(head::table.filter(head::id.eq(1)))
                    .set(head::seq.eq(head::seq))
                    .execute(c)?;
                query.first(c)?
            }
        })
    })
}

/// Writes `rows` and what is kept `aside` of them to lane 1, and moves its head to (`seq`,
/// `hash`), under the lock [`lock_head`] took: SQLite's way (PostgreSQL's is
/// [`append_on_postgres`]).
pub fn write(
    conn: &mut DbConnection,
    chain: Chain,
    rows: &[Row<'_>],
    aside: &[Aside<'_>],
    seq: i64,
    hash: &str,
) -> Result<(), CoreError> {
    for chunk in aside.chunks(ROWS_PER_INSERT) {
        let values: Vec<_> = chunk
            .iter()
            .map(|a| {
                (
                    case_audit::chain.eq(chain.as_str()),
                    case_audit::lane.eq(1),
                    case_audit::seq.eq(a.seq),
                    case_audit::request_id.eq(a.request_id),
                    case_audit::at.eq(a.at),
                )
            })
            .collect();
        let insert = diesel::insert_into(case_audit::table).values(values);
        match conn {
            DbConnection::Pg(c) => insert.execute(c)?,
            DbConnection::Sqlite(c) => insert.execute(c)?,
        };
    }
    per_chain!(chain, log log, head head => {
        // Multi-row INSERTs are per backend: the multi-backend connection has no batch insert.
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let values: Vec<_> = chunk
                .iter()
                .map(|r| {
                    (
                        log::lane.eq(1),
                        log::seq.eq(r.seq),
                        log::at.eq(r.at),
                        log::actor.eq(r.actor),
                        log::action.eq(r.action),
                        log::record_type.eq(r.record_type),
                        log::record_id.eq(r.record_id),
                        log::prev_hash.eq(r.prev_hash),
                        log::hash.eq(r.hash),
                    )
                })
                .collect();
            let insert = diesel::insert_into(log::table).values(values);
            match conn {
                DbConnection::Pg(c) => insert.execute(c)?,
                DbConnection::Sqlite(c) => insert.execute(c)?,
            };
        }
        diesel::update(head::table.filter(head::id.eq(1)))
            .set((head::seq.eq(seq), head::hash.eq(hash)))
            .execute(conn)?;
        Ok(())
    })
}

/// An entry before its place in the chain is known.
pub struct Unlinked<'a> {
    pub at: NaiveDateTime,
    /// `at` as the hash covers it (`audit::hashed_time`).
    pub at_text: String,
    pub actor: &'a str,
    pub action: &'a str,
    pub record_type: &'a str,
    pub record_id: &'a str,
    /// For an entry about a case: its true case id, kept aside (`case_audit`) until the purge.
    pub case: Option<&'a str>,
}

/// A lane's lock, its new entries, what is kept aside of them and the new head, in one
/// statement: the head stays locked from its read to the commit, so only this statement and
/// the commit are left under the lock, with no round trip to the node between the read and the
/// write. The lane is the first one no other transaction holds (`SKIP LOCKED`; one this
/// transaction already holds counts as free, so a second append in it takes no other lane
/// while it holds one); only when every lane is held does the writer wait, for one lane picked
/// by its connection. PostgreSQL links the entries itself: each
/// hash is [`super::entry_hash`] written in SQL (sha256 of the same fields joined by `|`, in
/// lowercase hex), and `alongside admin audit verify` checks every one of them in Rust.
/// `true_at` is the moment kept aside for entries about a case.
pub fn append_on_postgres(
    conn: &mut diesel::PgConnection,
    chain: Chain,
    entries: &[Unlinked<'_>],
    named: &[(String, String, String)],
    true_at: NaiveDateTime,
    held: Held,
) -> Result<(), CoreError> {
    if entries.is_empty() {
        return write_held_pg(conn, held);
    }
    let (head, lanes) = (chain.head_table(), chain.lanes());
    let free_lane = format!(
        "SELECT id, seq, hash FROM {head} WHERE id BETWEEN 1 AND {lanes} ORDER BY id LIMIT 1 \
         FOR UPDATE SKIP LOCKED"
    );
    let any_lane = format!(
        "SELECT id, seq, hash FROM {head} WHERE id = 1 + pg_backend_pid() % {lanes} FOR UPDATE"
    );
    // `held` goes with the first statement only: it is written whether or not a lane is found.
    let mut updated = 0;
    let mut held = Some(held);
    if lanes > 1 {
        let first = held.take().unwrap_or_default();
        updated = append_to_lane(conn, chain, entries, named, true_at, &free_lane, &first)?;
    }
    if updated == 0 {
        // One lane, or every lane held by another transaction: wait for one.
        let first = held.take().unwrap_or_default();
        updated = append_to_lane(conn, chain, entries, named, true_at, &any_lane, &first)?;
    }
    if updated != 1 {
        return Err(CoreError::internal(format!(
            "{} has no head row to append to",
            chain.described()
        )));
    }
    Ok(())
}

/// [`append_on_postgres`] with the lane `locking` chooses and locks (id, seq, hash); returns the
/// head rows moved: none when it found no lane, and then it wrote nothing of the chain's, not even
/// `named` (`held`, the transaction's other rows put in front, it writes in any case).
fn append_to_lane(
    conn: &mut diesel::PgConnection,
    chain: Chain,
    entries: &[Unlinked<'_>],
    named: &[(String, String, String)],
    true_at: NaiveDateTime,
    locking: &str,
    held: &[Box<dyn QueryFragment<Pg>>],
) -> Result<usize, CoreError> {
    let (log, head) = (chain.log_table(), chain.head_table());
    // Its `WITH RECURSIVE` list after those words, which `Before` writes, with `held` first.
    let sql = format!(
        "head AS MATERIALIZED ({locking}), \
         e AS (SELECT * FROM unnest($1::timestamp[], $2::text[], $3::text[], $4::text[], \
               $5::text[], $6::text[], $7::text[]) \
               WITH ORDINALITY AS e(at, at_text, actor, action, record_type, record_id, request_id, n)), \
         c(n, seq, prev_hash, hash) AS ( \
             SELECT 0::bigint, seq, ''::text, hash FROM head \
             UNION ALL \
             SELECT e.n, c.seq + 1, c.hash, encode(sha256(convert_to(c.hash || '|' || \
                    (c.seq + 1)::text || '|' || e.at_text || '|' || e.actor || '|' || e.action \
                    || '|' || e.record_type || '|' || e.record_id, 'UTF8')), 'hex') \
             FROM c JOIN e ON e.n = c.n + 1), \
         appended AS (INSERT INTO {log} \
             (lane, seq, at, actor, action, record_type, record_id, prev_hash, hash) \
             SELECT (SELECT id FROM head), c.seq, e.at, e.actor, e.action, e.record_type, e.record_id, c.prev_hash, c.hash \
             FROM c JOIN e ON e.n = c.n), \
         kept AS (INSERT INTO case_audit (chain, lane, seq, request_id, at) \
             SELECT $8, (SELECT id FROM head), c.seq, e.request_id, $9 FROM c JOIN e ON e.n = c.n \
             WHERE e.request_id IS NOT NULL), \
         named AS (INSERT INTO case_pseudonyms (request_id, actor, pseudonym) \
             SELECT * FROM unnest($10::text[], $11::text[], $12::text[]) \
             WHERE EXISTS (SELECT 1 FROM head)) \
         UPDATE {head} SET seq = last.seq, hash = last.hash \
         FROM (SELECT seq, hash FROM c ORDER BY n DESC LIMIT 1) AS last \
         WHERE {head}.id = (SELECT id FROM head)"
    );
    // With `$1` to `$12`, each once and in order. Kept prepared (`Fixed`): `diesel::sql_query`
    // is not, and PostgreSQL planned this recursive statement at every append, longer than it
    // took to run (0.60 against 0.53 ms, `EXPLAIN (ANALYZE, SUMMARY)`). Four texts in all: two
    // chains, two ways of taking a lane.
    let values = (
        entries.iter().map(|e| e.at).collect::<Vec<_>>(),
        entries
            .iter()
            .map(|e| e.at_text.as_str())
            .collect::<Vec<_>>(),
        entries.iter().map(|e| e.actor).collect::<Vec<_>>(),
        entries.iter().map(|e| e.action).collect::<Vec<_>>(),
        entries.iter().map(|e| e.record_type).collect::<Vec<_>>(),
        entries.iter().map(|e| e.record_id).collect::<Vec<_>>(),
        entries.iter().map(|e| e.case).collect::<Vec<_>>(),
        chain.as_str(),
        true_at,
        named.iter().map(|n| n.0.as_str()).collect::<Vec<_>>(),
        named.iter().map(|n| n.1.as_str()).collect::<Vec<_>>(),
        named.iter().map(|n| n.2.as_str()).collect::<Vec<_>>(),
    );
    let rest = Fixed::<
        (),
        (
            Array<Timestamp>,
            Array<Text>,
            Array<Text>,
            Array<Text>,
            Array<Text>,
            Array<Text>,
            Array<Nullable<Text>>,
            Text,
            Timestamp,
            Array<Text>,
            Array<Text>,
            Array<Text>,
        ),
        _,
        _,
    >::new(sql, values);
    Ok(Before { held, rest }.execute(conn)?)
}

/// Up to `limit` entries of a lane from `from` on, in order.
pub fn load(
    conn: &mut DbConnection,
    chain: Chain,
    lane: Lane,
    from: i64,
    limit: i64,
) -> Result<Vec<Entry>, CoreError> {
    per_chain!(chain, log log => {
        Ok(log::table
            .filter(log::lane.eq(lane))
            .filter(log::seq.ge(from))
            .select((
                log::seq,
                log::at,
                log::actor,
                log::action,
                log::record_type,
                log::record_id,
                log::prev_hash,
                log::hash,
            ))
            .order(log::seq.asc())
            .limit(limit)
            .load(conn)?)
    })
}
