//! Whom to follow and which communities to join: colleagues of the same
//! department or site, who share a skill, whom the people one follows
//! follow, who write, and communities that are popular, open, of this
//! site, joined by people one follows or about one's work. People and
//! communities of the organisation's other instances known here are
//! suggested like local ones; those of partner, unknown or blocked
//! instances are not.
//!
//! Each source of candidates is bounded, so a suggestion costs a few small
//! queries whatever the size of the site; the candidates are then scored
//! here, and every suggestion says why it is made.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use serde::Serialize;

use crate::accounts::User;
use crate::audience::{self, CommunityVisibility};
use crate::communities::{self, Community, JoinPolicy};
use crate::db::schema::{
    communities as communities_t, community_members, content, follows, skills, user_skills, users,
};
use crate::db::{lower, DbConn};
use crate::error::AppResult;
use crate::people::PersonSummary;

/// How many candidates one source brings at most.
const PER_SOURCE: i64 = 100;
/// How many recent posts are read to find who writes.
const RECENT_POSTS: i64 = 2000;
/// At most this many suggestions are asked for at once.
pub const MAX: usize = 50;

/// Why someone or something is suggested.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    SameDepartment,
    SameSite,
    SharedSkills {
        skills: Vec<String>,
    },
    /// Followed by this many of the people the reader follows.
    FollowedByYourContacts {
        count: i64,
    },
    /// This many recent posts the reader may see.
    Active {
        posts: i64,
    },
    /// Followers of a person.
    Followers {
        count: i64,
    },
    /// Members of a community.
    Members {
        count: i64,
    },
    /// This many of the people the reader follows are members.
    MembersYouFollow {
        count: i64,
    },
    /// Anyone may join at once.
    Open,
    /// Hosted on this instance.
    OfYourSite,
    /// Its name or title speaks of the reader's department or a skill.
    AboutYourWork {
        topic: String,
    },
}

/// A person to follow.
#[derive(Debug, Clone, Serialize)]
pub struct PersonSuggestion {
    #[serde(flatten)]
    pub person: PersonSummary,
    /// The instance of a person of another site.
    pub domain: Option<String>,
    pub reasons: Vec<Reason>,
}

/// A community to join.
#[derive(Debug, Clone, Serialize)]
pub struct CommunitySuggestion {
    pub community: Community,
    pub reasons: Vec<Reason>,
}

/// The viewer's skills, normalised.
fn skills_of(conn: &mut DbConn, id: i64) -> QueryResult<Vec<(i64, String)>> {
    user_skills::table
        .inner_join(skills::table)
        .filter(user_skills::user_id.eq(id))
        .select((skills::id, skills::name))
        .load(conn)
}

/// The people the viewer follows (asked or accepted).
fn followed_by(conn: &mut DbConn, id: i64) -> QueryResult<Vec<i64>> {
    follows::table
        .filter(follows::follower_id.eq(id))
        .select(follows::followee_id)
        .load(conn)
}

/// Authors of the newest posts `viewer` may see, with their number of posts.
fn recent_authors(conn: &mut DbConn, viewer: i64) -> QueryResult<HashMap<i64, i64>> {
    let authors: Vec<i64> = content::table
        .filter(content::root_id.is_null())
        .filter(content::deleted_at.is_null())
        .filter(audience::posts_visible_to(viewer))
        .order(content::id.desc())
        .limit(RECENT_POSTS)
        .select(content::author_id)
        .load(conn)?;
    let mut counts = HashMap::new();
    for a in authors {
        *counts.entry(a).or_insert(0) += 1;
    }
    Ok(counts)
}

/// People `viewer` might follow, best first, at most `limit`.
pub fn people(conn: &mut DbConn, viewer: &User, limit: usize) -> AppResult<Vec<PersonSuggestion>> {
    // A guest is shown their communities, never the company's people.
    if audience::confined(conn, viewer.id)? {
        return Ok(Vec::new());
    }
    let known = Known::read(conn, viewer)?;
    people_knowing(conn, viewer, &known, limit)
}

/// What both kinds of suggestions start from, read once.
struct Known {
    /// The organisation's member instances known here.
    members: Vec<String>,
    /// The people the viewer follows (asked or accepted).
    followed: Vec<i64>,
}

impl Known {
    fn read(conn: &mut DbConn, viewer: &User) -> AppResult<Known> {
        Ok(Known {
            members: crate::net::trust::known_members(conn)?,
            followed: followed_by(conn, viewer.id)?,
        })
    }
}

fn people_knowing(
    conn: &mut DbConn,
    viewer: &User,
    known: &Known,
    limit: usize,
) -> AppResult<Vec<PersonSuggestion>> {
    let limit = limit.clamp(1, MAX);
    let (members, followed) = (&known.members, known.followed.as_slice());
    let mine = skills_of(conn, viewer.id)?;
    let active = recent_authors(conn, viewer.id)?;
    let department = viewer.department.trim().to_lowercase();
    let site = viewer.site.trim().to_lowercase();

    // The most active writers only: counting followers or reading the
    // profiles of a couple of thousand authors for three suggestions took
    // seconds on the benchmark's site.
    let mut writers: Vec<(i64, i64)> = active.iter().map(|(a, n)| (*a, *n)).collect();
    writers.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
    writers.truncate(PER_SOURCE as usize);
    let mut candidates: HashSet<i64> = writers.iter().map(|(a, _)| *a).collect();
    if !department.is_empty() {
        candidates.extend(
            users::table
                .filter(lower(users::department).eq(&department))
                .filter(users::actor_type.eq("person"))
                .limit(PER_SOURCE)
                .select(users::id)
                .load::<i64>(conn)?,
        );
    }
    if !site.is_empty() {
        candidates.extend(
            users::table
                .filter(lower(users::site).eq(&site))
                .filter(users::actor_type.eq("person"))
                .limit(PER_SOURCE)
                .select(users::id)
                .load::<i64>(conn)?,
        );
    }
    let skill_ids: Vec<i64> = mine.iter().map(|(id, _)| *id).collect();
    if !skill_ids.is_empty() {
        candidates.extend(
            user_skills::table
                .filter(user_skills::skill_id.eq_any(&skill_ids))
                .limit(PER_SOURCE)
                .select(user_skills::user_id)
                .load::<i64>(conn)?,
        );
    }
    // Followed by the people the viewer follows.
    let second: Vec<i64> = if followed.is_empty() {
        Vec::new()
    } else {
        follows::table
            .filter(follows::follower_id.eq_any(followed))
            .filter(follows::accepted.eq(true))
            .limit(PER_SOURCE * 5)
            .select(follows::followee_id)
            .load(conn)?
    };
    candidates.extend(second.iter().copied());
    candidates.remove(&viewer.id);
    for f in followed {
        candidates.remove(f);
    }
    // The most followed, only for a site where nothing else is known yet
    // (it reads all the follows); their followers are then counted.
    let fallback = candidates.is_empty();
    if fallback {
        candidates.extend(
            follows::table
                .filter(follows::accepted.eq(true))
                .group_by(follows::followee_id)
                .order(diesel::dsl::count_star().desc())
                .limit(PER_SOURCE)
                .select(follows::followee_id)
                .load::<i64>(conn)?,
        );
    }
    candidates.remove(&viewer.id);
    for f in followed {
        candidates.remove(f);
    }
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = candidates.into_iter().collect();
    let rows: Vec<(PersonSummary, Option<String>)> = users::table
        .filter(users::id.eq_any(&ids))
        .filter(users::actor_type.eq("person"))
        .filter(users::disabled.eq(false))
        .filter(users::deleted_at.is_null())
        .select((PersonSummary::as_select(), users::domain))
        .load(conn)?;
    let rows: Vec<(PersonSummary, Option<String>)> = rows
        .into_iter()
        .filter(|(_, d)| d.as_ref().is_none_or(|d| members.contains(d)))
        .collect();
    let ids: Vec<i64> = rows.iter().map(|(p, _)| p.id).collect();
    let shared: Vec<(i64, String)> = if skill_ids.is_empty() {
        Vec::new()
    } else {
        user_skills::table
            .inner_join(skills::table)
            .filter(user_skills::user_id.eq_any(&ids))
            .filter(user_skills::skill_id.eq_any(&skill_ids))
            .select((user_skills::user_id, skills::name))
            .load(conn)?
    };
    let followers: Vec<(i64, i64)> = match fallback {
        false => Vec::new(),
        true => follows::table
            .filter(follows::followee_id.eq_any(&ids))
            .filter(follows::accepted.eq(true))
            .group_by(follows::followee_id)
            .select((follows::followee_id, diesel::dsl::count_star()))
            .load(conn)?,
    };

    let mut scored: Vec<(f64, PersonSuggestion)> = rows
        .into_iter()
        .map(|(person, domain)| {
            let mut reasons = Vec::new();
            let mut score = 0.0;
            if !department.is_empty() && person.department.trim().to_lowercase() == department {
                reasons.push(Reason::SameDepartment);
                score += 4.0;
            }
            if !site.is_empty() && person.site.trim().to_lowercase() == site {
                reasons.push(Reason::SameSite);
                score += 3.0;
            }
            let mut skills: Vec<String> = shared
                .iter()
                .filter(|(u, _)| *u == person.id)
                .map(|(_, s)| s.clone())
                .collect();
            if !skills.is_empty() {
                skills.sort();
                score += 2.0 * skills.len().min(3) as f64;
                reasons.push(Reason::SharedSkills { skills });
            }
            let via = second.iter().filter(|f| **f == person.id).count() as i64;
            if via > 0 {
                score += via.min(3) as f64;
                reasons.push(Reason::FollowedByYourContacts { count: via });
            }
            if let Some(&(_, posts)) = writers.iter().find(|(a, _)| *a == person.id) {
                score += (posts.min(10) as f64) / 5.0;
                reasons.push(Reason::Active { posts });
            }
            let count = followers
                .iter()
                .find(|(id, _)| *id == person.id)
                .map(|(_, n)| *n)
                .unwrap_or(0);
            if count > 0 {
                score += (count.min(20) as f64) / 10.0;
                if reasons.is_empty() {
                    reasons.push(Reason::Followers { count });
                }
            }
            (
                score,
                PersonSuggestion {
                    person,
                    domain,
                    reasons,
                },
            )
        })
        .filter(|(_, s)| !s.reasons.is_empty())
        .collect();
    scored.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| b.1.person.id.cmp(&a.1.person.id))
    });
    Ok(scored.into_iter().take(limit).map(|(_, s)| s).collect())
}

/// Communities `viewer` might join, best first, at most `limit`: those they
/// may find and join (not secret, not by invitation only), where they are
/// neither member nor asked, invited or banned.
pub fn communities(
    conn: &mut DbConn,
    viewer: &User,
    limit: usize,
) -> AppResult<Vec<CommunitySuggestion>> {
    if audience::confined(conn, viewer.id)? {
        return Ok(Vec::new());
    }
    let known = Known::read(conn, viewer)?;
    communities_knowing(conn, viewer, &known, limit)
}

fn communities_knowing(
    conn: &mut DbConn,
    viewer: &User,
    known: &Known,
    limit: usize,
) -> AppResult<Vec<CommunitySuggestion>> {
    let limit = limit.clamp(1, MAX);
    let (members, followed) = (&known.members, known.followed.as_slice());
    let topics: Vec<String> = std::iter::once(viewer.department.trim().to_lowercase())
        .chain(skills_of(conn, viewer.id)?.into_iter().map(|(_, s)| s))
        .filter(|t| t.chars().count() >= 3)
        .collect();
    let known: Vec<(i64, Option<String>)> = users::table
        .inner_join(communities_t::table.on(communities_t::actor_id.eq(users::id)))
        .filter(users::actor_type.eq("group"))
        .filter(users::deleted_at.is_null())
        .filter(communities_t::visibility.ne(CommunityVisibility::Secret.as_str()))
        .filter(communities_t::join_policy.ne(JoinPolicy::Invitation.as_str()))
        .filter(
            users::id.ne_all(
                community_members::table
                    .filter(community_members::user_id.eq(viewer.id))
                    .select(community_members::community_id),
            ),
        )
        .order(users::id.desc())
        .limit(PER_SOURCE * 5)
        .select((users::id, users::domain))
        .load(conn)?;
    let ids: Vec<i64> = known
        .into_iter()
        .filter(|(_, d)| d.as_ref().is_none_or(|d| members.contains(d)))
        .map(|(id, _)| id)
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let joined_by_contacts: Vec<i64> = if followed.is_empty() {
        Vec::new()
    } else {
        community_members::table
            .filter(community_members::community_id.eq_any(&ids))
            .filter(community_members::user_id.eq_any(followed))
            .filter(community_members::status.eq("member"))
            .select(community_members::community_id)
            .load(conn)?
    };
    let recent: Vec<i64> = content::table
        .filter(content::community_id.eq_any(&ids))
        .filter(content::root_id.is_null())
        .filter(content::deleted_at.is_null())
        .filter(audience::posts_visible_to(viewer.id))
        .order(content::id.desc())
        .limit(RECENT_POSTS)
        .select(content::community_id.assume_not_null())
        .load(conn)?;
    let list = communities::many(conn, viewer.id, &ids)?;
    let mut scored: Vec<(f64, CommunitySuggestion)> = list
        .into_iter()
        .map(|community| {
            let mut reasons = Vec::new();
            let mut score = 0.0;
            let text = format!("{} {}", community.name, community.title).to_lowercase();
            if let Some(topic) = topics.iter().find(|t| text.contains(t.as_str())) {
                score += 3.0;
                reasons.push(Reason::AboutYourWork {
                    topic: topic.clone(),
                });
            }
            // Who belongs to a community whose posts only members read is
            // theirs to know: it is not a reason given to others.
            let via = match community.visibility().open_content() {
                true => joined_by_contacts
                    .iter()
                    .filter(|c| **c == community.id)
                    .count() as i64,
                false => 0,
            };
            if via > 0 {
                score += 1.5 * via.min(3) as f64;
                reasons.push(Reason::MembersYouFollow { count: via });
            }
            let posts = recent.iter().filter(|c| **c == community.id).count() as i64;
            if posts > 0 {
                score += (posts.min(20) as f64) / 10.0;
                reasons.push(Reason::Active { posts });
            }
            if community.member_count > 0 {
                score += ((community.member_count + 1) as f64).log2().min(4.0);
                reasons.push(Reason::Members {
                    count: community.member_count,
                });
            }
            if community.is_local() {
                score += 1.0;
                reasons.push(Reason::OfYourSite);
            }
            if community.join_policy == JoinPolicy::Open.as_str() {
                score += 1.0;
                reasons.push(Reason::Open);
            }
            (score, CommunitySuggestion { community, reasons })
        })
        .collect();
    scored.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| b.1.community.id.cmp(&a.1.community.id))
    });
    Ok(scored.into_iter().take(limit).map(|(_, s)| s).collect())
}

/// While a person follows fewer people than this, the home page suggests
/// some.
pub const HOME_PEOPLE_UNTIL: i64 = 20;
/// While a person belongs to fewer communities than this, the home page
/// suggests some.
pub const HOME_COMMUNITIES_UNTIL: i64 = 5;
/// Suggestions of each kind on the home page.
pub const ON_HOME: usize = 3;

/// What the home page suggests: a few people while one follows few, a
/// few communities while one belongs to few.
pub fn for_home(
    conn: &mut DbConn,
    viewer: &User,
) -> AppResult<(Vec<PersonSuggestion>, Vec<CommunitySuggestion>)> {
    if audience::confined(conn, viewer.id)? {
        return Ok((Vec::new(), Vec::new()));
    }
    let known = Known::read(conn, viewer)?;
    let belongs: i64 = community_members::table
        .filter(community_members::user_id.eq(viewer.id))
        .filter(community_members::status.eq("member"))
        .count()
        .get_result(conn)?;
    let people = match (known.followed.len() as i64) < HOME_PEOPLE_UNTIL {
        true => people_knowing(conn, viewer, &known, ON_HOME)?,
        false => Vec::new(),
    };
    let communities = match belongs < HOME_COMMUNITIES_UNTIL {
        true => communities_knowing(conn, viewer, &known, ON_HOME)?,
        false => Vec::new(),
    };
    Ok((people, communities))
}
