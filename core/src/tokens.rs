//! The node's signing key and the access tokens it issues.
//!
//! Access tokens are EdDSA JWTs with a `kid`; verification pins the algorithm, the issuer and the
//! audience and requires `exp`, `iss`, `aud` and `sub`, so `alg: none`, another key, another
//! audience or an expired token are all refused.

use std::collections::BTreeSet;
use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access::{ClientPrincipal, Principal, Role, Scope, UserPrincipal};
use crate::error::CoreError;
use crate::keyring::RetiredKey;
use crate::token_cache::{self, VerifiedTokens};

pub use crate::node_key::{KEY_FILE, NodeKey};

#[derive(Debug, Clone)]
pub struct TokenSettings {
    /// `iss` of every token this node issues: its public URL.
    pub issuer: String,
    /// `aud` of access tokens meant for this node's APIs.
    pub audience: String,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum TokenKind {
    User,
    Client,
}

#[derive(Debug, Serialize, Deserialize)]
struct AccessClaims {
    iss: String,
    aud: String,
    sub: String,
    exp: u64,
    iat: u64,
    jti: String,
    typ: TokenKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    person: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    roles: Vec<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    /// The account's version when the token was issued (user tokens): removing a role,
    /// suspending the account or signing out everywhere moves the version on, and the token
    /// stops working at the next request. Absent in tokens from before versions: version 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ver: Option<i64>,
}

/// Who a verified access token speaks for, and for a person's token the account version it
/// was issued at (checked against the account's current one by `standing::check`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub principal: Principal,
    pub account_version: Option<i64>,
}

/// An issued access token and its lifetime in seconds.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: String,
    pub expires_in: u64,
}

pub struct TokenService {
    key: NodeKey,
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Keys rotated away from, still accepted and published until they expire.
    retired: Vec<(RetiredKey, DecodingKey)>,
    validation: Validation,
    settings: TokenSettings,
    /// Tokens verified before (see `token_cache`).
    verified: VerifiedTokens<Verified>,
}

impl std::fmt::Debug for TokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenService")
            .field("kid", &self.key.kid())
            .finish_non_exhaustive()
    }
}

impl TokenService {
    pub fn new(key: NodeKey, settings: TokenSettings) -> Result<Self, CoreError> {
        let encoding = key.encoding_key()?;
        let decoding = DecodingKey::from_ed_der(&key.public_key_bytes());
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // A token that says it is not valid yet is not (the node never issues one, but a
        // token made elsewhere with the key must not be honoured early).
        validation.validate_nbf = true;
        validation.leeway = 30;
        Ok(Self {
            key,
            encoding,
            decoding,
            retired: Vec::new(),
            validation,
            settings,
            verified: VerifiedTokens::default(),
        })
    }

    /// Also accepts and publishes these retired keys (until each one's expiry).
    pub fn with_retired(mut self, retired: Vec<RetiredKey>) -> Self {
        self.retired = retired
            .into_iter()
            .filter_map(|k| {
                let bytes = k.public_key_bytes()?;
                Some((k, DecodingKey::from_ed_der(&bytes)))
            })
            .collect();
        self
    }

    /// The retired keys still published.
    pub fn retired(&self) -> impl Iterator<Item = &RetiredKey> {
        let now = crate::time::now();
        self.retired
            .iter()
            .map(|(k, _)| k)
            .filter(move |k| k.expires_at > now)
    }

    pub fn settings(&self) -> &TokenSettings {
        &self.settings
    }

    pub fn key(&self) -> &NodeKey {
        &self.key
    }

    /// The JSON Web Key Set published at `/.well-known/jwks.json`.
    pub fn jwks(&self) -> serde_json::Value {
        let mut keys = vec![self.key.public_jwk()];
        keys.extend(self.retired().map(RetiredKey::public_jwk));
        serde_json::json!({ "keys": keys })
    }

    /// Whether a token names this node's key (so it is ours to verify, not an identity
    /// provider's).
    pub fn is_own_kid(&self, kid: Option<&str>) -> bool {
        kid == Some(self.key.kid()) || self.retired().any(|k| Some(k.kid.as_str()) == kid)
    }

    /// A person's access token, at their account's current `version`.
    pub fn issue_for_user(
        &self,
        user: &UserPrincipal,
        version: i64,
    ) -> Result<AccessToken, CoreError> {
        self.issue(
            user.account_id.to_string(),
            TokenKind::User,
            Some(user.person_id),
            user.roles.iter().copied().collect(),
            None,
            Some(version),
        )
    }

    pub fn issue_for_client(&self, client: &ClientPrincipal) -> Result<AccessToken, CoreError> {
        let scope = client
            .scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        self.issue(
            format!("client:{}", client.client_id),
            TokenKind::Client,
            None,
            vec![],
            Some(scope),
            None,
        )
    }

    fn issue(
        &self,
        sub: String,
        typ: TokenKind,
        person: Option<Uuid>,
        roles: Vec<Role>,
        scope: Option<String>,
        ver: Option<i64>,
    ) -> Result<AccessToken, CoreError> {
        let iat = jsonwebtoken::get_current_timestamp();
        let ttl = self.settings.access_ttl.as_secs();
        let claims = AccessClaims {
            iss: self.settings.issuer.clone(),
            aud: self.settings.audience.clone(),
            sub,
            exp: iat + ttl,
            iat,
            jti: Uuid::new_v4().to_string(),
            typ,
            person,
            roles,
            scope,
            ver,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.key.kid().to_owned());
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|e| CoreError::internal(format!("signing token: {e}")))?;
        Ok(AccessToken {
            token,
            expires_in: ttl,
        })
    }

    /// Who an access token speaks for, if this node verified the very same token before and it
    /// has not expired since; `None` means "verify it".
    pub fn verified_before(&self, token: &str) -> Option<Verified> {
        self.verified.get(
            &token_cache::digest(token),
            jsonwebtoken::get_current_timestamp(),
        )
    }

    /// Access tokens remembered as verified, for monitoring and tests.
    pub fn verified_count(&self) -> usize {
        self.verified.len()
    }

    /// Verifies one of this node's access tokens and returns who it speaks for.
    pub fn verify(&self, token: &str) -> Result<Verified, CoreError> {
        let digest = token_cache::digest(token);
        let now = jsonwebtoken::get_current_timestamp();
        if let Some(verified) = self.verified.get(&digest, now) {
            return Ok(verified);
        }
        let (verified, until) = self.verify_signature(token)?;
        self.verified.insert(digest, verified.clone(), until, now);
        Ok(verified)
    }

    /// The full check: signature, algorithm, claims. Returns the principal and until when
    /// (Unix seconds) that answer holds: the token's `exp`, or its retired key's expiry if sooner.
    fn verify_signature(&self, token: &str) -> Result<(Verified, u64), CoreError> {
        // Validate as a loose map first, so a missing claim is reported as such rather than as
        // a shape error; only then read our own claims.
        let kid = jsonwebtoken::decode_header(token)
            .map_err(|e| rejection(e.kind()))?
            .kid;
        let now = crate::time::now();
        let (decoding, key_until) = match self
            .retired
            .iter()
            .find(|(k, _)| Some(&k.kid) == kid.as_ref() && k.expires_at > now)
        {
            Some((k, d)) => (
                d,
                u64::try_from(k.expires_at.and_utc().timestamp()).unwrap_or(0),
            ),
            None => (&self.decoding, u64::MAX),
        };
        let data = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
            token,
            decoding,
            &self.validation,
        )
        .map_err(|e| rejection(e.kind()))?;
        let claims: AccessClaims =
            serde_json::from_value(serde_json::Value::Object(data.claims))
                .map_err(|_| CoreError::Unauthenticated("the access token is malformed".into()))?;
        let until = claims.exp.min(key_until);
        let account_version = match claims.typ {
            TokenKind::User => Some(claims.ver.unwrap_or(0)),
            TokenKind::Client => None,
        };
        let principal = match claims.typ {
            TokenKind::User => {
                let account_id = Uuid::parse_str(&claims.sub)
                    .map_err(|_| CoreError::Unauthenticated("token subject is malformed".into()))?;
                let person_id = claims
                    .person
                    .ok_or_else(|| CoreError::Unauthenticated("token has no person".into()))?;
                let mut roles: BTreeSet<Role> = claims.roles.into_iter().collect();
                roles.insert(Role::Member);
                Principal::User(UserPrincipal {
                    account_id,
                    person_id,
                    roles,
                })
            }
            TokenKind::Client => {
                let client_id = claims
                    .sub
                    .strip_prefix("client:")
                    .ok_or_else(|| CoreError::Unauthenticated("token subject is malformed".into()))?
                    .to_owned();
                let scopes = claims
                    .scope
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(str::parse::<Scope>)
                    .collect::<Result<BTreeSet<_>, _>>()
                    .map_err(|_| CoreError::Unauthenticated("token has an unknown scope".into()))?;
                Principal::Client(ClientPrincipal { client_id, scopes })
            }
        };
        Ok((
            Verified {
                principal,
                account_version,
            },
            until,
        ))
    }
}

/// Says why a bearer token was refused, without echoing the token.
pub fn rejection(kind: &ErrorKind) -> CoreError {
    let why = match kind {
        ErrorKind::ExpiredSignature => "the access token has expired; refresh it or sign in again",
        ErrorKind::ImmatureSignature => "the access token is not valid yet",
        ErrorKind::InvalidAudience => "the access token was issued for another audience",
        ErrorKind::InvalidIssuer => "the access token was issued by another issuer",
        ErrorKind::InvalidSignature => "the access token's signature does not verify",
        ErrorKind::InvalidAlgorithm
        | ErrorKind::UnsupportedAlgorithm
        | ErrorKind::InvalidAlgorithmName => {
            "the access token uses an algorithm this node does not accept"
        }
        ErrorKind::MissingRequiredClaim(_) => {
            "the access token lacks a required claim (exp, iss, aud, sub)"
        }
        _ => "the access token is malformed",
    };
    CoreError::Unauthenticated(why.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use std::fs;

    fn service() -> TokenService {
        TokenService::new(
            NodeKey::generate().unwrap(),
            TokenSettings {
                issuer: "https://node.test".into(),
                audience: "alongside".into(),
                access_ttl: Duration::from_secs(60),
                refresh_ttl: Duration::from_secs(3600),
            },
        )
        .unwrap()
    }

    fn user() -> UserPrincipal {
        UserPrincipal {
            account_id: Uuid::now_v7(),
            person_id: Uuid::now_v7(),
            roles: [Role::Member, Role::Coordinator].into_iter().collect(),
        }
    }

    #[test]
    fn user_token_round_trip() {
        let svc = service();
        let u = user();
        let token = svc.issue_for_user(&u, 3).unwrap();
        assert_eq!(
            svc.verify(&token.token).unwrap(),
            Verified {
                principal: Principal::User(u),
                account_version: Some(3),
            }
        );
    }

    #[test]
    fn a_verified_token_is_remembered_and_a_changed_one_is_not() {
        let svc = service();
        let u = user();
        let token = svc.issue_for_user(&u, 3).unwrap().token;
        assert_eq!(svc.verified_before(&token), None);
        let principal = |v: Verified| v.principal;
        assert_eq!(
            svc.verify(&token).map(principal).unwrap(),
            Principal::User(u.clone())
        );
        assert_eq!(svc.verified_count(), 1);
        assert_eq!(
            svc.verified_before(&token).map(principal),
            Some(Principal::User(u.clone()))
        );
        assert_eq!(
            svc.verify(&token).map(principal).unwrap(),
            Principal::User(u)
        );

        // The same claims with a signature changed in its last character, and the same
        // signature over other claims: both checked in full, both refused.
        let mut tampered = token.clone();
        let last = tampered.pop().unwrap();
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        assert!(matches!(
            svc.verify(&tampered),
            Err(CoreError::Unauthenticated(_))
        ));
        let parts: Vec<&str> = token.split('.').collect();
        let other = svc.issue_for_user(&user(), 0).unwrap().token;
        let other_payload = other.split('.').nth(1).unwrap();
        let spliced = format!("{}.{other_payload}.{}", parts[0], parts[2]);
        assert!(matches!(
            svc.verify(&spliced),
            Err(CoreError::Unauthenticated(_))
        ));
        assert_eq!(svc.verified_count(), 1, "refusals are not remembered");
    }

    #[test]
    fn an_expired_token_is_not_remembered() {
        let mut svc = service();
        // Issued already past its expiry and its leeway: refused, and nothing kept.
        let token = {
            let iat = jsonwebtoken::get_current_timestamp() - 120;
            let claims = AccessClaims {
                iss: svc.settings.issuer.clone(),
                aud: svc.settings.audience.clone(),
                sub: Uuid::now_v7().to_string(),
                exp: iat + 60,
                iat,
                jti: Uuid::new_v4().to_string(),
                typ: TokenKind::User,
                person: Some(Uuid::now_v7()),
                roles: vec![],
                scope: None,
                ver: None,
            };
            let mut header = Header::new(Algorithm::EdDSA);
            header.kid = Some(svc.key.kid().to_owned());
            jsonwebtoken::encode(&header, &claims, &svc.encoding).unwrap()
        };
        assert!(matches!(
            svc.verify(&token),
            Err(CoreError::Unauthenticated(m)) if m.contains("expired")
        ));
        // Within the clock leeway it verifies, but past `exp` it is not remembered.
        svc.settings.access_ttl = Duration::ZERO;
        let token = svc.issue_for_user(&user(), 0).unwrap().token;
        assert!(svc.verify(&token).is_ok());
        assert_eq!(svc.verified_count(), 0);
    }

    #[test]
    fn a_token_of_a_retired_key_is_remembered_only_until_the_key_expires() {
        let old = service();
        let token = old.issue_for_user(&user(), 0).unwrap().token;
        let now = crate::time::now();
        let key_expiry = now + chrono::Duration::seconds(5);
        let svc = service().with_retired(vec![RetiredKey {
            kid: old.key().kid().to_owned(),
            x: URL_SAFE_NO_PAD.encode(old.key().public_key_bytes()),
            retired_at: now,
            expires_at: key_expiry,
        }]);
        let (_, until) = svc.verify_signature(&token).unwrap();
        assert_eq!(until, key_expiry.and_utc().timestamp() as u64);
        // A token of the current key holds until its own expiry.
        let own = svc.issue_for_user(&user(), 0).unwrap().token;
        let (_, until) = svc.verify_signature(&own).unwrap();
        assert!(until > key_expiry.and_utc().timestamp() as u64);
    }

    #[test]
    fn another_nodes_token_is_refused() {
        let (a, b) = (service(), service());
        let token = a.issue_for_user(&user(), 0).unwrap();
        assert!(matches!(
            b.verify(&token.token),
            Err(CoreError::Unauthenticated(_))
        ));
    }

    #[test]
    fn key_file_is_created_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let (first, created) = NodeKey::load_or_create(dir.path()).unwrap();
        assert!(created);
        let (again, created) = NodeKey::load_or_create(dir.path()).unwrap();
        assert!(!created);
        assert_eq!(first.kid(), again.kid());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(NodeKey::path_in(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
