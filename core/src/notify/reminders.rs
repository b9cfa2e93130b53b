//! Scheduled reminders: follow-ups coming due, and training about to expire. Each is queued once
//! (a marker on the row, and the outbox key) however often the scheduler runs.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use uuid::Uuid;

use super::outbox::{AlsoText, enqueue_for_person};
use super::templates::{Topic, Vars};
use crate::db::{Db, Id};
use crate::error::CoreError;
use crate::schema::{follow_ups, peer_supporters, people, support_requests};

/// Reminds supporters of follow-ups due within `ahead`, and sends the check-ins due now to people
/// supported at another institution. Returns how many were queued.
pub async fn follow_ups_due(
    db: &Db,
    now: NaiveDateTime,
    ahead: Duration,
) -> Result<usize, CoreError> {
    db.transaction(move |conn| {
        let due: Vec<(Uuid, Uuid)> = follow_ups::table
            .inner_join(
                peer_supporters::table
                    .on(follow_ups::supporter_id.eq(peer_supporters::id.nullable())),
            )
            .inner_join(people::table.on(peer_supporters::person_id.eq(people::id)))
            .filter(follow_ups::state.eq("scheduled"))
            .filter(follow_ups::reminded_at.is_null())
            .filter(follow_ups::due_at.le(now + ahead))
            .select((follow_ups::id, people::id))
            .load(conn)?;
        for (id, person) in &due {
            enqueue_for_person(
                conn,
                Topic::FollowUpDue,
                *person,
                &format!("follow_up:{id}"),
                &Vars::default(),
                AlsoText::Never,
            )?;
            diesel::update(follow_ups::table.filter(follow_ups::id.eq(Id(*id))))
                .set(follow_ups::reminded_at.eq(Some(now)))
                .execute(conn)?;
        }
        // Check-ins with a person supported by a peer at another institution: the program itself
        // writes to them when one is due, and that completes it.
        let check_ins: Vec<(Uuid, Uuid)> = follow_ups::table
            .inner_join(support_requests::table)
            .inner_join(people::table.on(support_requests::requester_id.eq(people::id.nullable())))
            .filter(follow_ups::with_requester.eq(true))
            .filter(follow_ups::state.eq("scheduled"))
            .filter(follow_ups::due_at.le(now))
            .select((follow_ups::id, people::id))
            .load(conn)?;
        for (id, person) in &check_ins {
            enqueue_for_person(
                conn,
                Topic::CheckIn,
                *person,
                &format!("check_in:{id}"),
                &Vars::default(),
                AlsoText::Never,
            )?;
            diesel::update(follow_ups::table.filter(follow_ups::id.eq(Id(*id))))
                .set((
                    follow_ups::state.eq("completed"),
                    follow_ups::reminded_at.eq(Some(now)),
                    follow_ups::completed_at.eq(Some(now)),
                ))
                .execute(conn)?;
        }
        Ok(due.len() + check_ins.len())
    })
    .await
}

/// Tells supporters whose training expires within `ahead` (once per expiry date).
pub async fn training_expiring(
    db: &Db,
    today: NaiveDate,
    ahead: Duration,
) -> Result<usize, CoreError> {
    db.transaction(move |conn| {
        let expiring: Vec<(Uuid, NaiveDate, Option<NaiveDate>, Uuid)> = peer_supporters::table
            .inner_join(people::table)
            .filter(peer_supporters::active.eq(true))
            .filter(peer_supporters::training_expires_on.is_not_null())
            .filter(peer_supporters::training_expires_on.le(today + ahead))
            .filter(peer_supporters::training_expires_on.ge(today))
            .select((
                peer_supporters::id,
                peer_supporters::training_expires_on.assume_not_null(),
                peer_supporters::training_reminder_for,
                people::id,
            ))
            .load(conn)?;
        let mut queued = 0;
        for (id, expires, reminded, person) in expiring {
            if reminded == Some(expires) {
                continue;
            }
            let vars = Vars {
                date: Some(expires.to_string()),
                ..Vars::default()
            };
            enqueue_for_person(
                conn,
                Topic::TrainingExpiry,
                person,
                &format!("training:{id}:{expires}"),
                &vars,
                AlsoText::Never,
            )?;
            diesel::update(peer_supporters::table.filter(peer_supporters::id.eq(Id(id))))
                .set(peer_supporters::training_reminder_for.eq(Some(expires)))
                .execute(conn)?;
            queued += 1;
        }
        Ok(queued)
    })
    .await
}
