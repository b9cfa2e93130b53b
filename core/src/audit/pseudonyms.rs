//! PostgreSQL's way to the pseudonyms of the people acting on cases and the cases' aliases: the
//! ones stored are read and the missing ones created in one statement, so a write about a new
//! case makes one round trip for them instead of a read and an insert. SQLite reads, then
//! writes what is missing, in process (`super::case_actors`).

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, Text, Untyped};

use super::RECORD;
use crate::error::CoreError;

/// One stored (or just created) pseudonym: the case, the actor (or [`RECORD`] for the case's
/// alias) and what the chain calls them.
#[derive(QueryableByName)]
pub(super) struct Stored {
    #[diesel(sql_type = Text)]
    pub request_id: String,
    #[diesel(sql_type = Text)]
    pub actor: String,
    #[diesel(sql_type = Text)]
    pub pseudonym: String,
}

/// The pseudonyms of `wanted` (case, actor) pairs, none repeated, creating each missing one as
/// `case:` (the alias) or `pseudonym:` and 16 hex digits of strong randomness
/// (`gen_random_uuid`, hashed), the form `super::case_actors` gives them on SQLite. A pair
/// another transaction is creating at the same moment is left out (its insert wins; read it
/// again after this statement).
pub(super) fn read_or_create(
    conn: &mut diesel::PgConnection,
    wanted: &[(String, String)],
) -> Result<Vec<Stored>, CoreError> {
    Ok(Statement {
        cases: wanted.iter().map(|(c, _)| c.as_str()).collect(),
        actors: wanted.iter().map(|(_, a)| a.as_str()).collect(),
    }
    .load(conn)?)
}

/// The statement; a query type of its own so that diesel keeps it prepared on each connection
/// (`diesel::sql_query` never is).
struct Statement<'a> {
    cases: Vec<&'a str>,
    actors: Vec<&'a str>,
}

impl QueryId for Statement<'_> {
    type QueryId = ();
    // Keyed by its text, which never changes.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Statement<'_> {
    type SqlType = Untyped;
}

impl QueryFragment<Pg> for Statement<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH wanted AS (SELECT * FROM unnest(");
        out.push_bind_param::<Array<Text>, _>(&self.cases)?;
        out.push_sql("::text[], ");
        out.push_bind_param::<Array<Text>, _>(&self.actors)?;
        out.push_sql(
            "::text[]) AS w(request_id, actor)), \
             created AS (INSERT INTO case_pseudonyms (request_id, actor, pseudonym) \
                 SELECT w.request_id, w.actor, \
                     CASE WHEN w.actor = '",
        );
        out.push_sql(RECORD);
        out.push_sql(
            "' THEN 'case:' ELSE 'pseudonym:' END \
                     || left(encode(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'hex'), 16) \
                 FROM wanted w WHERE NOT EXISTS (SELECT 1 FROM case_pseudonyms p \
                     WHERE p.request_id = w.request_id AND p.actor = w.actor) \
                 ON CONFLICT DO NOTHING \
                 RETURNING request_id, actor, pseudonym) \
             SELECT request_id, actor, pseudonym FROM created \
             UNION ALL \
             SELECT p.request_id, p.actor, p.pseudonym FROM case_pseudonyms p \
                 JOIN wanted w ON p.request_id = w.request_id AND p.actor = w.actor",
        );
        Ok(())
    }
}

impl RunQueryDsl<diesel::PgConnection> for Statement<'_> {}
