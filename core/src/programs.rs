//! Support programs the institution offers: peer support, EAP, counseling, chaplaincy, group
//! debriefs, litigation support. Everything about a program is configuration, not code.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use crate::access::{Operation, Principal, authorize};
use crate::db::{Db, DbConnection, Id, Json};
use crate::error::CoreError;
use crate::ids::new_id;
use crate::page::{Page, PageRequest, paginate};
use crate::schema::programs;
use crate::stored::to_json;
use crate::vocab::{EventCategory, Profession, ProgramKind};
use crate::{time, validate};

pub const MAX_FOLLOW_UPS: usize = 20;
pub const MAX_FOLLOW_UP_DAY: i32 = 730;
/// Published targets: acknowledge within 30 minutes at any hour, first contact within 24 hours.
pub const DEFAULT_ACK_MINUTES: i32 = 30;
pub const DEFAULT_FIRST_CONTACT_HOURS: i32 = 24;
/// Hours to reach a disclosure participant (urgent outreach) before it alerts the on-call.
pub const DEFAULT_URGENT_OUTREACH_HOURS: i32 = 4;
/// Outreach declined or not answered is renewed two weeks and three months after it was made.
pub const DEFAULT_RECONTACT_DAYS: [i32; 2] = [14, 90];
pub const MAX_RECONTACTS: usize = 6;
pub const MAX_RECONTACT_DAY: i32 = 730;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = programs)]
pub struct Program {
    pub id: Uuid,
    pub name: String,
    pub kind: ProgramKind,
    /// 1 self-care and colleagues, 2 trained peers, 3 professional help.
    pub tier: i32,
    /// Professions it serves; empty means everyone.
    #[diesel(deserialize_as = Json<Vec<Profession>>)]
    pub audience: Vec<Profession>,
    pub hours: String,
    pub contact: String,
    /// Whether conversations in it are legally privileged where the institution is.
    pub privileged: bool,
    /// Follow-up check-ins, in days after first contact, ascending.
    #[diesel(deserialize_as = Json<Vec<i32>>)]
    pub follow_up_days: Vec<i32>,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// A request must be acknowledged by a person within this many minutes.
    pub ack_target_minutes: i32,
    /// A peer must make first contact within this many hours.
    pub first_contact_target_hours: i32,
    /// Urgent outreach (a disclosure participant) must reach the person within this many hours.
    pub urgent_outreach_hours: i32,
    /// Event categories whose outreach is urgent for everyone involved (as a disclosure is).
    #[diesel(deserialize_as = Json<Vec<EventCategory>>)]
    pub urgent_categories: Vec<EventCategory>,
    /// Days after the first outreach when outreach declined or not answered is gently renewed
    /// (unless the person asked not to be contacted again about that event).
    #[diesel(deserialize_as = Json<Vec<i32>>)]
    pub recontact_days: Vec<i32>,
    /// Where an escalation to this (tier-3) program is handed off.
    #[diesel(embed)]
    pub intake: Intake,
}

/// A tier-3 program's intake: where a hand-off goes (any of them), set by coordinators.
#[derive(Debug, Clone, Default, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = programs)]
pub struct Intake {
    #[diesel(column_name = intake_email)]
    pub email: Option<String>,
    /// A phone or pager number for a text (E.164).
    #[diesel(column_name = intake_phone)]
    pub phone: Option<String>,
    /// A registered webhook endpoint (subscribed to `handoff.created`), signed as every webhook.
    #[diesel(column_name = intake_webhook_id)]
    pub webhook_id: Option<Uuid>,
}

#[derive(Debug, Clone)]
pub struct ProgramInput {
    pub name: String,
    pub kind: ProgramKind,
    pub tier: i32,
    pub audience: Vec<Profession>,
    pub hours: String,
    pub contact: String,
    pub privileged: bool,
    pub follow_up_days: Vec<i32>,
    pub ack_target_minutes: Option<i32>,
    pub first_contact_target_hours: Option<i32>,
    pub urgent_outreach_hours: Option<i32>,
    pub urgent_categories: Vec<EventCategory>,
    /// `None`: the default, [`DEFAULT_RECONTACT_DAYS`].
    pub recontact_days: Option<Vec<i32>>,
}

#[derive(Debug, Clone, Default)]
pub struct ProgramPatch {
    pub name: Option<String>,
    pub kind: Option<ProgramKind>,
    pub tier: Option<i32>,
    pub audience: Option<Vec<Profession>>,
    pub hours: Option<String>,
    pub contact: Option<String>,
    pub privileged: Option<bool>,
    pub follow_up_days: Option<Vec<i32>>,
    pub active: Option<bool>,
    pub ack_target_minutes: Option<i32>,
    pub first_contact_target_hours: Option<i32>,
    pub urgent_outreach_hours: Option<i32>,
    pub urgent_categories: Option<Vec<EventCategory>>,
    pub recontact_days: Option<Vec<i32>>,
}

fn check(mut p: ProgramInput) -> Result<ProgramInput, CoreError> {
    p.name = validate::line("name", &p.name, 120)?;
    if !(1..=3).contains(&p.tier) {
        return Err(CoreError::bad_input(
            "tier",
            "must be 1 (self-care), 2 (peer) or 3 (professional)",
        ));
    }
    p.hours = validate::text_block("hours", &p.hours, 200)?;
    p.contact = validate::text_block("contact", &p.contact, 300)?;
    if p.follow_up_days.len() > MAX_FOLLOW_UPS {
        return Err(CoreError::bad_input(
            "followUpDays",
            format!("at most {MAX_FOLLOW_UPS} follow-ups"),
        ));
    }
    if let Some(d) = p
        .follow_up_days
        .iter()
        .find(|d| !(1..=MAX_FOLLOW_UP_DAY).contains(*d))
    {
        return Err(CoreError::bad_input(
            "followUpDays",
            format!("{d} is out of range; each offset is 1 to {MAX_FOLLOW_UP_DAY} days"),
        ));
    }
    if p.ack_target_minutes
        .is_some_and(|m| !(1..=24 * 60).contains(&m))
    {
        return Err(CoreError::bad_input(
            "ackTargetMinutes",
            "must be 1 to 1440 minutes",
        ));
    }
    if p.first_contact_target_hours
        .is_some_and(|h| !(1..=14 * 24).contains(&h))
    {
        return Err(CoreError::bad_input(
            "firstContactTargetHours",
            "must be 1 to 336 hours",
        ));
    }
    if p.urgent_outreach_hours
        .is_some_and(|h| !(1..=72).contains(&h))
    {
        return Err(CoreError::bad_input(
            "urgentOutreachHours",
            "must be 1 to 72 hours",
        ));
    }
    if let Some(days) = &mut p.recontact_days {
        if days.len() > MAX_RECONTACTS {
            return Err(CoreError::bad_input(
                "recontactDays",
                format!("at most {MAX_RECONTACTS} re-contacts"),
            ));
        }
        if let Some(d) = days.iter().find(|d| !(1..=MAX_RECONTACT_DAY).contains(*d)) {
            return Err(CoreError::bad_input(
                "recontactDays",
                format!(
                    "{d} is out of range; each is 1 to {MAX_RECONTACT_DAY} days after the first outreach"
                ),
            ));
        }
        days.sort_unstable();
        days.dedup();
    }
    p.follow_up_days.sort_unstable();
    p.follow_up_days.dedup();
    p.audience.sort_unstable();
    p.audience.dedup();
    p.urgent_categories.sort_unstable();
    p.urgent_categories.dedup();
    Ok(p)
}

/// The peer support program whose targets and follow-up schedule apply to a new request: its
/// id, acknowledgement target (minutes) and first-contact target (hours). Read for every new
/// request, changed by a coordinator now and then: remembered by the database threads
/// (`db::memo`), so a change on another replica applies within `db::memo::FRESH_FOR`.
pub(crate) fn peer_support_targets(
    conn: &mut DbConnection,
) -> Result<Option<(Uuid, i32, i32)>, CoreError> {
    crate::db::memo::remembered(PEER_SUPPORT_MEMO, || {
        Ok(programs::table
            .filter(programs::kind.eq(ProgramKind::PeerSupport))
            .filter(programs::active.eq(true))
            .order(programs::id.asc())
            .select((
                programs::id,
                programs::ack_target_minutes,
                programs::first_contact_target_hours,
            ))
            .first(conn)
            .optional()?)
    })
}

/// The names of the active programs the institution marks privileged, in order: for the
/// "protected here" card, read by most readers of the library. Remembered as
/// [`peer_support_targets`] is.
pub(crate) fn privileged_names(conn: &mut DbConnection) -> Result<Vec<String>, CoreError> {
    crate::db::memo::remembered(PRIVILEGED_MEMO, || {
        Ok(programs::table
            .filter(programs::privileged.eq(true))
            .filter(programs::active.eq(true))
            .order(programs::name.asc())
            .select(programs::name)
            .load(conn)?)
    })
}

const PEER_SUPPORT_MEMO: &str = "peer support targets";
const PRIVILEGED_MEMO: &str = "privileged programs";
/// The first page of the active programs, by its size: what everyone's list starts with.
const FIRST_PAGE_MEMO: &str = "programs, first page";

/// A program is being written: what the database threads remember of programs is stale.
fn forget_programs() {
    crate::db::memo::forget(PEER_SUPPORT_MEMO);
    crate::db::memo::forget(PRIVILEGED_MEMO);
    crate::db::memo::forget(FIRST_PAGE_MEMO);
    // The library's "protected here" card names the privileged programs.
    crate::resources::forget_first_pages();
}

pub(crate) fn load(conn: &mut DbConnection, id: Uuid) -> Result<Program, CoreError> {
    programs::table
        .filter(programs::id.eq(Id(id)))
        .select(Program::as_select())
        .first(conn)
        .optional()?
        .ok_or(CoreError::NotFound("program"))
}

pub async fn create(db: &Db, who: &Principal, input: ProgramInput) -> Result<Program, CoreError> {
    authorize(who, Operation::ManagePrograms)?;
    let p = check(input)?;
    db.transaction(move |conn| {
        forget_programs();
        let id = new_id();
        let now = time::now();
        diesel::insert_into(programs::table)
            .values((
                programs::id.eq(Id(id)),
                programs::name.eq(p.name),
                programs::kind.eq(p.kind),
                programs::tier.eq(p.tier),
                programs::audience.eq(to_json(&p.audience)?),
                programs::hours.eq(p.hours),
                programs::contact.eq(p.contact),
                programs::privileged.eq(p.privileged),
                programs::follow_up_days.eq(to_json(&p.follow_up_days)?),
                programs::active.eq(true),
                programs::created_at.eq(now),
                programs::updated_at.eq(now),
                programs::ack_target_minutes
                    .eq(p.ack_target_minutes.unwrap_or(DEFAULT_ACK_MINUTES)),
                programs::first_contact_target_hours.eq(p
                    .first_contact_target_hours
                    .unwrap_or(DEFAULT_FIRST_CONTACT_HOURS)),
                programs::urgent_outreach_hours.eq(p
                    .urgent_outreach_hours
                    .unwrap_or(DEFAULT_URGENT_OUTREACH_HOURS)),
                programs::urgent_categories.eq(to_json(&p.urgent_categories)?),
                programs::recontact_days.eq(to_json(
                    &p.recontact_days
                        .unwrap_or_else(|| DEFAULT_RECONTACT_DAYS.to_vec()),
                )?),
            ))
            .execute(conn)?;
        load(conn, id)
    })
    .await
}

pub async fn update(
    db: &Db,
    who: &Principal,
    id: Uuid,
    patch: ProgramPatch,
) -> Result<Program, CoreError> {
    authorize(who, Operation::ManagePrograms)?;
    db.transaction(move |conn| {
        forget_programs();
        let cur = load(conn, id)?;
        let p = check(ProgramInput {
            name: patch.name.unwrap_or(cur.name),
            kind: patch.kind.unwrap_or(cur.kind),
            tier: patch.tier.unwrap_or(cur.tier),
            audience: patch.audience.unwrap_or(cur.audience),
            hours: patch.hours.unwrap_or(cur.hours),
            contact: patch.contact.unwrap_or(cur.contact),
            privileged: patch.privileged.unwrap_or(cur.privileged),
            follow_up_days: patch.follow_up_days.unwrap_or(cur.follow_up_days),
            ack_target_minutes: Some(patch.ack_target_minutes.unwrap_or(cur.ack_target_minutes)),
            first_contact_target_hours: Some(
                patch
                    .first_contact_target_hours
                    .unwrap_or(cur.first_contact_target_hours),
            ),
            urgent_outreach_hours: Some(
                patch
                    .urgent_outreach_hours
                    .unwrap_or(cur.urgent_outreach_hours),
            ),
            urgent_categories: patch.urgent_categories.unwrap_or(cur.urgent_categories),
            recontact_days: Some(patch.recontact_days.unwrap_or(cur.recontact_days)),
        })?;
        diesel::update(programs::table.filter(programs::id.eq(Id(id))))
            .set((
                programs::name.eq(p.name),
                programs::kind.eq(p.kind),
                programs::tier.eq(p.tier),
                programs::audience.eq(to_json(&p.audience)?),
                programs::hours.eq(p.hours),
                programs::contact.eq(p.contact),
                programs::privileged.eq(p.privileged),
                programs::follow_up_days.eq(to_json(&p.follow_up_days)?),
                programs::active.eq(patch.active.unwrap_or(cur.active)),
                programs::ack_target_minutes
                    .eq(p.ack_target_minutes.unwrap_or(DEFAULT_ACK_MINUTES)),
                programs::first_contact_target_hours.eq(p
                    .first_contact_target_hours
                    .unwrap_or(DEFAULT_FIRST_CONTACT_HOURS)),
                programs::urgent_outreach_hours.eq(p
                    .urgent_outreach_hours
                    .unwrap_or(DEFAULT_URGENT_OUTREACH_HOURS)),
                programs::urgent_categories.eq(to_json(&p.urgent_categories)?),
                programs::recontact_days.eq(to_json(&p.recontact_days.unwrap_or_default())?),
                programs::updated_at.eq(time::now()),
            ))
            .execute(conn)?;
        load(conn, id)
    })
    .await
}

/// Anyone may read active programs; those who manage programs also see retired ones.
pub async fn get(db: &Db, who: &Principal, id: Uuid) -> Result<Program, CoreError> {
    authorize(who, Operation::ViewPrograms)?;
    let sees_inactive = authorize(who, Operation::ManagePrograms).is_ok();
    let program = db.run(move |conn| load(conn, id)).await?;
    if program.active || sees_inactive {
        Ok(program)
    } else {
        Err(CoreError::NotFound("program"))
    }
}

pub async fn list(
    db: &Db,
    who: &Principal,
    page: PageRequest,
    include_inactive: bool,
) -> Result<Page<Program>, CoreError> {
    authorize(who, Operation::ViewPrograms)?;
    if include_inactive {
        authorize(who, Operation::ManagePrograms)?;
    }
    let plan = page.plan()?;
    // Everyone's list starts here; a change on another replica shows within FRESH_FOR.
    let first = plan
        .first_page()
        .filter(|_| !include_inactive)
        .map(|size| size.to_string());
    db.run_remembered(FIRST_PAGE_MEMO, first, move |conn| {
        let mut q = programs::table.into_boxed();
        if !include_inactive {
            q = q.filter(programs::active.eq(true));
        }
        let rows = paginate!(q, programs::id, plan)
            .select(Program::as_select())
            .load(conn)?;
        Ok(Page::from_rows(rows, plan))
    })
    .await
}

/// A program's intake, for those who manage programs (it names an inbox and a phone).
pub fn intake_of<'a>(who: &Principal, p: &'a Program) -> Result<&'a Intake, CoreError> {
    authorize(who, Operation::ManagePrograms)?;
    Ok(&p.intake)
}

/// An intake's email and phone, checked (an empty value is none).
pub fn check_intake(intake: &Intake) -> Result<Intake, CoreError> {
    Ok(Intake {
        email: intake
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| validate::email("email", e))
            .transpose()?,
        phone: intake
            .phone
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| validate::phone("phone", p))
            .transpose()?,
        webhook_id: intake.webhook_id,
    })
}

/// Sets where escalations to a tier-3 program are handed off; an empty value removes one.
pub async fn set_intake(
    db: &Db,
    who: &Principal,
    id: Uuid,
    intake: Intake,
) -> Result<Program, CoreError> {
    authorize(who, Operation::ManagePrograms)?;
    let Intake { email, phone, .. } = check_intake(&intake)?;
    db.transaction(move |conn| {
        forget_programs();
        let program = load(conn, id)?;
        if program.tier != 3 {
            return Err(CoreError::bad_input(
                "programId",
                "only a tier-3 (professional) program takes hand-offs",
            ));
        }
        if let Some(w) = intake.webhook_id {
            let types = crate::notify::webhooks::target(conn, w)?;
            if types.is_none() {
                return Err(CoreError::bad_input(
                    "webhookId",
                    "no such webhook endpoint",
                ));
            }
        }
        diesel::update(programs::table.filter(programs::id.eq(Id(id))))
            .set((
                programs::intake_email.eq(email),
                programs::intake_phone.eq(phone),
                programs::intake_webhook_id.eq(intake.webhook_id.map(Id)),
                programs::updated_at.eq(time::now()),
            ))
            .execute(conn)?;
        load(conn, id)
    })
    .await
}
