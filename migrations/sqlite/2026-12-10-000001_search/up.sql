-- The search index (see src/index). Words arrive folded and stemmed by
-- Ruche, so the tokenizer only splits on spaces; `at` and `folded` are
-- stored beside the tokens (for freshness and phrases), not indexed.
-- Filled by Ruche at start-up (the index version in `settings` is unset).
CREATE VIRTUAL TABLE content_search USING fts5(
    at UNINDEXED,
    folded UNINDEXED,
    head,
    terms,
    tokenize = 'unicode61 remove_diacritics 0',
    prefix = '2 3 4'
);
CREATE VIRTUAL TABLE actor_search USING fts5(
    folded UNINDEXED,
    head,
    terms,
    tokenize = 'unicode61 remove_diacritics 0',
    prefix = '2 3 4'
);
