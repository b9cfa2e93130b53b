//! The coordinator's queue: the requests that still need someone, the most pressing first.

use std::cmp::Reverse;

use chrono::NaiveDateTime;

use super::{RequestView, Scope, list};
use crate::access::Principal;
use crate::db::Db;
use crate::error::CoreError;
use crate::vocab::{RequestState, Urgency};

/// What the coordinator narrowed the queue to.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter {
    pub state: Option<RequestState>,
    pub urgency: Option<Urgency>,
    /// Only requests in this program.
    pub program: Option<uuid::Uuid>,
}

/// The queue as far as each requester allowed (outside-only requests are never in it; they are
/// counted in [`super::counts`]). Ended requests show only when their state is asked for.
pub async fn waiting(
    db: &Db,
    who: &Principal,
    filter: Filter,
) -> Result<Vec<RequestView>, CoreError> {
    let scope = if filter.state.is_some() {
        Scope::Queue
    } else {
        Scope::Waiting
    };
    let mut requests = list(db, who, scope, filter.state).await?;
    if let Some(u) = filter.urgency {
        requests.retain(|r| r.urgency == u);
    }
    if let Some(p) = filter.program {
        requests.retain(|r| r.program_id == Some(p));
    }
    requests.sort_by_key(pressing);
    Ok(requests)
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
