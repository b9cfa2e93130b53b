//! The on-call rota and the escalation of alerts. A crisis alert or a missed clock goes to
//! whoever is on call now (by text where they chose texts, and by email) with a one-tap
//! acknowledgement code; unacknowledged after the rota's minutes, it goes to the next person on
//! call, then to the program lead. With nobody on call it goes to the institution's on-call
//! address, else to every coordinator — never nowhere.

use chrono::{Duration, NaiveDateTime, NaiveTime};
use diesel::prelude::*;
use uuid::Uuid;

use crate::access::{Operation, Principal, authorize};
use crate::db::{Db, DbConnection, Id};
use crate::error::CoreError;
use crate::ids::new_id;
use crate::notify::templates::{Topic, Vars};
use crate::schema::{alert_pages, alerts, on_call_overrides, on_call_settings, on_call_shifts};
use crate::supporters::AvailabilityWindow;
use crate::vocab::Weekday;
use crate::{audit, notify, people, secrets, time, validate};

/// Minutes an alert waits for an acknowledgement before the next person is paged.
pub const DEFAULT_ESCALATE_AFTER_MINUTES: i32 = 10;
/// Positions on the rota: first on call, second, ….
pub const MAX_POSITION: i32 = 5;

/// One weekly shift, in the rota's time zone; an end at or before the start runs past midnight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shift {
    pub person_id: Uuid,
    pub weekday: Weekday,
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub position: i32,
}

/// Someone else at a position for a while (a holiday, a swap), in UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub id: Uuid,
    pub person_id: Uuid,
    pub position: i32,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rota {
    pub time_zone: String,
    pub escalate_after_minutes: i32,
    /// Paged last, after everyone on call.
    pub lead_person_id: Option<Uuid>,
    pub shifts: Vec<Shift>,
    /// Overrides not yet over.
    pub overrides: Vec<Override>,
    /// Who is on call now, in the order they are paged.
    pub on_call_now: Vec<Uuid>,
}

/// The whole rota, replacing what was there.
#[derive(Debug, Clone)]
pub struct RotaInput {
    pub time_zone: String,
    pub escalate_after_minutes: Option<i32>,
    pub lead_person_id: Option<Uuid>,
    pub shifts: Vec<Shift>,
}

fn settings(conn: &mut DbConnection) -> Result<(String, i32, Option<Uuid>), CoreError> {
    let row: Option<(String, i32, Option<Uuid>)> = on_call_settings::table
        .select((
            on_call_settings::time_zone,
            on_call_settings::escalate_after_minutes,
            on_call_settings::lead_person_id,
        ))
        .first(conn)
        .optional()?;
    Ok(match row {
        Some((tz, minutes, lead)) => (tz, minutes, lead),
        None => ("UTC".into(), DEFAULT_ESCALATE_AFTER_MINUTES, None),
    })
}

fn shifts(conn: &mut DbConnection) -> Result<Vec<Shift>, CoreError> {
    let rows: Vec<(Uuid, Weekday, String, String, i32)> = on_call_shifts::table
        .order((
            on_call_shifts::position.asc(),
            on_call_shifts::weekday.asc(),
        ))
        .select((
            on_call_shifts::person_id,
            on_call_shifts::weekday,
            on_call_shifts::start_time,
            on_call_shifts::end_time,
            on_call_shifts::position,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(person, day, start, end, position)| {
            let t = |s: &str| {
                NaiveTime::parse_from_str(s, "%H:%M")
                    .map_err(|e| CoreError::internal(format!("stored shift time: {e}")))
            };
            Ok(Shift {
                person_id: person,
                weekday: day,
                start: t(&start)?,
                end: t(&end)?,
                position,
            })
        })
        .collect()
}

fn overrides(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Vec<Override>, CoreError> {
    let rows: Vec<(Uuid, Uuid, i32, NaiveDateTime, NaiveDateTime)> = on_call_overrides::table
        .filter(on_call_overrides::ends_at.gt(now))
        .order(on_call_overrides::starts_at.asc())
        .select((
            on_call_overrides::id,
            on_call_overrides::person_id,
            on_call_overrides::position,
            on_call_overrides::starts_at,
            on_call_overrides::ends_at,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(id, person, position, starts_at, ends_at)| {
            Ok(Override {
                id,
                person_id: person,
                position,
                starts_at,
                ends_at,
            })
        })
        .collect()
}

/// Who is on call at `now`, in the order they are paged: for each position, an override in
/// force, else the weekly shift covering this minute in the rota's zone.
pub(crate) fn chain(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Vec<Uuid>, CoreError> {
    let (tz, _, _) = settings(conn)?;
    let zone: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::UTC);
    let shifts = shifts(conn)?;
    let overrides = overrides(conn, now)?;
    let mut out = Vec::new();
    for position in 1..=MAX_POSITION {
        let by_override = overrides
            .iter()
            .find(|o| o.position == position && o.starts_at <= now && now < o.ends_at)
            .map(|o| o.person_id);
        let by_shift = || {
            shifts
                .iter()
                .filter(|s| s.position == position)
                .find(|s| {
                    let w = AvailabilityWindow {
                        weekday: s.weekday,
                        start: s.start,
                        end: s.end,
                    };
                    crate::matching::available_within(&[w], zone, now, 1)
                })
                .map(|s| s.person_id)
        };
        if let Some(p) = by_override.or_else(by_shift)
            && !out.contains(&p)
        {
            out.push(p);
        }
    }
    Ok(out)
}

fn load_rota(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Rota, CoreError> {
    let (time_zone, escalate_after_minutes, lead_person_id) = settings(conn)?;
    Ok(Rota {
        time_zone,
        escalate_after_minutes,
        lead_person_id,
        shifts: shifts(conn)?,
        overrides: overrides(conn, now)?,
        on_call_now: chain(conn, now)?,
    })
}

pub async fn rota(db: &Db, who: &Principal) -> Result<Rota, CoreError> {
    authorize(who, Operation::ManageOnCall)?;
    db.run(|conn| load_rota(conn, time::now())).await
}

fn check_position(position: i32) -> Result<(), CoreError> {
    if (1..=MAX_POSITION).contains(&position) {
        Ok(())
    } else {
        Err(CoreError::bad_input(
            "position",
            format!("a position on the rota is 1 to {MAX_POSITION} (1 is paged first)"),
        ))
    }
}

/// Replaces the weekly pattern and the rota's settings.
pub async fn set_rota(db: &Db, who: &Principal, input: RotaInput) -> Result<Rota, CoreError> {
    authorize(who, Operation::ManageOnCall)?;
    let time_zone = validate::time_zone("timeZone", &input.time_zone)?;
    if time_zone.parse::<chrono_tz::Tz>().is_err() {
        return Err(CoreError::bad_input(
            "timeZone",
            format!("{time_zone:?} is not a time zone; use a name like America/Chicago"),
        ));
    }
    let minutes = input
        .escalate_after_minutes
        .unwrap_or(DEFAULT_ESCALATE_AFTER_MINUTES);
    if !(1..=240).contains(&minutes) {
        return Err(CoreError::bad_input(
            "escalateAfterMinutes",
            "give between 1 and 240 minutes",
        ));
    }
    for s in &input.shifts {
        check_position(s.position)?;
    }
    let actor = audit::actor(who);
    db.transaction(move |conn| {
        for p in input
            .shifts
            .iter()
            .map(|s| s.person_id)
            .chain(input.lead_person_id)
        {
            people::load(conn, p).map_err(|_| {
                CoreError::bad_input("personId", format!("no person {p} at this node"))
            })?;
        }
        let now = time::now();
        diesel::delete(on_call_settings::table).execute(conn)?;
        diesel::insert_into(on_call_settings::table)
            .values((
                on_call_settings::id.eq(1),
                on_call_settings::time_zone.eq(&time_zone),
                on_call_settings::escalate_after_minutes.eq(minutes),
                on_call_settings::lead_person_id.eq(input.lead_person_id.map(Id)),
                on_call_settings::updated_at.eq(now),
            ))
            .execute(conn)?;
        diesel::delete(on_call_shifts::table).execute(conn)?;
        for s in &input.shifts {
            diesel::insert_into(on_call_shifts::table)
                .values((
                    on_call_shifts::id.eq(Id(new_id())),
                    on_call_shifts::person_id.eq(Id(s.person_id)),
                    on_call_shifts::weekday.eq(s.weekday),
                    on_call_shifts::start_time.eq(s.start.format("%H:%M").to_string()),
                    on_call_shifts::end_time.eq(s.end.format("%H:%M").to_string()),
                    on_call_shifts::position.eq(s.position),
                ))
                .execute(conn)?;
        }
        audit::append(conn, &actor, "set", "on_call_rota", Uuid::nil())?;
        load_rota(conn, now)
    })
    .await
}

/// A wall-clock time in the rota's time zone as UTC, for an override typed as the people on call
/// read their clocks. A time the clocks skip (spring forward) is refused on `field`.
pub fn from_rota_zone(
    rota: &Rota,
    field: &str,
    local: NaiveDateTime,
) -> Result<NaiveDateTime, CoreError> {
    use chrono::TimeZone;
    let tz: chrono_tz::Tz = rota.time_zone.parse().unwrap_or(chrono_tz::UTC);
    tz.from_local_datetime(&local)
        .earliest()
        .map(|t| t.naive_utc())
        .ok_or_else(|| {
            CoreError::bad_input(field, "this time does not exist there (the clocks skip it)")
        })
}

/// A UTC moment as the rota's clocks show it.
pub fn in_rota_zone(rota: &Rota, utc: NaiveDateTime) -> NaiveDateTime {
    let tz: chrono_tz::Tz = rota.time_zone.parse().unwrap_or(chrono_tz::UTC);
    utc.and_utc().with_timezone(&tz).naive_local()
}

/// Puts `person` at `position` from `starts_at` to `ends_at` (UTC), over the weekly pattern.
pub async fn add_override(
    db: &Db,
    who: &Principal,
    person: Uuid,
    position: i32,
    starts_at: NaiveDateTime,
    ends_at: NaiveDateTime,
) -> Result<Rota, CoreError> {
    authorize(who, Operation::ManageOnCall)?;
    check_position(position)?;
    if ends_at <= starts_at {
        return Err(CoreError::bad_input(
            "endsAt",
            "the end comes after the start",
        ));
    }
    let actor = audit::actor(who);
    db.transaction(move |conn| {
        people::load(conn, person).map_err(|_| {
            CoreError::bad_input("personId", format!("no person {person} at this node"))
        })?;
        let id = new_id();
        diesel::insert_into(on_call_overrides::table)
            .values((
                on_call_overrides::id.eq(Id(id)),
                on_call_overrides::person_id.eq(Id(person)),
                on_call_overrides::position.eq(position),
                on_call_overrides::starts_at.eq(starts_at),
                on_call_overrides::ends_at.eq(ends_at),
            ))
            .execute(conn)?;
        audit::append(conn, &actor, "add", "on_call_override", id)?;
        load_rota(conn, time::now())
    })
    .await
}

pub async fn remove_override(db: &Db, who: &Principal, id: Uuid) -> Result<Rota, CoreError> {
    authorize(who, Operation::ManageOnCall)?;
    let actor = audit::actor(who);
    db.transaction(move |conn| {
        let n = diesel::delete(on_call_overrides::table.filter(on_call_overrides::id.eq(Id(id))))
            .execute(conn)?;
        if n == 0 {
            return Err(CoreError::NotFound("on-call override"));
        }
        audit::append(conn, &actor, "remove", "on_call_override", id)?;
        load_rota(conn, time::now())
    })
    .await
}

/// Whether an alert raised now would reach someone: a person on call, or the on-call address.
pub(crate) fn anyone_on_call(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> Result<bool, CoreError> {
    Ok(!chain(conn, now)?.is_empty() || crate::institution::load(conn)?.on_call_email.is_some())
}

fn topic_of(kind: &str) -> Topic {
    if kind == "crisis" {
        Topic::CrisisAlert
    } else {
        Topic::SlaBreach
    }
}

fn clock_of(kind: &str) -> Option<String> {
    match kind {
        "crisis" => None,
        "ack_breach" => Some("acknowledgement".into()),
        "outreach_breach" => Some("urgent outreach".into()),
        _ => Some("first contact".into()),
    }
}

/// Pages one person (text where they chose it, and email) or one address, with a fresh
/// acknowledgement code for this alert.
fn page(
    conn: &mut DbConnection,
    alert: Uuid,
    kind: &str,
    step: i32,
    to: Recipient,
    now: NaiveDateTime,
) -> Result<(), CoreError> {
    // Short enough for a text message; it can only acknowledge this one alert.
    let code: String = secrets::random_bytes::<12>()?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let page_id = new_id();
    diesel::insert_into(alert_pages::table)
        .values((
            alert_pages::id.eq(Id(page_id)),
            alert_pages::alert_id.eq(Id(alert)),
            alert_pages::step.eq(step),
            alert_pages::person_id.eq(match &to {
                Recipient::Person(p) => Some(Id(*p)),
                Recipient::Address(_) => None,
            }),
            alert_pages::code_hash.eq(secrets::sha256_hex(&code)),
            alert_pages::paged_at.eq(now),
        ))
        .execute(conn)?;
    let vars = Vars {
        clock: clock_of(kind),
        token: Some(code),
        ..Vars::default()
    };
    let topic = topic_of(kind);
    let key = format!("alert:{alert}:{step}:{page_id}");
    match to {
        Recipient::Person(p) => {
            notify::outbox::enqueue_for_person(
                conn,
                topic,
                p,
                &key,
                &vars,
                notify::outbox::AlsoText::IfChosen,
            )?;
        }
        Recipient::Address(email) => {
            notify::outbox::enqueue_email(conn, topic, &email, &key, &vars)?;
        }
    }
    Ok(())
}

enum Recipient {
    Person(Uuid),
    Address(String),
}

/// Raises an alert: records it and pages the first on call (or, with nobody on call, the
/// institution's on-call address, else every coordinator). Returns the alert's id.
pub(crate) fn raise(
    conn: &mut DbConnection,
    kind: &str,
    request: Option<Uuid>,
    now: NaiveDateTime,
) -> Result<Uuid, CoreError> {
    let alert = new_id();
    let (_, minutes, _) = settings(conn)?;
    let chain = chain(conn, now)?;
    let escalates = !chain.is_empty();
    diesel::insert_into(alerts::table)
        .values((
            alerts::id.eq(Id(alert)),
            alerts::kind.eq(kind),
            alerts::request_id.eq(request.map(Id)),
            alerts::created_at.eq(now),
            alerts::step.eq(1),
            alerts::next_step_at.eq(escalates.then(|| now + Duration::minutes(i64::from(minutes)))),
        ))
        .execute(conn)?;
    match chain.first() {
        Some(first) => page(conn, alert, kind, 1, Recipient::Person(*first), now)?,
        None => {
            let fallback = match crate::institution::load(conn)?.on_call_email {
                Some(address) => vec![address],
                None => crate::requests::coordinator_emails(conn)?,
            };
            for address in fallback {
                page(conn, alert, kind, 1, Recipient::Address(address), now)?;
            }
        }
    }
    Ok(alert)
}

/// Pages the next person for every alert still unacknowledged past its step's minutes: the next
/// on call now, then the program lead, then no one more. Returns how many were paged.
pub(crate) fn escalate_due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> Result<usize, CoreError> {
    let due: Vec<(Uuid, String, i32)> = alerts::table
        .filter(alerts::acknowledged_at.is_null())
        .filter(alerts::next_step_at.le(now))
        .select((alerts::id, alerts::kind, alerts::step))
        .load(conn)?;
    if due.is_empty() {
        return Ok(0);
    }
    let (_, minutes, lead) = settings(conn)?;
    let chain = chain(conn, now)?;
    let mut paged = 0;
    for (id, kind, step) in due {
        let alert = id;
        let already: Vec<Option<Uuid>> = alert_pages::table
            .filter(alert_pages::alert_id.eq(Id(id)))
            .select(alert_pages::person_id)
            .load(conn)?;
        let seen = |p: &Uuid| already.iter().flatten().any(|x| x == p);
        let next = chain
            .iter()
            .find(|p| !seen(p))
            .copied()
            .or(lead.filter(|l| !seen(l)));
        let next_step = step + 1;
        match next {
            Some(person) => {
                page(
                    conn,
                    alert,
                    &kind,
                    next_step,
                    Recipient::Person(person),
                    now,
                )?;
                paged += 1;
                diesel::update(alerts::table.filter(alerts::id.eq(Id(id))))
                    .set((
                        alerts::step.eq(next_step),
                        alerts::next_step_at.eq(Some(now + Duration::minutes(i64::from(minutes)))),
                    ))
                    .execute(conn)?;
            }
            // Everyone on the rota and the lead have been paged: nothing more to send.
            None => {
                diesel::update(alerts::table.filter(alerts::id.eq(Id(id))))
                    .set(alerts::next_step_at.eq(None::<NaiveDateTime>))
                    .execute(conn)?;
            }
        }
    }
    Ok(paged)
}

/// What an acknowledgement did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acknowledged {
    /// This tap acknowledged the alert: no one else will be paged.
    Now,
    /// Someone had already acknowledged it.
    Already,
}

/// Acknowledges the alert a code was sent for. The code is the capability (like a survey
/// link): no sign-in, so it is one tap from a phone.
pub async fn acknowledge(db: &Db, code: &str) -> Result<Acknowledged, CoreError> {
    let digest = secrets::sha256_hex(code.trim());
    db.transaction(move |conn| {
        let alert: Uuid = alert_pages::table
            .filter(alert_pages::code_hash.eq(&digest))
            .select(alert_pages::alert_id)
            .first(conn)
            .optional()?
            .ok_or(CoreError::NotFound("alert"))?;
        let done: Option<NaiveDateTime> = alerts::table
            .filter(alerts::id.eq(Id(alert)))
            .select(alerts::acknowledged_at)
            .first(conn)?;
        if done.is_some() {
            return Ok(Acknowledged::Already);
        }
        diesel::update(alerts::table.filter(alerts::id.eq(Id(alert))))
            .set((
                alerts::acknowledged_at.eq(Some(time::now())),
                alerts::next_step_at.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
        audit::append(
            conn,
            "system:acknowledgement",
            "acknowledge",
            "alert",
            alert,
        )?;
        Ok(Acknowledged::Now)
    })
    .await
}
