-- SCIM 2.0 provisioning (accounts::provisioning): the clients that may
-- push joiners, changes and leavers (Entra ID, Okta…), each with its own
-- bearer token (stored as a digest), and the accounts they manage.
CREATE TABLE scim_clients (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE TABLE scim_users (
    user_id BIGINT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id BIGINT NOT NULL REFERENCES scim_clients (id) ON DELETE CASCADE,
    -- userName as the client sent it, and lowercased (unique, filtered on).
    user_name TEXT NOT NULL,
    user_key TEXT NOT NULL UNIQUE,
    external_id TEXT NOT NULL DEFAULT '',
    given_name TEXT NOT NULL DEFAULT '',
    family_name TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX scim_users_external ON scim_users (client_id, external_id);
