//! Staff accounts, their roles, and signing in: passwords (argon2id), rotating refresh tokens,
//! and identities vouched for by the institution's identity provider.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use crate::access::{Operation, Principal, Role, UserPrincipal, authorize};
use crate::db::{Db, DbConnection};
use crate::error::CoreError;
use crate::ids::{new_id, stored_id};
use crate::oidc::ExternalIdentity;
use crate::people::{self, NewPerson, Person};
use crate::schema::{account_roles, accounts, refresh_tokens};
use crate::tokens::{AccessToken, TokenService};
use crate::vocab::Profession;
use crate::{secrets, time};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: Uuid,
    pub person_id: Uuid,
    pub roles: BTreeSet<Role>,
    pub has_password: bool,
    /// Signed in through the institution's identity provider.
    pub external: bool,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
    /// Moved on when a role is removed, the account suspended or signed out everywhere; access
    /// tokens carry the version they were issued at (see `standing`).
    pub access_version: i32,
}

#[derive(Queryable)]
struct AccountRow {
    id: String,
    person_id: String,
    password_hash: Option<String>,
    external_subject: Option<String>,
    disabled: bool,
    created_at: NaiveDateTime,
    _updated_at: NaiveDateTime,
    failed_logins: i32,
    locked_until: Option<NaiveDateTime>,
    access_version: i32,
}

/// What a successful sign-in or refresh returns.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access: AccessToken,
    pub refresh_token: String,
    pub refresh_expires_in: u64,
    pub principal: UserPrincipal,
}

/// A new staff account, created with its person. Used by `alongside admin create-user` and by
/// admins through the API.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub profession: Profession,
    pub roles: BTreeSet<Role>,
    pub password: String,
}

fn load_roles(conn: &mut DbConnection, account_id: &str) -> Result<BTreeSet<Role>, CoreError> {
    let names: Vec<String> = account_roles::table
        .filter(account_roles::account_id.eq(account_id))
        .select(account_roles::role)
        .load(conn)?;
    let mut roles = names
        .iter()
        .map(|n| n.parse::<Role>().map_err(CoreError::internal))
        .collect::<Result<BTreeSet<_>, _>>()?;
    roles.insert(Role::Member);
    Ok(roles)
}

fn to_account(conn: &mut DbConnection, r: AccountRow) -> Result<Account, CoreError> {
    let roles = load_roles(conn, &r.id)?;
    Ok(Account {
        id: stored_id(&r.id)?,
        person_id: stored_id(&r.person_id)?,
        roles,
        has_password: r.password_hash.is_some(),
        external: r.external_subject.is_some(),
        disabled: r.disabled,
        created_at: r.created_at,
        access_version: r.access_version,
    })
}

fn row_by<F>(conn: &mut DbConnection, filter: F) -> Result<Option<AccountRow>, CoreError>
where
    F: FnOnce(
        accounts::BoxedQuery<'static, crate::db::MultiBackend>,
    ) -> accounts::BoxedQuery<'static, crate::db::MultiBackend>,
{
    Ok(filter(accounts::table.into_boxed())
        .first::<AccountRow>(conn)
        .optional()?)
}

pub(crate) fn load(conn: &mut DbConnection, id: Uuid) -> Result<Account, CoreError> {
    let row = row_by(conn, |q| q.filter(accounts::id.eq(id.to_string())))?
        .ok_or(CoreError::NotFound("account"))?;
    to_account(conn, row)
}

pub(crate) fn for_person(
    conn: &mut DbConnection,
    person_id: Uuid,
) -> Result<Option<Account>, CoreError> {
    match row_by(conn, |q| {
        q.filter(accounts::person_id.eq(person_id.to_string()))
    })? {
        Some(row) => to_account(conn, row).map(Some),
        None => Ok(None),
    }
}

/// Stores an account's roles. Removing one moves the account's access version on, so tokens
/// that carry it stop working; returns whether it did (the caller forgets the cached standing
/// once committed).
fn write_roles(
    conn: &mut DbConnection,
    account_id: Uuid,
    roles: &BTreeSet<Role>,
) -> Result<bool, CoreError> {
    let id = account_id.to_string();
    let before = load_roles(conn, &id)?;
    let removed = before
        .iter()
        .any(|r| !roles.contains(r) && *r != Role::Member);
    if removed {
        crate::standing::move_on(conn, account_id)?;
    }
    diesel::delete(account_roles::table.filter(account_roles::account_id.eq(&id))).execute(conn)?;
    for role in roles.iter().filter(|r| **r != Role::Member) {
        diesel::insert_into(account_roles::table)
            .values((
                account_roles::account_id.eq(&id),
                account_roles::role.eq(role.as_str()),
            ))
            .execute(conn)?;
    }
    Ok(removed)
}

/// Adds one role to a person's account, if they have one (a new peer supporter profile makes its
/// person a `peer_supporter`).
pub(crate) fn grant_role(
    conn: &mut DbConnection,
    person_id: Uuid,
    role: Role,
) -> Result<(), CoreError> {
    if let Some(account) = for_person(conn, person_id)? {
        let mut roles = account.roles;
        if roles.insert(role) {
            write_roles(conn, account.id, &roles)?;
        }
    }
    Ok(())
}

fn insert_account(
    conn: &mut DbConnection,
    person_id: Uuid,
    password_hash: Option<String>,
    external_subject: Option<String>,
    roles: &BTreeSet<Role>,
) -> Result<Account, CoreError> {
    let id = new_id();
    let now = time::now();
    diesel::insert_into(accounts::table)
        .values((
            accounts::id.eq(id.to_string()),
            accounts::person_id.eq(person_id.to_string()),
            accounts::password_hash.eq(password_hash),
            accounts::external_subject.eq(external_subject),
            accounts::disabled.eq(false),
            accounts::created_at.eq(now),
            accounts::updated_at.eq(now),
        ))
        .execute(conn)
        .map_err(|e| match CoreError::from(e) {
            CoreError::Conflict(_) => {
                CoreError::Conflict("this person already has an account".into())
            }
            other => other,
        })?;
    write_roles(conn, id, roles)?;
    load(conn, id)
}

/// Creates a person and their account in one transaction. No principal: the caller is the
/// operator at the command line, or [`create_user`] after its own check.
pub fn create_user_unchecked(
    conn: &mut DbConnection,
    user: NewUser,
) -> Result<(Account, Person), CoreError> {
    let hash = secrets::hash_password(&user.password)?;
    conn.transaction(|tx| {
        crate::db::take_write_lock(tx)?;
        let person = people::insert(
            tx,
            NewPerson {
                staff_id: None,
                display_name: user.display_name,
                email: Some(user.email),
                profession: user.profession,
                specialty: None,
                department: None,
                experience_band: None,
                languages: vec![],
            },
        )?;
        let account = insert_account(tx, person.id, Some(hash), None, &user.roles)?;
        Ok((account, person))
    })
}

pub async fn create_user(
    db: &Db,
    who: &Principal,
    user: NewUser,
) -> Result<(Account, Person), CoreError> {
    authorize(who, Operation::ManageAccounts)?;
    db.run(move |conn| create_user_unchecked(conn, user)).await
}

/// Gives an existing person a password account.
pub async fn create_account(
    db: &Db,
    who: &Principal,
    person_id: Uuid,
    roles: BTreeSet<Role>,
    password: String,
) -> Result<Account, CoreError> {
    authorize(who, Operation::ManageAccounts)?;
    db.run(move |conn| {
        let hash = secrets::hash_password(&password)?;
        conn.transaction(|tx| {
            crate::db::take_write_lock(tx)?;
            people::load(tx, person_id)?;
            insert_account(tx, person_id, Some(hash), None, &roles)
        })
    })
    .await
}

pub async fn set_roles(
    db: &Db,
    who: &Principal,
    account_id: Uuid,
    roles: BTreeSet<Role>,
) -> Result<Account, CoreError> {
    authorize(who, Operation::ManageAccounts)?;
    if who.user().is_some_and(|u| u.account_id == account_id) && !roles.contains(&Role::Admin) {
        return Err(CoreError::Conflict(
            "you cannot remove your own admin role; ask another admin".into(),
        ));
    }
    let account = db
        .transaction(move |conn| {
            load(conn, account_id)?;
            write_roles(conn, account_id, &roles)?;
            load(conn, account_id)
        })
        .await?;
    db.standings.forget(account_id);
    Ok(account)
}

/// Admins: suspends an account (or lifts the suspension). A suspended account cannot sign in,
/// its browser sessions and refresh tokens end, and its access tokens stop working at the next
/// request; its history stays. Admins cannot suspend themselves.
pub async fn set_suspended(
    db: &Db,
    who: &Principal,
    account_id: Uuid,
    suspended: bool,
) -> Result<Account, CoreError> {
    authorize(who, Operation::ManageAccounts)?;
    if suspended && who.user().is_some_and(|u| u.account_id == account_id) {
        return Err(CoreError::Conflict(
            "you cannot suspend your own account; ask another admin".into(),
        ));
    }
    let actor = crate::audit::actor(who);
    let account = db
        .transaction(move |conn| {
            set_disabled(conn, account_id, suspended, &actor)?;
            load(conn, account_id)
        })
        .await?;
    db.standings.forget(account_id);
    Ok(account)
}

/// Suspends or reinstates an account inside the caller's transaction (its sessions and tokens
/// end when suspended); returns whether anything changed. The caller then forgets the
/// account's cached standing (`db.standings.forget`).
pub(crate) fn set_disabled(
    conn: &mut DbConnection,
    account_id: Uuid,
    suspended: bool,
    actor: &str,
) -> Result<bool, CoreError> {
    let before = load(conn, account_id)?;
    if before.disabled == suspended {
        return Ok(false);
    }
    let now = time::now();
    diesel::update(accounts::table.filter(accounts::id.eq(account_id.to_string())))
        .set((
            accounts::disabled.eq(suspended),
            accounts::updated_at.eq(now),
        ))
        .execute(conn)?;
    if suspended {
        revoke_refresh_tokens(conn, account_id, now)?;
        crate::sessions::revoke_all(conn, account_id, now)?;
        crate::standing::move_on(conn, account_id)?;
    }
    let action = if suspended { "suspend" } else { "reinstate" };
    crate::audit::append(conn, actor, action, "account", account_id)?;
    Ok(true)
}

pub async fn get(db: &Db, who: &Principal, account_id: Uuid) -> Result<Account, CoreError> {
    let own = who.user().is_some_and(|u| u.account_id == account_id);
    if !own {
        authorize(who, Operation::ManageAccounts)?;
    }
    db.run(move |conn| load(conn, account_id)).await
}

/// The signed-in person's account and profile.
pub async fn viewer(db: &Db, who: &Principal) -> Result<(Account, Person), CoreError> {
    authorize(who, Operation::ViewSelf)?;
    let user = who.require_user()?.clone();
    db.run(move |conn| {
        let account = load(conn, user.account_id)?;
        let person = people::load(conn, account.person_id)?;
        Ok((account, person))
    })
    .await
}

/// Whether the node has any account yet (a fresh node prints how to create the first admin).
pub fn any_account(conn: &mut DbConnection) -> Result<bool, CoreError> {
    Ok(accounts::table.count().get_result::<i64>(conn)? > 0)
}

fn invalid_login() -> CoreError {
    CoreError::Unauthenticated("email or password is incorrect".into())
}

pub async fn login(
    db: &Db,
    tokens: &std::sync::Arc<TokenService>,
    email: String,
    password: String,
) -> Result<TokenPair, CoreError> {
    let tokens = tokens.clone();
    db.run(move |conn| {
        let account = check_password(conn, &email, &password)?;
        issue_pair(conn, &tokens, &account, new_id())
    })
    .await
}

/// Checks a password sign-in with the lockout, and returns the enabled account it opens. Both
/// the token endpoint and the pages' sign-in form come through here.
pub(crate) fn check_password(
    conn: &mut DbConnection,
    email: &str,
    password: &str,
) -> Result<Account, CoreError> {
    let found = match people::find_by_email(conn, email)? {
        Some(p) => row_by(conn, |q| q.filter(accounts::person_id.eq(p.id.to_string())))?,
        None => None,
    };
    let Some(row) = found else {
        secrets::burn_password_check(password);
        return Err(invalid_login());
    };
    let now = time::now();
    if let Some(until) = row.locked_until.filter(|u| *u > now) {
        // Locked: the password is not even checked, so guessing gains nothing.
        secrets::burn_password_check(password);
        return Err(locked(until, now));
    }
    let ok = match &row.password_hash {
        Some(hash) => secrets::verify_password(password, hash),
        None => {
            secrets::burn_password_check(password);
            false
        }
    };
    if !ok {
        // Counted in the database, one increment per failure, so parallel guesses all count.
        diesel::update(accounts::table.filter(accounts::id.eq(&row.id)))
            .set(accounts::failed_logins.eq(accounts::failed_logins + 1))
            .execute(conn)?;
        let failed: i32 = accounts::table
            .filter(accounts::id.eq(&row.id))
            .select(accounts::failed_logins)
            .first(conn)?;
        let until = lockout_after(failed).map(|d| now + d);
        if until.is_some() {
            diesel::update(accounts::table.filter(accounts::id.eq(&row.id)))
                .set(accounts::locked_until.eq(until))
                .execute(conn)?;
        }
        return Err(match until {
            Some(u) => locked(u, now),
            None => invalid_login(),
        });
    }
    if row.failed_logins > 0 || row.locked_until.is_some() {
        diesel::update(accounts::table.filter(accounts::id.eq(&row.id)))
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
            refresh_tokens::id.eq(new_id().to_string()),
            refresh_tokens::account_id.eq(account.id.to_string()),
            refresh_tokens::family_id.eq(family.to_string()),
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
            .filter(refresh_tokens::account_id.eq(account_id.to_string()))
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
                .first::<(String, String, NaiveDateTime, Option<NaiveDateTime>, Option<NaiveDateTime>)>(conn)
                .optional()?;
            let Some((account_id, family, expires_at, used_at, revoked_at)) = row else {
                return Ok(Err(CoreError::Unauthenticated("refresh token is not valid; sign in again".into())));
            };
            let now = time::now();
            if used_at.is_some() || revoked_at.is_some() {
                diesel::update(refresh_tokens::table.filter(refresh_tokens::family_id.eq(&family)))
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
            let account = load(conn, stored_id(&account_id)?)?;
            if account.disabled {
                return Ok(Err(CoreError::Forbidden("this account is suspended; ask your program coordinator".into())));
            }
            Ok(Ok(issue_pair(conn, &tokens, &account, stored_id(&family)?)?))
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
                            diesel::update(
                                accounts::table.filter(accounts::id.eq(account.id.to_string())),
                            )
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
            let account_id = stored_id(&row.id)?;
            let mut roles = identity.roles.clone();
            roles.insert(Role::Member);
            let mut moved_on = false;
            if load_roles(conn, &row.id)? != roles {
                moved_on = write_roles(conn, account_id, &roles)?;
            }
            let user = UserPrincipal {
                account_id,
                person_id: stored_id(&row.person_id)?,
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
                sign_in_links::id.eq(id.to_string()),
                sign_in_links::account_id.eq(account.id.to_string()),
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
    let row: Option<(String, String, NaiveDateTime, Option<NaiveDateTime>)> = sign_in_links::table
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
            .filter(sign_in_links::id.eq(&id))
            .filter(sign_in_links::used_at.is_null()),
    )
    .set(sign_in_links::used_at.eq(Some(now)))
    .execute(conn)?;
    if claimed != 1 {
        return Err(refused());
    }
    let account = load(conn, stored_id(&account_id)?)?;
    if account.disabled {
        return Err(CoreError::Forbidden(
            "this account is suspended; ask your program coordinator".into(),
        ));
    }
    Ok(account)
}
