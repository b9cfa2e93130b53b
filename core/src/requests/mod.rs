//! Support requests: from self-referral, outreach or a coordinator's referral; their state
//! machine, clocks, offers to peer supporters, and who may see what of them.

pub mod care;
pub mod clock;
pub mod handoff;
mod intake;
mod listing;
pub mod matchmaking;
pub mod outside;
pub mod outside_digest;
pub mod queue;
pub mod state;
mod view;
pub(crate) mod workload;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use crate::access::Principal;
use crate::audit;
use crate::db::together::Writes;
use crate::db::{Db, DbConnection, Id};
use crate::error::CoreError;
use crate::ids::new_id;
use crate::schema::{request_transitions, support_requests};
use crate::vocab::{
    CoordinatorAccess, Modality, PeerOrigin, Profession, RequestOrigin, RequestState,
    SpecialtyPreference, Urgency,
};
use crate::{notify, time};

pub use intake::{Created, RequestInput, refer, request_support};
pub(crate) use listing::warm_mine;
pub use listing::{Counts, Scope, counts, get, list};
pub(crate) use listing::{Narrow, list_narrowed};
pub use matchmaking::{
    Suggestion, assign, candidates_for, offer_window, respond_to_offer, suggestions,
};
pub use view::{Audience, RequestView};
pub(crate) use view::{audience, reload_view, view};

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
    // On the connection's own backend (`db::on_backend`): most writes on a case read it first.
    let query = support_requests::table.filter(support_requests::id.eq(Id(id)));
    crate::db::on_backend!(conn, |c| query.first::<Row>(c))
        .optional()?
        .map(SupportRequest::from)
        .ok_or(CoreError::NotFound("support request"))
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
            support_requests::state.eq(to),
            support_requests::updated_at.eq(now),
        ))
        .execute(conn)?;
    record_transition(conn, req, to, actor, now)
}

/// What follows a request's move to `to` once its row says so (checked with [`state::check`]
/// and written by the caller, with whatever else changes in the same UPDATE): the webhook and
/// the history entry.
pub(crate) fn record_transition(
    conn: &mut DbConnection,
    req: &SupportRequest,
    to: RequestState,
    actor: &str,
    now: NaiveDateTime,
) -> Result<(), CoreError> {
    let mut writes = Writes::new();
    record_transition_with(conn, &mut writes, req, to, actor, now)?;
    writes.finish(conn)
}

/// [`record_transition`], the history entry held in `writes`.
pub(crate) fn record_transition_with(
    conn: &mut DbConnection,
    writes: &mut Writes,
    req: &SupportRequest,
    to: RequestState,
    actor: &str,
    now: NaiveDateTime,
) -> Result<(), CoreError> {
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
    let insert = diesel::insert_into(request_transitions::table).values((
        request_transitions::id.eq(Id(new_id())),
        request_transitions::request_id.eq(Id(req.id)),
        request_transitions::from_state.eq(req.state),
        request_transitions::to_state.eq(to),
        request_transitions::actor.eq(actor.to_owned()),
        request_transitions::at.eq(now),
    ));
    writes.insert(conn, insert)
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

/// A request as made at `now`, before anything of it is known or has happened: what a new one
/// is made from (`intake`), and, as it is, what the warm-up's statements run with (`db::warm`).
pub(crate) fn blank(now: NaiveDateTime) -> SupportRequest {
    SupportRequest {
        id: Uuid::nil(),
        requester_id: Some(Uuid::nil()),
        origin: RequestOrigin::SelfReferral,
        outreach_id: None,
        event_id: None,
        referred_by: None,
        program_id: None,
        urgency: Urgency::Routine,
        preferences: Preferences {
            peer_profession: None,
            specialty: SpecialtyPreference::Any,
            language: None,
            language_required: false,
            modality: Modality::Phone,
            peer_origin: PeerOrigin::AnyDepartment,
        },
        coordinator_access: CoordinatorAccess::StatusOnly,
        preferred_name: None,
        state: RequestState::Open,
        supporter_id: None,
        offered_to: None,
        offer_expires_at: None,
        ack_due_at: now,
        contact_due_at: now,
        ack_breached_at: None,
        contact_breached_at: None,
        acknowledged_at: None,
        first_contact_at: None,
        closed_at: None,
        escalated_to: None,
        created_at: now,
        updated_at: now,
    }
}

/// Warm-up (`db::warm`): the reads of a new request, of an action on one (a supporter's
/// encounter) and of a request shown. Nothing matches.
pub(crate) fn warm_reads(conn: &mut DbConnection) -> Result<(), CoreError> {
    matchmaking::warm(conn, time::now())?;
    crate::supporters::load_for_person(conn, Uuid::nil())?;
    view::supporter_person(conn, Some(Uuid::nil()))?;
    load(conn, Uuid::nil()).map(drop).or_else(not_found)
}

/// Warm-up: a new request's write, with its audit entry (the transaction's last statement, as
/// in `intake`), written in the warm-up's transaction that is rolled back: a request of its own
/// (a new id each run) from the warm-up's requester (`db::warm`'s stand-ins).
pub(crate) fn warm_new(conn: &mut DbConnection) -> Result<(), CoreError> {
    warm_written(conn, false)
}

/// Warm-up: a new request offered at once: as [`warm_new`], with its offer's history and the
/// email to the supporter. Offered to the warm-up's supporter in its program, so the foreign
/// keys' checks and the supporters' counts (a trigger) run as for a real offer.
pub(crate) fn warm_offered(conn: &mut DbConnection) -> Result<(), CoreError> {
    warm_written(conn, true)
}

fn warm_written(conn: &mut DbConnection, offered: bool) -> Result<(), CoreError> {
    use notify::outbox::{AlsoText, Contact, enqueue_for_contact};
    audit::deferred(conn, |conn| {
        let now = time::now();
        let mut new = blank(now);
        new.id = new_id();
        if offered {
            new.state = RequestState::Offered;
            new.offered_to = Some(Uuid::nil());
            new.program_id = Some(Uuid::nil());
        }
        let mut writes = Writes::new();
        intake::write_new(conn, &mut writes, &new, Profession::Nurse, None)?;
        audit::append(conn, "warm-up", audit::CREATE, "support_request", new.id)?;
        if offered {
            record_transition_with(
                conn,
                &mut writes,
                &new,
                RequestState::Offered,
                "warm-up",
                now,
            )?;
            let supporter = Contact {
                email: Some(String::new()),
                phone: None,
                text_messages: false,
                locale: None,
            };
            enqueue_for_contact(
                conn,
                &mut writes,
                notify::templates::Topic::Offer,
                &supporter,
                "warm-up",
                &notify::templates::Vars::default(),
                AlsoText::IfChosen,
            )?;
        }
        writes.finish_by_commit(conn)
    })
}

/// Warm-up: an offer's history, of the warm-up's own request (`db::warm`).
pub(crate) fn warm_transition(conn: &mut DbConnection) -> Result<(), CoreError> {
    let now = time::now();
    record_transition(conn, &blank(now), RequestState::Offered, "warm-up", now)
}

/// A read of nothing is what the warm-up expects.
fn not_found(e: CoreError) -> Result<(), CoreError> {
    match e {
        CoreError::NotFound(_) => Ok(()),
        e => Err(e),
    }
}
