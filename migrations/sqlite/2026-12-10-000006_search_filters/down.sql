DROP TABLE content_words;
DROP TABLE content_search;
CREATE VIRTUAL TABLE content_search USING fts5(
    at UNINDEXED,
    folded UNINDEXED,
    head,
    terms,
    tokenize = 'unicode61 remove_diacritics 0',
    prefix = '2 3 4'
);
DELETE FROM settings WHERE name = 'search.index_version';
