//! What a person types in the search box, read into words and filters.
//!
//! - words: all must match, in any form (accents, plural, French or
//!   English stem); the last one also as the start of a longer word while
//!   the person is typing (no space after it);
//! - `"a phrase"`: these words, in this order;
//! - `-word`: not this word;
//! - `from:@name` (`de:`): written by that person (`name@host` for a person
//!   of another site);
//! - `in:!community` (`dans:`): in that community;
//! - `#tag`;
//! - `kind:post|comment|document` (`type:`, and the French names);
//! - `after:YYYY-MM-DD` (`apres:`), `before:YYYY-MM-DD` (`avant:`).

use chrono::NaiveDate;

use crate::error::{AppError, AppResult};
use crate::index::words::{self, is_stop_word};
use crate::index::{Match, Term};

/// Longest query read, in characters.
pub const MAX_QUERY: usize = 300;

/// The kinds of content a search can be narrowed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Post,
    Comment,
    Document,
}

impl Kind {
    fn parse(s: &str) -> Option<Kind> {
        match words::fold(s).as_str() {
            "post" | "posts" | "publication" | "publications" => Some(Kind::Post),
            "comment" | "comments" | "commentaire" | "commentaires" => Some(Kind::Comment),
            "document" | "documents" | "doc" | "docs" | "file" | "fichier" => Some(Kind::Document),
            _ => None,
        }
    }
}

/// A query, read.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// The words to match (phrases' words included) and to leave out.
    pub matching: Match,
    /// Phrases, folded, a space on each side (see `words::folded_text`).
    pub phrases: Vec<String>,
    pub from: Option<String>,
    pub community: Option<String>,
    pub tags: Vec<String>,
    pub kind: Option<Kind>,
    pub after: Option<NaiveDate>,
    pub before: Option<NaiveDate>,
}

impl Query {
    /// Whether the query asks for nothing at all.
    pub fn is_empty(&self) -> bool {
        self.matching.is_empty() && !self.has_filters()
    }

    /// Whether a filter narrows the content searched (then a query without
    /// words lists what passes the filters, newest first).
    pub fn has_filters(&self) -> bool {
        self.from.is_some()
            || self.community.is_some()
            || !self.tags.is_empty()
            || self.kind.is_some()
            || self.after.is_some()
            || self.before.is_some()
    }

    /// The words a snippet highlights: every token of the terms, and the
    /// beginnings being typed.
    pub fn marks(&self) -> (Vec<String>, Vec<String>) {
        let mut exact = Vec::new();
        let mut prefixes = Vec::new();
        for t in &self.matching.all {
            exact.extend(t.tokens.iter().cloned());
            prefixes.extend(t.prefix.iter().cloned());
        }
        for tag in &self.tags {
            exact.push(words::fold(tag));
        }
        (exact, prefixes)
    }
}

fn date(name: &str, v: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
        AppError::bad_request("search_date_invalid")
            .with("filter", name)
            .with("value", v)
    })
}

/// Reads a query. Errors: too long, a date or a kind that cannot be read.
pub fn parse(raw: &str) -> AppResult<Query> {
    if raw.chars().count() > MAX_QUERY {
        return Err(AppError::bad_request("search_too_long").with("max", MAX_QUERY));
    }
    let mut q = Query::default();
    // Words as typed (lower case), whether they are left out, and whether
    // the last one may be a beginning.
    let mut plain: Vec<(String, bool)> = Vec::new();
    // Whether the last thing typed was a plain word (not a filter).
    let mut last_plain = false;
    let mut rest = raw;
    while let Some(start) = rest.find(|c: char| !c.is_whitespace()) {
        rest = &rest[start..];
        last_plain = false;
        if let Some(after_quote) = rest.strip_prefix('"') {
            let end = after_quote.find('"').unwrap_or(after_quote.len());
            let phrase = &after_quote[..end];
            rest = after_quote.get(end + 1..).unwrap_or("");
            let ws: Vec<String> = words::split(phrase).collect();
            if ws.len() > 1 {
                q.phrases.push(words::folded_text(phrase));
            }
            plain.extend(ws.into_iter().map(|w| (w, false)));
            continue;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let token = &rest[..end];
        rest = &rest[end..];
        let (op, value) = match token.split_once(':') {
            Some((op, v)) if !v.is_empty() => (words::fold(op), v),
            _ => (String::new(), token),
        };
        match op.as_str() {
            "from" | "de" | "by" | "par" => {
                q.from = Some(value.trim_start_matches('@').to_lowercase());
            }
            "in" | "dans" => {
                q.community = Some(value.trim_start_matches('!').to_lowercase());
            }
            "kind" | "type" => {
                q.kind = Some(Kind::parse(value).ok_or_else(|| {
                    AppError::bad_request("search_kind_unknown")
                        .with("kinds", "post, comment, document")
                })?);
            }
            "after" | "apres" | "since" | "depuis" => q.after = Some(date("after", value)?),
            "before" | "avant" | "until" | "jusqua" => q.before = Some(date("before", value)?),
            _ => {
                if let Some(tag) = token.strip_prefix('#').filter(|t| !t.is_empty()) {
                    let tag = crate::markdown::normalize_tag(tag);
                    if !tag.is_empty() && !q.tags.contains(&tag) {
                        q.tags.push(tag);
                    }
                    continue;
                }
                if let Some(out) = token.strip_prefix('-').filter(|t| !t.is_empty()) {
                    for w in words::split(out) {
                        q.matching.none.push(Term::of(&w, false));
                    }
                    continue;
                }
                let ws: Vec<String> = words::split(token).collect();
                if ws.len() > 1 {
                    // "ISO-9001", "l'équipe": its words, together.
                    q.phrases.push(words::folded_text(token));
                }
                last_plain = !ws.is_empty();
                plain.extend(ws.into_iter().map(|w| (w, true)));
            }
        }
    }
    // The last word is being typed unless a space or a quote closed it.
    let typing = last_plain && raw.ends_with(|c: char| !c.is_whitespace());
    let n = plain.len();
    let kept: Vec<usize> = (0..n)
        .filter(|&i| !is_stop_word(&words::fold(&plain[i].0)))
        .collect();
    // A query of stop words only ("the who") is searched as typed.
    let kept = if kept.is_empty() {
        (0..n).collect()
    } else {
        kept
    };
    for i in kept {
        let (w, may_prefix) = &plain[i];
        q.matching
            .all
            .push(Term::of(w, *may_prefix && typing && i + 1 == n));
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_filters_and_phrases() {
        let q = parse("réunion \"plan qualité\" from:@ana in:!qualite-lyon #ISO kind:document -brouillon after:2026-01-31 qual").unwrap();
        assert_eq!(q.from.as_deref(), Some("ana"));
        assert_eq!(q.community.as_deref(), Some("qualite-lyon"));
        assert_eq!(q.tags, vec!["iso".to_string()]);
        assert_eq!(q.kind, Some(Kind::Document));
        assert_eq!(q.after, NaiveDate::from_ymd_opt(2026, 1, 31));
        assert_eq!(q.phrases, vec![" plan qualite ".to_string()]);
        let firsts: Vec<&str> = q
            .matching
            .all
            .iter()
            .map(|t| t.tokens[0].as_str())
            .collect();
        assert_eq!(firsts, ["reunion", "plan", "qualite", "qual"]);
        assert_eq!(q.matching.all[3].prefix.as_deref(), Some("qual"));
        assert!(q.matching.all[0].prefix.is_none());
        assert_eq!(q.matching.none[0].tokens[0], "brouillon");
    }

    #[test]
    fn a_closed_last_word_is_not_a_beginning_and_stop_words_go() {
        let q = parse("plan -meeting").unwrap();
        assert!(q.matching.all[0].prefix.is_none(), "a filter closed it");
        let q = parse("la réunion ").unwrap();
        assert_eq!(q.matching.all.len(), 1);
        assert!(q.matching.all[0].prefix.is_none());
        assert_eq!(parse("the who").unwrap().matching.all.len(), 2);
    }

    #[test]
    fn bad_filters_are_refused() {
        assert_eq!(parse("after:hier").unwrap_err().code, "search_date_invalid");
        assert_eq!(parse("kind:video").unwrap_err().code, "search_kind_unknown");
        assert_eq!(
            parse(&"a".repeat(MAX_QUERY + 1)).unwrap_err().code,
            "search_too_long"
        );
        assert!(parse("   ").unwrap().is_empty());
    }
}
