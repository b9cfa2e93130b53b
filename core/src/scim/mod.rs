//! SCIM 2.0 provisioning (RFC 7643/7644): a hospital's identity system (Entra ID, Okta, and
//! others) keeps the staff roster current. Each User resource is one person; the node keeps
//! only the attributes it declares ([`schema`]) and derives the person's name, work email,
//! staff id, department, profession (from the title), phone, pager and language from them.
//! Deactivation (`active: false`, or DELETE) keeps the person and their history but stops all
//! contact: their account is suspended, they are no longer offered as a peer supporter, and no
//! message goes to them.

pub mod error;
pub mod filter;
pub mod patch;
pub mod resource;
pub mod schema;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::access::{Operation, Principal, authorize};
use crate::db::{Db, DbConnection, Id, Json};
use crate::error::CoreError;
use crate::people::{self, NewPerson};
use crate::schema::{people as people_t, scim_users};
use crate::vocab::Profession;
use crate::{time, validate};

pub use error::ScimError;
use filter::Cond;
use resource::Derived;

/// A provisioned user: the person's id and the attributes kept from the identity system.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = scim_users)]
pub struct ScimUser {
    #[diesel(column_name = person_id)]
    pub id: Uuid,
    #[diesel(deserialize_as = Json<Map<String, Value>>)]
    pub resource: Map<String, Value>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl ScimUser {
    /// The resource as an answer shows it; `base` is the node's `/scim/v2` URL.
    pub fn to_json(&self, base: &str) -> Map<String, Value> {
        let mut doc = self.resource.clone();
        doc.insert(
            "schemas".into(),
            Value::Array(resource::schemas_of(&self.resource)),
        );
        doc.insert("id".into(), Value::String(self.id.to_string()));
        let stamp = |t: NaiveDateTime| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        doc.insert(
            "meta".into(),
            json!({
                "resourceType": "User",
                "created": stamp(self.created_at),
                "lastModified": stamp(self.updated_at),
                "location": format!("{base}/Users/{}", self.id),
                "version": format!("W/\"{}\"", self.version),
            }),
        );
        doc
    }
}

/// A list request: `filter`, and 1-based `startIndex` with `count` (RFC 7644 §3.4.2.4).
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub filter: Option<String>,
    pub start_index: Option<i64>,
    pub count: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct ListAnswer {
    pub total: i64,
    pub start_index: i64,
    pub users: Vec<ScimUser>,
}

fn parse_id(id: &str) -> Result<Uuid, ScimError> {
    Uuid::parse_str(id.trim()).map_err(|_| ScimError::not_found(format!("no user {id}")))
}

fn load(conn: &mut DbConnection, id: Uuid) -> Result<ScimUser, ScimError> {
    scim_users::table
        .filter(scim_users::person_id.eq(Id(id)))
        .select(ScimUser::as_select())
        .first(conn)
        .optional()
        .map_err(CoreError::from)?
        .ok_or_else(|| ScimError::not_found(format!("no user {id}")))
}

pub async fn get(db: &Db, who: &Principal, id: &str) -> Result<ScimUser, ScimError> {
    authorize(who, Operation::ProvisionStaff)?;
    let id = parse_id(id)?;
    db.run(move |conn| Ok(load(conn, id)))
        .await
        .map_err(ScimError::from)?
}

/// Creates a user. Someone the node already knows by the same staff id or work email (added
/// by a coordinator before the hospital turned SCIM on) is taken over rather than duplicated.
pub async fn create(db: &Db, who: &Principal, body: Value) -> Result<ScimUser, ScimError> {
    authorize(who, Operation::ProvisionStaff)?;
    let kept = resource::canonical(&body)?;
    write(db, who, None, kept).await
}

/// Replaces a user's attributes (PUT): what the body leaves out is removed.
pub async fn replace(
    db: &Db,
    who: &Principal,
    id: &str,
    body: Value,
) -> Result<ScimUser, ScimError> {
    authorize(who, Operation::ProvisionStaff)?;
    let id = parse_id(id)?;
    let kept = resource::canonical(&body)?;
    write(db, who, Some(id), kept).await
}

/// Changes some attributes (PATCH).
pub async fn patch(db: &Db, who: &Principal, id: &str, body: Value) -> Result<ScimUser, ScimError> {
    authorize(who, Operation::ProvisionStaff)?;
    let id = parse_id(id)?;
    let current = db
        .run(move |conn| Ok(load(conn, id)))
        .await
        .map_err(ScimError::from)??;
    let next = patch::apply(&current.resource, &body)?;
    write(db, who, Some(id), next).await
}

/// Deletes the user as the identity system sees it: the link goes and the person is
/// deactivated, keeping their history (an event years later still knows who was involved).
pub async fn delete(db: &Db, who: &Principal, id: &str) -> Result<(), ScimError> {
    authorize(who, Operation::ProvisionStaff)?;
    let id = parse_id(id)?;
    let actor = crate::audit::actor(who);
    let suspended = db
        .transaction(move |conn| {
            let found = scim_users::table
                .filter(scim_users::person_id.eq(Id(id)))
                .count()
                .get_result::<i64>(conn)?;
            if found == 0 {
                return Ok(None);
            }
            diesel::delete(scim_users::table.filter(scim_users::person_id.eq(Id(id))))
                .execute(conn)?;
            let account = people::deactivate(conn, id, &actor)?;
            crate::audit::append(conn, &actor, "scim.delete", "person", id)?;
            Ok(Some(account))
        })
        .await
        .map_err(ScimError::from)?;
    match suspended {
        None => Err(ScimError::not_found(format!("no user {id}"))),
        Some(account) => {
            if let Some(a) = account {
                db.standings.forget(a);
            }
            Ok(())
        }
    }
}

pub async fn list(db: &Db, who: &Principal, q: ListQuery) -> Result<ListAnswer, ScimError> {
    authorize(who, Operation::ProvisionStaff)?;
    let conds = match q.filter.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
        Some(f) => filter::parse(f)?,
        None => vec![],
    };
    let start_index = q.start_index.unwrap_or(1).max(1);
    let count = q
        .count
        .unwrap_or(schema::MAX_RESULTS)
        .clamp(0, schema::MAX_RESULTS);
    db.run(move |conn| {
        let query = || {
            let mut query = scim_users::table.inner_join(people_t::table).into_boxed();
            for c in &conds {
                query = match c {
                    Cond::Id(v) => match Uuid::parse_str(v.trim()) {
                        Ok(id) => query.filter(scim_users::person_id.eq(Id(id))),
                        // Not an id any user could have: the filter matches no one.
                        Err(_) => query.filter(scim_users::person_id.is_null()),
                    },
                    Cond::UserName(v) => {
                        query.filter(scim_users::user_name_key.eq(v.to_lowercase()))
                    }
                    Cond::ExternalId(v) => query.filter(scim_users::external_id.eq(v.clone())),
                    Cond::Email(v) => query.filter(people_t::email.eq(v.trim().to_lowercase())),
                    Cond::StaffId(v) => query.filter(people_t::staff_id.eq(v.trim().to_owned())),
                    Cond::Active(v) => query.filter(people_t::active.eq(*v)),
                };
            }
            query
        };
        let total: i64 = query().count().get_result(conn)?;
        let users: Vec<ScimUser> = query()
            .order((scim_users::created_at.asc(), scim_users::person_id.asc()))
            .offset(start_index - 1)
            .limit(count)
            .select(ScimUser::as_select())
            .load(conn)?;
        Ok(ListAnswer {
            total,
            start_index,
            users,
        })
    })
    .await
    .map_err(ScimError::from)
}

/// The person's columns as checked for storage.
struct Checked {
    display_name: String,
    staff_id: Option<String>,
    department: Option<String>,
    d: Derived,
}

fn check(d: Derived) -> Result<Checked, ScimError> {
    Ok(Checked {
        display_name: validate::line("displayName", &d.display_name, 120)?,
        staff_id: validate::optional_line("employeeNumber", d.staff_id.as_deref(), 64)?,
        department: validate::optional_line("department", d.department.as_deref(), 80)?,
        d,
    })
}

async fn write(
    db: &Db,
    who: &Principal,
    id: Option<Uuid>,
    kept: Map<String, Value>,
) -> Result<ScimUser, ScimError> {
    let c = check(resource::derive(&kept)?)?;
    let actor = crate::audit::actor(who);
    let stored = serde_json::to_string(&kept).map_err(CoreError::internal)?;
    let (user, suspended) = db
        .transaction(move |conn| Ok(write_in(conn, id, c, kept, &stored, &actor)))
        .await
        .map_err(ScimError::from)??;
    if let Some(a) = suspended {
        db.standings.forget(a);
    }
    // The records may have set the person's language.
    db.locales.forget(user.id);
    Ok(user)
}

/// Stores a user inside a transaction; returns it and the account suspended by deactivation.
fn write_in(
    conn: &mut DbConnection,
    id: Option<Uuid>,
    c: Checked,
    kept: Map<String, Value>,
    stored: &str,
    actor: &str,
) -> Result<(ScimUser, Option<Uuid>), ScimError> {
    crate::db::take_write_lock(conn)?;
    let key = c.d.user_name.to_lowercase();
    let holder: Option<Uuid> = scim_users::table
        .filter(scim_users::user_name_key.eq(&key))
        .select(scim_users::person_id)
        .first(conn)
        .optional()
        .map_err(CoreError::from)?;
    if let Some(holder) = holder
        && Some(holder) != id
    {
        return Err(ScimError::uniqueness(format!(
            "userName {:?} is already taken",
            c.d.user_name
        )));
    }
    let now = time::now();
    let (person, previous) = match id {
        Some(id) => {
            let current = load(conn, id)?;
            (id, Some(current))
        }
        None => (adopt_or_insert(conn, &c)?, None),
    };
    let d = &c.d;
    let suspended = people::apply_records(
        conn,
        person,
        &people::Records {
            display_name: c.display_name.clone(),
            email: d.email.clone(),
            staff_id: c.staff_id.clone(),
            department: c.department.clone(),
            profession: d.profession,
            phone: d.phone.clone(),
            pager: d.pager.clone(),
            locale: d.locale.clone(),
            active: d.active,
        },
        actor,
    )?;
    let version = previous.as_ref().map_or(1, |p| p.version + 1);
    let created_at = previous.as_ref().map_or(now, |p| p.created_at);
    let values = (
        scim_users::user_name.eq(&d.user_name),
        scim_users::user_name_key.eq(&key),
        scim_users::external_id.eq(&d.external_id),
        scim_users::resource.eq(stored),
        scim_users::version.eq(version),
        scim_users::updated_at.eq(now),
    );
    if previous.is_some() {
        diesel::update(scim_users::table.filter(scim_users::person_id.eq(Id(person))))
            .set(values)
            .execute(conn)
            .map_err(CoreError::from)?;
    } else {
        diesel::insert_into(scim_users::table)
            .values((
                scim_users::person_id.eq(Id(person)),
                values,
                scim_users::created_at.eq(now),
            ))
            .execute(conn)
            .map_err(CoreError::from)?;
    }
    let action = if previous.is_some() {
        "scim.update"
    } else {
        "scim.create"
    };
    crate::audit::append(conn, actor, action, "person", person)?;
    Ok((
        ScimUser {
            id: person,
            resource: kept,
            version,
            created_at,
            updated_at: now,
        },
        suspended,
    ))
}

/// The person a new user is: someone already known by the same staff id or work email and not
/// yet provisioned, else a new person.
fn adopt_or_insert(conn: &mut DbConnection, c: &Checked) -> Result<Uuid, ScimError> {
    let d = &c.d;
    let mut known: Option<Uuid> = None;
    if let Some(staff) = &c.staff_id {
        known = people_t::table
            .filter(people_t::staff_id.eq(staff))
            .select(people_t::id)
            .first(conn)
            .optional()
            .map_err(CoreError::from)?;
    }
    if known.is_none()
        && let Some(email) = &d.email
    {
        known = people_t::table
            .filter(people_t::email.eq(email))
            .select(people_t::id)
            .first(conn)
            .optional()
            .map_err(CoreError::from)?;
    }
    if let Some(id) = known {
        let linked: i64 = scim_users::table
            .filter(scim_users::person_id.eq(Id(id)))
            .count()
            .get_result(conn)
            .map_err(CoreError::from)?;
        if linked > 0 {
            return Err(ScimError::uniqueness(
                "another user already has this employeeNumber or work email",
            ));
        }
        return Ok(id);
    }
    let person = people::insert(
        conn,
        NewPerson {
            staff_id: c.staff_id.clone(),
            display_name: c.display_name.clone(),
            email: d.email.clone(),
            profession: d.profession.unwrap_or(Profession::Other),
            specialty: None,
            department: c.department.clone(),
            experience_band: None,
            languages: vec![],
        },
    )?;
    Ok(person.id)
}
