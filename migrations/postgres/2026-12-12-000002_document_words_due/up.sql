-- Document versions uploaded on another instance whose words this instance
-- has still to read (documents::words): from our copy of the file, or from
-- the file on its community's instance.
CREATE TABLE document_words_due (
    version_id BIGINT PRIMARY KEY NOT NULL REFERENCES document_versions (id) ON DELETE CASCADE,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL
);
CREATE INDEX document_words_due_next ON document_words_due (next_attempt_at);
-- Those received before this table existed.
INSERT INTO document_words_due (version_id, attempts, next_attempt_at)
SELECT v.id, 0, CURRENT_TIMESTAMP
FROM document_versions v
JOIN users u ON u.id = v.uploaded_by
JOIN documents d ON d.id = v.document_id
WHERE u.domain IS NOT NULL
  AND d.deleted_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM document_texts t WHERE t.version_id = v.id);
