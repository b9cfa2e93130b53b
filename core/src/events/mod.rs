//! De-identified events, who was involved, later milestones, and the outreach each creates.
//! An event has no narrative and no patient identifiers: a category, a month, a coarse
//! department, a severity band, whether a disclosure conversation is under way, and the incident
//! system's opaque reference.

use chrono::{Datelike, NaiveDateTime};
use diesel::prelude::*;
use uuid::Uuid;

use crate::access::{Operation, Principal, authorize};
use crate::audit;
use crate::db::{Db, DbConnection, Id};
use crate::error::CoreError;
use crate::idempotency::{self, IdempotencyKey};
use crate::ids::new_id;
use crate::page::{Page, PageRequest, paginate};
use crate::schema::{events, involvements, milestones, outreach, people, programs};
use crate::vocab::{EventCategory, InvolvementRole, MilestoneKind, OutreachState, SeverityBand};
use crate::{deid, notify, time, validate};

pub mod ceiling;
pub mod pending;
pub mod recontact;
pub mod referral;

pub use pending::PendingInvolvement;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct Event {
    pub id: Uuid,
    pub category: EventCategory,
    /// `YYYY-MM`: the month is enough; a full date helps identify a patient.
    pub month: String,
    pub department: Option<String>,
    pub severity_band: SeverityBand,
    pub disclosure_in_progress: bool,
    pub external_ref: Option<String>,
    pub created_at: NaiveDateTime,
    /// When a coordinator closed it: who was involved is then forgotten at the next purge.
    pub closed_at: Option<NaiveDateTime>,
}

/// Who was involved, named the way the incident system knows them.
#[derive(Debug, Clone)]
pub struct InvolvedInput {
    pub staff_id: Option<String>,
    pub email: Option<String>,
    pub role: InvolvementRole,
}

#[derive(Debug, Clone)]
pub struct NewEvent {
    pub category: EventCategory,
    pub month: String,
    pub department: Option<String>,
    pub severity_band: SeverityBand,
    pub disclosure_in_progress: bool,
    pub external_ref: Option<String>,
    pub involved: Vec<InvolvedInput>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Involvement {
    pub person_id: Uuid,
    pub role: InvolvementRole,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Milestone {
    pub id: Uuid,
    pub kind: MilestoneKind,
    pub month: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = outreach)]
pub struct Outreach {
    pub id: Uuid,
    pub event_id: Uuid,
    pub person_id: Uuid,
    pub milestone_id: Option<Uuid>,
    pub urgent: bool,
    pub state: OutreachState,
    pub request_id: Option<Uuid>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// How many times it was gently renewed after being declined or not answered.
    pub recontacts: i32,
    /// It comes from a colleague's concern rather than an event.
    pub from_colleague: bool,
    /// The colleague who was worried, only if they chose to be named.
    pub referrer_name: Option<String>,
}

pub const MAX_INVOLVED: usize = 200;

/// Checks a `YYYY-MM` month that is not in the future.
/// The earliest year a month may name: an event (or a metrics period) before it is a typo.
pub const EARLIEST_YEAR: i32 = 1970;

pub fn check_month(field: &str, month: &str) -> Result<String, CoreError> {
    let m = month.trim();
    let parsed = chrono::NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d")
        .ok()
        .filter(|_| m.len() == 7)
        .ok_or_else(|| {
            CoreError::bad_input(
                field,
                "must be a month like \"2026-03\" (no day: the month is enough)",
            )
        })?;
    let today = time::now().date();
    if (parsed.year(), parsed.month()) > (today.year(), today.month()) {
        return Err(CoreError::bad_input(field, "is in the future"));
    }
    if parsed.year() < EARLIEST_YEAR {
        return Err(CoreError::bad_input(
            field,
            format!("is before {EARLIEST_YEAR}: check the year"),
        ));
    }
    Ok(m.to_owned())
}

/// Who an event names: people the node knows, and staff ids it does not know yet.
struct Named {
    known: Vec<Involvement>,
    pending: Vec<(String, InvolvementRole)>,
}

/// Finds people by staff id or email. A staff id the node does not know yet is kept pending
/// (the roster may not have brought that person yet); an unknown email is refused, as it is
/// most likely mistyped.
fn resolve_involved(
    conn: &mut DbConnection,
    involved: &[InvolvedInput],
) -> Result<Named, CoreError> {
    if involved.is_empty() {
        return Err(CoreError::bad_input(
            "involved",
            "list at least one person involved",
        ));
    }
    if involved.len() > MAX_INVOLVED {
        return Err(CoreError::bad_input(
            "involved",
            format!("at most {MAX_INVOLVED} people"),
        ));
    }
    let mut named = Named {
        known: Vec::with_capacity(involved.len()),
        pending: vec![],
    };
    for (i, entry) in involved.iter().enumerate() {
        let field = format!("involved[{i}]");
        let twice = || CoreError::bad_input(field.clone(), "this person is listed twice");
        let found: Option<Uuid> = match (&entry.staff_id, &entry.email) {
            (Some(staff), _) if !staff.trim().is_empty() => {
                let staff = validate::line(&field, staff, 64)?;
                let found = people::table
                    .filter(people::staff_id.eq(&staff))
                    .select(people::id)
                    .first(conn)
                    .optional()?;
                if found.is_none() {
                    if named.pending.iter().any(|(s, _)| *s == staff) {
                        return Err(twice());
                    }
                    named.pending.push((staff, entry.role));
                    continue;
                }
                found
            }
            (_, Some(email)) if !email.trim().is_empty() => {
                let found = people::table
                    .filter(people::email.eq(email.trim().to_lowercase()))
                    .select(people::id)
                    .first(conn)
                    .optional()?;
                Some(found.ok_or_else(|| {
                    CoreError::bad_input(
                        field.clone(),
                        "no person with this email is known to the node; name them by staff id \
                         if the roster has not brought them yet",
                    )
                })?)
            }
            _ => return Err(CoreError::bad_input(field, "give staffId or email")),
        };
        let Some(found) = found else { continue };
        let person_id = found;
        if named.known.iter().any(|p| p.person_id == person_id) {
            return Err(twice());
        }
        named.known.push(Involvement {
            person_id,
            role: entry.role,
        });
    }
    Ok(named)
}

fn load(conn: &mut DbConnection, id: Uuid) -> Result<Event, CoreError> {
    events::table
        .filter(events::id.eq(Id(id)))
        .select(Event::as_select())
        .first(conn)
        .optional()?
        .ok_or(CoreError::NotFound("event"))
}

fn insert_outreach(
    conn: &mut DbConnection,
    event_id: Uuid,
    milestone: Option<Uuid>,
    involved: &[Involvement],
    category: EventCategory,
    disclosure_in_progress: bool,
) -> Result<(), CoreError> {
    let now = time::now();
    // The institution's peer support program sets the urgent clock and the urgent categories.
    let program: Option<(i32, String)> = programs::table
        .filter(programs::kind.eq(crate::vocab::ProgramKind::PeerSupport.as_str()))
        .filter(programs::active.eq(true))
        .order(programs::id.asc())
        .select((programs::urgent_outreach_hours, programs::urgent_categories))
        .first(conn)
        .optional()?;
    let (urgent_hours, urgent_category) = match program {
        Some((hours, categories)) => (
            hours,
            crate::stored::from_json::<Vec<EventCategory>>(&categories)?.contains(&category),
        ),
        None => (crate::programs::DEFAULT_URGENT_OUTREACH_HOURS, false),
    };
    for p in involved {
        // "Don't contact me again about this event" holds for its milestones too.
        if recontact::opted_out(conn, event_id, p.person_id)? {
            continue;
        }
        // A disclosure conversation is the most urgent moment there is; a program may mark
        // whole categories (a death, violence at work) urgent for everyone involved.
        let urgent = urgent_category
            || p.role == InvolvementRole::Disclosure
            || (disclosure_in_progress && p.role == InvolvementRole::Direct);
        let outreach_id = new_id();
        // Urgent outreach also goes by text where the person chose texts; someone with no
        // email is texted whenever they have a phone.
        let also = if urgent {
            notify::outbox::AlsoText::IfChosen
        } else {
            notify::outbox::AlsoText::Never
        };
        let from_colleague = category == EventCategory::ColleagueConcern;
        let topic = if from_colleague {
            notify::Topic::Referral
        } else {
            notify::Topic::Outreach
        };
        notify::outbox::enqueue_for_person(
            conn,
            topic,
            p.person_id,
            &format!("outreach:{outreach_id}"),
            &notify::templates::Vars::default(),
            also,
        )?;
        notify::webhooks::publish(
            conn,
            "outreach.created",
            notify::webhooks::ids(&[
                ("outreach_id", outreach_id.to_string()),
                ("event_id", event_id.to_string()),
            ]),
        )?;
        diesel::insert_into(outreach::table)
            .values((
                outreach::id.eq(Id(outreach_id)),
                outreach::event_id.eq(Id(event_id)),
                outreach::person_id.eq(Id(p.person_id)),
                outreach::milestone_id.eq(milestone.map(Id)),
                outreach::urgent.eq(urgent),
                outreach::contact_due_at
                    .eq(urgent.then(|| now + chrono::Duration::hours(i64::from(urgent_hours)))),
                outreach::state.eq(OutreachState::Pending),
                outreach::from_colleague.eq(from_colleague),
                outreach::created_at.eq(now),
                outreach::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Records an event and reaches out to everyone involved. With an idempotency key, a repeat of
/// the same request returns the first event (`true` = replayed).
pub async fn create(
    db: &Db,
    who: &Principal,
    new: NewEvent,
    key: Option<IdempotencyKey>,
) -> Result<(Event, bool), CoreError> {
    authorize(who, Operation::RecordEvents)?;
    if !new.category.reportable() {
        return Err(CoreError::bad_input(
            "category",
            "a colleague's concern is recorded by their referral (referColleague), not reported",
        ));
    }
    if let Some(i) = new.involved.iter().position(|p| !p.role.reportable()) {
        return Err(CoreError::bad_input(
            format!("involved[{i}].role"),
            "referred is for a colleague's referral (referColleague); choose how they were involved",
        ));
    }
    let month = check_month("month", &new.month)?;
    let department = validate::optional_line("department", new.department.as_deref(), 80)?;
    if let Some(d) = &department {
        deid::check("department", d)?;
    }
    let external_ref = validate::optional_line("externalRef", new.external_ref.as_deref(), 100)?;
    if let Some(r) = &external_ref {
        deid::check("externalRef", r)?;
    }
    let source = audit::actor(who);
    db.transaction(move |conn| {
        if let Some(key) = &key
            && let Some(existing) = idempotency::lookup(conn, key)?
        {
            return Ok((load(conn, existing)?, true));
        }
        let Named {
            known: involved,
            pending: waiting,
        } = resolve_involved(conn, &new.involved)?;
        let id = new_id();
        let now = time::now();
        diesel::insert_into(events::table)
            .values((
                events::id.eq(Id(id)),
                events::category.eq(new.category),
                events::month.eq(&month),
                events::department.eq(&department),
                events::severity_band.eq(new.severity_band),
                events::disclosure_in_progress.eq(new.disclosure_in_progress),
                events::external_ref.eq(&external_ref),
                events::source.eq(&source),
                events::created_at.eq(now),
                events::updated_at.eq(now),
            ))
            .execute(conn)
            .map_err(|e| match CoreError::from(e) {
                CoreError::Conflict(_) => CoreError::Conflict(
                    "an event with this externalRef was already recorded".into(),
                ),
                other => other,
            })?;
        for p in &involved {
            insert_involvement(conn, id, p, now)?;
        }
        for (staff_id, role) in &waiting {
            pending::record(conn, id, staff_id, *role, now)?;
        }
        notify::webhooks::publish(
            conn,
            "event.created",
            notify::webhooks::ids(&[("event_id", id.to_string())]),
        )?;
        insert_outreach(
            conn,
            id,
            None,
            &involved,
            new.category,
            new.disclosure_in_progress,
        )?;
        if let Some(key) = &key {
            idempotency::record(conn, key, id)?;
        }
        Ok((load(conn, id)?, false))
    })
    .await
}

fn insert_involvement(
    conn: &mut DbConnection,
    event: Uuid,
    p: &Involvement,
    now: NaiveDateTime,
) -> Result<(), CoreError> {
    diesel::insert_into(involvements::table)
        .values((
            involvements::id.eq(Id(new_id())),
            involvements::event_id.eq(Id(event)),
            involvements::person_id.eq(Id(p.person_id)),
            involvements::role.eq(p.role),
            involvements::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

pub(crate) fn involvements_of(
    conn: &mut DbConnection,
    event_id: Uuid,
) -> Result<Vec<Involvement>, CoreError> {
    let rows: Vec<(Uuid, InvolvementRole)> = involvements::table
        .filter(involvements::event_id.eq(Id(event_id)))
        .order(involvements::created_at.asc())
        .select((involvements::person_id, involvements::role))
        .load(conn)?;
    rows.into_iter()
        .map(|(p, r)| {
            Ok(Involvement {
                person_id: p,
                role: r,
            })
        })
        .collect()
}

/// A later milestone (peer review, lawsuit, deposition, board inquiry) renews outreach to
/// everyone involved.
pub async fn add_milestone(
    db: &Db,
    who: &Principal,
    event_id: Uuid,
    kind: MilestoneKind,
    month: String,
) -> Result<Milestone, CoreError> {
    authorize(who, Operation::RecordEvents)?;
    let month = check_month("month", &month)?;
    db.transaction(move |conn| milestone_in(conn, event_id, kind, month))
        .await
}

/// Adds a milestone and renews outreach to everyone involved, or says why it cannot.
fn milestone_in(
    conn: &mut DbConnection,
    event_id: Uuid,
    kind: MilestoneKind,
    month: String,
) -> Result<Milestone, CoreError> {
    let event = load(conn, event_id)?;
    if event.closed_at.is_some() {
        return Err(CoreError::Conflict(
            "this event is closed: its legal life is over, and who was involved is being \
             forgotten"
                .into(),
        ));
    }
    let involved = involvements_of(conn, event_id)?;
    // A milestone that reaches nobody is not a success: say why instead.
    if involved.is_empty() {
        return Err(CoreError::Conflict(
            "nobody is recorded as involved in this event any more (it was closed, or its \
             involvement passed the retention ceiling), so a milestone would reach no one; \
             record a new event naming who is involved"
                .into(),
        ));
    }
    let id = new_id();
    diesel::insert_into(milestones::table)
        .values((
            milestones::id.eq(Id(id)),
            milestones::event_id.eq(Id(event_id)),
            milestones::kind.eq(kind),
            milestones::month.eq(&month),
            milestones::created_at.eq(time::now()),
        ))
        .execute(conn)?;
    insert_outreach(
        conn,
        event_id,
        Some(id),
        &involved,
        event.category,
        event.disclosure_in_progress,
    )?;
    Ok(Milestone { id, kind, month })
}

/// A year after an event, the anniversary reopens it for many: every open event whose month was
/// twelve or more months before `now`, with people still involved and no anniversary yet, gets
/// its anniversary milestone (the month a year on), renewing outreach to everyone involved.
/// Run by the scheduler; returns how many events it marked.
pub async fn mark_anniversaries(db: &Db, now: NaiveDateTime) -> Result<usize, CoreError> {
    use chrono::Months;
    let Some(year_ago) = now.date().checked_sub_months(Months::new(12)) else {
        return Ok(0);
    };
    let due_by = year_ago.format("%Y-%m").to_string();
    db.transaction(move |conn| {
        let candidates: Vec<(Uuid, String)> = events::table
            .filter(events::closed_at.is_null())
            .filter(events::month.le(&due_by))
            .select((events::id, events::month))
            .load(conn)?;
        let mut marked = 0;
        for (id, month) in candidates {
            let had: i64 = milestones::table
                .filter(milestones::event_id.eq(Id(id)))
                .filter(milestones::kind.eq(MilestoneKind::Anniversary))
                .count()
                .get_result(conn)?;
            if had > 0 {
                continue;
            }
            let event_id = id;
            if involvements_of(conn, event_id)?.is_empty() {
                continue;
            }
            let on = chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
                .ok()
                .and_then(|d| d.checked_add_months(Months::new(12)))
                .map(|d| d.format("%Y-%m").to_string())
                .unwrap_or_else(|| now.format("%Y-%m").to_string());
            milestone_in(conn, event_id, MilestoneKind::Anniversary, on)?;
            marked += 1;
        }
        Ok(marked)
    })
    .await
}

/// A coordinator closes an event when its legal life is over (no claim, or the claim settled):
/// who was involved is forgotten at the next purge, and no milestone can be added after.
pub async fn close(db: &Db, who: &Principal, id: Uuid) -> Result<Event, CoreError> {
    authorize(who, Operation::RecordEvents)?;
    let actor = audit::actor(who);
    db.transaction(move |conn| {
        let event = load(conn, id)?;
        if event.closed_at.is_some() {
            return Ok(event);
        }
        let now = time::now();
        diesel::update(events::table.filter(events::id.eq(Id(id))))
            .set((events::closed_at.eq(Some(now)), events::updated_at.eq(now)))
            .execute(conn)?;
        audit::append(conn, &actor, "close", "event", id)?;
        load(conn, id)
    })
    .await
}

pub async fn get(db: &Db, who: &Principal, id: Uuid) -> Result<Event, CoreError> {
    authorize(who, Operation::ViewEvents)?;
    db.run(move |conn| load(conn, id)).await
}

pub async fn list(db: &Db, who: &Principal, page: PageRequest) -> Result<Page<Event>, CoreError> {
    authorize(who, Operation::ViewEvents)?;
    let plan = page.plan()?;
    db.run(move |conn| {
        let rows = paginate!(events::table.into_boxed(), events::id, plan)
            .select(Event::as_select())
            .load(conn)?;
        Ok(Page::from_rows(rows, plan))
    })
    .await
}

pub async fn involvements(
    db: &Db,
    who: &Principal,
    event_id: Uuid,
) -> Result<Vec<Involvement>, CoreError> {
    authorize(who, Operation::ViewEvents)?;
    db.run(move |conn| involvements_of(conn, event_id)).await
}

pub async fn milestones(
    db: &Db,
    who: &Principal,
    event_id: Uuid,
) -> Result<Vec<Milestone>, CoreError> {
    authorize(who, Operation::ViewEvents)?;
    db.run(move |conn| {
        let rows: Vec<(Uuid, MilestoneKind, String)> = milestones::table
            .filter(milestones::event_id.eq(Id(event_id)))
            .order(milestones::created_at.asc())
            .select((milestones::id, milestones::kind, milestones::month))
            .load(conn)?;
        rows.into_iter()
            .map(|(id, k, m)| {
                Ok(Milestone {
                    id,
                    kind: k,
                    month: m,
                })
            })
            .collect()
    })
    .await
}

/// What a coordinator may see of an outreach. Which request it led to, and that it was accepted,
/// show only when that request's requester allowed coordinators full access (an outside-only
/// request never): otherwise accepted reads as reached and the request is not named, so an
/// event's outreach cannot say who asked for support.
fn as_coordinator_sees(conn: &mut DbConnection, mut o: Outreach) -> Result<Outreach, CoreError> {
    // The referrer chose to be named to their colleague, not to the program.
    o.referrer_name = None;
    let Some(request) = o.request_id else {
        return Ok(o);
    };
    use crate::schema::support_requests;
    let allowed: Option<(String, String)> = support_requests::table
        .filter(support_requests::id.eq(Id(request)))
        .select((
            support_requests::coordinator_access,
            support_requests::peer_origin,
        ))
        .first(conn)
        .optional()?;
    let full = allowed.is_some_and(|(access, origin)| {
        access == crate::vocab::CoordinatorAccess::Full.as_str()
            && origin != crate::vocab::PeerOrigin::OutsideInstitutionOnly.as_str()
    });
    if !full {
        o.request_id = None;
        if o.state == OutreachState::Accepted {
            o.state = OutreachState::Reached;
        }
    }
    Ok(o)
}

/// The event's outreach, for coordinators following up, as far as each requester allowed.
pub async fn outreach_for_event(
    db: &Db,
    who: &Principal,
    event_id: Uuid,
) -> Result<Vec<Outreach>, CoreError> {
    authorize(who, Operation::ViewEvents)?;
    db.run(move |conn| {
        let rows = outreach::table
            .filter(outreach::event_id.eq(Id(event_id)))
            .order(outreach::created_at.asc())
            .select(Outreach::as_select())
            .load(conn)?;
        rows.into_iter()
            .map(|o| as_coordinator_sees(conn, o))
            .collect()
    })
    .await
}

pub(crate) fn load_outreach(conn: &mut DbConnection, id: Uuid) -> Result<Outreach, CoreError> {
    outreach::table
        .filter(outreach::id.eq(Id(id)))
        .select(Outreach::as_select())
        .first(conn)
        .optional()?
        .ok_or(CoreError::NotFound("outreach"))
}

/// The signed-in person's outreach, newest first.
pub async fn my_outreach(db: &Db, who: &Principal) -> Result<Vec<Outreach>, CoreError> {
    authorize(who, Operation::ViewSelf)?;
    let me = who.require_user()?.person_id;
    db.run(move |conn| {
        outreach::table
            .filter(outreach::person_id.eq(Id(me)))
            .order(outreach::created_at.desc())
            .limit(50)
            .select(Outreach::as_select())
            .load(conn)
            .map_err(Into::into)
    })
    .await
}

pub(crate) fn set_outreach_state(
    conn: &mut DbConnection,
    id: Uuid,
    state: OutreachState,
    request: Option<Uuid>,
) -> Result<(), CoreError> {
    diesel::update(outreach::table.filter(outreach::id.eq(Id(id))))
        .set((
            outreach::state.eq(state),
            outreach::request_id.eq(request.map(Id)),
            outreach::updated_at.eq(time::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// A coordinator records that they reached the person, or could not.
pub async fn mark_outreach(
    db: &Db,
    who: &Principal,
    id: Uuid,
    state: OutreachState,
) -> Result<Outreach, CoreError> {
    authorize(who, Operation::ManageOutreach)?;
    if !matches!(state, OutreachState::Reached | OutreachState::NoAnswer) {
        return Err(CoreError::bad_input(
            "state",
            "coordinators record REACHED or NO_ANSWER; the person accepts or declines",
        ));
    }
    db.transaction(move |conn| {
        let current = load_outreach(conn, id)?;
        let seen = as_coordinator_sees(conn, current.clone())?;
        if current.state == OutreachState::Accepted && seen.state != OutreachState::Accepted {
            // Accepted for a request the coordinator may not know of: nothing to record, and
            // the answer must not tell them it was accepted.
            return Ok(seen);
        }
        if matches!(
            current.state,
            OutreachState::Accepted | OutreachState::Declined
        ) {
            return Err(CoreError::Conflict(format!(
                "the person already {} this outreach",
                current.state
            )));
        }
        set_outreach_state(conn, id, state, None)?;
        let updated = load_outreach(conn, id)?;
        as_coordinator_sees(conn, updated)
    })
    .await
}

/// The person declines an outreach ("not now"); accepting goes through `requests::create`.
pub async fn decline_outreach(db: &Db, who: &Principal, id: Uuid) -> Result<Outreach, CoreError> {
    let me = who.require_user()?.person_id;
    db.transaction(move |conn| {
        let current = load_outreach(conn, id)?;
        if current.person_id != me {
            return Err(CoreError::NotFound("outreach"));
        }
        if matches!(
            current.state,
            OutreachState::Accepted | OutreachState::Declined
        ) {
            return Err(CoreError::Conflict(format!(
                "this outreach was already {}",
                current.state
            )));
        }
        set_outreach_state(conn, id, OutreachState::Declined, None)?;
        load_outreach(conn, id)
    })
    .await
}

/// Whether a person was involved in an event (for matching's "never the same event").
pub(crate) fn involved_people(
    conn: &mut DbConnection,
    event_id: Uuid,
) -> Result<Vec<Uuid>, CoreError> {
    Ok(involvements_of(conn, event_id)?
        .into_iter()
        .map(|i| i.person_id)
        .collect())
}

pub(crate) fn category_of(
    conn: &mut DbConnection,
    event_id: Uuid,
) -> Result<Option<EventCategory>, CoreError> {
    Ok(load(conn, event_id).ok().map(|e| e.category))
}
