//! Single sign-on for the pages: the OpenID Connect authorization code flow with PKCE, state and
//! nonce, through the `openidconnect` crate, against the institution's identity provider. The ID
//! token that comes back is verified by the same verifier as the provider's bearer tokens
//! (`auth::OidcVerifier`), so a person and their roles are mapped exactly as on that path.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, HttpRequest, HttpResponse, IssuerUrl,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
};
use tokio::sync::Mutex;

use crate::config::OidcConfig;

/// The provider's discovery document is fetched again after this long.
const METADATA_TTL: Duration = Duration::from_secs(3600);

/// Why a sign-on could not go on.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// The provider did not answer, or answered with something unusable: try again later.
    #[error("identity provider unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the exchange (an old or reused code, a wrong verifier).
    #[error("identity provider refused: {0}")]
    Refused(String),
}

/// Where a browser is sent, and what the node must remember until it comes back.
#[derive(Debug, Clone)]
pub struct Started {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

pub struct Sso {
    issuer: String,
    client_id: String,
    client_secret: Option<String>,
    redirect: String,
    http: reqwest::Client,
    metadata: Mutex<Option<(CoreProviderMetadata, Instant)>>,
}

impl std::fmt::Debug for Sso {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sso")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

impl Sso {
    /// The node's client id at the provider: the audience of the ID tokens it is sent.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Single sign-on for the pages, when the `[oidc]` section names a `client_id`.
    pub fn from_config(config: &OidcConfig, public_url: &str) -> anyhow::Result<Option<Self>> {
        let Some(client_id) = config.client_id.clone() else {
            return Ok(None);
        };
        // Never follow a redirect from the provider's endpoints: a token request goes where the
        // discovery document says, and nowhere else.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Some(Self {
            issuer: config.issuer.clone(),
            client_id,
            client_secret: config.client_secret.clone(),
            redirect: format!("{}/sign-in/sso/callback", public_url.trim_end_matches('/')),
            http,
            metadata: Mutex::new(None),
        }))
    }

    fn http_client(
        &self,
    ) -> impl Fn(
        HttpRequest,
    ) -> Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send>>
    + use<> {
        let client = self.http.clone();
        move |request: HttpRequest| {
            let client = client.clone();
            Box::pin(async move {
                let request = reqwest::Request::try_from(request)
                    .map_err(|e| HttpError(format!("request: {e}")))?;
                let response = client
                    .execute(request)
                    .await
                    .map_err(|e| HttpError(format!("{e}")))?;
                let mut built = http::Response::builder().status(response.status());
                for (name, value) in response.headers() {
                    built = built.header(name, value);
                }
                let body = response
                    .bytes()
                    .await
                    .map_err(|e| HttpError(format!("body: {e}")))?;
                built
                    .body(body.to_vec())
                    .map_err(|e| HttpError(format!("response: {e}")))
            })
        }
    }

    async fn metadata(&self) -> Result<CoreProviderMetadata, SsoError> {
        let mut cached = self.metadata.lock().await;
        if let Some((m, at)) = cached.as_ref()
            && at.elapsed() < METADATA_TTL
        {
            return Ok(m.clone());
        }
        let issuer = IssuerUrl::new(self.issuer.clone())
            .map_err(|e| SsoError::Unavailable(format!("oidc.issuer: {e}")))?;
        let client = self.http_client();
        let m = CoreProviderMetadata::discover_async(issuer, &client)
            .await
            .map_err(|e| SsoError::Unavailable(format!("discovery: {e}")))?;
        *cached = Some((m.clone(), Instant::now()));
        Ok(m)
    }

    async fn client(
        &self,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        SsoError,
    > {
        let redirect = RedirectUrl::new(self.redirect.clone())
            .map_err(|e| SsoError::Unavailable(format!("redirect URL: {e}")))?;
        Ok(CoreClient::from_provider_metadata(
            self.metadata().await?,
            ClientId::new(self.client_id.clone()),
            self.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect))
    }

    /// Where to send the browser, with a fresh state, nonce and PKCE challenge.
    pub async fn start(&self) -> Result<Started, SsoError> {
        let client = self.client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Started {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges the code the browser brought back for the provider's ID token (not yet verified).
    pub async fn exchange(&self, code: String, pkce_verifier: String) -> Result<String, SsoError> {
        let client = self.client().await?;
        let http = self.http_client();
        let response = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| SsoError::Unavailable(format!("token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier))
            .request_async(&http)
            .await
            .map_err(|e| match e {
                openidconnect::RequestTokenError::ServerResponse(r) => {
                    SsoError::Refused(r.error().to_string())
                }
                other => SsoError::Unavailable(other.to_string()),
            })?;
        // The access token is not used: the node asks nothing more of the provider.
        let _ = response.access_token();
        use openidconnect::TokenResponse as _;
        response
            .id_token()
            .map(|t| t.to_string())
            .ok_or_else(|| SsoError::Refused("no ID token in the token response".into()))
    }
}
