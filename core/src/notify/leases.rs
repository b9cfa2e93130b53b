//! Job leases: with several `serve` replicas on one database, only the holder of a job's lease
//! runs it. A lease expires by itself, so a crashed holder blocks no one for long.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::CoreError;
use crate::schema::job_leases;

/// Takes or renews the lease on `job` for `holder`; false when another holder has it.
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
                    .or(job_leases::expires_at.lt(now)),
            ),
        )
        .set((
            job_leases::holder.eq(holder),
            job_leases::expires_at.eq(now + ttl),
        ))
        .execute(conn)?;
        Ok(taken == 1)
    })
}
