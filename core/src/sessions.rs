//! Browser sessions for the node's own pages. A session starts from a password, a sign-in link
//! or the institution's single sign-on; the browser holds a random token in a cookie and only its
//! digest is stored. A session ends at its absolute lifetime, after its idle timeout, when its
//! person signs out, or when they sign out everywhere.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use uuid::Uuid;

use crate::access::{Principal, Role, UserPrincipal};
use crate::accounts::{self, Account};
use crate::db::{Db, DbConnection, Id};
use crate::error::CoreError;
use crate::ids::new_id;
use crate::schema::{browser_sessions, sso_attempts};
use crate::{audit, secrets, time};

/// How long sessions last. Admins get shorter ones: their session can change the whole node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub lifetime: Duration,
    pub idle: Duration,
    pub admin_lifetime: Duration,
    pub admin_idle: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            lifetime: Duration::hours(12),
            idle: Duration::minutes(30),
            admin_lifetime: Duration::hours(4),
            admin_idle: Duration::minutes(15),
        }
    }
}

/// How often a session's last use is written: often enough for a 15-minute idle timeout, rarely
/// enough that reading pages does not write on every request.
const TOUCH_EVERY_SECS: i64 = 60;

/// A session just started: the token goes into the cookie and nowhere else.
#[derive(Debug, Clone)]
pub struct Started {
    pub token: String,
    pub principal: UserPrincipal,
    /// Seconds until the session's absolute end, for the cookie's `Max-Age`.
    pub max_age_secs: i64,
}

/// How a session starts.
#[derive(Debug, Clone)]
pub enum Credentials {
    Password {
        email: String,
        password: String,
    },
    /// A single-use sign-in link's token; `enabled` is the node's `auth.sign_in_links`.
    Link {
        token: String,
        enabled: bool,
    },
}

fn principal_of(account: &Account) -> UserPrincipal {
    UserPrincipal {
        account_id: account.id,
        person_id: account.person_id,
        roles: account.roles.clone(),
    }
}

fn insert(
    conn: &mut DbConnection,
    policy: &SessionPolicy,
    account: &Account,
) -> Result<Started, CoreError> {
    let admin = account.roles.contains(&Role::Admin);
    let (lifetime, idle) = if admin {
        (policy.admin_lifetime, policy.admin_idle)
    } else {
        (policy.lifetime, policy.idle)
    };
    let token = secrets::random_token()?;
    let now = time::now();
    let id = new_id();
    diesel::insert_into(browser_sessions::table)
        .values((
            browser_sessions::id.eq(Id(id)),
            browser_sessions::account_id.eq(Id(account.id)),
            browser_sessions::token_hash.eq(secrets::sha256_hex(&token)),
            browser_sessions::created_at.eq(now),
            browser_sessions::last_seen_at.eq(now),
            browser_sessions::expires_at.eq(now + lifetime),
            browser_sessions::idle_seconds
                .eq(i32::try_from(idle.num_seconds()).unwrap_or(i32::MAX)),
        ))
        .execute(conn)?;
    let principal = principal_of(account);
    audit::append(
        conn,
        &audit::actor(&Principal::User(principal.clone())),
        "sign_in",
        "browser_session",
        id,
    )?;
    Ok(Started {
        token,
        principal,
        max_age_secs: lifetime.num_seconds(),
    })
}

/// Signs in with a password (with the same lockout as the token endpoint) or a sign-in link.
pub async fn start(
    db: &Db,
    policy: SessionPolicy,
    credentials: Credentials,
) -> Result<Started, CoreError> {
    if let Credentials::Link { enabled: false, .. } = credentials {
        return Err(CoreError::Forbidden(
            "sign-in links are turned off on this node (auth.sign_in_links)".into(),
        ));
    }
    match credentials {
        // A failed password is counted even though the session is not started, so the check
        // commits on its own, like the token endpoint's.
        Credentials::Password { email, password } => {
            let account = accounts::check_password(db, email, password).await?;
            db.transaction(move |conn| insert(conn, &policy, &account))
                .await
        }
        Credentials::Link { token, .. } => {
            db.transaction(move |conn| {
                let account = accounts::claim_link(conn, &token)?;
                insert(conn, &policy, &account)
            })
            .await
        }
    }
}

/// Starts a session for a person the institution's identity provider has just vouched for
/// (the caller has verified the provider's ID token and mapped it to this principal).
pub async fn start_for(
    db: &Db,
    policy: SessionPolicy,
    who: &UserPrincipal,
) -> Result<Started, CoreError> {
    let account_id = who.account_id;
    db.transaction(move |conn| {
        let account = accounts::load(conn, account_id)?;
        if account.disabled {
            return Err(CoreError::Forbidden(
                "this account is suspended; ask your program coordinator".into(),
            ));
        }
        insert(conn, &policy, &account)
    })
    .await
}

/// Why a cookie no longer opens a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// No such session, or signed out.
    Unknown,
    /// Past its absolute lifetime or its idle timeout: the person signs in again and returns.
    Expired,
}

/// Who a live session belongs to, and the language they chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    pub principal: UserPrincipal,
    pub locale: Option<crate::i18n::Locale>,
}

/// The person behind a session cookie, or why there is none. Refreshes the session's last use.
pub async fn resolve(db: &Db, token: &str) -> Result<Result<SessionUser, Ended>, CoreError> {
    let hash = secrets::sha256_hex(token.trim());
    let found = db
        .run(move |conn| {
            let row: Option<(
                Uuid,
                Uuid,
                NaiveDateTime,
                NaiveDateTime,
                i32,
                Option<NaiveDateTime>,
            )> = browser_sessions::table
                .filter(browser_sessions::token_hash.eq(&hash))
                .select((
                    browser_sessions::id,
                    browser_sessions::account_id,
                    browser_sessions::last_seen_at,
                    browser_sessions::expires_at,
                    browser_sessions::idle_seconds,
                    browser_sessions::revoked_at,
                ))
                .first(conn)
                .optional()?;
            let Some((id, account_id, last_seen, expires, idle, revoked)) = row else {
                return Ok(Err(Ended::Unknown));
            };
            if revoked.is_some() {
                return Ok(Err(Ended::Unknown));
            }
            let now = time::now();
            if expires <= now || last_seen + Duration::seconds(i64::from(idle)) <= now {
                return Ok(Err(Ended::Expired));
            }
            let account = accounts::load(conn, account_id)?;
            if account.disabled {
                return Ok(Err(Ended::Unknown));
            }
            let stale = (now - last_seen).num_seconds() >= TOUCH_EVERY_SECS;
            let locale: Option<String> = crate::schema::people::table
                .filter(crate::schema::people::id.eq(Id(account.person_id)))
                .select(crate::schema::people::locale)
                .first::<Option<String>>(conn)
                .optional()?
                .flatten();
            let user = SessionUser {
                principal: principal_of(&account),
                locale: locale.as_deref().and_then(crate::i18n::Locale::parse),
            };
            Ok(Ok((user, stale.then_some(id))))
        })
        .await?;
    match found {
        Ok((principal, Some(id))) => {
            // A lost touch only shortens the session; the page still answers.
            let touched = db
                .write(move |conn| {
                    diesel::update(browser_sessions::table.filter(browser_sessions::id.eq(Id(id))))
                        .set(browser_sessions::last_seen_at.eq(time::now()))
                        .execute(conn)
                        .map_err(CoreError::from)
                })
                .await;
            if let Err(e) = touched {
                tracing::debug!(code = e.code().as_str(), "session last-use not written");
            }
            Ok(Ok(principal))
        }
        Ok((principal, None)) => Ok(Ok(principal)),
        Err(ended) => Ok(Err(ended)),
    }
}

/// Signs out this browser.
pub async fn end(db: &Db, token: &str) -> Result<(), CoreError> {
    let hash = secrets::sha256_hex(token.trim());
    db.transaction(move |conn| {
        diesel::update(
            browser_sessions::table
                .filter(browser_sessions::token_hash.eq(hash))
                .filter(browser_sessions::revoked_at.is_null()),
        )
        .set(browser_sessions::revoked_at.eq(Some(time::now())))
        .execute(conn)?;
        Ok(())
    })
    .await
}

/// Signs the person out of every browser, revokes their refresh tokens, and ends their access
/// tokens at the next request (the account's access version moves on).
pub async fn end_everywhere(db: &Db, who: &Principal) -> Result<u64, CoreError> {
    crate::access::authorize(who, crate::access::Operation::ViewSelf)?;
    let account_id = who.require_user()?.account_id;
    let actor = audit::actor(who);
    let n = db
        .transaction(move |conn| {
            let now = time::now();
            let n = revoke_all(conn, account_id, now)?;
            accounts::revoke_refresh_tokens(conn, account_id, now)?;
            crate::standing::move_on(conn, account_id)?;
            audit::append(conn, &actor, "sign_out_everywhere", "account", account_id)?;
            Ok(n as u64)
        })
        .await?;
    db.standings.forget(account_id);
    Ok(n)
}

/// Ends every browser session of an account; returns how many were live.
pub(crate) fn revoke_all(
    conn: &mut DbConnection,
    account_id: Uuid,
    now: NaiveDateTime,
) -> Result<usize, CoreError> {
    Ok(diesel::update(
        browser_sessions::table
            .filter(browser_sessions::account_id.eq(Id(account_id)))
            .filter(browser_sessions::revoked_at.is_null()),
    )
    .set(browser_sessions::revoked_at.eq(Some(now)))
    .execute(conn)?)
}

/// Removes sessions that ended more than a day ago (run by retention).
pub fn purge(conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize, CoreError> {
    let cutoff = now - Duration::days(1);
    Ok(diesel::delete(
        browser_sessions::table.filter(
            browser_sessions::expires_at
                .lt(cutoff)
                .or(browser_sessions::revoked_at.lt(cutoff)),
        ),
    )
    .execute(conn)?)
}

/// A single sign-on on its way through the identity provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoAttempt {
    pub nonce: String,
    pub pkce_verifier: String,
    /// Where to return after signing in (a local path).
    pub next: String,
}

/// How long a person has to come back from the identity provider.
const SSO_MINUTES: i64 = 10;

/// Remembers a sign-on started with `state` (kept as a digest only).
pub async fn begin_sso(db: &Db, state: &str, attempt: SsoAttempt) -> Result<(), CoreError> {
    let hash = secrets::sha256_hex(state);
    db.transaction(move |conn| {
        let now = time::now();
        // Abandoned attempts go as new ones come.
        diesel::delete(sso_attempts::table.filter(sso_attempts::expires_at.le(now)))
            .execute(conn)?;
        diesel::insert_into(sso_attempts::table)
            .values((
                sso_attempts::state_hash.eq(hash),
                sso_attempts::nonce.eq(attempt.nonce),
                sso_attempts::pkce_verifier.eq(attempt.pkce_verifier),
                sso_attempts::next_path.eq(attempt.next),
                sso_attempts::expires_at.eq(now + Duration::minutes(SSO_MINUTES)),
            ))
            .execute(conn)?;
        Ok(())
    })
    .await
}

/// Takes the sign-on started with `state`, once, if it has not expired.
pub async fn finish_sso(db: &Db, state: &str) -> Result<Option<SsoAttempt>, CoreError> {
    let hash = secrets::sha256_hex(state);
    db.transaction(move |conn| {
        let row: Option<(String, String, String, NaiveDateTime)> = sso_attempts::table
            .filter(sso_attempts::state_hash.eq(&hash))
            .select((
                sso_attempts::nonce,
                sso_attempts::pkce_verifier,
                sso_attempts::next_path,
                sso_attempts::expires_at,
            ))
            .first(conn)
            .optional()?;
        diesel::delete(sso_attempts::table.filter(sso_attempts::state_hash.eq(&hash)))
            .execute(conn)?;
        Ok(row.filter(|(_, _, _, expires)| *expires > time::now()).map(
            |(nonce, pkce_verifier, next, _)| SsoAttempt {
                nonce,
                pkce_verifier,
                next,
            },
        ))
    })
    .await
}
