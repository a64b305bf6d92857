DROP INDEX mail_addresses_bounce;
ALTER TABLE mail_addresses DROP COLUMN failing_at;
ALTER TABLE mail_addresses DROP COLUMN bounces;
ALTER TABLE mail_addresses DROP COLUMN bounce_token;
