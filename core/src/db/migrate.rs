//! Migrations: one tree per backend, embedded in the binary.

use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::DbConnection;
use crate::error::CoreError;

const SQLITE: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

#[derive(Debug, Clone, Default)]
pub struct MigrationReport {
    /// Versions applied by this run, oldest first.
    pub applied: Vec<String>,
}

/// Applies every pending migration for the connection's backend.
pub fn run_migrations(conn: &mut DbConnection) -> Result<MigrationReport, CoreError> {
    let applied = match conn {
        DbConnection::Pg(c) => c.run_pending_migrations(POSTGRES).map(versions),
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE).map(versions),
    }
    .map_err(|e| CoreError::internal(format!("migration failed: {e}")))?;
    Ok(MigrationReport { applied })
}

fn versions(list: Vec<diesel::migration::MigrationVersion<'_>>) -> Vec<String> {
    list.into_iter().map(|v| v.to_string()).collect()
}
