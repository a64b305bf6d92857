//! Who reads through a signed GET: the one check of a fetch by another
//! instance, used by the ActivityPub endpoints and by the pages other
//! instances fetch (photos, community pictures, document files).
//!
//! A request is signed when it has a `Signature` header (or an
//! `Authorization: Signature …` one). Its signature is verified against the
//! signer's key, and the signer's instance must pass the trust gate; what it
//! may then see is the audience module's question, with the returned
//! [`audience::Instance`].

use axum::http::{HeaderMap, Method};

use crate::accounts::User;
use crate::app::AppState;
use crate::audience;
use crate::error::AppResult;

/// A verified signed fetch: the signing actor and its instance, with the
/// trust we have in it now.
#[derive(Debug, Clone)]
pub struct SignedReader {
    pub signer: User,
    pub instance: audience::Instance,
}

/// Whether a request carries an HTTP signature.
pub fn is_signed(headers: &HeaderMap) -> bool {
    headers.contains_key("signature")
        || headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Signature "))
}

/// The reader of a GET of `path_and_query`: `None` when the request is not
/// signed (the caller decides what an unsigned request gets), an error when
/// the signature is bad or the signer's instance is refused.
pub async fn signed_reader(
    state: &AppState,
    path_and_query: &str,
    headers: &HeaderMap,
) -> AppResult<Option<SignedReader>> {
    if !is_signed(headers) {
        return Ok(None);
    }
    let (signer, _) =
        super::activities::verify(state, &Method::GET, path_and_query, headers, None).await?;
    let domain = signer.domain.clone().unwrap_or_default();
    let trust = state.fed.gate(&domain).await?;
    Ok(Some(SignedReader {
        signer,
        instance: audience::Instance { domain, trust },
    }))
}
