//! Turning an `Authorization` header into a principal: this node's own tokens, or the
//! institution identity provider's (keys fetched from its JWKS URL and cached).

use std::time::{Duration, Instant};

use alongside_core::CoreError;
use alongside_core::access::{Principal, Role};
use alongside_core::accounts;
use alongside_core::oidc::{self, ExternalIdentity, OidcSettings};
use alongside_core::standing;
use alongside_core::tokens::Verified;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::JwkSet;
use tokio::sync::Mutex;

use crate::config::OidcConfig;
use crate::node::AppState;

/// Keys are kept this long before a routine refresh.
const JWKS_TTL: Duration = Duration::from_secs(3600);
/// An unknown `kid` triggers a refresh at most this often, so bad tokens cannot hammer the
/// provider.
const JWKS_MIN_REFRESH: Duration = Duration::from_secs(10);

pub struct OidcVerifier {
    settings: OidcSettings,
    jwks_url: String,
    http: reqwest::Client,
    cache: Mutex<Option<(JwkSet, Instant)>>,
}

impl OidcVerifier {
    pub fn from_config(config: &OidcConfig) -> Result<Self, CoreError> {
        let algorithms = config
            .algorithms
            .iter()
            .map(|a| {
                a.parse::<Algorithm>().map_err(|_| {
                    CoreError::bad_input("oidc.algorithms", format!("unknown algorithm {a:?}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if algorithms
            .iter()
            .any(|a| matches!(a, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512))
        {
            return Err(CoreError::bad_input(
                "oidc.algorithms",
                "shared-secret algorithms (HS*) are not accepted for an identity provider",
            ));
        }
        let role_map = config
            .role_map
            .iter()
            .map(|(k, v)| v.parse::<Role>().map(|r| (k.clone(), r)))
            .collect::<Result<_, _>>()?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| CoreError::internal(format!("HTTP client: {e}")))?;
        Ok(Self {
            settings: OidcSettings {
                issuer: config.issuer.clone(),
                audience: config.audience.clone(),
                algorithms,
                role_claim: config.role_claim.clone(),
                role_map,
                email_claim: config.email_claim.clone(),
                name_claim: config.name_claim.clone(),
            },
            jwks_url: config.jwks_url.clone(),
            http,
            cache: Mutex::new(None),
        })
    }

    async fn fetch(&self) -> Result<JwkSet, CoreError> {
        let unavailable = |e: reqwest::Error| {
            tracing::warn!(error = %e, "identity provider key set unavailable");
            CoreError::Unauthenticated(
                "the identity provider's keys cannot be fetched right now".into(),
            )
        };
        let response = self
            .http
            .get(&self.jwks_url)
            .send()
            .await
            .map_err(unavailable)?;
        let response = response.error_for_status().map_err(unavailable)?;
        response.json::<JwkSet>().await.map_err(unavailable)
    }

    async fn keys(&self, refresh: bool) -> Result<JwkSet, CoreError> {
        let mut cache = self.cache.lock().await;
        let stale = match &*cache {
            None => true,
            Some((_, at)) if at.elapsed() > JWKS_TTL => true,
            Some((_, at)) => refresh && at.elapsed() > JWKS_MIN_REFRESH,
        };
        if stale {
            let set = self.fetch().await?;
            *cache = Some((set, Instant::now()));
        }
        cache
            .as_ref()
            .map(|(set, _)| set.clone())
            .ok_or_else(|| CoreError::internal("no key set"))
    }

    pub async fn verify(&self, token: &str) -> Result<ExternalIdentity, CoreError> {
        self.verify_with(&self.settings, token).await
    }

    /// Verifies an ID token from a browser sign-on: the same checks and mapping as a bearer
    /// token, except that its audience is this node's client id at the provider.
    pub async fn verify_id_token(
        &self,
        token: &str,
        client_id: &str,
    ) -> Result<ExternalIdentity, CoreError> {
        let settings = OidcSettings {
            audience: client_id.to_owned(),
            ..self.settings.clone()
        };
        self.verify_with(&settings, token).await
    }

    async fn verify_with(
        &self,
        settings: &OidcSettings,
        token: &str,
    ) -> Result<ExternalIdentity, CoreError> {
        let set = self.keys(false).await?;
        if let Some(identity) = oidc::verify(settings, &set, token)? {
            return Ok(identity);
        }
        let set = self.keys(true).await?;
        oidc::verify(settings, &set, token)?.ok_or_else(|| {
            CoreError::Unauthenticated(
                "the token is signed by a key this node does not know".into(),
            )
        })
    }
}

/// The principal for a request's `Authorization` header value; no header means anonymous.
/// A header that is present but wrong is refused rather than treated as anonymous.
pub async fn principal(state: &AppState, header: Option<&str>) -> Result<Principal, CoreError> {
    let Some(value) = header else {
        return Ok(Principal::Anonymous);
    };
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            CoreError::Unauthenticated("use the header Authorization: Bearer <access token>".into())
        })?;
    if let Some(verified) = state.tokens.verified_before(token) {
        return still_standing(state, verified).await;
    }
    let header = jsonwebtoken::decode_header(token)
        .map_err(|_| CoreError::Unauthenticated("the access token is malformed".into()))?;
    if state.tokens.is_own_kid(header.kid.as_deref()) {
        return still_standing(state, state.tokens.verify(token)?).await;
    }
    match &state.oidc {
        Some(verifier) => {
            let identity = verifier.verify(token).await?;
            accounts::principal_for_external(&state.db, identity).await
        }
        // Let our own verifier explain what is wrong (algorithm, signature, key).
        None => still_standing(state, state.tokens.verify(token)?).await,
    }
}

/// A person's token speaks for them only while their account has not moved on since it was
/// issued (a role removed, suspended, signed out everywhere).
async fn still_standing(state: &AppState, verified: Verified) -> Result<Principal, CoreError> {
    if let (Principal::User(user), Some(version)) = (&verified.principal, verified.account_version)
    {
        standing::check(&state.db, user.account_id, version).await?;
    }
    Ok(verified.principal)
}
