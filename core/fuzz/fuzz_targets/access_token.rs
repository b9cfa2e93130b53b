//! Bearer tokens as the API receives them: verification never panics and accepts nothing the
//! node did not sign.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use alongside_core::tokens::{NodeKey, TokenService, TokenSettings};
use libfuzzer_sys::fuzz_target;

fn service() -> Option<&'static TokenService> {
    static SERVICE: OnceLock<Option<TokenService>> = OnceLock::new();
    SERVICE
        .get_or_init(|| {
            TokenService::new(
                NodeKey::generate().ok()?,
                TokenSettings {
                    issuer: "https://node.example.org".into(),
                    audience: "alongside".into(),
                    access_ttl: Duration::from_secs(60),
                    refresh_ttl: Duration::from_secs(60),
                },
            )
            .ok()
        })
        .as_ref()
}

fuzz_target!(|data: &[u8]| {
    if let (Ok(token), Some(s)) = (std::str::from_utf8(data), service()) {
        assert!(s.verify(token).is_err());
    }
});
