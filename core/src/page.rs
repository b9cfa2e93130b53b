//! Keyset pagination by id (UUIDv7, so creation order), behind Relay connections.

use uuid::Uuid;

use crate::error::CoreError;

pub const DEFAULT_PAGE_SIZE: usize = 20;
pub const MAX_PAGE_SIZE: usize = 100;

#[derive(Debug, Clone, Copy, Default)]
pub struct PageRequest {
    pub after: Option<Uuid>,
    pub before: Option<Uuid>,
    pub first: Option<usize>,
    pub last: Option<usize>,
}

/// A validated request: which direction to walk and how many to take.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PagePlan {
    pub after: Option<Uuid>,
    pub before: Option<Uuid>,
    pub limit: usize,
    pub backward: bool,
}

impl PageRequest {
    pub(crate) fn plan(self) -> Result<PagePlan, CoreError> {
        for (name, value) in [("first", self.first), ("last", self.last)] {
            if let Some(n) = value
                && n > MAX_PAGE_SIZE
            {
                return Err(CoreError::LimitExceeded(format!(
                    "{name} is {n}; at most {MAX_PAGE_SIZE} items per page"
                )));
            }
        }
        if self.first.is_some() && self.last.is_some() {
            return Err(CoreError::bad_input(
                "first",
                "give first or last, not both",
            ));
        }
        let backward = self.last.is_some();
        let limit = self.first.or(self.last).unwrap_or(DEFAULT_PAGE_SIZE);
        Ok(PagePlan {
            after: self.after,
            before: self.before,
            limit,
            backward,
        })
    }
}

impl PagePlan {
    /// The ids a page lies strictly between: the cursors, else the smallest and largest ids.
    pub(crate) fn bounds(&self) -> (Uuid, Uuid) {
        (
            self.after.unwrap_or(Uuid::nil()),
            self.before.unwrap_or(Uuid::max()),
        )
    }

    /// Its size when it asks for the first page, forward and with no cursor: the page most
    /// readers ask for, worth remembering by its size (`db::memo::remembered_by`). Any other
    /// page is read each time (cursors would make the keys many).
    pub(crate) fn first_page(&self) -> Option<usize> {
        (self.after.is_none() && self.before.is_none() && !self.backward).then_some(self.limit)
    }
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
}

impl<T> Page<T> {
    /// Builds a page from rows fetched with `limit + 1` in the walking direction.
    pub(crate) fn from_rows(mut rows: Vec<T>, plan: PagePlan) -> Self {
        let more = rows.len() > plan.limit;
        rows.truncate(plan.limit);
        if plan.backward {
            rows.reverse();
            Page {
                items: rows,
                has_next_page: plan.before.is_some(),
                has_previous_page: more,
            }
        } else {
            Page {
                items: rows,
                has_next_page: more,
                has_previous_page: plan.after.is_some(),
            }
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            has_next_page: self.has_next_page,
            has_previous_page: self.has_previous_page,
        }
    }
}

/// Applies a page plan to a boxed diesel query over a text `id` column.
macro_rules! paginate {
    ($query:expr, $id:expr, $plan:expr) => {{
        let plan = $plan;
        let mut q = $query;
        if let Some(after) = plan.after {
            q = q.filter($id.gt($crate::db::Id(after)));
        }
        if let Some(before) = plan.before {
            q = q.filter($id.lt($crate::db::Id(before)));
        }
        let q = if plan.backward {
            q.order($id.desc())
        } else {
            q.order($id.asc())
        };
        q.limit((plan.limit + 1) as i64)
    }};
}
pub(crate) use paginate;

/// Like [`paginate!`], for a page read often: both bounds are always in the query (the smallest
/// and largest ids when no cursor is given), so its SQL is one of two texts and diesel keeps it
/// prepared, where a boxed query is parsed and planned on every call. `$load` runs with `$q`,
/// the query ordered and limited, in scope.
macro_rules! keyset {
    ($query:expr, $id:expr, $plan:expr, |$q:ident| $load:expr) => {{
        let plan = $plan;
        let (low, high) = plan.bounds();
        let limit = (plan.limit + 1) as i64;
        let $q = $query
            .filter($id.gt($crate::db::Id(low)))
            .filter($id.lt($crate::db::Id(high)));
        if plan.backward {
            let $q = $q.order($id.desc()).limit(limit);
            $load
        } else {
            let $q = $q.order($id.asc()).limit(limit);
            $load
        }
    }};
}
pub(crate) use keyset;
