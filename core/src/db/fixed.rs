//! Statements whose SQL text is fixed, with their constants written into the text.
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

/// A statement of rows of SQL type `ST` (`()` for a write) whose whole text is `sql`, with the
/// values `V` (a tuple) of SQL types `BT` (a tuple) bound where the text says `$1`, `$2`, …,
/// each once and in order (written as each backend numbers its parameters).
pub struct Fixed<ST, BT, V> {
    sql: &'static str,
    values: V,
    types: PhantomData<(ST, BT)>,
}

impl<ST, BT, V> Fixed<ST, BT, V> {
    pub fn new(sql: &'static str, values: V) -> Self {
        Self {
            sql,
            values,
            types: PhantomData,
        }
    }
}

/// Values bound in order: `push(n)` binds the `n`th, from 1.
pub trait Values<BT, DB: Backend> {
    const COUNT: usize;
    fn push<'b>(&'b self, n: usize, out: &mut AstPass<'_, 'b, DB>) -> QueryResult<()>;
}

macro_rules! values {
    ($count:literal: $($n:literal $t:ident $v:ident),+) => {
        impl<DB: Backend, $($t, $v),+> Values<($($t,)+), DB> for ($($v,)+)
        where
            $(DB: HasSqlType<$t>, $v: ToSql<$t, DB>,)+
        {
            const COUNT: usize = $count;
            #[allow(non_snake_case)]
            fn push<'b>(&'b self, n: usize, out: &mut AstPass<'_, 'b, DB>) -> QueryResult<()> {
                let ($($v,)+) = self;
                $(if n == $n {
                    return out.push_bind_param::<$t, $v>($v);
                })+
                Err(diesel::result::Error::QueryBuilderError(
                    format!("no value ${n} for a fixed statement").into(),
                ))
            }
        }
    };
}

values!(1: 1 T1 V1);
values!(3: 1 T1 V1, 2 T2 V2, 3 T3 V3);

impl<ST, BT, V> QueryId for Fixed<ST, BT, V> {
    type QueryId = ();
    // Not one type for every text: diesel then keys the prepared statement by the text itself.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST, BT, V, DB> QueryFragment<DB> for Fixed<ST, BT, V>
where
    DB: Backend,
    V: Values<BT, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let mut rest = self.sql;
        for n in 1..=V::COUNT {
            let marker = format!("${n}");
            let Some((before, after)) = rest.split_once(&marker) else {
                return Err(diesel::result::Error::QueryBuilderError(
                    format!("a fixed statement without {marker}: {}", self.sql).into(),
                ));
            };
            out.push_sql(before);
            self.values.push(n, &mut out)?;
            rest = after;
        }
        out.push_sql(rest);
        Ok(())
    }
}

impl<ST, BT, V> Query for Fixed<ST, BT, V> {
    type SqlType = ST;
}

impl<ST, BT, V, C> RunQueryDsl<C> for Fixed<ST, BT, V> {}
