//! The delivery worker: expands outbox events, claims due deliveries, signs
//! and sends them, and records the outcome with per-instance health.
//!
//! A claim sets a lease (`locked_until`) in a transaction; on PostgreSQL the
//! claiming query skips rows other processes hold (`FOR UPDATE SKIP LOCKED`),
//! so two processes never send the same delivery at once. A process killed
//! mid-send leaves the lease to expire and the delivery is sent again (the
//! receiver ignores a repeated activity id). Failures are retried with
//! exponential back-off and jitter until `retry_hours` have passed, then the
//! delivery is marked failed, stays visible to admins and can be retried.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
use rand::Rng;

use crate::app::AppState;
use crate::config::Config;
use crate::db::schema::{deliveries, peers};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub actor_id: Option<i64>,
    #[diesel(sql_type = Text)]
    pub domain: String,
    #[diesel(sql_type = Text)]
    pub inbox: String,
    #[diesel(sql_type = Text)]
    pub activity: String,
    #[diesel(sql_type = Timestamp)]
    pub created_at: NaiveDateTime,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub attempts: i32,
}

/// How long a claim lasts: longer than any one send can take.
fn lease(cfg: &Config) -> chrono::Duration {
    chrono::Duration::seconds(2 * cfg.federation.request_timeout_seconds as i64 + 5)
}

const CLAIM_SQL_PG: &str = "UPDATE deliveries SET locked_until = $1 WHERE id IN (
    SELECT id FROM deliveries
    WHERE status = 'pending' AND next_attempt_at <= $2
      AND (locked_until IS NULL OR locked_until < $2)
      AND domain NOT IN (SELECT domain FROM peers WHERE next_attempt_at > $2)
    ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
  RETURNING id, actor_id, domain, inbox, activity, created_at, attempts";

const CLAIM_SQL_SQLITE: &str = "UPDATE deliveries SET locked_until = ?1 WHERE id IN (
    SELECT id FROM deliveries
    WHERE status = 'pending' AND next_attempt_at <= ?2
      AND (locked_until IS NULL OR locked_until < ?2)
      AND domain NOT IN (SELECT domain FROM peers WHERE next_attempt_at > ?2)
    ORDER BY id LIMIT ?3)
  RETURNING id, actor_id, domain, inbox, activity, created_at, attempts";

/// Claims up to `limit` due deliveries for this process.
pub fn claim(conn: &mut DbConn, cfg: &Config, limit: i64) -> AppResult<Vec<Claimed>> {
    let now = now();
    // Look before taking the write lock: an idle worker only reads.
    let due: i64 = deliveries::table
        .filter(deliveries::status.eq("pending"))
        .filter(deliveries::next_attempt_at.le(now))
        .select(deliveries::id)
        .limit(1)
        .load::<i64>(conn)?
        .len() as i64;
    if due == 0 {
        return Ok(Vec::new());
    }
    let until = now + lease(cfg);
    let sql = match conn {
        DbConn::Pg(_) => CLAIM_SQL_PG,
        DbConn::Sqlite(_) => CLAIM_SQL_SQLITE,
    };
    let rows = db::write(conn, |c| {
        diesel::sql_query(sql)
            .bind::<Timestamp, _>(until)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(limit)
            .load::<Claimed>(c)
    })?;
    Ok(rows)
}

/// The back-off before attempt `n + 1`: base × 2ⁿ, capped, ±25 % jitter.
pub fn backoff(cfg: &Config, failures: i32) -> chrono::Duration {
    let base = cfg.federation.retry_base_ms as f64;
    let exp = base * 2f64.powi(failures.clamp(0, 30));
    let capped = exp.min(
        cfg.federation
            .retry_max_ms
            .max(cfg.federation.retry_base_ms) as f64,
    );
    let jitter = rand::thread_rng().gen_range(0.75..1.25);
    chrono::Duration::milliseconds((capped * jitter) as i64)
}

/// What happened to one delivery.
pub enum Outcome {
    Sent,
    /// Failed; retry later (`true`) or give up now (`false`).
    Failed(String, bool),
    /// No longer allowed by the trust gate.
    Cancelled(String),
}

/// Records the outcomes of a round in one transaction.
pub fn finish_all(
    conn: &mut DbConn,
    cfg: &Config,
    results: &[(Claimed, Outcome)],
) -> AppResult<()> {
    let now = now();
    db::write(conn, |c| {
        for (d, outcome) in results {
            match outcome {
                Outcome::Sent => {
                    diesel::update(deliveries::table.find(d.id))
                        .set((
                            deliveries::status.eq("sent"),
                            deliveries::attempts.eq(d.attempts + 1),
                            deliveries::locked_until.eq(None::<NaiveDateTime>),
                            deliveries::done_at.eq(Some(now)),
                            deliveries::last_error.eq(""),
                        ))
                        .execute(c)?;
                    upsert_peer(c, &d.domain)?;
                    diesel::update(peers::table.find(&d.domain))
                        .set((
                            peers::last_success_at.eq(Some(now)),
                            peers::consecutive_failures.eq(0),
                            peers::next_attempt_at.eq(None::<NaiveDateTime>),
                            peers::last_error.eq(""),
                        ))
                        .execute(c)?;
                }
                Outcome::Failed(msg, retry) => {
                    let attempts = d.attempts + 1;
                    let expired = now - d.created_at
                        > chrono::Duration::hours(cfg.federation.retry_hours as i64);
                    let give_up = !retry || expired;
                    let next = now + backoff(cfg, attempts - 1);
                    diesel::update(deliveries::table.find(d.id))
                        .set((
                            deliveries::status.eq(if give_up { "failed" } else { "pending" }),
                            deliveries::attempts.eq(attempts),
                            deliveries::next_attempt_at.eq(next),
                            deliveries::locked_until.eq(None::<NaiveDateTime>),
                            deliveries::last_error.eq(msg.chars().take(500).collect::<String>()),
                            deliveries::done_at.eq(if give_up { Some(now) } else { None }),
                        ))
                        .execute(c)?;
                    if *retry {
                        // The instance looks down: hold its other deliveries too.
                        upsert_peer(c, &d.domain)?;
                        let failures: i32 = peers::table
                            .find(&d.domain)
                            .select(peers::consecutive_failures)
                            .first(c)?;
                        diesel::update(peers::table.find(&d.domain))
                            .set((
                                peers::last_failure_at.eq(Some(now)),
                                peers::consecutive_failures.eq(failures + 1),
                                peers::next_attempt_at.eq(Some(now + backoff(cfg, failures))),
                                peers::last_error.eq(msg.chars().take(500).collect::<String>()),
                            ))
                            .execute(c)?;
                    }
                }
                Outcome::Cancelled(msg) => {
                    diesel::update(deliveries::table.find(d.id))
                        .set((
                            deliveries::status.eq("cancelled"),
                            deliveries::locked_until.eq(None::<NaiveDateTime>),
                            deliveries::last_error.eq(msg.as_str()),
                            deliveries::done_at.eq(Some(now)),
                        ))
                        .execute(c)?;
                }
            }
        }
        Ok::<_, AppError>(())
    })
}

/// Makes sure an instance has a row in `peers` (inside a write transaction).
fn upsert_peer(c: &mut DbConn, domain: &str) -> AppResult<()> {
    let n: i64 = peers::table.find(domain).count().get_result(c)?;
    if n == 0 {
        diesel::insert_into(peers::table)
            .values(peers::domain.eq(domain))
            .execute(c)?;
    }
    Ok(())
}

/// What a round knows before sending: per instance, whether the trust gate
/// allows it now; per signer, its key id and private key.
struct Prepared {
    gate: HashMap<String, Result<(), Outcome>>,
    keys: HashMap<i64, (String, String)>,
}

async fn prepare(state: &AppState, claimed: &[Claimed]) -> Prepared {
    let mut domains: Vec<String> = claimed.iter().map(|d| d.domain.clone()).collect();
    domains.sort();
    domains.dedup();
    let mut gate = HashMap::new();
    let known = domains.clone();
    if let Err(e) = state
        .db
        .run(move |c| crate::net::schemes::load(c, &known))
        .await
    {
        tracing::warn!(error = %e, "could not read which signatures instances accept");
    }
    match state.fed.gate_many(domains.clone()).await {
        Ok(verdicts) => {
            for (domain, v) in verdicts {
                let verdict = match v {
                    Ok(_) => Ok(()),
                    Err(_) => Err(Outcome::Cancelled(format!("{domain} is not trusted"))),
                };
                gate.insert(domain, verdict);
            }
        }
        Err(e) => {
            for domain in domains {
                gate.insert(domain, Err(Outcome::Failed(e.to_string(), true)));
            }
        }
    }
    let mut actors: Vec<i64> = claimed.iter().filter_map(|d| d.actor_id).collect();
    actors.sort_unstable();
    actors.dedup();
    let cfg = state.config.clone();
    let keys = state
        .db
        .run(move |c| {
            let mut keys = HashMap::new();
            for a in actors {
                let u = crate::accounts::find_by_id(c, a)?;
                let k = crate::net::keys::user_keys(c, a)?;
                let key_id = if u.is_person() {
                    crate::urls::Urls(&cfg).key(&u.username)
                } else {
                    crate::urls::Urls(&cfg).community_key(&u.username)
                };
                keys.insert(a, (key_id, k.private_pem));
            }
            Ok(keys)
        })
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not load signing keys");
            HashMap::new()
        });
    Prepared { gate, keys }
}

/// Sends one claimed delivery.
async fn send(state: &AppState, prepared: &Prepared, d: &Claimed) -> Outcome {
    match prepared.gate.get(&d.domain) {
        Some(Ok(())) => {}
        Some(Err(Outcome::Cancelled(m))) => return Outcome::Cancelled(m.clone()),
        Some(Err(Outcome::Failed(m, r))) => return Outcome::Failed(m.clone(), *r),
        _ => return Outcome::Failed("trust gate not asked".into(), true),
    }
    let Some((key_id, pem)) = d.actor_id.and_then(|a| prepared.keys.get(&a)) else {
        return Outcome::Failed("no signing key for this delivery".into(), true);
    };
    match state
        .fed
        .post_signed(&d.inbox, d.activity.as_bytes(), key_id, pem)
        .await
    {
        Ok(()) => Outcome::Sent,
        Err(e) => Outcome::Failed(e.message, e.retry),
    }
}

/// One round: expand events, claim, send, record. Returns how many
/// deliveries were attempted.
pub async fn round(state: &AppState) -> AppResult<usize> {
    let cfg = state.config.clone();
    state
        .db
        .run(move |c| super::outbox::expand(c, &cfg, 100))
        .await?;
    let cfg = state.config.clone();
    let limit = (state.config.federation.delivery_concurrency as i64) * 4;
    let claimed = state.db.run(move |c| claim(c, &cfg, limit)).await?;
    let n = claimed.len();
    if n == 0 {
        return Ok(0);
    }
    let prepared = Arc::new(prepare(state, &claimed).await);
    let sem = Arc::new(tokio::sync::Semaphore::new(
        state.config.federation.delivery_concurrency as usize,
    ));
    let mut set = tokio::task::JoinSet::new();
    for d in claimed {
        let state = state.clone();
        let sem = sem.clone();
        let prepared = prepared.clone();
        set.spawn(async move {
            let _permit = sem.acquire().await;
            let outcome = send(&state, &prepared, &d).await;
            if let Outcome::Failed(msg, _) = &outcome {
                tracing::info!(inbox = %d.inbox, error = %msg, "delivery failed");
            }
            (d, outcome)
        });
    }
    let mut results = Vec::with_capacity(n);
    while let Some(r) = set.join_next().await {
        match r {
            Ok(r) => results.push(r),
            Err(e) => {
                tracing::warn!(error = %e, "a delivery task failed; its lease will expire and it will be sent again")
            }
        }
    }
    let cfg = state.config.clone();
    if let Err(e) = state.db.run(move |c| finish_all(c, &cfg, &results)).await {
        tracing::warn!(error = %e, "could not record delivery outcomes; the leases will expire and they will be sent again");
    }
    Ok(n)
}

/// Runs forever: rounds back to back while there is work, else waits for
/// the poll interval or a wake-up.
pub async fn run(state: AppState) {
    let idle = Duration::from_millis(state.config.federation.poll_interval_ms);
    loop {
        match round(&state).await {
            Ok(0) => {
                tokio::select! {
                    _ = tokio::time::sleep(idle) => {}
                    _ = state.wake.notified() => {}
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "delivery round failed; retrying");
                tokio::time::sleep(idle).await;
            }
        }
    }
}

/// Makes a failed delivery due again (admin action).
pub fn retry(conn: &mut DbConn, id: i64) -> AppResult<()> {
    let n = db::write(conn, |c| {
        diesel::update(
            deliveries::table
                .find(id)
                .filter(deliveries::status.eq_any(["failed", "cancelled"])),
        )
        .set((
            deliveries::status.eq("pending"),
            deliveries::next_attempt_at.eq(now()),
            deliveries::created_at.eq(now()),
            deliveries::done_at.eq(None::<NaiveDateTime>),
        ))
        .execute(c)
    })?;
    if n == 0 {
        return Err(AppError::new(
            crate::error::ErrorKind::NotFound,
            "delivery_unknown",
        ));
    }
    Ok(())
}

/// Queue figures for the admin page.
#[derive(Debug, Clone, serde::Serialize)]
pub struct QueueStats {
    pub pending: i64,
    pub failed: i64,
    pub sent: i64,
}

pub fn stats(conn: &mut DbConn) -> AppResult<QueueStats> {
    let rows: Vec<(String, i64)> = deliveries::table
        .group_by(deliveries::status)
        .select((deliveries::status, diesel::dsl::count_star()))
        .load(conn)?;
    let get = |s: &str| rows.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
    Ok(QueueStats {
        pending: get("pending"),
        failed: get("failed"),
        sent: get("sent"),
    })
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = deliveries)]
pub struct Delivery {
    pub id: i64,
    pub domain: String,
    pub inbox: String,
    pub status: String,
    pub attempts: i32,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub next_attempt_at: NaiveDateTime,
    pub last_error: String,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub created_at: NaiveDateTime,
}

/// Failed deliveries, newest first.
pub fn failed(conn: &mut DbConn, limit: i64) -> AppResult<Vec<Delivery>> {
    deliveries::table
        .filter(deliveries::status.eq("failed"))
        .order(deliveries::id.desc())
        .limit(limit)
        .select(Delivery::as_select())
        .load(conn)
        .map_err(AppError::from)
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = peers)]
pub struct Peer {
    pub domain: String,
    #[serde(serialize_with = "crate::db::utc::option")]
    pub last_success_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "crate::db::utc::option")]
    pub last_failure_at: Option<NaiveDateTime>,
    pub consecutive_failures: i32,
    #[serde(serialize_with = "crate::db::utc::option")]
    pub next_attempt_at: Option<NaiveDateTime>,
    pub last_error: String,
}

pub fn peers(conn: &mut DbConn) -> AppResult<Vec<Peer>> {
    peers::table
        .order(peers::domain.asc())
        .select(Peer::as_select())
        .load(conn)
        .map_err(AppError::from)
}

/// Forgets delivered and cancelled deliveries after a week and the ids of
/// applied activities after a month (failed ones stay until retried or an
/// administrator acts). Returns the rows removed.
pub fn purge(conn: &mut DbConn) -> AppResult<usize> {
    use crate::db::schema::inbox_seen;
    let now = now();
    let week = now - chrono::Duration::days(7);
    let month = now - chrono::Duration::days(30);
    let n = db::write(conn, |c| {
        let a = diesel::delete(
            deliveries::table
                .filter(deliveries::status.eq_any(["sent", "cancelled"]))
                .filter(deliveries::done_at.lt(week)),
        )
        .execute(c)?;
        let b = diesel::delete(inbox_seen::table.filter(inbox_seen::received_at.lt(month)))
            .execute(c)?;
        Ok::<_, AppError>(a + b)
    })?;
    Ok(n)
}
