//! Tokens from the institution's own identity provider (OIDC). The provider's issuer and
//! audience are pinned, only the configured algorithms are accepted, and a claim is mapped to
//! roles. Fetching the key set is the server's job; verifying is done here.

use std::collections::{BTreeMap, BTreeSet};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::access::Role;
use crate::error::CoreError;
use crate::tokens::rejection;

#[derive(Debug, Clone)]
pub struct OidcSettings {
    pub issuer: String,
    pub audience: String,
    pub algorithms: Vec<Algorithm>,
    /// The claim holding the provider's group or role names (a string or a list of strings).
    pub role_claim: String,
    /// Provider value → node role. Unmapped values are ignored; everyone is a `member`.
    pub role_map: BTreeMap<String, Role>,
    pub email_claim: String,
    pub name_claim: String,
}

/// A person as vouched for by the identity provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalIdentity {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub roles: BTreeSet<Role>,
    /// The `nonce` claim of an ID token from a browser sign-on, checked by the caller.
    pub nonce: Option<String>,
}

/// Verifies a provider token against its key set. `Ok(None)` means the token names a key the
/// set does not hold (the caller may refresh the set once and try again).
pub fn verify(
    settings: &OidcSettings,
    jwks: &JwkSet,
    token: &str,
) -> Result<Option<ExternalIdentity>, CoreError> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| rejection(e.kind()))?;
    if !settings.algorithms.contains(&header.alg) {
        return Err(CoreError::Unauthenticated(
            "the identity token uses an algorithm this node does not accept".into(),
        ));
    }
    let jwk = match header.kid.as_deref() {
        Some(kid) => jwks.find(kid),
        None if jwks.keys.len() == 1 => jwks.keys.first(),
        None => None,
    };
    let Some(jwk) = jwk else { return Ok(None) };
    let key = DecodingKey::from_jwk(jwk).map_err(|_| {
        CoreError::Unauthenticated("the identity provider's key is unusable".into())
    })?;
    // The header's algorithm is already on the allow-list; pin verification to it alone.
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[&settings.issuer]);
    validation.set_audience(&[&settings.audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = 30;
    let data = jsonwebtoken::decode::<BTreeMap<String, Value>>(token, &key, &validation)
        .map_err(|e| rejection(e.kind()))?;
    let claims = data.claims;
    let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
    let subject = text("sub")
        .ok_or_else(|| CoreError::Unauthenticated("identity token has no subject".into()))?;
    let provider_roles: Vec<String> = match claims.get(&settings.role_claim) {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => vec![],
    };
    let mut roles: BTreeSet<Role> = provider_roles
        .iter()
        .filter_map(|r| settings.role_map.get(r).copied())
        .collect();
    roles.insert(Role::Member);
    Ok(Some(ExternalIdentity {
        issuer: settings.issuer.clone(),
        subject,
        email: text(&settings.email_claim),
        display_name: text(&settings.name_claim),
        roles,
        nonce: text("nonce"),
    }))
}
