-- Accounts the company's directory (LDAP, Active Directory) manages
-- (accounts::directory): the login it knows them by (lowercased, unique),
-- their entry, and whether the sync disabled them (they left; enabled
-- again if they come back, unlike an account an administrator disabled).
CREATE TABLE directory_users (
    user_id BIGINT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    login_key TEXT NOT NULL UNIQUE,
    dn TEXT NOT NULL,
    disabled_by_sync BOOLEAN NOT NULL DEFAULT 0,
    synced_at TIMESTAMP NOT NULL
);
