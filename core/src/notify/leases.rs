//! Job leases: with several `serve` replicas on one database, only the holder of a job's lease
//! runs it. A lease ends when its holder releases it (a graceful shutdown), when its time runs
//! out, or — so a restart after a crash does not wait out the lease — as soon as its holder has
//! not beaten its heartbeat for [`STALE_AFTER`].

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::CoreError;
use crate::schema::job_leases;

/// How often a live process beats the heartbeat of every lease it holds.
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(10);

/// A holder silent this long is gone: three heartbeats missed, so one slow beat is no takeover.
pub const STALE_AFTER: Duration = Duration::seconds(30);

/// Takes or renews the lease on `job` for `holder`; false when another live holder has it.
pub fn try_acquire(
    conn: &mut DbConnection,
    job: &str,
    holder: &str,
    ttl: Duration,
    now: NaiveDateTime,
) -> Result<bool, CoreError> {
    conn.transaction(|conn| {
        crate::db::take_write_lock(conn)?;
        let exists: i64 = job_leases::table
            .filter(job_leases::name.eq(job))
            .count()
            .get_result(conn)?;
        if exists == 0 {
            let inserted = diesel::insert_into(job_leases::table)
                .values((
                    job_leases::name.eq(job),
                    job_leases::holder.eq(holder),
                    job_leases::expires_at.eq(now + ttl),
                    job_leases::heartbeat_at.eq(now),
                ))
                .execute(conn);
            return match inserted {
                Ok(_) => Ok(true),
                // Someone else created it at the same moment.
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) => Ok(false),
                Err(e) => Err(e.into()),
            };
        }
        let taken = diesel::update(
            job_leases::table.filter(job_leases::name.eq(job)).filter(
                job_leases::holder
                    .eq(holder)
                    .or(job_leases::expires_at.lt(now))
                    .or(job_leases::heartbeat_at.lt(now - STALE_AFTER)),
            ),
        )
        .set((
            job_leases::holder.eq(holder),
            job_leases::expires_at.eq(now + ttl),
            job_leases::heartbeat_at.eq(now),
        ))
        .execute(conn)?;
        Ok(taken == 1)
    })
}

/// `holder` is alive: every lease it holds keeps its heartbeat.
pub fn heartbeat(
    conn: &mut DbConnection,
    holder: &str,
    now: NaiveDateTime,
) -> Result<usize, CoreError> {
    Ok(
        diesel::update(job_leases::table.filter(job_leases::holder.eq(holder)))
            .set(job_leases::heartbeat_at.eq(now))
            .execute(conn)?,
    )
}

/// `holder` is stopping: its leases are free for the next process at once.
pub fn release_all(conn: &mut DbConnection, holder: &str) -> Result<usize, CoreError> {
    Ok(diesel::delete(job_leases::table.filter(job_leases::holder.eq(holder))).execute(conn)?)
}

/// Who holds each lease now, for the operator's status: (job, holder, heartbeat).
pub fn holders(
    conn: &mut DbConnection,
) -> Result<Vec<(String, String, Option<NaiveDateTime>)>, CoreError> {
    Ok(job_leases::table
        .select((
            job_leases::name,
            job_leases::holder,
            job_leases::heartbeat_at,
        ))
        .order(job_leases::name)
        .load(conn)?)
}
