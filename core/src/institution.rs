//! The institution's own settings: its name, node id, jurisdiction and crisis resources.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::access::{Operation, Principal, authorize};
use crate::db::{Db, DbConnection};
use crate::error::CoreError;
use crate::schema::institution;
use crate::{time, validate};

#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Institution {
    pub name: String,
    pub node_id: String,
    pub jurisdiction: String,
    /// Shown at once with every crisis request, and to anyone who asks, signed in or not.
    pub crisis_resources: String,
    pub updated_at: NaiveDateTime,
    /// Who is alerted at once when someone asks for crisis support.
    pub on_call_email: Option<String>,
}

/// The crisis resources a node starts with (in the US). While an institution keeps them, the
/// pages show the catalogue's translation (`crisis-resources-default`) to readers of other
/// languages.
pub const DEFAULT_CRISIS_RESOURCES: &str = "If you are in crisis or thinking about harming yourself, call or text 988 (Suicide & Crisis Lifeline, US) now, or call 911 in an emergency.";

/// Values used the first time a node starts, from its configuration.
#[derive(Debug, Clone)]
pub struct InstitutionDefaults {
    pub name: String,
    pub node_id: String,
    pub jurisdiction: String,
    pub crisis_resources: String,
}

#[derive(Debug, Clone, Default)]
pub struct InstitutionPatch {
    pub name: Option<String>,
    pub jurisdiction: Option<String>,
    pub crisis_resources: Option<String>,
    /// An empty string clears it.
    pub on_call_email: Option<String>,
}

/// Creates the settings row on first start; afterwards keeps `node_id` in step with the
/// configuration, which is where a node's identity is decided.
pub fn ensure(conn: &mut DbConnection, defaults: &InstitutionDefaults) -> Result<(), CoreError> {
    let node_id = validate::line("node_id", &defaults.node_id, 253)?;
    crate::db::memo::forget(MEMO);
    crate::resources::forget_first_pages();
    let existing = institution::table.count().get_result::<i64>(conn)?;
    if existing == 0 {
        diesel::insert_into(institution::table)
            .values((
                institution::id.eq(1),
                institution::name.eq(validate::line("institution.name", &defaults.name, 200)?),
                institution::node_id.eq(node_id),
                institution::jurisdiction.eq(validate::line(
                    "institution.jurisdiction",
                    &defaults.jurisdiction,
                    100,
                )?),
                institution::crisis_resources.eq(validate::text_block(
                    "institution.crisis_resources",
                    &defaults.crisis_resources,
                    2000,
                )?),
                institution::updated_at.eq(time::now()),
            ))
            .execute(conn)?;
    } else {
        diesel::update(institution::table.filter(institution::id.eq(1)))
            .set(institution::node_id.eq(node_id))
            .execute(conn)?;
    }
    Ok(())
}

/// The settings, as the database threads remember them (`db::memo`): read by every crisis
/// request and every reader of the "protected here" card, changed by an admin now and then. A
/// change on another replica applies within `db::memo::FRESH_FOR`.
pub(crate) fn load(conn: &mut DbConnection) -> Result<Institution, CoreError> {
    crate::db::memo::remembered(MEMO, || {
        institution::table
            .filter(institution::id.eq(1))
            .select((
                institution::name,
                institution::node_id,
                institution::jurisdiction,
                institution::crisis_resources,
                institution::updated_at,
                institution::on_call_email,
            ))
            .first::<Institution>(conn)
            .optional()?
            .ok_or(CoreError::NotFound("institution settings"))
    })
}

const MEMO: &str = "institution";

/// Only those who coordinate support see whom crisis alerts go to.
pub fn check_on_call_visible(who: &Principal) -> Result<(), CoreError> {
    authorize(who, Operation::CoordinateRequests)
}

pub async fn get(db: &Db, who: &Principal) -> Result<Institution, CoreError> {
    authorize(who, Operation::ViewInstitution)?;
    db.run(load).await
}

pub async fn update(
    db: &Db,
    who: &Principal,
    patch: InstitutionPatch,
) -> Result<Institution, CoreError> {
    authorize(who, Operation::UpdateInstitution)?;
    let name = patch
        .name
        .as_deref()
        .map(|v| validate::line("name", v, 200))
        .transpose()?;
    let jurisdiction = patch
        .jurisdiction
        .as_deref()
        .map(|v| validate::line("jurisdiction", v, 100))
        .transpose()?;
    let crisis = patch
        .crisis_resources
        .as_deref()
        .map(|v| validate::text_block("crisisResources", v, 2000))
        .transpose()?;
    let on_call = match patch.on_call_email.as_deref().map(str::trim) {
        None => None,
        Some("") => Some(None),
        Some(e) => Some(Some(validate::email("onCallEmail", e)?)),
    };
    db.transaction(move |conn| {
        // Forgotten first: the fields not patched are kept as stored now, not as remembered.
        crate::db::memo::forget(MEMO);
        crate::resources::forget_first_pages();
        let current = load(conn)?;
        diesel::update(institution::table.filter(institution::id.eq(1)))
            .set((
                institution::name.eq(name.unwrap_or(current.name)),
                institution::jurisdiction.eq(jurisdiction.unwrap_or(current.jurisdiction)),
                institution::crisis_resources.eq(crisis.unwrap_or(current.crisis_resources)),
                institution::on_call_email.eq(on_call.unwrap_or(current.on_call_email)),
                institution::updated_at.eq(time::now()),
            ))
            .execute(conn)?;
        load(conn)
    })
    .await
}
