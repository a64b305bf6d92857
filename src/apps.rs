//! The kit: the work apps a site offers beside posts and documents, each
//! switched on or off for the whole site (administrators) and, against
//! that choice, for each community of this site (its owners).
//!
//! An app switched off disappears from menus, composers and the API (a
//! 404 with the code `app_disabled`); what was written with it stays
//! readable. The rule is [`require`], which each app's feature functions
//! call before they write; the doors only hide what it would refuse.

use diesel::prelude::*;
use serde::Serialize;

use crate::accounts::User;
use crate::db::schema::{community_apps, community_members, users};
use crate::db::{self, DbConn};
use crate::error::{AppError, AppResult};

/// The apps of the kit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum App {
    /// Polls (one question, several answers, votes counted), surveys
    /// (several questions) and quizzes (right answers, scores).
    Polls,
    /// Ideas: submitted to a community, voted for, moved by its moderators.
    Ideas,
    /// Questions and answers: asked to colleagues, answered, one answer
    /// accepted.
    Questions,
    /// Events: planned, answered (going, maybe, not going), in calendars.
    Events,
    /// Must-read announcements: posts marked for an audience, who confirm
    /// having read them.
    MustRead,
}

impl App {
    pub const ALL: [App; 5] = [
        App::Polls,
        App::Ideas,
        App::Questions,
        App::Events,
        App::MustRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            App::Polls => "polls",
            App::Ideas => "ideas",
            App::Questions => "questions",
            App::Events => "events",
            App::MustRead => "must_read",
        }
    }

    pub fn parse(s: &str) -> AppResult<App> {
        App::ALL
            .into_iter()
            .find(|a| a.as_str() == s.trim())
            .ok_or_else(|| {
                let names: Vec<&str> = App::ALL.iter().map(|a| a.as_str()).collect();
                AppError::bad_request("app_unknown").with("apps", names.join(", "))
            })
    }

    /// Its key in the site's settings.
    fn setting(self) -> String {
        format!("app_{}", self.as_str())
    }
}

/// The error an app switched off answers: a 404 that says why.
pub fn disabled(app: App) -> AppError {
    AppError::new(crate::error::ErrorKind::NotFound, "app_disabled").with("app", app.as_str())
}

/// Whether the site offers `app` (on unless an administrator turned it off).
pub fn on_site(conn: &mut DbConn, app: App) -> AppResult<bool> {
    Ok(crate::settings::get(conn, &app.setting())?.as_deref() != Some("off"))
}

/// What a community of this site chose for `app`, if it chose.
fn community_choice(conn: &mut DbConn, community: i64, app: App) -> AppResult<Option<bool>> {
    community_apps::table
        .find((community, app.as_str()))
        .select(community_apps::enabled)
        .first(conn)
        .optional()
        .map_err(AppError::from)
}

/// Whether `app` may be used here, outside communities (`None`) or in one
/// (its choice, else the site's; a community of another instance follows
/// this site's choice, since its app runs here for our people).
pub fn enabled(conn: &mut DbConn, app: App, community: Option<i64>) -> AppResult<bool> {
    if let Some(id) = community {
        if let Some(choice) = community_choice(conn, id, app)? {
            return Ok(choice);
        }
    }
    on_site(conn, app)
}

/// Which apps may be used in one place (what menus and composers offer).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Kit {
    pub polls: bool,
    pub ideas: bool,
    pub questions: bool,
    pub events: bool,
    pub must_read: bool,
}

/// The apps that may be used outside communities (`None`) or in one.
pub fn kit(conn: &mut DbConn, community: Option<i64>) -> AppResult<Kit> {
    Ok(Kit {
        polls: enabled(conn, App::Polls, community)?,
        ideas: enabled(conn, App::Ideas, community)?,
        questions: enabled(conn, App::Questions, community)?,
        events: enabled(conn, App::Events, community)?,
        must_read: enabled(conn, App::MustRead, community)?,
    })
}

/// Refuses with `app_disabled` when `app` is off where it would be used.
pub fn require(conn: &mut DbConn, app: App, community: Option<i64>) -> AppResult<()> {
    if enabled(conn, app, community)? {
        Ok(())
    } else {
        Err(disabled(app))
    }
}

/// An app as a console or a community's settings show it.
#[derive(Debug, Clone, Serialize)]
pub struct Switch {
    pub app: App,
    /// The site's choice.
    pub site: bool,
    /// The community's own choice (`None`: it follows the site).
    pub community: Option<bool>,
    /// What applies.
    pub enabled: bool,
}

/// Every app with the site's choice and, for a community, its own.
pub fn switches(conn: &mut DbConn, community: Option<i64>) -> AppResult<Vec<Switch>> {
    let mut out = Vec::with_capacity(App::ALL.len());
    for app in App::ALL {
        let site = on_site(conn, app)?;
        let own = match community {
            Some(id) => community_choice(conn, id, app)?,
            None => None,
        };
        out.push(Switch {
            app,
            site,
            community: own,
            enabled: own.unwrap_or(site),
        });
    }
    Ok(out)
}

/// An administrator switches an app on or off for the site (communities
/// that chose for themselves keep their choice).
pub fn set_site(conn: &mut DbConn, actor: &User, app: App, on: bool) -> AppResult<()> {
    if !actor.is_admin {
        return Err(AppError::forbidden("admin_only"));
    }
    crate::settings::put(conn, &app.setting(), if on { "on" } else { "off" })
}

/// An owner of a community of this site (or an administrator) switches an
/// app on or off for it, or gives the choice back to the site (`None`).
pub fn set_for_community(
    conn: &mut DbConn,
    actor: &User,
    community: i64,
    app: App,
    choice: Option<bool>,
) -> AppResult<()> {
    let local: Option<Option<String>> = users::table
        .find(community)
        .filter(users::actor_type.eq("group"))
        .select(users::domain)
        .first(conn)
        .optional()?;
    match local {
        Some(None) => {}
        // A community of another instance has its apps chosen there.
        Some(Some(_)) => return Err(AppError::bad_request("community_remote")),
        None => return Err(AppError::not_found()),
    }
    let owner: i64 = community_members::table
        .filter(community_members::community_id.eq(community))
        .filter(community_members::user_id.eq(actor.id))
        .filter(community_members::status.eq("member"))
        .filter(community_members::role.eq("owner"))
        .count()
        .get_result(conn)?;
    if owner == 0 && !actor.is_admin {
        return Err(AppError::forbidden("community_owners_only"));
    }
    db::write(conn, |c| {
        diesel::delete(community_apps::table.find((community, app.as_str()))).execute(c)?;
        if let Some(on) = choice {
            diesel::insert_into(community_apps::table)
                .values((
                    community_apps::community_id.eq(community),
                    community_apps::app.eq(app.as_str()),
                    community_apps::enabled.eq(on),
                ))
                .execute(c)?;
        }
        Ok(())
    })
}
