ALTER TABLE sso_pending DROP COLUMN ip;
