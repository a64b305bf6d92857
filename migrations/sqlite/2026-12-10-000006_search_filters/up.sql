-- The content index gains `meta`: tokens that only filters match (author,
-- community, tags, kind; see src/index), so that `from:`, `in:`, `#tag`
-- and `kind:` are answered by the index with the words. An FTS5 table's
-- columns cannot be changed: it is made again, and refilled by the rebuild
-- that index::VERSION "2" asks for at start-up.
DROP TABLE content_search;
CREATE VIRTUAL TABLE content_search USING fts5(
    at UNINDEXED,
    folded UNINDEXED,
    head,
    terms,
    meta,
    tokenize = 'unicode61 remove_diacritics 0',
    prefix = '2 3 4'
);
-- Every indexed word of five letters or more, so that a word being typed
-- ("custome") is searched as the words it begins: FTS5 answers prefixes of
-- up to four letters from its prefix index, but a longer one by merging
-- the lists of every word it begins, which on a large site costs tens of
-- milliseconds a search. PostgreSQL's GIN index answers prefixes itself:
-- this table exists on SQLite only.
CREATE TABLE content_words (word TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;
