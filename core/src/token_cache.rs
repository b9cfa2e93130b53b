//! Access tokens this node has already verified, so a partner app's every request does not pay
//! for an Ed25519 signature check again (about 8% of the node's CPU under load, measured).
//!
//! Entries are keyed by the SHA-256 digest of the whole token, so only the very same bytes
//! hit; a token changed in any way is verified in full. Only successes are kept, each until
//! the token's `exp` (without the verifier's clock leeway: past `exp` the full check decides)
//! or, for a token signed by a retired key, the key's expiry if that is sooner. Verification
//! reads nothing else that can change while the node runs (keys are fixed at start), so an
//! entry can never say yes where the full check would say no. The digests are not secrets
//! worth stealing, but the map stays in memory only and is bounded.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use sha2::{Digest, Sha256};

/// Entries kept at most; one per live access token in use, so this covers many thousands of
/// people signed in at once. When full, expired entries go, then all if none had.
pub const CAPACITY: usize = 16_384;

pub type TokenDigest = [u8; 32];

pub fn digest(token: &str) -> TokenDigest {
    Sha256::digest(token.as_bytes()).into()
}

/// What a verified token said (`T`), kept until its end.
#[derive(Debug)]
pub struct VerifiedTokens<T> {
    entries: Mutex<HashMap<TokenDigest, (T, u64)>>,
}

impl<T> Default for VerifiedTokens<T> {
    fn default() -> Self {
        Self {
            entries: Mutex::default(),
        }
    }
}

impl<T: Clone> VerifiedTokens<T> {
    /// Who the token speaks for, if it was verified before and `now` (Unix seconds) is before
    /// the entry's end.
    pub fn get(&self, digest: &TokenDigest, now: u64) -> Option<T> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.get(digest) {
            Some((verified, until)) if now < *until => Some(verified.clone()),
            _ => None,
        }
    }

    /// Remembers a verified token until `until` (Unix seconds).
    pub fn insert(&self, digest: TokenDigest, verified: T, until: u64, now: u64) {
        if now >= until {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CAPACITY && !entries.contains_key(&digest) {
            entries.retain(|_, (_, end)| now < *end);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(digest, (verified, until));
    }

    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Principal;

    fn client(n: usize) -> Principal {
        Principal::Client(crate::access::ClientPrincipal {
            client_id: format!("c{n}"),
            scopes: Default::default(),
        })
    }

    #[test]
    fn an_entry_answers_until_its_end_and_not_after() {
        let cache = VerifiedTokens::<Principal>::default();
        let d = digest("a.b.c");
        cache.insert(d, client(1), 100, 50);
        assert_eq!(cache.get(&d, 99), Some(client(1)));
        assert_eq!(cache.get(&d, 100), None);
        assert_eq!(cache.get(&digest("a.b.d"), 50), None);
    }

    #[test]
    fn an_already_ended_entry_is_not_kept() {
        let cache = VerifiedTokens::<Principal>::default();
        cache.insert(digest("x"), client(1), 10, 10);
        assert!(cache.is_empty());
    }

    #[test]
    fn a_full_cache_drops_ended_entries_first_then_everything() {
        let cache = VerifiedTokens::<Principal>::default();
        for n in 0..CAPACITY {
            // Half end at 20, half at 1,000.
            let until = if n % 2 == 0 { 20 } else { 1_000 };
            cache.insert(digest(&n.to_string()), client(n), until, 10);
        }
        assert_eq!(cache.len(), CAPACITY);
        cache.insert(digest("new"), client(0), 1_000, 30);
        assert_eq!(cache.len(), CAPACITY / 2 + 1);
        assert_eq!(cache.get(&digest("1"), 30), Some(client(1)));

        for n in 0..CAPACITY {
            cache.insert(digest(&format!("more {n}")), client(n), 1_000, 30);
        }
        assert!(cache.len() <= CAPACITY);
        assert_eq!(cache.get(&digest("more 0"), 30), None, "cleared when full");
    }
}
