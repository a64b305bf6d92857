-- The client address that began a sign-in with a provider: one address
-- may begin only a few at a time (accounts::sso::begin).
ALTER TABLE sso_pending ADD COLUMN ip TEXT NOT NULL DEFAULT '';
