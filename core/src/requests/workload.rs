//! Each supporter's encounter minutes per month, kept as a running total as encounters are
//! recorded: matching reads it for every new request (monthly hours caps), and summing the
//! month's encounters each time would cost more the busier the month.
//!
//! The total is hours worked, so it stays when a case is later purged by retention.

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date};
use std::collections::HashMap;
use uuid::Uuid;

use crate::db::fixed::Fixed;
use crate::db::{DbConnection, Id, UuidText};
use crate::error::CoreError;
use crate::schema::supporter_minutes;
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
    // One statement, so two encounters recorded at once for the same supporter's first of the
    // month cannot both try to create the row. Fixed, so that it is kept prepared: diesel's
    // `ON CONFLICT … DO UPDATE` and `sql_query` are planned again at every run.
    const UPSERT: &str = "INSERT INTO supporter_minutes (supporter_id, month, minutes) \
        VALUES ($1, $2, $3) ON CONFLICT (supporter_id, month) \
        DO UPDATE SET minutes = supporter_minutes.minutes + excluded.minutes";
    let values = (Id(supporter), month_of(occurred_on), band.minutes());
    crate::db::on_backend!(conn, |c| {
        Fixed::<(), (UuidText, Date, BigInt), _, _>::new(UPSERT, values).execute(c)
    })?;
    Ok(())
}

/// Minutes per supporter (stored id) in the month that starts on `month`.
pub(crate) fn in_month(
    conn: &mut DbConnection,
    month: NaiveDate,
) -> Result<HashMap<Uuid, i64>, CoreError> {
    Ok(supporter_minutes::table
        .filter(supporter_minutes::month.eq(month))
        .select((supporter_minutes::supporter_id, supporter_minutes::minutes))
        .load::<(Uuid, i64)>(conn)?
        .into_iter()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_start_on_the_first() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(month_of(d(2026, 11, 27)), d(2026, 11, 1));
        assert_eq!(month_of(d(2026, 12, 1)), d(2026, 12, 1));
        assert_eq!(month_of(d(2024, 2, 29)), d(2024, 2, 1));
    }
}
