-- Whether SCIM (active: false, or a delete) disabled the account: only
-- then does active: true enable it again, never an account an
-- administrator disabled.
ALTER TABLE scim_users ADD COLUMN disabled_by_scim BOOLEAN NOT NULL DEFAULT FALSE;
