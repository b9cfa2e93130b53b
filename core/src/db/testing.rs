//! Throwaway databases for tests: a fresh PostgreSQL database per test when
//! `ALONGSIDE_TEST_DATABASE_URL` names a server, otherwise a fresh SQLite file. Each test gets
//! its own, so tests run in parallel. Compiled always (it is small) so every test crate shares it.

use std::path::Path;

use diesel::{Connection, PgConnection, RunQueryDsl};

use crate::error::CoreError;

pub const TEST_DATABASE_ENV: &str = "ALONGSIDE_TEST_DATABASE_URL";

/// A database that exists for one test and is dropped after it.
#[derive(Debug)]
pub struct TestDatabase {
    pub url: String,
    admin: Option<(String, String)>,
}

impl TestDatabase {
    /// A new empty database; SQLite files go in `dir`.
    pub fn create(dir: &Path) -> Result<Self, CoreError> {
        match std::env::var(TEST_DATABASE_ENV)
            .ok()
            .filter(|v| !v.trim().is_empty())
        {
            Some(admin_url) => Self::create_postgres(&admin_url),
            None => Ok(Self {
                url: format!("sqlite://{}", dir.join("test.db").display()),
                admin: None,
            }),
        }
    }

    pub fn create_postgres(admin_url: &str) -> Result<Self, CoreError> {
        let name = format!("alongside_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(admin_url).map_err(|e| {
            CoreError::internal(format!("{TEST_DATABASE_ENV}: cannot connect: {e}"))
        })?;
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin)?;
        let url = match admin_url.rsplit_once('/') {
            Some((base, _)) if base.contains("://") && base.matches('/').count() >= 2 => {
                format!("{base}/{name}")
            }
            _ => {
                return Err(CoreError::internal(format!(
                    "{TEST_DATABASE_ENV} must end in /DATABASE"
                )));
            }
        };
        Ok(Self {
            url,
            admin: Some((admin_url.to_owned(), name)),
        })
    }

    pub fn is_postgres(&self) -> bool {
        self.admin.is_some()
    }

    /// PostgreSQL only: makes the database refuse new connections and ends the open ones, as a
    /// restart or failover does (`false`), or accept them again (`true`).
    pub fn accept_connections(&self, accept: bool) -> Result<(), CoreError> {
        self.as_admin(&format!(
            "ALTER DATABASE {{name}} WITH ALLOW_CONNECTIONS {accept}"
        ))?;
        if !accept {
            self.end_sessions()?;
        }
        Ok(())
    }

    /// PostgreSQL only: ends every open session of the database, as a restart that is over
    /// by the next request does. Returns how many it ended.
    pub fn end_sessions(&self) -> Result<usize, CoreError> {
        self.as_admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'",
        )
    }

    /// Whether the server offers TLS (`SHOW ssl`); false for SQLite.
    pub fn server_offers_tls(&self) -> Result<bool, CoreError> {
        #[derive(diesel::QueryableByName)]
        struct Setting {
            #[diesel(sql_type = diesel::sql_types::Text)]
            ssl: String,
        }
        let Some((admin_url, _)) = &self.admin else {
            return Ok(false);
        };
        let mut admin = PgConnection::establish(admin_url)
            .map_err(|e| CoreError::internal(format!("cannot connect: {e}")))?;
        let rows: Vec<Setting> = diesel::sql_query("SHOW ssl").load(&mut admin)?;
        Ok(rows.first().is_some_and(|r| r.ssl == "on"))
    }

    /// Runs `sql`, with `{name}` replaced by this database's name, on the server's admin
    /// connection; returns the rows it touched.
    fn as_admin(&self, sql: &str) -> Result<usize, CoreError> {
        let Some((admin_url, name)) = &self.admin else {
            return Err(CoreError::internal(
                "only a PostgreSQL test database has a server to administer",
            ));
        };
        let mut admin = PgConnection::establish(admin_url)
            .map_err(|e| CoreError::internal(format!("cannot connect: {e}")))?;
        Ok(diesel::sql_query(sql.replace("{name}", name)).execute(&mut admin)?)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.admin
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }
}
