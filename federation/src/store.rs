//! What a node keeps about its federation: its settings (member or steward, the pinned steward),
//! the steward's member list, the manifest issued or held, the directory cached from other
//! members with a cursor per origin, and network metrics pulled by a steward.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use alongside_core::CoreError;
use alongside_core::db::{DbConnection, Id, take_write_lock};
use alongside_core::feed::{FeedKind, FeedPage};
use alongside_core::schema::{
    federation_bridges, federation_cursors, federation_directory, federation_manifests,
    federation_members, federation_metrics, federation_settings,
};
use alongside_core::vocab::{FederationMode, MemberStatus};

use crate::descriptor::{NodeDescriptor, PublicKey};
use crate::manifest::ManifestMember;

fn json<T: serde::Serialize>(v: &T) -> Result<String, CoreError> {
    serde_json::to_string(v).map_err(|e| CoreError::internal(format!("encoding: {e}")))
}

fn parse<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, CoreError> {
    serde_json::from_str(s).map_err(|e| CoreError::internal(format!("stored JSON: {e}")))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub mode: FederationMode,
    pub steward_id: Option<String>,
    pub steward_url: Option<String>,
    pub steward_keys: Vec<PublicKey>,
}

pub fn settings(conn: &mut DbConnection) -> Result<Option<Settings>, CoreError> {
    let row: Option<(FederationMode, Option<String>, Option<String>, String)> =
        federation_settings::table
            .filter(federation_settings::id.eq(1))
            .select((
                federation_settings::mode,
                federation_settings::steward_id,
                federation_settings::steward_url,
                federation_settings::steward_keys,
            ))
            .first(conn)
            .optional()?;
    row.map(|(mode, steward_id, steward_url, keys)| {
        Ok(Settings {
            mode,
            steward_id,
            steward_url,
            steward_keys: parse(&keys)?,
        })
    })
    .transpose()
}

pub fn set_settings(conn: &mut DbConnection, s: &Settings) -> Result<(), CoreError> {
    conn.transaction(|conn| {
        diesel::delete(federation_settings::table).execute(conn)?;
        diesel::insert_into(federation_settings::table)
            .values((
                federation_settings::id.eq(1),
                federation_settings::mode.eq(s.mode),
                federation_settings::steward_id.eq(&s.steward_id),
                federation_settings::steward_url.eq(&s.steward_url),
                federation_settings::steward_keys.eq(json(&s.steward_keys)?),
                federation_settings::updated_at.eq(alongside_core::time::now()),
            ))
            .execute(conn)?;
        Ok(())
    })
}

// ---- steward: members ----

type MemberRow = (
    String,
    String,
    String,
    String,
    MemberStatus,
    NaiveDateTime,
    Option<NaiveDateTime>,
    NaiveDateTime,
    Option<i64>,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    Option<String>,
);

/// A member as the steward keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRecord {
    pub member: ManifestMember,
    pub requested_at: NaiveDateTime,
    pub health: Health,
}

/// What a member last reported of itself to its steward (all `None` until first checked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    /// The manifest serial the member holds.
    pub held_serial: Option<i64>,
    /// When it last synced the directory from every member it follows.
    pub synced_at: Option<NaiveDateTime>,
    /// When the steward last asked.
    pub checked_at: Option<NaiveDateTime>,
    /// Why the last check failed (a stable code), if it did.
    pub error: Option<String>,
}

fn to_member(r: MemberRow) -> Result<MemberRecord, CoreError> {
    Ok(MemberRecord {
        member: ManifestMember {
            node_id: r.0,
            name: r.1,
            base_url: r.2,
            keys: parse(&r.3)?,
            status: r.4,
            joined_at: r.6,
        },
        requested_at: r.5,
        health: Health {
            held_serial: r.8,
            synced_at: r.9,
            checked_at: r.10,
            error: r.11,
        },
    })
}

/// Records what a member reported of itself, or why it could not be asked.
pub fn record_health(
    conn: &mut DbConnection,
    node_id: &str,
    report: Result<(Option<i64>, Option<NaiveDateTime>), String>,
    now: NaiveDateTime,
) -> Result<(), CoreError> {
    let q = federation_members::table.filter(federation_members::node_id.eq(node_id));
    match report {
        Ok((serial, synced)) => diesel::update(q)
            .set((
                federation_members::held_serial.eq(serial),
                federation_members::synced_at.eq(synced),
                federation_members::checked_at.eq(Some(now)),
                federation_members::check_error.eq(None::<String>),
            ))
            .execute(conn)?,
        // Keep what it last reported: an unreachable member still held that serial.
        Err(code) => diesel::update(q)
            .set((
                federation_members::checked_at.eq(Some(now)),
                federation_members::check_error.eq(Some(code)),
            ))
            .execute(conn)?,
    };
    Ok(())
}

pub fn members(conn: &mut DbConnection) -> Result<Vec<MemberRecord>, CoreError> {
    let rows: Vec<MemberRow> = federation_members::table
        .order(federation_members::node_id.asc())
        .load(conn)?;
    rows.into_iter().map(to_member).collect()
}

pub fn member(conn: &mut DbConnection, node_id: &str) -> Result<Option<MemberRecord>, CoreError> {
    let row: Option<MemberRow> = federation_members::table
        .filter(federation_members::node_id.eq(node_id))
        .first(conn)
        .optional()?;
    row.map(to_member).transpose()
}

/// Records a request to join (or refreshes a pending one). A node that is already a member or
/// suspended cannot re-join with new keys this way.
pub fn record_join(
    conn: &mut DbConnection,
    d: &NodeDescriptor,
    now: NaiveDateTime,
) -> Result<MemberStatus, CoreError> {
    conn.transaction(|conn| {
        take_write_lock(conn)?;
        match member(conn, &d.id)? {
            Some(m) if m.member.status != MemberStatus::Pending => Err(CoreError::Conflict(
                format!("{} is already {} in this federation", d.id, m.member.status),
            )),
            existing => {
                diesel::delete(
                    federation_members::table.filter(federation_members::node_id.eq(&d.id)),
                )
                .execute(conn)?;
                diesel::insert_into(federation_members::table)
                    .values((
                        federation_members::node_id.eq(&d.id),
                        federation_members::name.eq(&d.name),
                        federation_members::base_url.eq(&d.base_url),
                        federation_members::keys.eq(json(&d.keys)?),
                        federation_members::status.eq(MemberStatus::Pending),
                        federation_members::requested_at
                            .eq(existing.map_or(now, |m| m.requested_at)),
                        federation_members::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                Ok(MemberStatus::Pending)
            }
        }
    })
}

/// Approves (active), suspends or reinstates a member.
pub fn set_status(
    conn: &mut DbConnection,
    node_id: &str,
    status: MemberStatus,
    now: NaiveDateTime,
) -> Result<(), CoreError> {
    let current = member(conn, node_id)?.ok_or(CoreError::NotFound("member"))?;
    let joined = current
        .member
        .joined_at
        .or((status == MemberStatus::Active).then_some(now));
    diesel::update(federation_members::table.filter(federation_members::node_id.eq(node_id)))
        .set((
            federation_members::status.eq(status),
            federation_members::joined_at.eq(joined),
            federation_members::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Replaces a member's published keys (the steward refreshed its descriptor).
pub fn set_keys(
    conn: &mut DbConnection,
    node_id: &str,
    keys: &[PublicKey],
    now: NaiveDateTime,
) -> Result<(), CoreError> {
    diesel::update(federation_members::table.filter(federation_members::node_id.eq(node_id)))
        .set((
            federation_members::keys.eq(json(&keys)?),
            federation_members::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

// ---- the manifest, issued (steward) or held (member) ----

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredManifest {
    pub serial: i64,
    pub token: String,
    pub expires_at: NaiveDateTime,
    pub stored_at: NaiveDateTime,
}

pub fn manifest(conn: &mut DbConnection) -> Result<Option<StoredManifest>, CoreError> {
    let row: Option<(i64, String, NaiveDateTime, NaiveDateTime)> = federation_manifests::table
        .filter(federation_manifests::id.eq(1))
        .select((
            federation_manifests::serial,
            federation_manifests::token,
            federation_manifests::expires_at,
            federation_manifests::stored_at,
        ))
        .first(conn)
        .optional()?;
    Ok(
        row.map(|(serial, token, expires_at, stored_at)| StoredManifest {
            serial,
            token,
            expires_at,
            stored_at,
        }),
    )
}

pub fn store_manifest(conn: &mut DbConnection, m: &StoredManifest) -> Result<(), CoreError> {
    conn.transaction(|conn| {
        diesel::delete(federation_manifests::table).execute(conn)?;
        diesel::insert_into(federation_manifests::table)
            .values((
                federation_manifests::id.eq(1),
                federation_manifests::serial.eq(m.serial),
                federation_manifests::token.eq(&m.token),
                federation_manifests::expires_at.eq(m.expires_at),
                federation_manifests::stored_at.eq(m.stored_at),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// A member's last manifest refresh: when it was tried and why it failed (a stable code), if it
/// did. `None` before the first.
pub fn refresh_outcome(
    conn: &mut DbConnection,
) -> Result<Option<(NaiveDateTime, Option<String>)>, CoreError> {
    let row: Option<(Option<NaiveDateTime>, Option<String>)> = federation_settings::table
        .filter(federation_settings::id.eq(1))
        .select((
            federation_settings::refreshed_at,
            federation_settings::refresh_error,
        ))
        .first(conn)
        .optional()?;
    Ok(row.and_then(|(at, error)| at.map(|at| (at, error))))
}

pub fn record_refresh(
    conn: &mut DbConnection,
    error: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), CoreError> {
    diesel::update(federation_settings::table.filter(federation_settings::id.eq(1)))
        .set((
            federation_settings::refreshed_at.eq(now),
            federation_settings::refresh_error.eq(error),
        ))
        .execute(conn)?;
    Ok(())
}

/// A steward keeps the last manifest a key of its signed that lists a key rotated in: the
/// bridge a member pinned to the old key follows to the new one.
pub fn keep_bridge(
    conn: &mut DbConnection,
    kid: &str,
    m: &StoredManifest,
    now: NaiveDateTime,
) -> Result<(), CoreError> {
    diesel::delete(
        federation_bridges::table.filter(
            federation_bridges::kid
                .eq(kid)
                .or(federation_bridges::expires_at.lt(now)),
        ),
    )
    .execute(conn)?;
    diesel::insert_into(federation_bridges::table)
        .values((
            federation_bridges::kid.eq(kid),
            federation_bridges::serial.eq(m.serial),
            federation_bridges::token.eq(&m.token),
            federation_bridges::expires_at.eq(m.expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The bridge from `kid`, while it is valid.
pub fn bridge(
    conn: &mut DbConnection,
    kid: &str,
    now: NaiveDateTime,
) -> Result<Option<String>, CoreError> {
    Ok(federation_bridges::table
        .filter(federation_bridges::kid.eq(kid))
        .filter(federation_bridges::expires_at.gt(now))
        .select(federation_bridges::token)
        .first(conn)
        .optional()?)
}

// ---- the directory cached from other members ----

/// Where this node is in `origin`'s feed.
pub fn cursor(conn: &mut DbConnection, origin: &str) -> Result<i64, CoreError> {
    Ok(federation_cursors::table
        .filter(federation_cursors::origin.eq(origin))
        .select(federation_cursors::cursor)
        .first(conn)
        .optional()?
        .unwrap_or(0))
}

fn set_cursor(
    conn: &mut DbConnection,
    origin: &str,
    cursor: i64,
    error: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), CoreError> {
    let failures: i32 = federation_cursors::table
        .filter(federation_cursors::origin.eq(origin))
        .select(federation_cursors::failures)
        .first(conn)
        .optional()?
        .unwrap_or(0);
    let synced: Option<NaiveDateTime> = federation_cursors::table
        .filter(federation_cursors::origin.eq(origin))
        .select(federation_cursors::synced_at)
        .first(conn)
        .optional()?
        .flatten();
    diesel::delete(federation_cursors::table.filter(federation_cursors::origin.eq(origin)))
        .execute(conn)?;
    diesel::insert_into(federation_cursors::table)
        .values((
            federation_cursors::origin.eq(origin),
            federation_cursors::cursor.eq(cursor),
            federation_cursors::synced_at.eq(if error.is_some() { synced } else { Some(now) }),
            federation_cursors::failures.eq(if error.is_some() { failures + 1 } else { 0 }),
            federation_cursors::last_error.eq(error),
        ))
        .execute(conn)?;
    Ok(())
}

/// Applies one page of `origin`'s feed and moves the cursor, in one transaction: a page applied
/// twice changes nothing, and a crash between pages resumes from the last one applied.
pub fn apply(
    conn: &mut DbConnection,
    origin: &str,
    page: &FeedPage,
    now: NaiveDateTime,
) -> Result<usize, CoreError> {
    conn.transaction(|conn| {
        take_write_lock(conn)?;
        let mut changed = 0;
        for item in &page.items {
            let key = || {
                federation_directory::table
                    .filter(federation_directory::origin.eq(origin))
                    .filter(federation_directory::kind.eq(item.kind))
                    .filter(federation_directory::item_id.eq(Id(item.id)))
            };
            let held: Option<i64> = key()
                .select(federation_directory::version)
                .first(conn)
                .optional()?;
            if held.is_some_and(|v| v >= item.seq) {
                continue;
            }
            diesel::delete(key()).execute(conn)?;
            if !item.deleted {
                diesel::insert_into(federation_directory::table)
                    .values((
                        federation_directory::origin.eq(origin),
                        federation_directory::kind.eq(item.kind),
                        federation_directory::item_id.eq(Id(item.id)),
                        federation_directory::version.eq(item.seq),
                        federation_directory::payload.eq(json(&item.item)?),
                        federation_directory::synced_at.eq(now),
                    ))
                    .execute(conn)?;
            }
            changed += 1;
        }
        set_cursor(conn, origin, page.cursor, None, now)?;
        Ok(changed)
    })
}

pub fn record_sync_failure(
    conn: &mut DbConnection,
    origin: &str,
    error: &str,
    now: NaiveDateTime,
) -> Result<(), CoreError> {
    let at = cursor(conn, origin)?;
    set_cursor(conn, origin, at, Some(error), now)
}

/// Forgets everything cached from a node that left or was suspended.
pub fn forget_origin(conn: &mut DbConnection, origin: &str) -> Result<(), CoreError> {
    diesel::delete(federation_directory::table.filter(federation_directory::origin.eq(origin)))
        .execute(conn)?;
    diesel::delete(federation_cursors::table.filter(federation_cursors::origin.eq(origin)))
        .execute(conn)?;
    Ok(())
}

/// One cached item of the network directory.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectoryEntry {
    pub origin: String,
    pub item: serde_json::Value,
    pub version: i64,
}

/// The cached directory of `kind`, every origin but this node, newest first.
pub fn directory(
    conn: &mut DbConnection,
    kind: FeedKind,
) -> Result<Vec<DirectoryEntry>, CoreError> {
    let rows: Vec<(String, String, i64)> = federation_directory::table
        .filter(federation_directory::kind.eq(kind))
        .order((
            federation_directory::origin.asc(),
            federation_directory::version.desc(),
        ))
        .select((
            federation_directory::origin,
            federation_directory::payload,
            federation_directory::version,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(origin, payload, version)| {
            Ok(DirectoryEntry {
                origin,
                item: parse(&payload)?,
                version,
            })
        })
        .collect()
}

/// Sync state per origin, for `federation status` and monitoring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncState {
    pub origin: String,
    pub cursor: i64,
    pub synced_at: Option<NaiveDateTime>,
    pub failures: i32,
    pub last_error: Option<String>,
}

pub fn sync_states(conn: &mut DbConnection) -> Result<Vec<SyncState>, CoreError> {
    type Row = (String, i64, Option<NaiveDateTime>, i32, Option<String>);
    let rows: Vec<Row> = federation_cursors::table
        .order(federation_cursors::origin.asc())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(origin, cursor, synced_at, failures, last_error)| SyncState {
                origin,
                cursor,
                synced_at,
                failures,
                last_error,
            },
        )
        .collect())
}

// ---- network metrics (steward) ----

pub fn store_metrics(
    conn: &mut DbConnection,
    member: &str,
    period: &str,
    payload: &serde_json::Value,
    now: NaiveDateTime,
) -> Result<(), CoreError> {
    conn.transaction(|conn| {
        diesel::delete(
            federation_metrics::table
                .filter(federation_metrics::member.eq(member))
                .filter(federation_metrics::period.eq(period)),
        )
        .execute(conn)?;
        diesel::insert_into(federation_metrics::table)
            .values((
                federation_metrics::member.eq(member),
                federation_metrics::period.eq(period),
                federation_metrics::payload.eq(json(payload)?),
                federation_metrics::fetched_at.eq(now),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// The stored figures of the periods `periods`: member, period, payload, when fetched; by
/// member, then period.
pub fn metrics_for_periods(
    conn: &mut DbConnection,
    periods: &[String],
) -> Result<Vec<(String, String, serde_json::Value, NaiveDateTime)>, CoreError> {
    let rows: Vec<(String, String, String, NaiveDateTime)> = federation_metrics::table
        .filter(federation_metrics::period.eq_any(periods))
        .order((
            federation_metrics::member.asc(),
            federation_metrics::period.asc(),
        ))
        .select((
            federation_metrics::member,
            federation_metrics::period,
            federation_metrics::payload,
            federation_metrics::fetched_at,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(m, period, p, at)| Ok((m, period, parse(&p)?, at)))
        .collect()
}

/// Which (member, period) figures the steward holds.
pub fn metrics_held(
    conn: &mut DbConnection,
) -> Result<std::collections::HashSet<(String, String)>, CoreError> {
    Ok(federation_metrics::table
        .select((federation_metrics::member, federation_metrics::period))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// Records a verified call's id until it expires; false if a replica of this node (or this one)
/// has already answered it. Expired ids are forgotten first, so the table holds at most a few
/// minutes of calls. Not in a transaction: two replicas inserting the same id at once meet the
/// primary key, and the second is told it is a replay.
pub fn first_use_anywhere(
    conn: &mut DbConnection,
    call_id: &str,
    until: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<bool, CoreError> {
    use alongside_core::schema::federation_seen_calls as seen;
    diesel::delete(seen::table.filter(seen::expires_at.lt(now))).execute(conn)?;
    let inserted = diesel::insert_into(seen::table)
        .values((seen::call_id.eq(call_id), seen::expires_at.eq(until)))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        Err(e) => Err(e.into()),
    }
}
