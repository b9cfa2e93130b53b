//! A month before an open event reaches the ceiling of its legal life
//! (`maintenance.event_involvement_years`), every coordinator is told once: after that day the
//! list of who was involved is forgotten, and a milestone could no longer reach them. Nothing
//! keeps it longer — the ceiling is the promise to staff — but a coordinator may close the event
//! sooner, or know to act while the list is still there.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::{Db, Id};
use crate::error::CoreError;
use crate::notify::templates::{Topic, Vars};
use crate::notify::{self};
use crate::schema::{events, involvements};

/// How long before the ceiling coordinators are told.
pub const REMIND_DAYS: i64 = 30;

/// The day an event recorded at `created` reaches a ceiling of `years`.
pub fn ceiling_of(created: NaiveDateTime, years: u32) -> NaiveDateTime {
    created + Duration::days(365 * i64::from(years))
}

/// Reminds coordinators of every open event whose ceiling is within [`REMIND_DAYS`] of `now`,
/// once each; returns how many events.
pub async fn remind(db: &Db, now: NaiveDateTime, years: u32) -> Result<usize, CoreError> {
    db.transaction(move |conn| {
        let recorded_before = now - Duration::days(365 * i64::from(years) - REMIND_DAYS);
        let due: Vec<(Uuid, NaiveDateTime)> = events::table
            .filter(events::closed_at.is_null())
            .filter(events::ceiling_reminded_at.is_null())
            .filter(events::created_at.le(recorded_before))
            .filter(diesel::dsl::exists(
                involvements::table.filter(involvements::event_id.eq(events::id)),
            ))
            .select((events::id, events::created_at))
            .load(conn)?;
        let coordinators = crate::requests::coordinator_emails(conn)?;
        for (id, created) in &due {
            let vars = Vars {
                date: Some(ceiling_of(*created, years).date().to_string()),
                ..Vars::default()
            };
            for to in &coordinators {
                notify::outbox::enqueue_email(
                    conn,
                    Topic::CeilingReminder,
                    to,
                    &format!("ceiling:{id}:{to}"),
                    &vars,
                )?;
            }
            diesel::update(events::table.filter(events::id.eq(Id(*id))))
                .set(events::ceiling_reminded_at.eq(Some(now)))
                .execute(conn)?;
        }
        Ok(due.len())
    })
    .await
}
