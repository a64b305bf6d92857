-- Documents shared in communities. Each upload or new version is announced
-- by a content row of kind 'document' (so feeds, federation and visibility
-- work as for posts); the file itself is kept by the storage backend under
-- `storage_key`, or, for a community of another instance, fetched from
-- `remote_url` with a signed request when someone downloads it.
CREATE TABLE documents (
    id BIGSERIAL PRIMARY KEY,
    community_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ap_id TEXT UNIQUE,
    name TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE INDEX documents_community ON documents (community_id, updated_at);

CREATE TABLE document_versions (
    id BIGSERIAL PRIMARY KEY,
    document_id BIGINT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL DEFAULT '',
    remote_url TEXT NOT NULL DEFAULT '',
    content_id BIGINT REFERENCES content (id) ON DELETE SET NULL,
    uploaded_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (document_id, version)
);
CREATE INDEX document_versions_content ON document_versions (content_id);
