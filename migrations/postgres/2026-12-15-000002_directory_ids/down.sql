DROP INDEX directory_users_entry;
ALTER TABLE directory_users DROP COLUMN photo_digest;
ALTER TABLE directory_users DROP COLUMN entry_id;
