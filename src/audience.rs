//! Who may see what: the one place that decides it, for every reader and
//! every door.
//!
//! A reader is a [`Viewer`]: a local person, another instance (with the
//! trust we have in it), or nobody (an unsigned request). A post carries its
//! [`Visibility`]; its comments share it, except a remote reply addressed
//! more narrowly than its thread, which is stored [`Visibility::Direct`]. A
//! post of a community follows its community's [`CommunityVisibility`]
//! alone. From these the module gives:
//!
//! - the SQL filters for lists ([`posts_visible_to`],
//!   [`comments_visible_to`], [`readers_among`]), used by feeds, threads,
//!   counts and notifications;
//! - the check for one item, whoever reads it ([`may_read`]) and for a
//!   community read by another instance ([`instance_may_see_community`]);
//! - who a change is delivered to ([`recipients`], [`community_open_to`]),
//!   which the outbox turns into inboxes through the trust gate.
//!
//! A guest (a partner a community's moderator invited, `accounts::guest`)
//! is *confined*: they see only the communities they are members of and
//! what is addressed to them by name, never what everyone here sees.
//!
//! The module reads the tables it needs (content, mentions, follows,
//! communities and their members) and knows no feature, so that features,
//! federation and the doors can all ask it.

mod visibility;

use std::collections::BTreeSet;

use diesel::prelude::*;

use crate::db::schema::{
    communities, community_members, content, follows, guests, mentions, users,
};
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::net::trust::Decision;
pub use visibility::{narrowest, CommunityVisibility, Visibility};

/// The community visibilities whose posts everyone here reads
/// ([`CommunityVisibility::open_content`]), for SQL filters.
const OPEN_COMMUNITIES: [CommunityVisibility; 2] = [
    CommunityVisibility::Public,
    CommunityVisibility::Organisation,
];

/// Another instance reading, with the trust we have in it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// `host[:port]`.
    pub domain: String,
    pub trust: Decision,
}

/// Who is reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    /// A person signed in here (`users.id`).
    Person(i64),
    /// Another instance, through a signed request.
    Instance(Instance),
    /// An unsigned request (open federation mode only; the doors refuse it
    /// in allowlist mode).
    Nobody,
}

/// SQL condition on posts (`content` rows of threads): visible to the local
/// person `viewer`. Comments are visible when their post is, and then
/// [`comments_visible_to`] applies.
///
/// Outside communities: `public`, `organisation` and `instance` are seen by
/// everyone signed in here; `followers` by the author's accepted followers;
/// the author and the people mentioned always see it. A community's posts
/// follow their community alone: open communities are read by everyone
/// here, the others by their members only (a mention of a non-member
/// reveals nothing). A guest sees neither what everyone here sees nor open
/// communities they are not a member of.
///
/// The filters are written with diesel's `auto_type`, so that the query
/// that uses one keeps a static type and its prepared statement is cached.
#[diesel::dsl::auto_type]
pub fn posts_visible_to(viewer: i64) -> _ {
    let everyone: [Visibility; 3] = [
        Visibility::Public,
        Visibility::Organisation,
        Visibility::Instance,
    ];
    let open: [CommunityVisibility; 2] = OPEN_COMMUNITIES;
    let followers: Visibility = Visibility::Followers;
    let member: &'static str = "member";
    let accepted: bool = true;
    let personal: personal_visible_to = personal_visible_to(viewer, everyone, followers, accepted);
    let free: not_confined = not_confined(viewer);
    let in_community: diesel::dsl::AssumeNotNull<content::community_id> =
        content::community_id.assume_not_null();
    content::community_id
        .is_null()
        .and(personal)
        .or(in_community
            .eq_any(
                communities::table
                    .filter(communities::visibility.eq_any(open))
                    .select(communities::actor_id),
            )
            .and(free)
            .or(in_community.eq_any(
                community_members::table
                    .filter(community_members::user_id.eq(viewer))
                    .filter(community_members::status.eq(member))
                    .select(community_members::community_id),
            )))
}

/// The part of the filter above for posts outside communities.
#[diesel::dsl::auto_type]
fn personal_visible_to(
    viewer: i64,
    everyone: [Visibility; 3],
    followers: Visibility,
    accepted: bool,
) -> _ {
    let free: not_confined = not_confined(viewer);
    content::visibility
        .eq_any(everyone)
        .and(free)
        .or(content::author_id.eq(viewer))
        .or(content::visibility.eq(followers).and(
            content::author_id.eq_any(
                follows::table
                    .select(follows::followee_id)
                    .filter(follows::follower_id.eq(viewer))
                    .filter(follows::accepted.eq(accepted)),
            ),
        ))
        .or(content::id.eq_any(
            mentions::table
                .select(mentions::content_id)
                .filter(mentions::user_id.eq(viewer)),
        ))
}

/// SQL condition: the local person `viewer` is not a guest (see the
/// module's doc). Does not depend on the row: the databases evaluate it
/// once per query.
#[diesel::dsl::auto_type]
fn not_confined(viewer: i64) -> _ {
    diesel::dsl::not(diesel::dsl::exists(
        guests::table.filter(guests::user_id.eq(viewer)),
    ))
}

/// Whether the local person `viewer` is a guest, who sees only the
/// communities they are members of (see the module's doc).
pub fn confined(conn: &mut DbConn, viewer: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        guests::table.filter(guests::user_id.eq(viewer)),
    ))
    .get_result(conn)
}

/// The communities the person `person` is a member of.
pub fn communities_of(conn: &mut DbConn, person: i64) -> QueryResult<Vec<i64>> {
    community_members::table
        .filter(community_members::user_id.eq(person))
        .filter(community_members::status.eq("member"))
        .select(community_members::community_id)
        .load(conn)
}

/// SQL: the people who are members of one of `communities`.
#[diesel::dsl::auto_type]
pub fn members_of(communities: Vec<i64>) -> _ {
    let member: &'static str = "member";
    community_members::table
        .filter(community_members::status.eq(member))
        .filter(community_members::community_id.eq_any(communities))
        .select(community_members::user_id)
}

/// Whether the local person `viewer` may see the profile of `person`:
/// everyone here sees everyone's; a guest, their own and those of the
/// members of their communities.
pub fn may_see_person(conn: &mut DbConn, viewer: i64, person: i64) -> QueryResult<bool> {
    if viewer == person || !confined(conn, viewer)? {
        return Ok(true);
    }
    let theirs = communities_of(conn, viewer)?;
    diesel::select(diesel::dsl::exists(
        members_of(theirs).filter(community_members::user_id.eq(person)),
    ))
    .get_result(conn)
}

/// Whether a person may know that a community exists, given its
/// visibility and their membership (`status`): a secret community exists
/// only for its members and invited people, any community for them only
/// when the person is `confined` (a guest). The SQL form is
/// [`communities_findable_by`].
pub fn may_find_community(v: CommunityVisibility, status: Option<&str>, confined: bool) -> bool {
    matches!(status, Some("member" | "invited")) || (v != CommunityVisibility::Secret && !confined)
}

/// Whether a person may read a community's posts: its members, and
/// everyone here but guests for an open community.
pub fn may_read_community(v: CommunityVisibility, status: Option<&str>, confined: bool) -> bool {
    status == Some("member") || (v.open_content() && !confined)
}

/// SQL condition on a comment, in a thread `viewer` may read: comments
/// share their post's audience, except a `direct` one (see [`narrowest`]),
/// which only its author and the people it addresses see.
#[diesel::dsl::auto_type]
pub fn comments_visible_to(viewer: i64) -> _ {
    let direct: Visibility = Visibility::Direct;
    content::visibility
        .ne(direct)
        .or(content::root_id.is_null())
        .or(content::author_id.eq(viewer))
        .or(content::id.eq_any(
            mentions::table
                .select(mentions::content_id)
                .filter(mentions::user_id.eq(viewer)),
        ))
}

/// Which of the posts and comments `ids` (a few thousand at most) the local
/// person `viewer` may see (a search's results): a post as in
/// [`posts_visible_to`]; a comment when its post is visible to `viewer`
/// and the comment itself is ([`comments_visible_to`]). Read with a handful
/// of indexed queries (the posts, then the comments, then their threads'
/// posts) instead of listing every visible post. Deleted items are left
/// out.
pub fn visible_among(conn: &mut DbConn, viewer: i64, ids: &[i64]) -> QueryResult<Vec<i64>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        out.extend(
            content::table
                .filter(content::id.eq_any(chunk))
                .filter(content::root_id.is_null())
                .filter(content::deleted_at.is_null())
                .filter(posts_visible_to(viewer))
                .select(content::id)
                .load::<i64>(conn)?,
        );
        let comments: Vec<(i64, i64)> = content::table
            .filter(content::id.eq_any(chunk))
            .filter(content::deleted_at.is_null())
            .filter(comments_visible_to(viewer))
            .select((content::id, content::root_id.assume_not_null()))
            .filter(content::root_id.is_not_null())
            .load(conn)?;
        if comments.is_empty() {
            continue;
        }
        let mut roots: Vec<i64> = comments.iter().map(|c| c.1).collect();
        roots.sort_unstable();
        roots.dedup();
        let seen: std::collections::HashSet<i64> = content::table
            .filter(content::id.eq_any(&roots))
            .filter(content::deleted_at.is_null())
            .filter(posts_visible_to(viewer))
            .select(content::id)
            .load::<i64>(conn)?
            .into_iter()
            .collect();
        out.extend(
            comments
                .into_iter()
                .filter(|(_, root)| seen.contains(root))
                .map(|(id, _)| id),
        );
    }
    Ok(out)
}

/// SQL condition on communities (`communities` rows): the local person
/// `viewer` may know the community exists. A secret community exists only
/// for its members and the people invited to it, every community for a
/// guest ([`may_find_community`]).
#[diesel::dsl::auto_type]
pub fn communities_findable_by(viewer: i64) -> _ {
    let secret: &'static str = CommunityVisibility::Secret.as_str();
    let known: [&'static str; 2] = ["member", "invited"];
    let free: not_confined = not_confined(viewer);
    communities::visibility
        .ne(secret)
        .and(free)
        .or(communities::actor_id.eq_any(
            community_members::table
                .filter(community_members::user_id.eq(viewer))
                .filter(community_members::status.eq_any(known))
                .select(community_members::community_id),
        ))
}

/// Inside a write transaction: which of the local people `ids` may read
/// the posts of `community`: everyone but guests for an open community,
/// its members in any case. Used before notifying, so that a mention never
/// reveals a post.
pub fn readers_among(c: &mut DbConn, community: i64, ids: &[i64]) -> QueryResult<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let open: i64 = communities::table
        .filter(communities::actor_id.eq(community))
        .filter(communities::visibility.eq_any(OPEN_COMMUNITIES))
        .count()
        .get_result(c)?;
    let members: Vec<i64> = community_members::table
        .filter(community_members::community_id.eq(community))
        .filter(community_members::status.eq("member"))
        .filter(community_members::user_id.eq_any(ids))
        .select(community_members::user_id)
        .load(c)?;
    if open == 0 {
        return Ok(members);
    }
    let confined: Vec<i64> = guests::table
        .filter(guests::user_id.eq_any(ids))
        .select(guests::user_id)
        .load(c)?;
    Ok(ids
        .iter()
        .copied()
        .filter(|id| !confined.contains(id) || members.contains(id))
        .collect())
}

/// What an instance asks to see of a community.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// That it exists (its Group document, its picture).
    Existence,
    /// Its posts, documents and roster.
    Content,
}

/// Whether an instance's trust level lets it take part in a community:
/// members always, partners when the community is open to them (never an
/// organisation-only one), and, in open federation mode, unlisted instances
/// for public communities not reserved to partners (the trust gate refuses
/// them in allowlist mode).
pub fn community_open_to(
    visibility: CommunityVisibility,
    partners: bool,
    trust: &Decision,
) -> bool {
    match trust {
        Decision::Member => true,
        Decision::Partner => partners && visibility != CommunityVisibility::Organisation,
        Decision::Unknown => visibility == CommunityVisibility::Public && !partners,
        Decision::Blocked { .. } => false,
    }
}

fn community_settings(conn: &mut DbConn, community: i64) -> AppResult<(CommunityVisibility, bool)> {
    let (v, partners): (String, bool) = communities::table
        .find(community)
        .select((communities::visibility, communities::partners))
        .first(conn)?;
    Ok((CommunityVisibility::stored(&v), partners))
}

/// Whether an unsigned request may see a community (open mode): public
/// ones not reserved to partners.
pub fn nobody_may_see_community(conn: &mut DbConn, community: i64) -> AppResult<bool> {
    let (v, partners) = community_settings(conn, community)?;
    Ok(v == CommunityVisibility::Public && !partners)
}

/// Whether `reader` may see a community. Secret and private communities
/// are seen by instances with a member (secret ones also by instances with
/// an invited or pending person, so that they can join); a remote
/// community's content is only served back to its own host.
pub fn instance_may_see_community(
    conn: &mut DbConn,
    community: i64,
    reader: &Instance,
    need: Need,
) -> AppResult<bool> {
    let (v, partners) = community_settings(conn, community)?;
    if !community_open_to(v, partners, &reader.trust) {
        return Ok(false);
    }
    let host: Option<String> = users::table
        .find(community)
        .select(users::domain)
        .first(conn)?;
    if let Some(host) = host {
        return Ok(v.open_content() || host == reader.domain);
    }
    if v.open_content() || (need == Need::Existence && v == CommunityVisibility::Private) {
        return Ok(true);
    }
    let statuses: &[&str] = match need {
        Need::Existence => &["member", "invited", "pending"],
        Need::Content => &["member"],
    };
    let n: i64 = community_members::table
        .inner_join(users::table.on(users::id.eq(community_members::user_id)))
        .filter(community_members::community_id.eq(community))
        .filter(community_members::status.eq_any(statuses))
        .filter(users::domain.eq(&reader.domain))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// What the checks need of a post or comment.
#[derive(Debug, Clone, Queryable)]
pub struct Item {
    pub id: i64,
    pub author: i64,
    pub root: Option<i64>,
    pub visibility: Visibility,
    pub community: Option<i64>,
    pub deleted: bool,
}

/// The post or comment `id`, as the checks see it.
pub fn item(conn: &mut DbConn, id: i64) -> AppResult<Option<Item>> {
    let row = content::table
        .find(id)
        .select((
            content::id,
            content::author_id,
            content::root_id,
            content::visibility,
            content::community_id,
            content::deleted_at.is_not_null(),
        ))
        .first::<Item>(conn)
        .optional()?;
    Ok(row)
}

/// Whether `viewer` may read the post or comment `id`. For another
/// instance a deleted item still counts (it is served as a tombstone); a
/// person reads nothing of a deleted thread. What does not exist and what
/// may not be seen are the same `false`.
pub fn may_read(conn: &mut DbConn, viewer: &Viewer, id: i64) -> AppResult<bool> {
    let Some(own) = item(conn, id)? else {
        return Ok(false);
    };
    let root = match own.root {
        Some(r) => match item(conn, r)? {
            Some(root) => root,
            None => return Ok(false),
        },
        None => own.clone(),
    };
    may_read_item(conn, viewer, &own, &root)
}

/// [`may_read`] for an item and its thread's post the caller has already
/// loaded (`root` is `own` itself for a post).
pub fn may_read_item(
    conn: &mut DbConn,
    viewer: &Viewer,
    own: &Item,
    root: &Item,
) -> AppResult<bool> {
    match viewer {
        Viewer::Person(person) => {
            // People do not read what remains of a deleted thread.
            if root.deleted {
                return Ok(false);
            }
            let person = *person;
            let root_seen: i64 = content::table
                .filter(content::id.eq(root.id))
                .filter(posts_visible_to(person))
                .count()
                .get_result(conn)?;
            if root_seen == 0 {
                return Ok(false);
            }
            if own.root.is_none() {
                return Ok(true);
            }
            let seen: i64 = content::table
                .filter(content::id.eq(own.id))
                .filter(comments_visible_to(person))
                .count()
                .get_result(conn)?;
            Ok(seen > 0)
        }
        Viewer::Instance(reader) => {
            if own.root.is_some() && own.visibility == Visibility::Direct {
                return Ok(false);
            }
            if let Some(community) = root.community {
                return instance_may_see_community(conn, community, reader, Need::Content);
            }
            Ok(match root.visibility {
                Visibility::Public => true,
                Visibility::Organisation => reader.trust == Decision::Member,
                Visibility::Followers => has_follower_at(conn, root.author, &reader.domain)?,
                Visibility::Instance | Visibility::Direct | Visibility::Community => false,
            })
        }
        Viewer::Nobody => Ok(root.community.is_none()
            && root.visibility == Visibility::Public
            && (own.root.is_none() || own.visibility != Visibility::Direct)),
    }
}

/// When [`may_read_item`] refuses an instance an item of this instance
/// posted in another instance's closed community, the community whose host
/// decides: that host knows who its members are, so the item is served to
/// an instance its host lists among the members (see
/// `federation::group_roster::host_lists_instance`). Used when a third
/// instance checks with the author's instance what the host announced.
pub fn host_decides(
    conn: &mut DbConn,
    viewer: &Viewer,
    own: &Item,
    root: &Item,
) -> AppResult<Option<i64>> {
    let (Viewer::Instance(reader), Some(community)) = (viewer, root.community) else {
        return Ok(None);
    };
    if own.root.is_some() && own.visibility == Visibility::Direct {
        return Ok(None);
    }
    let host: Option<String> = users::table
        .find(community)
        .select(users::domain)
        .first(conn)?;
    let (v, partners) = community_settings(conn, community)?;
    let decides = host.is_some_and(|h| h != reader.domain)
        && !v.open_content()
        && community_open_to(v, partners, &reader.trust);
    Ok(decides.then_some(community))
}

/// Whether `person` has an accepted follower on the instance `domain`.
fn has_follower_at(conn: &mut DbConn, person: i64, domain: &str) -> AppResult<bool> {
    let n: i64 = follows::table
        .inner_join(users::table.on(users::id.eq(follows::follower_id)))
        .filter(follows::followee_id.eq(person))
        .filter(follows::accepted.eq(true))
        .filter(users::domain.eq(domain))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// The remote people a post or comment outside communities is delivered
/// to, before the trust gate turns them into inboxes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recipients {
    /// `users.id` of remote people.
    pub people: BTreeSet<i64>,
    /// Only to instances of the same organisation (`member` level).
    pub members_only: bool,
}

fn domain_of(conn: &mut DbConn, user: i64) -> AppResult<Option<String>> {
    Ok(users::table.find(user).select(users::domain).first(conn)?)
}

/// Remote people who follow `person` (accepted follows).
pub fn remote_followers(conn: &mut DbConn, person: i64) -> AppResult<Vec<i64>> {
    Ok(follows::table
        .inner_join(users::table.on(users::id.eq(follows::follower_id)))
        .filter(follows::followee_id.eq(person))
        .filter(follows::accepted.eq(true))
        .filter(users::domain.is_not_null())
        .select(users::id)
        .load(conn)?)
}

/// Who must hear about the post or comment `id` (outside communities):
/// for a public or organisation thread, the remote followers of the
/// thread's author and of the writer when they are local; for a followers
/// thread, the remote followers of its local author; always the thread's
/// author when remote, the replied-to author and the people mentioned.
/// Posts for this instance only (and their comments) reach nobody; a
/// comment among a few people (`Direct`) reaches only the one it answers
/// and the people it mentions.
pub fn recipients(conn: &mut DbConn, id: i64) -> AppResult<Recipients> {
    let own = item(conn, id)?.ok_or_else(AppError::not_found)?;
    let root = match own.root {
        Some(r) => item(conn, r)?.ok_or_else(AppError::not_found)?,
        None => own.clone(),
    };
    let mut rec = Recipients::default();
    let root_local = domain_of(conn, root.author)?.is_none();
    let own_local = domain_of(conn, own.author)?.is_none();
    // A comment among a few people (an answer to a `Direct` reply) reaches
    // only the one it answers and the people it mentions.
    let among_few = own.root.is_some() && own.visibility == Visibility::Direct;
    let thread = if among_few {
        Visibility::Direct
    } else {
        root.visibility
    };
    match thread {
        v @ (Visibility::Public | Visibility::Organisation) => {
            rec.members_only = v == Visibility::Organisation;
            if root_local {
                rec.people.extend(remote_followers(conn, root.author)?);
            }
            if own_local {
                rec.people.extend(remote_followers(conn, own.author)?);
            }
        }
        Visibility::Followers if root_local => {
            rec.people.extend(remote_followers(conn, root.author)?);
        }
        // Local-only posts never leave the instance, not even their comments.
        Visibility::Instance => return Ok(rec),
        _ => {}
    }
    if !root_local && !among_few {
        rec.people.insert(root.author);
    }
    let reply_to: Option<i64> = content::table
        .find(own.id)
        .select(content::reply_to_id)
        .first(conn)?;
    if let Some(parent) = reply_to {
        let pa: i64 = content::table
            .find(parent)
            .select(content::author_id)
            .first(conn)?;
        rec.people.insert(pa);
    }
    let mentioned: Vec<i64> = mentions::table
        .filter(mentions::content_id.eq(own.id))
        .select(mentions::user_id)
        .load(conn)?;
    rec.people.extend(mentioned);
    Ok(rec)
}

#[cfg(test)]
mod tests;
