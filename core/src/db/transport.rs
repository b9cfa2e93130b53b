//! How the node reaches PostgreSQL, so that it can say so at start when the way costs for
//! nothing: a server on the same host reached over TCP, where libpq's default
//! (`sslmode=prefer`) encrypts every statement both ways. There TLS protects nothing that the
//! host's own users could not read anyway, and it cost a new request a few milliseconds of its
//! tail at 1,000 requests a second (docs/performance.md, #22). The node does not change the
//! transport itself: an explicit `sslmode`, in the URL or in `PGSSLMODE`, is the operator's
//! choice and is left unremarked.

use std::net::IpAddr;

use diesel::RunQueryDsl;

use super::{Backend, Db, DbConnection};
use crate::error::CoreError;

/// What the node says at start when its connections to a PostgreSQL on the same host are
/// encrypted without anyone having asked. No URL, host or name in it: start-up lines are kept
/// free of anything an operator would not paste into a ticket.
pub const LOOPBACK_TLS_ADVICE: &str = "PostgreSQL is on this host and reached over TCP with TLS \
     (libpq's default), which protects nothing here and slows every statement: connect through \
     its Unix socket instead (postgres://USER@/DATABASE?host=/var/run/postgresql), or set \
     sslmode in database.url to keep TLS on purpose (docs/operations.md)";

/// Whether `url` leaves libpq to choose TLS (no `sslmode` in the URL, none in `PGSSLMODE`,
/// passed as `env_sslmode`) for a connection over TCP to this host (`localhost` or a loopback
/// address, as the URL's host or its `host`/`hostaddr` parameters). A socket directory as host,
/// no host at all (libpq then uses `PGHOST` or its socket), several hosts, or any other name:
/// no.
pub fn tls_left_to_default_on_loopback(url: &str, env_sslmode: Option<&str>) -> bool {
    if !matches!(Backend::from_url(url), Ok(Backend::Postgres))
        || env_sslmode.is_some_and(|m| !m.is_empty())
    {
        return false;
    }
    // libpq's own URI form, read by hand: `url` refuses some that libpq takes, such as a user
    // with no host (`postgres://alongside@/db?host=…`).
    let rest = url.split_once("://").map_or("", |(_, rest)| rest);
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let authority = rest
        .split_once('/')
        .map_or(rest, |(authority, _)| authority);
    let hostspec = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let in_uri = match hostspec.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map_or(v6, |(address, _)| address),
        None => hostspec.split_once(':').map_or(hostspec, |(host, _)| host),
    };
    let (mut host, mut hostaddr) = (None, None);
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "sslmode" => return false,
            "host" => host = Some(value.into_owned()),
            "hostaddr" => hostaddr = Some(value.into_owned()),
            _ => {}
        }
    }
    // libpq connects to `hostaddr` when it is given, whatever `host` says.
    let target = hostaddr.or(host).unwrap_or_else(|| in_uri.to_owned());
    is_loopback(&target)
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether this connection is encrypted (PostgreSQL's own view of it); SQLite never is.
fn encrypted(conn: &mut DbConnection) -> Result<bool, CoreError> {
    #[derive(diesel::QueryableByName)]
    struct Ssl {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        ssl: bool,
    }
    match conn {
        DbConnection::Pg(pg) => Ok(diesel::sql_query(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        )
        .get_results::<Ssl>(pg)?
        .first()
        .is_some_and(|row| row.ssl)),
        DbConnection::Sqlite(_) => Ok(false),
    }
}

/// [`LOOPBACK_TLS_ADVICE`] when `db`, opened from `url`, reaches a PostgreSQL on this host over
/// TCP and its connections are in fact encrypted (a server without TLS leaves them plain).
/// Reads `PGSSLMODE` from the environment, as libpq does.
pub async fn loopback_tls_advice(db: &Db, url: &str) -> Result<Option<&'static str>, CoreError> {
    let env = std::env::var("PGSSLMODE").ok();
    if !tls_left_to_default_on_loopback(url, env.as_deref()) {
        return Ok(None);
    }
    let encrypted = db.run(encrypted).await?;
    Ok(encrypted.then_some(LOOPBACK_TLS_ADVICE))
}

#[cfg(test)]
mod tests {
    use super::tls_left_to_default_on_loopback as default_on_loopback;

    #[test]
    fn a_loopback_host_with_no_sslmode_is_left_to_the_default() {
        for url in [
            "postgres://alongside@127.0.0.1/alongside",
            "postgresql://alongside:secret@localhost:5432/alongside",
            "postgres://alongside@LOCALHOST/alongside",
            "postgres://alongside@127.0.0.2/alongside",
            "postgres://alongside@[::1]:5432/alongside",
            "postgres://alongside@/alongside?host=127.0.0.1",
            "postgres://alongside@db.example.org/alongside?hostaddr=127.0.0.1",
            "postgres://alongside@127.0.0.1/alongside?application_name=node",
            "postgres://alongside:p%40ss@127.0.0.1/alongside",
            "postgres://127.0.0.1",
        ] {
            assert!(default_on_loopback(url, None), "{url}");
        }
    }

    #[test]
    fn a_chosen_sslmode_another_host_or_a_socket_is_not() {
        for url in [
            "postgres://alongside@127.0.0.1/alongside?sslmode=require",
            "postgres://alongside@127.0.0.1/alongside?sslmode=disable",
            "postgres://alongside@127.0.0.1/alongside?sslmode=prefer",
            "postgres://alongside@db.example.org/alongside",
            "postgres://alongside@10.0.0.5/alongside",
            "postgres://alongside@/alongside?host=/var/run/postgresql",
            "postgres://alongside@localhost/alongside?hostaddr=10.0.0.5",
            "postgres:///alongside",
            "postgres://alongside@127.0.0.1,127.0.0.2/alongside",
            "sqlite://alongside.db",
            "alongside.db",
        ] {
            assert!(!default_on_loopback(url, None), "{url}");
        }
        assert!(!default_on_loopback(
            "postgres://alongside@127.0.0.1/alongside",
            Some("require")
        ));
        assert!(default_on_loopback(
            "postgres://alongside@127.0.0.1/alongside",
            Some("")
        ));
    }

    /// On PostgreSQL (`ALONGSIDE_TEST_DATABASE_URL`), the advice follows what the server made of
    /// the connection: given when it is encrypted by default, never when `sslmode` was chosen or
    /// the connection is plain. On SQLite, never.
    #[tokio::test]
    async fn the_advice_follows_the_connection_the_server_sees() {
        use super::super::testing::{TEST_DATABASE_ENV, TestDatabase};
        use super::super::{Db, DbSettings};
        use super::{LOOPBACK_TLS_ADVICE, encrypted, loopback_tls_advice};

        let sqlite = Db::connect(&DbSettings::new(":memory:")).unwrap();
        assert_eq!(
            loopback_tls_advice(&sqlite, ":memory:").await.unwrap(),
            None
        );
        let Some(admin) = std::env::var(TEST_DATABASE_ENV)
            .ok()
            .filter(|v| !v.trim().is_empty())
        else {
            return;
        };
        let test = TestDatabase::create_postgres(&admin).unwrap();
        let with = |mode: &str| {
            let sep = if test.url.contains('?') { '&' } else { '?' };
            format!("{}{sep}sslmode={mode}", test.url)
        };
        let pgsslmode = std::env::var("PGSSLMODE").ok();
        let offers_tls = test.server_offers_tls().unwrap();
        for (url, chosen) in [
            (test.url.clone(), false),
            (with("disable"), true),
            (with("prefer"), true),
        ] {
            let db = Db::connect(&DbSettings::new(url.clone())).unwrap();
            let is_encrypted = db.run(encrypted).await.unwrap();
            let expected =
                (!chosen && is_encrypted && default_on_loopback(&url, pgsslmode.as_deref()))
                    .then_some(LOOPBACK_TLS_ADVICE);
            assert_eq!(
                loopback_tls_advice(&db, &url).await.unwrap(),
                expected,
                "{url}"
            );
            if !chosen && pgsslmode.is_none() && offers_tls {
                // libpq's `prefer` takes TLS whenever the server offers it.
                assert!(
                    is_encrypted,
                    "{url}: the server offers TLS and prefer takes it"
                );
            }
            if url.ends_with("sslmode=disable") {
                assert!(!is_encrypted, "a connection with sslmode=disable is plain");
            }
        }
    }
}
