//! A community's settings: as stored (its [`Policy`], which every reader
//! of the community applies), and as its moderators change them, title,
//! description and picture included. A change to a community of another
//! instance is a request to that instance, which applies it.

use diesel::prelude::*;

use super::membership;
use super::{by_id, check_partners, check_text, get, log_act, Community, JoinPolicy};
use crate::accounts::User;
use crate::audience::CommunityVisibility;
use crate::db::schema::{communities, users};
use crate::db::{self, DbConn};
use crate::error::{AppError, AppResult};
use crate::events::{self, Event};

/// Who may read and join a community, as stored.
#[derive(Debug, Clone)]
pub struct Policy {
    pub visibility: CommunityVisibility,
    pub join_policy: String,
    /// Whether partner instances may read it too.
    pub partners: bool,
}

/// The stored policy of community `id` (local or remote).
pub fn policy(conn: &mut DbConn, id: i64) -> AppResult<Policy> {
    let (visibility, join_policy, partners): (CommunityVisibility, String, bool) =
        communities::table
            .find(id)
            .select((
                communities::visibility,
                communities::join_policy,
                communities::partners,
            ))
            .first(conn)?;
    Ok(Policy {
        visibility,
        join_policy,
        partners,
    })
}

/// Changes to a community's settings (owners and moderators).
#[derive(Debug, Default, serde::Deserialize)]
pub struct Settings {
    pub title: Option<String>,
    pub description: Option<String>,
    pub visibility: Option<String>,
    pub join_policy: Option<String>,
    pub partners: Option<bool>,
}

/// A moderator changes a community's settings. For a community of another
/// instance the change is sent to that instance, which applies it, and the
/// current settings are returned.
pub fn update(conn: &mut DbConn, actor: &User, name: &str, s: &Settings) -> AppResult<Community> {
    let current = get(conn, actor.id, name)?;
    membership::require_moderator(&current, actor)?;
    let title = s.title.clone().unwrap_or(current.title.clone());
    let description = s.description.clone().unwrap_or(current.description.clone());
    let visibility = match &s.visibility {
        Some(v) => CommunityVisibility::parse(v)?,
        None => current.visibility(),
    };
    let join_policy = match &s.join_policy {
        Some(v) => JoinPolicy::parse(v)?,
        None => JoinPolicy::parse(&current.join_policy)?,
    };
    let partners = s.partners.unwrap_or(current.partners);
    check_text(&title, &description)?;
    check_partners(visibility, partners)?;
    if !current.is_local() {
        // The community's instance applies it and sends the new settings
        // to every member instance, this one included.
        let request = serde_json::json!({
            "act": "settings",
            "title": s.title.as_ref().map(|t| t.trim()),
            "description": s.description,
            "visibility": s.visibility.as_ref().map(|_| visibility.as_str()),
            "join_policy": s.join_policy.as_ref().map(|_| join_policy.as_str()),
            "partners": s.partners,
        });
        db::write(conn, |c| {
            super::ask_host(c, actor.id, current.id, &request)?;
            Ok::<_, AppError>(())
        })?;
        return Ok(current);
    }
    let html = crate::markdown::render(&description, |_| false).html;
    db::write(conn, |c| {
        diesel::update(users::table.find(current.id))
            .set((
                users::display_name.eq(title.trim()),
                users::bio.eq(&description),
                users::bio_html.eq(&html),
            ))
            .execute(c)?;
        crate::index::actor(c, current.id)?;
        diesel::update(communities::table.find(current.id))
            .set((
                communities::visibility.eq(visibility.as_str()),
                communities::join_policy.eq(join_policy.as_str()),
                communities::partners.eq(partners),
            ))
            .execute(c)?;
        let detail = format!(
            "visibility={} join={} partners={}",
            visibility.as_str(),
            join_policy.as_str(),
            partners
        );
        log_act(
            c,
            current.id,
            actor.id,
            "settings",
            None::<i64>,
            None::<i64>,
            &detail,
        )?;
        events::record(
            c,
            Event::CommunityChanged {
                community: current.id,
            },
        )?;
        Ok::<_, AppError>(())
    })?;
    by_id(conn, actor.id, current.id)
}

/// A moderator sets (or, with `None`, removes) the community's picture;
/// member instances are told with an Update of the Group. For a community
/// of another instance, this instance's copy changes at once and the
/// community's instance is asked to take the picture from here.
pub fn set_picture(
    conn: &mut DbConn,
    actor: &User,
    name: &str,
    upload: Option<&[u8]>,
    max_bytes: usize,
) -> AppResult<Community> {
    let c = get(conn, actor.id, name)?;
    membership::require_moderator(&c, actor)?;
    match upload {
        Some(bytes) => crate::people::set_photo(conn, c.id, bytes, max_bytes)?,
        None => crate::people::remove_photo(conn, c.id)?,
    }
    db::write(conn, |cx| {
        if c.is_local() {
            log_act(cx, c.id, actor.id, "picture", None::<i64>, None::<i64>, "")?;
        } else {
            let request = serde_json::json!({"act": "picture", "present": upload.is_some()});
            super::ask_host(cx, actor.id, c.id, &request)?;
        }
        Ok::<_, AppError>(())
    })?;
    by_id(conn, actor.id, c.id)
}
