//! "I'm worried about a colleague": any member may ask the program to reach out to a colleague,
//! as it does after an event. The colleague is told a colleague was thinking of them, and who,
//! only if the referrer chose. Limits stop misuse: a few referrals a day per person, one
//! outreach per colleague at a time, and every referral in the audit log.

use chrono::Duration;
use diesel::prelude::*;

use super::{Involvement, insert_involvement, insert_outreach};
use crate::access::{Operation, Principal, authorize};
use crate::db::{Db, Id};
use crate::error::CoreError;
use crate::ids::new_id;
use crate::schema::{events, outreach};
use crate::vocab::{EventCategory, InvolvementRole, OutreachState, SeverityBand};
use crate::{audit, people, time};

/// The most colleagues one person may refer in a day.
pub const MAX_PER_DAY: i64 = 3;
/// A colleague already reached out to on someone's referral within this many days is not
/// reached again (the referrer is thanked all the same, so it says nothing about anyone).
pub const QUIET_DAYS: i64 = 30;

/// What a referrer says: who (staff id or work email) and whether to be named.
#[derive(Debug, Clone)]
pub struct Referral {
    pub colleague: String,
    pub share_my_name: bool,
}

/// Records the concern and reaches out to the colleague.
pub async fn refer_colleague(db: &Db, who: &Principal, r: Referral) -> Result<(), CoreError> {
    authorize(who, Operation::ReferColleague)?;
    let me = who.require_user()?.person_id;
    let actor = audit::actor(who);
    let key = r.colleague.trim().to_owned();
    if key.is_empty() {
        return Err(CoreError::bad_input(
            "colleague",
            "give your colleague's staff id or work email",
        ));
    }
    db.transaction(move |conn| {
        let colleague = people::find_by_key(conn, &key)?
            .filter(|p| p.active)
            .ok_or_else(|| {
                CoreError::bad_input(
                    "colleague",
                    "no one with this staff id or work email is on the staff roster",
                )
            })?;
        if colleague.id == me {
            return Err(CoreError::bad_input(
                "colleague",
                "this is you: to ask for support for yourself, use Talk to someone",
            ));
        }
        let now = time::now();
        let today: i64 = events::table
            .filter(events::source.eq(&actor))
            .filter(events::category.eq(EventCategory::ColleagueConcern))
            .filter(events::created_at.gt(now - Duration::days(1)))
            .count()
            .get_result(conn)?;
        if today >= MAX_PER_DAY {
            return Err(CoreError::LimitExceeded(format!(
                "at most {MAX_PER_DAY} colleagues a day; if you are worried about more people, \
                 talk to your support program's coordinator"
            )));
        }
        audit::append(conn, &actor, "refer_colleague", "person", colleague.id)?;
        let open: i64 = outreach::table
            .filter(outreach::person_id.eq(Id(colleague.id)))
            .filter(outreach::from_colleague.eq(true))
            .filter(outreach::created_at.gt(now - Duration::days(QUIET_DAYS)))
            .count()
            .get_result(conn)?;
        if open > 0 {
            return Ok(());
        }
        let id = new_id();
        diesel::insert_into(events::table)
            .values((
                events::id.eq(Id(id)),
                events::category.eq(EventCategory::ColleagueConcern),
                events::month.eq(now.format("%Y-%m").to_string()),
                events::department.eq(None::<String>),
                events::severity_band.eq(SeverityBand::Unknown),
                events::disclosure_in_progress.eq(false),
                events::external_ref.eq(None::<String>),
                events::source.eq(&actor),
                events::created_at.eq(now),
                events::updated_at.eq(now),
            ))
            .execute(conn)?;
        let involved = Involvement {
            person_id: colleague.id,
            role: InvolvementRole::Referred,
        };
        insert_involvement(conn, id, &involved, now)?;
        insert_outreach(
            conn,
            id,
            None,
            &[involved],
            EventCategory::ColleagueConcern,
            false,
        )?;
        if r.share_my_name {
            let mine = people::load(conn, me)?;
            diesel::update(
                outreach::table
                    .filter(outreach::event_id.eq(Id(id)))
                    .filter(outreach::state.eq(OutreachState::Pending)),
            )
            .set(outreach::referrer_name.eq(Some(mine.display_name)))
            .execute(conn)?;
        }
        Ok(())
    })
    .await
}
