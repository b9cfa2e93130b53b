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

/// A statement of rows of SQL type `ST` (`()` for a write) whose whole text is `sql` (`S`: a
/// `&'static str`, or a `String` for a text built at run time), with the values `V` (a tuple)
/// of SQL types `BT` (a tuple) bound where the text says `$1`, `$2`, …, each once and in order
/// (written as each backend numbers its parameters).
pub struct Fixed<ST, BT, V, S> {
    sql: S,
    values: V,
    types: PhantomData<(ST, BT)>,
}

impl<ST, BT, V, S: AsRef<str>> Fixed<ST, BT, V, S> {
    pub fn new(sql: S, values: V) -> Self {
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
values!(2: 1 T1 V1, 2 T2 V2);
values!(3: 1 T1 V1, 2 T2 V2, 3 T3 V3);
values!(4: 1 T1 V1, 2 T2 V2, 3 T3 V3, 4 T4 V4);
values!(7: 1 T1 V1, 2 T2 V2, 3 T3 V3, 4 T4 V4, 5 T5 V5, 6 T6 V6, 7 T7 V7);
values!(12: 1 T1 V1, 2 T2 V2, 3 T3 V3, 4 T4 V4, 5 T5 V5, 6 T6 V6, 7 T7 V7, 8 T8 V8, 9 T9 V9,
    10 T10 V10, 11 T11 V11, 12 T12 V12);

impl<ST, BT, V, S> QueryId for Fixed<ST, BT, V, S> {
    type QueryId = ();
    // Not one type for every text: diesel then keys the prepared statement by the text itself.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST, BT, V, S, DB> QueryFragment<DB> for Fixed<ST, BT, V, S>
where
    DB: Backend,
    V: Values<BT, DB>,
    S: AsRef<str>,
{
    // Runs at every execution (diesel keys its prepared statements by the text it writes), so
    // it finds the markers without allocating.
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let mut rest = self.sql.as_ref();
        for n in 1..=V::COUNT {
            let Some((before, after)) = around_marker(rest, n) else {
                return Err(diesel::result::Error::QueryBuilderError(
                    format!("a fixed statement without ${n}: {}", self.sql.as_ref()).into(),
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

/// `text` before and after its first `$n` (whole: `$1` is not the start of `$10`).
fn around_marker(text: &str, n: usize) -> Option<(&str, &str)> {
    let mut from = 0;
    while let Some(found) = text[from..].find('$') {
        let start = from + found + 1;
        let end = text[start..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(text.len(), |d| start + d);
        if text[start..end].parse() == Ok(n) {
            return Some((&text[..start - 1], &text[end..]));
        }
        from = start;
    }
    None
}

impl<ST, BT, V, S> Query for Fixed<ST, BT, V, S> {
    type SqlType = ST;
}

impl<ST, BT, V, S, C> RunQueryDsl<C> for Fixed<ST, BT, V, S> {}

#[cfg(test)]
mod tests {
    use super::around_marker;

    #[test]
    fn a_marker_is_found_whole() {
        assert_eq!(
            around_marker("a = $10 AND b = $1::text", 1),
            Some(("a = $10 AND b = ", "::text"))
        );
        assert_eq!(around_marker("x = $10", 10), Some(("x = ", "")));
        assert_eq!(around_marker("x = $2", 1), None);
        assert_eq!(around_marker("costs $ 5", 5), None);
    }
}
