//! All timestamps are UTC, stored without zone, at microsecond precision (what PostgreSQL keeps,
//! so a value reads back exactly as written on both backends).

use chrono::{NaiveDateTime, SubsecRound, Utc};

pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}
