-- The content index gains `meta`: tokens that only filters match (author,
-- community, tags, kind; see src/index), weighed D so that words (A and B)
-- never match them. Refilled by the rebuild that index::VERSION "2" asks
-- for at start-up.
TRUNCATE content_search;
ALTER TABLE content_search DROP COLUMN tsv;
ALTER TABLE content_search ADD COLUMN meta TEXT NOT NULL DEFAULT '';
ALTER TABLE content_search ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', head), 'A')
    || setweight(to_tsvector('simple', terms), 'B')
    || setweight(to_tsvector('simple', meta), 'D')
) STORED;
CREATE INDEX content_search_tsv ON content_search USING GIN (tsv);
