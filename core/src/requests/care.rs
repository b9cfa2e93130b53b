//! What happens once a supporter has a request: encounters (no narrative, ever), escalation to
//! professional help, follow-ups from the program's schedule, and closing. Follow-ups continue
//! after a case is closed.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Nullable, Text, Timestamp};
use uuid::Uuid;

use super::{Audience, RequestView, SupportRequest, for_action, reload_view, transition, view};
use crate::access::{Operation, Principal, authorize};
use crate::audit;
use crate::db::fixed::Fixed;
use crate::db::together::{self, Writes};
use crate::db::{Db, DbConnection, Id, UuidText};
use crate::error::CoreError;
use crate::ids::new_id;
use crate::programs;
use crate::schema::{follow_ups, support_requests};
use crate::time;
use crate::vocab::{DurationBand, FollowUpOutcome, FollowUpState, Modality, RequestState};

/// Used when no peer support program is configured: a day, a week, a month, three months.
pub const DEFAULT_FOLLOW_UP_DAYS: [i32; 4] = [1, 7, 30, 90];

#[derive(Debug, Clone)]
pub struct EncounterInput {
    pub occurred_on: NaiveDate,
    pub duration: DurationBand,
    pub modality: Modality,
    /// 1 self-care, 2 peer, 3 professional.
    pub tier: i32,
    pub referral_program_id: Option<Uuid>,
}

#[derive(Debug, Clone)]
pub struct FollowUp {
    pub id: Uuid,
    pub request_id: Uuid,
    pub due_at: NaiveDateTime,
    pub state: FollowUpState,
    pub outcome: Option<FollowUpOutcome>,
    pub completed_at: Option<NaiveDateTime>,
    /// The requester's preferred name, so the supporter knows whom to call.
    pub preferred_name: Option<String>,
}

fn assigned(aud: Audience) -> Result<(), CoreError> {
    if aud == (Audience::Supporter { assigned: true }) {
        Ok(())
    } else {
        Err(CoreError::Forbidden(
            "only the assigned peer supporter can do this".into(),
        ))
    }
}

/// The requester's program checks in with a person supported by a peer at another institution,
/// on the program's schedule (from the acceptance): an email to them, nothing about the case.
pub(crate) fn schedule_check_ins(
    conn: &mut DbConnection,
    req: &SupportRequest,
    from: NaiveDateTime,
) -> Result<(), CoreError> {
    let mut writes = Writes::new();
    schedule(conn, &mut writes, req, from, true)?;
    writes.finish(conn)
}

/// The program's follow-ups (or the default ones) from `from`, held in `writes`.
fn schedule(
    conn: &mut DbConnection,
    writes: &mut Writes,
    req: &SupportRequest,
    from: NaiveDateTime,
    with_requester: bool,
) -> Result<(), CoreError> {
    let days: Vec<i32> = match req.program_id {
        Some(p) => programs::load(conn, p)?.follow_up_days,
        None => DEFAULT_FOLLOW_UP_DAYS.to_vec(),
    };
    if days.is_empty() {
        return Ok(());
    }
    let now = time::now();
    let due = days.iter().map(|d| from + Duration::days(i64::from(*d)));
    if matches!(conn, DbConnection::Pg(_)) {
        // One statement whatever the schedule's length, so each connection plans one text
        // (the warm-up's) for every program, not one a length.
        let values = (
            days.iter().map(|_| Id(new_id())).collect::<Vec<_>>(),
            due.collect::<Vec<_>>(),
            Id(req.id),
            req.supporter_id.map(Id),
            FollowUpState::Scheduled,
            now,
            with_requester,
        );
        return writes.hold_pg(
            conn,
            Fixed::<
                (),
                (
                    Array<UuidText>,
                    Array<Timestamp>,
                    UuidText,
                    Nullable<UuidText>,
                    Text,
                    Timestamp,
                    Bool,
                ),
                _,
                _,
            >::new(SCHEDULE_PG, values),
        );
    }
    for due_at in due {
        writes.insert(
            conn,
            diesel::insert_into(follow_ups::table).values((
                follow_ups::id.eq(Id(new_id())),
                follow_ups::request_id.eq(Id(req.id)),
                follow_ups::supporter_id.eq(req.supporter_id.map(Id)),
                follow_ups::due_at.eq(due_at),
                follow_ups::state.eq(FollowUpState::Scheduled),
                follow_ups::created_at.eq(now),
                follow_ups::with_requester.eq(with_requester),
            )),
        )?;
    }
    Ok(())
}

/// The follow-ups on PostgreSQL, as many rows as the arrays hold (set-returning functions in a
/// select list run side by side).
const SCHEDULE_PG: &str = "INSERT INTO follow_ups \
    (id, due_at, request_id, supporter_id, state, created_at, with_requester) \
    SELECT unnest($1::text[]), unnest($2::timestamp[]), $3, $4, $5, $6, $7";

/// The assigned supporter records a contact. The first one stops the first-contact clock, moves
/// the request to in contact, and schedules the program's follow-ups.
pub async fn record_encounter(
    db: &Db,
    who: &Principal,
    id: Uuid,
    input: EncounterInput,
) -> Result<RequestView, CoreError> {
    authorize(who, Operation::SupportPeers)?;
    if input.occurred_on > time::now().date() {
        return Err(CoreError::bad_input("occurredOn", "is in the future"));
    }
    if !(1..=3).contains(&input.tier) {
        return Err(CoreError::bad_input("tier", "must be 1, 2 or 3"));
    }
    let who = who.clone();
    // Reads, then one statement, but for the first encounter (below).
    db.transaction_begun_late(move |conn| {
        let (req, aud) = for_action(conn, &who, id, "record_encounter")?;
        assigned(aud)?;
        if !matches!(
            req.state,
            RequestState::Accepted
                | RequestState::InContact
                | RequestState::FollowUp
                | RequestState::Escalated
        ) {
            return Err(CoreError::Conflict(format!(
                "a request that is {} takes no encounters",
                req.state
            )));
        }
        if let Some(p) = input.referral_program_id {
            programs::load(conn, p)
                .map_err(|_| CoreError::bad_input("referralProgramId", "no such program"))?;
        }
        let now = time::now();
        // Nothing in this transaction reads the encounter or the month's minutes again, so both
        // go with its last statement (the audit append): one wait on the database for the three.
        let mut writes = Writes::new();
        hold_encounter(conn, &mut writes, &req, &input, now)?;
        // The answer is the request as this transaction leaves it, known without reading it
        // back: only its first contact and its state change here.
        let mut after = req.clone();
        let first_contact = req.first_contact_at.is_none();
        let in_contact = req.state == RequestState::Accepted;
        if first_contact || in_contact {
            // The first contact and the state change are written at once: a transaction, with
            // the request's row changed in one write and the rest (the follow-ups, the history
            // entry) held for its last statement with the encounter's: nine waits on PostgreSQL
            // instead of thirteen, and the load bench's first second holds forty of them.
            crate::db::late::begin_now(conn)?;
            if in_contact {
                super::state::check(req.state, RequestState::InContact)?;
            }
            write_contact(conn, id, first_contact, in_contact, now)?;
            if first_contact {
                schedule(conn, &mut writes, &req, now, false)?;
                after.first_contact_at = Some(now);
            }
            if in_contact {
                let actor = audit::actor(&who);
                super::record_transition_with(
                    conn,
                    &mut writes,
                    &req,
                    RequestState::InContact,
                    &actor,
                    now,
                )?;
                after.state = RequestState::InContact;
            }
        }
        writes.finish_by_commit(conn)?;
        view(conn, aud, &after)
    })
    .await
}

/// The request's row at an encounter: its first contact, its move to in contact, or both, in
/// one write.
fn write_contact(
    conn: &mut DbConnection,
    id: Uuid,
    first_contact: bool,
    in_contact: bool,
    now: NaiveDateTime,
) -> Result<(), CoreError> {
    let row = support_requests::table.filter(support_requests::id.eq(Id(id)));
    let contacted = support_requests::first_contact_at.eq(Some(now));
    let moved = (
        support_requests::state.eq(RequestState::InContact),
        support_requests::updated_at.eq(now),
    );
    match (first_contact, in_contact) {
        (true, true) => diesel::update(row).set((contacted, moved)).execute(conn)?,
        (true, false) => diesel::update(row).set(contacted).execute(conn)?,
        _ => diesel::update(row).set(moved).execute(conn)?,
    };
    Ok(())
}

/// An encounter's rows, held in `writes`: the encounter, and its minutes added to the month's
/// total of the supporter (one row per supporter and stripe, then locked only to the commit).
fn hold_encounter(
    conn: &mut DbConnection,
    writes: &mut Writes,
    req: &SupportRequest,
    input: &EncounterInput,
    now: NaiveDateTime,
) -> Result<(), CoreError> {
    use crate::schema::encounters;
    writes.insert(
        conn,
        diesel::insert_into(encounters::table).values((
            encounters::id.eq(Id(new_id())),
            encounters::request_id.eq(Id(req.id)),
            encounters::supporter_id.eq(req.supporter_id.map(Id)),
            encounters::occurred_on.eq(input.occurred_on),
            encounters::duration_band.eq(input.duration),
            encounters::modality.eq(input.modality),
            encounters::tier.eq(input.tier),
            encounters::referral_program_id.eq(input.referral_program_id.map(Id)),
            encounters::created_at.eq(now),
        )),
    )?;
    match req.supporter_id {
        Some(supporter) => {
            super::workload::add_with(conn, writes, supporter, input.occurred_on, input.duration)
        }
        None => Ok(()),
    }
}

/// Warm-up (`db::warm`): an encounter's last statement, its rows with the case chain's append,
/// written to the warm-up's accepted request (its stand-ins) in a transaction rolled back.
pub(crate) fn warm_encounter(conn: &mut DbConnection) -> Result<(), CoreError> {
    warm_encounter_of(conn, false)
}

/// Warm-up: a first encounter, as [`record_encounter`] writes it: the request's row changed,
/// the follow-ups (the default schedule) and the history entry held with the encounter's rows.
pub(crate) fn warm_first_encounter(conn: &mut DbConnection) -> Result<(), CoreError> {
    warm_encounter_of(conn, true)
}

fn warm_encounter_of(conn: &mut DbConnection, first: bool) -> Result<(), CoreError> {
    let now = time::now();
    let mut req = super::blank(now);
    req.state = RequestState::Accepted;
    req.supporter_id = Some(Uuid::nil());
    let input = EncounterInput {
        occurred_on: now.date(),
        duration: DurationBand::UnderFifteen,
        modality: Modality::Phone,
        tier: 2,
        referral_program_id: None,
    };
    let ((), held) = together::by_commit(|| {
        let mut writes = Writes::new();
        hold_encounter(conn, &mut writes, &req, &input, now)?;
        if first {
            write_contact(conn, req.id, true, true, now)?;
            schedule(conn, &mut writes, &req, now, false)?;
            super::record_transition_with(
                conn,
                &mut writes,
                &req,
                RequestState::InContact,
                "warm-up",
                now,
            )?;
        }
        writes.finish_by_commit(conn)
    })?;
    // Straight to the chain's statement: the case's pseudonyms, which a real encounter finds
    // stored, would be written first for this case that does not exist.
    audit::warm_case_after(conn, held)
}

/// Escalates to a tier-3 program (EAP, counseling, chaplaincy…), in one step.
/// The program's intake is told (see `handoff`), with only what the person agreed to `share`.
pub async fn escalate(
    db: &Db,
    who: &Principal,
    id: Uuid,
    program_id: Uuid,
    share: Option<super::handoff::Share>,
) -> Result<RequestView, CoreError> {
    let who = who.clone();
    db.transaction(move |conn| {
        let (req, aud) = for_action(conn, &who, id, "escalate")?;
        if !matches!(
            aud,
            Audience::Supporter { assigned: true } | Audience::Coordinator { .. }
        ) {
            return Err(CoreError::Forbidden(
                "the assigned supporter or a coordinator escalates".into(),
            ));
        }
        let program = programs::load(conn, program_id)
            .map_err(|_| CoreError::bad_input("programId", "no such program"))?;
        if program.tier != 3 || !program.active {
            return Err(CoreError::bad_input(
                "programId",
                "escalate to an active tier-3 (professional) program",
            ));
        }
        transition(conn, &req, RequestState::Escalated, &audit::actor(&who))?;
        diesel::update(support_requests::table.filter(support_requests::id.eq(Id(id))))
            .set(support_requests::escalated_to.eq(Some(Id(program_id))))
            .execute(conn)?;
        super::handoff::send(conn, &req, &program, share.as_ref())?;
        reload_view(conn, aud, id)
    })
    .await
}

/// The supporter moves the request to follow-up, or closes it. Coordinators may close too, and
/// the requester closes a request supported by a peer at another institution.
pub async fn advance(
    db: &Db,
    who: &Principal,
    id: Uuid,
    to: RequestState,
) -> Result<RequestView, CoreError> {
    if !matches!(
        to,
        RequestState::FollowUp | RequestState::Closed | RequestState::InContact
    ) {
        return Err(CoreError::bad_input(
            "state",
            "move to IN_CONTACT, FOLLOW_UP or CLOSED",
        ));
    }
    let who = who.clone();
    db.transaction(move |conn| {
        let (req, aud) = for_action(conn, &who, id, to.as_str())?;
        let allowed = match aud {
            Audience::Supporter { assigned: true } => true,
            Audience::Coordinator { .. } => to == RequestState::Closed,
            // Supported by a peer at another institution: the person who asked closes it here.
            Audience::Requester => {
                req.state == RequestState::SupportedOutside && to == RequestState::Closed
            }
            _ => false,
        };
        if !allowed {
            return Err(CoreError::Forbidden(
                "the assigned supporter moves a request on; coordinators may close it".into(),
            ));
        }
        if to == RequestState::Closed {
            close(conn, &req, &audit::actor(&who))?;
        } else {
            transition(conn, &req, to, &audit::actor(&who))?;
        }
        reload_view(conn, aud, id)
    })
    .await
}

/// Closes a request: by its supporter, a coordinator, its requester (an outside case), or the
/// outside peer's node saying the support has ended.
pub(crate) fn close(
    conn: &mut DbConnection,
    req: &SupportRequest,
    actor: &str,
) -> Result<(), CoreError> {
    transition(conn, req, RequestState::Closed, actor)?;
    diesel::update(support_requests::table.filter(support_requests::id.eq(Id(req.id))))
        .set(support_requests::closed_at.eq(Some(time::now())))
        .execute(conn)?;
    // An anonymous survey for the person who asked.
    if let Some(requester) = req.requester_id {
        crate::surveys::issue(conn, requester)?;
    }
    // The supporter's caseload has room again: someone waiting may be offered to them.
    super::matchmaking::rematch(
        conn,
        time::now(),
        super::matchmaking::REMATCH_ACTOR,
        req.supporter_id,
    )?;
    Ok(())
}

pub(crate) fn skip_open_follow_ups(
    conn: &mut DbConnection,
    request: Uuid,
) -> Result<(), CoreError> {
    diesel::update(
        follow_ups::table
            .filter(follow_ups::request_id.eq(Id(request)))
            .filter(follow_ups::state.eq(FollowUpState::Scheduled)),
    )
    .set(follow_ups::state.eq(FollowUpState::Skipped))
    .execute(conn)?;
    Ok(())
}

type FollowUpRow = (
    Uuid,
    Uuid,
    NaiveDateTime,
    FollowUpState,
    Option<FollowUpOutcome>,
    Option<NaiveDateTime>,
    Option<String>,
);

/// The signed-in supporter's scheduled follow-ups due by `until` (including overdue ones),
/// whether or not the case is closed.
pub async fn due_follow_ups(
    db: &Db,
    who: &Principal,
    until: NaiveDateTime,
) -> Result<Vec<FollowUp>, CoreError> {
    authorize(who, Operation::SupportPeers)?;
    let me = who.require_user()?.person_id;
    let actor = audit::actor(who);
    db.transaction(move |conn| {
        let Some(supporter) = crate::supporters::load_for_person(conn, me)? else {
            return Ok(vec![]);
        };
        let rows: Vec<FollowUpRow> = follow_ups::table
            .inner_join(support_requests::table)
            .filter(follow_ups::supporter_id.eq(Id(supporter.id)))
            .filter(follow_ups::state.eq(FollowUpState::Scheduled))
            .filter(follow_ups::due_at.le(until))
            .order(follow_ups::due_at.asc())
            .select((
                follow_ups::id,
                follow_ups::request_id,
                follow_ups::due_at,
                follow_ups::state,
                follow_ups::outcome,
                follow_ups::completed_at,
                support_requests::preferred_name,
            ))
            .limit(200)
            .load(conn)?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, request, due_at, state, outcome, completed_at, preferred_name) in rows {
            let request_id = request;
            audit::append(
                conn,
                &actor,
                "read_follow_up",
                "support_request",
                request_id,
            )?;
            out.push(FollowUp {
                id,
                request_id,
                due_at,
                state,
                outcome,
                completed_at,
                preferred_name,
            });
        }
        Ok(out)
    })
    .await
}

/// The supporter completes a follow-up with its outcome, or skips it.
pub async fn complete_follow_up(
    db: &Db,
    who: &Principal,
    id: Uuid,
    outcome: Option<FollowUpOutcome>,
) -> Result<FollowUp, CoreError> {
    authorize(who, Operation::SupportPeers)?;
    let me = who.require_user()?.person_id;
    let actor = audit::actor(who);
    db.transaction(move |conn| {
        let supporter = crate::supporters::load_for_person(conn, me)?
            .ok_or(CoreError::NotFound("follow-up"))?;
        let row: Option<(Uuid, Option<Uuid>, NaiveDateTime, String)> = follow_ups::table
            .filter(follow_ups::id.eq(Id(id)))
            .select((
                follow_ups::request_id,
                follow_ups::supporter_id,
                follow_ups::due_at,
                follow_ups::state,
            ))
            .first(conn)
            .optional()?;
        let Some((request, owner, due_at, state)) = row else {
            return Err(CoreError::NotFound("follow-up"));
        };
        if owner != Some(supporter.id) {
            return Err(CoreError::NotFound("follow-up"));
        }
        if state != FollowUpState::Scheduled.as_str() {
            return Err(CoreError::Conflict(format!(
                "this follow-up is already {state}"
            )));
        }
        let request_id = request;
        audit::append(
            conn,
            &actor,
            "complete_follow_up",
            "support_request",
            request_id,
        )?;
        let (new_state, outcome_text) = match outcome {
            Some(o) => (FollowUpState::Completed, Some(o.as_str())),
            None => (FollowUpState::Skipped, None),
        };
        let now = time::now();
        diesel::update(follow_ups::table.filter(follow_ups::id.eq(Id(id))))
            .set((
                follow_ups::state.eq(new_state),
                follow_ups::outcome.eq(outcome_text),
                follow_ups::completed_at.eq(Some(now)),
            ))
            .execute(conn)?;
        let preferred_name: Option<String> = support_requests::table
            .filter(support_requests::id.eq(Id(request)))
            .select(support_requests::preferred_name)
            .first(conn)?;
        Ok(FollowUp {
            id,
            request_id,
            due_at,
            state: new_state,
            outcome,
            completed_at: Some(now),
            preferred_name,
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, NaiveDate, NaiveDateTime};
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use uuid::Uuid;

    use super::{DEFAULT_FOLLOW_UP_DAYS, schedule};
    use crate::db::testing::TestDatabase;
    use crate::db::together::Writes;
    use crate::db::together::tests::count;
    use crate::db::{DbConnection, Id, establish, run_migrations};
    use crate::schema::follow_ups;

    const ONE_DAY: &str = "00000000-0000-0000-0000-000000000001";
    const THREE_DAYS: &str = "00000000-0000-0000-0000-000000000003";

    /// What the follow-ups refer to: a requester, a supporter, an accepted request, and two
    /// programs, of one follow-up and of three.
    const ROWS: &str = "\
        INSERT INTO people (id, display_name, email, profession, experience_band, languages, \
            created_at, updated_at) \
        VALUES ('00000000-0000-0000-0000-000000000000', 'p', 'p@example.org', 'nurse', \
            'unknown', '[]', '2026-01-01 00:00:00', '2026-01-01 00:00:00'); \
        INSERT INTO peer_supporters (id, person_id, lived_experience, time_zone, availability, \
            caseload_cap, outside_matching_opt_in, active, created_at, updated_at) \
        VALUES ('00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000000', \
            false, 'UTC', '[]', 1, false, true, '2026-01-01 00:00:00', '2026-01-01 00:00:00'); \
        INSERT INTO programs (id, name, kind, tier, audience, hours, contact, privileged, \
            follow_up_days, active, created_at, updated_at) \
        VALUES ('00000000-0000-0000-0000-000000000001', 'one', 'peer_support', 2, '[]', '', '', \
            false, '[3]', true, '2026-01-01 00:00:00', '2026-01-01 00:00:00'), \
            ('00000000-0000-0000-0000-000000000003', 'three', 'peer_support', 2, '[]', '', '', \
            false, '[1, 7, 30]', true, '2026-01-01 00:00:00', '2026-01-01 00:00:00'); \
        INSERT INTO support_requests (id, requester_id, origin, urgency, specialty_preference, \
            language_required, modality, peer_origin, coordinator_access, state, supporter_id, \
            ack_due_at, contact_due_at, created_at, updated_at) \
        VALUES ('00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000000', \
            'self', 'routine', 'any', false, 'phone', 'any_department', 'status_only', \
            'accepted', '00000000-0000-0000-0000-000000000000', '2026-01-01 00:00:00', \
            '2026-01-01 00:00:00', '2026-01-01 00:00:00', '2026-01-01 00:00:00')";

    /// Each program's schedule is written in full from the first contact, on both backends;
    /// on PostgreSQL by one statement whatever the schedule's length, the one text every
    /// connection's warm-up plans (`db::warm`).
    #[test]
    fn every_schedule_is_written_whole_and_by_one_statement() {
        let dir = tempfile::tempdir().unwrap();
        let database = TestDatabase::create(dir.path()).unwrap();
        let mut conn = establish(&database.url, 1000).unwrap();
        run_migrations(&mut conn).unwrap();
        conn.batch_execute(ROWS).unwrap();
        let from = NaiveDate::from_ymd_opt(2026, 3, 1)
            .unwrap()
            .and_hms_opt(9, 30, 0)
            .unwrap();
        let schedules: [(Option<&str>, &[i32]); 3] = [
            (Some(ONE_DAY), &[3]),
            (Some(THREE_DAYS), &[1, 7, 30]),
            (None, &DEFAULT_FOLLOW_UP_DAYS),
        ];
        for (program, days) in schedules {
            let mut req = super::super::blank(from);
            req.supporter_id = Some(Uuid::nil());
            req.program_id = program.map(|p| Uuid::parse_str(p).unwrap());
            let mut writes = Writes::new();
            schedule(&mut conn, &mut writes, &req, from, true).unwrap();
            writes.finish(&mut conn).unwrap();
            let rows: Vec<(NaiveDateTime, Option<Uuid>, String, bool)> = follow_ups::table
                .filter(follow_ups::request_id.eq(Id(Uuid::nil())))
                .order(follow_ups::due_at.asc())
                .select((
                    follow_ups::due_at,
                    follow_ups::supporter_id,
                    follow_ups::state,
                    follow_ups::with_requester,
                ))
                .load(&mut conn)
                .unwrap();
            let expected: Vec<_> = days
                .iter()
                .map(|d| {
                    (
                        from + Duration::days(i64::from(*d)),
                        Some(Uuid::nil()),
                        "scheduled".to_owned(),
                        true,
                    )
                })
                .collect();
            assert_eq!(rows, expected, "{program:?}");
            diesel::delete(follow_ups::table)
                .execute(&mut conn)
                .unwrap();
        }
        if matches!(conn, DbConnection::Pg(_)) {
            assert_eq!(
                count(
                    &mut conn,
                    "SELECT count(*) AS n FROM pg_prepared_statements \
                     WHERE statement LIKE '%INSERT INTO follow_ups%'"
                ),
                1,
                "a statement a schedule's length"
            );
        }
    }
}
