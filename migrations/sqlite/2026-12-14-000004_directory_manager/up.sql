-- Whom a person of the directory reports to: their manager's entry (its
-- DN, lowercased), resolved to an account when a profile is shown.
ALTER TABLE directory_users ADD COLUMN manager_dn TEXT NOT NULL DEFAULT '';
CREATE INDEX directory_users_dn_lower ON directory_users (lower(dn));
CREATE INDEX directory_users_manager ON directory_users (manager_dn);
