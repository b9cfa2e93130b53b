//! Reads whose SQL text is fixed, with their constants written into the text.
//!
//! Diesel binds every value of its query builder as a parameter, and PostgreSQL plans a
//! prepared statement once for all values of its parameters (a generic plan, from the 6th run
//! on): a plan that cannot use an index made for one value (`WHERE state = 'offered'`) and
//! that, made while a table was still small, scans the whole table until the next `ANALYZE`.
//! `diesel::sql_query` writes constants into the text but is planned again at every run.
//! A [`Fixed`] statement is both: its text holds the constants, and diesel keeps it prepared on
//! each connection, keyed by that text.

use std::marker::PhantomData;

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::HasSqlType;
use diesel::{QueryResult, RunQueryDsl};

/// Where a [`Fixed`] statement's text takes its one value.
const MARKER: &str = "$1";

/// A read of rows of SQL type `ST` whose whole text is `sql`, with one value of SQL type `BT`
/// bound where the text says `$1` (written as each backend numbers its parameters).
pub struct Fixed<ST, BT, V> {
    sql: &'static str,
    value: V,
    types: PhantomData<(ST, BT)>,
}

impl<ST, BT, V> Fixed<ST, BT, V> {
    pub fn new(sql: &'static str, value: V) -> Self {
        Self {
            sql,
            value,
            types: PhantomData,
        }
    }
}

impl<ST, BT, V> QueryId for Fixed<ST, BT, V> {
    type QueryId = ();
    // Not one type for every text: diesel then keys the prepared statement by the text itself.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST, BT, V, DB> QueryFragment<DB> for Fixed<ST, BT, V>
where
    DB: Backend + HasSqlType<BT>,
    V: ToSql<BT, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let Some((before, after)) = self.sql.split_once(MARKER) else {
            return Err(diesel::result::Error::QueryBuilderError(
                format!("a fixed statement without {MARKER}: {}", self.sql).into(),
            ));
        };
        out.push_sql(before);
        out.push_bind_param::<BT, V>(&self.value)?;
        out.push_sql(after);
        Ok(())
    }
}

impl<ST, BT, V> Query for Fixed<ST, BT, V> {
    type SqlType = ST;
}

impl<ST, BT, V, C> RunQueryDsl<C> for Fixed<ST, BT, V> {}
