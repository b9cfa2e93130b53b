//! An inbound call's token and body: verification never panics, and nothing but a call signed
//! by the known key verifies.
#![no_main]

use std::sync::OnceLock;

use alongside_core::tokens::NodeKey;
use alongside_federation::{KeyLookup, ReplayCache, Request, verify_call};
use libfuzzer_sys::fuzz_target;

struct Known([u8; 32]);

impl KeyLookup for Known {
    fn key(&self, _issuer: &str, _kid: &str) -> Option<[u8; 32]> {
        Some(self.0)
    }
}

fn known() -> &'static Known {
    static KEY: OnceLock<Known> = OnceLock::new();
    KEY.get_or_init(|| Known(NodeKey::generate().map(|k| k.public_key_bytes()).unwrap_or([0; 32])))
}

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let (token, body) = data.split_at(split);
    let Ok(token) = std::str::from_utf8(token) else {
        return;
    };
    let cache = ReplayCache::new();
    let req = Request {
        method: "POST",
        path: "/federation/v1/match",
        body,
    };
    // No fuzzer can sign with the generated key: every input must be refused, without a panic.
    assert!(verify_call(token, "b.example.org", req, known(), &cache, 1_800_000_000, 300).is_err());
});
