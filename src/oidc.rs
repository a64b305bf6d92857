//! OpenID Connect, the protocol (`openidconnect` crate): discovery, the
//! authorisation code flow with PKCE, state and nonce, the checks of the ID
//! token, the UserInfo endpoint and the provider's sign-out page.
//!
//! What a sign-in does with the identity it brings back (create, link or
//! refresh an account) is `accounts::sso`; the pages that carry the browser
//! there and back are `web::pages::sso`.
//!
//! The HTTP client is ours (reqwest 0.13, the project's one; the crate's
//! own feature would bring reqwest 0.12): it follows no redirect (a token
//! or key request redirected elsewhere is refused, as the crate advises),
//! answers within 10 s and reads at most 1 MB. The provider's addresses are
//! the administrator's choice (`accounts.sso`), so a provider on the
//! company's private network is allowed.
//!
//! Discovery (the provider's endpoints and signing keys) is read once and
//! kept for an hour; an ID token whose signature does not verify makes it
//! read again once, for a provider that has just rotated its keys.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreIdToken, CoreTokenResponse,
};
use openidconnect::{
    AccessTokenHash, AdditionalClaims, AsyncHttpClient, AuthorizationCode, ClientId, ClientSecret,
    CsrfToken, HttpRequest, HttpResponse, IssuerUrl, LogoutRequest, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadataWithLogout,
    RedirectUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use crate::config::SsoProvider;
use crate::error::{AppError, AppResult};

/// How long a provider's discovery document and keys are kept.
const KEEP: Duration = Duration::from_secs(3600);
/// The largest answer read from a provider.
const MAX_BODY: usize = 1 << 20;

/// A client made from a discovery document: its authorisation endpoint is
/// known, its token and UserInfo endpoints may be.
type Client = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// The providers' discovery documents, as this process last read them.
pub struct Providers {
    http: Http,
    found: Mutex<HashMap<String, (Instant, Arc<ProviderMetadataWithLogout>)>>,
}

/// Where to send the browser, and what to keep until it comes back.
pub struct Start {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

/// Who the provider says signed in, once every check passed.
#[derive(Debug, Clone)]
pub struct Identity {
    pub subject: String,
    /// The ID token's claims, then the UserInfo endpoint's over them.
    pub claims: Map<String, Value>,
    /// The ID token, kept to sign out at the provider.
    pub id_token: String,
}

impl Default for Providers {
    fn default() -> Self {
        Providers::new()
    }
}

impl Providers {
    pub fn new() -> Providers {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("Ruche/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("an HTTP client");
        Providers {
            http: Http(client),
            found: Mutex::new(HashMap::new()),
        }
    }

    /// The provider's discovery document: kept, or read now (`fresh`).
    async fn metadata(
        &self,
        p: &SsoProvider,
        fresh: bool,
    ) -> AppResult<Arc<ProviderMetadataWithLogout>> {
        let mut found = self.found.lock().await;
        if !fresh {
            if let Some((at, m)) = found.get(&p.id) {
                if at.elapsed() < KEEP {
                    return Ok(m.clone());
                }
            }
        }
        let issuer =
            IssuerUrl::new(p.issuer.clone()).map_err(|e| AppError::remote("sso_unavailable", e))?;
        // The crate checks that the document names the configured issuer.
        let m = ProviderMetadataWithLogout::discover_async(issuer, &self.http)
            .await
            .map_err(|e| {
                tracing::warn!(provider = %p.id, error = %e, "identity provider discovery failed");
                AppError::remote("sso_unavailable", &p.name)
            })?;
        let m = Arc::new(m);
        found.insert(p.id.clone(), (Instant::now(), m.clone()));
        Ok(m)
    }

    fn client(
        p: &SsoProvider,
        m: &ProviderMetadataWithLogout,
        redirect: &str,
    ) -> AppResult<Client> {
        let secret =
            (!p.client_secret.is_empty()).then(|| ClientSecret::new(p.client_secret.clone()));
        Ok(CoreClient::from_provider_metadata(
            m.clone(),
            ClientId::new(p.client_id.clone()),
            secret,
        )
        .set_redirect_uri(RedirectUrl::new(redirect.to_string()).map_err(AppError::internal)?))
    }

    /// The provider's authorisation URL for a new sign-in, with its state,
    /// nonce and PKCE verifier to keep until the browser comes back.
    pub async fn start(&self, p: &SsoProvider, redirect: &str, lang: &str) -> AppResult<Start> {
        let m = self.metadata(p, false).await?;
        let client = Self::client(p, &m, redirect)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut req = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge)
            .add_ui_locale(openidconnect::LanguageTag::new(lang.to_string()));
        for s in &p.scopes {
            if s != "openid" {
                req = req.add_scope(Scope::new(s.clone()));
            }
        }
        let (url, state, nonce) = req.url();
        Ok(Start {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
        })
    }

    /// Trades the code the browser brought back for tokens, checks the ID
    /// token (signature, issuer, audience, expiry, nonce, the access token's
    /// hash) and reads the UserInfo endpoint where there is one.
    pub async fn finish(
        &self,
        p: &SsoProvider,
        redirect: &str,
        code: &str,
        verifier: &str,
        nonce: &str,
    ) -> AppResult<Identity> {
        let m = self.metadata(p, false).await?;
        let client = Self::client(p, &m, redirect)?;
        let token: CoreTokenResponse = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| AppError::remote("sso_unavailable", e))?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_string()))
            .request_async(&self.http)
            .await
            .map_err(|e| {
                tracing::warn!(provider = %p.id, error = %e, "identity provider refused the code");
                AppError::forbidden("sso_refused")
            })?;
        let id_token = token
            .id_token()
            .ok_or_else(|| AppError::forbidden("sso_token_invalid"))?;
        let nonce = Nonce::new(nonce.to_string());
        let claims = match verify(&client, id_token, &nonce, &token) {
            Ok(c) => c,
            Err(first) => {
                // Keys may have just been rotated: read them again, once.
                let m = self.metadata(p, true).await?;
                let client = Self::client(p, &m, redirect)?;
                verify(&client, id_token, &nonce, &token).map_err(|e| {
                    tracing::warn!(provider = %p.id, error = %first, again = %e, "ID token refused");
                    AppError::forbidden("sso_token_invalid")
                })?
            }
        };
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut all = claims;
        if let Ok(req) = client.user_info(
            token.access_token().clone(),
            Some(openidconnect::SubjectIdentifier::new(subject.clone())),
        ) {
            // The crate checks that UserInfo speaks of the same subject.
            let info: openidconnect::UserInfoClaims<Extra, CoreGenderClaim> =
                req.request_async(&self.http).await.map_err(|e| {
                    tracing::warn!(provider = %p.id, error = %e, "UserInfo refused");
                    AppError::remote("sso_unavailable", &p.name)
                })?;
            if let Ok(Value::Object(more)) = serde_json::to_value(&info) {
                for (k, v) in more {
                    if k != "sub" {
                        all.insert(k, v);
                    }
                }
            }
        }
        Ok(Identity {
            subject,
            claims: all,
            id_token: id_token.to_string(),
        })
    }

    /// The provider's sign-out page for a session opened with `id_token`,
    /// returning to `back`; `None` when the provider has none.
    pub async fn logout_url(&self, p: &SsoProvider, id_token: &str, back: &str) -> Option<String> {
        let m = self.metadata(p, false).await.ok()?;
        let end = m.additional_metadata().end_session_endpoint.clone()?;
        let mut req = LogoutRequest::from(end).set_client_id(ClientId::new(p.client_id.clone()));
        if let Ok(token) = id_token.parse::<CoreIdToken>() {
            req = req.set_id_token_hint(&token);
        }
        if let Ok(back) = PostLogoutRedirectUrl::new(back.to_string()) {
            req = req.set_post_logout_redirect_uri(back);
        }
        Some(req.http_get_url().to_string())
    }
}

/// The checks of the ID token; its claims as a JSON object.
fn verify(
    client: &Client,
    id_token: &CoreIdToken,
    nonce: &Nonce,
    token: &CoreTokenResponse,
) -> Result<Map<String, Value>, String> {
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, nonce)
        .map_err(|e| e.to_string())?;
    if let Some(expected) = claims.access_token_hash() {
        let alg = id_token.signing_alg().map_err(|e| e.to_string())?;
        let key = id_token.signing_key(&verifier).map_err(|e| e.to_string())?;
        let actual = AccessTokenHash::from_token(token.access_token(), alg, key)
            .map_err(|e| e.to_string())?;
        if actual != *expected {
            return Err("the access token's hash does not match".into());
        }
    }
    match serde_json::to_value(claims) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err("unreadable claims".into()),
    }
}

/// Every claim UserInfo returns besides the standard ones (department,
/// groups…), kept as they came.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Extra {
    #[serde(flatten)]
    all: Map<String, Value>,
}

impl AdditionalClaims for Extra {}

/// The HTTP client the crate calls.
struct Http(reqwest::Client);

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let url = parts.uri.to_string();
            let mut res = self
                .0
                .request(parts.method, &url)
                .headers(parts.headers)
                .body(body)
                .send()
                .await
                .map_err(|e| HttpError(format!("{url}: {e}")))?;
            let mut out = HttpResponse::new(Vec::new());
            *out.status_mut() = res.status();
            *out.headers_mut() = res.headers().clone();
            let mut body = Vec::new();
            while let Some(chunk) = res
                .chunk()
                .await
                .map_err(|e| HttpError(format!("{url}: {e}")))?
            {
                if body.len() + chunk.len() > MAX_BODY {
                    return Err(HttpError(format!(
                        "{url}: answer larger than {MAX_BODY} bytes"
                    )));
                }
                body.extend_from_slice(&chunk);
            }
            *out.body_mut() = body;
            Ok(out)
        })
    }
}
