//! Each supporter's encounter minutes per month, kept as a running total as encounters are
//! recorded: matching reads it for every new request (monthly hours caps), and summing the
//! month's encounters each time would cost more the busier the month.
//!
//! The total is hours worked, so it stays when a case is later purged by retention.
//!
//! It is kept in stripes, summed when read: an encounter adds to the stripe of the database
//! thread recording it (`db::threads::stripe`). One row per supporter and month was held by each
//! encounter until its commit, and every other encounter of that supporter recorded meanwhile
//! waited for it, holding a connection that new requests then waited for.

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, SmallInt};
use std::collections::HashMap;
use uuid::Uuid;

use crate::db::fixed::Fixed;
use crate::db::together::Writes;
use crate::db::{DbConnection, Id, UuidText};
use crate::error::CoreError;
use crate::schema::{supporter_cases, supporter_minutes};
use crate::vocab::DurationBand;

/// The first day of `day`'s month, the key of the running totals.
pub(crate) fn month_of(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// Adds an encounter's minutes to its supporter's total for the month it happened in.
pub(crate) fn add(
    conn: &mut DbConnection,
    supporter: Uuid,
    occurred_on: NaiveDate,
    band: DurationBand,
) -> Result<(), CoreError> {
    let mut writes = Writes::new();
    add_with(conn, &mut writes, supporter, occurred_on, band)?;
    writes.finish(conn)
}

/// [`add`], held in `writes` (PostgreSQL) with the other rows its use case writes.
pub(crate) fn add_with(
    conn: &mut DbConnection,
    writes: &mut Writes,
    supporter: Uuid,
    occurred_on: NaiveDate,
    band: DurationBand,
) -> Result<(), CoreError> {
    // One statement, so two encounters recorded at once for the same supporter's first of the
    // month cannot both try to create the row. Fixed, so that it is kept prepared: diesel's
    // `ON CONFLICT … DO UPDATE` and `sql_query` are planned again at every run. PostgreSQL
    // takes it as a part of a `WITH` list too.
    const UPSERT: &str = "INSERT INTO supporter_minutes (supporter_id, month, minutes, stripe) \
        VALUES ($1, $2, $3, $4) ON CONFLICT (supporter_id, month, stripe) \
        DO UPDATE SET minutes = supporter_minutes.minutes + excluded.minutes";
    let values = (
        Id(supporter),
        month_of(occurred_on),
        band.minutes(),
        crate::db::threads::stripe(),
    );
    writes.insert(
        conn,
        Fixed::<(), (UuidText, Date, BigInt, SmallInt), _, _>::new(UPSERT, values),
    )
}

/// Minutes per supporter (stored id) in the month that starts on `month`.
pub(crate) fn in_month(
    conn: &mut DbConnection,
    month: NaiveDate,
) -> Result<HashMap<Uuid, i64>, CoreError> {
    let stripes = supporter_minutes::table
        .filter(supporter_minutes::month.eq(month))
        .select((supporter_minutes::supporter_id, supporter_minutes::minutes))
        .load::<(Uuid, i64)>(conn)?;
    Ok(by_supporter(stripes))
}

/// Stripes summed: one total for each supporter.
fn by_supporter(stripes: Vec<(Uuid, i64)>) -> HashMap<Uuid, i64> {
    let mut totals = HashMap::with_capacity(stripes.len());
    for (supporter, n) in stripes {
        *totals.entry(supporter).or_default() += n;
    }
    totals
}

/// Every supporter's cases held and offers waiting now, as the database keeps them by trigger
/// (`supporter_cases`, migration 000037): the one definition of a caseload, which matching reads
/// too.
pub(crate) fn cases(conn: &mut DbConnection) -> Result<HashMap<Uuid, i64>, CoreError> {
    let stripes = supporter_cases::table
        .select((supporter_cases::supporter_id, supporter_cases::cases))
        .load::<(Uuid, i64)>(conn)?;
    Ok(by_supporter(stripes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::TestDatabase;
    use crate::db::{Db, DbSettings, run_migrations};
    use crate::schema::{peer_supporters, people};
    use std::time::Duration;

    fn supporter(conn: &mut DbConnection) -> Result<Uuid, CoreError> {
        let (person, supporter) = (Uuid::new_v4(), Uuid::new_v4());
        let now = crate::time::now();
        diesel::insert_into(people::table)
            .values((
                people::id.eq(Id(person)),
                people::display_name.eq("Supporter"),
                people::profession.eq("nurse"),
                people::experience_band.eq("over_ten_years"),
                people::languages.eq("[\"en\"]"),
                people::created_at.eq(now),
                people::updated_at.eq(now),
                people::text_messages.eq(false),
                people::active.eq(true),
            ))
            .execute(conn)?;
        diesel::insert_into(peer_supporters::table)
            .values((
                peer_supporters::id.eq(Id(supporter)),
                peer_supporters::person_id.eq(Id(person)),
                peer_supporters::lived_experience.eq(false),
                peer_supporters::time_zone.eq("UTC"),
                peer_supporters::availability.eq("[]"),
                peer_supporters::caseload_cap.eq(3),
                peer_supporters::outside_matching_opt_in.eq(false),
                peer_supporters::active.eq(true),
                peer_supporters::created_at.eq(now),
                peer_supporters::updated_at.eq(now),
                peer_supporters::monthly_hours_cap.eq(10),
            ))
            .execute(conn)?;
        Ok(supporter)
    }

    /// Two encounters of one supporter recorded at once, on two database threads. On
    /// PostgreSQL the first holds its transaction open until the second has committed: with one
    /// row per supporter and month the second would wait for the first, and neither would end.
    /// SQLite writes one at a time, so there they follow each other. Either way the month's
    /// total is both.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn minutes_recorded_at_once_wait_for_no_one_and_are_summed() {
        let dir = tempfile::tempdir().unwrap();
        let database = TestDatabase::create(dir.path()).unwrap();
        let db = Db::connect(&DbSettings::new(database.url.clone())).unwrap();
        run_migrations(&mut db.get().unwrap()).unwrap();
        let supporter = db.write(supporter).await.unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let (second_done, second_committed) = std::sync::mpsc::channel::<()>();
        let hold = database.is_postgres();
        let first = db.transaction(move |conn| {
            add(conn, supporter, day, DurationBand::UnderFifteen)?;
            if hold {
                second_committed
                    .recv_timeout(Duration::from_secs(20))
                    .map_err(|_| CoreError::internal("the second waited for the first"))?;
            }
            Ok(())
        });
        let second = async {
            let added = db
                .transaction(move |conn| add(conn, supporter, day, DurationBand::ThirtyToSixty))
                .await;
            let _ = second_done.send(());
            added
        };
        let (first, second) = tokio::join!(first, second);
        first.unwrap();
        second.unwrap();
        let totals = db
            .run(move |conn| in_month(conn, month_of(day)))
            .await
            .unwrap();
        assert_eq!(
            totals.get(&supporter).copied(),
            Some(DurationBand::UnderFifteen.minutes() + DurationBand::ThirtyToSixty.minutes())
        );
        let stripes: i64 = db
            .run(move |conn| {
                Ok(supporter_minutes::table
                    .filter(supporter_minutes::supporter_id.eq(Id(supporter)))
                    .count()
                    .get_result(conn)?)
            })
            .await
            .unwrap();
        if hold {
            assert_eq!(stripes, 2, "one stripe for each thread");
        }
    }

    #[test]
    fn months_start_on_the_first() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(month_of(d(2026, 11, 27)), d(2026, 11, 1));
        assert_eq!(month_of(d(2026, 12, 1)), d(2026, 12, 1));
        assert_eq!(month_of(d(2024, 2, 29)), d(2024, 2, 1));
    }
}
