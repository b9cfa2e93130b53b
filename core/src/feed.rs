//! The change feed this node publishes to its federation: resources marked for the federation
//! and consented trainer directory entries, as upserts and tombstones in commit order.
//!
//! Only a [`Shareable`] value can be written, so everything in the feed passed the
//! de-identification gate. Each item keeps only its latest change: the feed grows with the
//! number of items, not with the number of edits. Sequence numbers come from a counter row
//! updated in the writer's transaction, so on PostgreSQL a later number can never commit before
//! an earlier one and a reader's cursor never skips a change.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use crate::db::{DbConnection, Id, take_write_lock};
use crate::deid::{Inspect, Shareable};
use crate::error::CoreError;
use crate::schema::{federation_feed, federation_feed_head};
use crate::stored::to_json;
use crate::time;
pub use crate::vocab::FeedKind;

/// One change: the item's latest shareable form, or a tombstone.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct FeedItem {
    /// The item's version and the feed's cursor: strictly increasing in commit order.
    pub seq: i64,
    pub kind: FeedKind,
    pub id: Uuid,
    pub deleted: bool,
    pub changed_at: NaiveDateTime,
    /// The item as shared; `null` for a tombstone.
    pub item: serde_json::Value,
}

/// A page of the feed after a cursor.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct FeedPage {
    pub items: Vec<FeedItem>,
    /// Pass back as `after` for the next page.
    pub cursor: i64,
    /// More changes are waiting after this page.
    pub more: bool,
}

/// Largest page a reader may ask for.
pub const MAX_PAGE: i64 = 500;

/// What a reader gets when it does not say which kinds it takes: the kinds every version of the
/// node knows. A node that predates a kind would refuse a whole page holding one, so newer kinds
/// (the availability digest) go only to readers that ask for them.
pub const FIRST_KINDS: &[FeedKind] = &[FeedKind::Resource, FeedKind::Trainer];

fn next_seq(conn: &mut DbConnection) -> Result<i64, CoreError> {
    take_write_lock(conn)?;
    diesel::update(federation_feed_head::table.filter(federation_feed_head::id.eq(1)))
        .set(federation_feed_head::seq.eq(federation_feed_head::seq + 1))
        .execute(conn)?;
    Ok(federation_feed_head::table
        .filter(federation_feed_head::id.eq(1))
        .select(federation_feed_head::seq)
        .first(conn)?)
}

/// Publishes the latest form of an item, in the caller's transaction.
pub fn publish<T: Inspect + Serialize>(
    conn: &mut DbConnection,
    kind: FeedKind,
    id: Uuid,
    item: &Shareable<T>,
) -> Result<(), CoreError> {
    write(conn, kind, id, false, to_json(item)?)
}

/// Withdraws an item from the federation (deleted, no longer shared, consent withdrawn). Writes a
/// tombstone only if the item was ever published.
pub fn withdraw(conn: &mut DbConnection, kind: FeedKind, id: Uuid) -> Result<(), CoreError> {
    let current: Option<bool> = federation_feed::table
        .filter(federation_feed::kind.eq(kind))
        .filter(federation_feed::item_id.eq(Id(id)))
        .select(federation_feed::deleted)
        .first(conn)
        .optional()?;
    match current {
        Some(false) => write(conn, kind, id, true, "null".into()),
        _ => Ok(()),
    }
}

fn write(
    conn: &mut DbConnection,
    kind: FeedKind,
    id: Uuid,
    deleted: bool,
    payload: String,
) -> Result<(), CoreError> {
    let seq = next_seq(conn)?;
    diesel::delete(
        federation_feed::table
            .filter(federation_feed::kind.eq(kind))
            .filter(federation_feed::item_id.eq(Id(id))),
    )
    .execute(conn)?;
    diesel::insert_into(federation_feed::table)
        .values((
            federation_feed::seq.eq(seq),
            federation_feed::kind.eq(kind),
            federation_feed::item_id.eq(Id(id)),
            federation_feed::deleted.eq(deleted),
            federation_feed::payload.eq(payload),
            federation_feed::changed_at.eq(time::now()),
        ))
        .execute(conn)?;
    Ok(())
}

type Row = (i64, FeedKind, Uuid, bool, String, NaiveDateTime);

/// The item's current shared form, if it is published and not withdrawn.
pub fn current(
    conn: &mut DbConnection,
    kind: FeedKind,
    id: Uuid,
) -> Result<Option<serde_json::Value>, CoreError> {
    let payload: Option<String> = federation_feed::table
        .filter(federation_feed::kind.eq(kind))
        .filter(federation_feed::item_id.eq(Id(id)))
        .filter(federation_feed::deleted.eq(false))
        .select(federation_feed::payload)
        .first(conn)
        .optional()?;
    payload
        .map(|p| {
            serde_json::from_str(&p).map_err(|e| CoreError::internal(format!("feed payload: {e}")))
        })
        .transpose()
}

/// The changes of `kinds` after `after`, oldest first, at most `limit` (capped at
/// [`MAX_PAGE`]).
pub fn read(
    conn: &mut DbConnection,
    after: i64,
    limit: i64,
    kinds: &[FeedKind],
) -> Result<FeedPage, CoreError> {
    let limit = limit.clamp(1, MAX_PAGE);
    let mut rows: Vec<Row> = federation_feed::table
        .filter(federation_feed::seq.gt(after))
        .filter(federation_feed::kind.eq_any(kinds.to_vec()))
        .order(federation_feed::seq.asc())
        .limit(limit + 1)
        .select((
            federation_feed::seq,
            federation_feed::kind,
            federation_feed::item_id,
            federation_feed::deleted,
            federation_feed::payload,
            federation_feed::changed_at,
        ))
        .load(conn)?;
    let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let cursor = rows.last().map_or(after, |r| r.0);
    let items = rows
        .into_iter()
        .map(|(seq, kind, id, deleted, payload, changed_at)| {
            Ok(FeedItem {
                seq,
                kind,
                id,
                deleted,
                changed_at,
                item: serde_json::from_str(&payload)
                    .map_err(|e| CoreError::internal(format!("feed payload: {e}")))?,
            })
        })
        .collect::<Result<Vec<_>, CoreError>>()?;
    Ok(FeedPage {
        items,
        cursor,
        more,
    })
}
