//! Signed node-to-node calls. The caller signs a short-lived EdDSA JWT naming itself (`iss`), the
//! node it calls (`aud`), the method, the path and the SHA-256 of the body, with a unique id. The
//! receiver checks, in this order: that it is the audience (before touching any key), the token's
//! type, that the key is known, the signature, the lifetime and clock skew, the method, path and
//! body, and finally that the id was never used before.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use alongside_core::tokens::NodeKey;

use crate::replay::ReplayCache;

/// The JWT `typ` of a node-to-node call.
pub const CALL_TYP: &str = "alongside-call+jwt";
/// The longest lifetime a call may declare.
pub const MAX_LIFETIME_SECS: i64 = 60;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallClaims {
    /// The calling node's id.
    pub iss: String,
    /// The receiving node's id.
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// Unique per call, for the replay cache.
    pub jti: String,
    /// HTTP method.
    pub htm: String,
    /// Request path (with query).
    pub htu: String,
    /// Hex SHA-256 of the request body.
    pub bsh: String,
}

/// Why a call was refused. Each has a stable code for the answer and the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("the call token is malformed")]
    Malformed,
    #[error("the call is addressed to another node")]
    WrongAudience,
    #[error("the token is not a node-to-node call")]
    WrongType,
    #[error("the calling node's key is not known")]
    UnknownKey,
    #[error("the call's signature does not verify")]
    BadSignature,
    #[error("the call has expired or is not valid yet")]
    Expired,
    #[error("the call declares a lifetime over {MAX_LIFETIME_SECS} s")]
    TooLong,
    #[error("the call expires before it was issued (exp before iat)")]
    EndsBeforeIssued,
    #[error("the call was signed for another method, path or body")]
    Mismatch,
    #[error("the call was already used")]
    Replayed,
    #[error("the calling node is not an active member of this federation")]
    NotMember,
}

impl CallError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed => "CALL_MALFORMED",
            Self::WrongAudience => "CALL_WRONG_AUDIENCE",
            Self::WrongType => "CALL_WRONG_TYPE",
            Self::UnknownKey => "CALL_UNKNOWN_KEY",
            Self::BadSignature => "CALL_BAD_SIGNATURE",
            Self::Expired => "CALL_EXPIRED",
            Self::TooLong => "CALL_TOO_LONG",
            Self::EndsBeforeIssued => "CALL_ENDS_BEFORE_ISSUED",
            Self::Mismatch => "CALL_MISMATCH",
            Self::Replayed => "CALL_REPLAYED",
            Self::NotMember => "CALL_NOT_MEMBER",
        }
    }
}

/// The HTTP request a call token is bound to.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// Path with query.
    pub path: &'a str,
    pub body: &'a [u8],
}

pub fn body_hash(body: &[u8]) -> String {
    Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Signs a call from `from` to `to`.
pub fn sign_call(
    key: &NodeKey,
    from: &str,
    to: &str,
    req: Request<'_>,
    now: i64,
    lifetime: i64,
) -> Result<String, alongside_core::CoreError> {
    let claims = CallClaims {
        iss: from.into(),
        aud: to.into(),
        iat: now,
        exp: now + lifetime.clamp(1, MAX_LIFETIME_SECS),
        jti: uuid::Uuid::new_v4().to_string(),
        htm: req.method.to_uppercase(),
        htu: req.path.into(),
        bsh: body_hash(req.body),
    };
    key.sign(CALL_TYP, &claims)
}

/// Finds a node's public key (32 raw Ed25519 bytes) by issuer and key id — from the membership
/// manifest, or the node's descriptor fetched once.
pub trait KeyLookup {
    fn key(&self, issuer: &str, kid: &str) -> Option<[u8; 32]>;
}

/// The verified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub node_id: String,
    pub call_id: String,
    /// Until when (unix seconds, clock skew included) the call could be presented again: how
    /// long its id must be remembered.
    pub replayable_until: i64,
}

/// Reads a call's claims without verifying them and refuses it unless it is addressed to `me`:
/// a call meant for another node is refused before any key is looked up or signature checked.
pub fn addressed_to(token: &str, me: &str) -> Result<CallClaims, CallError> {
    let payload = token.split('.').nth(1).ok_or(CallError::Malformed)?;
    let raw = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| CallError::Malformed)?;
    let unverified: CallClaims = serde_json::from_slice(&raw).map_err(|_| CallError::Malformed)?;
    if unverified.aud != me {
        return Err(CallError::WrongAudience);
    }
    Ok(unverified)
}

/// Verifies a call addressed to `me`. `skew` is the clock tolerance in seconds.
pub fn verify_call(
    token: &str,
    me: &str,
    req: Request<'_>,
    keys: &impl KeyLookup,
    replay: &ReplayCache,
    now: i64,
    skew: i64,
) -> Result<Caller, CallError> {
    let unverified = addressed_to(token, me)?;
    let header = jsonwebtoken::decode_header(token).map_err(|_| CallError::Malformed)?;
    if header.typ.as_deref() != Some(CALL_TYP) || header.alg != Algorithm::EdDSA {
        return Err(CallError::WrongType);
    }
    let kid = header.kid.ok_or(CallError::UnknownKey)?;
    let public = keys
        .key(&unverified.iss, &kid)
        .ok_or(CallError::UnknownKey)?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&[me]);
    validation.set_required_spec_claims(&["exp", "aud", "iss"]);
    // Lifetime is checked below against our own clock and skew.
    validation.validate_exp = false;
    let data =
        jsonwebtoken::decode::<CallClaims>(token, &DecodingKey::from_ed_der(&public), &validation)
            .map_err(|_| CallError::BadSignature)?;
    let c = data.claims;
    if c.exp < c.iat {
        return Err(CallError::EndsBeforeIssued);
    }
    if c.exp - c.iat > MAX_LIFETIME_SECS {
        return Err(CallError::TooLong);
    }
    if now > c.exp + skew || now + skew < c.iat {
        return Err(CallError::Expired);
    }
    if c.htm != req.method.to_uppercase() || c.htu != req.path || c.bsh != body_hash(req.body) {
        return Err(CallError::Mismatch);
    }
    if !replay.first_use(&c.jti, c.exp + skew, now) {
        return Err(CallError::Replayed);
    }
    Ok(Caller {
        node_id: c.iss,
        call_id: c.jti,
        replayable_until: c.exp + skew,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Keys(HashMap<(String, String), [u8; 32]>);

    impl KeyLookup for Keys {
        fn key(&self, issuer: &str, kid: &str) -> Option<[u8; 32]> {
            self.0.get(&(issuer.to_owned(), kid.to_owned())).copied()
        }
    }

    fn setup() -> (NodeKey, Keys) {
        let key = NodeKey::generate().unwrap();
        let keys = Keys(HashMap::from([(
            ("a.example.org".to_owned(), key.kid().to_owned()),
            key.public_key_bytes(),
        )]));
        (key, keys)
    }

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn a_signed_call_verifies_once() {
        let (key, keys) = setup();
        let replay = ReplayCache::new();
        let req = Request {
            method: "POST",
            path: "/federation/match",
            body: b"{}",
        };
        let token = sign_call(
            &key,
            "a.example.org",
            "b.example.org",
            Request {
                method: "post",
                ..req
            },
            NOW,
            30,
        )
        .unwrap();
        let caller =
            verify_call(&token, "b.example.org", req, &keys, &replay, NOW + 1, 300).unwrap();
        assert_eq!(caller.node_id, "a.example.org");
        assert_eq!(
            verify_call(&token, "b.example.org", req, &keys, &replay, NOW + 2, 300),
            Err(CallError::Replayed)
        );
    }

    #[test]
    fn every_check_refuses_with_its_own_code() {
        let (key, keys) = setup();
        let other = NodeKey::generate().unwrap();
        let sign = |k: &NodeKey, lifetime| {
            let req = Request {
                method: "POST",
                path: "/p",
                body: b"body",
            };
            sign_call(k, "a.example.org", "b.example.org", req, NOW, lifetime).unwrap()
        };
        let verify = |t: &str, me: &str, path: &str, body: &[u8], now: i64| {
            let req = Request {
                method: "POST",
                path,
                body,
            };
            verify_call(t, me, req, &keys, &ReplayCache::new(), now, 300)
        };
        let good = sign(&key, 30);
        assert_eq!(
            verify(&good, "c.example.org", "/p", b"body", NOW),
            Err(CallError::WrongAudience)
        );
        assert_eq!(
            verify(&good, "b.example.org", "/other", b"body", NOW),
            Err(CallError::Mismatch)
        );
        assert_eq!(
            verify(&good, "b.example.org", "/p", b"tampered", NOW),
            Err(CallError::Mismatch)
        );
        assert_eq!(
            verify(&good, "b.example.org", "/p", b"body", NOW + 1000),
            Err(CallError::Expired)
        );
        assert_eq!(
            verify(&sign(&other, 30), "b.example.org", "/p", b"body", NOW),
            Err(CallError::UnknownKey)
        );
        assert_eq!(
            verify("x.y.z", "b.example.org", "/p", b"body", NOW),
            Err(CallError::Malformed)
        );
        // An access token of the same node is not a call.
        let access = key.sign("JWT", &serde_json::json!({ "aud": "b.example.org", "iss": "a.example.org", "exp": NOW + 30, "iat": NOW, "jti": "x", "htm": "POST", "htu": "/p", "bsh": body_hash(b"body") })).unwrap();
        assert_eq!(
            verify(&access, "b.example.org", "/p", b"body", NOW),
            Err(CallError::WrongType)
        );
        // One that ends before it begins is named as such, not as too long.
        let backwards = key.sign(CALL_TYP, &serde_json::json!({ "aud": "b.example.org", "iss": "a.example.org", "exp": NOW - 5, "iat": NOW, "jti": "y", "htm": "POST", "htu": "/p", "bsh": body_hash(b"body") })).unwrap();
        assert_eq!(
            verify(&backwards, "b.example.org", "/p", b"body", NOW),
            Err(CallError::EndsBeforeIssued)
        );
        // A forged key under a known kid.
        let forged = {
            let mut parts: Vec<String> = sign(&other, 30).split('.').map(str::to_owned).collect();
            parts[0] = good.split('.').next().unwrap().to_owned();
            parts.join(".")
        };
        assert_eq!(
            verify(&forged, "b.example.org", "/p", b"body", NOW),
            Err(CallError::BadSignature)
        );
        assert!(verify(&good, "b.example.org", "/p", b"body", NOW).is_ok());
    }

    #[test]
    fn the_replay_cache_forgets_expired_calls() {
        let cache = ReplayCache::new();
        assert!(cache.first_use("a", NOW + 10, NOW));
        assert!(!cache.first_use("a", NOW + 10, NOW + 5));
        assert!(cache.first_use("b", NOW + 100, NOW + 50));
        assert_eq!(cache.len(), 1, "a expired and was forgotten");
    }
}
