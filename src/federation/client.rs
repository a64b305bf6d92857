//! Our outgoing HTTP client. Every request first asks the trust gate about
//! the host; the resolver refuses private addresses unless the configuration
//! or the instance's trust entry allows them (checked at connection time, so
//! a DNS answer cannot swap in an intranet address). Redirects are not
//! followed, bodies are bounded and every request has a time limit.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::http::Method;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde_json::Value;

use super::net::{address_allowed, Cidr};
use super::trust::{self, Decision};
use crate::config::Config;
use crate::db::Db;
use crate::error::{AppError, AppResult};

/// Largest ActivityPub document we read from another instance.
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

struct Resolver {
    overrides: Vec<(String, IpAddr)>,
    ranges: Vec<Cidr>,
    /// Hosts whose trust entry allows private addresses, refreshed by
    /// [`Client::gate`] before every request.
    private_ok: Arc<RwLock<HashSet<String>>>,
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
        let ranges = self.ranges.clone();
        let allow_private = self
            .private_ok
            .read()
            .map(|s| s.contains(&host))
            .unwrap_or(false);
        Box::pin(async move {
            let found: Vec<SocketAddr> = if fixed.is_empty() {
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect()
            } else {
                fixed.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect()
            };
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| address_allowed(a.ip(), &ranges, allow_private))
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

/// The outgoing client, shared by the process.
pub struct Client {
    http: reqwest::Client,
    private_ok: Arc<RwLock<HashSet<String>>>,
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
        let private_ok = Arc::new(RwLock::new(HashSet::new()));
        let resolver = Resolver {
            overrides: config.resolve_overrides(),
            ranges: config
                .federation
                .allowed_private_ranges
                .iter()
                .filter_map(|r| Cidr::parse(r).ok())
                .collect(),
            private_ok: private_ok.clone(),
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
            private_ok,
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
        let mode = self.config.federation.mode;
        let own = self.config.domain();
        let all = self
            .db
            .run(move |c| trust::decide_many(c, &domains))
            .await?;
        let mut out = std::collections::HashMap::new();
        for (domain, (decision, private)) in all {
            if domain.eq_ignore_ascii_case(&own) {
                out.insert(domain, Ok(Decision::Member));
                continue;
            }
            if let Ok(mut set) = self.private_ok.write() {
                if private {
                    set.insert(domain.to_ascii_lowercase());
                } else {
                    set.remove(&domain.to_ascii_lowercase());
                }
            }
            let verdict = if decision.may_federate(mode) {
                Ok(decision)
            } else {
                Err(AppError::forbidden("instance_not_trusted").with("domain", &domain))
            };
            out.insert(domain, verdict);
        }
        Ok(out)
    }

    /// Fetches an ActivityPub document, signed by the instance actor.
    pub async fn get(&self, url: &str) -> AppResult<Value> {
        let body = self.get_signed(url, MAX_DOCUMENT_BYTES, true, None).await?;
        serde_json::from_slice(&body).map_err(|e| AppError::remote("remote_invalid", e))
    }

    /// Fetches an ActivityPub document, signed by the local person `user`
    /// (what the other instance answers depends on who reads).
    pub async fn get_as(&self, url: &str, user: &crate::accounts::User) -> AppResult<Value> {
        let body = self
            .get_signed(url, MAX_DOCUMENT_BYTES, true, Some(user))
            .await?;
        serde_json::from_slice(&body).map_err(|e| AppError::remote("remote_invalid", e))
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
        signer: Option<&crate::accounts::User>,
    ) -> AppResult<Vec<u8>> {
        let parsed =
            reqwest::Url::parse(url).map_err(|_| AppError::bad_request("remote_url_invalid"))?;
        let host =
            super::host_of(url).ok_or_else(|| AppError::bad_request("remote_url_invalid"))?;
        self.gate(&host).await?;
        let urls = super::Urls(&self.config);
        let (key_id, keys) = match signer {
            Some(u) if u.is_local() && u.is_person() => {
                let id = u.id;
                (
                    urls.key(&u.username),
                    self.db.run(move |c| super::keys::user_keys(c, id)).await?,
                )
            }
            Some(_) => return Err(AppError::internal("only local people sign fetches")),
            None => (
                urls.instance_key(),
                self.db.run(super::keys::instance_keys).await?,
            ),
        };
        let headers = super::signature::sign(
            &Method::GET,
            &path_and_query(&parsed),
            &host_header(&parsed),
            None,
            &key_id,
            &keys.private_pem,
        )?;
        let accept = if json {
            "application/activity+json, application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\""
        } else {
            "*/*"
        };
        let mut req = self.http.get(parsed).header("accept", accept);
        for (n, v) in headers {
            req = req.header(n, v);
        }
        let res = req
            .send()
            .await
            .map_err(|e| AppError::remote("remote_unreachable", describe(&e)))?;
        let status = res.status();
        if status.as_u16() == 404 || status.as_u16() == 410 {
            return Err(AppError::new(
                crate::error::ErrorKind::NotFound,
                "remote_not_found",
            ));
        }
        if !status.is_success() {
            return Err(AppError::remote("remote_refused", status.as_u16()));
        }
        read_bounded(res, max).await
    }

    /// Fetches a JSON document without a signature (WebFinger, NodeInfo).
    pub async fn get_plain(&self, url: &str) -> AppResult<Value> {
        let host =
            super::host_of(url).ok_or_else(|| AppError::bad_request("remote_url_invalid"))?;
        self.gate(&host).await?;
        let res = self
            .http
            .get(url)
            .header("accept", "application/jrd+json, application/json")
            .send()
            .await
            .map_err(|e| AppError::remote("remote_unreachable", describe(&e)))?;
        if res.status().as_u16() == 404 {
            return Err(AppError::new(
                crate::error::ErrorKind::NotFound,
                "remote_not_found",
            ));
        }
        if !res.status().is_success() {
            return Err(AppError::remote("remote_refused", res.status().as_u16()));
        }
        let body = read_bounded(res, MAX_DOCUMENT_BYTES).await?;
        serde_json::from_slice(&body).map_err(|e| AppError::remote("remote_invalid", e))
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
        let headers = super::signature::sign(
            &Method::POST,
            &path_and_query(&url),
            &host_header(&url),
            Some(body),
            key_id,
            private_pem,
        )
        .map_err(|e| fail(e.to_string(), true))?;
        let mut req = self.http.post(url).body(body.to_vec());
        for (n, v) in headers {
            req = req.header(n, v);
        }
        let res = req.send().await.map_err(|e| fail(describe(&e), true))?;
        let status = res.status();
        if status.is_success() {
            return Ok(());
        }
        let text = read_bounded(res, 2048)
            .await
            .ok()
            .map(|b| {
                String::from_utf8_lossy(&b)
                    .chars()
                    .take(300)
                    .collect::<String>()
            })
            .unwrap_or_default();
        // 4xx means the receiver refuses this activity: trying again will not
        // help, except for time-outs and rate limits.
        let retry = !status.is_client_error() || matches!(status.as_u16(), 408 | 429);
        Err(fail(
            format!("HTTP {}: {}", status.as_u16(), text.trim()),
            retry,
        ))
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

async fn read_bounded(mut res: reqwest::Response, max: usize) -> AppResult<Vec<u8>> {
    if res.content_length().is_some_and(|n| n as usize > max) {
        return Err(AppError::remote("remote_too_large", max));
    }
    let mut out = Vec::new();
    while let Some(chunk) = res
        .chunk()
        .await
        .map_err(|e| AppError::remote("remote_unreachable", describe(&e)))?
    {
        if out.len() + chunk.len() > max {
            return Err(AppError::remote("remote_too_large", max));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}
