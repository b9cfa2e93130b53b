//! People known to the node: staff who may need support or give it. A person may or may not
//! have an account; incident systems name people by staff id or email.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use crate::access::{Operation, Principal, authorize};
use crate::db::{Db, DbConnection, Id, Json};
use crate::error::CoreError;
use crate::ids::new_id;
use crate::page::{Page, PageRequest, paginate};
use crate::schema::{accounts, peer_supporters, people};
use crate::stored::to_json;
use crate::vocab::{ExperienceBand, Profession};
use crate::{time, validate};

#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Person {
    pub id: Uuid,
    pub staff_id: Option<String>,
    pub display_name: String,
    /// Their work email; some staff have none and are reached by phone, pager or through
    /// their manager.
    pub email: Option<String>,
    pub profession: Profession,
    pub specialty: Option<String>,
    /// Coarse: "Emergency", "ICU", "Pharmacy" — never a room or a shift.
    pub department: Option<String>,
    pub experience_band: ExperienceBand,
    #[diesel(deserialize_as = Json<Vec<String>>)]
    pub languages: Vec<String>,
    #[diesel(deserialize_as = crate::db::Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::Stamp)]
    pub updated_at: NaiveDateTime,
    /// The language they read the node in (a shipped language's tag), if they chose one.
    pub locale: Option<String>,
    /// A phone number in E.164 form (`+15550100123`), only if they gave one.
    pub phone: Option<String>,
    /// They want offers and alerts by text message too (needs `phone`).
    pub text_messages: bool,
    /// False once the hospital's records say they left: history is kept, contact stops.
    pub active: bool,
    /// A pager number, as the hospital's records give it (paged by people, not by the node).
    pub pager: Option<String>,
}

/// What a list shows of a person: no contact details, no stamps (`supporters::list_cards`).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = people)]
pub struct PersonCard {
    pub id: Uuid,
    pub display_name: String,
    pub profession: Profession,
    pub specialty: Option<String>,
    pub department: Option<String>,
    pub experience_band: ExperienceBand,
    #[diesel(deserialize_as = Json<Vec<String>>)]
    pub languages: Vec<String>,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct NewPerson {
    pub staff_id: Option<String>,
    pub display_name: String,
    /// Optional: a person may be reached by phone, pager or through their manager instead.
    pub email: Option<String>,
    pub profession: Profession,
    pub specialty: Option<String>,
    pub department: Option<String>,
    pub experience_band: Option<ExperienceBand>,
    pub languages: Vec<String>,
}

/// Changes to a profile; `None` keeps a value, an empty string clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct PersonPatch {
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub staff_id: Option<String>,
    pub profession: Option<Profession>,
    pub specialty: Option<String>,
    pub department: Option<String>,
    pub experience_band: Option<ExperienceBand>,
    pub languages: Option<Vec<String>>,
    /// The language to read the node in: a shipped language's tag (`en`, `es`).
    pub locale: Option<String>,
    /// A phone number for text messages, E.164 (`+15550100123`); an empty string removes it.
    pub phone: Option<String>,
    /// Offers and alerts by text message too.
    pub text_messages: Option<bool>,
}

struct CheckedPerson {
    staff_id: Option<String>,
    display_name: String,
    email: Option<String>,
    profession: Profession,
    specialty: Option<String>,
    department: Option<String>,
    experience_band: ExperienceBand,
    languages: Vec<String>,
}

fn check(p: NewPerson) -> Result<CheckedPerson, CoreError> {
    Ok(CheckedPerson {
        staff_id: validate::optional_line("staffId", p.staff_id.as_deref(), 64)?,
        display_name: validate::line("displayName", &p.display_name, 120)?,
        email: p
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| validate::email("email", e))
            .transpose()?,
        profession: p.profession,
        specialty: validate::optional_line("specialty", p.specialty.as_deref(), 80)?,
        department: validate::optional_line("department", p.department.as_deref(), 80)?,
        experience_band: p.experience_band.unwrap_or(ExperienceBand::Unknown),
        languages: validate::languages("languages", &p.languages)?,
    })
}

pub(crate) fn duplicate(err: CoreError) -> CoreError {
    match err {
        CoreError::Conflict(_) => {
            CoreError::Conflict("a person with this email or staff id already exists".into())
        }
        other => other,
    }
}

/// Inserts a person; for use inside a transaction by callers that already authorized.
pub(crate) fn insert(conn: &mut DbConnection, p: NewPerson) -> Result<Person, CoreError> {
    let c = check(p)?;
    let id = new_id();
    let now = time::now();
    diesel::insert_into(people::table)
        .values((
            people::id.eq(Id(id)),
            people::staff_id.eq(c.staff_id),
            people::display_name.eq(c.display_name),
            people::email.eq(c.email),
            people::profession.eq(c.profession),
            people::specialty.eq(c.specialty),
            people::department.eq(c.department),
            people::experience_band.eq(c.experience_band),
            people::languages.eq(to_json(&c.languages)?),
            people::created_at.eq(now),
            people::updated_at.eq(now),
        ))
        .execute(conn)
        .map_err(|e| duplicate(e.into()))?;
    crate::events::pending::resolve_for(conn, id)?;
    load(conn, id)
}

/// Several people at once (those that exist), in chunks the backends accept as parameters.
pub(crate) fn load_many(conn: &mut DbConnection, ids: &[Uuid]) -> Result<Vec<Person>, CoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(1000) {
        let rows = people::table
            .filter(people::id.eq_any(Id::list(chunk)))
            .load::<Person>(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

pub(crate) fn load(conn: &mut DbConnection, id: Uuid) -> Result<Person, CoreError> {
    // On the connection's own backend (`db::on_backend`): read by most use cases.
    let query = people::table.filter(people::id.eq(Id(id)));
    crate::db::on_backend!(conn, |c| query.first::<Person>(c))
        .optional()?
        .ok_or(CoreError::NotFound("person"))
}

/// Whether a person is named by a work email rather than a staff id (forms take either).
pub fn is_email(key: &str) -> bool {
    key.contains('@')
}

pub(crate) fn find_by_email(
    conn: &mut DbConnection,
    email: &str,
) -> Result<Option<Person>, CoreError> {
    people::table
        .filter(people::email.eq(email.trim().to_lowercase()))
        .first::<Person>(conn)
        .optional()
        .map_err(Into::into)
}

/// The person a form names by staff id or work email, if the node knows them.
pub(crate) fn find_by_key(conn: &mut DbConnection, key: &str) -> Result<Option<Person>, CoreError> {
    let key = key.trim();
    if is_email(key) {
        return find_by_email(conn, key);
    }
    people::table
        .filter(people::staff_id.eq(key))
        .first::<Person>(conn)
        .optional()
        .map_err(Into::into)
}

/// Looks up the person a coordinator names by staff id or work email; a name nobody has is bad
/// input on `field`, so a form can say which field to fix.
pub async fn find(db: &Db, who: &Principal, field: &str, key: &str) -> Result<Person, CoreError> {
    authorize(who, Operation::ListPeople)?;
    let key = key.trim().to_owned();
    let field = field.to_owned();
    if key.is_empty() {
        return Err(CoreError::bad_input(
            field,
            "give a staff id or a work email",
        ));
    }
    db.run(move |conn| {
        find_by_key(conn, &key)?.ok_or_else(|| {
            CoreError::bad_input(
                field,
                "no person with this staff id or email is known to the node",
            )
        })
    })
    .await
}

pub async fn create(db: &Db, who: &Principal, new: NewPerson) -> Result<Person, CoreError> {
    authorize(who, Operation::ManagePeople)?;
    db.transaction(move |conn| insert(conn, new)).await
}

/// The language a person chose in their profile, when it is one the node speaks. For the
/// person signed in (`Principal::User::person_id`): the API speaks to them in it.
pub async fn own_locale(db: &Db, person: Uuid) -> Result<Option<crate::i18n::Locale>, CoreError> {
    // Asked by every request that shows words; remembered for `recent::FRESH_FOR`, forgotten
    // here when the person (or the records) change it.
    let now = std::time::Instant::now();
    let tag = match db.locales.get(person, now) {
        Some(tag) => tag,
        None => {
            let changes_seen = db.locales.changes_seen();
            let tag = db.run(move |conn| locale_tag(conn, person)).await?;
            db.locales.put(person, tag.clone(), now, changes_seen);
            tag
        }
    };
    Ok(tag.as_deref().and_then(crate::i18n::Locale::parse))
}

fn locale_tag(conn: &mut DbConnection, person: Uuid) -> Result<Option<String>, CoreError> {
    Ok(people::table
        .filter(people::id.eq(Id(person)))
        .select(people::locale)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

/// Warm-up (`db::warm`): the reads of a person signed in. Nothing matches.
pub(crate) fn warm(conn: &mut DbConnection) -> Result<(), CoreError> {
    locale_tag(conn, Uuid::nil())?;
    match load(conn, Uuid::nil()) {
        Ok(_) | Err(CoreError::NotFound(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

pub async fn get(db: &Db, who: &Principal, id: Uuid) -> Result<Person, CoreError> {
    authorize(who, Operation::ViewPerson { person_id: id })?;
    db.run(move |conn| load(conn, id)).await
}

/// Loads several people at once (for DataLoaders), silently leaving out those the caller may
/// not see.
pub async fn get_many(
    db: &Db,
    who: &Principal,
    ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, Person>, CoreError> {
    let visible: Vec<Id> = ids
        .into_iter()
        .filter(|id| authorize(who, Operation::ViewPerson { person_id: *id }).is_ok())
        .map(Id)
        .collect();
    if visible.is_empty() {
        return Ok(HashMap::new());
    }
    db.run(move |conn| {
        Ok(people::table
            .filter(people::id.eq_any(visible))
            .load::<Person>(conn)?
            .into_iter()
            .map(|p| (p.id, p))
            .collect())
    })
    .await
}

pub async fn list(db: &Db, who: &Principal, page: PageRequest) -> Result<Page<Person>, CoreError> {
    authorize(who, Operation::ListPeople)?;
    let plan = page.plan()?;
    db.run(move |conn| {
        let rows = paginate!(people::table.into_boxed(), people::id, plan).load::<Person>(conn)?;
        Ok(Page::from_rows(rows, plan))
    })
    .await
}

/// Coordinators change anyone's profile; a person changes their own (not their email or staff
/// id, which the institution's records own).
pub async fn update(
    db: &Db,
    who: &Principal,
    id: Uuid,
    patch: PersonPatch,
) -> Result<Person, CoreError> {
    let is_self = who.user().is_some_and(|u| u.person_id == id);
    if is_self && authorize(who, Operation::ManagePeople).is_err() {
        authorize(who, Operation::UpdateOwnProfile)?;
        if patch.email.is_some() || patch.staff_id.is_some() {
            return Err(CoreError::Forbidden(
                "email and staff id come from the institution's records; ask a coordinator".into(),
            ));
        }
    } else {
        authorize(who, Operation::ManagePeople)?;
    }
    let locale = patch
        .locale
        .as_deref()
        .map(|tag| {
            crate::i18n::Locale::parse(tag)
                .map(|l| l.tag().to_owned())
                .ok_or_else(|| {
                    CoreError::bad_input(
                        "locale",
                        format!(
                            "{tag:?} is not a language this node speaks; use one of {}",
                            crate::i18n::Locale::ALL.map(|l| l.tag()).join(", ")
                        ),
                    )
                })
        })
        .transpose()?;
    let phone = match patch.phone.as_deref().map(str::trim) {
        None => None,
        Some("") => Some(String::new()),
        Some(p) => Some(validate::phone("phone", p)?),
    };
    let text_messages = patch.text_messages;
    let person = db
        .transaction(move |conn| {
            let cur = load(conn, id)?;
            let merged = NewPerson {
                staff_id: match patch.staff_id {
                    Some(v) => Some(v),
                    None => cur.staff_id,
                },
                display_name: patch.display_name.unwrap_or(cur.display_name),
                email: patch.email.or(cur.email),
                profession: patch.profession.unwrap_or(cur.profession),
                specialty: patch.specialty.or(cur.specialty),
                department: patch.department.or(cur.department),
                experience_band: Some(patch.experience_band.unwrap_or(cur.experience_band)),
                languages: patch.languages.unwrap_or(cur.languages),
            };
            let c = check(merged)?;
            let phone = match phone.as_deref() {
                None => cur.phone,
                Some("") => None,
                Some(p) => Some(p.to_owned()),
            };
            let text_messages = text_messages.unwrap_or(cur.text_messages);
            if text_messages && phone.is_none() {
                return Err(CoreError::bad_input(
                    "phone",
                    "give a phone number to receive text messages",
                ));
            }
            diesel::update(people::table.filter(people::id.eq(Id(id))))
                .set((
                    people::phone.eq(phone),
                    people::text_messages.eq(text_messages),
                ))
                .execute(conn)?;
            if let Some(tag) = &locale {
                diesel::update(people::table.filter(people::id.eq(Id(id))))
                    .set(people::locale.eq(Some(tag)))
                    .execute(conn)?;
            }
            diesel::update(people::table.filter(people::id.eq(Id(id))))
                .set((
                    people::staff_id.eq(c.staff_id),
                    people::display_name.eq(c.display_name),
                    people::email.eq(c.email),
                    people::profession.eq(c.profession),
                    people::specialty.eq(c.specialty),
                    people::department.eq(c.department),
                    people::experience_band.eq(c.experience_band),
                    people::languages.eq(to_json(&c.languages)?),
                    people::updated_at.eq(time::now()),
                ))
                .execute(conn)
                .map_err(|e| duplicate(e.into()))?;
            // A staff id given now may be one an event was waiting for.
            crate::events::pending::resolve_for(conn, id)?;
            load(conn, id)
        })
        .await;
    db.locales.forget(id);
    person
}

/// A person as the hospital's records (SCIM, a staff import) describe them, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Records {
    pub display_name: String,
    pub email: Option<String>,
    pub staff_id: Option<String>,
    pub department: Option<String>,
    /// `None`: the records do not say; what a coordinator set stays.
    pub profession: Option<Profession>,
    /// `None`: the records do not say; a number the person gave for texts stays.
    pub phone: Option<String>,
    pub pager: Option<String>,
    /// `None`: the records do not say; the language the person chose stays.
    pub locale: Option<String>,
    pub active: bool,
}

/// Writes what the records say about `person` inside the caller's transaction: a departure
/// stops all contact ([`deactivate`]), and a staff id events were waiting for reaches them.
/// Returns the account suspended by a departure, whose cached standing the caller forgets.
pub(crate) fn apply_records(
    conn: &mut DbConnection,
    person: Uuid,
    r: &Records,
    actor: &str,
) -> Result<Option<Uuid>, CoreError> {
    let key = Id(person);
    let was_active: bool = people::table
        .filter(people::id.eq(key))
        .select(people::active)
        .first(conn)?;
    diesel::update(people::table.filter(people::id.eq(key)))
        .set((
            people::display_name.eq(&r.display_name),
            people::email.eq(&r.email),
            people::staff_id.eq(&r.staff_id),
            people::department.eq(&r.department),
            people::pager.eq(&r.pager),
            people::active.eq(r.active),
            people::updated_at.eq(time::now()),
        ))
        .execute(conn)
        .map_err(|e| duplicate(e.into()))?;
    if let Some(p) = r.profession {
        diesel::update(people::table.filter(people::id.eq(key)))
            .set(people::profession.eq(p))
            .execute(conn)?;
    }
    if let Some(phone) = &r.phone {
        diesel::update(people::table.filter(people::id.eq(key)))
            .set(people::phone.eq(phone))
            .execute(conn)?;
    }
    if let Some(locale) = &r.locale {
        diesel::update(people::table.filter(people::id.eq(key)))
            .set(people::locale.eq(locale))
            .execute(conn)?;
    }
    if !r.active {
        return if was_active {
            deactivate(conn, person, actor)
        } else {
            Ok(None)
        };
    }
    crate::events::pending::resolve_for(conn, person)?;
    Ok(None)
}

/// Stops all contact with a person who left: their account is suspended (sessions and tokens
/// end) and they are no longer a peer supporter on offer. Returns the suspended account.
pub(crate) fn deactivate(
    conn: &mut DbConnection,
    person: Uuid,
    actor: &str,
) -> Result<Option<Uuid>, CoreError> {
    diesel::update(people::table.filter(people::id.eq(Id(person))))
        .set(people::active.eq(false))
        .execute(conn)?;
    diesel::update(peer_supporters::table.filter(peer_supporters::person_id.eq(Id(person))))
        .set(peer_supporters::active.eq(false))
        .execute(conn)?;
    let account: Option<Uuid> = accounts::table
        .filter(accounts::person_id.eq(Id(person)))
        .select(accounts::id)
        .first(conn)
        .optional()?;
    match account {
        Some(a) => {
            crate::accounts::set_disabled(conn, a, true, actor)?;
            Ok(Some(a))
        }
        None => Ok(None),
    }
}
