//! The search index: what every post, comment, document, person and
//! community says, as tokens the database can match, kept in the write
//! transaction of the change.
//!
//! Two tables, `content_search` (keyed by `content.id`) and `actor_search`
//! (keyed by `users.id`): an FTS5 table on SQLite, a table with a generated
//! `tsvector` and a GIN index on PostgreSQL, so that several processes on
//! one PostgreSQL share one index. Words are folded and stemmed here
//! ([`words`]) before they reach the database, which only splits them on
//! spaces: the same query finds the same rows on both databases.
//!
//! The index holds text only. Who may read a row (its audience, whether it
//! was deleted or its author disabled) is decided when searching, from the
//! rows themselves, so an index entry left behind never shows anything.
//!
//! The feature functions that write content and profiles call [`content`]
//! and [`actor`] inside their transactions. [`rebuild`] makes the index
//! again from the tables (`ruche admin reindex`, and at start-up when
//! [`VERSION`] changed, which is how a new rule of folding reaches old
//! rows).

pub mod words;

use std::sync::OnceLock;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Double, Text};

use crate::db::schema::{
    actor_search, content, content_search, content_tags, directory_hidden, document_texts,
    document_versions, documents, settings, skills, user_skills, users,
};
use crate::db::{self, DbConn, MultiBackend};
use words::Stems;

/// Bump when what is indexed or how words become tokens changes: start-up
/// then rebuilds the index.
pub const VERSION: &str = "1";
const VERSION_SETTING: &str = "search.index_version";

/// At most this much of a text is indexed (tokens, bytes).
pub const MAX_TERMS: usize = 256 * 1024;

fn stems() -> &'static Stems {
    static STEMS: OnceLock<Stems> = OnceLock::new();
    STEMS.get_or_init(Stems::default)
}

/// Indexes (again) the post, comment or document `id`, or removes it from
/// the index when it is deleted. Inside the caller's write transaction.
pub fn content(c: &mut DbConn, id: i64) -> QueryResult<()> {
    let row: Option<(String, String, chrono::NaiveDateTime, bool)> = content::table
        .find(id)
        .select((
            content::kind,
            content::body,
            content::created_at,
            content::deleted_at.is_not_null(),
        ))
        .first(c)
        .optional()?;
    diesel::delete(content_search::table.find(id)).execute(c)?;
    let Some((kind, body, at, deleted)) = row else {
        return Ok(());
    };
    if deleted {
        return Ok(());
    }
    let tags: Vec<String> = content_tags::table
        .filter(content_tags::content_id.eq(id))
        .select(content_tags::tag)
        .load(c)?;
    // A document's entry is its title; a post's tags say what it is about.
    let mut head = tags.join(" ");
    let words;
    let mut text = body.as_str();
    if kind == "document" {
        words = match document_words(c, id)? {
            Some(w) => w,
            // An earlier version: its document is found by the newest.
            None => return Ok(()),
        };
        head.push(' ');
        head.push_str(&body);
        text = &words;
    }
    let s = stems();
    diesel::insert_into(content_search::table)
        .values((
            content_search::rowid.eq(id),
            content_search::at.eq(at.and_utc().timestamp()),
            content_search::folded.eq(words::folded_text(&format!("{head} {text}"))),
            content_search::head.eq(s.terms(&head, MAX_TERMS)),
            content_search::terms.eq(s.terms(text, MAX_TERMS)),
        ))
        .execute(c)?;
    Ok(())
}

/// The words of the document version the entry `id` announced, when it is
/// the document's newest version (`None` otherwise, and the entries of the
/// earlier versions leave the index: a document is found once). Empty for
/// a file whose words were not read, or another instance's document.
fn document_words(c: &mut DbConn, entry: i64) -> QueryResult<Option<String>> {
    let Some((doc, version, vid)) = document_versions::table
        .filter(document_versions::content_id.eq(entry))
        .select((
            document_versions::document_id,
            document_versions::version,
            document_versions::id,
        ))
        .first::<(i64, i64, i64)>(c)
        .optional()?
    else {
        return Ok(Some(String::new()));
    };
    let newer: i64 = document_versions::table
        .filter(document_versions::document_id.eq(doc))
        .filter(document_versions::version.gt(version))
        .count()
        .get_result(c)?;
    if newer > 0 {
        return Ok(None);
    }
    diesel::delete(
        content_search::table.filter(
            content_search::rowid.nullable().eq_any(
                document_versions::table
                    .filter(document_versions::document_id.eq(doc))
                    .filter(document_versions::version.lt(version))
                    .select(document_versions::content_id),
            ),
        ),
    )
    .execute(c)?;
    let name: String = documents::table
        .find(doc)
        .select(documents::name)
        .first(c)?;
    let text: Option<String> = document_texts::table
        .find(vid)
        .select(document_texts::text)
        .first(c)
        .optional()?;
    Ok(Some(format!("{name} {}", text.unwrap_or_default())))
}

/// Removes the content `id` from the index.
pub fn forget_content(c: &mut DbConn, id: i64) -> QueryResult<()> {
    diesel::delete(content_search::table.find(id)).execute(c)?;
    Ok(())
}

/// Removes every post and comment of `author` from the index (an account
/// deleted with its content).
pub fn forget_content_of(c: &mut DbConn, author: i64) -> QueryResult<()> {
    diesel::delete(
        content_search::table.filter(
            content_search::rowid.eq_any(
                content::table
                    .filter(content::author_id.eq(author))
                    .select(content::id),
            ),
        ),
    )
    .execute(c)?;
    Ok(())
}

/// Indexes (again) the person or community `id`, or removes it when the
/// account is disabled or deleted. Inside the caller's write transaction.
pub fn actor(c: &mut DbConn, id: i64) -> QueryResult<()> {
    type Row = (
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        bool,
        bool,
    );
    let row: Option<Row> = users::table
        .find(id)
        .select((
            users::username,
            users::display_name,
            users::job_title,
            users::department,
            users::site,
            users::location,
            users::languages,
            users::bio,
            users::bio_html,
            users::disabled,
            users::deleted_at.is_not_null(),
        ))
        .first(c)
        .optional()?;
    diesel::delete(actor_search::table.find(id)).execute(c)?;
    let Some((
        username,
        name,
        title,
        department,
        site,
        location,
        languages,
        bio,
        bio_html,
        disabled,
        deleted,
    )) = row
    else {
        return Ok(());
    };
    // A person their own site no longer lists to this one is not found.
    let hidden: i64 = directory_hidden::table.find(id).count().get_result(c)?;
    if disabled || deleted || hidden > 0 {
        return Ok(());
    }
    let skills: Vec<String> = user_skills::table
        .inner_join(skills::table)
        .filter(user_skills::user_id.eq(id))
        .select(skills::name)
        .load(c)?;
    let local = username.split('@').next().unwrap_or_default();
    let head = format!("{name} {local} {title} {}", skills.join(" "));
    // Another instance sends its people's biography as HTML only.
    let bio = if bio.is_empty() {
        words::html_text(&bio_html)
    } else {
        bio
    };
    let rest = format!("{department} {site} {location} {languages} {bio}");
    let s = stems();
    diesel::insert_into(actor_search::table)
        .values((
            actor_search::rowid.eq(id),
            actor_search::folded.eq(words::folded_text(&format!("{head} {rest}"))),
            actor_search::head.eq(s.terms(&head, MAX_TERMS)),
            actor_search::terms.eq(s.terms(&rest, MAX_TERMS)),
        ))
        .execute(c)?;
    Ok(())
}

/// Whether the index was built by this version of the rules.
pub fn is_current(conn: &mut DbConn) -> QueryResult<bool> {
    let v: Option<String> = settings::table
        .find(VERSION_SETTING)
        .select(settings::value)
        .first(conn)
        .optional()?;
    Ok(v.as_deref() == Some(VERSION))
}

/// How many rows [`rebuild`] goes through.
pub fn rebuild_size(conn: &mut DbConn) -> QueryResult<i64> {
    let posts: i64 = content::table
        .filter(content::deleted_at.is_null())
        .count()
        .get_result(conn)?;
    let actors: i64 = users::table.count().get_result(conn)?;
    Ok(posts + actors)
}

/// Rows indexed per transaction while rebuilding.
const BATCH: i64 = 500;

/// Makes the whole index again from the tables, a batch per transaction
/// (writers are not held up for long), telling `progress` how many rows
/// are done. Then records [`VERSION`].
pub fn rebuild(conn: &mut DbConn, progress: &mut dyn FnMut(i64)) -> QueryResult<i64> {
    db::write(conn, |c| {
        diesel::delete(content_search::table).execute(c)?;
        diesel::delete(actor_search::table).execute(c)
    })?;
    let mut done = 0i64;
    let mut after = 0i64;
    loop {
        let ids: Vec<i64> = content::table
            .filter(content::id.gt(after))
            .filter(content::deleted_at.is_null())
            .order(content::id)
            .limit(BATCH)
            .select(content::id)
            .load(conn)?;
        let Some(&last) = ids.last() else { break };
        db::write(conn, |c| ids.iter().try_for_each(|id| content(c, *id)))?;
        done += ids.len() as i64;
        after = last;
        progress(done);
    }
    after = 0;
    loop {
        let ids: Vec<i64> = users::table
            .filter(users::id.gt(after))
            .order(users::id)
            .limit(BATCH)
            .select(users::id)
            .load(conn)?;
        let Some(&last) = ids.last() else { break };
        db::write(conn, |c| ids.iter().try_for_each(|id| actor(c, *id)))?;
        done += ids.len() as i64;
        after = last;
        progress(done);
    }
    db::write(conn, |c| {
        diesel::delete(settings::table.find(VERSION_SETTING)).execute(c)?;
        diesel::insert_into(settings::table)
            .values((
                settings::name.eq(VERSION_SETTING),
                settings::value.eq(VERSION),
            ))
            .execute(c)
    })?;
    Ok(done)
}

/// One word of a query: the tokens that match it exactly, and the folded
/// beginning it may also match (the word being typed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub tokens: Vec<String>,
    pub prefix: Option<String>,
}

impl Term {
    /// The term of the lower-case word `w`; `prefix`: it may be the start
    /// of a longer word (then at least two letters).
    pub fn of(w: &str, prefix: bool) -> Term {
        let tokens = stems().tokens(w);
        let prefix = (prefix && tokens[0].chars().count() >= 2).then(|| tokens[0].clone());
        Term { tokens, prefix }
    }
}

/// What a search matches: every term of `all`, none of `none`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Match {
    pub all: Vec<Term>,
    pub none: Vec<Term>,
}

/// Which index a [`Match`] is read against.
#[derive(Debug, Clone, Copy)]
pub enum Table {
    Content,
    Actors,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Content => "content_search",
            Table::Actors => "actor_search",
        }
    }
}

impl Match {
    /// Every word of `text` (folded, stemmed), the last one also as a
    /// prefix: the name boxes of the directories.
    pub fn words(text: &str) -> Match {
        let list: Vec<String> = words::split(text).collect();
        let n = list.len();
        Match {
            all: list
                .iter()
                .enumerate()
                .map(|(i, w)| Term::of(w, i + 1 == n))
                .collect(),
            none: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// The FTS5 query: `("a" OR "b" OR "c"*) AND (…) NOT (…)`. Tokens are
    /// letters and digits only, so quoting them is enough.
    fn fts5(&self) -> String {
        let term = |t: &Term| {
            let mut alts: Vec<String> = t.tokens.iter().map(|x| format!("\"{x}\"")).collect();
            if let Some(p) = &t.prefix {
                alts.push(format!("\"{p}\"*"));
            }
            format!("({})", alts.join(" OR "))
        };
        let mut out = self.all.iter().map(term).collect::<Vec<_>>().join(" AND ");
        for t in &self.none {
            out.push_str(" NOT ");
            out.push_str(&term(t));
        }
        out
    }

    /// The tsquery: `(a | b | c:*) & (…) & !(…)`.
    fn tsquery(&self) -> String {
        let term = |t: &Term| {
            let mut alts: Vec<String> = t.tokens.iter().map(|x| format!("'{x}'")).collect();
            if let Some(p) = &t.prefix {
                alts.push(format!("'{p}':*"));
            }
            format!("({})", alts.join(" | "))
        };
        let mut parts: Vec<String> = self.all.iter().map(term).collect();
        parts.extend(self.none.iter().map(|t| format!("!{}", term(t))));
        parts.join(" & ")
    }

    /// SQL condition: the row of `table` (in the query's FROM clause)
    /// matches. Must not be empty ([`Match::is_empty`]).
    pub fn condition<QS>(
        &self,
        conn: &DbConn,
        table: Table,
    ) -> Box<dyn BoxableExpression<QS, MultiBackend, SqlType = Bool>> {
        let t = table.name();
        match conn {
            DbConn::Sqlite(_) => {
                Box::new(sql::<Bool>(&format!("{t} MATCH ")).bind::<Text, _>(self.fts5()))
            }
            DbConn::Pg(_) => Box::new(
                sql::<Bool>(&format!("{t}.tsv @@ to_tsquery('simple', "))
                    .bind::<Text, _>(self.tsquery())
                    .sql(")"),
            ),
        }
    }

    /// SQL condition: the id `column_sql` (e.g. `users.id`) is of a row of
    /// `table` that matches, for queries that do not join the index.
    pub fn contains<QS>(
        &self,
        conn: &DbConn,
        table: Table,
        column_sql: &str,
    ) -> Box<dyn BoxableExpression<QS, MultiBackend, SqlType = Bool>> {
        let t = table.name();
        match conn {
            DbConn::Sqlite(_) => Box::new(
                sql::<Bool>(&format!(
                    "{column_sql} IN (SELECT rowid FROM {t} WHERE {t} MATCH "
                ))
                .bind::<Text, _>(self.fts5())
                .sql(")"),
            ),
            DbConn::Pg(_) => Box::new(
                sql::<Bool>(&format!(
                    "{column_sql} IN (SELECT rowid FROM {t} WHERE tsv @@ to_tsquery('simple', "
                ))
                .bind::<Text, _>(self.tsquery())
                .sql("))"),
            ),
        }
    }

    /// SQL relevance of a matching row of `table` (higher is better; names
    /// and titles weigh more than the rest), divided by `1 + age / 90 days`
    /// when `now` (Unix seconds) is given, for content.
    pub fn score<QS>(
        &self,
        conn: &DbConn,
        table: Table,
        now: Option<i64>,
    ) -> Box<dyn BoxableExpression<QS, MultiBackend, SqlType = Double>> {
        let t = table.name();
        let fresh = match now {
            Some(now) => {
                format!(" / (1.0 + CAST(({now} - {t}.at) AS DOUBLE PRECISION) / 7776000.0)")
            }
            None => String::new(),
        };
        match conn {
            DbConn::Sqlite(_) => {
                let weights = match table {
                    Table::Content => "0.0, 0.0, 4.0, 1.0",
                    Table::Actors => "0.0, 4.0, 1.0",
                };
                Box::new(sql::<Double>(&format!("((-bm25({t}, {weights})){fresh})")))
            }
            DbConn::Pg(_) => Box::new(
                sql::<Double>(&format!("(CAST(ts_rank({t}.tsv, to_tsquery('simple', "))
                    .bind::<Text, _>(self.tsquery())
                    .sql(&format!(")) AS DOUBLE PRECISION){fresh})")),
            ),
        }
    }
}

/// SQL condition: the folded text of the row of `table` holds the folded
/// phrase (a string of words from [`words::folded_text`], spaces around).
pub fn phrase<QS>(
    table: Table,
    folded: &str,
) -> Box<dyn BoxableExpression<QS, MultiBackend, SqlType = Bool>> {
    // Folded text is letters, digits and spaces: nothing LIKE reads as a
    // wildcard.
    let pattern = format!("%{folded}%");
    Box::new(sql::<Bool>(&format!("{}.folded LIKE ", table.name())).bind::<Text, _>(pattern))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_written_for_each_database() {
        let m = Match {
            all: vec![Term::of("réunions", false), Term::of("qual", true)],
            none: vec![Term::of("lyon", false)],
        };
        assert_eq!(
            m.fts5(),
            "(\"reunions\" OR \"reunion\") AND (\"qual\" OR \"qual\"*) NOT (\"lyon\")"
        );
        assert_eq!(
            m.tsquery(),
            "('reunions' | 'reunion') & ('qual' | 'qual':*) & !('lyon')"
        );
        assert!(Term::of("q", true).prefix.is_none());
    }
}
