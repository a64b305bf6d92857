//! Groups the company's directory pushes over SCIM (Entra ID, Okta): each
//! becomes a community of this site whose members the group keeps. The
//! SCIM protocol itself is `web::scim`; the users are
//! `accounts::provisioning`.
//!
//! - A group's community is named after it ("Ventes Île-de-France" →
//!   `ventes_ile_de_france`, another name if taken), titled with its display
//!   name, visible as `accounts.scim_group_visibility` says (private by
//!   default: a directory group may be confidential; never secret, so that
//!   the administrators who moderate it find it), and joined by invitation
//!   only: its members come from the directory. It has no owner; the site's
//!   administrators moderate it (they see its members and log, not its
//!   posts), and may name moderators.
//! - A client sees and changes only its own groups, and a group holds only
//!   users the same client provisioned: anything else is refused, nothing
//!   changed.
//! - What the group gave is kept apart from who was a member already
//!   (`scim_group_members.gave`): taking someone out of the group takes
//!   them out of the community only if the group made them a member and
//!   they are still a plain one; a moderator, someone banned, or someone
//!   who was a member before the group, stays as they are.
//! - A PATCH is a list of changes ([`GroupChange`]) applied in one
//!   transaction, additions and removals as such: two PATCHes at once both
//!   take effect.
//! - Deleting a group forgets it: the community, its posts and its members
//!   stay (nothing is lost); it is no longer kept by the directory.
//! - Every change is in the community's moderation log, by "the company's
//!   directory".

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::membership::{delete_row, upsert};
use super::{JoinPolicy, NewCommunity};
use crate::accounts::provisioning;
use crate::audience::CommunityVisibility;
use crate::config::Config;
use crate::db::schema::{
    community_members, moderation_log, scim_group_members, scim_groups, users,
};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};
use crate::events::{self, Event};

/// The most groups one page lists.
pub const MAX_PAGE: i64 = 200;
/// The most members one request may name (Entra ID and Okta send
/// membership changes a few at a time).
pub const MAX_MEMBERS_PER_REQUEST: usize = 10_000;

/// A group as a client sees it.
#[derive(Debug, Clone)]
pub struct Group {
    /// Its community's id (the group's SCIM id).
    pub id: i64,
    /// Its community's name (its address here).
    pub name: String,
    pub display_name: String,
    pub external_id: String,
    /// Who the group holds: id and name shown.
    pub members: Vec<(i64, String)>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What a client says of a group; `members: None` leaves them as they are.
#[derive(Debug, Clone, Default)]
pub struct GroupDoc {
    pub display_name: String,
    pub external_id: String,
    pub members: Option<Vec<i64>>,
}

/// What a list of groups is filtered on (what Entra ID and Okta send).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupFilter {
    DisplayName(String),
    ExternalId(String),
    /// Entra ID's check of one membership: the group `id`, if it holds
    /// `member`.
    IdHolds {
        id: i64,
        member: i64,
    },
}

fn display_key(name: &str) -> String {
    name.trim().to_lowercase()
}

fn check(doc: &GroupDoc) -> AppResult<String> {
    let name = doc.display_name.trim();
    let bad = |field: &'static str| AppError::bad_request("scim_invalid").with("field", field);
    if name.is_empty()
        || name.chars().count() > super::MAX_TITLE
        || name.chars().any(char::is_control)
    {
        return Err(bad("displayName"));
    }
    if doc.external_id.chars().count() > 255 || doc.external_id.chars().any(char::is_control) {
        return Err(bad("externalId"));
    }
    if doc
        .members
        .as_ref()
        .is_some_and(|m| m.len() > MAX_MEMBERS_PER_REQUEST)
    {
        return Err(bad("members"));
    }
    Ok(name.to_string())
}

/// A community name made from a group's display name: letters without
/// accents, digits and `_`, free.
fn name_for(c: &mut DbConn, display_name: &str) -> AppResult<String> {
    let folded = crate::index::words::fold(display_name);
    crate::accounts::free_username(c, &folded)
}

/// The members a client named, all checked to be its users or already
/// held by the group (`community`: someone whose SCIM record was deleted
/// since stays until the group lets them go).
fn members_of(
    c: &mut DbConn,
    client: i64,
    community: Option<i64>,
    wanted: &[i64],
) -> AppResult<Vec<i64>> {
    let mut seen = std::collections::HashSet::new();
    let wanted: Vec<i64> = wanted
        .iter()
        .copied()
        .filter(|id| seen.insert(*id))
        .collect();
    let ours: std::collections::HashSet<i64> = provisioning::provisioned_among(c, client, &wanted)?
        .into_iter()
        .collect();
    let held: std::collections::HashSet<i64> = match community {
        Some(id) => scim_group_members::table
            .filter(scim_group_members::community_id.eq(id))
            .select(scim_group_members::user_id)
            .load::<i64>(c)?
            .into_iter()
            .collect(),
        None => Default::default(),
    };
    if wanted
        .iter()
        .any(|id| !ours.contains(id) && !held.contains(id))
    {
        return Err(AppError::bad_request("scim_invalid").with("field", "members"));
    }
    Ok(wanted)
}

/// A line of the moderation log, by the directory (no person).
fn log(
    c: &mut DbConn,
    community: i64,
    action: &str,
    user: Option<i64>,
    detail: &str,
) -> AppResult<()> {
    diesel::insert_into(moderation_log::table)
        .values((
            moderation_log::community_id.eq(community),
            moderation_log::actor_id.eq(None::<i64>),
            moderation_log::action.eq(action),
            moderation_log::target_user_id.eq(user),
            moderation_log::detail.eq(detail),
            moderation_log::at.eq(now()),
        ))
        .execute(c)?;
    Ok(())
}

/// Who the group holds, and whether it made each a member.
fn held(c: &mut DbConn, community: i64) -> AppResult<Vec<(i64, bool)>> {
    Ok(scim_group_members::table
        .filter(scim_group_members::community_id.eq(community))
        .select((scim_group_members::user_id, scim_group_members::gave))
        .load(c)?)
}

/// Adds members to the group (inside the caller's write): each becomes a
/// member of its community unless they are one already or banned.
fn add_members(c: &mut DbConn, community: i64, ids: &[i64]) -> AppResult<()> {
    let held: std::collections::HashSet<i64> =
        held(c, community)?.into_iter().map(|(id, _)| id).collect();
    for &user in ids.iter().filter(|u| !held.contains(u)) {
        let status: Option<String> = community_members::table
            .filter(community_members::community_id.eq(community))
            .filter(community_members::user_id.eq(user))
            .select(community_members::status)
            .first(c)
            .optional()?;
        // A ban stands; someone already a member stays as they are.
        let gave = !matches!(status.as_deref(), Some("banned") | Some("member"));
        // Another PATCH adding them at the same moment: one row.
        db::insert_unless_exists(c, |c| {
            diesel::insert_into(scim_group_members::table)
                .values((
                    scim_group_members::community_id.eq(community),
                    scim_group_members::user_id.eq(user),
                    scim_group_members::gave.eq(gave),
                ))
                .execute(c)
        })?;
        if gave {
            upsert(c, community, user, "member", "member", None)?;
            log(c, community, "directory_add", Some(user), "")?;
        }
    }
    Ok(())
}

/// Takes members out of the group (inside the caller's write): out of its
/// community too when the group made them a plain member.
fn remove_members(c: &mut DbConn, community: i64, ids: &[i64]) -> AppResult<()> {
    let gone: std::collections::HashSet<i64> = ids.iter().copied().collect();
    for (user, gave) in held(c, community)?
        .into_iter()
        .filter(|(u, _)| gone.contains(u))
    {
        diesel::delete(
            scim_group_members::table
                .filter(scim_group_members::community_id.eq(community))
                .filter(scim_group_members::user_id.eq(user)),
        )
        .execute(c)?;
        if !gave {
            continue;
        }
        let row: Option<(String, String)> = community_members::table
            .filter(community_members::community_id.eq(community))
            .filter(community_members::user_id.eq(user))
            .select((community_members::status, community_members::role))
            .first(c)
            .optional()?;
        if let Some((status, role)) = row {
            if status == "member" && role == "member" {
                delete_row(c, community, user)?;
                log(c, community, "directory_remove", Some(user), "")?;
            }
        }
    }
    Ok(())
}

/// Brings the group's members to exactly `wanted` (inside the caller's
/// write).
fn set_members(c: &mut DbConn, community: i64, wanted: &[i64]) -> AppResult<()> {
    let wanted_set: std::collections::HashSet<i64> = wanted.iter().copied().collect();
    let gone: Vec<i64> = held(c, community)?
        .into_iter()
        .map(|(id, _)| id)
        .filter(|id| !wanted_set.contains(id))
        .collect();
    remove_members(c, community, &gone)?;
    add_members(c, community, wanted)
}

/// Makes a group pushed by `client`: its community, with its members.
pub fn create(c: &mut DbConn, cfg: &Config, client: i64, doc: &GroupDoc) -> AppResult<Group> {
    let title = check(doc)?;
    let visibility = CommunityVisibility::parse(&cfg.accounts.scim_group_visibility)?;
    let keys = crate::net::keys::generate()?;
    let id = db::write(c, |c| {
        let taken: i64 = scim_groups::table
            .filter(scim_groups::client_id.eq(client))
            .filter(scim_groups::display_key.eq(display_key(&title)))
            .count()
            .get_result(c)?;
        if taken > 0 {
            return Err(AppError::conflict("scim_uniqueness"));
        }
        let members = members_of(c, client, None, doc.members.as_deref().unwrap_or(&[]))?;
        let name = name_for(c, &title)?;
        let new = NewCommunity {
            name: &name,
            title: &title,
            description: "",
            visibility,
            join_policy: JoinPolicy::Invitation,
            partners: false,
        };
        let id = super::insert(c, cfg, &name, &new, None, &keys)?;
        let now = now();
        diesel::insert_into(scim_groups::table)
            .values((
                scim_groups::community_id.eq(id),
                scim_groups::client_id.eq(client),
                scim_groups::display_name.eq(&title),
                scim_groups::display_key.eq(display_key(&title)),
                scim_groups::external_id.eq(doc.external_id.trim()),
                scim_groups::created_at.eq(now),
                scim_groups::updated_at.eq(now),
            ))
            .execute(c)?;
        log(c, id, "directory_create", None, &title)?;
        add_members(c, id, &members)?;
        crate::index::actor(c, id)?;
        Ok(id)
    })?;
    get(c, client, id, true)
}

/// One of `client`'s groups, with its members unless `members` is false
/// (what a client asks with `excludedAttributes=members`).
pub fn get(c: &mut DbConn, client: i64, id: i64, members: bool) -> AppResult<Group> {
    let row: Option<(String, String, String, NaiveDateTime, NaiveDateTime)> = scim_groups::table
        .inner_join(users::table.on(users::id.eq(scim_groups::community_id)))
        .filter(scim_groups::community_id.eq(id))
        .filter(scim_groups::client_id.eq(client))
        .filter(users::deleted_at.is_null())
        .select((
            users::username,
            scim_groups::display_name,
            scim_groups::external_id,
            scim_groups::created_at,
            scim_groups::updated_at,
        ))
        .first(c)
        .optional()?;
    let (name, display_name, external_id, created_at, updated_at) =
        row.ok_or_else(AppError::not_found)?;
    let members: Vec<(i64, String, String)> = if members {
        scim_group_members::table
            .inner_join(users::table.on(users::id.eq(scim_group_members::user_id)))
            .filter(scim_group_members::community_id.eq(id))
            .filter(users::deleted_at.is_null())
            .order(users::id.asc())
            .select((users::id, users::display_name, users::username))
            .load(c)?
    } else {
        Vec::new()
    };
    Ok(Group {
        id,
        name,
        display_name,
        external_id,
        members: members
            .into_iter()
            .map(|(id, shown, username)| (id, if shown.is_empty() { username } else { shown }))
            .collect(),
        created_at,
        updated_at,
    })
}

/// One page of `client`'s groups (`start` counts from 1), with how many
/// there are in all.
pub fn list(
    c: &mut DbConn,
    client: i64,
    filter: Option<&GroupFilter>,
    start: i64,
    count: i64,
    members: bool,
) -> AppResult<(i64, Vec<Group>)> {
    let query = || {
        let mut q = scim_groups::table
            .filter(scim_groups::client_id.eq(client))
            .into_boxed();
        match filter {
            Some(GroupFilter::DisplayName(v)) => {
                q = q.filter(scim_groups::display_key.eq(display_key(v)))
            }
            Some(GroupFilter::ExternalId(v)) => {
                q = q.filter(scim_groups::external_id.eq(v.clone()))
            }
            Some(GroupFilter::IdHolds { id, member }) => {
                let holds = scim_group_members::table
                    .filter(scim_group_members::user_id.eq(*member))
                    .select(scim_group_members::community_id);
                q = q
                    .filter(scim_groups::community_id.eq(*id))
                    .filter(scim_groups::community_id.eq_any(holds))
            }
            None => {}
        }
        q
    };
    let total: i64 = query().count().get_result(c)?;
    let ids: Vec<i64> = query()
        .order(scim_groups::community_id.asc())
        .offset((start.max(1) - 1).min(1_000_000))
        .limit(count.clamp(0, MAX_PAGE))
        .select(scim_groups::community_id)
        .load(c)?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(get(c, client, id, members)?);
    }
    Ok((total, out))
}

/// A group as the administrators' console lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GroupRow {
    /// Its community's name (its address here).
    pub name: String,
    pub display_name: String,
    /// The provisioning client that keeps it.
    pub client: String,
    /// How many people the group holds.
    pub members: i64,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub updated_at: NaiveDateTime,
}

/// The directory's groups of every client, by display name, at most
/// `limit` of them, for the administrators; with how many there are.
pub fn overview(
    c: &mut DbConn,
    admin: &crate::accounts::User,
    limit: i64,
) -> AppResult<(i64, Vec<GroupRow>)> {
    use crate::db::schema::scim_clients;
    if !admin.is_admin {
        return Err(AppError::forbidden("admin_only"));
    }
    let live = || {
        scim_groups::table
            .inner_join(users::table.on(users::id.eq(scim_groups::community_id)))
            .inner_join(scim_clients::table.on(scim_clients::id.eq(scim_groups::client_id)))
            .filter(users::deleted_at.is_null())
    };
    let total: i64 = live().count().get_result(c)?;
    let rows: Vec<(i64, String, String, String, NaiveDateTime)> = live()
        .order((
            scim_groups::display_key.asc(),
            scim_groups::community_id.asc(),
        ))
        .limit(limit.clamp(0, MAX_PAGE))
        .select((
            scim_groups::community_id,
            users::username,
            scim_groups::display_name,
            scim_clients::name,
            scim_groups::updated_at,
        ))
        .load(c)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let held: Vec<(i64, i64)> = scim_group_members::table
        .inner_join(users::table.on(users::id.eq(scim_group_members::user_id)))
        .filter(scim_group_members::community_id.eq_any(&ids))
        .filter(users::deleted_at.is_null())
        .group_by(scim_group_members::community_id)
        .select((scim_group_members::community_id, diesel::dsl::count_star()))
        .load(c)?;
    let held: std::collections::HashMap<i64, i64> = held.into_iter().collect();
    Ok((
        total,
        rows.into_iter()
            .map(|(id, name, display_name, client, updated_at)| GroupRow {
                name,
                display_name,
                client,
                members: held.get(&id).copied().unwrap_or(0),
                updated_at,
            })
            .collect(),
    ))
}

/// One change a client asks of a group (a PATCH is a list of them, applied
/// in order in one transaction; a PUT sets all three).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupChange {
    DisplayName(String),
    ExternalId(String),
    AddMembers(Vec<i64>),
    RemoveMembers(Vec<i64>),
    /// Exactly these members.
    SetMembers(Vec<i64>),
}

/// Replaces what is known of one of `client`'s groups (PUT): its display
/// name, external id and members (none when it names none).
pub fn replace(c: &mut DbConn, client: i64, id: i64, doc: &GroupDoc) -> AppResult<Group> {
    patch(
        c,
        client,
        id,
        &[
            GroupChange::DisplayName(doc.display_name.clone()),
            GroupChange::ExternalId(doc.external_id.clone()),
            GroupChange::SetMembers(doc.members.clone().unwrap_or_default()),
        ],
    )
}

/// Applies `changes` to one of `client`'s groups, in one transaction: each
/// addition or removal of members is one, so that two PATCHes at once both
/// take effect. The community's title follows the display name.
pub fn patch(c: &mut DbConn, client: i64, id: i64, changes: &[GroupChange]) -> AppResult<Group> {
    let named: usize = changes
        .iter()
        .map(|ch| match ch {
            GroupChange::AddMembers(m)
            | GroupChange::RemoveMembers(m)
            | GroupChange::SetMembers(m) => m.len(),
            _ => 0,
        })
        .sum();
    if named > MAX_MEMBERS_PER_REQUEST {
        return Err(AppError::bad_request("scim_invalid").with("field", "members"));
    }
    db::write(c, |c| {
        let current: Option<(String, String)> = scim_groups::table
            .find(id)
            .filter(scim_groups::client_id.eq(client))
            .select((scim_groups::display_name, scim_groups::external_id))
            .first(c)
            .optional()?;
        let (was, mut external_id) = current.ok_or_else(AppError::not_found)?;
        let mut title = was.clone();
        for change in changes {
            match change {
                GroupChange::DisplayName(name) => {
                    title = check(&GroupDoc {
                        display_name: name.clone(),
                        ..GroupDoc::default()
                    })?;
                }
                GroupChange::ExternalId(x) => {
                    check(&GroupDoc {
                        display_name: title.clone(),
                        external_id: x.clone(),
                        members: None,
                    })?;
                    external_id = x.trim().to_string();
                }
                GroupChange::AddMembers(m) => {
                    let m = members_of(c, client, Some(id), m)?;
                    add_members(c, id, &m)?;
                }
                GroupChange::RemoveMembers(m) => remove_members(c, id, m)?,
                GroupChange::SetMembers(m) => {
                    let m = members_of(c, client, Some(id), m)?;
                    set_members(c, id, &m)?;
                }
            }
        }
        if display_key(&title) != display_key(&was) {
            let taken: i64 = scim_groups::table
                .filter(scim_groups::client_id.eq(client))
                .filter(scim_groups::display_key.eq(display_key(&title)))
                .filter(scim_groups::community_id.ne(id))
                .count()
                .get_result(c)?;
            if taken > 0 {
                return Err(AppError::conflict("scim_uniqueness"));
            }
        }
        diesel::update(scim_groups::table.find(id))
            .set((
                scim_groups::display_name.eq(&title),
                scim_groups::display_key.eq(display_key(&title)),
                scim_groups::external_id.eq(&external_id),
                scim_groups::updated_at.eq(now()),
            ))
            .execute(c)?;
        if title != was {
            diesel::update(users::table.find(id))
                .set(users::display_name.eq(&title))
                .execute(c)?;
            log(c, id, "directory_title", None, &title)?;
            crate::index::actor(c, id)?;
            events::record(c, Event::CommunityChanged { community: id })?;
        }
        Ok(())
    })?;
    get(c, client, id, true)
}

/// Forgets one of `client`'s groups: its community stays, with its posts
/// and members, no longer kept by the directory.
pub fn remove(c: &mut DbConn, client: i64, id: i64) -> AppResult<()> {
    get(c, client, id, false)?;
    db::write(c, |c| {
        diesel::delete(scim_group_members::table.filter(scim_group_members::community_id.eq(id)))
            .execute(c)?;
        diesel::delete(scim_groups::table.find(id)).execute(c)?;
        log(c, id, "directory_forget", None, "")?;
        Ok(())
    })
}
