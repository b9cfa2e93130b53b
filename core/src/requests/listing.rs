//! Reading requests: one as the caller may see it, the lists by scope (the coordinator's queue
//! in pressing order), and the k-suppressed counts.

use diesel::prelude::*;
use uuid::Uuid;

use crate::access::{Operation, Principal, authorize};
use crate::audit;
use crate::db::{Db, DbConnection, Id};
use crate::error::CoreError;
use crate::metrics::suppression::SuppressionK;
use crate::metrics::suppression::{self, Cell};
use crate::schema::{events, peer_supporters, people, support_requests};
use crate::vocab::{EventCategory, PeerOrigin, RequestState, Urgency};

use super::view::{Lookups, RequestView, audience, view, view_with};
use super::{Row, SupportRequest, load, state};

/// One request, as the caller may see it. The read is audited.
pub async fn get(db: &Db, who: &Principal, id: Uuid) -> Result<RequestView, CoreError> {
    who.require_user()?;
    let who = who.clone();
    let reader = who.clone();
    let view = db
        .read_transaction(move |conn| {
            let req = load(conn, id)?;
            let aud = audience(conn, &reader, &req)?;
            view(conn, aud, &req)
        })
        .await?;
    audit::log_reads(db, &who, "support_request", vec![id]).await?;
    Ok(view)
}

/// Which requests a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The caller's own requests.
    Mine,
    /// Requests assigned to or offered to the caller as a supporter.
    Supporting,
    /// The coordinator's queue (never outside-only requests).
    Queue,
    /// The queue's requests that still need someone (not ended): see [`queue::waiting`].
    Waiting,
}

pub async fn list(
    db: &Db,
    who: &Principal,
    scope: Scope,
    state: Option<RequestState>,
) -> Result<Vec<RequestView>, CoreError> {
    list_narrowed(db, who, scope, Narrow::listed(state)).await
}

/// How a list narrows and orders beyond its scope, in the database, so a page of a long queue
/// is the right page.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Narrow {
    pub state: Option<RequestState>,
    pub urgency: Option<Urgency>,
    pub program: Option<Uuid>,
    /// The queue's order (a clock run out first, then the most urgent, then who has waited
    /// longest) rather than the newest first.
    pub pressing: bool,
    pub offset: i64,
    pub limit: i64,
}

impl Narrow {
    /// A whole list (`list`): up to 200, the newest first.
    fn listed(state: Option<RequestState>) -> Self {
        Self {
            state,
            limit: 200,
            ..Self::default()
        }
    }
}

/// `CASE` ranks for the queue's order, on both backends.
fn pressing_order() -> (String, String) {
    // Named with their table: the list joins others that have columns of their own.
    let breached = "CASE WHEN support_requests.ack_breached_at IS NOT NULL \
                    OR support_requests.contact_breached_at IS NOT NULL THEN 0 ELSE 1 END"
        .to_owned();
    let mut urgency = String::from("CASE support_requests.urgency");
    for (rank, u) in Urgency::ALL.iter().rev().enumerate() {
        urgency.push_str(&format!(" WHEN '{}' THEN {rank}", u.as_str()));
    }
    urgency.push_str(" ELSE 99 END");
    (breached, urgency)
}

pub(crate) async fn list_narrowed(
    db: &Db,
    who: &Principal,
    scope: Scope,
    narrow: Narrow,
) -> Result<Vec<RequestView>, CoreError> {
    let who = who.clone();
    let user = who.require_user()?.clone();
    match scope {
        Scope::Mine => authorize(&who, Operation::RequestSupport)?,
        Scope::Supporting => authorize(&who, Operation::SupportPeers)?,
        Scope::Queue | Scope::Waiting => authorize(&who, Operation::CoordinateRequests)?,
    }
    // Read in a snapshot without the write lock, then log the reads in a short write; nothing
    // is returned unless the log entries are written.
    let reader = who.clone();
    let (out, read) = db
        .read_transaction(move |conn| {
            let who = reader;
            let rows = listed(conn, scope, user.person_id, &narrow)?;
            let mut out = Vec::with_capacity(rows.len());
            let mut read = Vec::with_capacity(rows.len());
            let mut lookups = Lookups::default();
            for (row, supporter, category) in rows {
                let req = SupportRequest::from(row);
                if let Some(s) = req.supporter_id {
                    lookups.know_supporter(s, supporter);
                }
                if let Some(e) = req.event_id {
                    lookups.know_event(e, category);
                }
                let aud = audience(conn, &who, &req)?;
                read.push(req.id);
                out.push(view_with(conn, aud, &req, &mut lookups)?);
            }
            Ok((out, read))
        })
        .await?;
    audit::log_reads(db, &who, "support_request", read).await?;
    Ok(out)
}

/// A list's row: the request, its supporter's person id and name, its event's category.
type Listed = (Row, Option<(Uuid, String)>, Option<EventCategory>);

/// The rows of the list of `scope` as `person` sees it, narrowed and ordered by `narrow`: none
/// in a supporter's scope for a person who is no supporter.
fn listed(
    conn: &mut DbConnection,
    scope: Scope,
    person: Uuid,
    narrow: &Narrow,
) -> Result<Vec<Listed>, CoreError> {
    // The supporter's name and the event's category come with each row: the views
    // would otherwise read them once for every supporter and event the list names.
    macro_rules! with_names {
        () => {
            support_requests::table
                .left_join(
                    peer_supporters::table
                        .on(support_requests::supporter_id.eq(peer_supporters::id.nullable())),
                )
                .left_join(people::table.on(people::id.eq(peer_supporters::person_id)))
                .left_join(events::table)
                .select((
                    support_requests::all_columns,
                    (people::id, people::display_name).nullable(),
                    events::category.nullable(),
                ))
        };
    }
    if scope == Scope::Mine
        && narrow.state.is_none()
        && narrow.urgency.is_none()
        && narrow.program.is_none()
        && !narrow.pressing
    {
        // A person's own requests, as "my requests" reads them at every visit: one statement
        // of fixed shape, run on the connection's own backend, whose SQL text is written once
        // (a boxed statement's is written three times a run through the multi-backend
        // connection: docs/performance.md).
        let query = with_names!()
            .filter(support_requests::requester_id.eq(Id(person)))
            .order(support_requests::id.desc())
            .offset(narrow.offset.max(0))
            .limit(narrow.limit.clamp(1, 500));
        return Ok(crate::db::on_backend!(conn, |c| query.load::<Listed>(c))?);
    }
    let mut q = with_names!().into_boxed();
    match scope {
        Scope::Mine => q = q.filter(support_requests::requester_id.eq(Id(person))),
        Scope::Supporting => {
            let Some(me) = crate::supporters::load_for_person(conn, person)? else {
                return Ok(Vec::new());
            };
            q = q.filter(
                support_requests::supporter_id
                    .eq(Id(me.id))
                    .or(support_requests::offered_to
                        .eq(Id(me.id))
                        .and(support_requests::state.eq(RequestState::Offered))),
            );
        }
        Scope::Queue => {
            q = q.filter(support_requests::peer_origin.ne(PeerOrigin::OutsideInstitutionOnly))
        }
        Scope::Waiting => {
            let active: Vec<RequestState> = RequestState::ALL
                .iter()
                .copied()
                .filter(|s| state::is_active(*s))
                .collect();
            q = q
                .filter(support_requests::peer_origin.ne(PeerOrigin::OutsideInstitutionOnly))
                .filter(support_requests::state.eq_any(active))
        }
    }
    if let Some(s) = narrow.state {
        q = q.filter(support_requests::state.eq(s));
    }
    if let Some(u) = narrow.urgency {
        q = q.filter(support_requests::urgency.eq(u));
    }
    if let Some(p) = narrow.program {
        q = q.filter(support_requests::program_id.eq(Id(p)));
    }
    q = if narrow.pressing {
        use diesel::dsl::sql;
        use diesel::sql_types::Integer;
        let (breached, urgency) = pressing_order();
        q.order(sql::<Integer>(&breached))
            .then_order_by(sql::<Integer>(&urgency))
            .then_order_by(support_requests::created_at.asc())
            .then_order_by(support_requests::id.asc())
    } else {
        q.order(support_requests::id.desc())
    };
    Ok(q.offset(narrow.offset.max(0))
        .limit(narrow.limit.clamp(1, 500))
        .load::<Listed>(conn)?)
}

/// Warm-up (`db::warm`): the list of a person's own requests, as `list` reads it.
pub(crate) fn warm_mine(conn: &mut DbConnection) -> Result<(), CoreError> {
    listed(conn, Scope::Mine, Uuid::nil(), &Narrow::listed(None)).map(drop)
}

/// Requests as counts, suppressed like every aggregate (a count from 1 to k−1 is not shown, nor
/// whatever would give it away): `by_state` covers the requests coordinators may see in the
/// queue, `outside_only` those for a peer outside the institution, which local coordinators
/// see only as this count. Unsuppressed, watching them move would single out one request (the
/// outside-only count going from 3 to 4 just after an event) — coordinators have the queue
/// for the exact work in front of them.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub by_state: Vec<(RequestState, Cell)>,
    pub outside_only: Cell,
}

pub async fn counts(db: &Db, who: &Principal, k: SuppressionK) -> Result<Counts, CoreError> {
    if authorize(who, Operation::CoordinateRequests).is_err() {
        authorize(who, Operation::ViewAggregates)?;
    }
    db.run(move |conn| {
        // Counted in the database: one row per state and origin, however many requests.
        let rows: Vec<(String, String, i64)> = support_requests::table
            .group_by((support_requests::state, support_requests::peer_origin))
            .select((
                support_requests::state,
                support_requests::peer_origin,
                diesel::dsl::count_star(),
            ))
            .load(conn)?;
        let outside = |o: &str| o == PeerOrigin::OutsideInstitutionOnly.as_str();
        let counts: Vec<u64> = RequestState::ALL
            .iter()
            .map(|s| {
                rows.iter()
                    .filter(|(st, o, _)| st == s.as_str() && !outside(o))
                    .map(|(_, _, n)| u64::try_from(*n).unwrap_or(0))
                    .sum()
            })
            .collect();
        let table = suppression::suppress(
            vec!["requests".into()],
            RequestState::ALL
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            &[counts],
            k,
        );
        let cells = table.cells.into_iter().next().unwrap_or_default();
        Ok(Counts {
            by_state: RequestState::ALL.iter().copied().zip(cells).collect(),
            outside_only: suppression::single(
                rows.iter()
                    .filter(|(_, o, _)| outside(o))
                    .map(|(_, _, n)| u64::try_from(*n).unwrap_or(0))
                    .sum(),
                k,
            ),
        })
    })
    .await
}
