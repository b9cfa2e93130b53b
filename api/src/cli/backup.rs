//! `alongside admin backup --to FILE`: a consistent copy of the database, private from its
//! first byte.

use alongside_core::db::Db;
use anyhow::{Context, bail};

use crate::config::Config;

pub fn run(config: &Config, db: &Db, to: std::path::PathBuf) -> anyhow::Result<()> {
    let existed = to.exists();
    let done = backup(config, db, &to);
    if done.is_err() && !existed {
        // Nothing half-written is left behind.
        let _ = std::fs::remove_file(&to);
    }
    done
}

fn backup(
    config: &Config,
    db: &alongside_core::db::Db,
    to: &std::path::Path,
) -> anyhow::Result<()> {
    if to.exists() {
        bail!("{} exists already; choose a new file", to.display());
    }
    // Private from its first byte: an empty 0600 file that the backup fills.
    crate::files::private_file(to)?;
    match db.backend() {
        alongside_core::db::Backend::Sqlite => {
            use diesel::RunQueryDsl;
            let target = to.display().to_string();
            if target.contains('\'') {
                bail!("the backup path must not contain a single quote");
            }
            let mut conn = db.get()?;
            let alongside_core::db::DbConnection::Sqlite(c) = &mut **conn else {
                bail!("expected a SQLite connection");
            };
            diesel::sql_query(format!("VACUUM INTO '{target}'"))
                .execute(c)
                .with_context(|| format!("writing {target}"))?;
        }
        alongside_core::db::Backend::Postgres => {
            let status = std::process::Command::new("pg_dump")
                .args(["--format=custom", "--no-owner", "--file"])
                .arg(to)
                .arg(config.database_url())
                .status()
                .context("cannot run pg_dump (install the PostgreSQL client tools)")?;
            if !status.success() {
                bail!("pg_dump failed ({status}); nothing was written");
            }
        }
    }
    let size = std::fs::metadata(to).map(|m| m.len()).unwrap_or(0);
    println!("Wrote {} ({size} bytes).", to.display());
    println!(
        "Keep it with a copy of {} and {} from {}.",
        alongside_core::tokens::KEY_FILE,
        alongside_core::keyring::RETIRED_FILE,
        config.data_dir.display()
    );
    Ok(())
}
