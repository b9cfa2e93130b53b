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
