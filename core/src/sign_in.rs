//! Signing in: passwords (argon2id) with lock-out after repeated failures, rotating refresh
//! tokens, identities vouched for by the institution's identity provider, and one-time sign-in
//! links. The accounts themselves are in `accounts`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use crate::access::{Principal, Role, UserPrincipal};
use crate::accounts::*;
use crate::db::{Db, DbConnection, Id};
use crate::error::CoreError;
use crate::ids::new_id;
use crate::oidc::ExternalIdentity;
use crate::people::{self, NewPerson};
use crate::schema::{accounts, refresh_tokens};
use crate::tokens::TokenService;
use crate::vocab::Profession;
use crate::{secrets, time};

fn invalid_login() -> CoreError {
    CoreError::Unauthenticated("email or password is incorrect".into())
}

pub async fn login(
    db: &Db,
    tokens: &std::sync::Arc<TokenService>,
    email: String,
    password: String,
) -> Result<TokenPair, CoreError> {
    let account = check_password(db, email, password).await?;
    let tokens = tokens.clone();
    db.run(move |conn| issue_pair(conn, &tokens, &account, new_id()))
        .await
}

/// What the password check found, before its outcome is written.
enum Verdict {
    NoAccount,
    Locked(NaiveDateTime),
    Wrong(AccountRow),
    Right(AccountRow),
}

/// Checks a password sign-in with the lockout, and returns the enabled account it opens. Both
/// the token endpoint and the pages' sign-in form come through here. The hash is computed
/// with no database connection held (it takes tens of milliseconds, and on SQLite the one
/// writer would wait for it); the outcome is written afterwards.
pub(crate) async fn check_password(
    db: &Db,
    email: String,
    password: String,
) -> Result<Account, CoreError> {
    let found = db
        .run(move |conn| match people::find_by_email(conn, &email)? {
            Some(p) => row_by(conn, |q| q.filter(accounts::person_id.eq(Id(p.id)))),
            None => Ok(None),
        })
        .await?;
    let now = time::now();
    let verdict = tokio::task::spawn_blocking(move || {
        let Some(row) = found else {
            secrets::burn_password_check(&password);
            return Verdict::NoAccount;
        };
        if let Some(until) = row.locked_until.filter(|u| *u > now) {
            // Locked: the password is not even checked, so guessing gains nothing.
            secrets::burn_password_check(&password);
            return Verdict::Locked(until);
        }
        match &row.password_hash {
            Some(hash) if secrets::verify_password(&password, hash) => Verdict::Right(row),
            Some(_) => Verdict::Wrong(row),
            None => {
                secrets::burn_password_check(&password);
                Verdict::Wrong(row)
            }
        }
    })
    .await
    .map_err(|e| CoreError::internal(format!("password check: {e}")))?;
    match verdict {
        Verdict::NoAccount => Err(invalid_login()),
        Verdict::Locked(until) => Err(locked(until, now)),
        Verdict::Wrong(row) => {
            let until = db
                .write(move |conn| count_failure(conn, row.id, now))
                .await?;
            Err(match until {
                Some(u) => locked(u, now),
                None => invalid_login(),
            })
        }
        Verdict::Right(row) => db.write(move |conn| open(conn, row)).await,
    }
}

/// Counts a failed password, in the database, one increment per failure, so parallel guesses
/// all count; returns the time the account is now locked until, if it is.
fn count_failure(
    conn: &mut DbConnection,
    account: Uuid,
    now: NaiveDateTime,
) -> Result<Option<NaiveDateTime>, CoreError> {
    diesel::update(accounts::table.filter(accounts::id.eq(Id(account))))
        .set(accounts::failed_logins.eq(accounts::failed_logins + 1))
        .execute(conn)?;
    let failed: i32 = accounts::table
        .filter(accounts::id.eq(Id(account)))
        .select(accounts::failed_logins)
        .first(conn)?;
    let until = lockout_after(failed).map(|d| now + d);
    if until.is_some() {
        diesel::update(accounts::table.filter(accounts::id.eq(Id(account))))
            .set(accounts::locked_until.eq(until))
            .execute(conn)?;
    }
    Ok(until)
}

/// After the right password: the failures are forgotten, and a suspended account stays shut.
fn open(conn: &mut DbConnection, row: AccountRow) -> Result<Account, CoreError> {
    if row.failed_logins > 0 || row.locked_until.is_some() {
        diesel::update(accounts::table.filter(accounts::id.eq(Id(row.id))))
            .set((
                accounts::failed_logins.eq(0),
                accounts::locked_until.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
    }
    if row.disabled {
        return Err(CoreError::Forbidden(
            "this account is suspended; ask your program coordinator".into(),
        ));
    }
    to_account(conn, row)
}

/// Failed sign-ins allowed before the account is locked.
pub const FREE_ATTEMPTS: i32 = 5;

/// How long an account is locked after `failed` consecutive failures: none for the first
/// [`FREE_ATTEMPTS`], then 30 s, doubling with each further failure, at most an hour.
pub fn lockout_after(failed: i32) -> Option<chrono::Duration> {
    let over = failed - FREE_ATTEMPTS - 1;
    if over < 0 {
        return None;
    }
    let secs = 30i64.saturating_mul(1i64 << over.min(20));
    Some(chrono::Duration::seconds(secs.min(3600)))
}

fn locked(until: NaiveDateTime, now: NaiveDateTime) -> CoreError {
    let secs = u64::try_from((until - now).num_seconds().max(1)).unwrap_or(1);
    CoreError::RateLimited {
        message: format!(
            "too many failed sign-ins for this account; try again in {secs} s, or use a sign-in link"
        ),
        retry_after_secs: secs,
    }
}

fn issue_pair(
    conn: &mut DbConnection,
    tokens: &TokenService,
    account: &Account,
    family: Uuid,
) -> Result<TokenPair, CoreError> {
    let principal = UserPrincipal {
        account_id: account.id,
        person_id: account.person_id,
        roles: account.roles.clone(),
    };
    let access = tokens.issue_for_user(&principal, i64::from(account.access_version))?;
    let refresh = secrets::random_token()?;
    let ttl = tokens.settings().refresh_ttl;
    let now = time::now();
    let expires = now + chrono::Duration::from_std(ttl).map_err(CoreError::internal)?;
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(Id(new_id())),
            refresh_tokens::account_id.eq(Id(account.id)),
            refresh_tokens::family_id.eq(Id(family)),
            refresh_tokens::token_hash.eq(secrets::sha256_hex(&refresh)),
            refresh_tokens::expires_at.eq(expires),
            refresh_tokens::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(TokenPair {
        access,
        refresh_token: refresh,
        refresh_expires_in: ttl.as_secs(),
        principal,
    })
}

/// Revokes every refresh token of an account (signing out everywhere).
pub(crate) fn revoke_refresh_tokens(
    conn: &mut DbConnection,
    account_id: Uuid,
    now: NaiveDateTime,
) -> Result<(), CoreError> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::account_id.eq(Id(account_id)))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(now)))
    .execute(conn)?;
    Ok(())
}

/// Exchanges a refresh token for a new pair. Each refresh token works once; presenting a used
/// one means it was copied, so the whole family is revoked and the person must sign in again.
pub async fn refresh(
    db: &Db,
    tokens: &std::sync::Arc<TokenService>,
    refresh_token: String,
) -> Result<TokenPair, CoreError> {
    let tokens = tokens.clone();
    let hash = secrets::sha256_hex(refresh_token.trim());
    // A refusal is returned as the transaction's Ok value, so that the revocation it made commits.
    db
        .transaction(move |conn| {
            let row = refresh_tokens::table
                .filter(refresh_tokens::token_hash.eq(&hash))
                .select((
                    refresh_tokens::account_id,
                    refresh_tokens::family_id,
                    refresh_tokens::expires_at,
                    refresh_tokens::used_at,
                    refresh_tokens::revoked_at,
                ))
                .first::<(Uuid, Uuid, NaiveDateTime, Option<NaiveDateTime>, Option<NaiveDateTime>)>(conn)
                .optional()?;
            let Some((account_id, family, expires_at, used_at, revoked_at)) = row else {
                return Ok(Err(CoreError::Unauthenticated("refresh token is not valid; sign in again".into())));
            };
            let now = time::now();
            if used_at.is_some() || revoked_at.is_some() {
                diesel::update(refresh_tokens::table.filter(refresh_tokens::family_id.eq(Id(family))))
                    .set(refresh_tokens::revoked_at.eq(Some(now)))
                    .execute(conn)?;
                return Ok(Err(CoreError::Unauthenticated(
                    "refresh token was already used; every session from it is now signed out. Sign in again".into(),
                )));
            }
            if expires_at <= now {
                return Ok(Err(CoreError::Unauthenticated("refresh token has expired; sign in again".into())));
            }
            // Only one concurrent caller can flip used_at from NULL.
            let claimed = diesel::update(
                refresh_tokens::table
                    .filter(refresh_tokens::token_hash.eq(&hash))
                    .filter(refresh_tokens::used_at.is_null()),
            )
            .set(refresh_tokens::used_at.eq(Some(now)))
            .execute(conn)?;
            if claimed != 1 {
                return Ok(Err(CoreError::Unauthenticated("refresh token was already used; sign in again".into())));
            }
            let account = load(conn, account_id)?;
            if account.disabled {
                return Ok(Err(CoreError::Forbidden("this account is suspended; ask your program coordinator".into())));
            }
            Ok(Ok(issue_pair(conn, &tokens, &account, family)?))
        })
        .await?
}

/// Maps an identity vouched for by the institution's identity provider to a principal, creating
/// the person and account on first sight. The provider is the source of truth for roles, so the
/// stored roles follow each token.
pub async fn principal_for_external(
    db: &Db,
    identity: ExternalIdentity,
) -> Result<Principal, CoreError> {
    let (user, moved_on) = db
        .transaction(move |conn| {
            let subject = format!("{}|{}", identity.issuer, identity.subject);
            let existing = row_by(conn, |q| {
                q.filter(accounts::external_subject.eq(subject.clone()))
            })?;
            let row = match existing {
                Some(row) => row,
                None => {
                    let person = match identity.email.as_deref() {
                        Some(email) => people::find_by_email(conn, email)?,
                        None => None,
                    };
                    let person = match person {
                        Some(p) => p,
                        None => people::insert(
                            conn,
                            NewPerson {
                                staff_id: None,
                                display_name: identity
                                    .display_name
                                    .clone()
                                    .unwrap_or_else(|| "Staff member".into()),
                                email: Some(identity.email.clone().ok_or_else(|| {
                                    CoreError::Unauthenticated(
                                        "the identity token carries no email claim".into(),
                                    )
                                })?),
                                profession: Profession::Other,
                                specialty: None,
                                department: None,
                                experience_band: None,
                                languages: vec![],
                            },
                        )?,
                    };
                    match for_person(conn, person.id)? {
                        Some(account) if account.external => {
                            return Err(CoreError::Conflict(
                            "this person is already linked to another identity-provider subject"
                                .into(),
                        ));
                        }
                        Some(account) => {
                            diesel::update(accounts::table.filter(accounts::id.eq(Id(account.id))))
                                .set(accounts::external_subject.eq(Some(subject.clone())))
                                .execute(conn)?;
                        }
                        None => {
                            insert_account(
                                conn,
                                person.id,
                                None,
                                Some(subject.clone()),
                                &identity.roles,
                            )?;
                        }
                    }
                    row_by(conn, |q| q.filter(accounts::external_subject.eq(subject)))?
                        .ok_or(CoreError::NotFound("account"))?
                }
            };
            if row.disabled {
                return Err(CoreError::Forbidden(
                    "this account is suspended; ask your program coordinator".into(),
                ));
            }
            let account_id = row.id;
            let mut roles = identity.roles.clone();
            roles.insert(Role::Member);
            let mut moved_on = false;
            if load_roles(conn, row.id)? != roles {
                moved_on = write_roles(conn, account_id, &roles)?;
            }
            let user = UserPrincipal {
                account_id,
                person_id: row.person_id,
                roles,
            };
            Ok((user, moved_on))
        })
        .await?;
    if moved_on {
        db.standings.forget(user.account_id);
    }
    Ok(Principal::User(user))
}

/// How long a sign-in link works.
pub const SIGN_IN_LINK_TTL_MINUTES: i64 = 15;

/// Emails a single-use sign-in link if `email` belongs to an enabled account. Answers the same
/// either way, so it reveals nothing about who has an account.
pub async fn request_sign_in_link(db: &Db, enabled: bool, email: String) -> Result<(), CoreError> {
    links_enabled(enabled)?;
    use crate::notify::outbox::enqueue_email;
    use crate::notify::templates::{Topic, Vars};
    use crate::schema::sign_in_links;
    let Ok(email) = crate::validate::email("email", &email) else {
        return Ok(());
    };
    db.transaction(move |conn| {
        let Some(person) = people::find_by_email(conn, &email)? else {
            return Ok(());
        };
        let Some(account) = for_person(conn, person.id)? else {
            return Ok(());
        };
        if account.disabled {
            return Ok(());
        }
        let token = secrets::random_token()?;
        let now = time::now();
        let id = new_id();
        diesel::insert_into(sign_in_links::table)
            .values((
                sign_in_links::id.eq(Id(id)),
                sign_in_links::account_id.eq(Id(account.id)),
                sign_in_links::token_hash.eq(secrets::sha256_hex(&token)),
                sign_in_links::expires_at
                    .eq(now + chrono::Duration::minutes(SIGN_IN_LINK_TTL_MINUTES)),
                sign_in_links::created_at.eq(now),
            ))
            .execute(conn)?;
        let vars = Vars {
            token: Some(token),
            ..Vars::default()
        };
        enqueue_email(
            conn,
            Topic::SignInLink,
            &email,
            &format!("sign_in:{id}"),
            &vars,
        )
    })
    .await
}

/// Exchanges a sign-in link's token, once and before it expires, for a token pair.
fn links_enabled(enabled: bool) -> Result<(), CoreError> {
    if enabled {
        Ok(())
    } else {
        Err(CoreError::Forbidden(
            "sign-in links are turned off on this node (auth.sign_in_links)".into(),
        ))
    }
}

pub async fn redeem_sign_in_link(
    db: &Db,
    enabled: bool,
    tokens: &std::sync::Arc<TokenService>,
    token: String,
) -> Result<TokenPair, CoreError> {
    links_enabled(enabled)?;
    let tokens = tokens.clone();
    db.transaction(move |conn| {
        let account = claim_link(conn, &token)?;
        issue_pair(conn, &tokens, &account, new_id())
    })
    .await
}

/// Uses up a sign-in link's token, once and before it expires, and returns its enabled account.
pub(crate) fn claim_link(conn: &mut DbConnection, token: &str) -> Result<Account, CoreError> {
    use crate::schema::sign_in_links;
    let hash = secrets::sha256_hex(token.trim());
    let refused = || {
        CoreError::Unauthenticated(
            "this sign-in link is not valid, was already used, or has expired; ask for a new one"
                .into(),
        )
    };
    let row: Option<(Uuid, Uuid, NaiveDateTime, Option<NaiveDateTime>)> = sign_in_links::table
        .filter(sign_in_links::token_hash.eq(&hash))
        .select((
            sign_in_links::id,
            sign_in_links::account_id,
            sign_in_links::expires_at,
            sign_in_links::used_at,
        ))
        .first(conn)
        .optional()?;
    let Some((id, account_id, expires_at, used_at)) = row else {
        return Err(refused());
    };
    let now = time::now();
    if used_at.is_some() || expires_at <= now {
        return Err(refused());
    }
    let claimed = diesel::update(
        sign_in_links::table
            .filter(sign_in_links::id.eq(Id(id)))
            .filter(sign_in_links::used_at.is_null()),
    )
    .set(sign_in_links::used_at.eq(Some(now)))
    .execute(conn)?;
    if claimed != 1 {
        return Err(refused());
    }
    let account = load(conn, account_id)?;
    if account.disabled {
        return Err(CoreError::Forbidden(
            "this account is suspended; ask your program coordinator".into(),
        ));
    }
    Ok(account)
}
