//! Which HTTP signature scheme each instance accepts. Ruche signs with
//! draft-cavage, which every server of the network reads, and with RFC 9421
//! for the instances known to accept it: those whose actors say so (FEP-844e:
//! `generator.implements` names RFC 9421, as Ruche's own actors do) and
//! those that signed a request to us with it. A request signed with RFC 9421 and refused with 401 is sent
//! again with draft-cavage, and the instance is remembered as draft-cavage
//! only (until it signs with RFC 9421 again), as Fedify does.
//!
//! What is known is kept in memory and in `peers.signatures`, so that other
//! processes and restarts know it too.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use diesel::prelude::*;

use crate::db::schema::peers;
use crate::db::{self, Db, DbConn};
use crate::error::AppResult;

/// How FEP-844e names RFC 9421 in an actor's `implements` (read by
/// `federation::protocol::Actor::implements`).
pub const RFC9421_HREF: &str = "https://datatracker.ietf.org/doc/html/rfc9421";

/// A scheme of HTTP signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Cavage,
    Rfc9421,
}

impl Scheme {
    fn as_str(self) -> &'static str {
        match self {
            Scheme::Cavage => "cavage",
            Scheme::Rfc9421 => "rfc9421",
        }
    }
}

static KNOWN: LazyLock<Mutex<HashMap<String, Scheme>>> = LazyLock::new(Default::default);

/// The scheme to sign with for `domain`.
pub fn preferred(domain: &str) -> Scheme {
    KNOWN
        .lock()
        .ok()
        .and_then(|k| k.get(domain).copied())
        .unwrap_or(Scheme::Cavage)
}

/// Loads what is stored for `domains` that this process does not know yet.
pub fn load(conn: &mut DbConn, domains: &[String]) -> AppResult<()> {
    let unknown: Vec<&String> = {
        let known = KNOWN.lock().map_err(crate::error::AppError::internal)?;
        domains.iter().filter(|d| !known.contains_key(*d)).collect()
    };
    if unknown.is_empty() {
        return Ok(());
    }
    let rows: Vec<(String, String)> = peers::table
        .filter(peers::domain.eq_any(&unknown))
        .select((peers::domain, peers::signatures))
        .load(conn)?;
    let rfc9421: Vec<String> = rows
        .into_iter()
        .filter(|(_, s)| s == Scheme::Rfc9421.as_str())
        .map(|(d, _)| d)
        .collect();
    // What is not stored is draft-cavage: each round of the delivery worker
    // asks the database only about instances it has not seen yet.
    let mut known = KNOWN.lock().map_err(crate::error::AppError::internal)?;
    for domain in unknown {
        let scheme = if rfc9421.contains(domain) {
            Scheme::Rfc9421
        } else {
            Scheme::Cavage
        };
        known.entry(domain.clone()).or_insert(scheme);
    }
    Ok(())
}

/// Records that `domain` accepts (`Rfc9421`) or refuses (`Cavage`) RFC 9421
/// signatures; stored only when it changes what is known.
pub async fn learned(db: &Db, domain: &str, scheme: Scheme) {
    {
        let Ok(mut known) = KNOWN.lock() else { return };
        if known.get(domain) == Some(&scheme) {
            return;
        }
        known.insert(domain.to_string(), scheme);
    }
    let domain = domain.to_string();
    let stored = db
        .run(move |c| {
            db::write(c, |c| {
                let n = diesel::update(peers::table.find(&domain))
                    .set(peers::signatures.eq(scheme.as_str()))
                    .execute(c)?;
                if n == 0 {
                    diesel::insert_into(peers::table)
                        .values((
                            peers::domain.eq(&domain),
                            peers::signatures.eq(scheme.as_str()),
                        ))
                        .execute(c)?;
                }
                Ok::<_, crate::error::AppError>(())
            })
        })
        .await;
    if let Err(e) = stored {
        tracing::warn!(error = %e, "could not store which signatures an instance accepts");
    }
}
