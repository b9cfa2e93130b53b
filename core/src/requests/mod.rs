//! Support requests: from self-referral, outreach or a coordinator's referral; their state
//! machine, clocks, offers to peer supporters, and who may see what of them.

pub mod care;
pub mod clock;
pub mod handoff;
pub mod matchmaking;
pub mod outside;
pub mod queue;
pub mod state;
pub(crate) mod workload;

use crate::metrics::suppression::SuppressionK;
use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use uuid::Uuid;

use crate::access::{Operation, Principal, authorize};
use crate::audit;
use crate::db::{Db, DbConnection, Id};
use crate::error::CoreError;
use crate::events::{self, set_outreach_state};
use crate::ids::new_id;
use crate::institution;
use crate::metrics::suppression::{self, Cell};
use crate::people;
use crate::programs::{DEFAULT_ACK_MINUTES, DEFAULT_FIRST_CONTACT_HOURS};
use crate::schema::{programs, request_transitions, support_requests};
use crate::vocab::{
    CoordinatorAccess, EventCategory, Modality, OutreachState, PeerOrigin, Profession, ProgramKind,
    RequestOrigin, RequestState, SpecialtyPreference, Urgency,
};
use crate::{deid, notify, time, validate};

pub use matchmaking::{
    Suggestion, assign, candidates_for, offer_window, respond_to_offer, suggestions,
};

/// A support request as stored. Never handed to callers directly: see [`RequestView`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportRequest {
    pub id: Uuid,
    pub requester_id: Option<Uuid>,
    pub origin: RequestOrigin,
    pub outreach_id: Option<Uuid>,
    pub event_id: Option<Uuid>,
    pub referred_by: Option<String>,
    pub program_id: Option<Uuid>,
    pub urgency: Urgency,
    pub preferences: Preferences,
    pub coordinator_access: CoordinatorAccess,
    pub preferred_name: Option<String>,
    pub state: RequestState,
    /// `peer_supporters.id` of the assigned supporter.
    pub supporter_id: Option<Uuid>,
    pub offered_to: Option<Uuid>,
    pub offer_expires_at: Option<NaiveDateTime>,
    pub ack_due_at: NaiveDateTime,
    pub contact_due_at: NaiveDateTime,
    pub ack_breached_at: Option<NaiveDateTime>,
    pub contact_breached_at: Option<NaiveDateTime>,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub first_contact_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub escalated_to: Option<Uuid>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preferences {
    pub peer_profession: Option<Profession>,
    pub specialty: SpecialtyPreference,
    pub language: Option<String>,
    pub language_required: bool,
    pub modality: Modality,
    pub peer_origin: PeerOrigin,
}

#[derive(Queryable)]
pub(crate) struct Row {
    id: Uuid,
    requester_id: Option<Uuid>,
    origin: RequestOrigin,
    outreach_id: Option<Uuid>,
    event_id: Option<Uuid>,
    referred_by: Option<String>,
    program_id: Option<Uuid>,
    urgency: Urgency,
    peer_profession: Option<Profession>,
    specialty_preference: SpecialtyPreference,
    language: Option<String>,
    language_required: bool,
    modality: Modality,
    peer_origin: PeerOrigin,
    coordinator_access: CoordinatorAccess,
    preferred_name: Option<String>,
    state: RequestState,
    supporter_id: Option<Uuid>,
    offered_to: Option<Uuid>,
    offer_expires_at: Option<NaiveDateTime>,
    ack_due_at: NaiveDateTime,
    contact_due_at: NaiveDateTime,
    ack_breached_at: Option<NaiveDateTime>,
    contact_breached_at: Option<NaiveDateTime>,
    acknowledged_at: Option<NaiveDateTime>,
    first_contact_at: Option<NaiveDateTime>,
    closed_at: Option<NaiveDateTime>,
    escalated_to: Option<Uuid>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    // What metrics count the request by, as it was made; read only by metrics and retention.
    _requester_profession: Option<String>,
    _event_category: Option<String>,
}

impl From<Row> for SupportRequest {
    fn from(r: Row) -> Self {
        SupportRequest {
            id: r.id,
            requester_id: r.requester_id,
            origin: r.origin,
            outreach_id: r.outreach_id,
            event_id: r.event_id,
            referred_by: r.referred_by,
            program_id: r.program_id,
            urgency: r.urgency,
            preferences: Preferences {
                peer_profession: r.peer_profession,
                specialty: r.specialty_preference,
                language: r.language,
                language_required: r.language_required,
                modality: r.modality,
                peer_origin: r.peer_origin,
            },
            coordinator_access: r.coordinator_access,
            preferred_name: r.preferred_name,
            state: r.state,
            supporter_id: r.supporter_id,
            offered_to: r.offered_to,
            offer_expires_at: r.offer_expires_at,
            ack_due_at: r.ack_due_at,
            contact_due_at: r.contact_due_at,
            ack_breached_at: r.ack_breached_at,
            contact_breached_at: r.contact_breached_at,
            acknowledged_at: r.acknowledged_at,
            first_contact_at: r.first_contact_at,
            closed_at: r.closed_at,
            escalated_to: r.escalated_to,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

pub(crate) fn load(conn: &mut DbConnection, id: Uuid) -> Result<SupportRequest, CoreError> {
    support_requests::table
        .filter(support_requests::id.eq(Id(id)))
        .first::<Row>(conn)
        .optional()?
        .map(SupportRequest::from)
        .ok_or(CoreError::NotFound("support request"))
}

/// What a person asks for.
#[derive(Debug, Clone)]
pub struct RequestInput {
    pub urgency: Urgency,
    pub preferences: Preferences,
    pub coordinator_access: CoordinatorAccess,
    /// What the supporter should call them: a first name, short, nothing else.
    pub preferred_name: Option<String>,
    /// Set when accepting an outreach.
    pub outreach_id: Option<Uuid>,
}

/// How the caller relates to a request, which decides what they see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Requester,
    /// Offered the request, or assigned to it.
    Supporter {
        assigned: bool,
    },
    Coordinator {
        full: bool,
    },
}

/// A request as one caller may see it. Fields the caller may not see are `None`.
#[derive(Debug, Clone)]
pub struct RequestView {
    pub audience: Audience,
    pub id: Uuid,
    pub state: RequestState,
    pub origin: RequestOrigin,
    pub urgency: Urgency,
    pub created_at: NaiveDateTime,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub first_contact_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub ack_due_at: NaiveDateTime,
    pub contact_due_at: NaiveDateTime,
    pub ack_breached: bool,
    pub contact_breached: bool,
    pub offer_expires_at: Option<NaiveDateTime>,
    pub preferred_name: Option<String>,
    pub requester_person_id: Option<Uuid>,
    pub requester_profession: Option<Profession>,
    /// The requester's email, for the assigned supporter to make contact.
    pub contact_email: Option<String>,
    pub preferences: Option<Preferences>,
    pub event_category: Option<EventCategory>,
    pub supporter_person_id: Option<Uuid>,
    pub supporter_name: Option<String>,
    pub escalated_to: Option<Uuid>,
    /// The program the request is in (which program says nothing about the person).
    pub program_id: Option<Uuid>,
}

/// Decides how `who` relates to `req`, or refuses. Outside-only requests are invisible to local
/// coordinators; analysts never see individual records.
pub(crate) fn audience(
    conn: &mut DbConnection,
    who: &Principal,
    req: &SupportRequest,
) -> Result<Audience, CoreError> {
    let user = who.require_user()?;
    if req.requester_id == Some(user.person_id) {
        return Ok(Audience::Requester);
    }
    if authorize(who, Operation::SupportPeers).is_ok() {
        let mine = crate::supporters::load_for_person(conn, user.person_id)?.map(|s| s.id);
        if mine.is_some() && mine == req.supporter_id {
            return Ok(Audience::Supporter { assigned: true });
        }
        if mine.is_some() && mine == req.offered_to && req.state == RequestState::Offered {
            return Ok(Audience::Supporter { assigned: false });
        }
    }
    if authorize(who, Operation::CoordinateRequests).is_ok() {
        if req.preferences.peer_origin == PeerOrigin::OutsideInstitutionOnly {
            return Err(CoreError::NotFound("support request"));
        }
        return Ok(Audience::Coordinator {
            full: req.coordinator_access == CoordinatorAccess::Full,
        });
    }
    Err(CoreError::NotFound("support request"))
}

/// The person behind a peer supporter, and their name.
pub(crate) fn supporter_person(
    conn: &mut DbConnection,
    supporter: Option<Uuid>,
) -> Result<Option<(Uuid, String)>, CoreError> {
    use crate::schema::{peer_supporters, people};
    let Some(s) = supporter else { return Ok(None) };
    let row: Option<(Uuid, String)> = peer_supporters::table
        .inner_join(people::table)
        .filter(peer_supporters::id.eq(Id(s)))
        .select((people::id, people::display_name))
        .first(conn)
        .optional()?;
    row.map(|(id, name)| Ok((id, name))).transpose()
}

pub(crate) fn view(
    conn: &mut DbConnection,
    audience: Audience,
    req: &SupportRequest,
) -> Result<RequestView, CoreError> {
    view_with(conn, audience, req, &mut Lookups::default())
}

/// What views of several requests share (one requester, a few supporters and events), loaded
/// once per list rather than once per row.
#[derive(Default)]
pub(crate) struct Lookups {
    people: HashMap<Uuid, people::Person>,
    supporters: HashMap<Uuid, Option<(Uuid, String)>>,
    events: HashMap<Uuid, Option<EventCategory>>,
}

pub(crate) fn view_with(
    conn: &mut DbConnection,
    audience: Audience,
    req: &SupportRequest,
    lookups: &mut Lookups,
) -> Result<RequestView, CoreError> {
    let requester = match req.requester_id {
        Some(id) => Some(match lookups.people.get(&id) {
            Some(p) => p.clone(),
            None => {
                let p = people::load(conn, id)?;
                lookups.people.insert(id, p.clone());
                p
            }
        }),
        None => None,
    };
    let event_category = match req.event_id {
        Some(e) => match lookups.events.get(&e) {
            Some(c) => *c,
            None => {
                let c = events::category_of(conn, e)?;
                lookups.events.insert(e, c);
                c
            }
        },
        None => None,
    };
    let supporter = match req.supporter_id {
        Some(s) => match lookups.supporters.get(&s) {
            Some(found) => found.clone(),
            None => {
                let found = supporter_person(conn, Some(s))?;
                lookups.supporters.insert(s, found.clone());
                found
            }
        },
        None => None,
    };
    let mut v = RequestView {
        audience,
        id: req.id,
        state: req.state,
        origin: req.origin,
        urgency: req.urgency,
        created_at: req.created_at,
        acknowledged_at: req.acknowledged_at,
        first_contact_at: req.first_contact_at,
        closed_at: req.closed_at,
        ack_due_at: req.ack_due_at,
        contact_due_at: req.contact_due_at,
        ack_breached: req.ack_breached_at.is_some(),
        contact_breached: req.contact_breached_at.is_some(),
        offer_expires_at: None,
        preferred_name: None,
        requester_person_id: None,
        requester_profession: None,
        contact_email: None,
        preferences: None,
        event_category: None,
        supporter_person_id: None,
        supporter_name: None,
        escalated_to: req.escalated_to,
        program_id: req.program_id,
    };
    match audience {
        Audience::Requester => {
            v.preferred_name = req.preferred_name.clone();
            v.requester_person_id = req.requester_id;
            v.preferences = Some(req.preferences.clone());
            v.event_category = event_category;
            v.supporter_person_id = supporter.as_ref().map(|s| s.0);
            v.supporter_name = supporter.map(|s| s.1);
        }
        Audience::Supporter { assigned } => {
            // What is needed to make contact, and the kind of event: nothing more.
            v.preferred_name = req.preferred_name.clone();
            v.requester_profession = requester.as_ref().map(|p| p.profession);
            v.preferences = Some(Preferences {
                peer_profession: None,
                specialty: SpecialtyPreference::Any,
                language: req.preferences.language.clone(),
                language_required: req.preferences.language_required,
                modality: req.preferences.modality,
                peer_origin: req.preferences.peer_origin,
            });
            v.event_category = event_category;
            v.offer_expires_at = if assigned { None } else { req.offer_expires_at };
            if assigned {
                v.contact_email = requester.and_then(|p| p.email);
            }
        }
        Audience::Coordinator { full } => {
            v.supporter_person_id = supporter.as_ref().map(|s| s.0);
            v.supporter_name = supporter.map(|s| s.1);
            if full {
                v.preferred_name = req.preferred_name.clone();
                v.requester_person_id = req.requester_id;
                v.requester_profession = requester.map(|p| p.profession);
                v.preferences = Some(req.preferences.clone());
                v.event_category = event_category;
            }
        }
    }
    Ok(v)
}

/// Reads a request again after a change and shows it to `audience`.
pub(crate) fn reload_view(
    conn: &mut DbConnection,
    audience: Audience,
    id: Uuid,
) -> Result<RequestView, CoreError> {
    let req = load(conn, id)?;
    view(conn, audience, &req)
}

/// Moves a request to `to`, recording the transition; refuses illegal ones with `CONFLICT`.
pub(crate) fn transition(
    conn: &mut DbConnection,
    req: &SupportRequest,
    to: RequestState,
    actor: &str,
) -> Result<(), CoreError> {
    state::check(req.state, to)?;
    let now = time::now();
    diesel::update(support_requests::table.filter(support_requests::id.eq(Id(req.id))))
        .set((
            support_requests::state.eq(to.as_str()),
            support_requests::updated_at.eq(now),
        ))
        .execute(conn)?;
    if req.preferences.peer_origin != PeerOrigin::OutsideInstitutionOnly {
        notify::webhooks::publish(
            conn,
            "support_request.state_changed",
            notify::webhooks::ids(&[
                ("request_id", req.id.to_string()),
                ("from", req.state.as_str().into()),
                ("to", to.as_str().into()),
            ]),
        )?;
    }
    diesel::insert_into(request_transitions::table)
        .values((
            request_transitions::id.eq(Id(new_id())),
            request_transitions::request_id.eq(Id(req.id)),
            request_transitions::from_state.eq(req.state.as_str()),
            request_transitions::to_state.eq(to.as_str()),
            request_transitions::actor.eq(actor),
            request_transitions::at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The peer support program whose targets and follow-up schedule apply.
fn peer_program(conn: &mut DbConnection) -> Result<Option<(Uuid, i32, i32)>, CoreError> {
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
}

/// Records an alert and pages whoever is on call (see [`crate::oncall`]).
pub(crate) fn raise_alert(
    conn: &mut DbConnection,
    kind: &str,
    request: Uuid,
    now: NaiveDateTime,
) -> Result<(), CoreError> {
    crate::oncall::raise(conn, kind, Some(request), now).map(|_| ())
}

/// Every enabled coordinator's email: where an alert goes when nobody is on call.
pub(crate) fn coordinator_emails(conn: &mut DbConnection) -> Result<Vec<String>, CoreError> {
    use crate::schema::{account_roles, accounts, people};
    Ok(account_roles::table
        .inner_join(accounts::table.inner_join(people::table))
        .filter(account_roles::role.eq(crate::access::Role::Coordinator.as_str()))
        .filter(accounts::disabled.eq(false))
        .filter(people::active.eq(true))
        .filter(people::email.is_not_null())
        .select(people::email.assume_not_null())
        .load(conn)?)
}

/// The email of a peer supporter's person.
pub(crate) fn supporter_email(
    conn: &mut DbConnection,
    supporter: Uuid,
) -> Result<Option<String>, CoreError> {
    use crate::schema::{peer_supporters, people};
    Ok(peer_supporters::table
        .inner_join(people::table)
        .filter(peer_supporters::id.eq(Id(supporter)))
        .filter(people::active.eq(true))
        .select(people::email)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

/// The result of asking for support. A crisis request carries the crisis resources at once.
#[derive(Debug, Clone)]
pub struct Created {
    pub request: RequestView,
    pub crisis_resources: Option<String>,
}

fn check_input(input: &RequestInput) -> Result<(Option<String>, Option<String>), CoreError> {
    let name = validate::optional_line("preferredName", input.preferred_name.as_deref(), 40)?;
    if let Some(n) = &name {
        deid::check("preferredName", n)?;
        if n.split_whitespace().count() > 3 {
            return Err(CoreError::bad_input(
                "preferredName",
                "just the name to call you by, at most three words",
            ));
        }
    }
    let language = match &input.preferences.language {
        Some(l) => validate::languages("language", std::slice::from_ref(l))?
            .into_iter()
            .next(),
        None => None,
    };
    if input.preferences.language_required && language.is_none() {
        return Err(CoreError::bad_input(
            "languageRequired",
            "say which language",
        ));
    }
    Ok((name, language))
}

fn insert(
    conn: &mut DbConnection,
    requester: Uuid,
    origin: RequestOrigin,
    referred_by: Option<String>,
    event_id: Option<Uuid>,
    input: RequestInput,
    actor: &str,
) -> Result<SupportRequest, CoreError> {
    let (preferred_name, language) = check_input(&input)?;
    let person = people::load(conn, requester)?;
    let event_category = match event_id {
        Some(e) => crate::events::category_of(conn, e)?,
        None => None,
    };
    let program = peer_program(conn)?;
    let (ack_minutes, contact_hours) = program
        .as_ref()
        .map(|p| (p.1, p.2))
        .unwrap_or((DEFAULT_ACK_MINUTES, DEFAULT_FIRST_CONTACT_HOURS));
    let now = time::now();
    let id = new_id();
    let initial = if input.preferences.peer_origin == PeerOrigin::OutsideInstitutionOnly {
        RequestState::AwaitingFederation
    } else {
        RequestState::Open
    };
    let p = &input.preferences;
    diesel::insert_into(support_requests::table)
        .values((
            support_requests::id.eq(Id(id)),
            support_requests::requester_id.eq(Some(Id(requester))),
            support_requests::origin.eq(origin.as_str()),
            support_requests::outreach_id.eq(input.outreach_id.map(Id)),
            support_requests::event_id.eq(event_id.map(Id)),
            support_requests::referred_by.eq(referred_by),
            support_requests::program_id.eq(program.map(|p| Id(p.0))),
            support_requests::urgency.eq(input.urgency.as_str()),
            support_requests::peer_profession.eq(p.peer_profession.map(|x| x.as_str())),
            support_requests::specialty_preference.eq(p.specialty.as_str()),
            support_requests::language.eq(language),
            support_requests::language_required.eq(p.language_required),
            support_requests::modality.eq(p.modality.as_str()),
            support_requests::peer_origin.eq(p.peer_origin.as_str()),
            support_requests::coordinator_access.eq(input.coordinator_access.as_str()),
            support_requests::preferred_name.eq(preferred_name),
            support_requests::state.eq(initial.as_str()),
            support_requests::ack_due_at.eq(now + Duration::minutes(i64::from(ack_minutes))),
            support_requests::contact_due_at.eq(now + Duration::hours(i64::from(contact_hours))),
            support_requests::created_at.eq(now),
            support_requests::updated_at.eq(now),
            support_requests::requester_profession.eq(Some(person.profession.as_str())),
            support_requests::event_category.eq(event_category.map(|c| c.as_str())),
        ))
        .execute(conn)?;
    audit::append(conn, actor, "create", "support_request", id)?;
    // A request for an outside peer is invisible locally beyond counts: no webhook either.
    if initial != RequestState::AwaitingFederation {
        notify::webhooks::publish(
            conn,
            "support_request.created",
            notify::webhooks::ids(&[
                ("request_id", id.to_string()),
                ("state", initial.as_str().into()),
            ]),
        )?;
    }
    if input.urgency == Urgency::Crisis {
        raise_alert(conn, "crisis", id, now)?;
    }
    let created = load(conn, id)?;
    if created.state == RequestState::Open {
        matchmaking::offer_next(conn, &created, actor)?;
    }
    load(conn, id)
}

fn crisis_text(conn: &mut DbConnection, urgency: Urgency) -> Result<Option<String>, CoreError> {
    Ok(if urgency == Urgency::Crisis {
        Some(institution::load(conn)?.crisis_resources)
    } else {
        None
    })
}

/// A person asks for support for themselves, directly or by accepting an outreach. A crisis
/// request returns the crisis resources in the same response and alerts the on-call
/// professional; nothing about it waits for a match.
pub async fn request_support(
    db: &Db,
    who: &Principal,
    input: RequestInput,
) -> Result<Created, CoreError> {
    authorize(who, Operation::RequestSupport)?;
    let me = who.require_user()?.person_id;
    let actor = audit::actor(who);
    db.transaction(move |conn| {
        let crisis_resources = crisis_text(conn, input.urgency)?;
        let (origin, event_id) = match input.outreach_id {
            Some(outreach_id) => {
                let o = events::load_outreach(conn, outreach_id)?;
                if o.person_id != me {
                    return Err(CoreError::NotFound("outreach"));
                }
                if o.state == OutreachState::Accepted {
                    return Err(CoreError::Conflict(
                        "this outreach already led to a request".into(),
                    ));
                }
                (RequestOrigin::Outreach, Some(o.event_id))
            }
            None => (RequestOrigin::SelfReferral, None),
        };
        let outreach_id = input.outreach_id;
        let req = insert(conn, me, origin, None, event_id, input, &actor)?;
        if let Some(o) = outreach_id {
            set_outreach_state(conn, o, OutreachState::Accepted, Some(req.id))?;
        }
        Ok(Created {
            request: view(conn, Audience::Requester, &req)?,
            crisis_resources,
        })
    })
    .await
}

/// A coordinator refers someone for support (with their agreement, outside the software).
pub async fn refer(
    db: &Db,
    who: &Principal,
    person_id: Uuid,
    event_id: Option<Uuid>,
    input: RequestInput,
) -> Result<Created, CoreError> {
    authorize(who, Operation::ReferForSupport)?;
    if input.outreach_id.is_some() {
        return Err(CoreError::bad_input(
            "outreachId",
            "only the person can accept an outreach",
        ));
    }
    let actor = audit::actor(who);
    let who = who.clone();
    db.transaction(move |conn| {
        if let Some(e) = event_id {
            events::category_of(conn, e)?.ok_or(CoreError::NotFound("event"))?;
        }
        let crisis_resources = crisis_text(conn, input.urgency)?;
        let req = insert(
            conn,
            person_id,
            RequestOrigin::Referral,
            Some(actor.clone()),
            event_id,
            input,
            &actor,
        )?;
        let aud = audience(conn, &who, &req)?;
        Ok(Created {
            request: view(conn, aud, &req)?,
            crisis_resources,
        })
    })
    .await
}

/// One request, as the caller may see it. The read is audited.
pub async fn get(db: &Db, who: &Principal, id: Uuid) -> Result<RequestView, CoreError> {
    who.require_user()?;
    let who = who.clone();
    let reader = who.clone();
    let view = db
        .read_transaction(move |conn| {
            let req = load(conn, id)?;
            let aud = audience(conn, &reader, &req)?;
            view(conn, aud, &req)
        })
        .await?;
    audit::log_reads(db, &who, "support_request", vec![id]).await?;
    Ok(view)
}

/// Which requests a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The caller's own requests.
    Mine,
    /// Requests assigned to or offered to the caller as a supporter.
    Supporting,
    /// The coordinator's queue (never outside-only requests).
    Queue,
    /// The queue's requests that still need someone (not ended): see [`queue::waiting`].
    Waiting,
}

pub async fn list(
    db: &Db,
    who: &Principal,
    scope: Scope,
    state: Option<RequestState>,
) -> Result<Vec<RequestView>, CoreError> {
    let narrow = Narrow {
        state,
        limit: 200,
        ..Narrow::default()
    };
    list_narrowed(db, who, scope, narrow).await
}

/// How a list narrows and orders beyond its scope, in the database, so a page of a long queue
/// is the right page.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Narrow {
    pub state: Option<RequestState>,
    pub urgency: Option<Urgency>,
    pub program: Option<Uuid>,
    /// The queue's order (a clock run out first, then the most urgent, then who has waited
    /// longest) rather than the newest first.
    pub pressing: bool,
    pub offset: i64,
    pub limit: i64,
}

/// `CASE` ranks for the queue's order, on both backends.
fn pressing_order() -> (String, String) {
    let breached = "CASE WHEN ack_breached_at IS NOT NULL OR contact_breached_at IS NOT NULL \
                    THEN 0 ELSE 1 END"
        .to_owned();
    let mut urgency = String::from("CASE urgency");
    for (rank, u) in Urgency::ALL.iter().rev().enumerate() {
        urgency.push_str(&format!(" WHEN '{}' THEN {rank}", u.as_str()));
    }
    urgency.push_str(" ELSE 99 END");
    (breached, urgency)
}

pub(crate) async fn list_narrowed(
    db: &Db,
    who: &Principal,
    scope: Scope,
    narrow: Narrow,
) -> Result<Vec<RequestView>, CoreError> {
    let state = narrow.state;
    let who = who.clone();
    let user = who.require_user()?.clone();
    match scope {
        Scope::Mine => authorize(&who, Operation::RequestSupport)?,
        Scope::Supporting => authorize(&who, Operation::SupportPeers)?,
        Scope::Queue | Scope::Waiting => authorize(&who, Operation::CoordinateRequests)?,
    }
    // Read in a snapshot without the write lock, then log the reads in a short write; nothing
    // is returned unless the log entries are written.
    let reader = who.clone();
    let (out, read) = db
        .read_transaction(move |conn| {
            let who = reader;
            let mut q = support_requests::table.into_boxed();
            match scope {
                Scope::Mine => q = q.filter(support_requests::requester_id.eq(Id(user.person_id))),
                Scope::Supporting => {
                    let Some(me) = crate::supporters::load_for_person(conn, user.person_id)? else {
                        return Ok((vec![], vec![]));
                    };
                    q = q.filter(
                        support_requests::supporter_id.eq(Id(me.id)).or(
                            support_requests::offered_to
                                .eq(Id(me.id))
                                .and(support_requests::state.eq(RequestState::Offered)),
                        ),
                    );
                }
                Scope::Queue => {
                    q = q.filter(
                        support_requests::peer_origin.ne(PeerOrigin::OutsideInstitutionOnly),
                    )
                }
                Scope::Waiting => {
                    let active: Vec<RequestState> = RequestState::ALL
                        .iter()
                        .copied()
                        .filter(|s| state::is_active(*s))
                        .collect();
                    q = q
                        .filter(
                            support_requests::peer_origin.ne(PeerOrigin::OutsideInstitutionOnly),
                        )
                        .filter(support_requests::state.eq_any(active))
                }
            }
            if let Some(s) = state {
                q = q.filter(support_requests::state.eq(s.as_str()));
            }
            if let Some(u) = narrow.urgency {
                q = q.filter(support_requests::urgency.eq(u.as_str()));
            }
            if let Some(p) = narrow.program {
                q = q.filter(support_requests::program_id.eq(Id(p)));
            }
            q = if narrow.pressing {
                use diesel::dsl::sql;
                use diesel::sql_types::Integer;
                let (breached, urgency) = pressing_order();
                q.order(sql::<Integer>(&breached))
                    .then_order_by(sql::<Integer>(&urgency))
                    .then_order_by(support_requests::created_at.asc())
                    .then_order_by(support_requests::id.asc())
            } else {
                q.order(support_requests::id.desc())
            };
            let rows = q
                .offset(narrow.offset.max(0))
                .limit(narrow.limit.clamp(1, 500))
                .load::<Row>(conn)?;
            let mut out = Vec::with_capacity(rows.len());
            let mut read = Vec::with_capacity(rows.len());
            let mut lookups = Lookups::default();
            for row in rows {
                let req = SupportRequest::from(row);
                let aud = audience(conn, &who, &req)?;
                read.push(req.id);
                out.push(view_with(conn, aud, &req, &mut lookups)?);
            }
            Ok((out, read))
        })
        .await?;
    audit::log_reads(db, &who, "support_request", read).await?;
    Ok(out)
}

/// Requests as counts, suppressed like every aggregate (a count from 1 to k−1 is not shown, nor
/// whatever would give it away): `by_state` covers the requests coordinators may see in the
/// queue, `outside_only` those for a peer outside the institution, which local coordinators
/// see only as this count. Unsuppressed, watching them move would single out one request (the
/// outside-only count going from 3 to 4 just after an event) — coordinators have the queue
/// for the exact work in front of them.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub by_state: Vec<(RequestState, Cell)>,
    pub outside_only: Cell,
}

pub async fn counts(db: &Db, who: &Principal, k: SuppressionK) -> Result<Counts, CoreError> {
    if authorize(who, Operation::CoordinateRequests).is_err() {
        authorize(who, Operation::ViewAggregates)?;
    }
    db.run(move |conn| {
        // Counted in the database: one row per state and origin, however many requests.
        let rows: Vec<(String, String, i64)> = support_requests::table
            .group_by((support_requests::state, support_requests::peer_origin))
            .select((
                support_requests::state,
                support_requests::peer_origin,
                diesel::dsl::count_star(),
            ))
            .load(conn)?;
        let outside = |o: &str| o == PeerOrigin::OutsideInstitutionOnly.as_str();
        let counts: Vec<u64> = RequestState::ALL
            .iter()
            .map(|s| {
                rows.iter()
                    .filter(|(st, o, _)| st == s.as_str() && !outside(o))
                    .map(|(_, _, n)| u64::try_from(*n).unwrap_or(0))
                    .sum()
            })
            .collect();
        let table = suppression::suppress(
            vec!["requests".into()],
            RequestState::ALL
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            &[counts],
            k,
        );
        let cells = table.cells.into_iter().next().unwrap_or_default();
        Ok(Counts {
            by_state: RequestState::ALL.iter().copied().zip(cells).collect(),
            outside_only: suppression::single(
                rows.iter()
                    .filter(|(_, o, _)| outside(o))
                    .map(|(_, _, n)| u64::try_from(*n).unwrap_or(0))
                    .sum(),
                k,
            ),
        })
    })
    .await
}

/// Loads a request for an action, checking the caller's relation to it and auditing the write.
pub(crate) fn for_action(
    conn: &mut DbConnection,
    who: &Principal,
    id: Uuid,
    action: &str,
) -> Result<(SupportRequest, Audience), CoreError> {
    // A stranger is told to sign in before anything is looked up.
    who.require_user()?;
    let req = load(conn, id)?;
    let aud = audience(conn, who, &req)?;
    audit::append(conn, &audit::actor(who), action, "support_request", id)?;
    Ok((req, aud))
}

/// A person acknowledges the request (a coordinator, or the supporter it is offered or assigned
/// to): stops the acknowledgement clock.
pub async fn acknowledge(db: &Db, who: &Principal, id: Uuid) -> Result<RequestView, CoreError> {
    let who = who.clone();
    db.transaction(move |conn| {
        let (req, aud) = for_action(conn, &who, id, "acknowledge")?;
        if aud == Audience::Requester {
            return Err(CoreError::Forbidden(
                "the program acknowledges a request, not the person who made it".into(),
            ));
        }
        if req.acknowledged_at.is_none() {
            diesel::update(support_requests::table.filter(support_requests::id.eq(Id(id))))
                .set(support_requests::acknowledged_at.eq(Some(time::now())))
                .execute(conn)?;
        }
        reload_view(conn, aud, id)
    })
    .await
}

fn requester_action(
    db: &Db,
    who: &Principal,
    id: Uuid,
    to: RequestState,
) -> impl std::future::Future<Output = Result<RequestView, CoreError>> + use<> {
    let who = who.clone();
    let db = db.clone();
    async move {
        db.transaction(move |conn| {
            let (req, aud) = for_action(conn, &who, id, to.as_str())?;
            if aud != Audience::Requester {
                return Err(CoreError::Forbidden(
                    "only the person who asked can do this".into(),
                ));
            }
            transition(conn, &req, to, &audit::actor(&who))?;
            care::skip_open_follow_ups(conn, id)?;
            // The supporter it was offered to or held by has room again.
            if let Some(freed) = req.supporter_id.or(req.offered_to) {
                matchmaking::rematch(conn, time::now(), matchmaking::REMATCH_ACTOR, Some(freed))?;
            }
            reload_view(conn, aud, id)
        })
        .await
    }
}

/// The requester withdraws the request.
pub async fn withdraw(db: &Db, who: &Principal, id: Uuid) -> Result<RequestView, CoreError> {
    requester_action(db, who, id, RequestState::Withdrawn).await
}

/// The requester declines the support offered ("no, thank you").
pub async fn decline_support(db: &Db, who: &Principal, id: Uuid) -> Result<RequestView, CoreError> {
    requester_action(db, who, id, RequestState::DeclinedByRequester).await
}

/// The same moment as the stored timestamps use.
pub fn now() -> NaiveDateTime {
    time::now()
}
