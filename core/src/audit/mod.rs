//! The append-only audit log of every read and write of a support record. Each entry carries the
//! hash of the one before it, so editing or deleting an entry breaks the chain from there on, and
//! `alongside admin audit verify` names the first broken entry. Rebuilding the whole chain
//! after an edit is caught by heads signed and kept outside the database ([`witness`]).
//!
//! Entries about support cases go to a chain of their own ([`chain`]), which runs in lanes.
//! Appends lock a lane's head row first, which serialises the appenders of that lane on
//! PostgreSQL (a row lock, taken in the one statement that also links and writes the entries)
//! as SQLite's single writer already does. The lock is held
//! until the transaction commits, so inside `Db::transaction` entries are kept aside and
//! appended as the transaction's last statements (see [`deferred`]): the head is then held for
//! the commit, not for the whole use case.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use crate::access::Principal;
use crate::db::DbConnection;
use crate::db::late;
use crate::db::together::{self, Held};
use crate::error::CoreError;
use crate::schema::{case_audit, case_pseudonyms};
use crate::{secrets, time};

pub mod chain;
pub mod witness;

pub use chain::Chain;
use chain::ROWS_PER_INSERT;

use witness::WitnessedHead;

/// Who did it, as the log records it: ids only, never names.
pub fn actor(who: &Principal) -> String {
    match who {
        Principal::Anonymous => "anonymous".into(),
        Principal::User(u) => format!("account:{}", u.account_id),
        Principal::Client(c) => format!("client:{}", c.client_id),
        Principal::Operator => "operator".into(),
    }
}

/// The chain's definition: an entry's hash covers the previous hash and every field.
pub fn entry_hash(
    prev: &str,
    seq: i64,
    at: NaiveDateTime,
    actor: &str,
    action: &str,
    kind: &str,
    id: &str,
) -> String {
    // Written again in SQL by `chain::append_on_postgres`: change both or neither.
    secrets::sha256_hex(&format!(
        "{prev}|{seq}|{}|{actor}|{action}|{kind}|{id}",
        hashed_time(at)
    ))
}

/// An entry's moment as its hash covers it.
pub(crate) fn hashed_time(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// Appends one entry; call inside the transaction that does the read or write.
pub fn append(
    conn: &mut DbConnection,
    actor: &str,
    action: &str,
    record_type: &str,
    record_id: Uuid,
) -> Result<(), CoreError> {
    append_many(conn, actor, action, record_type, &[record_id])
}

/// One entry to append.
struct NewEntry<'a> {
    actor: &'a str,
    action: &'a str,
    record_type: &'a str,
    record_id: Uuid,
}

/// Appends one entry per record, in order, taking the chain's head once: a list read of 200
/// records costs three statements and one insert, not 800 statements, and holds the head's lock
/// (PostgreSQL) or the write lock (SQLite) that much shorter.
pub fn append_many(
    conn: &mut DbConnection,
    actor: &str,
    action: &str,
    record_type: &str,
    record_ids: &[Uuid],
) -> Result<(), CoreError> {
    let kept = DEFERRED.with(|d| match d.borrow_mut().as_mut() {
        Some(pending) => {
            pending.extend(record_ids.iter().map(|&id| Owned {
                actor: actor.to_owned(),
                action: action.to_owned(),
                record_type: record_type.to_owned(),
                record_id: id,
            }));
            true
        }
        None => false,
    });
    if kept {
        return Ok(());
    }
    let entries = record_ids.iter().map(|&record_id| NewEntry {
        actor,
        action,
        record_type,
        record_id,
    });
    append_entries(conn, entries, Vec::new())
}

/// An entry kept aside until its transaction's end.
struct Owned {
    actor: String,
    action: String,
    record_type: String,
    record_id: Uuid,
}

thread_local! {
    /// Entries of the transaction running on this (blocking) thread, when it defers them.
    static DEFERRED: RefCell<Option<Vec<Owned>>> = const { RefCell::new(None) };
}

/// Stops deferring when dropped, also on a panic, so a later transaction on the same thread
/// never finds a stale buffer and mistakes itself for a nested one.
struct Deferring;

impl Drop for Deferring {
    fn drop(&mut self) {
        DEFERRED.with(|d| d.borrow_mut().take());
    }
}

/// Runs `work` (inside an open transaction) with its audit entries kept aside, then appends them
/// in order, last, with the rows `work` left to that statement (`Writes::finish_by_commit`). If
/// `work` fails, nothing is appended: the transaction rolls back anyway.
pub(crate) fn deferred<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, CoreError>,
) -> Result<T, CoreError> {
    if DEFERRED.with(|d| d.borrow().is_some()) {
        // Nested: the outer call appends.
        return work(conn);
    }
    DEFERRED.with(|d| *d.borrow_mut() = Some(Vec::new()));
    let guard = Deferring;
    let (value, held) = together::by_commit(|| work(conn))?;
    let pending = DEFERRED.with(|d| d.borrow_mut().take()).unwrap_or_default();
    drop(guard);
    if late::reading() {
        // A transaction begun late that has only read so far: its end goes alone when it is
        // one chain's statement (with what was held), which writes all of it or nothing. The
        // pseudonyms of a case made before are read, or made, by the statement before it, as
        // in a transaction: made once, whatever follows. Two chains, or a purge, take more
        // than one statement: a transaction after all.
        let cases = pending.iter().filter(|e| e.record_type == CASE).count();
        let purges = pending.iter().any(|e| e.action == PURGE);
        if (cases == 0 || cases == pending.len()) && !purges {
            late::last_alone();
        } else {
            late::begin_now(conn)?;
        }
    }
    append_entries(
        conn,
        pending.iter().map(|e| NewEntry {
            actor: &e.actor,
            action: &e.action,
            record_type: &e.record_type,
            record_id: e.record_id,
        }),
        held,
    )?;
    Ok(value)
}

/// Warm-up (`db::warm`): an append to the case chain, on PostgreSQL, run to its end in the
/// warm-up's transaction that is rolled back (it holds one lane, which other writers skip).
pub(crate) fn warm_case(conn: &mut DbConnection) -> Result<(), CoreError> {
    warm_chain(conn, Chain::Case, Vec::new())
}

/// Warm-up: an append to the case chain with a use case's rows `held` in front, as that use
/// case's last statement is (`Writes::finish_by_commit`).
pub(crate) fn warm_case_after(conn: &mut DbConnection, held: Held) -> Result<(), CoreError> {
    warm_chain(conn, Chain::Case, held)
}

/// Warm-up: an append to the main chain. Fails as it starts, in the warm-up's read-only
/// transaction, after PostgreSQL has planned it: run to its end it would hold the chain's one
/// head row, which every writer of that chain waits for.
pub(crate) fn warm_main(conn: &mut DbConnection) -> Result<(), CoreError> {
    warm_chain(conn, Chain::Main, Vec::new())
}

/// Warm-up: the read of a case's pseudonyms (an action on a request made before, and the
/// request shown). Nothing matches.
pub(crate) fn warm_reads(conn: &mut DbConnection) -> Result<(), CoreError> {
    read_pseudonyms(conn, &[Uuid::nil().to_string()], &mut HashMap::new())
}

fn warm_chain(conn: &mut DbConnection, chain: Chain, held: Held) -> Result<(), CoreError> {
    let DbConnection::Pg(c) = conn else {
        return Ok(());
    };
    let now = time::now();
    let entry = chain::Unlinked {
        at: now,
        at_text: hashed_time(now),
        actor: "warm-up",
        action: "warm-up",
        record_type: "warm-up",
        record_id: "",
        case: None,
    };
    chain::append_on_postgres(c, chain, &[entry], &[], now, held)
}

/// `held`: rows for the first chain statement to write before its own (PostgreSQL).
fn append_entries<'a>(
    conn: &mut DbConnection,
    entries: impl ExactSizeIterator<Item = NewEntry<'a>>,
    held: Held,
) -> Result<(), CoreError> {
    if entries.len() == 0 {
        return together::write_held(conn, held);
    }
    let (case, main): (Vec<NewEntry<'a>>, Vec<NewEntry<'a>>) =
        entries.partition(|e| e.record_type == CASE);
    // Before either head's lock, which every writer to that chain waits for: what does not
    // depend on the chains' order is read and written first (two appenders creating the same
    // pseudonym at once are settled in `case_actors`); only the pseudonyms of a case made in
    // this transaction, which nobody else can be writing, go with the chain's statement.
    let (pseudonyms, named) = case_actors(conn, &case)?;
    // Heads are always taken main first, so two writers never each hold the one the other wants.
    let mut held = Some(held);
    append_to(conn, Chain::Main, &main, &HashMap::new(), &[], &mut held)?;
    append_to(conn, Chain::Case, &case, &pseudonyms, &named, &mut held)
}

/// An entry as it will be written, before its place in the chain is known.
struct Prepared<'a> {
    /// When, as written: the month only for an entry about a case.
    at: NaiveDateTime,
    /// A person acting on a support case is written as the case's pseudonym for them.
    actor: Cow<'a, str>,
    entry: &'a NewEntry<'a>,
    /// The record's id, or for a support case the case's alias.
    record_id: String,
    /// The true case id, kept aside with the true moment, for an entry about a case.
    case: Option<String>,
}

/// `pseudonyms`: from [`case_actors`], for entries about a case; `named`: the new ones it left
/// to the chain's statement to write (PostgreSQL); `held`: rows the first chain statement writes
/// before its own, taken by it.
fn append_to(
    conn: &mut DbConnection,
    chain: Chain,
    entries: &[NewEntry<'_>],
    pseudonyms: &HashMap<(String, String), String>,
    named: &[Named],
    held: &mut Option<Held>,
) -> Result<(), CoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let now = time::now();
    let mut prepared = Vec::with_capacity(entries.len());
    for e in entries {
        let mut record_id = e.record_id.to_string();
        let mut at = now;
        let mut actor = Cow::Borrowed(e.actor);
        let mut case = None;
        if chain == Chain::Case {
            if let Some(p) = pseudonyms.get(&(record_id.clone(), e.actor.to_owned())) {
                actor = Cow::Owned(p.clone());
            }
            case = Some(record_id.clone());
            if let Some(alias) = pseudonyms.get(&(record_id.clone(), RECORD.to_owned())) {
                record_id.clone_from(alias);
            }
            at = month_of(now);
        }
        prepared.push(Prepared {
            at,
            actor,
            entry: e,
            record_id,
            case,
        });
    }
    match conn {
        DbConnection::Pg(c) => {
            let unlinked: Vec<chain::Unlinked<'_>> = prepared
                .iter()
                .map(|p| chain::Unlinked {
                    at: p.at,
                    at_text: hashed_time(p.at),
                    actor: &p.actor,
                    action: p.entry.action,
                    record_type: p.entry.record_type,
                    record_id: &p.record_id,
                    case: p.case.as_deref(),
                })
                .collect();
            let first = held.take().unwrap_or_default();
            chain::append_on_postgres(c, chain, &unlinked, named, now, first)?;
        }
        DbConnection::Sqlite(_) => link_and_write(conn, chain, &prepared, now)?,
    }
    // A purge entry erases what ties the chain to its case.
    for p in &prepared {
        if let (Some(case), PURGE) = (&p.case, p.entry.action) {
            erase_purged(conn, case)?;
        }
    }
    Ok(())
}

/// Takes the head's lock, links the entries to it here and writes them (SQLite: the
/// transaction holds the database's one write lock anyway, and every statement runs in process).
fn link_and_write(
    conn: &mut DbConnection,
    chain: Chain,
    prepared: &[Prepared<'_>],
    true_at: NaiveDateTime,
) -> Result<(), CoreError> {
    // Held from here to the commit: every writer to this chain waits for it.
    let (mut seq, mut prev) = chain::lock_head(conn, chain)?;
    let mut links = Vec::with_capacity(prepared.len());
    let mut aside = Vec::new();
    for p in prepared {
        seq += 1;
        let hash = entry_hash(
            &prev,
            seq,
            p.at,
            &p.actor,
            p.entry.action,
            p.entry.record_type,
            &p.record_id,
        );
        if let Some(case) = &p.case {
            aside.push(chain::Aside {
                seq,
                request_id: case,
                at: true_at,
            });
        }
        links.push((seq, std::mem::replace(&mut prev, hash.clone()), hash));
    }
    let rows: Vec<chain::Row<'_>> = prepared
        .iter()
        .zip(&links)
        .map(|(p, (seq, prev_hash, hash))| chain::Row {
            seq: *seq,
            at: p.at,
            actor: &p.actor,
            action: p.entry.action,
            record_type: p.entry.record_type,
            record_id: &p.record_id,
            prev_hash,
            hash,
        })
        .collect();
    chain::write(conn, chain, &rows, &aside, seq, &prev)
}

/// Record type whose entries name people by a per-case pseudonym, the case by an alias, and
/// the time by its month.
const CASE: &str = "support_request";

/// The key, in `case_pseudonyms`, of a case's own alias in the chain.
const RECORD: &str = "record";

/// The first entry about a case, appended in the transaction that makes it.
pub const CREATE: &str = "create";

/// The last entry about a case: appending it erases what ties the chain's entries to the case.
pub const PURGE: &str = "purge";

/// The first instant of `t`'s month: all an entry about a case says of when it was written.
fn month_of(t: NaiveDateTime) -> NaiveDateTime {
    use chrono::Datelike;
    t.date()
        .with_day(1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or(t)
}

/// A purge entry erases what ties the chain to its case: the true case ids and moments kept
/// beside the chain (`case_audit`, written with the entries), and the case's pseudonyms and
/// alias.
fn erase_purged(conn: &mut DbConnection, case: &str) -> Result<(), CoreError> {
    diesel::delete(case_audit::table.filter(case_audit::request_id.eq(case))).execute(conn)?;
    diesel::delete(case_pseudonyms::table.filter(case_pseudonyms::request_id.eq(case)))
        .execute(conn)?;
    Ok(())
}

/// A new pseudonym: (case id, actor, pseudonym).
type Named = (String, String, String);

/// Pseudonyms by (case id, actor).
type Pseudonyms = HashMap<(String, String), String>;

/// The pseudonym of each person (by account) acting on a support case in `entries`, keyed by
/// (case id, actor); created on first use. The mapping sits outside the chain and is erased when
/// the case is purged, so afterwards no table links the person to the case. Also returns the
/// new pseudonyms it left for the chain's statement to write (on PostgreSQL, those of cases
/// made in this transaction).
fn case_actors(
    conn: &mut DbConnection,
    entries: &[NewEntry<'_>],
) -> Result<(Pseudonyms, Vec<Named>), CoreError> {
    let mut wanted: Vec<(String, String)> = entries
        .iter()
        .filter(|e| e.record_type == CASE && e.actor.starts_with("account:"))
        .map(|e| (e.record_id.to_string(), e.actor.to_owned()))
        .collect();
    wanted.extend(
        entries
            .iter()
            .filter(|e| e.record_type == CASE)
            .map(|e| (e.record_id.to_string(), RECORD.to_owned())),
    );
    wanted.sort();
    wanted.dedup();
    let mut known = HashMap::with_capacity(wanted.len());
    if wanted.is_empty() {
        return Ok((known, Vec::new()));
    }
    let mut cases: Vec<String> = wanted.iter().map(|(c, _)| c.clone()).collect();
    cases.dedup();
    // A case made in this transaction has no pseudonyms yet: nothing to read for it (one round
    // trip fewer for every new request).
    let made: HashSet<String> = entries
        .iter()
        .filter(|e| e.record_type == CASE && e.action == CREATE)
        .map(|e| e.record_id.to_string())
        .collect();
    let stored: Vec<String> = cases
        .iter()
        .filter(|c| !made.contains(*c))
        .cloned()
        .collect();
    read_pseudonyms(conn, &stored, &mut known)?;
    let mut fresh = Vec::new();
    for key in wanted {
        if let std::collections::hash_map::Entry::Vacant(slot) = known.entry(key) {
            let kind = if slot.key().1 == RECORD {
                "case"
            } else {
                "pseudonym"
            };
            let pseudonym = format!(
                "{kind}:{}",
                &secrets::sha256_hex(&secrets::random_token()?)[..16]
            );
            let (case, actor) = slot.key().clone();
            fresh.push((case, actor, pseudonym.clone()));
            slot.insert(pseudonym);
        }
    }
    // On PostgreSQL those of a case made in this transaction are written by the chain's own
    // statement, one round trip fewer for every new request: no other transaction can know the
    // case yet, so none can be writing them too.
    let (named, fresh): (Vec<Named>, Vec<Named>) = match conn {
        DbConnection::Pg(_) => fresh
            .into_iter()
            .partition(|(case, _, _)| made.contains(case)),
        DbConnection::Sqlite(_) => (Vec::new(), fresh),
    };
    let mut lost_races = false;
    for chunk in fresh.chunks(ROWS_PER_INSERT) {
        let values: Vec<_> = chunk
            .iter()
            .map(|(case, actor, pseudonym)| {
                (
                    case_pseudonyms::request_id.eq(case),
                    case_pseudonyms::actor.eq(actor),
                    case_pseudonyms::pseudonym.eq(pseudonym),
                )
            })
            .collect();
        let insert = diesel::insert_into(case_pseudonyms::table).values(values);
        match conn {
            // Another writer may be creating the same pseudonym (this runs before the chain's
            // lock): its insert wins, this one waits for it to commit and then keeps its.
            DbConnection::Pg(c) => {
                lost_races |= insert.on_conflict_do_nothing().execute(c)? < chunk.len();
            }
            // One writer at a time: no other can be creating it.
            DbConnection::Sqlite(c) => {
                insert.execute(c)?;
            }
        };
    }
    if lost_races {
        read_pseudonyms(conn, &cases, &mut known)?;
    }
    Ok((known, named))
}

/// The stored pseudonyms of `cases`, into `known` (over what it held).
fn read_pseudonyms(
    conn: &mut DbConnection,
    cases: &[String],
    known: &mut HashMap<(String, String), String>,
) -> Result<(), CoreError> {
    let columns = (
        case_pseudonyms::request_id,
        case_pseudonyms::actor,
        case_pseudonyms::pseudonym,
    );
    for chunk in cases.chunks(ROWS_PER_INSERT) {
        // One case, as for every write: `= $1`, which PostgreSQL's plan for the prepared
        // statement looks up in the key. Its one plan for `= ANY($1)`, made while the table was
        // small, read the whole table at every run until the next ANALYZE (136 million rows in
        // a minute of the load bench).
        let rows: Vec<(String, String, String)> = match chunk {
            // On the connection's own backend: run for every audited read.
            [case] => crate::db::on_backend!(conn, |c| case_pseudonyms::table
                .filter(case_pseudonyms::request_id.eq(case))
                .select(columns)
                .load(c))?,
            _ => case_pseudonyms::table
                .filter(case_pseudonyms::request_id.eq_any(chunk))
                .select(columns)
                .load(conn)?,
        };
        for (case, actor, pseudonym) in rows {
            known.insert((case, actor), pseudonym);
        }
    }
    Ok(())
}

type Done = tokio::sync::oneshot::Sender<Result<(), CoreError>>;

/// Who read, which kind of record, which ones.
type Reads = (String, &'static str, Vec<Uuid>);

struct PendingRead {
    actor: String,
    record_type: &'static str,
    ids: Vec<Uuid>,
    done: Done,
}

/// Reads waiting for the audit log. Every audited read appends to the one hash chain, so
/// appends are serial; instead of one transaction (and, on PostgreSQL, one WAL flush) per read,
/// whoever finds no append in progress writes everything waiting in one transaction: a group
/// commit. Each reader still returns only after its own entries are committed.
#[derive(Default)]
pub(crate) struct ReadLog {
    waiting: std::sync::Mutex<Vec<PendingRead>>,
    appending: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// Logs that `who` read these records, returning once the entries are committed. For use
/// cases that read outside a write transaction; writes log inside their own transaction.
pub async fn log_reads(
    db: &crate::db::Db,
    who: &Principal,
    record_type: &'static str,
    ids: Vec<Uuid>,
) -> Result<(), CoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let (done, mut committed) = tokio::sync::oneshot::channel();
    let log = db.read_log.clone();
    log.waiting
        .lock()
        .map_err(|_| CoreError::internal("audit queue poisoned"))?
        .push(PendingRead {
            actor: actor(who),
            record_type,
            ids,
            done,
        });
    let turn = log.appending.clone().lock_owned().await;
    // An earlier turn may have written ours already.
    if let Ok(result) = committed.try_recv() {
        return result;
    }
    let batch = std::mem::take(
        &mut *log
            .waiting
            .lock()
            .map_err(|_| CoreError::internal("audit queue poisoned"))?,
    );
    let (dones, reads): (Vec<Done>, Vec<Reads>) = batch
        .into_iter()
        .map(|p| (p.done, (p.actor, p.record_type, p.ids)))
        .unzip();
    // Its own task, so a reader that goes away mid-append cannot strand the others.
    let db = db.clone();
    tokio::spawn(async move {
        let _turn = turn;
        let result = db
            .write(move |conn| {
                let entries = reads.iter().flat_map(|(actor, record_type, ids)| {
                    ids.iter().map(move |&record_id| NewEntry {
                        actor,
                        action: "read",
                        record_type,
                        record_id,
                    })
                });
                let entries: Vec<NewEntry<'_>> = entries.collect();
                let cases = entries.iter().filter(|e| e.record_type == CASE).count();
                let one_chain = cases == 0 || cases == entries.len();
                if one_chain && matches!(conn, DbConnection::Pg(_)) {
                    // Nothing to hold together but one chain's statement, which appends every
                    // entry or none: no BEGIN and COMMIT around it, two waits on PostgreSQL
                    // instead of four. The pseudonyms are read (or made, as they would be in a
                    // transaction: made once, whatever follows) by the statement before it.
                    append_entries(conn, entries.into_iter(), Vec::new())
                } else {
                    conn.transaction(|tx| {
                        crate::db::take_write_lock(tx)?;
                        append_entries(tx, entries.into_iter(), Vec::new())
                    })
                }
            })
            .await;
        for done in dones {
            let _ = done.send(result.clone());
        }
    });
    committed
        .await
        .unwrap_or_else(|_| Err(CoreError::internal("audit append abandoned")))
}

/// What a walk of one chain found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChainReport {
    /// Entries that check, from the first, over the chain's lanes.
    pub entries: i64,
    /// The sequence number of the first entry that does not fit the chain, and why.
    pub first_broken: Option<(i64, String)>,
}

/// What a walk of both chains found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VerifyReport {
    pub main: ChainReport,
    /// The chain of entries about support cases.
    pub case: ChainReport,
}

impl VerifyReport {
    /// The first break found, in the main chain first: which chain, which entry and why.
    pub fn broken(&self) -> Option<(Chain, i64, String)> {
        Chain::ALL.into_iter().find_map(|chain| {
            self.of(chain)
                .first_broken
                .clone()
                .map(|(seq, why)| (chain, seq, why))
        })
    }

    pub fn of(&self, chain: Chain) -> &ChainReport {
        match chain {
            Chain::Main => &self.main,
            Chain::Case => &self.case,
        }
    }
}

/// One entry as an admin reads it: ids and codes only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: i64,
    /// When; for an entry about a case, only its month.
    pub at: NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub record_type: String,
    pub record_id: String,
}

/// The most entries one call returns.
pub const MAX_PAGE: i64 = 200;

/// A page of one lane of a chain, as `recent` read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recent {
    /// The lane read: the one asked for, or lane 1 when none was asked or the chain has no such
    /// lane.
    pub lane: chain::Lane,
    pub entries: Vec<Entry>,
}

/// Entries of a lane of `chain` before `before` (the newest when `None`), newest first. No
/// lane, or one the chain does not have, reads lane 1. Admins.
pub async fn recent(
    db: &crate::db::Db,
    who: &Principal,
    chain: Chain,
    lane: Option<chain::Lane>,
    before: Option<i64>,
    limit: i64,
) -> Result<Recent, CoreError> {
    crate::access::authorize(who, crate::access::Operation::ManageAccounts)?;
    let limit = limit.clamp(1, MAX_PAGE);
    let lane = lane
        .filter(|l| (1..=chain.lanes()).contains(l))
        .unwrap_or(1);
    let entries = db
        .run(move |conn| {
            let (head, _) = chain::head(conn, chain, lane)?;
            let until = before.map_or(head, |b| (b - 1).min(head));
            let from = (until - limit + 1).max(1);
            let mut rows = chain::load(conn, chain, lane, from, until - from + 1)?;
            rows.retain(|r| r.0 <= until);
            rows.reverse();
            Ok(rows
                .into_iter()
                .map(
                    |(seq, at, actor, action, record_type, record_id, _, _)| Entry {
                        seq,
                        at,
                        actor,
                        action,
                        record_type,
                        record_id,
                    },
                )
                .collect())
        })
        .await?;
    Ok(Recent { lane, entries })
}

/// Walks both chains now, for an admin asking whether the log is intact (the CLI's
/// `admin audit verify`, without the witness file, which lives off the node).
pub async fn check(db: &crate::db::Db, who: &Principal) -> Result<VerifyReport, CoreError> {
    crate::access::authorize(who, crate::access::Operation::ManageAccounts)?;
    db.run(verify).await
}

/// Walks both chains in order, in batches.
pub fn verify(conn: &mut DbConnection) -> Result<VerifyReport, CoreError> {
    verify_against(conn, &[])
}

/// Walks both chains and checks that each passes through every head witnessed of it. Where it
/// does not, the entries between the last head it passes through and that one were rewritten,
/// and the chain rebuilt, after the head was witnessed.
pub fn verify_against(
    conn: &mut DbConnection,
    witnessed: &[WitnessedHead],
) -> Result<VerifyReport, CoreError> {
    let mut report = VerifyReport::default();
    for chain in Chain::ALL {
        let mut walked = ChainReport::default();
        // Lane by lane; a break is reported with the entries of the lanes before it that check.
        for lane in 1..=chain.lanes() {
            let mut heads: Vec<&WitnessedHead> = witnessed
                .iter()
                .filter(|w| w.chain == chain && w.lane == lane)
                .collect();
            heads.sort_by_key(|h| (h.seq, h.at));
            let this = verify_lane(conn, chain, lane, &heads)?;
            walked.entries += this.entries;
            if let Some((seq, why)) = this.first_broken {
                walked.first_broken = Some(if chain.lanes() > 1 {
                    (seq, format!("in lane {lane}, {why}"))
                } else {
                    (seq, why)
                });
                break;
            }
        }
        match chain {
            Chain::Main => report.main = walked,
            Chain::Case => report.case = walked,
        }
    }
    Ok(report)
}

fn verify_lane(
    conn: &mut DbConnection,
    chain: Chain,
    lane: chain::Lane,
    witnessed: &[&WitnessedHead],
) -> Result<ChainReport, CoreError> {
    let mut heads = witnessed.iter().copied().peekable();
    // The last witnessed entry the chain still passes through.
    let mut agreed = 0i64;
    const BATCH: i64 = 5_000;
    let mut prev = "0".repeat(64);
    let mut expected_seq = 1i64;
    let mut count = 0i64;
    loop {
        let batch = chain::load(conn, chain, lane, expected_seq, BATCH)?;
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
            while let Some(w) = heads.next_if(|w| w.seq <= seq) {
                if w.seq == seq && w.hash != hash {
                    return Ok(broken(agreed, agreed + 1, parted(agreed, w)));
                }
                agreed = w.seq;
            }
            prev = hash;
            expected_seq += 1;
            count += 1;
        }
    }
    if let Some(w) = heads.find(|w| w.seq > count) {
        return Ok(broken(
            count,
            count + 1,
            format!(
                "the log ends at entry {count}, but {} entries were witnessed at {}: entries \
                 after it were removed",
                w.seq,
                w.at.format("%Y-%m-%d %H:%M:%S UTC")
            ),
        ));
    }
    let (head_seq, head_hash) = chain::head(conn, chain, lane)?;
    if head_seq != count || head_hash != prev {
        return Ok(broken(
            count,
            count + 1,
            "entries after it were removed".into(),
        ));
    }
    Ok(ChainReport {
        entries: count,
        first_broken: None,
    })
}

fn parted(agreed: i64, w: &WitnessedHead) -> String {
    let at = w.at.format("%Y-%m-%d %H:%M:%S UTC");
    let which = if agreed + 1 == w.seq {
        format!("entry {}", w.seq)
    } else {
        format!("an entry from {} to {}", agreed + 1, w.seq)
    };
    format!(
        "the chain no longer passes through the head witnessed at {at} ({} entries): {which} \
         was rewritten and the chain rebuilt after it",
        w.seq
    )
}

fn broken(entries: i64, seq: i64, why: String) -> ChainReport {
    ChainReport {
        entries,
        first_broken: Some((seq, why)),
    }
}
