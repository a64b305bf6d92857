ALTER TABLE sessions DROP COLUMN id_token;
ALTER TABLE sessions DROP COLUMN sso_provider;
DROP TABLE sso_pending;
DROP TABLE sso_identities;
