//! Our outgoing HTTP client. Every request first asks the trust gate about
//! the instance (`host[:port]`), then one address check decides whether the
//! connection may be made: for an IP literal in the URL (whatever its
//! spelling: the URL parser turns `2130706433`, `0x7f000001`, `127.1` or
//! `[::ffff:127.0.0.1]` into one canonical address) before anything is sent,
//! and for a host name in the resolver, at connection time, so that a DNS
//! answer cannot swap in an intranet address. Private addresses pass only
//! inside a range the configuration allows or for an instance whose trust
//! entry allows them. Redirects are not followed, bodies are bounded, every
//! request has a time limit, and failures are told to people in generic
//! words (the cause goes to the log): an error must not tell an open port
//! from a closed one.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::http::Method;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde_json::Value;

use super::trust::{self, Decision};
use crate::addresses::{address_allowed, Cidr};
use crate::config::Config;
use crate::db::Db;
use crate::error::{AppError, AppResult, ErrorKind};
use crate::net::schemes::{self, Scheme};

/// Largest ActivityPub document we read from another instance.
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// Which addresses outgoing connections may reach: the one address check,
/// shared by the resolver (host names) and the literal check (IP addresses
/// written in a URL).
#[derive(Clone)]
struct AddressPolicy {
    ranges: Vec<Cidr>,
    /// Hosts whose trust entry allows private addresses, refreshed by
    /// [`Client::gate`] before every request.
    private_ok: Arc<RwLock<HashSet<String>>>,
}

impl AddressPolicy {
    fn allows(&self, host: &str, ip: IpAddr) -> bool {
        let instance_ok = self
            .private_ok
            .read()
            .map(|s| s.contains(host))
            .unwrap_or(false);
        address_allowed(ip, &self.ranges, instance_ok)
    }

    /// Refuses a URL whose host is an IP address that may not be reached.
    /// Host names are checked by the resolver when the connection is made.
    fn check_url(&self, url: &reqwest::Url) -> Result<(), String> {
        let ip = match url.host() {
            Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
            Some(url::Host::Domain(_)) => return Ok(()),
            None => return Err("no host".into()),
        };
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        if self.allows(&host, ip) {
            Ok(())
        } else {
            Err(format!("{ip} is a private address that is not allowed"))
        }
    }
}

struct Resolver {
    overrides: Vec<(String, IpAddr)>,
    policy: AddressPolicy,
}

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let fixed: Vec<IpAddr> = self
            .overrides
            .iter()
            .filter(|(h, _)| *h == host)
            .map(|(_, ip)| *ip)
            .collect();
        let policy = self.policy.clone();
        Box::pin(async move {
            let found: Vec<SocketAddr> = if fixed.is_empty() {
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect()
            } else {
                fixed.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect()
            };
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| policy.allows(&host, a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(format!(
                    "{host} resolves only to private addresses that are not allowed"
                )
                .into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// A remote failure as people see it: generic words, the cause in the log.
fn unreachable(url: &str, cause: impl std::fmt::Display) -> AppError {
    tracing::info!(url = %url, cause = %cause, "remote request failed");
    AppError::new(ErrorKind::BadGateway, "remote_unreachable")
}

fn invalid_document(url: &str, cause: impl std::fmt::Display) -> AppError {
    tracing::info!(url = %url, cause = %cause, "remote document unreadable");
    AppError::new(ErrorKind::BadGateway, "remote_invalid")
}

/// Whether a response's media type is ActivityPub's: `application/activity+json`,
/// or `application/ld+json` with the ActivityStreams profile.
fn is_activitypub(media: &str) -> bool {
    let mut parts = media.split(';').map(str::trim);
    let essence = parts.next().unwrap_or("").to_ascii_lowercase();
    match essence.as_str() {
        "application/activity+json" => true,
        "application/ld+json" => parts.any(|p| {
            let p = p.to_ascii_lowercase();
            p.strip_prefix("profile=").is_some_and(|v| {
                v.trim_matches('"')
                    .split_whitespace()
                    .any(|v| v == "https://www.w3.org/ns/activitystreams")
            })
        }),
        _ => false,
    }
}

/// The `id` a fetched document gives itself.
fn document_id(url: &str, doc: &Value) -> AppResult<String> {
    doc.get("id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| invalid_document(url, "it has no id"))
}

/// Whether two addresses name the same document (fragments aside, as a key
/// id names its actor's document).
fn same_address(a: &str, b: &str) -> bool {
    match (url::Url::parse(a), url::Url::parse(b)) {
        (Ok(mut a), Ok(mut b)) => {
            a.set_fragment(None);
            b.set_fragment(None);
            a == b
        }
        _ => false,
    }
}

/// A local person on whose behalf a fetch is signed: id and username.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    pub id: i64,
    pub username: &'a str,
}

/// The outgoing client, shared by the process.
pub struct Client {
    http: reqwest::Client,
    policy: AddressPolicy,
    config: Arc<Config>,
    db: Db,
}

/// Why a delivery failed, and whether trying again may help.
#[derive(Debug)]
pub struct SendError {
    pub message: String,
    pub retry: bool,
}

impl Client {
    pub fn new(config: Arc<Config>, db: Db) -> anyhow::Result<Client> {
        let policy = AddressPolicy {
            ranges: config
                .federation
                .allowed_private_ranges
                .iter()
                .filter_map(|r| Cidr::parse(r).ok())
                .collect(),
            private_ok: Arc::new(RwLock::new(HashSet::new())),
        };
        let resolver = Resolver {
            overrides: config.resolve_overrides(),
            policy: policy.clone(),
        };
        let http = reqwest::Client::builder()
            .dns_resolver(Arc::new(resolver))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(Duration::from_secs(
                config.federation.request_timeout_seconds as u64,
            ))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("Ruche/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client {
            http,
            policy,
            config,
            db,
        })
    }

    /// Asks the trust gate whether `domain` may federate with us; refuses
    /// with 403 otherwise. Our own domain is always allowed.
    pub async fn gate(&self, domain: &str) -> AppResult<Decision> {
        let domain = domain.to_ascii_lowercase();
        self.gate_many(vec![domain.clone()])
            .await?
            .remove(&domain)
            .unwrap_or_else(|| {
                Err(AppError::forbidden("instance_not_trusted").with("domain", domain))
            })
    }

    /// [`Client::gate`] for several domains with one database query: for
    /// each, `Ok` or the refusal.
    pub async fn gate_many(
        &self,
        domains: Vec<String>,
    ) -> AppResult<std::collections::HashMap<String, AppResult<Decision>>> {
        let cfg = self.config.clone();
        let all = self
            .db
            .run(move |c| trust::verdicts(c, &cfg, &domains))
            .await?;
        let mut out = std::collections::HashMap::new();
        for (domain, v) in all {
            let verdict = self.judge(&domain, &v);
            out.insert(domain, verdict);
        }
        Ok(out)
    }

    /// [`Client::gate`] with more read in the same database task (`also`,
    /// on the same connection), so that a request that needs both pays one
    /// round trip.
    pub async fn gate_with<T, F>(&self, domain: &str, also: F) -> AppResult<(Decision, T)>
    where
        T: Send + 'static,
        F: FnOnce(&mut crate::db::DbConn) -> AppResult<T> + Send + 'static,
    {
        let domain = domain.to_ascii_lowercase();
        let (cfg, asked) = (self.config.clone(), domain.clone());
        let (mut all, extra) = self
            .db
            .run(move |c| {
                let verdicts = trust::verdicts(c, &cfg, std::slice::from_ref(&asked))?;
                Ok((verdicts, also(c)?))
            })
            .await?;
        let verdict = all.remove(&domain).map(|v| self.judge(&domain, &v));
        match verdict {
            Some(decision) => Ok((decision?, extra)),
            None => Err(AppError::forbidden("instance_not_trusted").with("domain", domain)),
        }
    }

    /// What a verdict of the trust gate means for `domain`: remembered for
    /// the address check (an instance allowed on a private address), then
    /// its decision or the refusal.
    fn judge(&self, domain: &str, v: &trust::Verdict) -> AppResult<Decision> {
        let own = crate::urls::host_of(&self.config.base_url).unwrap_or_default();
        if !domain.eq_ignore_ascii_case(&own) {
            if let Ok(mut set) = self.policy.private_ok.write() {
                let host = trust::host_part(domain).to_string();
                if v.private_ok {
                    set.insert(host);
                } else {
                    set.remove(&host);
                }
            }
        }
        if v.allowed {
            Ok(v.decision.clone())
        } else {
            Err(AppError::forbidden("instance_not_trusted").with("domain", domain))
        }
    }

    /// Fetches an ActivityPub document, signed by the instance actor.
    pub async fn get(&self, url: &str) -> AppResult<Value> {
        self.get_object(url, None).await
    }

    /// Fetches an ActivityPub document, signed by the local person `reader`
    /// (what the other instance answers depends on who reads).
    pub async fn get_as(&self, url: &str, reader: Reader<'_>) -> AppResult<Value> {
        self.get_object(url, Some(reader)).await
    }

    /// Fetches the document at `url` and checks that it is the one asked
    /// for: served as ActivityPub JSON, and its `id` is `url` (fragment
    /// aside). A document of the same host that names another id is fetched
    /// again by that id, once, and must then name itself: a file a user
    /// uploaded, or a page quoting an actor, never stands for that actor.
    async fn get_object(&self, url: &str, reader: Option<Reader<'_>>) -> AppResult<Value> {
        let doc = self.get_json(url, reader).await?;
        let id = document_id(url, &doc)?;
        if same_address(url, &id) {
            return Ok(doc);
        }
        if crate::urls::host_of(&id) != crate::urls::host_of(url) {
            return Err(invalid_document(
                url,
                format!("its id {id} is on another host"),
            ));
        }
        let again = self.get_json(&id, reader).await?;
        if same_address(&id, &document_id(&id, &again)?) {
            Ok(again)
        } else {
            Err(invalid_document(&id, "it names another id"))
        }
    }

    async fn get_json(&self, url: &str, reader: Option<Reader<'_>>) -> AppResult<Value> {
        let body = self
            .get_signed(url, MAX_DOCUMENT_BYTES, true, reader)
            .await?;
        serde_json::from_slice(&body).map_err(|e| invalid_document(url, e))
    }

    /// Fetches a file (a photo) of at most `max` bytes, signed by the
    /// instance actor.
    pub async fn get_bytes(&self, url: &str, max: usize) -> AppResult<Vec<u8>> {
        self.get_signed(url, max, false, None).await
    }

    async fn get_signed(
        &self,
        url: &str,
        max: usize,
        json: bool,
        signer: Option<Reader<'_>>,
    ) -> AppResult<Vec<u8>> {
        let parsed =
            reqwest::Url::parse(url).map_err(|_| AppError::bad_request("remote_url_invalid"))?;
        let host =
            crate::urls::host_of(url).ok_or_else(|| AppError::bad_request("remote_url_invalid"))?;
        self.gate(&host).await?;
        self.policy
            .check_url(&parsed)
            .map_err(|e| unreachable(url, e))?;
        let urls = crate::urls::Urls(&self.config);
        let (key_id, keys) = match signer {
            Some(Reader { id, username }) => (
                urls.key(username),
                self.db.run(move |c| super::keys::user_keys(c, id)).await?,
            ),
            None => (
                urls.instance_key(),
                self.db.run(super::keys::instance_keys).await?,
            ),
        };
        let accept = if json {
            "application/activity+json, application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\""
        } else {
            "*/*"
        };
        let request = || self.http.get(parsed.clone()).header("accept", accept);
        let res = self
            .send_signed(
                &host,
                &Method::GET,
                &parsed,
                None,
                (&key_id, &keys.private_pem),
                request,
            )
            .await
            .map_err(|e| match e {
                Unsent::Sign(e) => e,
                Unsent::Send(e) => unreachable(url, describe(&e)),
            })?;
        let status = res.status();
        if status.as_u16() == 404 || status.as_u16() == 410 {
            return Err(AppError::new(ErrorKind::NotFound, "remote_not_found"));
        }
        if !status.is_success() {
            tracing::info!(url = %url, status = status.as_u16(), "remote request refused");
            return Err(AppError::new(ErrorKind::BadGateway, "remote_refused"));
        }
        if json {
            let media = res
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !is_activitypub(media) {
                return Err(invalid_document(url, format!("served as {media:?}")));
            }
        }
        read_bounded(res, max, url).await
    }

    /// Fetches a JSON document without a signature (WebFinger, NodeInfo).
    pub async fn get_plain(&self, url: &str) -> AppResult<Value> {
        let parsed =
            reqwest::Url::parse(url).map_err(|_| AppError::bad_request("remote_url_invalid"))?;
        let host =
            crate::urls::host_of(url).ok_or_else(|| AppError::bad_request("remote_url_invalid"))?;
        self.gate(&host).await?;
        self.policy
            .check_url(&parsed)
            .map_err(|e| unreachable(url, e))?;
        let res = self
            .http
            .get(parsed)
            .header("accept", "application/jrd+json, application/json")
            .send()
            .await
            .map_err(|e| unreachable(url, describe(&e)))?;
        if res.status().as_u16() == 404 {
            return Err(AppError::new(ErrorKind::NotFound, "remote_not_found"));
        }
        if !res.status().is_success() {
            tracing::info!(url = %url, status = res.status().as_u16(), "remote request refused");
            return Err(AppError::new(ErrorKind::BadGateway, "remote_refused"));
        }
        let body = read_bounded(res, MAX_DOCUMENT_BYTES, url).await?;
        serde_json::from_slice(&body).map_err(|e| invalid_document(url, e))
    }

    /// Posts a signed activity to an inbox. The trust gate was asked by the
    /// caller (the delivery worker), which also decides what to do on failure.
    pub async fn post_signed(
        &self,
        inbox: &str,
        body: &[u8],
        key_id: &str,
        private_pem: &str,
    ) -> Result<(), SendError> {
        let fail = |message: String, retry: bool| SendError { message, retry };
        let url =
            reqwest::Url::parse(inbox).map_err(|e| fail(format!("bad inbox URL: {e}"), false))?;
        // The trust gate was asked for this instance in this round, so the
        // address policy knows whether it may use private addresses.
        self.policy.check_url(&url).map_err(|e| fail(e, false))?;
        let domain = crate::urls::host_of(inbox).unwrap_or_default();
        let request = || self.http.post(url.clone()).body(body.to_vec());
        let res = self
            .send_signed(
                &domain,
                &Method::POST,
                &url,
                Some(body),
                (key_id, private_pem),
                request,
            )
            .await
            .map_err(|e| match e {
                Unsent::Sign(e) => fail(e.to_string(), true),
                Unsent::Send(e) => fail(describe(&e), true),
            })?;
        let status = res.status();
        if status.is_success() {
            return Ok(());
        }
        // The start of the explanation, however long the body (Lemmy's run
        // to several kilobytes).
        let head = read_prefix(res, 4096).await;
        let text: String = String::from_utf8_lossy(&head).chars().take(500).collect();
        // 4xx means the receiver refuses this activity: trying again will not
        // help, except for time-outs and rate limits.
        let retry = !status.is_client_error() || matches!(status.as_u16(), 408 | 429);
        Err(fail(
            format!("HTTP {}: {}", status.as_u16(), text.trim()),
            retry,
        ))
    }
}

/// Why a signed request got no answer.
enum Unsent {
    Sign(AppError),
    Send(reqwest::Error),
}

impl Client {
    /// Sends the request `request` builds, signed with the scheme `domain`
    /// is known to read (see [`schemes`]): after a 401 to RFC 9421, once
    /// more with draft-cavage, which is then remembered for `domain`.
    async fn send_signed(
        &self,
        domain: &str,
        method: &Method,
        url: &reqwest::Url,
        body: Option<&[u8]>,
        (key_id, private_pem): (&str, &str),
        request: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, Unsent> {
        let mut scheme = schemes::preferred(domain);
        loop {
            let headers = signing_headers(method, url, body, key_id, private_pem, scheme)
                .await
                .map_err(Unsent::Sign)?;
            let mut req = request();
            for (n, v) in headers {
                req = req.header(n, v);
            }
            let res = req.send().await.map_err(Unsent::Send)?;
            if res.status().as_u16() == 401 && scheme == Scheme::Rfc9421 {
                schemes::learned(&self.db, domain, Scheme::Cavage).await;
                scheme = Scheme::Cavage;
                continue;
            }
            return Ok(res);
        }
    }
}

/// The headers that sign a request with `scheme`; the RSA signature is
/// made on a blocking thread.
async fn signing_headers(
    method: &Method,
    url: &reqwest::Url,
    body: Option<&[u8]>,
    key_id: &str,
    private_pem: &str,
    scheme: Scheme,
) -> AppResult<Vec<(&'static str, String)>> {
    match scheme {
        Scheme::Cavage => {
            super::signature::sign_async(
                method,
                &path_and_query(url),
                &host_header(url),
                body,
                key_id,
                private_pem,
            )
            .await
        }
        Scheme::Rfc9421 => {
            // The target URI as the server sees it: no fragment is sent.
            let mut target = url.clone();
            target.set_fragment(None);
            super::signature::rfc9421::sign_async(
                method,
                target.as_str(),
                body,
                key_id,
                private_pem,
            )
            .await
        }
    }
}

fn path_and_query(u: &reqwest::Url) -> String {
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    }
}

/// The Host header reqwest sends: the host, with the port when it is not the
/// scheme's default.
fn host_header(u: &reqwest::Url) -> String {
    let host = u.host_str().unwrap_or_default();
    match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

fn describe(e: &reqwest::Error) -> String {
    use std::error::Error;
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

async fn read_bounded(mut res: reqwest::Response, max: usize, url: &str) -> AppResult<Vec<u8>> {
    if res.content_length().is_some_and(|n| n as usize > max) {
        return Err(AppError::remote("remote_too_large", max));
    }
    let mut out = Vec::new();
    while let Some(chunk) = res
        .chunk()
        .await
        .map_err(|e| unreachable(url, describe(&e)))?
    {
        if out.len() + chunk.len() > max {
            return Err(AppError::remote("remote_too_large", max));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// The first `max` bytes of a response body, or what arrived of them.
async fn read_prefix(mut res: reqwest::Response, max: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while out.len() < max {
        match res.chunk().await {
            Ok(Some(chunk)) => {
                let room = max - out.len();
                out.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            _ => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{is_activitypub, same_address};

    #[test]
    fn only_activitypub_media_types_are_documents() {
        for ok in [
            "application/activity+json",
            "application/activity+json; charset=utf-8",
            "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
            "Application/LD+JSON; charset=utf-8; profile=\"https://www.w3.org/ns/activitystreams\"",
        ] {
            assert!(is_activitypub(ok), "{ok}");
        }
        for bad in [
            "application/json",
            "application/ld+json",
            "application/ld+json; profile=\"https://example.com/other\"",
            "text/html",
            "",
        ] {
            assert!(!is_activitypub(bad), "{bad}");
        }
    }

    #[test]
    fn a_document_is_named_by_its_address_without_fragment() {
        assert!(same_address(
            "https://b.example/people/ann#main-key",
            "https://b.example/people/ann"
        ));
        assert!(same_address(
            "https://B.example:443/people/ann",
            "https://b.example/people/ann"
        ));
        assert!(!same_address(
            "https://b.example/files/ann.json",
            "https://b.example/people/ann"
        ));
        assert!(!same_address(
            "https://b.example/people/ann",
            "https://c.example/people/ann"
        ));
        assert!(!same_address("not a url", "not a url"));
    }
}
