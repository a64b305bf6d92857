DROP INDEX users_remote;
ALTER TABLE document_versions DROP COLUMN note_html;
DROP TABLE remote_totals;
