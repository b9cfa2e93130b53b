//! Recent answers read from the database, per id, kept by one process for [`FRESH_FOR`]: for
//! what nearly every request asks and hardly ever changes (whether an access token still
//! stands, a person's language). A change made through this process forgets its entry once it
//! has committed, so it holds here at once and on other replicas of the same database within
//! [`FRESH_FOR`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use uuid::Uuid;

/// How long a replica may answer from its memory after another replica changed the value.
pub const FRESH_FOR: Duration = Duration::from_secs(2);

/// Entries kept at most; when full, stale ones go, then all.
const CAPACITY: usize = 16_384;

/// This process's recent answers, per id.
#[derive(Debug)]
pub struct Recent<V> {
    entries: Mutex<HashMap<Uuid, (V, Instant)>>,
    /// Moves on at every `forget`: an answer read from the database before a change committed
    /// is not kept after it (it would say the old value for `FRESH_FOR`).
    changes: AtomicU64,
}

impl<V> Default for Recent<V> {
    fn default() -> Self {
        Self {
            entries: Mutex::default(),
            changes: AtomicU64::default(),
        }
    }
}

impl<V: Clone> Recent<V> {
    /// The answer for `id`, if read less than [`FRESH_FOR`] before `now`.
    pub(crate) fn get(&self, id: Uuid, now: Instant) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.get(&id) {
            Some((value, at)) if now.duration_since(*at) < FRESH_FOR => Some(value.clone()),
            _ => None,
        }
    }

    /// What to pass to [`Recent::put`]: taken before reading the database.
    pub(crate) fn changes_seen(&self) -> u64 {
        self.changes.load(Ordering::SeqCst)
    }

    /// Keeps `value`, read at `now`, unless something was forgotten since `changes_seen`.
    pub(crate) fn put(&self, id: Uuid, value: V, now: Instant, changes_seen: u64) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if self.changes.load(Ordering::SeqCst) != changes_seen {
            return;
        }
        if entries.len() >= CAPACITY && !entries.contains_key(&id) {
            entries.retain(|_, (_, at)| now.duration_since(*at) < FRESH_FOR);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(id, (value, now));
    }

    /// Forgets `id`'s answer: called after a change to it has committed.
    pub(crate) fn forget(&self, id: Uuid) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        self.changes.fetch_add(1, Ordering::SeqCst);
        entries.remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_kept_only_while_fresh_and_until_forgotten() {
        let cache = Recent::<(i32, bool)>::default();
        let (a, t0) = (Uuid::from_u128(1), Instant::now());
        let s = (2, false);
        cache.put(a, s, t0, 0);
        assert_eq!(cache.get(a, t0 + FRESH_FOR / 2), Some(s));
        assert_eq!(cache.get(a, t0 + FRESH_FOR), None);
        cache.forget(a);
        assert_eq!(cache.get(a, t0), None);
        // Read before the change, stored after it: not kept.
        cache.put(a, s, t0, 0);
        assert_eq!(cache.get(a, t0), None);
        cache.put(a, s, t0, 1);
        assert_eq!(cache.get(a, t0), Some(s));
    }
}
