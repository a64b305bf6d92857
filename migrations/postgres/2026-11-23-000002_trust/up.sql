-- Which instances this one federates with, and the audit log of changes.
CREATE TABLE instances (
    domain TEXT PRIMARY KEY NOT NULL,
    level TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    expires_at TIMESTAMP,
    allow_private BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE trust_audit (
    id BIGSERIAL PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    domain TEXT NOT NULL,
    level TEXT,
    reason TEXT NOT NULL DEFAULT '',
    expires_at TIMESTAMP
);
CREATE INDEX trust_audit_domain ON trust_audit (domain, id);
