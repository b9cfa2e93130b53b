//! The coordinator's queue: the requests that still need someone, the most pressing first.

use std::cmp::Reverse;

use chrono::NaiveDateTime;

use super::{Narrow, RequestView, Scope, list_narrowed};
use crate::access::Principal;
use crate::db::Db;
use crate::error::CoreError;
use crate::vocab::{RequestState, Urgency};

/// Requests on one page of the queue.
pub const PAGE: usize = 50;

/// What the coordinator narrowed the queue to, and which page of it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter {
    pub state: Option<RequestState>,
    pub urgency: Option<Urgency>,
    /// Only requests in this program.
    pub program: Option<uuid::Uuid>,
    /// 0 for the most pressing [`PAGE`], 1 for the next, ….
    pub page: u32,
}

/// One page of the queue, and whether there is another after it.
#[derive(Debug, Clone)]
pub struct Waiting {
    pub requests: Vec<RequestView>,
    pub more: bool,
}

/// The queue as far as each requester allowed (outside-only requests are never in it; they are
/// counted in [`super::counts`]), the most pressing first: ordered and paged in the database,
/// so a request waiting longest is on the first page however long the queue. Ended requests
/// show only when their state is asked for.
pub async fn waiting(db: &Db, who: &Principal, filter: Filter) -> Result<Waiting, CoreError> {
    let scope = if filter.state.is_some() {
        Scope::Queue
    } else {
        Scope::Waiting
    };
    let page = PAGE as i64;
    let mut requests = list_narrowed(
        db,
        who,
        scope,
        Narrow {
            state: filter.state,
            urgency: filter.urgency,
            program: filter.program,
            pressing: true,
            offset: i64::from(filter.page) * page,
            limit: page + 1,
        },
    )
    .await?;
    let more = requests.len() > PAGE;
    requests.truncate(PAGE);
    debug_assert!(requests.is_sorted_by_key(pressing));
    Ok(Waiting { requests, more })
}

/// Whether one of the request's clocks has run out.
pub fn breached(r: &RequestView) -> bool {
    r.ack_breached || r.contact_breached
}

/// The queue's order: breaches on top, then the most urgent, then whoever has waited longest.
fn pressing(r: &RequestView) -> (Reverse<bool>, Reverse<usize>, NaiveDateTime) {
    let urgency = Urgency::ALL
        .iter()
        .position(|u| *u == r.urgency)
        .unwrap_or(0);
    (Reverse(breached(r)), Reverse(urgency), r.created_at)
}
