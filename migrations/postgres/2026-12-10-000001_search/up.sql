-- The search index (see src/index). Words arrive folded and stemmed by
-- Ruche, so the `simple` configuration only splits them; `head` (names,
-- titles, tags) weighs more than `terms`. Filled by Ruche at start-up
-- (the index version in `settings` is unset).
CREATE TABLE content_search (
    rowid BIGINT PRIMARY KEY REFERENCES content (id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    folded TEXT NOT NULL,
    head TEXT NOT NULL,
    terms TEXT NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', head), 'A') || setweight(to_tsvector('simple', terms), 'B')
    ) STORED
);
CREATE INDEX content_search_tsv ON content_search USING GIN (tsv);
CREATE TABLE actor_search (
    rowid BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    folded TEXT NOT NULL,
    head TEXT NOT NULL,
    terms TEXT NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', head), 'A') || setweight(to_tsvector('simple', terms), 'B')
    ) STORED
);
CREATE INDEX actor_search_tsv ON actor_search USING GIN (tsv);
