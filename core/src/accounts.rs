//! Staff accounts and their roles. Signing in is in `sign_in` (re-exported here).

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use crate::access::{Operation, Principal, Role, UserPrincipal, authorize};
use crate::db::{Db, DbConnection, Id};
use crate::error::CoreError;
use crate::ids::new_id;
use crate::people::{self, NewPerson, Person};
use crate::schema::{account_roles, accounts};
use crate::tokens::AccessToken;
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
pub(crate) struct AccountRow {
    pub(crate) id: Uuid,
    pub(crate) person_id: Uuid,
    pub(crate) password_hash: Option<String>,
    pub(crate) external_subject: Option<String>,
    pub(crate) disabled: bool,
    pub(crate) created_at: NaiveDateTime,
    pub(crate) _updated_at: NaiveDateTime,
    pub(crate) failed_logins: i32,
    pub(crate) locked_until: Option<NaiveDateTime>,
    pub(crate) access_version: i32,
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

pub(crate) fn load_roles(
    conn: &mut DbConnection,
    account_id: Uuid,
) -> Result<BTreeSet<Role>, CoreError> {
    let names: Vec<String> = account_roles::table
        .filter(account_roles::account_id.eq(Id(account_id)))
        .select(account_roles::role)
        .load(conn)?;
    let mut roles = names
        .iter()
        .map(|n| n.parse::<Role>().map_err(CoreError::internal))
        .collect::<Result<BTreeSet<_>, _>>()?;
    roles.insert(Role::Member);
    Ok(roles)
}

pub(crate) fn to_account(conn: &mut DbConnection, r: AccountRow) -> Result<Account, CoreError> {
    let roles = load_roles(conn, r.id)?;
    Ok(Account {
        id: r.id,
        person_id: r.person_id,
        roles,
        has_password: r.password_hash.is_some(),
        external: r.external_subject.is_some(),
        disabled: r.disabled,
        created_at: r.created_at,
        access_version: r.access_version,
    })
}

pub(crate) fn row_by<F>(conn: &mut DbConnection, filter: F) -> Result<Option<AccountRow>, CoreError>
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
    let row = row_by(conn, |q| q.filter(accounts::id.eq(Id(id))))?
        .ok_or(CoreError::NotFound("account"))?;
    to_account(conn, row)
}

pub(crate) fn for_person(
    conn: &mut DbConnection,
    person_id: Uuid,
) -> Result<Option<Account>, CoreError> {
    match row_by(conn, |q| q.filter(accounts::person_id.eq(Id(person_id))))? {
        Some(row) => to_account(conn, row).map(Some),
        None => Ok(None),
    }
}

/// Stores an account's roles. Removing one moves the account's access version on, so tokens
/// that carry it stop working; returns whether it did (the caller forgets the cached standing
/// once committed).
pub(crate) fn write_roles(
    conn: &mut DbConnection,
    account_id: Uuid,
    roles: &BTreeSet<Role>,
) -> Result<bool, CoreError> {
    let id = Id(account_id);
    let before = load_roles(conn, account_id)?;
    let removed = before
        .iter()
        .any(|r| !roles.contains(r) && *r != Role::Member);
    if removed {
        crate::standing::move_on(conn, account_id)?;
    }
    diesel::delete(account_roles::table.filter(account_roles::account_id.eq(id))).execute(conn)?;
    for role in roles.iter().filter(|r| **r != Role::Member) {
        diesel::insert_into(account_roles::table)
            .values((
                account_roles::account_id.eq(id),
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

pub(crate) fn insert_account(
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
            accounts::id.eq(Id(id)),
            accounts::person_id.eq(Id(person_id)),
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
    diesel::update(accounts::table.filter(accounts::id.eq(Id(account_id))))
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

pub use crate::sign_in::*;
