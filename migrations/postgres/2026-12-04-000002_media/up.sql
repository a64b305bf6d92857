-- Pictures and files attached to posts and comments. A row without
-- content_id is an upload not yet attached (its owner's only). storage_key
-- is empty for the attachment of another instance's post until this
-- instance fetched its copy from remote_url. secret is part of every
-- address of the file: only those given the post learn it.
CREATE TABLE media (
    id BIGSERIAL PRIMARY KEY,
    owner_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content_id BIGINT REFERENCES content (id) ON DELETE CASCADE,
    position BIGINT NOT NULL DEFAULT 0,
    kind TEXT NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL DEFAULT 0,
    width BIGINT NOT NULL DEFAULT 0,
    height BIGINT NOT NULL DEFAULT 0,
    alt TEXT NOT NULL DEFAULT '',
    secret TEXT NOT NULL,
    storage_key TEXT NOT NULL DEFAULT '',
    thumb_key TEXT NOT NULL DEFAULT '',
    remote_url TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX media_content ON media (content_id, position);
CREATE INDEX media_unattached ON media (owner_id, created_at) WHERE content_id IS NULL;
