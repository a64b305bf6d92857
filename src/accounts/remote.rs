//! Accounts of other instances: the copy kept here of a remote actor (a
//! person, a community or an instance), refreshed each time its document
//! is fetched, and its end when its instance deletes it. The protocol side
//! (fetching and checking the document) is `federation::remote`'s; this is
//! what is stored.

use diesel::prelude::*;

use crate::db::schema::{remote_totals, users};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};

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
    /// Closed on its host (`suspended`): someone who left. Shown as gone
    /// (disabled here), and delivered nothing, until their host says
    /// otherwise.
    pub suspended: bool,
    /// A partner's guest on its host (`ruche:guest`): shown with the guest
    /// badge here too.
    pub guest: bool,
    /// When its host says it was created (else: when first seen here).
    pub created_at: Option<chrono::NaiveDateTime>,
}

/// Stores or refreshes the account of a remote actor, found by its address
/// or its handle (inside a write transaction); returns its id. `group`:
/// the actor of a community, whose settings the caller stores. The caller
/// indexes it for search once it has stored what it adds (skills, a
/// community's policy): once per actor read.
pub fn store(c: &mut DbConn, p: &RemoteProfile, group: bool) -> AppResult<i64> {
    let now = now();
    let find = |c: &mut DbConn| -> QueryResult<Option<i64>> {
        users::table
            .filter(users::ap_id.eq(&p.ap_id).or(users::username.eq(&p.handle)))
            .select(users::id)
            .first(c)
            .optional()
    };
    let mut existing: Option<i64> = find(c)?;
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
    let hidden = p.is_instance || p.suspended;
    if existing.is_none() {
        // In a savepoint: on PostgreSQL another request may store the same
        // actor at the same moment (a lookup and an activity from it); its
        // row then wins and is refreshed below (SQLite's writers take
        // turns, so this never happens there).
        let inserted = c.transaction(|c| {
            diesel::insert_into(users::table)
                .values((
                    fields,
                    users::email.eq(&p.ap_id),
                    users::password_hash.eq("!"),
                    users::domain.eq(&p.domain),
                    users::ap_id.eq(&p.ap_id),
                    users::actor_type.eq(if group { "group" } else { "person" }),
                    users::disabled.eq(hidden),
                    users::created_at.eq(p.created_at.unwrap_or(now)),
                ))
                .returning(users::id)
                .get_result::<i64>(c)
        });
        match inserted {
            Ok(id) => {
                mark_guest(c, id, p.guest && !group)?;
                return Ok(id);
            }
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => existing = find(c)?,
            Err(e) => return Err(e.into()),
        }
    }
    let id = match existing {
        Some(id) => {
            diesel::update(users::table.find(id))
                .set(fields)
                .execute(c)?;
            diesel::update(users::table.find(id))
                .set((users::ap_id.eq(&p.ap_id), users::email.eq(&p.ap_id)))
                .execute(c)?;
            // Disabled while hidden or closed on its host; back when its
            // host opens it again (a deleted account stays disabled).
            diesel::update(users::table.find(id).filter(users::deleted_at.is_null()))
                .set(users::disabled.eq(hidden))
                .execute(c)?;
            if let Some(at) = p.created_at {
                diesel::update(users::table.find(id))
                    .set(users::created_at.eq(at))
                    .execute(c)?;
            }
            mark_guest(c, id, p.guest && !group)?;
            id
        }
        None => {
            return Err(AppError::internal(
                "a remote actor neither stored nor found",
            ))
        }
    };
    Ok(id)
}

/// Keeps whether the person `id` of another instance is a guest there, as
/// their instance last said (inside the caller's write).
fn mark_guest(c: &mut DbConn, id: i64, guest: bool) -> AppResult<()> {
    use crate::db::schema::remote_guests;
    if guest {
        db::insert_unless_exists(c, |c| {
            diesel::insert_into(remote_guests::table)
                .values(remote_guests::user_id.eq(id))
                .execute(c)
        })?;
    } else {
        diesel::delete(remote_guests::table.find(id)).execute(c)?;
    }
    Ok(())
}

/// Another instance deleted the account of its person `id`: the copy
/// here is disabled and marked deleted (their content goes with
/// `content::remote::delete_all_of`).
pub fn deleted(conn: &mut DbConn, id: i64) -> AppResult<()> {
    db::write(conn, |c| {
        let gone = diesel::update(users::table.find(id).filter(users::domain.is_not_null()))
            .set((users::disabled.eq(true), users::deleted_at.eq(Some(now()))))
            .execute(c)?;
        if gone > 0 {
            // Its endorsements, given and received, go with it.
            let user = super::find_by_id(c, id)?;
            super::endorsements_go(c, &user)?;
        }
        crate::index::actor(c, id)?;
        Ok::<_, AppError>(())
    })?;
    Ok(())
}

/// The counts the host of the remote actor `id` publishes: its followers
/// (a community's members) and whom it follows; `None` keeps what was
/// known. Those it does not publish stay unknown, and this instance counts
/// what it knows instead.
pub fn set_totals(
    conn: &mut DbConn,
    id: i64,
    followers: Option<i64>,
    following: Option<i64>,
) -> AppResult<()> {
    if followers.is_none() && following.is_none() {
        return Ok(());
    }
    db::write(conn, |c| {
        let remote: i64 = users::table
            .find(id)
            .filter(users::domain.is_not_null())
            .count()
            .get_result(c)?;
        if remote == 0 {
            return Ok(());
        }
        let known: Option<(Option<i64>, Option<i64>)> = remote_totals::table
            .find(id)
            .select((remote_totals::followers, remote_totals::following))
            .first(c)
            .optional()?;
        let (old_followers, old_following) = known.unwrap_or_default();
        let row = (
            remote_totals::followers.eq(followers.or(old_followers)),
            remote_totals::following.eq(following.or(old_following)),
        );
        if known.is_some() {
            diesel::update(remote_totals::table.find(id))
                .set(row)
                .execute(c)?;
        } else {
            diesel::insert_into(remote_totals::table)
                .values((remote_totals::actor_id.eq(id), row.0, row.1))
                .execute(c)?;
        }
        Ok::<_, diesel::result::Error>(())
    })?;
    Ok(())
}

/// One more (`delta` 1) or one fewer (-1) follower of the remote actor `id`
/// than its host last said: one of our people's follow or join was
/// accepted, or ended (inside the transaction that records it).
pub(crate) fn count_follower(c: &mut DbConn, id: i64, delta: i64) -> AppResult<()> {
    let known: Option<Option<i64>> = remote_totals::table
        .find(id)
        .select(remote_totals::followers)
        .first(c)
        .optional()?;
    if let Some(Some(n)) = known {
        diesel::update(remote_totals::table.find(id))
            .set(remote_totals::followers.eq(Some((n + delta).max(0))))
            .execute(c)?;
    }
    Ok(())
}

/// Whether the host of the remote actor `id` was heard on its counts.
pub fn totals_known(conn: &mut DbConn, id: i64) -> AppResult<bool> {
    Ok(remote_totals::table
        .find(id)
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

/// What the followers and following of `id` number: as its host says for a
/// person of another instance when it says it, else as counted here
/// (`local`).
pub fn totals(conn: &mut DbConn, id: i64, local: (i64, i64)) -> AppResult<(i64, i64)> {
    let known: Option<(Option<i64>, Option<i64>)> = remote_totals::table
        .find(id)
        .select((remote_totals::followers, remote_totals::following))
        .first(conn)
        .optional()?;
    let (followers, following) = known.unwrap_or_default();
    Ok((followers.unwrap_or(local.0), following.unwrap_or(local.1)))
}

/// The members the hosts of the remote communities `ids` count, for those
/// whose host said it.
pub fn member_totals(conn: &mut DbConn, ids: &[i64]) -> AppResult<Vec<(i64, i64)>> {
    let rows: Vec<(i64, Option<i64>)> = remote_totals::table
        .filter(remote_totals::actor_id.eq_any(ids))
        .select((remote_totals::actor_id, remote_totals::followers))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, n)| Some((id, n?)))
        .collect())
}
