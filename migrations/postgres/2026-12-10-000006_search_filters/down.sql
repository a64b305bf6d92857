TRUNCATE content_search;
ALTER TABLE content_search DROP COLUMN tsv;
ALTER TABLE content_search DROP COLUMN meta;
ALTER TABLE content_search ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', head), 'A') || setweight(to_tsvector('simple', terms), 'B')
) STORED;
CREATE INDEX content_search_tsv ON content_search USING GIN (tsv);
DELETE FROM settings WHERE name = 'search.index_version';
