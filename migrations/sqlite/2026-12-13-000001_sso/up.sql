-- Sign-in with the company's identity providers (accounts::sso).
-- Who a person is at a provider: its subject, linked to one account here.
CREATE TABLE sso_identities (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_login_at TIMESTAMP NOT NULL,
    UNIQUE (provider, subject)
);
CREATE INDEX sso_identities_user ON sso_identities (user_id);
-- A sign-in under way: sent to the provider (kind 'login': its nonce and
-- PKCE verifier), or back with an identity that must be linked to an
-- existing account by its password (kind 'link': the claims read). Keyed by
-- the digest of the value the browser holds; used once, for 10 minutes.
CREATE TABLE sso_pending (
    id TEXT PRIMARY KEY NOT NULL,
    provider TEXT NOT NULL,
    kind TEXT NOT NULL,
    nonce TEXT NOT NULL DEFAULT '',
    verifier TEXT NOT NULL DEFAULT '',
    next TEXT NOT NULL DEFAULT '/',
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    claims TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX sso_pending_created ON sso_pending (created_at);
-- A session opened through a provider remembers it and the ID token, to
-- sign out there too.
ALTER TABLE sessions ADD COLUMN sso_provider TEXT;
ALTER TABLE sessions ADD COLUMN id_token TEXT;
