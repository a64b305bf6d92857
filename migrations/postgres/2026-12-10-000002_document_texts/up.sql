-- The words read from each uploaded version's file (documents::text), kept
-- so that the search index can be rebuilt without reading files again.
CREATE TABLE document_texts (
    version_id BIGINT PRIMARY KEY REFERENCES document_versions (id) ON DELETE CASCADE,
    text TEXT NOT NULL
);
