//! How the domain's own types are kept in TEXT columns, written once for both backends: ids
//! (UUIDs, as their hyphenated text), the vocabulary's enums (their stable names, through
//! [`text_enum_storage!`](crate::text_enum_storage)) and JSON values ([`Json`]). Queries bind
//! and read these types directly, so no query converts an id to a string or back.

use std::io::Write as _;

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, Queryable};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::query_builder::QueryId;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{HasSqlType, SqlType, Text};
use diesel::sqlite::Sqlite;
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::MultiBackend;

/// A UUID kept as text (both backends store ids as TEXT, so a database copied between them
/// reads the same).
#[derive(Debug, Clone, Copy, Default, SqlType, QueryId)]
#[diesel(sqlite_type(name = "Text"))]
#[diesel(postgres_type(oid = 25, array_oid = 1009))]
pub struct UuidText;

impl HasSqlType<UuidText> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        MultiBackend::lookup_sql_type::<UuidText>(lookup)
    }
}

/// An id bound into a query: `people::id.eq(Id(person))`. (diesel cannot let `Uuid` itself be
/// an expression outside diesel, so binding goes through this local name; reading gives `Uuid`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression)]
#[diesel(sql_type = UuidText)]
pub struct Id(pub Uuid);

impl<DB> ToSql<UuidText, DB> for Id
where
    DB: Backend,
    Uuid: ToSql<UuidText, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        self.0.to_sql(out)
    }
}

impl Id {
    /// Ids bound as a list (`eq_any`).
    pub fn list(ids: &[Uuid]) -> Vec<Id> {
        ids.iter().copied().map(Id).collect()
    }
}

impl ToSql<UuidText, Sqlite> for Uuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.to_string());
        Ok(IsNull::No)
    }
}

impl ToSql<UuidText, Pg> for Uuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        write!(out, "{}", self.hyphenated())?;
        Ok(IsNull::No)
    }
}

impl ToSql<UuidText, MultiBackend> for Uuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((UuidText, self));
        Ok(IsNull::No)
    }
}

/// A malformed stored id means the data was changed outside the node: the read fails.
impl<DB> FromSql<UuidText, DB> for Uuid
where
    DB: Backend,
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, DB>>::from_sql(bytes)?;
        Uuid::parse_str(&text).map_err(|e| format!("stored id {text:?}: {e}").into())
    }
}

impl<DB> Queryable<UuidText, DB> for Uuid
where
    DB: Backend,
    Uuid: FromSql<UuidText, DB>,
{
    type Row = Self;
    fn build(row: Self) -> deserialize::Result<Self> {
        Ok(row)
    }
}

/// A value kept as JSON text (lists of languages, availability windows, audiences): both
/// backends store it alike and the domain reads it whole.
#[derive(Debug, Clone, PartialEq, Eq, Default, AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct Json<T>(pub T);

impl<T: Serialize + std::fmt::Debug + Send + Sync + 'static> ToSql<Text, Sqlite> for Json<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(serde_json::to_string(&self.0)?);
        Ok(IsNull::No)
    }
}

impl<T: Serialize + std::fmt::Debug + Send + Sync + 'static> ToSql<Text, Pg> for Json<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        serde_json::to_writer(out, &self.0)?;
        Ok(IsNull::No)
    }
}

impl<T: Serialize + std::fmt::Debug + Send + Sync + 'static> ToSql<Text, MultiBackend> for Json<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((Text, self));
        Ok(IsNull::No)
    }
}

impl<T, DB> FromSql<Text, DB> for Json<T>
where
    T: DeserializeOwned,
    DB: Backend,
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, DB>>::from_sql(bytes)?;
        Ok(Json(serde_json::from_str(&text)?))
    }
}

/// Gives a vocabulary enum (with `as_str` and `FromStr`) its TEXT storage on both backends.
#[macro_export]
macro_rules! text_enum_storage {
    ($name:ty) => {
        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::sqlite::Sqlite> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
            ) -> diesel::serialize::Result {
                out.set_value(self.as_str());
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                std::io::Write::write_all(out, self.as_str().as_bytes())?;
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, $crate::db::MultiBackend>
            for $name
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, $crate::db::MultiBackend>,
            ) -> diesel::serialize::Result {
                out.set_value((diesel::sql_types::Text, self));
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let text =
                    <String as diesel::deserialize::FromSql<diesel::sql_types::Text, DB>>::from_sql(
                        bytes,
                    )?;
                text.parse::<$name>()
                    .map_err(|e| format!("stored {}: {e}", stringify!($name)).into())
            }
        }
    };
}

/// Reads a JSON column straight into a domain field (`#[diesel(deserialize_as = Json<T>)]`);
/// each module names its own list types.
macro_rules! json_field {
    ($($ty:ty),+ $(,)?) => {$(
        impl From<$crate::db::Json<$ty>> for $ty {
            fn from(json: $crate::db::Json<$ty>) -> Self {
                json.0
            }
        }
    )+};
}

pub(crate) use json_field;

json_field!(
    Vec<String>,
    Vec<i32>,
    serde_json::Map<String, serde_json::Value>,
);

/// A timestamp read back (`#[diesel(deserialize_as = Stamp)]` on the `NaiveDateTime` fields of
/// rows read in bulk). SQLite keeps timestamps as text, and diesel reads each through chrono's
/// format interpreter, trying up to 18 formats: a tenth of the database work of a 20-row page
/// of supporters (docs/performance.md). The text the node itself writes (`2026-12-03
/// 06:17:25.123456`) is read here by hand; any other form goes to diesel as before.
/// PostgreSQL sends a number and is read as always.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::FromSqlRow)]
pub struct Stamp(pub chrono::NaiveDateTime);

impl From<Stamp> for chrono::NaiveDateTime {
    fn from(stamp: Stamp) -> Self {
        stamp.0
    }
}

impl FromSql<diesel::sql_types::Timestamp, Sqlite> for Stamp {
    fn from_sql(mut value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        if let Some(at) = stamp_as_written(value.read_text()) {
            return Ok(Stamp(at));
        }
        <chrono::NaiveDateTime as FromSql<diesel::sql_types::Timestamp, Sqlite>>::from_sql(value)
            .map(Stamp)
    }
}

impl FromSql<diesel::sql_types::Timestamp, Pg> for Stamp {
    fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <chrono::NaiveDateTime as FromSql<diesel::sql_types::Timestamp, Pg>>::from_sql(value)
            .map(Stamp)
    }
}

impl FromSql<diesel::sql_types::Timestamp, MultiBackend> for Stamp {
    fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, diesel::sql_types::Timestamp>()
    }
}

/// `YYYY-MM-DD HH:MM:SS`, then optionally `.` and 1 to 9 digits: the form diesel writes
/// (`%F %T%.f`). `None` for anything else, and for a date or time that does not exist.
fn stamp_as_written(text: &str) -> Option<chrono::NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let number = |digits: &[u8]| {
        digits.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let year = i32::try_from(number(&b[0..4])?).ok()?;
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            number(digits)? * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    chrono::NaiveDate::from_ymd_opt(year, number(&b[5..7])?, number(&b[8..10])?)?.and_hms_nano_opt(
        number(&b[11..13])?,
        number(&b[14..16])?,
        number(&b[17..19])?,
        nanos,
    )
}

#[cfg(test)]
mod stamp_tests {
    use chrono::NaiveDateTime;

    use super::stamp_as_written;

    /// Whatever the hand-written reader accepts, chrono's reader of the same format reads alike.
    #[test]
    fn the_node_s_own_form_reads_as_chrono_reads_it() {
        for text in [
            "2026-12-03 06:17:25",
            "2026-12-03 06:17:25.1",
            "2026-12-03 06:17:25.123456",
            "2026-12-03 06:17:25.123456789",
            "1970-01-01 00:00:00.000001",
            "2024-02-29 23:59:59.999999",
            "0001-01-01 00:00:00",
        ] {
            let chrono = NaiveDateTime::parse_from_str(text, "%F %T%.f").ok();
            assert!(chrono.is_some(), "{text}");
            assert_eq!(stamp_as_written(text), chrono, "{text}");
        }
        let written = chrono::Utc::now().naive_utc();
        let text = written.format("%F %T%.f").to_string();
        assert_eq!(stamp_as_written(&text), Some(written));
    }

    /// Every other form is left to diesel's reader (which knows 18 of them), and an impossible
    /// date is not made into a possible one.
    #[test]
    fn other_forms_are_left_to_diesel() {
        for text in [
            "2026-12-03T06:17:25",
            "2026-12-03 06:17:25Z",
            "2026-12-03 06:17:25+01:00",
            "2026-12-03 06:17:25.",
            "2026-12-03 06:17:25.1234567890",
            "2026-12-03 06:17",
            "2026-02-30 06:17:25",
            "2026-12-03 24:00:00",
            "2026-12-03 06:17:60",
            "2026-1x-03 06:17:25",
            "+2026-12-03 06:17:25",
            "2461377.5",
            "",
        ] {
            assert_eq!(stamp_as_written(text), None, "{text}");
        }
    }
}
