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
//! A content entry also holds, in its `meta` column, what filters match
//! (its author, community, tags and kind, as [`Filter`] tokens that words
//! never match), so that the index answers a narrowed query in one lookup
//! whichever side is the smaller. Who may read a row (its audience, whether
//! it was deleted or its author disabled) is decided when searching, from
//! the rows themselves, so an index entry left behind never shows anything.
//!
//! Searching reads the newest matches ([`newest`]) rather than ranking
//! every match: FTS5's `bm25` and its long prefixes both read the whole
//! list of every word searched, which on a large site costs tens of
//! milliseconds a query; [`Match::complete`] turns a word being typed into
//! the words it begins, and relevance is read from the rows returned.
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
    actor_search, content, content_search, content_tags, content_words, directory_hidden,
    document_texts, document_versions, documents, settings, skills, user_skills, users,
};
use crate::db::{self, DbConn, MultiBackend};
use words::Stems;

/// Bump when what is indexed or how words become tokens changes: start-up
/// then rebuilds the index.
pub const VERSION: &str = "2";
const VERSION_SETTING: &str = "search.index_version";

/// At most this much of a text is indexed (tokens, bytes).
pub const MAX_TERMS: usize = 256 * 1024;

/// Prefixes up to this many letters are answered by FTS5's prefix index
/// (`prefix = '2 3 4'`); longer ones are completed from `content_words`
/// on SQLite (see [`Match::complete`]).
const INDEXED_PREFIX: usize = 4;
/// Words a word being typed stands for at most (the shortest first).
pub const COMPLETIONS: usize = 50;

fn stems() -> &'static Stems {
    static STEMS: OnceLock<Stems> = OnceLock::new();
    STEMS.get_or_init(Stems::default)
}

/// Indexes (again) the post, comment or document `id`, or removes it from
/// the index when it is deleted. Inside the caller's write transaction.
pub fn content(c: &mut DbConn, id: i64) -> QueryResult<()> {
    type Row = (
        String,
        String,
        chrono::NaiveDateTime,
        bool,
        i64,
        Option<i64>,
        Option<i64>,
    );
    let row: Option<Row> = content::table
        .find(id)
        .select((
            content::kind,
            content::body,
            content::created_at,
            content::deleted_at.is_not_null(),
            content::author_id,
            content::community_id,
            content::root_id,
        ))
        .first(c)
        .optional()?;
    diesel::delete(content_search::table.find(id)).execute(c)?;
    let Some((kind, body, at, deleted, author, community, root)) = row else {
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
    // A poll is found by its answers too.
    let answers;
    if kind == "poll" {
        use crate::db::schema::poll_options;
        let names: Vec<String> = poll_options::table
            .filter(poll_options::content_id.eq(id))
            .order(poll_options::position.asc())
            .select(poll_options::name)
            .load(c)?;
        answers = format!("{body}\n{}", names.join("\n"));
        text = &answers;
    } else if kind == "survey" {
        // A survey by its questions.
        use crate::db::schema::survey_questions;
        let prompts: Vec<String> = survey_questions::table
            .filter(survey_questions::content_id.eq(id))
            .order(survey_questions::position.asc())
            .select(survey_questions::prompt)
            .load(c)?;
        answers = format!("{body}\n{}", prompts.join("\n"));
        text = &answers;
    }
    // An idea, a question or an event is found by its title first (an
    // event by its place too).
    let title: Option<String> = match kind.as_str() {
        "idea" => {
            use crate::db::schema::ideas;
            ideas::table
                .find(id)
                .select(ideas::title)
                .first(c)
                .optional()?
        }
        "survey" => {
            use crate::db::schema::surveys;
            surveys::table
                .find(id)
                .select(surveys::title)
                .first(c)
                .optional()?
        }
        "question" => {
            use crate::db::schema::questions;
            questions::table
                .find(id)
                .select(questions::title)
                .first(c)
                .optional()?
        }
        "event" => {
            use crate::db::schema::event_details;
            event_details::table
                .find(id)
                .select((event_details::title, event_details::place))
                .first::<(String, String)>(c)
                .optional()?
                .map(|(t, p)| format!("{t} {p}"))
        }
        _ => None,
    };
    if let Some(t) = title {
        head.push(' ');
        head.push_str(&t);
    }
    let entry = match (kind.as_str(), root) {
        ("document", _) => Entry::Document,
        (_, Some(_)) => Entry::Comment,
        _ => Entry::Post,
    };
    let mut meta = vec![Filter::author(author), Filter::kind(entry)];
    meta.extend(community.map(Filter::community));
    meta.extend(tags.iter().map(|t| Filter::tag(t)));
    let meta: Vec<String> = meta.into_iter().map(|f| f.0).collect();
    let s = stems();
    let (head_terms, terms) = (s.terms(&head, MAX_TERMS), s.terms(text, MAX_TERMS));
    remember_words(c, &head_terms, &terms)?;
    diesel::insert_into(content_search::table)
        .values((
            content_search::rowid.eq(id),
            content_search::at.eq(at.and_utc().timestamp()),
            content_search::folded.eq(words::folded_text(&format!("{head} {text}"))),
            content_search::head.eq(head_terms),
            content_search::terms.eq(terms),
            content_search::meta.eq(meta.join(" ")),
        ))
        .execute(c)?;
    Ok(())
}

/// Adds the long words of an entry's tokens to `content_words` (on
/// SQLite; nothing on PostgreSQL).
/// Words are never taken out: one no entry holds any more completes a
/// word being typed into a word that matches nothing.
fn remember_words(c: &mut DbConn, head: &str, terms: &str) -> QueryResult<()> {
    let DbConn::Sqlite(c) = c else {
        return Ok(());
    };
    let mut list: Vec<&str> = head
        .split(' ')
        .chain(terms.split(' '))
        .filter(|w| w.chars().count() > INDEXED_PREFIX)
        .collect();
    list.sort_unstable();
    list.dedup();
    for chunk in list.chunks(500) {
        let rows: Vec<_> = chunk.iter().map(|w| content_words::word.eq(*w)).collect();
        diesel::insert_or_ignore_into(content_words::table)
            .values(rows)
            .execute(c)?;
    }
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
    // The ids first: FTS5 answers `rowid IN (a list)` with one lookup each,
    // but `rowid IN (SELECT …)` by reading the whole table (20 ms a
    // document on the benchmark site, most of a rebuild).
    let older: Vec<i64> = document_versions::table
        .filter(document_versions::document_id.eq(doc))
        .filter(document_versions::version.lt(version))
        .filter(document_versions::content_id.is_not_null())
        .select(document_versions::content_id.assume_not_null())
        .load(c)?;
    if !older.is_empty() {
        diesel::delete(content_search::table.filter(content_search::rowid.eq_any(&older)))
            .execute(c)?;
    }
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
    // By lists of ids, as in `document_words`.
    let ids: Vec<i64> = content::table
        .filter(content::author_id.eq(author))
        .select(content::id)
        .load(c)?;
    for chunk in ids.chunks(500) {
        diesel::delete(content_search::table.filter(content_search::rowid.eq_any(chunk)))
            .execute(c)?;
    }
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

/// The GIN indexes of the index tables on PostgreSQL (as the migrations
/// make them).
const PG_INDEXES: &str = "CREATE INDEX IF NOT EXISTS content_search_tsv ON content_search \
     USING GIN (tsv); CREATE INDEX IF NOT EXISTS content_search_meta ON content_search \
     USING GIN (meta_tsv); CREATE INDEX IF NOT EXISTS actor_search_tsv ON actor_search \
     USING GIN (tsv);";

/// Makes the whole index again from the tables, a batch per transaction
/// (writers are not held up for long), telling `progress` how many rows
/// are done. Then records [`VERSION`].
///
/// On PostgreSQL the GIN indexes are dropped first and made again at the
/// end, in one pass, and the tables analysed; searches meanwhile read the
/// tables without them (slowly, and finding what is indexed so far). A
/// rebuild that stops half-way leaves [`VERSION`] unrecorded, so the next
/// start-up rebuilds again.
pub fn rebuild(conn: &mut DbConn, progress: &mut dyn FnMut(i64)) -> QueryResult<i64> {
    use diesel::connection::SimpleConnection;
    db::write(conn, |c| {
        match c {
            DbConn::Sqlite(_) => {
                diesel::delete(content_search::table).execute(c)?;
                diesel::delete(content_words::table).execute(c)?;
                diesel::delete(actor_search::table).execute(c)?;
            }
            DbConn::Pg(_) => c.batch_execute(
                "TRUNCATE content_search, actor_search; \
                 DROP INDEX IF EXISTS content_search_tsv; DROP INDEX IF EXISTS content_search_meta; \
                 DROP INDEX IF EXISTS actor_search_tsv;",
            )?,
        }
        QueryResult::Ok(())
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
    if let DbConn::Pg(_) = conn {
        conn.batch_execute(PG_INDEXES)?;
        // Fresh statistics: until autovacuum reads the new rows, the planner
        // would guess how common each word is (searches took a second
        // instead of 10 ms on the benchmark site).
        conn.batch_execute("ANALYZE content_search; ANALYZE actor_search;")?;
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

/// What an entry of the content index is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// A post (of any kind but a document).
    Post,
    Comment,
    /// A document's newest version.
    Document,
}

/// A token of the content index's `meta` column, which only filters
/// match (never words): who wrote an entry, its community, its tags and
/// what it is. It lets the index answer `from:`, `in:`, `#tag` and
/// `kind:` with the words, in one lookup, however narrow or wide each is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter(pub String);

impl Filter {
    pub fn author(id: i64) -> Filter {
        Filter(format!("a{id}"))
    }
    pub fn community(id: i64) -> Filter {
        Filter(format!("c{id}"))
    }
    /// A hashtag as stored (`content_tags.tag`), written in hexadecimal:
    /// the index splits words on anything but letters and digits, and a
    /// tag may hold `_`.
    pub fn tag(tag: &str) -> Filter {
        let hex: String = tag.bytes().map(|b| format!("{b:02x}")).collect();
        Filter(format!("t{hex}"))
    }
    pub fn kind(entry: Entry) -> Filter {
        Filter(
            match entry {
                Entry::Post => "kpost",
                Entry::Comment => "kcomment",
                Entry::Document => "kdocument",
            }
            .to_string(),
        )
    }
    /// Every entry has one of these.
    pub fn any_entry() -> Vec<Filter> {
        [Entry::Post, Entry::Comment, Entry::Document]
            .into_iter()
            .map(Filter::kind)
            .collect()
    }
}

/// One word of a query: the tokens that match it exactly, and the folded
/// beginning it may also match (the word being typed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub tokens: Vec<String>,
    pub prefix: Option<String>,
    /// The indexed words a long prefix stands for, once read by
    /// [`Match::complete`] (SQLite content only).
    pub completions: Option<Vec<String>>,
}

impl Term {
    /// The term of the lower-case word `w`; `prefix`: it may be the start
    /// of a longer word (then at least two letters).
    pub fn of(w: &str, prefix: bool) -> Term {
        let tokens = stems().tokens(w);
        let prefix = (prefix && tokens[0].chars().count() >= 2).then(|| tokens[0].clone());
        Term {
            tokens,
            prefix,
            completions: None,
        }
    }
}

/// What a search matches: every term of `all`, none of `none`, and (in
/// the content index) for each list of `filters`, one of its tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Match {
    pub all: Vec<Term>,
    pub none: Vec<Term>,
    pub filters: Vec<Vec<Filter>>,
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

/// A term in FTS5: `("a" OR "b" OR "c"*)`, the prefix written as its
/// completions in the `content` index when they were read.
fn fts5_term(t: &Term, content: bool) -> String {
    let mut alts: Vec<String> = t.tokens.iter().map(|x| format!("\"{x}\"")).collect();
    match (&t.completions, &t.prefix, content) {
        (Some(words), _, true) => alts.extend(words.iter().map(|x| format!("\"{x}\""))),
        (_, Some(p), _) => alts.push(format!("\"{p}\"*")),
        _ => {}
    }
    format!("({})", alts.join(" OR "))
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
            filters: Vec::new(),
        }
    }

    /// Whether no word is asked for (filters aside).
    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// On SQLite, reads the words each prefix of more than
    /// [`INDEXED_PREFIX`] letters stands for in the content index (at most
    /// [`COMPLETIONS`], the shortest first), so that the content is
    /// searched for these words rather than for the prefix: FTS5 would
    /// merge the lists of every word it begins, for every search. Nothing
    /// to do on PostgreSQL, whose GIN index answers prefixes.
    pub fn complete(&mut self, conn: &mut DbConn) -> QueryResult<()> {
        if let DbConn::Pg(_) = conn {
            return Ok(());
        }
        for t in self.all.iter_mut().chain(self.none.iter_mut()) {
            let Some(p) = t.prefix.as_ref() else { continue };
            if p.chars().count() <= INDEXED_PREFIX {
                continue;
            }
            // Every word beginning with `p` sorts between `p` and `p`
            // followed by the greatest character.
            let mut found: Vec<String> = content_words::table
                .filter(content_words::word.gt(p.clone()))
                .filter(content_words::word.lt(format!("{p}\u{10FFFF}")))
                .order(content_words::word)
                .limit(20 * COMPLETIONS as i64)
                .select(content_words::word)
                .load(conn)?;
            found.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
            found.truncate(COMPLETIONS);
            t.completions = Some(found);
        }
        Ok(())
    }

    /// The FTS5 query: `{head terms}: (("a" OR "b" OR "c"*) AND (…)) AND
    /// {meta}: ("a1") NOT {head terms}: (…)`. Tokens are letters and
    /// digits only, so quoting them is enough. A prefix is written as its
    /// completions when they were read (content only). In the content
    /// index, words are matched in the text columns only, filters in
    /// `meta` only.
    fn fts5(&self, table: Table) -> String {
        let content = matches!(table, Table::Content);
        let term = |t: &Term| fts5_term(t, content);
        let text = |inner: String| match content {
            true => format!("{{head terms}}: ({inner})"),
            false => inner,
        };
        let mut parts: Vec<String> = Vec::new();
        if !self.all.is_empty() {
            let words: Vec<String> = self.all.iter().map(term).collect();
            parts.push(text(words.join(" AND ")));
        }
        if content {
            for list in &self.filters {
                let alts: Vec<String> = list.iter().map(|f| format!("\"{}\"", f.0)).collect();
                parts.push(format!("{{meta}}: ({})", alts.join(" OR ")));
            }
        }
        let mut out = parts.join(" AND ");
        for t in &self.none {
            out.push_str(" NOT ");
            out.push_str(&text(term(t)));
        }
        out
    }

    /// The tsquery of the words: `(a | b | c:*) & (…) & !(…)` (empty when
    /// there are none).
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

    /// The tsquery of the filters, for the `meta_tsv` column of the content
    /// index: `('a1') & ('kpost' | 'kcomment')` (empty when there are
    /// none). A column of its own, with its own GIN index: PostgreSQL
    /// estimates and answers each side apart (a narrow filter and a common
    /// word are read from the narrow side), which one weighted tsvector
    /// for both would not let it do.
    fn meta_tsquery(&self) -> String {
        let lists: Vec<String> = self
            .filters
            .iter()
            .map(|list| {
                let alts: Vec<String> = list.iter().map(|f| format!("'{}'", f.0)).collect();
                format!("({})", alts.join(" | "))
            })
            .collect();
        lists.join(" & ")
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
                Box::new(sql::<Bool>(&format!("{t} MATCH ")).bind::<Text, _>(self.fts5(table)))
            }
            DbConn::Pg(_) => {
                let words = self.tsquery();
                let meta = match table {
                    Table::Content => self.meta_tsquery(),
                    Table::Actors => String::new(),
                };
                let part = |column: &str, q: String| {
                    sql::<Bool>(&format!("{t}.{column} @@ to_tsquery('simple', "))
                        .bind::<Text, _>(q)
                        .sql(")")
                };
                match (words.is_empty(), meta.is_empty()) {
                    (false, true) => Box::new(part("tsv", words)),
                    (true, false) => Box::new(part("meta_tsv", meta)),
                    (false, false) => Box::new(part("tsv", words).and(part("meta_tsv", meta))),
                    (true, true) => Box::new(sql::<Bool>("FALSE")),
                }
            }
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
                .bind::<Text, _>(self.fts5(table))
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

/// An entry of the content index found by [`newest`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found {
    pub id: i64,
    /// How well it matches the words, from 1 (found in its text) to 4
    /// (every word in its names, title or tags); 1 without words.
    pub relevance: f64,
}

/// Words whose place (head or text) is weighed, at most.
const WEIGHED_TERMS: usize = 8;

/// The `limit` entries of the content index stored last (the highest ids)
/// that `m` (its words and its filters) and the `phrases` match, written
/// between `after` and `before` (Unix seconds, the latter excluded), the
/// last first.
///
/// Relevance is the share of the words found in the head column (names,
/// titles, tags), not a frequency score: `bm25` on SQLite counts, for each
/// search, every row holding each word (a common word costs tens of
/// milliseconds), while this reads only the rows returned, once per word.
/// PostgreSQL ranks with `ts_rank` on the same weights (A for the head, B
/// for the text), read from each row alone.
pub fn newest(
    conn: &mut DbConn,
    m: &Match,
    phrases: &[String],
    after: Option<i64>,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Found>> {
    let mut query = content_search::table.into_boxed();
    query = query.filter(m.condition(conn, Table::Content));
    for p in phrases {
        query = query.filter(phrase(Table::Content, p));
    }
    if let Some(a) = after {
        query = query.filter(content_search::at.ge(a));
    }
    if let Some(b) = before {
        query = query.filter(content_search::at.lt(b));
    }
    let query = query.order(content_search::rowid.desc()).limit(limit);
    if let DbConn::Pg(_) = conn {
        if m.all.is_empty() {
            let rows: Vec<i64> = query.select(content_search::rowid).load(conn)?;
            return Ok(rows
                .into_iter()
                .map(|id| Found { id, relevance: 1.0 })
                .collect());
        }
        let rank = sql::<Double>("CAST(ts_rank(content_search.tsv, to_tsquery('simple', ")
            .bind::<Text, _>(m.tsquery())
            .sql(")) AS DOUBLE PRECISION)");
        let rows: Vec<(i64, f64)> = query.select((content_search::rowid, rank)).load(conn)?;
        // ts_rank gives 0.4 a word in the text, 1 in the head (its default
        // weights), about: scaled to the range of SQLite's.
        return Ok(rows
            .into_iter()
            .map(|(id, r)| Found {
                id,
                relevance: (1.0 + 7.5 * r / m.all.len() as f64).min(4.0),
            })
            .collect());
    }
    // Only the ids: reading `at` (or any stored column) costs a lookup a row.
    let rows: Vec<i64> = query.select(content_search::rowid).load(conn)?;
    let (Some(&low), Some(&high)) = (rows.last(), rows.first()) else {
        return Ok(Vec::new());
    };
    let mut in_head: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
    let whole = m.fts5(Table::Content);
    for t in m.all.iter().take(WEIGHED_TERMS) {
        let words = fts5_term(t, true);
        let ids: Vec<i64> = content_search::table
            .filter(
                sql::<Bool>("content_search MATCH ")
                    .bind::<Text, _>(format!("({whole}) AND {{head}}: ({words})")),
            )
            .filter(content_search::rowid.ge(low))
            .filter(content_search::rowid.le(high))
            .select(content_search::rowid)
            .load(conn)?;
        for id in ids {
            *in_head.entry(id).or_default() += 1;
        }
    }
    let n = m.all.len().min(WEIGHED_TERMS);
    Ok(rows
        .into_iter()
        .map(|id| Found {
            id,
            relevance: match n {
                0 => 1.0,
                n => 1.0 + 3.0 * in_head.get(&id).copied().unwrap_or(0) as f64 / n as f64,
            },
        })
        .collect())
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
        let mut m = Match {
            all: vec![Term::of("réunions", false), Term::of("qual", true)],
            none: vec![Term::of("lyon", false)],
            filters: vec![vec![Filter::author(7)], Filter::any_entry()],
        };
        // People and communities: words only, anywhere.
        assert_eq!(
            m.fts5(Table::Actors),
            "(\"reunions\" OR \"reunion\") AND (\"qual\" OR \"qual\"*) NOT (\"lyon\")"
        );
        // Content: words in the text columns, filters in `meta`.
        assert_eq!(
            m.fts5(Table::Content),
            "{head terms}: ((\"reunions\" OR \"reunion\") AND (\"qual\" OR \"qual\"*)) \
             AND {meta}: (\"a7\") AND {meta}: (\"kpost\" OR \"kcomment\" OR \"kdocument\") \
             NOT {head terms}: ((\"lyon\"))"
        );
        // PostgreSQL: the words in `tsv`, the filters in `meta_tsv`.
        assert_eq!(
            m.tsquery(),
            "('reunions' | 'reunion') & ('qual' | 'qual':*) & !('lyon')"
        );
        assert_eq!(
            m.meta_tsquery(),
            "('a7') & ('kpost' | 'kcomment' | 'kdocument')"
        );
        // A long prefix, once completed, is written as its words.
        m.all[1] = Term {
            tokens: vec!["qualit".into()],
            prefix: Some("qualit".into()),
            completions: Some(vec!["qualite".into(), "quality".into()]),
        };
        m.filters.clear();
        assert_eq!(
            m.fts5(Table::Content),
            "{head terms}: ((\"reunions\" OR \"reunion\") AND \
             (\"qualit\" OR \"qualite\" OR \"quality\")) NOT {head terms}: ((\"lyon\"))"
        );
        assert_eq!(Filter::tag("iso_9001").0, "t69736f5f39303031");
        assert!(Term::of("q", true).prefix.is_none());
    }
}
