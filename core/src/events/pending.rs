//! People an incident report names by a staff id the node does not know yet — a new starter,
//! an agency nurse the identity system has not sent. The event is recorded at once with them
//! pending; when the roster (SCIM, a staff import, a coordinator) brings a person with that
//! staff id, they become involved and are reached out to like everyone else. Kept only as long
//! as who was involved is (see `retention`).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use super::{Involvement, insert_involvement, insert_outreach, load};
use crate::access::{Operation, Principal, authorize};
use crate::db::{Db, DbConnection, Id};
use crate::error::CoreError;
use crate::ids::new_id;
use crate::schema::{involvements, pending_involvements, people};
use crate::vocab::InvolvementRole;

/// A staff id an event names that no person on the roster has yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingInvolvement {
    pub staff_id: String,
    pub role: InvolvementRole,
    pub created_at: NaiveDateTime,
}

pub(crate) fn record(
    conn: &mut DbConnection,
    event: Uuid,
    staff_id: &str,
    role: InvolvementRole,
    now: NaiveDateTime,
) -> Result<(), CoreError> {
    diesel::insert_into(pending_involvements::table)
        .values((
            pending_involvements::id.eq(Id(new_id())),
            pending_involvements::event_id.eq(Id(event)),
            pending_involvements::staff_id.eq(staff_id),
            pending_involvements::role.eq(role),
            pending_involvements::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The staff ids an event still waits for, oldest first.
pub async fn of_event(
    db: &Db,
    who: &Principal,
    event: Uuid,
) -> Result<Vec<PendingInvolvement>, CoreError> {
    authorize(who, Operation::ViewEvents)?;
    db.run(move |conn| waiting(conn, event)).await
}

/// What an event's reporter is told back: how many people it reaches now, and the staff ids
/// it waits for. For whoever may record events (an incident system sees no more than it sent).
pub async fn intake_summary(
    db: &Db,
    who: &Principal,
    event: Uuid,
) -> Result<(usize, Vec<String>), CoreError> {
    authorize(who, Operation::RecordEvents)?;
    db.run(move |conn| {
        let reached: i64 = involvements::table
            .filter(involvements::event_id.eq(Id(event)))
            .count()
            .get_result(conn)?;
        let waiting = waiting(conn, event)?
            .into_iter()
            .map(|p| p.staff_id)
            .collect();
        Ok((usize::try_from(reached).unwrap_or(0), waiting))
    })
    .await
}

pub(crate) fn waiting(
    conn: &mut DbConnection,
    event: Uuid,
) -> Result<Vec<PendingInvolvement>, CoreError> {
    let rows: Vec<(String, InvolvementRole, NaiveDateTime)> = pending_involvements::table
        .filter(pending_involvements::event_id.eq(Id(event)))
        .order((
            pending_involvements::created_at.asc(),
            pending_involvements::staff_id.asc(),
        ))
        .select((
            pending_involvements::staff_id,
            pending_involvements::role,
            pending_involvements::created_at,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(staff_id, role, created_at)| {
            Ok(PendingInvolvement {
                staff_id,
                role,
                created_at,
            })
        })
        .collect()
}

/// The roster now has `person`: every open event waiting for their staff id involves them and
/// reaches out to them; pending rows of closed events just go. Returns how many events.
pub(crate) fn resolve_for(conn: &mut DbConnection, person: Uuid) -> Result<usize, CoreError> {
    let staff_id: Option<Option<String>> = people::table
        .filter(people::id.eq(Id(person)))
        .select(people::staff_id)
        .first(conn)
        .optional()?;
    let Some(Some(staff_id)) = staff_id else {
        return Ok(0);
    };
    let rows: Vec<(Uuid, Uuid, InvolvementRole)> = pending_involvements::table
        .filter(pending_involvements::staff_id.eq(&staff_id))
        .select((
            pending_involvements::id,
            pending_involvements::event_id,
            pending_involvements::role,
        ))
        .load(conn)?;
    let now = crate::time::now();
    let mut resolved = 0;
    for (id, event_id, role) in rows {
        diesel::delete(pending_involvements::table.filter(pending_involvements::id.eq(Id(id))))
            .execute(conn)?;
        let event = load(conn, event_id)?;
        if event.closed_at.is_some() {
            continue;
        }
        let already: i64 = involvements::table
            .filter(involvements::event_id.eq(Id(event_id)))
            .filter(involvements::person_id.eq(Id(person)))
            .count()
            .get_result(conn)?;
        if already > 0 {
            continue;
        }
        let involvement = Involvement {
            person_id: person,
            role,
        };
        insert_involvement(conn, event.id, &involvement, now)?;
        insert_outreach(
            conn,
            event.id,
            None,
            &[involvement],
            event.category,
            event.disclosure_in_progress,
        )?;
        resolved += 1;
    }
    Ok(resolved)
}
