//! Retention: identifiable data about a finished case is removed a configurable time after it
//! ends (default 90 days), keeping only de-identified counts for metrics. An event's outreach
//! (which says who accepted support) goes the same way once no open case refers to the event.
//! Who was involved in the event is kept for the event's legal life — until a coordinator closes
//! it, or a ceiling passes (default 7 years) — so a lawsuit years later still reaches them.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use uuid::Uuid;

use crate::audit;
use crate::db::{Db, Id};
use crate::error::CoreError;
use crate::ids::new_id;
use crate::requests::{self, SupportRequest};
use crate::schema::{
    encounters, events as events_t, involvements, outreach, request_stats, request_transitions,
    support_requests,
};
use crate::vocab::RequestState;

pub const DEFAULT_RETENTION_DAYS: u32 = 90;
/// Years an event's involvement list is kept at most, closed or not.
pub const DEFAULT_INVOLVEMENT_YEARS: u32 = 7;

/// How long what is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Days after a case ends (or an event is closed) before what identifies people goes.
    pub days: u32,
    /// Years after an event is recorded before who was involved goes, even if never closed.
    pub involvement_years: u32,
}
const ACTOR: &str = "system:retention";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeReport {
    pub requests: usize,
    pub involvements: usize,
    pub outreach: usize,
    /// Delivered notifications (they name their recipient) and webhook attempt logs.
    pub messages: usize,
    /// Introductions whose shared name and contact were erased.
    pub introductions: usize,
    /// Browser sessions that ended more than a day ago.
    pub sessions: usize,
}

fn month(t: NaiveDateTime) -> String {
    t.format("%Y-%m").to_string()
}

/// Removes what retention says must go, as of `now`, with the default ceiling for involvement.
pub async fn purge(db: &Db, now: NaiveDateTime, days: u32) -> Result<PurgeReport, CoreError> {
    purge_with(
        db,
        now,
        Policy {
            days,
            involvement_years: DEFAULT_INVOLVEMENT_YEARS,
        },
    )
    .await
}

/// Removes what `policy` says must go, as of `now`.
pub async fn purge_with(
    db: &Db,
    now: NaiveDateTime,
    policy: Policy,
) -> Result<PurgeReport, CoreError> {
    let days = policy.days;
    let cutoff = now - Duration::days(i64::from(days));
    let ceiling = now - Duration::days(365 * i64::from(policy.involvement_years));
    db.transaction(move |conn| {
        let mut report = PurgeReport::default();
        let ended = [
            RequestState::Closed,
            RequestState::Withdrawn,
            RequestState::DeclinedByRequester,
        ];
        let candidates: Vec<Uuid> = support_requests::table
            .filter(support_requests::state.eq_any(ended))
            .filter(support_requests::updated_at.lt(cutoff))
            .select(support_requests::id)
            .load(conn)?;
        for id in candidates {
            let req: SupportRequest = requests::load(conn, id)?;
            let ended_at = req.closed_at.unwrap_or(req.updated_at);
            let pending_follow_up: i64 = crate::schema::follow_ups::table
                .filter(crate::schema::follow_ups::request_id.eq(Id(id)))
                .filter(crate::schema::follow_ups::state.eq("scheduled"))
                .filter(crate::schema::follow_ups::due_at.ge(cutoff))
                .count()
                .get_result(conn)?;
            if ended_at >= cutoff || pending_follow_up > 0 {
                continue;
            }
            // As the request was made, like the live figures (see metrics::program).
            let (profession, category): (Option<String>, Option<String>) = support_requests::table
                .filter(support_requests::id.eq(Id(id)))
                .select((
                    support_requests::requester_profession,
                    support_requests::event_category,
                ))
                .first(conn)?;
            let escalated: i64 = request_transitions::table
                .filter(request_transitions::request_id.eq(Id(id)))
                .filter(request_transitions::to_state.eq(RequestState::Escalated))
                .count()
                .get_result(conn)?;
            let contacts: i64 = encounters::table
                .filter(encounters::request_id.eq(Id(id)))
                .count()
                .get_result(conn)?;
            let minutes = |t: Option<NaiveDateTime>| {
                t.map(|t| i32::try_from((t - req.created_at).num_minutes()).unwrap_or(i32::MAX))
            };
            diesel::insert_into(request_stats::table)
                .values((
                    request_stats::id.eq(Id(new_id())),
                    request_stats::opened_month.eq(month(req.created_at)),
                    request_stats::closed_month.eq(req.closed_at.map(month)),
                    request_stats::origin.eq(req.origin),
                    request_stats::urgency.eq(req.urgency),
                    request_stats::requester_profession.eq(profession),
                    request_stats::event_category.eq(category),
                    request_stats::final_state.eq(req.state),
                    request_stats::escalated.eq(escalated > 0),
                    request_stats::minutes_to_ack.eq(minutes(req.acknowledged_at)),
                    request_stats::minutes_to_first_contact.eq(minutes(req.first_contact_at)),
                    request_stats::encounters.eq(i32::try_from(contacts).unwrap_or(i32::MAX)),
                    request_stats::ack_breached.eq(req.ack_breached_at.is_some()),
                    request_stats::contact_breached.eq(req.contact_breached_at.is_some()),
                    request_stats::program_id.eq(req.program_id.map(Id)),
                ))
                .execute(conn)?;
            diesel::update(outreach::table.filter(outreach::request_id.eq(Id(id))))
                .set(outreach::request_id.eq(None::<Id>))
                .execute(conn)?;
            // Alerts about the case (and who was paged for them) go with it: their times and
            // ids would otherwise point back at it.
            let alerts: Vec<Uuid> = crate::schema::alerts::table
                .filter(crate::schema::alerts::request_id.eq(Id(id)))
                .select(crate::schema::alerts::id)
                .load(conn)?;
            diesel::delete(
                crate::schema::alert_pages::table
                    .filter(crate::schema::alert_pages::alert_id.eq_any(Id::list(&alerts))),
            )
            .execute(conn)?;
            diesel::delete(
                crate::schema::alerts::table
                    .filter(crate::schema::alerts::id.eq_any(Id::list(&alerts))),
            )
            .execute(conn)?;
            // An introduction to a peer elsewhere keeps its counts, not which case it was.
            diesel::update(
                crate::schema::federation_introductions::table
                    .filter(crate::schema::federation_introductions::request_id.eq(Id(id))),
            )
            .set(crate::schema::federation_introductions::request_id.eq(None::<Id>))
            .execute(conn)?;
            diesel::delete(support_requests::table.filter(support_requests::id.eq(Id(id))))
                .execute(conn)?;
            // The case's last audit entry: appending it erases the key to the case's pseudonyms
            // and alias, and the true id and moments kept beside the chain (see `audit`).
            audit::append(conn, ACTOR, audit::PURGE, "support_request", req.id)?;
            report.requests += 1;
        }
        // Events past the cutoff with no case still referring to them: forget the outreach
        // (who accepted support, who declined); who was involved stays for the event's legal
        // life, until it was closed before the cutoff or passed the ceiling.
        let old_events: Vec<(Uuid, NaiveDateTime, Option<NaiveDateTime>)> = events_t::table
            .filter(events_t::created_at.lt(cutoff))
            .select((events_t::id, events_t::created_at, events_t::closed_at))
            .load(conn)?;
        for (event, created_at, closed_at) in old_events {
            let open: i64 = support_requests::table
                .filter(support_requests::event_id.eq(Id(event)))
                .count()
                .get_result(conn)?;
            if open > 0 {
                continue;
            }
            // Outreach made for a later milestone has a retention time of its own.
            report.outreach += diesel::delete(
                outreach::table
                    .filter(outreach::event_id.eq(Id(event)))
                    .filter(outreach::created_at.lt(cutoff)),
            )
            .execute(conn)?;
            let over = closed_at.is_some_and(|c| c < cutoff) || created_at < ceiling;
            if over {
                report.involvements += diesel::delete(
                    involvements::table.filter(involvements::event_id.eq(Id(event))),
                )
                .execute(conn)?;
                report.involvements += diesel::delete(
                    crate::schema::pending_involvements::table
                        .filter(crate::schema::pending_involvements::event_id.eq(Id(event))),
                )
                .execute(conn)?;
                // "Don't contact me again" lasts as long as there is anyone to contact.
                diesel::delete(
                    crate::schema::outreach_opt_outs::table
                        .filter(crate::schema::outreach_opt_outs::event_id.eq(Id(event))),
                )
                .execute(conn)?;
            }
        }
        // Messages carry an address: delivered ones past the cutoff go, and so does anything
        // queued before it, whatever became of it (a dead letter keeps no address for ever).
        report.messages += diesel::delete(
            crate::schema::outbox::table.filter(
                crate::schema::outbox::state
                    .eq("done")
                    .and(crate::schema::outbox::delivered_at.lt(cutoff))
                    .or(crate::schema::outbox::created_at.lt(cutoff)),
            ),
        )
        .execute(conn)?;
        // Introductions: what a requester shared with a peer at another institution is kept only
        // as long as a case would be; one never answered is closed as declined.
        {
            use crate::schema::federation_introductions as fi;
            use crate::vocab::IntroductionState;
            // Never answered: closed as declined, what was shared erased at once, and the
            // requester's node told, so the requester can look again.
            let stale: Vec<(Uuid, String)> = fi::table
                .filter(fi::state.eq(IntroductionState::Pending))
                .filter(fi::direction.eq("inbound"))
                .filter(fi::created_at.lt(cutoff))
                .select((fi::id, fi::peer_node))
                .load(conn)?;
            for (id, peer) in stale {
                report.introductions += diesel::update(fi::table.filter(fi::id.eq(Id(id))))
                    .set((
                        fi::state.eq(IntroductionState::Declined),
                        fi::responded_at.eq(Some(now)),
                        fi::first_name.eq(None::<String>),
                        fi::contact.eq(None::<String>),
                    ))
                    .execute(conn)?;
                crate::requests::outside::queue_response(conn, &peer, id, false)?;
            }
            report.introductions += diesel::update(
                fi::table
                    .filter(fi::contact.is_not_null().or(fi::first_name.is_not_null()))
                    .filter(fi::responded_at.lt(cutoff)),
            )
            .set((
                fi::first_name.eq(None::<String>),
                fi::contact.eq(None::<String>),
            ))
            .execute(conn)?;
        }
        report.messages += diesel::delete(
            crate::schema::webhook_deliveries::table
                .filter(crate::schema::webhook_deliveries::at.lt(cutoff)),
        )
        .execute(conn)?;
        report.sessions = crate::sessions::purge(conn, now)?;
        crate::surveys::purge(conn, now)?;
        Ok(report)
    })
    .await
}
