DROP TABLE community_watches;
ALTER TABLE invitations DROP COLUMN community_id;
DROP TABLE email_checks;
