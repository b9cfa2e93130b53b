//! Remembers each call's unique id until the call expires, so a captured call cannot be sent
//! again.

use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct ReplayCache {
    seen: Mutex<HashMap<String, i64>>,
}

impl ReplayCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `jti` until `expires_at` (unix seconds); false if it was seen and has not expired.
    pub fn first_use(&self, jti: &str, expires_at: i64, now: i64) -> bool {
        let Ok(mut seen) = self.seen.lock() else {
            return false;
        };
        // Forget what has expired, so the cache holds at most a minute or two of calls.
        seen.retain(|_, exp| *exp >= now);
        if seen.contains_key(jti) {
            return false;
        }
        seen.insert(jti.to_owned(), expires_at);
        true
    }

    pub fn len(&self) -> usize {
        self.seen.lock().map(|s| s.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
