//! "Who knows about …?": people ranked by the evidence that they know a
//! topic, with the evidence shown.
//!
//! Evidence, for the topic's words (matched as a search matches them):
//! - a declared skill about it (the strongest), the colleagues who endorse
//!   it (on every site: for a person of another site, as their site counts
//!   them), and a job title about it;
//! - what they wrote about it that the reader may see: posts, comments and
//!   documents, found through `audience` exactly as a search finds them;
//! - the "insightful" and "thanks" reactions those contributions received;
//! - their answers accepted, to questions about it or as answers about it
//!   (`content::question`).
//!
//! Contributions and reactions weigh less as they age (half as much after
//! [`HALF_LIFE_DAYS`]). A person who chose not to appear in the finder
//! (`finder_optouts`) is left out, as are disabled accounts. Only the
//! newest `search::CANDIDATES` matching contributions are weighed.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::{hydrate, people_query, ContentHit, PeopleFilter, Query};
use crate::db::schema::{finder_optouts, reactions, skills, user_skills, users};
use crate::db::{now, DbConn};
use crate::error::AppResult;
use crate::index::{words, Term};
use crate::people::{self, PersonSummary};

/// Contributions and reactions weigh half as much after this many days.
pub const HALF_LIFE_DAYS: f64 = 180.0;
/// People whose profile matches, read as candidates.
const MAX_PROFILES: i64 = 500;
/// People listed.
pub const MAX_EXPERTS: usize = 20;
/// Contributions shown as examples per person.
const EXAMPLES: usize = 3;

const SKILL: f64 = 6.0;
const ENDORSEMENT: f64 = 2.0;
const TITLE: f64 = 3.0;
const CONTRIBUTION: f64 = 1.0;
const REACTION: f64 = 0.5;
const ACCEPTED: f64 = 3.0;

/// A person and why they are thought to know the topic.
#[derive(Debug, Clone, Serialize)]
pub struct Expert {
    pub person: PersonSummary,
    pub score: f64,
    /// Their declared skills about the topic.
    pub skills: Vec<String>,
    /// How many colleagues endorse those skills (one per colleague and
    /// skill).
    pub endorsements: i64,
    /// Whether their job title is about it.
    pub title: bool,
    /// How many of their posts, comments and documents about it the reader
    /// may see.
    pub contributions: i64,
    /// "Insightful" and "thanks" reactions those received.
    pub reactions: i64,
    /// Their answers accepted, to questions about it (or about it).
    pub accepted: i64,
    /// Their latest contributions about it.
    pub examples: Vec<ContentHit>,
}

#[derive(Default)]
struct Tally {
    score: f64,
    contributions: i64,
    reactions: i64,
    accepted: i64,
    examples: Vec<i64>,
}

fn weight(at: NaiveDateTime, now: NaiveDateTime) -> f64 {
    let days = (now - at).num_seconds().max(0) as f64 / 86_400.0;
    0.5f64.powf(days / HALF_LIFE_DAYS)
}

/// Whether a word of a skill or a title is one of the topic's terms.
fn about(text: &str, terms: &[Term]) -> bool {
    words::split(text).any(|w| {
        let mine = Term::of(&w, false).tokens;
        let folded = words::fold(&w);
        terms.iter().any(|t| {
            t.tokens.iter().any(|x| mine.contains(x))
                || t.prefix
                    .as_ref()
                    .is_some_and(|p| folded.starts_with(p.as_str()))
        })
    })
}

/// The people who know about `topic`, best first, as `viewer` may see
/// the evidence. A topic without words finds nobody.
pub fn find(conn: &mut DbConn, viewer: i64, topic: &str) -> AppResult<Vec<Expert>> {
    crate::accounts::guest::refuse(conn, viewer)?;
    let parsed = super::parse(topic)?;
    // Only the words count: the filters of a search do not apply here.
    let mut q = Query {
        matching: parsed.matching,
        phrases: parsed.phrases,
        ..Query::default()
    };
    q.matching.complete(conn)?;
    if q.matching.is_empty() {
        return Ok(Vec::new());
    }
    let now = now();
    // The newest matches (see `search::CANDIDATES`), those the reader may
    // see.
    let (candidates, _) = super::candidates(conn, &q)?;
    let candidates: Vec<i64> = candidates.into_iter().map(|c| c.id).collect();
    let mut rows = super::readable(conn, viewer, &candidates)?;
    rows.sort_by(|a, b| b.2.cmp(&a.2).then(b.0.cmp(&a.0)));
    let mut tally: HashMap<i64, Tally> = HashMap::new();
    let mut of_content: HashMap<i64, (i64, f64)> = HashMap::new();
    for (id, author, at) in &rows {
        let w = weight(*at, now);
        let t = tally.entry(*author).or_default();
        t.score += CONTRIBUTION * w;
        t.contributions += 1;
        if t.examples.len() < EXAMPLES {
            t.examples.push(*id);
        }
        of_content.insert(*id, (*author, w));
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    for chunk in ids.chunks(1000) {
        let counts: Vec<(i64, i64)> = reactions::table
            .filter(reactions::content_id.eq_any(chunk))
            .filter(reactions::kind.eq_any(["insightful", "thanks"]))
            .group_by(reactions::content_id)
            .select((reactions::content_id, diesel::dsl::count_star()))
            .load(conn)?;
        for (id, n) in counts {
            if let Some((author, w)) = of_content.get(&id) {
                let t = tally.entry(*author).or_default();
                t.score += REACTION * w * n as f64;
                t.reactions += n;
            }
        }
    }
    // Answers accepted to the questions found, or found themselves.
    for (_, author, at) in crate::content::question::accepted_among(conn, &ids)? {
        let t = tally.entry(author).or_default();
        t.score += ACCEPTED * weight(at, now);
        t.accepted += 1;
    }
    // People whose profile is about it (skills, title, and the rest).
    let profiles: Vec<i64> = match people_query(conn, &q, &PeopleFilter::default()) {
        Some(query) => query.select(users::id).limit(MAX_PROFILES).load(conn)?,
        None => Vec::new(),
    };
    for id in profiles {
        tally.entry(id).or_default();
    }
    let mut candidates: Vec<i64> = tally.keys().copied().collect();
    candidates.sort_unstable();
    // Enabled people who did not leave the finder.
    let mut allowed: Vec<(i64, String)> = Vec::new();
    for chunk in candidates.chunks(1000) {
        allowed.extend(
            users::table
                .filter(users::id.eq_any(chunk))
                .filter(users::actor_type.eq("person"))
                .filter(users::disabled.eq(false))
                .filter(users::deleted_at.is_null())
                .filter(users::id.ne_all(finder_optouts::table.select(finder_optouts::user_id)))
                .select((users::id, users::job_title))
                .load::<(i64, String)>(conn)?,
        );
    }
    let allowed_ids: Vec<i64> = allowed.iter().map(|a| a.0).collect();
    let mut declared: HashMap<i64, Vec<String>> = HashMap::new();
    let mut vouched: HashMap<i64, i64> = HashMap::new();
    for chunk in allowed_ids.chunks(1000) {
        let rows: Vec<(i64, i64, String)> = user_skills::table
            .inner_join(skills::table)
            .filter(user_skills::user_id.eq_any(chunk))
            .select((user_skills::user_id, skills::id, skills::name))
            .load(conn)?;
        let mut matching: Vec<i64> = Vec::new();
        for (uid, sid, skill) in rows {
            if about(&skill, &q.matching.all) {
                declared.entry(uid).or_default().push(skill);
                matching.push(sid);
            }
        }
        matching.sort_unstable();
        matching.dedup();
        for ((uid, _), n) in people::endorse::counts(conn, chunk, &matching)? {
            *vouched.entry(uid).or_default() += n;
        }
    }
    let mut ranked: Vec<(i64, f64, Vec<String>, bool)> = allowed
        .iter()
        .map(|(id, title)| {
            let skills = declared.remove(id).unwrap_or_default();
            let title = about(title, &q.matching.all);
            let t = &tally[id];
            let score = t.score
                + SKILL * skills.len() as f64
                + ENDORSEMENT * vouched.get(id).copied().unwrap_or(0) as f64
                + if title { TITLE } else { 0.0 };
            (*id, score, skills, title)
        })
        .filter(|(_, score, _, _)| *score > 0.0)
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(MAX_EXPERTS);
    let ids: Vec<i64> = ranked.iter().map(|r| r.0).collect();
    let summaries: HashMap<i64, PersonSummary> = people::summaries(conn, &ids)?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let example_ids: Vec<i64> = ranked
        .iter()
        .flat_map(|r| tally[&r.0].examples.iter().copied())
        .collect();
    let example_rows = super::hit_rows(conn, &example_ids)?;
    let mut examples: HashMap<i64, ContentHit> = hydrate(conn, &q, example_rows)?
        .into_iter()
        .map(|h| (h.id, h))
        .collect();
    Ok(ranked
        .into_iter()
        .filter_map(|(id, score, skills, title)| {
            let t = &tally[&id];
            Some(Expert {
                person: summaries.get(&id)?.clone(),
                score: (score * 100.0).round() / 100.0,
                skills,
                endorsements: vouched.get(&id).copied().unwrap_or(0),
                title,
                contributions: t.contributions,
                reactions: t.reactions,
                accepted: t.accepted,
                examples: t
                    .examples
                    .iter()
                    .filter_map(|e| examples.remove(e))
                    .collect(),
            })
        })
        .collect())
}

/// Whether `user` appears in the finder.
pub fn is_listed(conn: &mut DbConn, user: i64) -> AppResult<bool> {
    let hidden: i64 = finder_optouts::table.find(user).count().get_result(conn)?;
    Ok(hidden == 0)
}

/// Shows or hides `user` in the finder (their profile and posts stay
/// searchable as before).
pub fn set_listed(conn: &mut DbConn, user: i64, listed: bool) -> AppResult<()> {
    crate::db::write(conn, |c| {
        diesel::delete(finder_optouts::table.find(user)).execute(c)?;
        if !listed {
            diesel::insert_into(finder_optouts::table)
                .values((
                    finder_optouts::user_id.eq(user),
                    finder_optouts::created_at.eq(now()),
                ))
                .execute(c)?;
        }
        Ok(())
    })
}
