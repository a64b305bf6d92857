//! Search: posts, comments and documents, people and communities, in one
//! query, through the audience.
//!
//! The words and the filters of a query (`from:`, `in:`, `#tag`, `kind:`,
//! dates, phrases) are matched by the index (`crate::index`, the same rules
//! on both databases), which gives the newest [`CANDIDATES`] matches; who
//! may see them is then decided for that list by
//! `audience::visible_among` (deleted content and content of disabled
//! authors left out), so that a result the reader may not see is never
//! returned, counted or hinted at. Communities go through
//! `audience::communities_findable_by`, people are the enabled accounts. A
//! tab's count and its facets are counted with the same filters as its
//! results.
//!
//! Content is ranked by relevance (words in names, titles and tags weigh
//! more) divided by its age (`1 + age / 90 days`); a query of filters only
//! lists the newest first. Snippets are cut and highlighted here, from the
//! text the reader may see.

pub mod experts;
pub mod query;

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audience;
use crate::communities::{self, Community};
use crate::db::schema::{
    actor_search, communities as communities_t, content, document_versions, skills, user_skills,
    users,
};
use crate::db::{lower, DbConn, MultiBackend};
use crate::error::{AppError, AppResult};
use crate::index::{self, words, Entry, Filter, Table};
use crate::people::{self, PersonSummary};
pub use query::{parse, Kind, Query};

/// Results per page.
pub const PAGE: i64 = 20;
/// A query is ranked among the newest this many posts, comments and
/// documents it matches (a common word matches tens of thousands): more
/// words, a filter (`from:`, `in:`, `#tag`, `kind:`, which the index
/// answers with the words) or `before:` reach older ones.
pub const CANDIDATES: i64 = 500;
/// Pages one can go through (beyond, refine the query).
pub const MAX_PAGE: i64 = 50;
/// Values shown per facet.
const FACET_VALUES: i64 = 8;
/// People read to count the facets.
const FACET_SCAN: i64 = 2000;

/// What is searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Tab {
    #[default]
    Content,
    People,
    Communities,
}

impl Tab {
    pub fn parse(s: Option<&str>) -> AppResult<Tab> {
        match s.map(str::trim).unwrap_or("") {
            "" | "content" | "posts" => Ok(Tab::Content),
            "people" => Ok(Tab::People),
            "communities" => Ok(Tab::Communities),
            _ => Err(AppError::bad_request("search_type_unknown")
                .with("types", "content, people, communities")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tab::Content => "content",
            Tab::People => "people",
            Tab::Communities => "communities",
        }
    }
}

/// Narrowing the people found (the directory's facets).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct PeopleFilter {
    pub department: Option<String>,
    pub site: Option<String>,
    pub skill: Option<String>,
    /// `host[:port]` of their instance, or `here`.
    pub instance: Option<String>,
}

impl PeopleFilter {
    fn clean(v: &Option<String>) -> Option<String> {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_lowercase)
    }
}

/// A post, comment or document found.
#[derive(Debug, Clone, Serialize)]
pub struct ContentHit {
    pub id: i64,
    /// `post`, `comment` or `document`.
    pub kind: String,
    /// Where it is read here.
    pub path: String,
    pub author: PersonSummary,
    /// Its community: name (`name@host` when remote) and title.
    pub community: Option<String>,
    pub community_title: Option<String>,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub created_at: NaiveDateTime,
    /// The words around the first match, HTML-escaped, matches in `<mark>`.
    pub snippet_html: String,
}

/// A value of a facet and how many results have it.
#[derive(Debug, Clone, Serialize)]
pub struct FacetValue {
    pub value: String,
    pub count: i64,
}

/// The facets of people found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Facets {
    pub department: Vec<FacetValue>,
    pub site: Vec<FacetValue>,
    pub skill: Vec<FacetValue>,
    pub instance: Vec<FacetValue>,
}

/// How many results each tab has.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Counts {
    pub content: i64,
    /// Whether more content matches than was ranked (see [`CANDIDATES`]):
    /// `content` is then a lower bound.
    pub content_more: bool,
    pub people: i64,
    pub communities: i64,
}

/// One page of a search.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Results {
    pub tab: Tab,
    pub page: i64,
    pub more: bool,
    pub counts: Counts,
    pub content: Vec<ContentHit>,
    pub people: Vec<PersonSummary>,
    pub facets: Facets,
    pub communities: Vec<Community>,
}

/// Searches for `viewer`. An empty query finds nothing (and is no error:
/// the page then shows its help).
pub fn run(
    conn: &mut DbConn,
    viewer: i64,
    raw: &str,
    tab: Tab,
    filter: &PeopleFilter,
    page: i64,
) -> AppResult<Results> {
    // A guest searches what they may read, never people.
    let confined = crate::audience::confined(conn, viewer)?;
    if confined && tab == Tab::People {
        return Err(crate::accounts::guest::not_for_guests());
    }
    let mut q = parse(raw)?;
    q.matching.complete(conn)?;
    let page = page.clamp(0, MAX_PAGE);
    let mut out = Results {
        tab,
        page,
        ..Results::default()
    };
    if q.is_empty() {
        return Ok(out);
    }
    let (ranked, more) = rank_content(conn, viewer, &mut q)?;
    out.counts = Counts {
        content: ranked.len() as i64,
        content_more: more,
        people: match confined {
            true => 0,
            false => count_people(conn, &q, filter)?,
        },
        communities: count_communities(conn, viewer, &q)?,
    };
    match tab {
        Tab::Content => (out.content, out.more) = ranked_page(conn, &q, &ranked, page)?,
        Tab::People => {
            (out.people, out.more) = people_hits(conn, &q, filter, page)?;
            out.facets = facets(conn, &q, filter)?;
        }
        Tab::Communities => (out.communities, out.more) = community_hits(conn, viewer, &q, page)?,
    }
    Ok(out)
}

/// The query's filters as tokens of the content index
/// ([`index::Filter`]), added to `q.matching`; `false` when one names
/// nobody (no person, no community of that name): then nothing matches.
fn add_filters(conn: &mut DbConn, q: &mut Query) -> AppResult<bool> {
    let mut filters: Vec<Vec<Filter>> = Vec::new();
    if let Some(name) = &q.from {
        let Some(id) = users::table
            .filter(users::username.eq(name))
            .select(users::id)
            .first::<i64>(conn)
            .optional()?
        else {
            return Ok(false);
        };
        filters.push(vec![Filter::author(id)]);
    }
    if let Some(name) = &q.community {
        let Some(id) = users::table
            .filter(users::username.eq(name))
            .filter(users::actor_type.eq("group"))
            .select(users::id)
            .first::<i64>(conn)
            .optional()?
        else {
            return Ok(false);
        };
        filters.push(vec![Filter::community(id)]);
    }
    filters.extend(q.tags.iter().map(|t| vec![Filter::tag(t)]));
    match q.kind {
        Some(Kind::Post) => filters.push(vec![Filter::kind(Entry::Post)]),
        Some(Kind::Comment) => filters.push(vec![Filter::kind(Entry::Comment)]),
        Some(Kind::Document) => filters.push(vec![Filter::kind(Entry::Document)]),
        None => {}
    }
    // Dates alone: every entry, then the dates.
    if filters.is_empty() && q.matching.is_empty() {
        filters.push(Filter::any_entry());
    }
    q.matching.filters = filters;
    Ok(true)
}

/// The newest [`CANDIDATES`] entries of the index that the query's words
/// and filters match (and its phrases and dates), with their relevance
/// ([`index::Found`]); whether there were more.
fn candidates(conn: &mut DbConn, q: &Query) -> AppResult<(Vec<index::Found>, bool)> {
    let stamp = |d: chrono::NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc()
            .timestamp()
    };
    let mut found = index::newest(
        conn,
        &q.matching,
        &q.phrases,
        q.after.map(stamp),
        q.before.map(|d| stamp(d.succ_opt().unwrap_or(d))),
        CANDIDATES + 1,
    )?;
    let more = found.len() as i64 > CANDIDATES;
    found.truncate(CANDIDATES as usize);
    Ok((found, more))
}

/// Which of the posts, comments and documents `ids` `viewer` may read
/// (the audience, for a known list) and were written by people still
/// enabled (the index does not know): their author and date.
fn readable(
    conn: &mut DbConn,
    viewer: i64,
    ids: &[i64],
) -> AppResult<Vec<(i64, i64, NaiveDateTime)>> {
    let seen = audience::visible_among(conn, viewer, ids)?;
    let mut rows = Vec::with_capacity(seen.len());
    for chunk in seen.chunks(500) {
        // A join, not `author_id IN (enabled people)`: with a long list of
        // ids SQLite would otherwise walk every author's posts.
        rows.extend(
            content::table
                .inner_join(users::table)
                .filter(content::id.eq_any(chunk))
                .filter(users::disabled.eq(false))
                .select((content::id, content::author_id, content::created_at))
                .load::<(i64, i64, NaiveDateTime)>(conn)?,
        );
    }
    Ok(rows)
}

/// The ids of the content `viewer` may see among the [`candidates`],
/// best first (relevance over `1 + age / 90 days`, or the newest first
/// for a query of filters only), and whether more matched than were
/// ranked.
fn rank_content(conn: &mut DbConn, viewer: i64, q: &mut Query) -> AppResult<(Vec<i64>, bool)> {
    if !add_filters(conn, q)? {
        return Ok((Vec::new(), false));
    }
    let (found, more) = candidates(conn, q)?;
    let relevance: HashMap<i64, f64> = found.iter().map(|f| (f.id, f.relevance)).collect();
    let ids: Vec<i64> = found.iter().map(|f| f.id).collect();
    let now = chrono::Utc::now().naive_utc();
    let words = !q.matching.is_empty();
    let mut scored: Vec<(i64, f64)> = readable(conn, viewer, &ids)?
        .into_iter()
        .map(|(id, _, at)| {
            let score = match words {
                true => {
                    let age = (now - at).num_seconds().max(0) as f64;
                    relevance.get(&id).copied().unwrap_or(1.0) / (1.0 + age / 7_776_000.0)
                }
                false => at.and_utc().timestamp() as f64,
            };
            (id, score)
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
    Ok((scored.into_iter().map(|s| s.0).collect(), more))
}

/// The rows of the content `ids`, as [`hydrate`] reads them.
fn hit_rows(conn: &mut DbConn, ids: &[i64]) -> AppResult<Vec<HitRow>> {
    Ok(content::table
        .filter(content::id.eq_any(ids))
        .select((
            content::id,
            content::kind,
            content::author_id,
            content::root_id,
            content::community_id,
            content::body,
            content::created_at,
        ))
        .load(conn)?)
}

/// One page of [`rank_content`]'s ids, as results.
fn ranked_page(
    conn: &mut DbConn,
    q: &Query,
    ids: &[i64],
    page: i64,
) -> AppResult<(Vec<ContentHit>, bool)> {
    let from = (page * PAGE) as usize;
    let wanted: Vec<i64> = ids.iter().skip(from).take(PAGE as usize).copied().collect();
    let more = ids.len() > from + wanted.len();
    let rows = hit_rows(conn, &wanted)?;
    let mut hits = hydrate(conn, q, rows)?;
    hits.sort_by_key(|h| wanted.iter().position(|id| *id == h.id));
    Ok((hits, more))
}

type HitRow = (
    i64,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    String,
    NaiveDateTime,
);

/// Authors, communities and document addresses of the rows found, and
/// their snippets.
fn hydrate(conn: &mut DbConn, q: &Query, rows: Vec<HitRow>) -> AppResult<Vec<ContentHit>> {
    let mut author_ids: Vec<i64> = rows.iter().map(|r| r.2).collect();
    author_ids.sort_unstable();
    author_ids.dedup();
    let authors: HashMap<i64, PersonSummary> = people::summaries(conn, &author_ids)?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let community_ids: Vec<i64> = rows.iter().filter_map(|r| r.4).collect();
    let names: HashMap<i64, (String, String)> = users::table
        .filter(users::id.eq_any(&community_ids))
        .select((users::id, users::username, users::display_name))
        .load::<(i64, String, String)>(conn)?
        .into_iter()
        .map(|(id, n, t)| (id, (n, t)))
        .collect();
    let doc_rows: Vec<i64> = rows
        .iter()
        .filter(|r| r.1 == "document")
        .map(|r| r.0)
        .collect();
    let documents: HashMap<i64, i64> = document_versions::table
        .filter(document_versions::content_id.eq_any(&doc_rows))
        .select((
            document_versions::content_id.assume_not_null(),
            document_versions::document_id,
        ))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect();
    let (exact, prefixes) = q.marks();
    Ok(rows
        .into_iter()
        .filter_map(|(id, kind, author, root, community, body, created_at)| {
            let author = authors.get(&author)?.clone();
            let (path, kind) = match (kind.as_str(), root) {
                ("document", _) => (
                    documents
                        .get(&id)
                        .map(|d| format!("/documents/{d}"))
                        .unwrap_or_else(|| format!("/posts/{id}")),
                    "document",
                ),
                (_, Some(root)) => (format!("/posts/{root}#c{id}"), "comment"),
                _ => (format!("/posts/{id}"), "post"),
            };
            let named = community.and_then(|c| names.get(&c));
            Some(ContentHit {
                id,
                kind: kind.to_string(),
                path,
                author,
                community: named.map(|n| n.0.clone()),
                community_title: named.map(|n| n.1.clone()),
                created_at,
                snippet_html: snippet(&body, &exact, &prefixes),
            })
        })
        .collect())
}

type PeopleFrom = diesel::dsl::InnerJoinOn<
    users::table,
    actor_search::table,
    diesel::dsl::Eq<actor_search::rowid, users::id>,
>;
type PeopleQuery<'a> = diesel::dsl::IntoBoxed<'a, PeopleFrom, MultiBackend>;

/// Enabled people whose profile the query's words match, narrowed by the
/// facets. `None` when the query has no words (people are not found by
/// content filters).
fn people_query<'a>(conn: &DbConn, q: &Query, f: &PeopleFilter) -> Option<PeopleQuery<'a>> {
    if q.matching.is_empty() {
        return None;
    }
    let mut query: PeopleQuery<'a> = users::table
        .inner_join(actor_search::table.on(actor_search::rowid.eq(users::id)))
        .filter(users::actor_type.eq("person"))
        .filter(users::disabled.eq(false))
        .filter(users::deleted_at.is_null())
        .filter(q.matching.condition(conn, Table::Actors))
        .into_boxed();
    for p in &q.phrases {
        query = query.filter(index::phrase(Table::Actors, p));
    }
    if let Some(d) = PeopleFilter::clean(&f.department) {
        query = query.filter(lower(users::department).eq(d));
    }
    if let Some(s) = PeopleFilter::clean(&f.site) {
        query = query.filter(lower(users::site).eq(s));
    }
    if let Some(sk) = PeopleFilter::clean(&f.skill) {
        query = query.filter(
            users::id.eq_any(
                user_skills::table
                    .inner_join(skills::table)
                    .filter(skills::name.eq(people::normalize_skill(&sk)))
                    .select(user_skills::user_id),
            ),
        );
    }
    match PeopleFilter::clean(&f.instance).as_deref() {
        None => {}
        Some("here") => query = query.filter(users::domain.is_null()),
        Some(host) => query = query.filter(users::domain.eq(host.to_string())),
    }
    Some(query)
}

fn count_people(conn: &mut DbConn, q: &Query, f: &PeopleFilter) -> AppResult<i64> {
    match people_query(conn, q, f) {
        None => Ok(0),
        Some(query) => Ok(query.select(count_star()).get_result(conn)?),
    }
}

fn people_hits(
    conn: &mut DbConn,
    q: &Query,
    f: &PeopleFilter,
    page: i64,
) -> AppResult<(Vec<PersonSummary>, bool)> {
    let Some(query) = people_query(conn, q, f) else {
        return Ok((Vec::new(), false));
    };
    let mut ids: Vec<i64> = query
        .select(users::id)
        .order(q.matching.score(conn, Table::Actors, None).desc())
        .then_order_by(users::username.asc())
        .offset(page * PAGE)
        .limit(PAGE + 1)
        .load(conn)?;
    let more = ids.len() as i64 > PAGE;
    ids.truncate(PAGE as usize);
    let mut found = people::summaries(conn, &ids)?;
    found.sort_by_key(|p| ids.iter().position(|id| *id == p.id));
    Ok((found, more))
}

/// Departments, sites, skills and instances of the people found, the most
/// frequent first.
fn facets(conn: &mut DbConn, q: &Query, f: &PeopleFilter) -> AppResult<Facets> {
    let values = |rows: Vec<(String, i64)>| {
        rows.into_iter()
            .filter(|(v, _)| !v.trim().is_empty())
            .map(|(value, count)| FacetValue { value, count })
            .collect::<Vec<_>>()
    };
    let Some(query) = people_query(conn, q, f) else {
        return Ok(Facets::default());
    };
    // Counted over the first people found (a facet shows the commonest
    // values; past this many, refine the query).
    let found: Vec<(i64, String, String, Option<String>)> = query
        .select((users::id, users::department, users::site, users::domain))
        .limit(FACET_SCAN)
        .load(conn)?;
    let ids: Vec<i64> = found.iter().map(|r| r.0).collect();
    let tally = |vals: &mut dyn Iterator<Item = String>| {
        let mut counts: HashMap<String, i64> = HashMap::new();
        for v in vals {
            *counts.entry(v).or_default() += 1;
        }
        let mut list: Vec<(String, i64)> = counts.into_iter().collect();
        list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        list.truncate(FACET_VALUES as usize);
        values(list)
    };
    let skill: Vec<(String, i64)> = user_skills::table
        .inner_join(skills::table)
        .filter(user_skills::user_id.eq_any(&ids))
        .group_by(skills::name)
        .select((skills::name, count_star()))
        .order((count_star().desc(), skills::name.asc()))
        .limit(FACET_VALUES)
        .load(conn)?;
    Ok(Facets {
        department: tally(&mut found.iter().map(|r| r.1.trim().to_string())),
        site: tally(&mut found.iter().map(|r| r.2.trim().to_string())),
        skill: values(skill),
        instance: tally(
            &mut found
                .iter()
                .map(|r| r.3.clone().unwrap_or_else(|| "here".into())),
        ),
    })
}

type GroupFrom = diesel::dsl::InnerJoinOn<
    diesel::dsl::InnerJoinOn<
        users::table,
        communities_t::table,
        diesel::dsl::Eq<communities_t::actor_id, users::id>,
    >,
    actor_search::table,
    diesel::dsl::Eq<actor_search::rowid, users::id>,
>;
type GroupQuery<'a> = diesel::dsl::IntoBoxed<'a, GroupFrom, MultiBackend>;

fn community_query<'a>(conn: &DbConn, viewer: i64, q: &Query) -> Option<GroupQuery<'a>> {
    if q.matching.is_empty() {
        return None;
    }
    let mut query: GroupQuery<'a> = users::table
        .inner_join(communities_t::table.on(communities_t::actor_id.eq(users::id)))
        .inner_join(actor_search::table.on(actor_search::rowid.eq(users::id)))
        .filter(users::actor_type.eq("group"))
        .filter(users::deleted_at.is_null())
        .filter(audience::communities_findable_by(viewer))
        .filter(q.matching.condition(conn, Table::Actors))
        .into_boxed();
    for p in &q.phrases {
        query = query.filter(index::phrase(Table::Actors, p));
    }
    Some(query)
}

fn count_communities(conn: &mut DbConn, viewer: i64, q: &Query) -> AppResult<i64> {
    match community_query(conn, viewer, q) {
        None => Ok(0),
        Some(query) => Ok(query.select(count_star()).get_result(conn)?),
    }
}

fn community_hits(
    conn: &mut DbConn,
    viewer: i64,
    q: &Query,
    page: i64,
) -> AppResult<(Vec<Community>, bool)> {
    let Some(query) = community_query(conn, viewer, q) else {
        return Ok((Vec::new(), false));
    };
    let mut ids: Vec<i64> = query
        .select(users::id)
        .order(q.matching.score(conn, Table::Actors, None).desc())
        .then_order_by(users::username.asc())
        .offset(page * PAGE)
        .limit(PAGE + 1)
        .load(conn)?;
    let more = ids.len() as i64 > PAGE;
    ids.truncate(PAGE as usize);
    let mut found = communities::many(conn, viewer, &ids)?;
    found.sort_by_key(|c| ids.iter().position(|id| *id == c.id));
    Ok((found, more))
}

/// Words a snippet shows.
const SNIPPET_WORDS: usize = 32;
/// Words read to find the first match.
const SNIPPET_SCAN: usize = 5000;

fn escape(s: &str, out: &mut String) {
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_whitespace() => {
                if !out.ends_with(' ') {
                    out.push(' ')
                }
            }
            c => out.push(c),
        }
    }
}

/// The words of `text` around its first match, HTML-escaped, each matching
/// word in `<mark>`: a word matches when one of its tokens is in `exact` or
/// it begins with one of `prefixes`.
pub fn snippet(text: &str, exact: &[String], prefixes: &[String]) -> String {
    // Byte spans of the words.
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut start: Option<usize> = None;
    for (i, ch) in text.char_indices() {
        match (ch.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push((s, i));
                start = None;
                if spans.len() >= SNIPPET_SCAN {
                    break;
                }
            }
            _ => {}
        }
    }
    if let (Some(s), true) = (start, spans.len() < SNIPPET_SCAN) {
        spans.push((s, text.len()));
    }
    let matches = |&(s, e): &(usize, usize)| {
        let w = text[s..e].to_lowercase();
        let folded = words::fold(&w);
        prefixes.iter().any(|p| folded.starts_with(p.as_str()))
            || index::Term::of(&w, false)
                .tokens
                .iter()
                .any(|t| exact.contains(t))
    };
    let first = spans.iter().position(matches).unwrap_or(0);
    let from = first.saturating_sub(8);
    let to = (from + SNIPPET_WORDS).min(spans.len());
    let mut out = String::new();
    if spans.is_empty() {
        escape(text.chars().take(200).collect::<String>().trim(), &mut out);
        return out;
    }
    if from > 0 {
        out.push_str("… ");
    }
    let mut at = spans[from].0;
    for span in &spans[from..to] {
        escape(&text[at..span.0], &mut out);
        if matches(span) {
            out.push_str("<mark>");
            escape(&text[span.0..span.1], &mut out);
            out.push_str("</mark>");
        } else {
            escape(&text[span.0..span.1], &mut out);
        }
        at = span.1;
    }
    // The punctuation right after the last word shown (a full stop).
    let tail: String = text[at..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    escape(&tail, &mut out);
    if to < spans.len() {
        out.push_str(" …");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_mark_every_form_and_escape_the_rest() {
        let q = parse("réunions lyo").unwrap();
        let (exact, prefixes) = q.marks();
        let s = snippet("La <b>Réunion</b> de Lyon a lieu.", &exact, &prefixes);
        assert_eq!(
            s,
            "La &lt;b&gt;<mark>Réunion</mark>&lt;/b&gt; de <mark>Lyon</mark> a lieu."
        );
        let long = format!("{} audit final", "mot ".repeat(100));
        let q = parse("audit ").unwrap();
        let (exact, prefixes) = q.marks();
        let s = snippet(&long, &exact, &prefixes);
        assert!(s.starts_with("… mot"), "{s}");
        assert!(s.contains("<mark>audit</mark> final"), "{s}");
    }
}
