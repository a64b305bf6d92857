-- The content index gains `meta`: tokens that only filters match (author,
-- community, tags, kind; see src/index), in a tsvector and a GIN index of
-- their own, so that PostgreSQL estimates and answers the words and the
-- filters apart. Refilled by the rebuild that index::VERSION "2" asks for
-- at start-up.
TRUNCATE content_search;
ALTER TABLE content_search ADD COLUMN meta TEXT NOT NULL DEFAULT '';
ALTER TABLE content_search ADD COLUMN meta_tsv tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', meta)) STORED;
CREATE INDEX content_search_meta ON content_search USING GIN (meta_tsv);
