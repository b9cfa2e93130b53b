//! The two hash chains and where each is stored. Entries about support cases have a chain of
//! their own: in one chain, an entry about a case would sit between the entries that name people
//! outright (a sign-in, an account change), and its place would say who acted on the case, and
//! when, long after the purge erased every other link. Two tables record no interleaving, not
//! even in a rowid.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::CoreError;
use crate::schema::{audit_head, audit_log, case_audit, case_chain, case_chain_head};

/// Which chain an entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Chain {
    /// Everything not about a support case: sign-ins, accounts, settings, introductions.
    Main,
    /// Entries about support cases, naming the case by an alias and people by pseudonyms.
    Case,
}

impl Chain {
    pub const ALL: [Chain; 2] = [Chain::Main, Chain::Case];

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

/// The chain's committed head: entries in it and the last one's hash.
pub fn head(conn: &mut DbConnection, chain: Chain) -> Result<(i64, String), CoreError> {
    per_chain!(chain, head head => Ok(head::table
        .filter(head::id.eq(1))
        .select((head::seq, head::hash))
        .first(conn)?))
}

/// Reads the head and holds it until the commit: every appender to this chain waits for it.
/// On PostgreSQL a row lock taken with the read; on SQLite a no-op update takes the write lock
/// first (in process, no round trip), should the transaction not hold it yet.
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

/// Writes `rows` and what is kept `aside` of them, and moves the head to (`seq`, `hash`).
pub fn write(
    conn: &mut DbConnection,
    chain: Chain,
    rows: &[Row<'_>],
    aside: &[Aside<'_>],
    seq: i64,
    hash: &str,
) -> Result<(), CoreError> {
    if let DbConnection::Pg(c) = conn
        && rows.len() <= ROWS_PER_INSERT
        && aside.len() <= ROWS_PER_INSERT
    {
        return write_on_postgres(c, chain, rows, aside, seq, hash);
    }
    for chunk in aside.chunks(ROWS_PER_INSERT) {
        let values: Vec<_> = chunk
            .iter()
            .map(|a| {
                (
                    case_audit::chain.eq(chain.as_str()),
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

/// The rows, what is kept aside of them and the new head in one statement: the head stays
/// locked from its read to the commit, and every write of the node waits for it, so a round
/// trip saved in between is taken off every writer's wait.
fn write_on_postgres(
    conn: &mut diesel::PgConnection,
    chain: Chain,
    rows: &[Row<'_>],
    aside: &[Aside<'_>],
    seq: i64,
    hash: &str,
) -> Result<(), CoreError> {
    use diesel::pg::Pg;
    use diesel::sql_types::{BigInt, Text, Timestamp};
    use std::fmt::Write as _;
    let mut sql = format!(
        "WITH appended AS (INSERT INTO {} \
         (seq, at, actor, action, record_type, record_id, prev_hash, hash) VALUES ",
        chain.log_table()
    );
    for i in 0..rows.len() {
        let b = i * 8;
        let sep = if i == 0 { "" } else { ", " };
        let _ = write!(
            sql,
            "{sep}(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
            b + 1,
            b + 2,
            b + 3,
            b + 4,
            b + 5,
            b + 6,
            b + 7,
            b + 8
        );
    }
    let mut n = rows.len() * 8;
    if !aside.is_empty() {
        sql.push_str("), kept AS (INSERT INTO case_audit (chain, seq, request_id, at) VALUES ");
        for i in 0..aside.len() {
            let b = n + i * 4;
            let sep = if i == 0 { "" } else { ", " };
            let _ = write!(sql, "{sep}(${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4);
        }
        n += aside.len() * 4;
    }
    let _ = write!(
        sql,
        ") UPDATE {} SET seq = ${}, hash = ${} WHERE id = 1",
        chain.head_table(),
        n + 1,
        n + 2
    );
    let mut query = diesel::sql_query(sql).into_boxed::<Pg>();
    for r in rows {
        query = query
            .bind::<BigInt, _>(r.seq)
            .bind::<Timestamp, _>(r.at)
            .bind::<Text, _>(r.actor)
            .bind::<Text, _>(r.action)
            .bind::<Text, _>(r.record_type)
            .bind::<Text, _>(r.record_id)
            .bind::<Text, _>(r.prev_hash)
            .bind::<Text, _>(r.hash);
    }
    for a in aside {
        query = query
            .bind::<Text, _>(chain.as_str())
            .bind::<BigInt, _>(a.seq)
            .bind::<Text, _>(a.request_id)
            .bind::<Timestamp, _>(a.at);
    }
    query
        .bind::<BigInt, _>(seq)
        .bind::<Text, _>(hash)
        .execute(conn)?;
    Ok(())
}

/// Up to `limit` entries from `from` on, in order.
pub fn load(
    conn: &mut DbConnection,
    chain: Chain,
    from: i64,
    limit: i64,
) -> Result<Vec<Entry>, CoreError> {
    per_chain!(chain, log log => {
        Ok(log::table
            .filter(log::seq.ge(from))
            .order(log::seq.asc())
            .limit(limit)
            .load(conn)?)
    })
}
