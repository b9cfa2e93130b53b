//! Both migration trees must produce the same tables and columns.

use std::collections::BTreeSet;

use alongside_core::db::testing::{TEST_DATABASE_ENV, TestDatabase};
use alongside_core::db::{self, DbConnection};
use diesel::RunQueryDsl;
use diesel::sql_types::{Integer, Text};

#[derive(diesel::QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
}

#[derive(diesel::QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Integer)]
    notnull: i32,
}

type Shape = BTreeSet<(String, String, String, bool)>;

fn normalise(t: &str) -> String {
    match t.to_lowercase().as_str() {
        "timestamp without time zone" => "timestamp".into(),
        other => other.into(),
    }
}

fn shape(conn: &mut DbConnection) -> Shape {
    match conn {
        DbConnection::Pg(c) => diesel::sql_query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name, data_type::text AS data_type, \
             is_nullable::text AS is_nullable FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
        )
        .load::<PgColumn>(c)
        .unwrap()
        .into_iter()
        .map(|r| (r.table_name, r.column_name, normalise(&r.data_type), r.is_nullable == "YES"))
        .collect(),
        DbConnection::Sqlite(c) => diesel::sql_query(
            "SELECT m.name AS table_name, p.name AS name, p.type AS kind, p.\"notnull\" AS \"notnull\" \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations'",
        )
        .load::<SqliteColumn>(c)
        .unwrap()
        .into_iter()
        // SQLite allows NULL in a primary key unless told otherwise; every key here says NOT NULL.
        .map(|r| (r.table_name, r.name, normalise(&r.kind), r.notnull == 0))
        .collect(),
    }
}

#[test]
fn sqlite_and_postgres_trees_define_the_same_tables_and_columns() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite_url = format!("sqlite://{}", dir.path().join("shape.db").display());
    let mut sqlite = db::establish(&sqlite_url, 1000).unwrap();
    db::run_migrations(&mut sqlite).unwrap();
    let sqlite_shape = shape(&mut sqlite);
    assert!(
        sqlite_shape
            .iter()
            .any(|c| c.0 == "people" && c.1 == "email")
    );

    let Ok(admin) = std::env::var(TEST_DATABASE_ENV) else {
        // CI runs the suite again with PostgreSQL, where the comparison happens.
        eprintln!(
            "NOTE: {TEST_DATABASE_ENV} is not set; compared nothing against PostgreSQL in this run"
        );
        return;
    };
    let pg_db = TestDatabase::create_postgres(&admin).unwrap();
    let mut pg = db::establish(&pg_db.url, 1000).unwrap();
    db::run_migrations(&mut pg).unwrap();
    let pg_shape = shape(&mut pg);
    let only_sqlite: Vec<_> = sqlite_shape.difference(&pg_shape).collect();
    let only_pg: Vec<_> = pg_shape.difference(&sqlite_shape).collect();
    assert!(
        only_sqlite.is_empty() && only_pg.is_empty(),
        "only in SQLite: {only_sqlite:#?}\nonly in PostgreSQL: {only_pg:#?}"
    );
}
