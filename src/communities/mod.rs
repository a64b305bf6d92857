//! Communities: where work happens (a project, a profession, a site, a
//! partnership). A community is an actor (ActivityPub `Group`) stored in
//! `users` with `actor_type = 'group'`, plus a `communities` row for its
//! settings. It lives on one instance and gathers members from any trusted
//! instance (`community_members`), with their posts (`content.community_id`).
//!
//! Who sees what, for a person of this instance:
//! - `public` and `organisation` communities and their posts: everyone;
//! - `private`: everyone finds the community, only members read its posts;
//! - `secret`: only members and invited people know it exists (404 for
//!   everyone else, never 403).
//!
//! Across instances, `organisation` communities reach `member` instances
//! only, and partner instances take part only when `partners` is on.

pub mod membership;
pub mod membership_remote;
pub mod moderation;
pub mod provisioned;
pub mod remote;
pub mod settings;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

pub use remote::{a_local_member, mark_backfilled, needs_backfill};
pub use settings::{policy, set_picture, update, Policy, Settings};

use crate::accounts::validate::Username;
use crate::accounts::User;
use crate::audience::CommunityVisibility;
use crate::config::Config;
use crate::db::schema::{communities, community_members, content, moderation_log, users};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};

/// Records a moderation act in a community's log (inside a write
/// transaction): who did what to which person or content, and why.
pub(crate) fn log_act(
    c: &mut DbConn,
    community: i64,
    actor: i64,
    action: &str,
    user: Option<i64>,
    content: Option<i64>,
    detail: &str,
) -> AppResult<()> {
    diesel::insert_into(moderation_log::table)
        .values((
            moderation_log::community_id.eq(community),
            moderation_log::actor_id.eq(Some(actor)),
            moderation_log::action.eq(action),
            moderation_log::target_user_id.eq(user),
            moderation_log::target_content_id.eq(content),
            moderation_log::detail.eq(detail),
            moderation_log::at.eq(now()),
        ))
        .execute(c)?;
    Ok(())
}

/// Asks the instance of a remote community to carry out a moderation act
/// (inside a write transaction); that instance checks again who may, logs
/// it and tells its member instances.
fn ask_host(
    c: &mut DbConn,
    moderator: i64,
    community: i64,
    request: &serde_json::Value,
) -> QueryResult<()> {
    crate::events::record(
        c,
        crate::events::Event::ModerationRequested {
            moderator,
            community,
            request: request.to_string(),
        },
    )
}

/// How people become members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JoinPolicy {
    Open,
    Request,
    Invitation,
}

impl JoinPolicy {
    pub fn parse(s: &str) -> AppResult<JoinPolicy> {
        match s.trim() {
            "" | "open" => Ok(Self::Open),
            "request" => Ok(Self::Request),
            "invitation" => Ok(Self::Invitation),
            _ => Err(AppError::bad_request("join_policy_invalid")),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Request => "request",
            Self::Invitation => "invitation",
        }
    }
}

/// Roles inside a community.
pub const ROLES: [&str; 3] = ["owner", "moderator", "member"];

pub fn parse_role(s: &str) -> AppResult<&'static str> {
    ROLES
        .iter()
        .find(|r| **r == s.trim())
        .copied()
        .ok_or_else(|| AppError::bad_request("role_invalid").with("roles", ROLES.join(", ")))
}

/// Most characters of a community's title and description.
pub const MAX_TITLE: usize = 100;
pub const MAX_DESCRIPTION: usize = 5000;

/// A community as shown to a viewer.
#[derive(Debug, Clone, Serialize)]
pub struct Community {
    pub id: i64,
    /// `name` here, `name@host` for a community of another instance.
    pub name: String,
    pub title: String,
    pub description: String,
    pub description_html: String,
    pub visibility: String,
    pub join_policy: String,
    pub partners: bool,
    /// Host of a community of another instance.
    pub domain: Option<String>,
    /// Its page on its own instance, for a remote community.
    pub remote_url: Option<String>,
    pub member_count: i64,
    /// Version of the community's picture (0: none); its address is
    /// `/communities/{name}/picture?v={version}`.
    pub picture_version: i64,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub created_at: NaiveDateTime,
    /// The viewer's membership: status and role.
    pub my_status: Option<String>,
    pub my_role: Option<String>,
    /// Whether the viewer is a guest, who sees only the communities they
    /// are members of (see `audience`).
    #[serde(skip)]
    pub confined: bool,
}

impl Community {
    pub fn visibility(&self) -> CommunityVisibility {
        CommunityVisibility::stored(&self.visibility)
    }
    pub fn is_local(&self) -> bool {
        self.domain.is_none()
    }
    pub fn is_member(&self) -> bool {
        self.my_status.as_deref() == Some("member")
    }
    pub fn is_moderator(&self) -> bool {
        self.is_member() && matches!(self.my_role.as_deref(), Some("owner" | "moderator"))
    }
    pub fn is_owner(&self) -> bool {
        self.is_member() && self.my_role.as_deref() == Some("owner")
    }
    /// Whether `viewer` moderates it: one of its moderators, or an
    /// administrator of this site for a community of this site (a
    /// community of the company's directory has no owner).
    pub fn moderated_by(&self, viewer: &User) -> bool {
        self.is_moderator() || (viewer.is_admin && self.is_local())
    }
    /// Whether `viewer` sees who is in it and its moderation log: those
    /// who read it, and those who moderate it (an administrator of a
    /// private community moderates it without reading its posts).
    pub fn roster_visible_to(&self, viewer: &User) -> bool {
        self.readable() || self.moderated_by(viewer)
    }
    /// Whether the viewer may read the posts.
    pub fn readable(&self) -> bool {
        crate::audience::may_read_community(
            self.visibility(),
            self.my_status.as_deref(),
            self.confined,
        )
    }
}

type Row = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    bool,
    Option<String>,
    String,
    NaiveDateTime,
    i64,
);

/// The columns of a [`Row`], users joined with communities (column types
/// are unit structs, so `Columns::default()` is the selection).
type Columns = (
    users::id,
    users::username,
    users::display_name,
    users::bio,
    users::bio_html,
    communities::visibility,
    communities::join_policy,
    communities::partners,
    users::domain,
    users::profile_url,
    communities::created_at,
    users::photo_version,
);

/// Reads communities by id, with member counts and the viewer's membership.
fn load(conn: &mut DbConn, viewer: i64, ids: &[i64]) -> AppResult<Vec<Community>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<Row> = users::table
        .inner_join(communities::table.on(communities::actor_id.eq(users::id)))
        .filter(users::id.eq_any(ids))
        .select(Columns::default())
        .load(conn)?;
    let counts: Vec<(i64, i64)> = community_members::table
        .filter(community_members::community_id.eq_any(ids))
        .filter(community_members::status.eq("member"))
        .group_by(community_members::community_id)
        .select((community_members::community_id, diesel::dsl::count_star()))
        .load(conn)?;
    let hosts_count = crate::accounts::remote::member_totals(conn, ids)?;
    let mine: Vec<(i64, String, String)> = community_members::table
        .filter(community_members::community_id.eq_any(ids))
        .filter(community_members::user_id.eq(viewer))
        .select((
            community_members::community_id,
            community_members::status,
            community_members::role,
        ))
        .load(conn)?;
    let confined = crate::audience::confined(conn, viewer)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let m = mine.iter().find(|(id, _, _)| *id == r.0);
            // A remote community's host knows all its members; this
            // instance, those it was told of.
            let told = hosts_count.iter().find(|(id, _)| *id == r.0);
            let member_count = match (&r.8, told) {
                (Some(_), Some((_, n))) => *n,
                _ => counts
                    .iter()
                    .find(|(id, _)| *id == r.0)
                    .map(|(_, n)| *n)
                    .unwrap_or(0),
            };
            Community {
                id: r.0,
                name: r.1,
                title: r.2,
                description: r.3,
                description_html: r.4,
                visibility: r.5,
                join_policy: r.6,
                partners: r.7,
                remote_url: r.8.as_ref().map(|_| r.9.clone()),
                domain: r.8,
                member_count,
                created_at: r.10,
                picture_version: r.11,
                my_status: m.map(|(_, s, _)| s.clone()),
                my_role: m.map(|(_, _, r)| r.clone()),
                confined,
            }
        })
        .collect())
}

/// The communities of `ids` that `viewer` may know of, as they see them.
pub fn many(conn: &mut DbConn, viewer: i64, ids: &[i64]) -> AppResult<Vec<Community>> {
    Ok(load(conn, viewer, ids)?
        .into_iter()
        .filter(findable)
        .collect())
}

/// Whether a viewer may know that a community exists (see
/// `audience::may_find_community`).
fn findable(c: &Community) -> bool {
    crate::audience::may_find_community(c.visibility(), c.my_status.as_deref(), c.confined)
}

/// The community called `name` as `viewer` sees it; 404 when it does not
/// exist or is secret to them.
pub fn get(conn: &mut DbConn, viewer: i64, name: &str) -> AppResult<Community> {
    let name = name.trim().to_ascii_lowercase();
    let id: i64 = users::table
        .filter(users::username.eq(&name))
        .filter(users::actor_type.eq("group"))
        .filter(users::deleted_at.is_null())
        .select(users::id)
        .first(conn)?;
    by_id(conn, viewer, id)
}

/// Like [`get`], by actor id.
pub fn by_id(conn: &mut DbConn, viewer: i64, id: i64) -> AppResult<Community> {
    let c = load(conn, viewer, &[id])?
        .pop()
        .ok_or_else(AppError::not_found)?;
    if !findable(&c) {
        return Err(AppError::not_found());
    }
    Ok(c)
}

/// Like [`get`], for reading posts: private communities answer 403 to
/// non-members (they know it exists), secret ones 404.
/// A community whose members and log `viewer` sees
/// ([`Community::roster_visible_to`]).
pub fn get_roster(conn: &mut DbConn, viewer: &User, name: &str) -> AppResult<Community> {
    let c = get(conn, viewer.id, name)?;
    if !c.roster_visible_to(viewer) {
        return Err(AppError::forbidden("community_members_only"));
    }
    Ok(c)
}

pub fn get_readable(conn: &mut DbConn, viewer: i64, name: &str) -> AppResult<Community> {
    let c = get(conn, viewer, name)?;
    if !c.readable() {
        return Err(AppError::forbidden("community_members_only"));
    }
    Ok(c)
}

/// Starts or stops watching a community one may read: each new post and
/// document version there becomes a notification (see
/// `notifications::watch`).
pub fn set_watch(conn: &mut DbConn, user: &User, name: &str, on: bool) -> AppResult<()> {
    let c = get_readable(conn, user.id, name)?;
    crate::notifications::watch::set(conn, user.id, c.id, on)
}

/// Whether a person watches a community.
pub fn watching(conn: &mut DbConn, user_id: i64, community: i64) -> AppResult<bool> {
    crate::notifications::watch::is_watching(conn, user_id, community)
}

/// What a new community needs.
pub struct NewCommunity<'a> {
    pub name: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub visibility: CommunityVisibility,
    pub join_policy: JoinPolicy,
    pub partners: bool,
}

fn check_text(title: &str, description: &str) -> AppResult<()> {
    crate::error::refuse_nul("title", title)?;
    crate::error::refuse_nul("description", description)?;
    if title.trim().is_empty() {
        return Err(AppError::bad_request("community_title_required"));
    }
    if title.chars().count() > MAX_TITLE {
        return Err(AppError::bad_request("community_title_too_long").with("max", MAX_TITLE));
    }
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(
            AppError::bad_request("community_description_too_long").with("max", MAX_DESCRIPTION)
        );
    }
    Ok(())
}

fn check_partners(visibility: CommunityVisibility, partners: bool) -> AppResult<()> {
    if partners && visibility == CommunityVisibility::Organisation {
        return Err(AppError::conflict("community_partners_organisation"));
    }
    Ok(())
}

/// Stores a new community of this instance (its actor and its settings),
/// inside the caller's write; its id. The name is checked and free.
pub(crate) fn insert(
    c: &mut DbConn,
    cfg: &Config,
    name: &str,
    new: &NewCommunity,
    created_by: Option<i64>,
    keys: &crate::net::keys::KeyPair,
) -> AppResult<i64> {
    let html = crate::markdown::render(new.description, |_| false).html;
    let ap_id = crate::urls::Urls(cfg).community(name);
    let now = now();
    let id: i64 = diesel::insert_into(users::table)
        .values((
            users::username.eq(name),
            // Unique like every actor's; never used to sign in.
            users::email.eq(&ap_id),
            users::password_hash.eq("!"),
            users::display_name.eq(new.title.trim()),
            users::bio.eq(new.description),
            users::bio_html.eq(&html),
            users::actor_type.eq("group"),
            users::public_key.eq(&keys.public_pem),
            users::private_key.eq(&keys.private_pem),
            users::created_at.eq(now),
        ))
        .returning(users::id)
        .get_result(c)?;
    diesel::insert_into(communities::table)
        .values((
            communities::actor_id.eq(id),
            communities::visibility.eq(new.visibility.as_str()),
            communities::join_policy.eq(new.join_policy.as_str()),
            communities::partners.eq(new.partners),
            communities::created_by.eq(created_by),
            communities::created_at.eq(now),
        ))
        .execute(c)?;
    Ok(id)
}

/// Creates a community; its creator becomes its owner.
pub fn create(
    conn: &mut DbConn,
    cfg: &Config,
    creator: &User,
    new: &NewCommunity,
) -> AppResult<Community> {
    crate::accounts::guest::refuse(conn, creator.id)?;
    let name = Username::parse(new.name).map_err(|e| match e.code {
        "username_length" => AppError::bad_request("community_name_length")
            .with("min", Username::MIN)
            .with("max", Username::MAX),
        _ => AppError::bad_request("community_name_chars"),
    })?;
    check_text(new.title, new.description)?;
    check_partners(new.visibility, new.partners)?;
    // The Group's key pair is made now: other instances fetch the Group as
    // soon as someone looks it up, and must not wait for key generation.
    let keys = crate::net::keys::generate()?;
    let now = now();
    let id = db::write(conn, |c| {
        let taken: i64 = users::table
            .filter(users::username.eq(name.as_str()))
            .count()
            .get_result(c)?;
        if taken > 0 {
            return Err(AppError::conflict("name_taken"));
        }
        let id = insert(c, cfg, name.as_str(), new, Some(creator.id), &keys)?;
        diesel::insert_into(community_members::table)
            .values((
                community_members::community_id.eq(id),
                community_members::user_id.eq(creator.id),
                community_members::role.eq("owner"),
                community_members::status.eq("member"),
                community_members::created_at.eq(now),
                community_members::updated_at.eq(now),
            ))
            .execute(c)?;
        log_act(c, id, creator.id, "create", None::<i64>, None::<i64>, "")?;
        crate::index::actor(c, id)?;
        Ok(id)
    })?;
    by_id(conn, creator.id, id)
}

/// Communities per directory page.
pub const PAGE_SIZE: i64 = 30;

/// The communities a viewer may find, local and known remote ones, ordered
/// by name and filtered by words of their name, title or description.
pub fn directory(
    conn: &mut DbConn,
    viewer: i64,
    q: Option<&str>,
    mine_only: bool,
    after: Option<&str>,
) -> AppResult<Vec<Community>> {
    let after = after.unwrap_or("").to_string();
    let words = q
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(crate::index::Match::words);
    if words.as_ref().is_some_and(|m| m.is_empty()) {
        // Only signs: no word to look for, nothing found.
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = {
        let mut query = users::table
            .inner_join(communities::table.on(communities::actor_id.eq(users::id)))
            .filter(users::actor_type.eq("group"))
            .filter(users::deleted_at.is_null())
            .filter(users::username.gt(&after))
            .into_boxed();
        let mine = community_members::table
            .filter(community_members::user_id.eq(viewer))
            .filter(community_members::status.eq_any(["member", "invited"]))
            .select(community_members::community_id);
        if mine_only {
            query = query.filter(users::id.eq_any(mine));
        } else {
            query = query.filter(crate::audience::communities_findable_by(viewer));
        }
        if let Some(m) = &words {
            query = query.filter(m.contains(conn, crate::index::Table::Actors, "users.id"));
        }
        query
            .order(users::username.asc())
            .limit(PAGE_SIZE + 1)
            .select(users::id)
            .load(conn)
    }?;
    let mut list = load(conn, viewer, &ids)?;
    list.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(list)
}

/// The communities `user` is a member of where `app` is on: where they may
/// use it (the first [`PAGE_SIZE`] of them by name).
pub fn using(conn: &mut DbConn, user: i64, app: crate::apps::App) -> AppResult<Vec<Community>> {
    let mut out = Vec::new();
    for c in directory(conn, user, None, true, None)? {
        if c.is_member() && crate::apps::enabled(conn, app, Some(c.id))? {
            out.push(c);
        }
    }
    Ok(out)
}

/// Pinned posts of a community (announcements), newest pin first.
pub fn pinned(conn: &mut DbConn, community: &Community) -> AppResult<Vec<i64>> {
    if !community.readable() {
        return Ok(Vec::new());
    }
    content::table
        .filter(content::community_id.eq(community.id))
        .filter(content::pinned_at.is_not_null())
        .filter(content::deleted_at.is_null())
        .filter(content::root_id.is_null())
        .order(content::pinned_at.desc())
        .limit(10)
        .select(content::id)
        .load(conn)
        .map_err(AppError::from)
}

/// One entry of a community's moderation log.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    pub id: i64,
    pub action: String,
    pub actor: Option<String>,
    pub target_user: Option<String>,
    pub target_content_id: Option<i64>,
    pub detail: String,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub at: NaiveDateTime,
}

/// The latest 200 entries of a community's moderation log, newest first.
/// Those who may read its posts may read it (it says who did what, which is
/// part of running a community in the open); the caller checked that.
pub fn log_of(conn: &mut DbConn, community: i64) -> AppResult<Vec<LogEntry>> {
    type LogRow = (
        i64,
        String,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        String,
        NaiveDateTime,
    );
    let rows: Vec<LogRow> = moderation_log::table
        .filter(moderation_log::community_id.eq(community))
        .order(moderation_log::id.desc())
        .limit(200)
        .select((
            moderation_log::id,
            moderation_log::action,
            moderation_log::actor_id,
            moderation_log::target_user_id,
            moderation_log::target_content_id,
            moderation_log::detail,
            moderation_log::at,
        ))
        .load(conn)?;
    let mut ids: Vec<i64> = rows.iter().flat_map(|r| [r.2, r.3]).flatten().collect();
    ids.sort_unstable();
    ids.dedup();
    let names: Vec<(i64, String)> = if ids.is_empty() {
        Vec::new()
    } else {
        users::table
            .filter(users::id.eq_any(&ids))
            .select((users::id, users::username))
            .load(conn)?
    };
    let name_of = |id: Option<i64>| {
        id.and_then(|id| names.iter().find(|(i, _)| *i == id).map(|(_, n)| n.clone()))
    };
    Ok(rows
        .into_iter()
        .map(|r| LogEntry {
            id: r.0,
            action: r.1,
            actor: name_of(r.2),
            target_user: name_of(r.3),
            target_content_id: r.4,
            detail: r.5,
            at: r.6,
        })
        .collect())
}
