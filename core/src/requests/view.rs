//! Who sees what of a request: the caller's relation to it (requester, supporter, coordinator)
//! and the view built for that relation, with what they may not see left out.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use crate::access::{Operation, Principal, authorize};
use crate::db::{DbConnection, Id};
use crate::error::CoreError;
use crate::events;
use crate::people;
use crate::vocab::{
    CoordinatorAccess, EventCategory, PeerOrigin, Profession, RequestOrigin, RequestState,
    SpecialtyPreference, Urgency,
};

use super::{Preferences, SupportRequest, load};

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

impl Lookups {
    /// Lookups that already know one person (a requester the caller has just read).
    pub(crate) fn knowing(person: people::Person) -> Self {
        let mut lookups = Self::default();
        lookups.people.insert(person.id, person);
        lookups
    }

    /// A supporter's person and name read with the requests (`None`: no such supporter).
    pub(crate) fn know_supporter(&mut self, supporter: Uuid, found: Option<(Uuid, String)>) {
        self.supporters.insert(supporter, found);
    }

    /// An event's category read with the requests (`None`: no such event).
    pub(crate) fn know_event(&mut self, event: Uuid, category: Option<EventCategory>) {
        self.events.insert(event, category);
    }
}

pub(crate) fn view_with(
    conn: &mut DbConnection,
    audience: Audience,
    req: &SupportRequest,
    lookups: &mut Lookups,
) -> Result<RequestView, CoreError> {
    // Only what this audience is shown is read: each is a round trip, and a list reads them
    // for every row it has not met before.
    let (sees_requester, sees_event, sees_supporter) = match audience {
        Audience::Requester => (false, true, true),
        Audience::Supporter { .. } => (true, true, false),
        Audience::Coordinator { full } => (full, full, true),
    };
    let requester = match req.requester_id.filter(|_| sees_requester) {
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
    let event_category = match req.event_id.filter(|_| sees_event) {
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
    let supporter = match req.supporter_id.filter(|_| sees_supporter) {
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
