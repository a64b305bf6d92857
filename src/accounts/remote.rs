//! Accounts of other instances: the copy kept here of a remote actor (a
//! person, a community or an instance), refreshed each time its document
//! is fetched, and its end when its instance deletes it. The protocol side
//! (fetching and checking the document) is `federation::remote`'s; this is
//! what is stored.

use diesel::prelude::*;

use crate::db::schema::users;
use crate::db::{self, now, DbConn};
use crate::error::AppResult;

/// What is kept of a remote actor, read from its (checked) document.
#[derive(Debug, Clone, Default)]
pub struct RemoteProfile {
    pub ap_id: String,
    /// Its instance, `host[:port]`.
    pub domain: String,
    /// `name@host[:port]`, our username for them.
    pub handle: String,
    pub display_name: String,
    /// Sanitised.
    pub bio_html: String,
    pub inbox: String,
    pub shared_inbox: String,
    pub url: String,
    pub key_id: String,
    pub public_pem: String,
    pub job_title: String,
    pub department: String,
    pub site: String,
    pub location: String,
    pub phone: String,
    pub email: String,
    /// Comma-separated, as shown.
    pub languages: String,
    /// An instance's own actor, which signs its fetches: kept for its key,
    /// never listed as a person.
    pub is_instance: bool,
}

/// Stores or refreshes the account of a remote actor, found by its address
/// or its handle (inside a write transaction); returns its id. `group`:
/// the actor of a community, whose settings the caller stores.
pub fn store(c: &mut DbConn, p: &RemoteProfile, group: bool) -> AppResult<i64> {
    let now = now();
    let existing: Option<i64> = users::table
        .filter(users::ap_id.eq(&p.ap_id).or(users::username.eq(&p.handle)))
        .select(users::id)
        .first(c)
        .optional()?;
    let fields = (
        users::username.eq(&p.handle),
        users::display_name.eq(&p.display_name),
        users::bio_html.eq(&p.bio_html),
        users::job_title.eq(&p.job_title),
        users::department.eq(&p.department),
        users::site.eq(&p.site),
        users::location.eq(&p.location),
        users::phone.eq(&p.phone),
        users::work_email.eq(&p.email),
        users::languages.eq(&p.languages),
        users::inbox.eq(&p.inbox),
        users::shared_inbox.eq(&p.shared_inbox),
        users::profile_url.eq(&p.url),
        users::key_id.eq(&p.key_id),
        users::public_key.eq(&p.public_pem),
        users::fetched_at.eq(Some(now)),
    );
    let hidden = p.is_instance;
    let id = match existing {
        Some(id) => {
            diesel::update(users::table.find(id))
                .set(fields)
                .execute(c)?;
            diesel::update(users::table.find(id))
                .set((users::ap_id.eq(&p.ap_id), users::email.eq(&p.ap_id)))
                .execute(c)?;
            if hidden {
                diesel::update(users::table.find(id))
                    .set(users::disabled.eq(true))
                    .execute(c)?;
            }
            id
        }
        None => diesel::insert_into(users::table)
            .values((
                fields,
                users::email.eq(&p.ap_id),
                users::password_hash.eq("!"),
                users::domain.eq(&p.domain),
                users::ap_id.eq(&p.ap_id),
                users::actor_type.eq(if group { "group" } else { "person" }),
                users::disabled.eq(hidden),
                users::created_at.eq(now),
            ))
            .returning(users::id)
            .get_result(c)?,
    };
    Ok(id)
}

/// Another instance deleted the account of its person `id`: the copy
/// here is disabled and marked deleted (their content goes with
/// `content::remote::delete_all_of`).
pub fn deleted(conn: &mut DbConn, id: i64) -> AppResult<()> {
    db::write(conn, |c| {
        diesel::update(users::table.find(id).filter(users::domain.is_not_null()))
            .set((users::disabled.eq(true), users::deleted_at.eq(Some(now()))))
            .execute(c)
    })?;
    Ok(())
}
