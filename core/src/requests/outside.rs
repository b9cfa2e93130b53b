//! Support from a peer at another institution: the de-identified query a requester's node sends,
//! the anonymous candidates a member answers with, and introductions in both directions.
//!
//! Nothing here knows about HTTP or signatures; the federation crate carries these values
//! between nodes. Everything that leaves the node is a [`Shareable`], built only through the
//! de-identification gate. The one exception is what the requester typed into an introduction
//! (a first name, a contact channel): they consented to share exactly that with exactly one peer.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access::{Operation, Principal, authorize};
use crate::db::{Db, DbConnection, Id};
use crate::deid::{self, Inspect, Shareable};
use crate::error::CoreError;
use crate::ids::new_id;
use crate::matching::{self, Criteria};
use crate::notify::outbox::{self, Channel};
use crate::notify::templates::{Topic, Vars};
use crate::schema::{events, federation_handles, federation_introductions, peer_supporters};
use crate::vocab::{
    DurationBand, EventCategory, ExperienceBand, IntroductionDirection, IntroductionState,
    Modality, Profession, RequestState, SpecialtyPreference, Urgency,
};
use crate::{audit, people, secrets, time, validate};

use super::{Audience, audience, load, matchmaking, supporter_email, transition};

/// Outbox topic of an introduction sent to another node.
pub const INTRODUCTION_TOPIC: &str = "federation_introduction";
/// Outbox topic of a supporter's answer sent back to the requester's node.
pub const RESPONSE_TOPIC: &str = "federation_introduction_response";
/// Outbox topic of the supporter's node telling the requester's node how an accepted
/// introduction goes: first contact made, support ended.
pub const PROGRESS_TOPIC: &str = "federation_introduction_progress";
/// How long a candidate handle can be used for an introduction.
pub const HANDLE_MINUTES: i64 = 30;
/// Hours after which an unanswered introduction lapses: the requester is told and may choose
/// the next candidate.
pub const LAPSE_HOURS: i64 = 24;
/// Candidates a member returns at most.
pub const MAX_CANDIDATES: usize = 5;

/// Each candidate a member returns is described only as far as at least this many of its
/// opted-in supporters fit the same description; one that cannot be is not returned
/// (`federation.candidate_k`).
pub const CANDIDATE_K: usize = 3;

/// What of a supporter is described to another member, coarsest last: the specialty goes
/// first, then languages other than the one asked for, then every language, then lived
/// experience, then the experience band. Profession and current training are always said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Detail {
    All,
    NoSpecialty,
    AskedLanguageOnly,
    NoLanguages,
    NoLivedExperience,
    NoExperience,
}

const DETAILS: [Detail; 6] = [
    Detail::All,
    Detail::NoSpecialty,
    Detail::AskedLanguageOnly,
    Detail::NoLanguages,
    Detail::NoLivedExperience,
    Detail::NoExperience,
];

/// `c` as described at `detail`: what is not said is cleared.
fn described(c: &matching::Candidate, detail: Detail, asked: Option<&str>) -> matching::Candidate {
    let mut d = c.clone();
    if detail >= Detail::NoSpecialty {
        d.specialty = None;
    }
    if detail >= Detail::AskedLanguageOnly {
        d.languages
            .retain(|l| asked.is_some_and(|a| matching::same_language(l, a)));
    }
    if detail >= Detail::NoLanguages {
        d.languages.clear();
    }
    if detail >= Detail::NoLivedExperience {
        d.lived_experience = false;
    }
    if detail >= Detail::NoExperience {
        d.experience = ExperienceBand::Unknown;
    }
    d
}

/// The most detailed description of `c` that at least `k` of `pool` fit, if any.
fn k_anonymous(
    c: &matching::Candidate,
    pool: &[matching::Candidate],
    asked: Option<&str>,
    k: usize,
) -> Option<(Detail, matching::Candidate)> {
    let key = |d: &matching::Candidate, detail: Detail| {
        let mut languages: Vec<String> = d.languages.iter().map(|l| l.to_lowercase()).collect();
        languages.sort();
        (
            d.profession,
            d.training_current,
            d.specialty.as_ref().map(|s| s.to_lowercase()),
            languages,
            (detail < Detail::NoLivedExperience).then_some(d.lived_experience),
            d.experience,
        )
    };
    DETAILS.iter().find_map(|&detail| {
        let mine = described(c, detail, asked);
        let wanted = key(&mine, detail);
        let alike = pool
            .iter()
            .filter(|p| key(&described(p, detail, asked), detail) == wanted)
            .count();
        (alike >= k).then_some((detail, mine))
    })
}

/// What a requester's node asks other members for. No person, department, event id or date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutsideQuery {
    /// The requester's profession and specialty: "a peer of similar training".
    pub profession: Option<Profession>,
    pub specialty: Option<String>,
    pub experience: ExperienceBand,
    pub peer_profession: Option<Profession>,
    pub specialty_preference: SpecialtyPreference,
    pub event_category: Option<EventCategory>,
    pub urgency: Urgency,
    pub language: Option<String>,
    pub language_required: bool,
    pub modality: Modality,
    /// The requester's time zone (IANA), if they gave it.
    pub time_zone: Option<String>,
}

impl Inspect for OutsideQuery {
    fn texts(&self) -> Vec<(&'static str, &str)> {
        let mut t = Vec::new();
        t.extend(self.specialty.as_deref().map(|s| ("specialty", s)));
        t.extend(self.language.as_deref().map(|s| ("language", s)));
        t.extend(self.time_zone.as_deref().map(|s| ("timeZone", s)));
        t
    }
}

/// An anonymous candidate: enough to choose, nothing to identify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutsideCandidate {
    /// Opaque, single use, valid for [`HANDLE_MINUTES`].
    pub handle: String,
    pub profession: Profession,
    pub specialty: Option<String>,
    pub experience: ExperienceBand,
    pub languages: Vec<String>,
    pub training_current: bool,
    /// `None` when withheld: fewer than k supporters would share it ([`CANDIDATE_K`]).
    #[serde(default)]
    pub lived_experience: Option<bool>,
    pub next_available_at: Option<NaiveDateTime>,
    pub score: i32,
    pub reasons: Vec<String>,
}

impl Inspect for OutsideCandidate {
    fn texts(&self) -> Vec<(&'static str, &str)> {
        // The handle is random text this node made; everything else is inspected.
        let mut t = Vec::new();
        t.extend(self.specialty.as_deref().map(|s| ("specialty", s)));
        t.extend(self.languages.iter().map(|l| ("languages", l.as_str())));
        t.extend(self.reasons.iter().map(|r| ("reasons", r.as_str())));
        t
    }
}

/// What the requester consents to share with the one peer they picked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntroductionShare {
    /// A first name or any name they want to be called.
    pub first_name: Option<String>,
    /// How the peer can reach them: an email address, a phone number, a pager.
    pub contact: String,
}

/// The message an introduction carries to the supporter's node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntroductionMessage {
    pub id: Uuid,
    pub handle: String,
    pub urgency: Urgency,
    pub modality: Modality,
    pub share: IntroductionShare,
}

/// The answer sent back to the requester's node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntroductionResponse {
    pub id: Uuid,
    pub accepted: bool,
}

/// How an accepted introduction goes, as the supporter's node tells the requester's node. This is
/// all that crosses: no count of conversations, no duration, nothing the peer learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Progress {
    /// The peer has talked with the requester for the first time.
    FirstContact,
    /// The support has ended.
    Closed,
}

/// One progress signal for introduction `id`, with when it happened on the supporter's node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntroductionProgress {
    pub id: Uuid,
    pub progress: Progress,
    pub at: NaiveDateTime,
}

/// A conversation the supporter had with a requester from another institution: counts only, as
/// for local cases (never a narrative).
#[derive(Debug, Clone, Copy)]
pub struct Conversation {
    pub occurred_on: NaiveDate,
    pub duration: DurationBand,
    pub modality: Modality,
}

/// An introduction as either side sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Introduction {
    pub id: Uuid,
    pub direction: IntroductionDirection,
    pub request_id: Option<Uuid>,
    /// The other node.
    pub peer_node: String,
    /// For the supporter only: what the requester shared.
    pub first_name: Option<String>,
    pub contact: Option<String>,
    pub state: IntroductionState,
    pub created_at: NaiveDateTime,
    pub responded_at: Option<NaiveDateTime>,
    /// When the peer first talked with the requester (on the requester's node: as signalled).
    pub first_contact_at: Option<NaiveDateTime>,
    /// When the support ended.
    pub closed_at: Option<NaiveDateTime>,
    /// Supporter's node only: conversations recorded.
    pub encounters: i32,
}

fn requester_request(
    conn: &mut DbConnection,
    who: &Principal,
    request_id: Uuid,
    action: &str,
) -> Result<super::SupportRequest, CoreError> {
    let req = load(conn, request_id)?;
    if audience(conn, who, &req)? != Audience::Requester {
        return Err(CoreError::Forbidden(
            "only the person who asked can look for a peer at another institution".into(),
        ));
    }
    if !matches!(
        req.state,
        RequestState::Open | RequestState::AwaitingFederation
    ) {
        return Err(CoreError::Conflict(format!(
            "a request that is {} is not looking for a peer",
            req.state
        )));
    }
    audit::append(conn, &audit::actor(who), action, "support_request", req.id)?;
    Ok(req)
}

/// Builds the de-identified query for the requester's own open request.
pub async fn outside_query(
    db: &Db,
    who: &Principal,
    request_id: Uuid,
    time_zone: Option<String>,
) -> Result<Shareable<OutsideQuery>, CoreError> {
    authorize(who, Operation::RequestSupport)?;
    let time_zone = time_zone
        .map(|tz| validate::time_zone("timeZone", &tz))
        .transpose()?;
    let who = who.clone();
    db.transaction(move |conn| {
        let req = requester_request(conn, &who, request_id, "find_outside_peers")?;
        let person = match req.requester_id {
            Some(id) => Some(people::load(conn, id)?),
            None => None,
        };
        let event_category = match req.event_id {
            Some(e) => events::table
                .filter(events::id.eq(Id(e)))
                .select(events::category)
                .first::<String>(conn)
                .optional()?
                .and_then(|c| c.parse().ok()),
            None => None,
        };
        let query = OutsideQuery {
            profession: person.as_ref().map(|p| p.profession),
            specialty: person.as_ref().and_then(|p| p.specialty.clone()),
            experience: person
                .as_ref()
                .map_or(ExperienceBand::Unknown, |p| p.experience_band),
            peer_profession: req.preferences.peer_profession,
            specialty_preference: req.preferences.specialty,
            event_category,
            urgency: req.urgency,
            language: req.preferences.language.clone(),
            language_required: req.preferences.language_required,
            modality: req.preferences.modality,
            time_zone,
        };
        Shareable::new(query).map_err(|f| deid::refusal(&f))
    })
    .await
}

/// This node's supporters who opted in to outside matching, as matching candidates.
pub(crate) fn opted_in(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> Result<Vec<matching::Candidate>, CoreError> {
    let opted_in: Vec<Uuid> = peer_supporters::table
        .filter(peer_supporters::outside_matching_opt_in.eq(true))
        .select(peer_supporters::id)
        .load(conn)?;
    Ok(matchmaking::candidates_for(conn, None, now)?
        .into_iter()
        .filter(|c| opted_in.contains(&c.supporter_id))
        .collect())
}

/// Answers another member's query from this node's supporters who opted in to outside matching,
/// with the local matching rules. Each candidate gets a fresh single-use handle for `from_node`.
pub fn answer(
    conn: &mut DbConnection,
    query: &OutsideQuery,
    from_node: &str,
    now: NaiveDateTime,
    k: usize,
) -> Result<Vec<Shareable<OutsideCandidate>>, CoreError> {
    conn.transaction(|conn| {
        crate::db::take_write_lock(conn)?;
        let candidates = opted_in(conn, now)?;
        let criteria = Criteria {
            requester_person_id: None,
            requester_profession: query.profession,
            requester_specialty: query.specialty.clone(),
            requester_department: None,
            requester_experience: query.experience,
            urgency: query.urgency,
            peer_profession: query.peer_profession,
            specialty_preference: query.specialty_preference,
            language: query.language.clone(),
            language_required: query.language_required,
            exclude_department: false,
            excluded: Default::default(),
        };
        let mut ranked = matching::rank(&criteria, &candidates, now);
        // Within three hours of the requester's zone, a conversation is easier to arrange.
        if let Some(zone) = query
            .time_zone
            .as_deref()
            .and_then(|z| z.parse::<chrono_tz::Tz>().ok())
        {
            use chrono::{Offset, TimeZone};
            let offset =
                |tz: chrono_tz::Tz| tz.offset_from_utc_datetime(&now).fix().local_minus_utc();
            for r in &mut ranked {
                if let Some(c) = candidates.iter().find(|c| c.supporter_id == r.supporter_id)
                    && (offset(c.time_zone) - offset(zone)).abs() <= 3 * 3600
                {
                    r.score += 5;
                    r.reasons.push("similar time zone".into());
                }
            }
            // Stable: equal scores keep the fair rotation order.
            ranked.sort_by_key(|r| std::cmp::Reverse(r.score));
        }
        let mut out = Vec::new();
        for r in ranked.into_iter() {
            if out.len() == MAX_CANDIDATES {
                break;
            }
            let Some(full) = candidates.iter().find(|c| c.supporter_id == r.supporter_id) else {
                continue;
            };
            // Described only as far as k opted-in supporters fit the description, so no
            // combination of criteria singles one out; scored and explained on that description.
            let Some((detail, c)) = k_anonymous(full, &candidates, query.language.as_deref(), k)
            else {
                continue;
            };
            let (score, reasons) = if detail == Detail::All {
                (r.score, r.reasons)
            } else {
                matching::score(&criteria, &c)
            };
            let handle = secrets::random_token()?;
            diesel::insert_into(federation_handles::table)
                .values((
                    federation_handles::handle_hash.eq(secrets::sha256_hex(&handle)),
                    federation_handles::supporter_id.eq(Id(c.supporter_id)),
                    federation_handles::requester_node.eq(from_node),
                    federation_handles::expires_at.eq(now + Duration::minutes(HANDLE_MINUTES)),
                ))
                .execute(conn)?;
            let candidate = OutsideCandidate {
                handle,
                profession: c.profession,
                specialty: c.specialty.clone(),
                experience: c.experience,
                languages: c.languages.clone(),
                training_current: c.training_current,
                lived_experience: (detail < Detail::NoLivedExperience)
                    .then_some(c.lived_experience),
                // To the hour: a supporter's exact schedule is theirs.
                next_available_at: matching::next_available(&c.availability, c.time_zone, now)
                    .map(to_the_hour),
                score,
                reasons,
            };
            // A specialty typed into a profile could carry an identifier; such a candidate is
            // left out rather than sent.
            if let Ok(s) = Shareable::new(candidate) {
                out.push(s);
            }
        }
        diesel::delete(federation_handles::table.filter(federation_handles::expires_at.lt(now)))
            .execute(conn)?;
        Ok(out)
    })
}

/// The hour `t` falls in, rounded up: "from 14:00" for 13:20.
fn to_the_hour(t: NaiveDateTime) -> NaiveDateTime {
    use chrono::Timelike;
    let floor = t
        .with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(t);
    if floor == t {
        t
    } else {
        floor + Duration::hours(1)
    }
}

/// What a requester may share in an introduction: an optional first name and one contact line.
pub fn check_share(share: IntroductionShare) -> Result<IntroductionShare, CoreError> {
    Ok(IntroductionShare {
        first_name: validate::optional_line("firstName", share.first_name.as_deref(), 60)?,
        contact: validate::line("contact", &share.contact, 200)?,
    })
}

/// The requester asks to be introduced to candidate `handle` at `node`, sharing only `share`.
/// The introduction leaves through the outbox, so it survives a crash and is retried.
pub async fn introduce(
    db: &Db,
    who: &Principal,
    request_id: Uuid,
    node: String,
    handle: String,
    share: IntroductionShare,
) -> Result<Introduction, CoreError> {
    authorize(who, Operation::RequestSupport)?;
    let share = check_share(share)?;
    let node = validate::line("node", &node, 253)?;
    let handle = validate::line("handle", &handle, 100)?;
    let who = who.clone();
    db.transaction(move |conn| {
        let req = requester_request(conn, &who, request_id, "introduce")?;
        let waiting: i64 = federation_introductions::table
            .filter(federation_introductions::request_id.eq(Id(request_id)))
            .filter(
                federation_introductions::state
                    .eq_any([IntroductionState::Sending, IntroductionState::Pending]),
            )
            .count()
            .get_result(conn)?;
        if waiting > 0 {
            return Err(CoreError::Conflict(
                "an introduction for this request is waiting for an answer".into(),
            ));
        }
        let id = new_id();
        let now = time::now();
        diesel::insert_into(federation_introductions::table)
            .values((
                federation_introductions::id.eq(Id(id)),
                federation_introductions::direction.eq(IntroductionDirection::Outbound),
                federation_introductions::request_id.eq(Some(Id(request_id))),
                federation_introductions::peer_node.eq(&node),
                federation_introductions::state.eq(IntroductionState::Sending),
                federation_introductions::created_at.eq(now),
            ))
            .execute(conn)?;
        let message = IntroductionMessage {
            id,
            handle,
            urgency: req.urgency,
            modality: req.preferences.modality,
            share,
        };
        outbox::enqueue(
            conn,
            Channel::Federation,
            INTRODUCTION_TOPIC,
            &node,
            &format!("introduction:{id}"),
            &crate::stored::to_json(&message)?,
            // It carries what the requester chose to share: gone once delivered or given up.
            outbox::Erase::DeliveredOrDead,
        )?;
        load_introduction(conn, id)
    })
    .await
}

/// The supporter's node receives an introduction from `from_node`. Idempotent: the same
/// introduction delivered twice is stored once.
pub fn receive(
    conn: &mut DbConnection,
    from_node: &str,
    message: IntroductionMessage,
) -> Result<IntroductionState, CoreError> {
    let share = check_share(message.share)?;
    conn.transaction(|conn| {
        crate::db::take_write_lock(conn)?;
        let existing: Option<(String, IntroductionState)> = federation_introductions::table
            .filter(federation_introductions::id.eq(Id(message.id)))
            .select((
                federation_introductions::peer_node,
                federation_introductions::state,
            ))
            .first(conn)
            .optional()?;
        if let Some((peer, state)) = existing {
            if peer != from_node {
                return Err(CoreError::Conflict(
                    "this introduction id is already used".into(),
                ));
            }
            return Ok(state);
        }
        let now = time::now();
        let hash = secrets::sha256_hex(&message.handle);
        let supporter: Option<Uuid> = federation_handles::table
            .filter(federation_handles::handle_hash.eq(&hash))
            .filter(federation_handles::requester_node.eq(from_node))
            .filter(federation_handles::expires_at.ge(now))
            .select(federation_handles::supporter_id)
            .first(conn)
            .optional()?;
        let Some(supporter) = supporter else {
            return Err(CoreError::NotFound("candidate handle"));
        };
        // Single use.
        diesel::delete(federation_handles::table.filter(federation_handles::handle_hash.eq(&hash)))
            .execute(conn)?;
        diesel::insert_into(federation_introductions::table)
            .values((
                federation_introductions::id.eq(Id(message.id)),
                federation_introductions::direction.eq(IntroductionDirection::Inbound),
                federation_introductions::peer_node.eq(from_node),
                federation_introductions::supporter_id.eq(Some(Id(supporter))),
                federation_introductions::first_name.eq(&share.first_name),
                federation_introductions::contact.eq(Some(&share.contact)),
                federation_introductions::state.eq(IntroductionState::Pending),
                federation_introductions::created_at.eq(now),
            ))
            .execute(conn)?;
        if let Some(email) = supporter_email(conn, supporter)? {
            outbox::enqueue_email(
                conn,
                Topic::Introduction,
                &email,
                &format!("introduction-email:{}", message.id),
                &Vars::default(),
            )?;
        }
        Ok(IntroductionState::Pending)
    })
}

/// The supporter's own introductions (waiting or accepted), newest first.
pub async fn my_introductions(db: &Db, who: &Principal) -> Result<Vec<Introduction>, CoreError> {
    authorize(who, Operation::SupportPeers)?;
    let person = who.require_user()?.person_id;
    db.run(move |conn| {
        let Some(supporter) = own_supporter_id(conn, person)? else {
            return Ok(vec![]);
        };
        let ids: Vec<Uuid> = federation_introductions::table
            .filter(federation_introductions::supporter_id.eq(Id(supporter)))
            .filter(
                federation_introductions::state
                    .eq_any([IntroductionState::Pending, IntroductionState::Accepted]),
            )
            .order(federation_introductions::created_at.desc())
            .select(federation_introductions::id)
            .load(conn)?;
        ids.iter().map(|id| load_introduction(conn, *id)).collect()
    })
    .await
}

/// One introduction received for the signed-in supporter; anyone else's is not found.
pub async fn my_introduction(
    db: &Db,
    who: &Principal,
    id: Uuid,
) -> Result<Introduction, CoreError> {
    authorize(who, Operation::SupportPeers)?;
    let person = who.require_user()?.person_id;
    db.run(move |conn| own_inbound(conn, person, id).map(|(intro, _)| intro))
        .await
}

/// The requester's introductions for one of their requests, newest first; no contact details.
pub async fn for_request(
    db: &Db,
    who: &Principal,
    request_id: Uuid,
) -> Result<Vec<Introduction>, CoreError> {
    authorize(who, Operation::RequestSupport)?;
    let who = who.clone();
    db.run(move |conn| {
        let req = load(conn, request_id)?;
        if audience(conn, &who, &req)? != Audience::Requester {
            return Ok(vec![]);
        }
        let ids: Vec<Uuid> = federation_introductions::table
            .filter(federation_introductions::request_id.eq(Id(request_id)))
            .order(federation_introductions::created_at.desc())
            .select(federation_introductions::id)
            .load(conn)?;
        ids.iter().map(|id| load_introduction(conn, *id)).collect()
    })
    .await
}

fn own_supporter_id(conn: &mut DbConnection, person: Uuid) -> Result<Option<Uuid>, CoreError> {
    peer_supporters::table
        .filter(peer_supporters::person_id.eq(Id(person)))
        .select(peer_supporters::id)
        .first::<Uuid>(conn)
        .optional()
        .map_err(Into::into)
}

/// An introduction received for this person as a supporter, with their supporter id; anyone
/// else's is not found.
fn own_inbound(
    conn: &mut DbConnection,
    person: Uuid,
    id: Uuid,
) -> Result<(Introduction, Uuid), CoreError> {
    let intro = load_introduction(conn, id)?;
    let owner: Option<Uuid> = federation_introductions::table
        .filter(federation_introductions::id.eq(Id(id)))
        .select(federation_introductions::supporter_id)
        .first(conn)?;
    match own_supporter_id(conn, person)? {
        Some(s) if intro.direction == IntroductionDirection::Inbound && owner == Some(s) => {
            Ok((intro, s))
        }
        _ => Err(CoreError::NotFound("introduction")),
    }
}

/// The supporter records a conversation with the requester of an accepted introduction. It
/// counts in their month's hours like any other; the first one tells the requester's node that
/// first contact is made.
pub async fn record_conversation(
    db: &Db,
    who: &Principal,
    id: Uuid,
    conversation: Conversation,
) -> Result<Introduction, CoreError> {
    authorize(who, Operation::SupportPeers)?;
    if conversation.occurred_on > time::now().date() {
        return Err(CoreError::bad_input("occurredOn", "is in the future"));
    }
    let person = who.require_user()?.person_id;
    let actor = audit::actor(who);
    db.transaction(move |conn| {
        let (intro, supporter) = own_inbound(conn, person, id)?;
        if intro.state != IntroductionState::Accepted {
            return Err(CoreError::Conflict(format!(
                "an introduction that is {} takes no conversations",
                intro.state
            )));
        }
        let now = time::now();
        diesel::update(
            federation_introductions::table.filter(federation_introductions::id.eq(Id(id))),
        )
        .set(federation_introductions::encounters.eq(federation_introductions::encounters + 1))
        .execute(conn)?;
        if intro.first_contact_at.is_none() {
            diesel::update(
                federation_introductions::table.filter(federation_introductions::id.eq(Id(id))),
            )
            .set(federation_introductions::first_contact_at.eq(Some(now)))
            .execute(conn)?;
            queue_progress(conn, &intro.peer_node, id, Progress::FirstContact, now)?;
        }
        audit::append(conn, &actor, "record_conversation", "introduction", id)?;
        // Last: the month's total is one row per supporter, locked until the commit.
        super::workload::add(
            conn,
            supporter,
            conversation.occurred_on,
            conversation.duration,
        )?;
        load_introduction(conn, id)
    })
    .await
}

/// The supporter says the support has ended. What the requester shared is forgotten at once,
/// and the requester's node is told, so the case closes there too.
pub async fn close_introduction(
    db: &Db,
    who: &Principal,
    id: Uuid,
) -> Result<Introduction, CoreError> {
    authorize(who, Operation::SupportPeers)?;
    let person = who.require_user()?.person_id;
    let actor = audit::actor(who);
    db.transaction(move |conn| {
        let (intro, _) = own_inbound(conn, person, id)?;
        if intro.state != IntroductionState::Accepted {
            return Err(CoreError::Conflict(format!(
                "an introduction that is {} cannot be closed",
                intro.state
            )));
        }
        let now = time::now();
        diesel::update(
            federation_introductions::table.filter(federation_introductions::id.eq(Id(id))),
        )
        .set((
            federation_introductions::state.eq(IntroductionState::Closed),
            federation_introductions::closed_at.eq(Some(now)),
            federation_introductions::first_name.eq(None::<String>),
            federation_introductions::contact.eq(None::<String>),
        ))
        .execute(conn)?;
        queue_progress(conn, &intro.peer_node, id, Progress::Closed, now)?;
        audit::append(conn, &actor, "close", "introduction", id)?;
        load_introduction(conn, id)
    })
    .await
}

fn queue_progress(
    conn: &mut DbConnection,
    peer_node: &str,
    id: Uuid,
    progress: Progress,
    at: NaiveDateTime,
) -> Result<(), CoreError> {
    let key = match progress {
        Progress::FirstContact => format!("introduction-progress:{id}:first_contact"),
        Progress::Closed => format!("introduction-progress:{id}:closed"),
    };
    outbox::enqueue(
        conn,
        Channel::Federation,
        PROGRESS_TOPIC,
        peer_node,
        &key,
        &crate::stored::to_json(&IntroductionProgress { id, progress, at })?,
        outbox::Erase::Never,
    )
}

/// The requester's node learns how its requester's outside case goes. First contact stops the
/// request's first-contact clock (for the program's metrics); the end closes the request here,
/// as the requester closing it would (the anonymous survey goes out). Idempotent, in any order.
pub fn receive_progress(
    conn: &mut DbConnection,
    from_node: &str,
    signal: &IntroductionProgress,
) -> Result<(), CoreError> {
    conn.transaction(|conn| {
        crate::db::take_write_lock(conn)?;
        let intro = load_introduction(conn, signal.id)?;
        if intro.direction != IntroductionDirection::Outbound || intro.peer_node != from_node {
            return Err(CoreError::NotFound("introduction"));
        }
        if !matches!(
            intro.state,
            IntroductionState::Accepted | IntroductionState::Closed
        ) {
            return Err(CoreError::Conflict(format!(
                "an introduction that is {} has no progress to report",
                intro.state
            )));
        }
        // The other node's clock: never later than now here, never before the acceptance.
        let now = time::now();
        let at = signal
            .at
            .min(now)
            .max(intro.responded_at.unwrap_or(intro.created_at));
        let row =
            federation_introductions::table.filter(federation_introductions::id.eq(Id(signal.id)));
        match signal.progress {
            Progress::FirstContact => {
                if intro.first_contact_at.is_some() {
                    return Ok(()); // a redelivery
                }
                diesel::update(row)
                    .set(federation_introductions::first_contact_at.eq(Some(at)))
                    .execute(conn)?;
                if let Some(request) = intro.request_id {
                    use crate::schema::support_requests as sr;
                    diesel::update(
                        sr::table
                            .filter(sr::id.eq(Id(request)))
                            .filter(sr::first_contact_at.is_null()),
                    )
                    .set(sr::first_contact_at.eq(Some(at)))
                    .execute(conn)?;
                }
            }
            Progress::Closed => {
                if intro.state == IntroductionState::Closed {
                    return Ok(()); // a redelivery
                }
                diesel::update(row)
                    .set((
                        federation_introductions::state.eq(IntroductionState::Closed),
                        federation_introductions::closed_at.eq(Some(at)),
                    ))
                    .execute(conn)?;
                if let Some(request) = intro.request_id {
                    let req = load(conn, request)?;
                    if req.state == RequestState::SupportedOutside {
                        super::care::close(conn, &req, &format!("node:{from_node}"))?;
                    }
                }
            }
        }
        Ok(())
    })
}

/// The supporter accepts or declines. The answer goes back through the outbox; a declined
/// introduction forgets what the requester shared at once.
pub async fn respond(
    db: &Db,
    who: &Principal,
    id: Uuid,
    accept: bool,
) -> Result<Introduction, CoreError> {
    authorize(who, Operation::SupportPeers)?;
    let person = who.require_user()?.person_id;
    let actor = audit::actor(who);
    db.transaction(move |conn| {
        let (intro, _) = own_inbound(conn, person, id)?;
        if intro.state != IntroductionState::Pending {
            return Err(CoreError::Conflict(format!(
                "this introduction is already {}",
                intro.state
            )));
        }
        let state = if accept {
            IntroductionState::Accepted
        } else {
            IntroductionState::Declined
        };
        let now = time::now();
        let update = diesel::update(
            federation_introductions::table.filter(federation_introductions::id.eq(Id(id))),
        );
        if accept {
            update
                .set((
                    federation_introductions::state.eq(state),
                    federation_introductions::responded_at.eq(Some(now)),
                ))
                .execute(conn)?;
        } else {
            update
                .set((
                    federation_introductions::state.eq(state),
                    federation_introductions::responded_at.eq(Some(now)),
                    federation_introductions::first_name.eq(None::<String>),
                    federation_introductions::contact.eq(None::<String>),
                ))
                .execute(conn)?;
        }
        audit::append(conn, &actor, state.as_str(), "introduction", id)?;
        queue_response(conn, &intro.peer_node, id, accept)?;
        load_introduction(conn, id)
    })
    .await
}

/// Queues the answer to an introduction for the requester's node.
pub(crate) fn queue_response(
    conn: &mut DbConnection,
    peer_node: &str,
    id: Uuid,
    accepted: bool,
) -> Result<(), CoreError> {
    outbox::enqueue(
        conn,
        Channel::Federation,
        RESPONSE_TOPIC,
        peer_node,
        &format!("introduction-response:{id}"),
        &crate::stored::to_json(&IntroductionResponse { id, accepted })?,
        outbox::Erase::Never,
    )
}

/// The requester's node receives the supporter's answer. An acceptance takes the request out
/// of the federation's queue; either way the requester is told by email to sign in.
pub fn receive_response(
    conn: &mut DbConnection,
    from_node: &str,
    response: &IntroductionResponse,
) -> Result<(), CoreError> {
    conn.transaction(|conn| {
        crate::db::take_write_lock(conn)?;
        let intro = load_introduction(conn, response.id)?;
        if intro.direction != IntroductionDirection::Outbound || intro.peer_node != from_node {
            return Err(CoreError::NotFound("introduction"));
        }
        let state = if response.accepted {
            IntroductionState::Accepted
        } else {
            IntroductionState::Declined
        };
        if intro.state == state {
            return Ok(()); // a redelivery
        }
        if !matches!(
            intro.state,
            IntroductionState::Sending | IntroductionState::Pending | IntroductionState::Failed
        ) {
            return Err(CoreError::Conflict(format!(
                "this introduction is already {}",
                intro.state
            )));
        }
        diesel::update(
            federation_introductions::table
                .filter(federation_introductions::id.eq(Id(response.id))),
        )
        .set((
            federation_introductions::state.eq(state),
            federation_introductions::responded_at.eq(Some(time::now())),
        ))
        .execute(conn)?;
        let Some(request_id) = intro.request_id else {
            return Ok(());
        };
        let req = load(conn, request_id)?;
        if response.accepted
            && matches!(
                req.state,
                RequestState::Open | RequestState::AwaitingFederation
            )
        {
            // The case goes on at the peer's institution: the acknowledgement clock stops
            // here now, and the first-contact clock is theirs (no breach is raised here).
            transition(
                conn,
                &req,
                RequestState::SupportedOutside,
                &format!("node:{from_node}"),
            )?;
            if req.acknowledged_at.is_none() {
                diesel::update(
                    crate::schema::support_requests::table
                        .filter(crate::schema::support_requests::id.eq(Id(req.id))),
                )
                .set(crate::schema::support_requests::acknowledged_at.eq(Some(time::now())))
                .execute(conn)?;
            }
            // The requester's own program checks in on its schedule: there is no local
            // supporter to do it.
            super::care::schedule_check_ins(conn, &req, time::now())?;
        }
        if let Some(requester) = req.requester_id {
            outbox::enqueue_for_person(
                conn,
                Topic::IntroductionAnswered,
                requester,
                &format!("introduction-answered:{}", response.id),
                &Vars::default(),
                outbox::AlsoText::Never,
            )?;
        }
        Ok(())
    })
}

/// Lapses every outbound introduction still unanswered `LAPSE_HOURS` after it was made: the
/// request is free to try the next candidate, and the requester is told. Returns how many.
pub(crate) fn lapse_unanswered(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> Result<usize, CoreError> {
    let stale: Vec<(Uuid, Option<Uuid>)> = federation_introductions::table
        .filter(federation_introductions::direction.eq(IntroductionDirection::Outbound))
        .filter(
            federation_introductions::state
                .eq_any([IntroductionState::Sending, IntroductionState::Pending]),
        )
        .filter(federation_introductions::created_at.lt(now - Duration::hours(LAPSE_HOURS)))
        .select((
            federation_introductions::id,
            federation_introductions::request_id,
        ))
        .load(conn)?;
    for (id, request) in &stale {
        diesel::update(
            federation_introductions::table.filter(federation_introductions::id.eq(Id(*id))),
        )
        .set(federation_introductions::state.eq(IntroductionState::Lapsed))
        .execute(conn)?;
        let Some(request) = request else { continue };
        let requester = load(conn, *request)?.requester_id;
        if let Some(person) = requester {
            outbox::enqueue_for_person(
                conn,
                Topic::IntroductionLapsed,
                person,
                &format!("introduction-lapsed:{id}"),
                &Vars::default(),
                outbox::AlsoText::Never,
            )?;
        }
    }
    Ok(stale.len())
}

/// The outbox delivered an introduction (it now waits for the supporter) or gave up on it.
pub fn delivery_settled(
    conn: &mut DbConnection,
    topic: &str,
    key: &str,
    delivered: bool,
) -> Result<(), CoreError> {
    if topic != INTRODUCTION_TOPIC {
        return Ok(());
    }
    let Some(Ok(id)) = key.strip_prefix("introduction:").map(Uuid::parse_str) else {
        return Ok(());
    };
    let to = if delivered {
        IntroductionState::Pending
    } else {
        IntroductionState::Failed
    };
    diesel::update(
        federation_introductions::table
            .filter(federation_introductions::id.eq(Id(id)))
            .filter(federation_introductions::state.eq(IntroductionState::Sending)),
    )
    .set(federation_introductions::state.eq(to))
    .execute(conn)?;
    Ok(())
}

type IntroRow = (
    Uuid,
    IntroductionDirection,
    Option<Uuid>,
    String,
    Option<Uuid>,
    Option<String>,
    Option<String>,
    IntroductionState,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    i32,
);

fn load_introduction(conn: &mut DbConnection, id: Uuid) -> Result<Introduction, CoreError> {
    let r: IntroRow = federation_introductions::table
        .filter(federation_introductions::id.eq(Id(id)))
        .first(conn)
        .optional()?
        .ok_or(CoreError::NotFound("introduction"))?;
    let direction = r.1;
    let inbound = direction == IntroductionDirection::Inbound;
    Ok(Introduction {
        id: r.0,
        direction,
        request_id: r.2,
        peer_node: r.3,
        first_name: r.5.filter(|_| inbound),
        contact: r.6.filter(|_| inbound),
        state: r.7,
        created_at: r.8,
        responded_at: r.9,
        first_contact_at: r.10,
        closed_at: r.11,
        encounters: if inbound { r.12 } else { 0 },
    })
}
