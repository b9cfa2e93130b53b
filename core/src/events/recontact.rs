//! Follow-up for all: outreach that was declined or never answered is gently renewed on the
//! peer support program's schedule (`recontactDays`, by default 14 and 90 days after it was
//! made), because feelings can come later — unless the person said "don't contact me again
//! about this event", which is honoured for as long as who was involved is kept, milestones
//! included.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use uuid::Uuid;

use super::{Outreach, load_outreach, set_outreach_state};
use crate::access::Principal;
use crate::db::{Db, DbConnection, Id};
use crate::error::CoreError;
use crate::notify::{self, Topic};
use crate::schema::{events, outreach, outreach_opt_outs, people, programs};
use crate::time;
use crate::vocab::{OutreachState, ProgramKind};

/// The peer support program's schedule, or the default.
fn schedule(conn: &mut DbConnection) -> Result<Vec<i32>, CoreError> {
    let days: Option<String> = programs::table
        .filter(programs::kind.eq(ProgramKind::PeerSupport))
        .filter(programs::active.eq(true))
        .order(programs::id.asc())
        .select(programs::recontact_days)
        .first(conn)
        .optional()?;
    match days {
        Some(d) => crate::stored::from_json(&d),
        None => Ok(crate::programs::DEFAULT_RECONTACT_DAYS.to_vec()),
    }
}

pub(crate) fn opted_out(
    conn: &mut DbConnection,
    event: Uuid,
    person: Uuid,
) -> Result<bool, CoreError> {
    let n: i64 = outreach_opt_outs::table
        .filter(outreach_opt_outs::event_id.eq(Id(event)))
        .filter(outreach_opt_outs::person_id.eq(Id(person)))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Renews every outreach whose next re-contact is due at `now`; returns how many. Run by the
/// scheduler.
pub async fn due(db: &Db, now: NaiveDateTime) -> Result<usize, CoreError> {
    db.transaction(move |conn| {
        let days = schedule(conn)?;
        let Some(&first) = days.first() else {
            return Ok(0);
        };
        let waiting = [
            OutreachState::Declined,
            OutreachState::NoAnswer,
            OutreachState::Pending,
        ];
        let rows: Vec<(Uuid, Uuid, Uuid, NaiveDateTime, i32)> = outreach::table
            .inner_join(events::table)
            .inner_join(people::table.on(people::id.eq(outreach::person_id)))
            .filter(outreach::state.eq_any(waiting))
            .filter(events::closed_at.is_null())
            .filter(people::active.eq(true))
            .filter(outreach::recontacts.lt(i32::try_from(days.len()).unwrap_or(i32::MAX)))
            .filter(outreach::created_at.le(now - Duration::days(i64::from(first))))
            .select((
                outreach::id,
                outreach::event_id,
                outreach::person_id,
                outreach::created_at,
                outreach::recontacts,
            ))
            .load(conn)?;
        let mut renewed = 0;
        for (id, event, person, made, sent) in rows {
            // Every point of the schedule that has passed: one message for all of them, so a
            // node that was down does not send two at once.
            let passed = days
                .iter()
                .filter(|d| made + Duration::days(i64::from(**d)) <= now)
                .count();
            let passed = i32::try_from(passed).unwrap_or(i32::MAX);
            if passed <= sent {
                continue;
            }
            let (event_id, person_id) = (event, person);
            if opted_out(conn, event_id, person_id)? || accepted_since(conn, event, person)? {
                continue;
            }
            notify::outbox::enqueue_for_person(
                conn,
                Topic::Recontact,
                person_id,
                &format!("recontact:{id}:{passed}"),
                &notify::templates::Vars::default(),
                notify::outbox::AlsoText::Never,
            )?;
            // Open again, so the person can accept or decline it; no urgent clock this time.
            diesel::update(outreach::table.filter(outreach::id.eq(Id(id))))
                .set((
                    outreach::state.eq(OutreachState::Pending),
                    outreach::recontacts.eq(passed),
                    outreach::contact_due_at.eq(None::<NaiveDateTime>),
                    outreach::updated_at.eq(now),
                ))
                .execute(conn)?;
            renewed += 1;
        }
        Ok(renewed)
    })
    .await
}

/// Whether the person accepted other outreach about the same event (a later milestone's).
fn accepted_since(conn: &mut DbConnection, event: Uuid, person: Uuid) -> Result<bool, CoreError> {
    let n: i64 = outreach::table
        .filter(outreach::event_id.eq(Id(event)))
        .filter(outreach::person_id.eq(Id(person)))
        .filter(outreach::state.eq(OutreachState::Accepted))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// "Don't contact me again about this event": the person's own outreach is declined, and
/// neither re-contacts nor later milestones of that event reach them.
pub async fn stop(db: &Db, who: &Principal, id: Uuid) -> Result<Outreach, CoreError> {
    let me = who.require_user()?.person_id;
    db.transaction(move |conn| {
        let current = load_outreach(conn, id)?;
        if current.person_id != me {
            return Err(CoreError::NotFound("outreach"));
        }
        if current.state != OutreachState::Accepted {
            set_outreach_state(conn, id, OutreachState::Declined, None)?;
        }
        let exists = opted_out(conn, current.event_id, me)?;
        if !exists {
            diesel::insert_into(outreach_opt_outs::table)
                .values((
                    outreach_opt_outs::event_id.eq(Id(current.event_id)),
                    outreach_opt_outs::person_id.eq(Id(me)),
                    outreach_opt_outs::created_at.eq(time::now()),
                ))
                .execute(conn)?;
        }
        load_outreach(conn, id)
    })
    .await
}
