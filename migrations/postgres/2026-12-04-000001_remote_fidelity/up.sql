-- What the host of a remote person or community publishes of its
-- collections: its followers (a community's members) and whom it follows.
-- NULL until the host said it (this instance then counts what it knows).
CREATE TABLE remote_totals (
    actor_id BIGINT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    followers BIGINT,
    following BIGINT
);
-- The uploader's note on a version (sanitised HTML), kept with the version
-- so that every instance shows it with the file.
ALTER TABLE document_versions ADD COLUMN note_html TEXT NOT NULL DEFAULT '';
-- The people of other sites, set aside by the site and organisation
-- streams (a few among many).
CREATE INDEX users_remote ON users (domain, id) WHERE domain IS NOT NULL;
