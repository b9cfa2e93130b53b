//! From the database to matching and back: building candidates, offering a request to the best
//! supporter, responses to offers, and coordinators' assignment by hand.

use std::collections::{HashMap, HashSet};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use uuid::Uuid;

use super::{
    Audience, RequestView, SupportRequest, for_action, load, reload_view, transition, view,
};
use crate::access::{Operation, Principal, authorize};
use crate::audit;
use crate::db::{Db, DbConnection};
use crate::error::CoreError;
use crate::events;
use crate::ids::stored_id;
use crate::matching::{self, Candidate, Criteria, Ranked};
use crate::notify::templates::{Topic, Vars};
use crate::schema::{offer_declines, peer_supporters, people as people_t, support_requests};
use crate::stored::from_json;
use crate::supporters::AvailabilityWindow;
use crate::time;
use crate::vocab::{ExperienceBand, PeerOrigin, Profession, RequestState, Urgency};
use crate::{notify, people};

/// How long a supporter has to answer an offer before it moves on.
pub fn offer_window(urgency: Urgency) -> Duration {
    match urgency {
        Urgency::Crisis => Duration::minutes(10),
        Urgency::Urgent => Duration::minutes(30),
        Urgency::Routine => Duration::hours(8),
    }
}

type SupporterRow = (
    String,
    String,
    Option<NaiveDate>,
    Option<NaiveDate>,
    bool,
    String,
    String,
    i32,
    bool,
    i32,
    Option<NaiveDateTime>,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
);

/// Every supporter as matching sees them, for a request about `event`.
pub fn candidates_for(
    conn: &mut DbConnection,
    event: Option<Uuid>,
    now: NaiveDateTime,
) -> Result<Vec<Candidate>, CoreError> {
    let rows: Vec<SupporterRow> = peer_supporters::table
        .inner_join(people_t::table)
        .select((
            peer_supporters::id,
            peer_supporters::person_id,
            peer_supporters::trained_on,
            peer_supporters::training_expires_on,
            peer_supporters::active,
            peer_supporters::time_zone,
            peer_supporters::availability,
            peer_supporters::caseload_cap,
            peer_supporters::lived_experience,
            peer_supporters::monthly_hours_cap,
            peer_supporters::last_assigned_at,
            people_t::profession,
            people_t::specialty,
            people_t::department,
            people_t::experience_band,
            people_t::languages,
        ))
        .load(conn)?;
    let holding = [
        RequestState::Accepted,
        RequestState::InContact,
        RequestState::FollowUp,
    ]
    .map(|s| s.as_str());
    // Counted by the database: the rows grow with every case, the counts only with supporters.
    let mut open_cases: HashMap<String, u32> = HashMap::new();
    let held: Vec<(Option<String>, i64)> = support_requests::table
        .filter(support_requests::state.eq_any(holding))
        .group_by(support_requests::supporter_id)
        .select((support_requests::supporter_id, diesel::dsl::count_star()))
        .load(conn)?;
    let offered: Vec<(Option<String>, i64)> = support_requests::table
        .filter(support_requests::state.eq(RequestState::Offered.as_str()))
        .group_by(support_requests::offered_to)
        .select((support_requests::offered_to, diesel::dsl::count_star()))
        .load(conn)?;
    for (s, n) in held.into_iter().chain(offered) {
        if let Some(s) = s {
            *open_cases.entry(s).or_default() += u32::try_from(n).unwrap_or(u32::MAX);
        }
    }
    let minutes = super::workload::in_month(conn, super::workload::month_of(now.date()))?;
    let involved: HashSet<Uuid> = match event {
        Some(e) => events::involved_people(conn, e)?.into_iter().collect(),
        None => HashSet::new(),
    };
    let today = now.date();
    rows.into_iter()
        .map(|r| {
            let (
                id,
                person,
                trained,
                expires,
                active,
                tz,
                avail,
                cap,
                lived,
                hours,
                last,
                profession,
                specialty,
                department,
                band,
                langs,
            ) = r;
            let person_id = stored_id(&person)?;
            Ok(Candidate {
                supporter_id: stored_id(&id)?,
                person_id,
                profession: profession.parse().map_err(CoreError::internal)?,
                specialty,
                department,
                experience: band.parse().map_err(CoreError::internal)?,
                languages: from_json(&langs)?,
                lived_experience: lived,
                training_current: trained.is_some() && expires.is_none_or(|e| e >= today),
                active,
                time_zone: tz
                    .parse()
                    .map_err(|_| CoreError::internal(format!("stored time zone {tz:?}")))?,
                availability: from_json::<Vec<AvailabilityWindow>>(&avail)?,
                open_cases: open_cases.get(&id).copied().unwrap_or(0),
                caseload_cap: u32::try_from(cap).unwrap_or(0),
                minutes_this_month: minutes.get(&id).copied().unwrap_or(0),
                monthly_hours_cap: i64::from(hours),
                last_assigned_at: last,
                involved_in_event: involved.contains(&person_id),
            })
        })
        .collect()
}

fn criteria(conn: &mut DbConnection, req: &SupportRequest) -> Result<Criteria, CoreError> {
    let requester = match req.requester_id {
        Some(id) => Some(people::load(conn, id)?),
        None => None,
    };
    let excluded: Vec<String> = offer_declines::table
        .filter(offer_declines::request_id.eq(req.id.to_string()))
        .select(offer_declines::supporter_id)
        .load(conn)?;
    Ok(Criteria {
        requester_person_id: req.requester_id,
        requester_profession: requester.as_ref().map(|p| p.profession),
        requester_specialty: requester.as_ref().and_then(|p| p.specialty.clone()),
        requester_department: requester.as_ref().and_then(|p| p.department.clone()),
        requester_experience: requester
            .as_ref()
            .map(|p| p.experience_band)
            .unwrap_or(ExperienceBand::Unknown),
        urgency: req.urgency,
        peer_profession: req.preferences.peer_profession,
        specialty_preference: req.preferences.specialty,
        language: req.preferences.language.clone(),
        language_required: req.preferences.language_required,
        exclude_department: req.preferences.peer_origin == PeerOrigin::NotMyDepartment,
        excluded: excluded.iter().filter_map(|s| stored_id(s).ok()).collect(),
    })
}

/// Ranks the local supporters for a request.
pub(crate) fn rank_for(
    conn: &mut DbConnection,
    req: &SupportRequest,
    now: NaiveDateTime,
) -> Result<Vec<Ranked>, CoreError> {
    let criteria = criteria(conn, req)?;
    let candidates = candidates_for(conn, req.event_id, now)?;
    Ok(matching::rank(&criteria, &candidates, now))
}

/// Offers an open request to the best-ranked supporter, if there is one. Returns whether it did.
pub(crate) fn offer_next(
    conn: &mut DbConnection,
    req: &SupportRequest,
    actor: &str,
) -> Result<bool, CoreError> {
    if req.state != RequestState::Open {
        return Ok(false);
    }
    let now = time::now();
    let Some(best) = rank_for(conn, req, now)?.into_iter().next() else {
        return Ok(false);
    };
    transition(conn, req, RequestState::Offered, actor)?;
    diesel::update(support_requests::table.filter(support_requests::id.eq(req.id.to_string())))
        .set((
            support_requests::offered_to.eq(Some(best.supporter_id.to_string())),
            support_requests::offer_expires_at.eq(Some(now + offer_window(req.urgency))),
        ))
        .execute(conn)?;
    if let Some(to) = super::supporter_email(conn, best.supporter_id)? {
        let key = format!("offer:{}:{}", req.id, best.supporter_id);
        notify::outbox::enqueue_email(conn, Topic::Offer, &to, &key, &Vars::default())?;
    }
    Ok(true)
}

/// Records that the offered supporter declined or let the offer lapse, and moves on.
pub(crate) fn pass_offer(
    conn: &mut DbConnection,
    req: &SupportRequest,
    reason: &str,
    actor: &str,
) -> Result<(), CoreError> {
    if let Some(s) = req.offered_to {
        diesel::insert_into(offer_declines::table)
            .values((
                offer_declines::request_id.eq(req.id.to_string()),
                offer_declines::supporter_id.eq(s.to_string()),
                offer_declines::reason.eq(reason),
                offer_declines::at.eq(time::now()),
            ))
            .execute(conn)?;
    }
    transition(conn, req, RequestState::Open, actor)?;
    diesel::update(support_requests::table.filter(support_requests::id.eq(req.id.to_string())))
        .set((
            support_requests::offered_to.eq(None::<String>),
            support_requests::offer_expires_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    let reopened = load(conn, req.id)?;
    offer_next(conn, &reopened, actor)?;
    Ok(())
}

fn assign_to(
    conn: &mut DbConnection,
    req: &SupportRequest,
    supporter: Uuid,
    actor: &str,
) -> Result<(), CoreError> {
    transition(conn, req, RequestState::Accepted, actor)?;
    let now = time::now();
    diesel::update(support_requests::table.filter(support_requests::id.eq(req.id.to_string())))
        .set((
            support_requests::supporter_id.eq(Some(supporter.to_string())),
            support_requests::offered_to.eq(None::<String>),
            support_requests::offer_expires_at.eq(None::<NaiveDateTime>),
            support_requests::acknowledged_at.eq(Some(req.acknowledged_at.unwrap_or(now))),
        ))
        .execute(conn)?;
    diesel::update(peer_supporters::table.filter(peer_supporters::id.eq(supporter.to_string())))
        .set(peer_supporters::last_assigned_at.eq(Some(now)))
        .execute(conn)?;
    if let Some(requester) = req.requester_id {
        let to = people::load(conn, requester)?.email;
        let key = format!("match:{}:{supporter}", req.id);
        notify::outbox::enqueue_email(conn, Topic::MatchAccepted, &to, &key, &Vars::default())?;
    }
    Ok(())
}

/// The supporter the request is offered to accepts it, or declines (it moves to the next).
pub async fn respond_to_offer(
    db: &Db,
    who: &Principal,
    id: Uuid,
    accept: bool,
) -> Result<RequestView, CoreError> {
    authorize(who, Operation::SupportPeers)?;
    let who = who.clone();
    db.transaction(move |conn| {
        let (req, aud) = for_action(
            conn,
            &who,
            id,
            if accept {
                "accept_offer"
            } else {
                "decline_offer"
            },
        )?;
        if aud != (Audience::Supporter { assigned: false }) {
            return Err(CoreError::Conflict(
                "this request is not offered to you now".into(),
            ));
        }
        let actor = audit::actor(&who);
        let supporter = req
            .offered_to
            .ok_or_else(|| CoreError::Conflict("no open offer".into()))?;
        if accept {
            assign_to(conn, &req, supporter, &actor)?;
            reload_view(conn, Audience::Supporter { assigned: true }, id)
        } else {
            pass_offer(conn, &req, "declined", &actor)?;
            // The supporter no longer sees it; answer with what they saw.
            view(conn, aud, &req)
        }
    })
    .await
}

/// A coordinator assigns a request by hand. Even by hand, never to the requester or to someone
/// involved in the same event.
pub async fn assign(
    db: &Db,
    who: &Principal,
    id: Uuid,
    supporter_person: Uuid,
) -> Result<RequestView, CoreError> {
    authorize(who, Operation::CoordinateRequests)?;
    let who = who.clone();
    db.transaction(move |conn| {
        let (req, aud) = for_action(conn, &who, id, "assign")?;
        if req.requester_id == Some(supporter_person) {
            return Err(CoreError::bad_input(
                "supporterId",
                "is the person who asked for support",
            ));
        }
        let supporter =
            crate::supporters::load_for_person(conn, supporter_person)?.ok_or_else(|| {
                CoreError::bad_input("supporterId", "this person has no peer supporter profile")
            })?;
        if let Some(e) = req.event_id
            && events::involved_people(conn, e)?.contains(&supporter_person)
        {
            return Err(CoreError::bad_input(
                "supporterId",
                "was involved in the same event",
            ));
        }
        if req.state == RequestState::Offered {
            // Withdraw the pending offer without counting it as a decline.
            transition(conn, &req, RequestState::Open, &audit::actor(&who))?;
        }
        let current = load(conn, id)?;
        assign_to(conn, &current, supporter.id, &audit::actor(&who))?;
        reload_view(conn, aud, id)
    })
    .await
}

/// The ranked, explained choice of supporters for a request, for a coordinator deciding by hand.
#[derive(Debug, Clone)]
pub struct Suggestion {
    pub supporter_person_id: Uuid,
    pub display_name: String,
    pub profession: Profession,
    pub score: i32,
    pub reasons: Vec<String>,
}

pub async fn suggestions(db: &Db, who: &Principal, id: Uuid) -> Result<Vec<Suggestion>, CoreError> {
    authorize(who, Operation::CoordinateRequests)?;
    let who = who.clone();
    db.transaction(move |conn| {
        let (req, aud) = for_action(conn, &who, id, "suggest")?;
        if aud != (Audience::Coordinator { full: true }) {
            return Err(CoreError::Forbidden(
                "the requester shares only the status of this request with coordinators".into(),
            ));
        }
        let ranked = rank_for(conn, &req, time::now())?;
        ranked
            .into_iter()
            .take(10)
            .map(|r| {
                let p = people::load(conn, r.person_id)?;
                Ok(Suggestion {
                    supporter_person_id: p.id,
                    display_name: p.display_name,
                    profession: p.profession,
                    score: r.score,
                    reasons: r.reasons,
                })
            })
            .collect()
    })
    .await
}
