//! A manifest as fetched from a steward: verification never panics and never accepts a
//! document the pinned key did not sign.
#![no_main]

use std::sync::OnceLock;

use alongside_core::tokens::NodeKey;
use alongside_federation::descriptor::PublicKey;
use alongside_federation::manifest;
use libfuzzer_sys::fuzz_target;

fn pinned() -> &'static Vec<PublicKey> {
    static KEYS: OnceLock<Vec<PublicKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        NodeKey::generate()
            .map(|k| vec![PublicKey::current(&k)])
            .unwrap_or_default()
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = std::str::from_utf8(data) {
        assert!(manifest::verify(token, "steward.example.org", pinned(), Some(3), 1_800_000_000).is_err());
    }
});
