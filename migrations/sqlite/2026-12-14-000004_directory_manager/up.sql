-- Whom a person of the directory reports to: their manager's entry,
-- resolved to an account when a profile is shown. DNs are compared by a
-- key the application writes (accounts::directory::dn_key: lowercased,
-- no spaces around separators), so that both databases agree.
ALTER TABLE directory_users ADD COLUMN manager_dn TEXT NOT NULL DEFAULT '';
ALTER TABLE directory_users ADD COLUMN dn_key TEXT NOT NULL DEFAULT '';
CREATE INDEX directory_users_dn_key ON directory_users (dn_key);
CREATE INDEX directory_users_manager ON directory_users (manager_dn);
