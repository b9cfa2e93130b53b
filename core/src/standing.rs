//! Whether a person's access token still stands: an access token lives up to its lifetime
//! (15 minutes by default), but removing a role, suspending the account or signing out
//! everywhere must hold from the next request. Each account has an access version, moved on
//! by those changes; a token carries the version it was issued at and is refused once the
//! account has moved past it or is suspended.
//!
//! The answer is cached per account for [`FRESH_FOR`], so a busy partner app does not pay a
//! database read on every request; the change itself forgets this process's entry once it has
//! committed, so on this node it holds at once, and on other replicas of the same database
//! within [`FRESH_FOR`].

use std::time::Instant;

use diesel::prelude::*;
use uuid::Uuid;

use crate::db::{Db, DbConnection, Id};
use crate::error::CoreError;
use crate::schema::accounts;

pub use crate::recent::FRESH_FOR;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Standing {
    version: i32,
    disabled: bool,
}

/// This process's recent answers, per account.
pub(crate) type Standings = crate::recent::Recent<Standing>;

/// Refuses a person's access token issued at `token_version` if the account has since moved on
/// (a role removed, signed out everywhere), is suspended, or no longer exists.
pub async fn check(db: &Db, account: Uuid, token_version: i64) -> Result<(), CoreError> {
    let now = Instant::now();
    let standing = match db.standings.get(account, now) {
        Some(s) => s,
        None => {
            let changes_seen = db.standings.changes_seen();
            let found = db.run(move |conn| read(conn, account)).await?;
            let Some(standing) = found else {
                return Err(CoreError::Unauthenticated(
                    "the account of this access token no longer exists".into(),
                ));
            };
            db.standings.put(account, standing, now, changes_seen);
            standing
        }
    };
    if standing.disabled {
        return Err(CoreError::Unauthenticated(
            "this account is suspended; ask your program coordinator".into(),
        ));
    }
    if i64::from(standing.version) != token_version {
        return Err(CoreError::Unauthenticated(
            "the access token was issued before this account's roles or sessions changed; \
             refresh it or sign in again"
                .into(),
        ));
    }
    Ok(())
}

fn read(conn: &mut DbConnection, account: Uuid) -> Result<Option<Standing>, CoreError> {
    let row: Option<(i32, bool)> = accounts::table
        .filter(accounts::id.eq(Id(account)))
        .select((accounts::access_version, accounts::disabled))
        .first(conn)
        .optional()?;
    Ok(row.map(|(version, disabled)| Standing { version, disabled }))
}

/// Warm-up (`db::warm`): the check of an access token. Nothing matches.
pub(crate) fn warm(conn: &mut DbConnection) -> Result<(), CoreError> {
    read(conn, Uuid::nil()).map(drop)
}

/// Moves an account's access version on, so every access token issued before stops working.
/// Inside the change's transaction; the caller forgets the cached answer after it commits.
pub(crate) fn move_on(conn: &mut DbConnection, account: Uuid) -> Result<(), CoreError> {
    diesel::update(accounts::table.filter(accounts::id.eq(Id(account))))
        .set(accounts::access_version.eq(accounts::access_version + 1))
        .execute(conn)?;
    Ok(())
}
