//! The clocks: acknowledgement and first-contact targets, and offers that time out. A sweep
//! records each breach once (with an alert row for the coordinator, delivered by the
//! notifications outbox) and moves lapsed offers to the next supporter. Safe to run from several
//! replicas at once: every change is conditional on the state it found.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use super::{SupportRequest, load, matchmaking, raise_alert};
use crate::db::{Db, Id};
use crate::error::CoreError;
use crate::schema::support_requests;
use crate::vocab::RequestState;

pub const SYSTEM_ACTOR: &str = "system:clock";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub ack_breaches: usize,
    pub contact_breaches: usize,
    /// Introductions to outside peers unanswered for `outside::LAPSE_HOURS`.
    pub introductions_lapsed: usize,
    /// Urgent outreach not reached within the program's hours.
    pub outreach_breaches: usize,
    /// Alerts paged to the next person on call (or the program lead).
    pub escalated: usize,
    pub offers_lapsed: usize,
    /// Requests that were waiting for a peer and were offered to one by this sweep.
    pub reoffered: usize,
}

const ENDED: [RequestState; 5] = [
    RequestState::Closed,
    RequestState::Withdrawn,
    RequestState::DeclinedByRequester,
    RequestState::AwaitingFederation,
    // The peer's institution keeps the first-contact clock of a case it supports.
    RequestState::SupportedOutside,
];

/// Checks every clock against `now`.
pub async fn sweep(db: &Db, now: NaiveDateTime) -> Result<SweepReport, CoreError> {
    db.transaction(move |conn| {
        let ended = ENDED;
        let mut report = SweepReport::default();
        let late_ack: Vec<Uuid> = support_requests::table
            .filter(support_requests::acknowledged_at.is_null())
            .filter(support_requests::ack_breached_at.is_null())
            .filter(support_requests::ack_due_at.lt(now))
            .filter(support_requests::state.ne_all(ended))
            .select(support_requests::id)
            .load(conn)?;
        for id in late_ack {
            let changed = diesel::update(
                support_requests::table
                    .filter(support_requests::id.eq(Id(id)))
                    .filter(support_requests::ack_breached_at.is_null()),
            )
            .set(support_requests::ack_breached_at.eq(Some(now)))
            .execute(conn)?;
            if changed == 1 {
                raise_alert(conn, "ack_breach", id, now)?;
                report.ack_breaches += 1;
            }
        }
        let late_contact: Vec<Uuid> = support_requests::table
            .filter(support_requests::first_contact_at.is_null())
            .filter(support_requests::contact_breached_at.is_null())
            .filter(support_requests::contact_due_at.lt(now))
            .filter(support_requests::state.ne_all(ended))
            .select(support_requests::id)
            .load(conn)?;
        for id in late_contact {
            let changed = diesel::update(
                support_requests::table
                    .filter(support_requests::id.eq(Id(id)))
                    .filter(support_requests::contact_breached_at.is_null()),
            )
            .set(support_requests::contact_breached_at.eq(Some(now)))
            .execute(conn)?;
            if changed == 1 {
                raise_alert(conn, "contact_breach", id, now)?;
                report.contact_breaches += 1;
            }
        }
        let lapsed: Vec<Uuid> = support_requests::table
            .filter(support_requests::state.eq(RequestState::Offered))
            .filter(support_requests::offer_expires_at.lt(now))
            .select(support_requests::id)
            .load(conn)?;
        for id in lapsed {
            let req: SupportRequest = load(conn, id)?;
            if req.state == RequestState::Offered {
                matchmaking::pass_offer(conn, &req, "timeout", SYSTEM_ACTOR)?;
                report.offers_lapsed += 1;
            }
        }
        // Urgent outreach nobody has reached in time alerts the on-call, once.
        let late_outreach: Vec<Uuid> = crate::schema::outreach::table
            .filter(crate::schema::outreach::urgent.eq(true))
            .filter(
                crate::schema::outreach::state.eq(crate::vocab::OutreachState::Pending.as_str()),
            )
            .filter(crate::schema::outreach::breached_at.is_null())
            .filter(crate::schema::outreach::contact_due_at.lt(now))
            .select(crate::schema::outreach::id)
            .load(conn)?;
        for id in late_outreach {
            diesel::update(
                crate::schema::outreach::table.filter(crate::schema::outreach::id.eq(Id(id))),
            )
            .set(crate::schema::outreach::breached_at.eq(Some(now)))
            .execute(conn)?;
            crate::oncall::raise(conn, "outreach_breach", None, now)?;
            report.outreach_breaches += 1;
        }
        // An introduction to an outside peer left unanswered lapses; the requester may try the
        // next candidate.
        report.introductions_lapsed = super::outside::lapse_unanswered(conn, now)?;
        // Last: a request no one could take until now (a window opened, a case ended, someone
        // resumed) is offered, so no request waits for a person to notice it.
        report.reoffered = matchmaking::rematch(conn, now, SYSTEM_ACTOR, None)?;
        // Alerts nobody acknowledged go to the next person on call.
        report.escalated = crate::oncall::escalate_due(conn, now)?;
        Ok(report)
    })
    .await
}

/// Breaches a coordinator can list: which request, which clock, when.
#[derive(Debug, Clone)]
pub struct Breach {
    pub request_id: uuid::Uuid,
    pub clock: &'static str,
    pub at: NaiveDateTime,
    pub state: RequestState,
}

pub async fn breaches(db: &Db, who: &crate::access::Principal) -> Result<Vec<Breach>, CoreError> {
    crate::access::authorize(who, crate::access::Operation::CoordinateRequests)?;
    db.run(|conn| {
        let rows: Vec<(
            Uuid,
            RequestState,
            Option<NaiveDateTime>,
            Option<NaiveDateTime>,
        )> = support_requests::table
            .filter(
                support_requests::ack_breached_at
                    .is_not_null()
                    .or(support_requests::contact_breached_at.is_not_null()),
            )
            .filter(
                support_requests::peer_origin
                    .ne(crate::vocab::PeerOrigin::OutsideInstitutionOnly.as_str()),
            )
            .select((
                support_requests::id,
                support_requests::state,
                support_requests::ack_breached_at,
                support_requests::contact_breached_at,
            ))
            .order(support_requests::id.desc())
            .limit(500)
            .load(conn)?;
        let mut out = vec![];
        for (id, state, ack, contact) in rows {
            let request_id = id;
            if let Some(at) = ack {
                out.push(Breach {
                    request_id,
                    clock: "acknowledgement",
                    at,
                    state,
                });
            }
            if let Some(at) = contact {
                out.push(Breach {
                    request_id,
                    clock: "first_contact",
                    at,
                    state,
                });
            }
        }
        Ok(out)
    })
    .await
}
