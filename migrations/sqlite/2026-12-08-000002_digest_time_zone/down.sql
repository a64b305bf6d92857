ALTER TABLE mail_digests DROP COLUMN time_zone;
