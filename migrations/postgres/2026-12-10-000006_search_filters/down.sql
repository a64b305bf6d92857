DROP INDEX content_search_meta;
ALTER TABLE content_search DROP COLUMN meta_tsv;
ALTER TABLE content_search DROP COLUMN meta;
DELETE FROM settings WHERE name = 'search.index_version';
