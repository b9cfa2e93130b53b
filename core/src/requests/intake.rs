//! Asking for support: a person's own request, a coordinator's referral, the checks on what
//! they give and the crisis resources shown at once.

use chrono::Duration;
use diesel::prelude::*;
use uuid::Uuid;

use crate::access::{Operation, Principal, authorize};
use crate::audit;
use crate::db::together::Writes;
use crate::db::{Db, DbConnection, Id};
use crate::error::CoreError;
use crate::events::{self, set_outreach_state};
use crate::ids::new_id;
use crate::institution;
use crate::people;
use crate::programs::{DEFAULT_ACK_MINUTES, DEFAULT_FIRST_CONTACT_HOURS, peer_support_targets};
use crate::schema::support_requests;
use crate::vocab::{
    CoordinatorAccess, EventCategory, OutreachState, PeerOrigin, Profession, RequestOrigin,
    RequestState, Urgency,
};
use crate::{deid, notify, time, validate};

use super::view::{Audience, Lookups, RequestView, audience, view_with};
use super::{Preferences, SupportRequest, matchmaking, raise_alert};

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

/// Whether anything in the transaction refers to a new request's rows after [`insert`]:
/// if not, they are written with its last statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    NothingRefers,
    Refers,
}

#[allow(clippy::too_many_arguments)]
fn insert(
    conn: &mut DbConnection,
    requester: Uuid,
    origin: RequestOrigin,
    referred_by: Option<String>,
    event_id: Option<Uuid>,
    input: RequestInput,
    actor: &str,
    then: Then,
) -> Result<(SupportRequest, people::Person), CoreError> {
    let (preferred_name, language) = check_input(&input)?;
    let event_category = match event_id {
        Some(e) => crate::events::category_of(conn, e)?,
        None => None,
    };
    let program = peer_support_targets(conn)?;
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
    // What is written, and so what the rest of the use case works with: nothing read back.
    let created = SupportRequest {
        id,
        requester_id: Some(requester),
        origin,
        outreach_id: input.outreach_id,
        event_id,
        referred_by,
        program_id: program.map(|p| p.0),
        urgency: input.urgency,
        preferences: Preferences {
            language,
            ..input.preferences
        },
        coordinator_access: input.coordinator_access,
        preferred_name,
        state: initial,
        ack_due_at: now + Duration::minutes(i64::from(ack_minutes)),
        contact_due_at: now + Duration::hours(i64::from(contact_hours)),
        ..super::blank(now)
    };
    // The first offer is decided before the request is written, so that it is written once;
    // the requester is read with the supporters.
    let (person, first) = matchmaking::requester_and_first_offer(conn, &created, requester)?;
    let r = first.as_ref().map_or(&created, |f| &f.offered);
    // The request, its offer's history and the message to the supporter: one statement.
    let mut writes = Writes::new();
    write_new(conn, &mut writes, r, person.profession, event_category)?;
    audit::append(conn, actor, audit::CREATE, "support_request", id)?;
    // A request for an outside peer is invisible locally beyond counts: no webhook either. A
    // request offered at once is announced as made open, then offered, as any other.
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
    if let Some(first) = &first {
        matchmaking::announce_offer(conn, &mut writes, first, actor)?;
    }
    if created.urgency == Urgency::Crisis {
        // The alert refers to the request: after it is written.
        writes.finish(conn)?;
        raise_alert(conn, "crisis", id, now)?;
    } else if then == Then::NothingRefers {
        // With the audit entry, the transaction's last statement: one wait fewer.
        writes.finish_by_commit(conn)?;
    } else {
        writes.finish(conn)?;
    }
    Ok(match first {
        Some(first) => (first.offered, person),
        None => (created, person),
    })
}

/// Writes a new request, as it stands (open, or already offered): held in `writes`.
pub(super) fn write_new(
    conn: &mut DbConnection,
    writes: &mut Writes,
    r: &SupportRequest,
    requester_profession: Profession,
    event_category: Option<EventCategory>,
) -> Result<(), CoreError> {
    let p = &r.preferences;
    let insert = diesel::insert_into(support_requests::table).values((
        support_requests::id.eq(Id(r.id)),
        support_requests::requester_id.eq(r.requester_id.map(Id)),
        support_requests::origin.eq(r.origin),
        support_requests::outreach_id.eq(r.outreach_id.map(Id)),
        support_requests::event_id.eq(r.event_id.map(Id)),
        support_requests::referred_by.eq(r.referred_by.clone()),
        support_requests::program_id.eq(r.program_id.map(Id)),
        support_requests::urgency.eq(r.urgency),
        support_requests::peer_profession.eq(p.peer_profession.map(|x| x.as_str())),
        support_requests::specialty_preference.eq(p.specialty),
        support_requests::language.eq(p.language.clone()),
        support_requests::language_required.eq(p.language_required),
        support_requests::modality.eq(p.modality),
        support_requests::peer_origin.eq(p.peer_origin),
        support_requests::coordinator_access.eq(r.coordinator_access),
        support_requests::preferred_name.eq(r.preferred_name.clone()),
        support_requests::state.eq(r.state),
        support_requests::offered_to.eq(r.offered_to.map(Id)),
        support_requests::offer_expires_at.eq(r.offer_expires_at),
        support_requests::ack_due_at.eq(r.ack_due_at),
        support_requests::contact_due_at.eq(r.contact_due_at),
        support_requests::created_at.eq(r.created_at),
        support_requests::updated_at.eq(r.updated_at),
        support_requests::requester_profession.eq(Some(requester_profession.as_str())),
        support_requests::event_category.eq(event_category.map(|c| c.as_str())),
    ));
    writes.insert(conn, insert)
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
    // Reads, then one statement, unless the request is a crisis or accepts an outreach (their
    // writes begin the transaction: `Writes::finish`).
    db.transaction_begun_late(move |conn| {
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
        // Accepting an outreach marks it with the request: that refers to it.
        let then = match outreach_id {
            Some(_) => Then::Refers,
            None => Then::NothingRefers,
        };
        let (req, requester) = insert(conn, me, origin, None, event_id, input, &actor, then)?;
        if let Some(o) = outreach_id {
            set_outreach_state(conn, o, OutreachState::Accepted, Some(req.id))?;
        }
        let mut known = Lookups::knowing(requester);
        Ok(Created {
            request: view_with(conn, Audience::Requester, &req, &mut known)?,
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
    db.transaction_begun_late(move |conn| {
        if let Some(e) = event_id {
            events::category_of(conn, e)?.ok_or(CoreError::NotFound("event"))?;
        }
        let crisis_resources = crisis_text(conn, input.urgency)?;
        let (req, requester) = insert(
            conn,
            person_id,
            RequestOrigin::Referral,
            Some(actor.clone()),
            event_id,
            input,
            &actor,
            Then::NothingRefers,
        )?;
        let aud = audience(conn, &who, &req)?;
        let mut known = Lookups::knowing(requester);
        Ok(Created {
            request: view_with(conn, aud, &req, &mut known)?,
            crisis_resources,
        })
    })
    .await
}
