//! From the database to matching and back: building candidates, offering a request to the best
//! supporter, responses to offers, and coordinators' assignment by hand.

use std::collections::{HashMap, HashSet};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Date, Integer, Nullable, Text, Timestamp};
use uuid::Uuid;

use super::{
    Audience, RequestView, SupportRequest, for_action, load, record_transition,
    record_transition_with, reload_view, transition, view,
};
use crate::access::{Operation, Principal, authorize};
use crate::audit;
use crate::db::fixed::Fixed;
use crate::db::together::Writes;
use crate::db::{Db, DbConnection, Id, Json, Stamp, UuidText};
use crate::error::CoreError;
use crate::events;
use crate::matching::{self, Candidate, Criteria, Ranked};
use crate::notify::templates::{Topic, Vars};
use crate::schema::{offer_declines, peer_supporters, support_requests};

use crate::supporters::Week;
use crate::time;
use crate::vocab::{ExperienceBand, PeerOrigin, Profession, RequestState, Urgency};
use crate::{notify, people};

/// Who made an offer that a change elsewhere (a supporter free again) allowed.
pub const REMATCH_ACTOR: &str = "system:rematch";

/// How long a supporter has to answer an offer before it moves on.
pub fn offer_window(urgency: Urgency) -> Duration {
    match urgency {
        Urgency::Crisis => Duration::minutes(10),
        Urgency::Urgent => Duration::minutes(30),
        Urgency::Routine => Duration::hours(8),
    }
}

/// A row of [`CANDIDATES`] or [`WITH_REQUESTER`]: a supporter and their person in two groups of
/// columns, their open cases and their minutes this month, their person's channels, then the rest
/// of a person's row. A supporter's row has every supporter column and none of the last group but
/// `active`; the requester's row (`WITH_REQUESTER`) no supporter column, its first one null.
type PoolRow = (
    (
        Option<Uuid>,
        Uuid,
        Option<NaiveDate>,
        Option<NaiveDate>,
        Option<bool>,
        Option<String>,
        Option<Week>,
        Option<i32>,
    ),
    (
        Option<bool>,
        Option<i32>,
        Option<NaiveDateTime>,
        Profession,
        Option<String>,
        Option<String>,
        ExperienceBand,
        Json<Vec<String>>,
    ),
    i64,
    i64,
    (Option<String>, Option<String>, bool, Option<String>),
    (
        Option<String>,
        Option<String>,
        Option<Stamp>,
        Option<Stamp>,
        bool,
        Option<String>,
    ),
);

type PoolSql = (
    (
        Nullable<UuidText>,
        UuidText,
        Nullable<Date>,
        Nullable<Date>,
        Nullable<Bool>,
        Nullable<Text>,
        Nullable<Text>,
        Nullable<Integer>,
    ),
    (
        Nullable<Bool>,
        Nullable<Integer>,
        Nullable<Timestamp>,
        Text,
        Nullable<Text>,
        Nullable<Text>,
        Text,
        Text,
    ),
    BigInt,
    BigInt,
    (Nullable<Text>, Nullable<Text>, Bool, Nullable<Text>),
    (
        Nullable<Text>,
        Nullable<Text>,
        Nullable<Timestamp>,
        Nullable<Timestamp>,
        Bool,
        Nullable<Text>,
    ),
);

/// Every active supporter with what matching weighs, read for every new request in one
/// statement: each one's cases held and offers waiting, and their minutes in the month (`$1`,
/// summed over its stripes: see `workload`).
/// The cases are counts kept by the database as the requests change (`supporter_cases`, by
/// trigger: see its migration), summed over their stripes: counting the requests here read every
/// open case of every supporter for each new request, 0.88 ms of PostgreSQL's time with 20
/// supporters and 900 cases. Someone the hospital's records mark as gone is never offered a
/// colleague. The last six columns but `p.active` are null here: in [`WITH_REQUESTER`]'s row
/// for the requester they hold the rest of a person's row.
macro_rules! candidates_sql {
    () => {
        "SELECT s.id, s.person_id, s.trained_on, s.training_expires_on, s.active, \
         s.time_zone, s.availability, s.caseload_cap, s.lived_experience, s.monthly_hours_cap, \
         s.last_assigned_at, p.profession, p.specialty, p.department, p.experience_band, \
         p.languages, \
         COALESCE(CAST((SELECT SUM(c.cases) FROM supporter_cases c \
          WHERE c.supporter_id = s.id) AS BIGINT), 0), \
         COALESCE(CAST((SELECT SUM(m.minutes) FROM supporter_minutes m \
          WHERE m.supporter_id = s.id AND m.month = $1) AS BIGINT), 0), \
         p.email, p.phone, p.text_messages, p.locale, \
         CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS TIMESTAMP), \
         CAST(NULL AS TIMESTAMP), p.active, CAST(NULL AS TEXT) \
         FROM peer_supporters s INNER JOIN people p ON p.id = s.person_id \
         WHERE p.active"
    };
}
const CANDIDATES: &str = candidates_sql!();

/// [`CANDIDATES`] and the person `$2`, who is asking for support, in one round trip: a new
/// request reads both before its one write. Their row has no supporter columns; a requester who
/// is also a supporter has a second row, as a candidate (matching leaves them out by person).
const WITH_REQUESTER: &str = concat!(
    candidates_sql!(),
    " UNION ALL SELECT CAST(NULL AS TEXT), p.id, CAST(NULL AS DATE), CAST(NULL AS DATE), \
     CAST(NULL AS BOOLEAN), CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS INTEGER), \
     CAST(NULL AS BOOLEAN), CAST(NULL AS INTEGER), CAST(NULL AS TIMESTAMP), p.profession, \
     p.specialty, p.department, p.experience_band, p.languages, CAST(0 AS BIGINT), \
     CAST(0 AS BIGINT), p.email, p.phone, p.text_messages, p.locale, p.staff_id, \
     p.display_name, p.created_at, p.updated_at, p.active, p.pager \
     FROM people p WHERE p.id = $2"
);

/// The supporters' channels by person, read with the rest by [`CANDIDATES`]: the message of an
/// offer needs no read of its own.
type Contacts = HashMap<Uuid, notify::outbox::Contact>;

/// Every supporter as matching sees them, for a request about `event`.
pub fn candidates_for(
    conn: &mut DbConnection,
    event: Option<Uuid>,
    now: NaiveDateTime,
) -> Result<Vec<Candidate>, CoreError> {
    Ok(pool_for(conn, event, now, None)?.candidates)
}

/// Warm-up (`db::warm`): the supporters' statement as a decline or a sweep runs it, and as a new
/// request runs it, with its requester (the nil id: nobody).
pub(crate) fn warm(conn: &mut DbConnection, now: NaiveDateTime) -> Result<(), CoreError> {
    pool_for(conn, None, now, None)?;
    pool_for(conn, None, now, Some(Uuid::nil()))?;
    Ok(())
}

/// What [`pool_for`] reads: the candidates, their channels and, when asked for, the requester.
struct Pool {
    candidates: Vec<Candidate>,
    contacts: Contacts,
    requester: Option<people::Person>,
}

/// [`candidates_for`], with their channels; with the person `requester` too, when given
/// ([`WITH_REQUESTER`]; `None` in [`Pool::requester`] if the node does not know them).
fn pool_for(
    conn: &mut DbConnection,
    event: Option<Uuid>,
    now: NaiveDateTime,
    requester: Option<Uuid>,
) -> Result<Pool, CoreError> {
    let month = super::workload::month_of(now.date());
    let rows: Vec<PoolRow> = match requester {
        None => crate::db::on_backend!(conn, |c| {
            Fixed::<PoolSql, (Date,), _, _>::new(CANDIDATES, (month,)).load(c)
        })?,
        Some(r) => crate::db::on_backend!(conn, |c| {
            Fixed::<PoolSql, (Date, UuidText), _, _>::new(WITH_REQUESTER, (month, Id(r))).load(c)
        })?,
    };
    let involved: HashSet<Uuid> = match event {
        Some(e) => events::involved_people(conn, e)?.into_iter().collect(),
        None => HashSet::new(),
    };
    let today = now.date();
    let mut pool = Pool {
        candidates: Vec::with_capacity(rows.len()),
        contacts: Contacts::with_capacity(rows.len()),
        requester: None,
    };
    for r in rows {
        let (
            (id, person_id, trained, expires, active, tz, availability, cap),
            (lived, hours, last, profession, specialty, department, experience, Json(languages)),
            open_cases,
            minutes_this_month,
            (email, phone, text_messages, locale),
            (staff_id, display_name, created_at, updated_at, person_active, pager),
        ) = r;
        let Some(id) = id else {
            pool.requester = Some(people::Person {
                id: person_id,
                staff_id,
                display_name: present(display_name)?,
                email,
                profession,
                specialty,
                department,
                experience_band: experience,
                languages,
                created_at: present(created_at)?.0,
                updated_at: present(updated_at)?.0,
                locale,
                phone,
                text_messages,
                active: person_active,
                pager,
            });
            continue;
        };
        let tz = present(tz)?;
        pool.contacts.insert(
            person_id,
            notify::outbox::Contact {
                email,
                phone,
                text_messages,
                locale,
            },
        );
        pool.candidates.push(Candidate {
            supporter_id: id,
            person_id,
            profession,
            specialty,
            department,
            experience,
            languages,
            lived_experience: present(lived)?,
            training_current: trained.is_some() && expires.is_none_or(|e| e >= today),
            active: present(active)?,
            time_zone: tz
                .parse()
                .map_err(|_| CoreError::internal(format!("stored time zone {tz:?}")))?,
            availability: present(availability)?.0,
            open_cases: u32::try_from(open_cases).unwrap_or(u32::MAX),
            caseload_cap: u32::try_from(present(cap)?).unwrap_or(0),
            minutes_this_month,
            monthly_hours_cap: i64::from(present(hours)?),
            last_assigned_at: last,
            involved_in_event: involved.contains(&person_id),
        });
    }
    Ok(pool)
}

/// A column of a [`PoolRow`] that its kind of row always has (its table's `NOT NULL`).
fn present<T>(value: Option<T>) -> Result<T, CoreError> {
    value.ok_or_else(|| CoreError::internal("a supporter or person read without a column it has"))
}

/// What matching looks for in a supporter for `req`: its requester read, and the supporters who
/// declined it.
fn criteria(conn: &mut DbConnection, req: &SupportRequest) -> Result<Criteria, CoreError> {
    let requester = match req.requester_id {
        Some(id) => Some(people::load(conn, id)?),
        None => None,
    };
    let excluded: Vec<Uuid> = offer_declines::table
        .filter(offer_declines::request_id.eq(Id(req.id)))
        .select(offer_declines::supporter_id)
        .load(conn)?;
    Ok(criteria_from(req, requester.as_ref(), excluded))
}

fn criteria_from(
    req: &SupportRequest,
    requester: Option<&people::Person>,
    excluded: Vec<Uuid>,
) -> Criteria {
    Criteria {
        requester_person_id: req.requester_id,
        requester_profession: requester.map(|p| p.profession),
        requester_specialty: requester.and_then(|p| p.specialty.clone()),
        requester_department: requester.and_then(|p| p.department.clone()),
        requester_experience: requester
            .map(|p| p.experience_band)
            .unwrap_or(ExperienceBand::Unknown),
        urgency: req.urgency,
        peer_profession: req.preferences.peer_profession,
        specialty_preference: req.preferences.specialty,
        language: req.preferences.language.clone(),
        language_required: req.preferences.language_required,
        exclude_department: req.preferences.peer_origin == PeerOrigin::NotMyDepartment,
        excluded: excluded.into_iter().collect(),
    }
}

/// Ranks the local supporters for a request.
pub(crate) fn rank_for(
    conn: &mut DbConnection,
    req: &SupportRequest,
    now: NaiveDateTime,
) -> Result<Vec<Ranked>, CoreError> {
    Ok(rank_with_contacts(conn, req, now)?.0)
}

/// [`rank_for`], with the supporters' channels.
fn rank_with_contacts(
    conn: &mut DbConnection,
    req: &SupportRequest,
    now: NaiveDateTime,
) -> Result<(Vec<Ranked>, Contacts), CoreError> {
    let criteria = criteria(conn, req)?;
    let pool = pool_for(conn, req.event_id, now, None)?;
    Ok((
        matching::rank(&criteria, &pool.candidates, now),
        pool.contacts,
    ))
}

/// Offers an open request to the best-ranked supporter, if there is one. Returns the request as
/// offered when it did.
pub(crate) fn offer_next(
    conn: &mut DbConnection,
    req: &SupportRequest,
    actor: &str,
) -> Result<Option<SupportRequest>, CoreError> {
    if req.state != RequestState::Open {
        return Ok(None);
    }
    let now = time::now();
    let (ranked, mut contacts) = rank_with_contacts(conn, req, now)?;
    let Some(best) = ranked.into_iter().next() else {
        return Ok(None);
    };
    let contact = contacts.remove(&best.person_id);
    make_offer(conn, req, &best, contact.as_ref(), now, actor).map(Some)
}

/// An offer decided before its request is written: the request is written once, already
/// offered, rather than written open and then offered (one write fewer for a new request).
pub(crate) struct FirstOffer {
    to_whom: Ranked,
    contact: Option<notify::outbox::Contact>,
    /// The request as offered, to be written.
    pub(crate) offered: SupportRequest,
}

/// The requester of a request about to be written (`req`, by `requester`), and the offer it
/// starts with if it is open and anyone is free; once the request is written,
/// [`announce_offer`] with it. The requester is read with the supporters, in one round trip;
/// such a request has no declines yet. `NotFound("person")` if the node does not know them.
pub(crate) fn requester_and_first_offer(
    conn: &mut DbConnection,
    req: &SupportRequest,
    requester: Uuid,
) -> Result<(people::Person, Option<FirstOffer>), CoreError> {
    if req.state != RequestState::Open {
        return Ok((people::load(conn, requester)?, None));
    }
    let now = req.created_at;
    let pool = pool_for(conn, req.event_id, now, Some(requester))?;
    let person = pool.requester.ok_or(CoreError::NotFound("person"))?;
    let criteria = criteria_from(req, Some(&person), Vec::new());
    let mut contacts = pool.contacts;
    let Some(to_whom) = matching::rank(&criteria, &pool.candidates, now)
        .into_iter()
        .next()
    else {
        return Ok((person, None));
    };
    let offered = as_offered(req, &to_whom, now)?;
    let first = FirstOffer {
        contact: contacts.remove(&to_whom.person_id),
        to_whom,
        offered,
    };
    Ok((person, Some(first)))
}

/// `req` as offered to `to_whom` from `now`.
fn as_offered(
    req: &SupportRequest,
    to_whom: &Ranked,
    now: NaiveDateTime,
) -> Result<SupportRequest, CoreError> {
    let to = RequestState::Offered;
    super::state::check(req.state, to)?;
    Ok(SupportRequest {
        state: to,
        updated_at: now,
        offered_to: Some(to_whom.supporter_id),
        offer_expires_at: Some(now + offer_window(req.urgency)),
        ..req.clone()
    })
}

/// Returns the request as offered, as it now stands in the database. `to_whom`: the supporter
/// and their person, as ranked; `contact`: that person's channels, if just read.
fn make_offer(
    conn: &mut DbConnection,
    req: &SupportRequest,
    to_whom: &Ranked,
    contact: Option<&notify::outbox::Contact>,
    now: NaiveDateTime,
    actor: &str,
) -> Result<SupportRequest, CoreError> {
    let offered = as_offered(req, to_whom, now)?;
    // The state and the offer in one write.
    diesel::update(support_requests::table.filter(support_requests::id.eq(Id(req.id))))
        .set((
            support_requests::state.eq(offered.state),
            support_requests::updated_at.eq(now),
            support_requests::offered_to.eq(offered.offered_to.map(Id)),
            support_requests::offer_expires_at.eq(offered.offer_expires_at),
        ))
        .execute(conn)?;
    let mut writes = Writes::new();
    tell_of_offer(conn, &mut writes, req, to_whom, contact, now, actor)?;
    writes.finish(conn)?;
    Ok(offered)
}

/// What follows a first offer once its request is written (open, `first.offered` as stored):
/// as [`make_offer`] after its write. Its rows are held in `writes`, with the request's.
pub(crate) fn announce_offer(
    conn: &mut DbConnection,
    writes: &mut Writes,
    first: &FirstOffer,
    actor: &str,
) -> Result<(), CoreError> {
    let open = SupportRequest {
        state: RequestState::Open,
        offered_to: None,
        offer_expires_at: None,
        ..first.offered.clone()
    };
    let (to_whom, contact, now) = (&first.to_whom, first.contact.as_ref(), open.updated_at);
    tell_of_offer(conn, writes, &open, to_whom, contact, now, actor)
}

/// The offer's history and webhook (from `req`'s state), and the message to the supporter
/// (through `contact`, their channels, when the caller has them, else read here). The history
/// entry and the message are held in `writes`: one statement.
fn tell_of_offer(
    conn: &mut DbConnection,
    writes: &mut Writes,
    req: &SupportRequest,
    to_whom: &Ranked,
    contact: Option<&notify::outbox::Contact>,
    now: NaiveDateTime,
    actor: &str,
) -> Result<(), CoreError> {
    use notify::outbox::{AlsoText, enqueue_for_contact, enqueue_for_person_with};
    record_transition_with(conn, writes, req, RequestState::Offered, actor, now)?;
    let key = format!("offer:{}:{}", req.id, to_whom.supporter_id);
    let vars = Vars::default();
    // An offer lasts minutes: a text first where the supporter chose texts, and the email.
    match contact {
        Some(c) => enqueue_for_contact(
            conn,
            writes,
            Topic::Offer,
            c,
            &key,
            &vars,
            AlsoText::IfChosen,
        )?,
        None => enqueue_for_person_with(
            conn,
            writes,
            Topic::Offer,
            to_whom.person_id,
            &key,
            &vars,
            AlsoText::IfChosen,
        )?,
    };
    Ok(())
}

/// Offers one run of [`rematch`] makes at most. Each offer is a few writes (the state, its history,
/// a webhook, a message); capping a run keeps the sweep's transaction short when many caseload
/// places open at once (5,000 offers took 7.8 s on PostgreSQL; 200 took 0.6 to 1.25 s), and the
/// next sweep, half a minute later, carries on with the most urgent still waiting.
pub const OFFERS_PER_SWEEP: usize = 100;

/// Offers every request still waiting for a peer (open, not offered) to the best supporter
/// eligible now: the most urgent first, then the longest waiting. Run by the scheduler's sweep
/// (`only` = `None`) and after a change that can make one supporter eligible (`only` = them: they
/// resumed or changed their hours, or a case of theirs ended), so a request made when nobody was
/// free is offered as soon as someone is. Supporters, requesters, declines and involvements are
/// read once for all waiting requests; each offer counts against its supporter's caseload at
/// once, so no one is offered past their cap. At most [`OFFERS_PER_SWEEP`] offers are made in one
/// run, most urgent first; the next sweep carries on. Returns how many offers it made.
pub fn rematch(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    actor: &str,
    only: Option<Uuid>,
) -> Result<usize, CoreError> {
    let Pool {
        candidates,
        contacts,
        ..
    } = pool_for(conn, None, now, None)?;
    let mut pool: Vec<Candidate> = candidates
        .into_iter()
        .filter(|s| only.is_none_or(|o| s.supporter_id == o))
        .filter(|s| {
            matching::could_take_any(s, now, matching::urgency_window_minutes(Urgency::Routine))
        })
        .collect();
    // At 03:00 with nobody free this is the whole sweep: one read of the supporters.
    if pool.is_empty() {
        return Ok(0);
    }
    let mut waiting: Vec<SupportRequest> = support_requests::table
        .filter(support_requests::state.eq(RequestState::Open))
        .load::<super::Row>(conn)?
        .into_iter()
        .map(SupportRequest::from)
        .collect();
    if waiting.is_empty() {
        return Ok(0);
    }
    let urgency_order = |u: Urgency| match u {
        Urgency::Crisis => 0,
        Urgency::Urgent => 1,
        Urgency::Routine => 2,
    };
    waiting.sort_by_key(|r| (urgency_order(r.urgency), r.created_at));
    let lookups = WaitingLookups::load(conn)?;
    let pool_people: HashSet<Uuid> = pool.iter().map(|c| c.person_id).collect();
    // Kinds of request (see `SharedRules`) for which nobody in the pool is eligible: the pool
    // only shrinks during a run, so the answer stays nobody, and thousands of requests that
    // nobody free can take (a language nobody on shift speaks) cost one ranking each kind.
    let mut nobody_for: HashSet<matching::SharedRules> = HashSet::new();
    let mut offered = 0;
    for req in waiting {
        if pool.is_empty() || offered >= OFFERS_PER_SWEEP {
            break;
        }
        let involved = req.event_id.and_then(|e| lookups.involved.get(&e));
        let requester = req.requester_id.and_then(|p| lookups.requesters.get(&p));
        let excluded = lookups.declined.get(&req.id).cloned().unwrap_or_default();
        let criteria = criteria_from(&req, requester, excluded);
        let plain = criteria.excluded.is_empty()
            && involved.is_none_or(HashSet::is_empty)
            && req.requester_id.is_none_or(|p| !pool_people.contains(&p));
        let rules = criteria.shared_rules();
        if plain && nobody_for.contains(&rules) {
            continue;
        }
        for c in &mut pool {
            c.involved_in_event = involved.is_some_and(|i| i.contains(&c.person_id));
        }
        let Some(best) = matching::best(&criteria, &pool, now) else {
            if plain {
                nobody_for.insert(rules);
            }
            continue;
        };
        // Conditional on the state read: a request offered meanwhile is left alone.
        let current = load(conn, req.id)?;
        if current.state != RequestState::Open {
            continue;
        }
        make_offer(
            conn,
            &current,
            &best,
            contacts.get(&best.person_id),
            now,
            actor,
        )?;
        offered += 1;
        if let Some(c) = pool
            .iter_mut()
            .find(|c| c.supporter_id == best.supporter_id)
        {
            c.open_cases += 1;
        }
        pool.retain(|c| c.open_cases < c.caseload_cap);
    }
    Ok(offered)
}

/// What matching needs to know about every waiting request, read in three queries.
struct WaitingLookups {
    requesters: HashMap<Uuid, people::Person>,
    declined: HashMap<Uuid, Vec<Uuid>>,
    involved: HashMap<Uuid, HashSet<Uuid>>,
}

impl WaitingLookups {
    fn load(conn: &mut DbConnection) -> Result<Self, CoreError> {
        use crate::schema::involvements;
        let open = RequestState::Open.as_str();
        let requester_ids: Vec<Option<Uuid>> = support_requests::table
            .filter(support_requests::state.eq(open))
            .select(support_requests::requester_id)
            .load(conn)?;
        let ids: Vec<Uuid> = requester_ids.iter().flatten().copied().collect();
        let requesters = people::load_many(conn, &ids)?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let mut declined: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        let rows: Vec<(Uuid, Uuid)> = offer_declines::table
            .inner_join(
                support_requests::table.on(support_requests::id.eq(offer_declines::request_id)),
            )
            .filter(support_requests::state.eq(open))
            .select((offer_declines::request_id, offer_declines::supporter_id))
            .load(conn)?;
        for (r, s) in rows {
            declined.entry(r).or_default().push(s);
        }
        let mut involved: HashMap<Uuid, HashSet<Uuid>> = HashMap::new();
        let rows: Vec<(Uuid, Uuid)> = involvements::table
            .inner_join(
                support_requests::table
                    .on(support_requests::event_id.eq(involvements::event_id.nullable())),
            )
            .filter(support_requests::state.eq(open))
            .select((involvements::event_id, involvements::person_id))
            .distinct()
            .load(conn)?;
        for (e, p) in rows {
            involved.entry(e).or_default().insert(p);
        }
        Ok(Self {
            requesters,
            declined,
            involved,
        })
    }
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
                offer_declines::request_id.eq(Id(req.id)),
                offer_declines::supporter_id.eq(Id(s)),
                offer_declines::reason.eq(reason),
                offer_declines::at.eq(time::now()),
            ))
            .execute(conn)?;
    }
    let to = RequestState::Open;
    super::state::check(req.state, to)?;
    let now = time::now();
    // Open again and the offer gone, in one write.
    diesel::update(support_requests::table.filter(support_requests::id.eq(Id(req.id))))
        .set((
            support_requests::state.eq(to),
            support_requests::updated_at.eq(now),
            support_requests::offered_to.eq(None::<Id>),
            support_requests::offer_expires_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    record_transition(conn, req, to, actor, now)?;
    let reopened = SupportRequest {
        state: to,
        updated_at: now,
        offered_to: None,
        offer_expires_at: None,
        ..req.clone()
    };
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
    diesel::update(support_requests::table.filter(support_requests::id.eq(Id(req.id))))
        .set((
            support_requests::supporter_id.eq(Some(Id(supporter))),
            support_requests::offered_to.eq(None::<Id>),
            support_requests::offer_expires_at.eq(None::<NaiveDateTime>),
            support_requests::acknowledged_at.eq(Some(req.acknowledged_at.unwrap_or(now))),
        ))
        .execute(conn)?;
    diesel::update(peer_supporters::table.filter(peer_supporters::id.eq(Id(supporter))))
        .set(peer_supporters::last_assigned_at.eq(Some(now)))
        .execute(conn)?;
    if let Some(requester) = req.requester_id {
        let key = format!("match:{}:{supporter}", req.id);
        notify::outbox::enqueue_for_person(
            conn,
            Topic::MatchAccepted,
            requester,
            &key,
            &Vars::default(),
            notify::outbox::AlsoText::Never,
        )?;
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
        // Taking a request oneself would show its requester: only when they allowed it.
        if who.user().is_some_and(|u| u.person_id == supporter_person)
            && aud != (Audience::Coordinator { full: true })
        {
            return Err(CoreError::Forbidden(
                "you may take a request yourself only when its requester let coordinators see it"
                    .into(),
            ));
        }
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
