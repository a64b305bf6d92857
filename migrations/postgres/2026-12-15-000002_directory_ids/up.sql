-- What names a directory entry for good (entryUUID, objectGUID), so that a
-- renamed login keeps its account and a login given again makes a new one
-- (accounts::directory); and the digest of the last photo the directory
-- gave, so that it is imported only when it changes.
ALTER TABLE directory_users ADD COLUMN entry_id TEXT NOT NULL DEFAULT '';
ALTER TABLE directory_users ADD COLUMN photo_digest TEXT NOT NULL DEFAULT '';
CREATE INDEX directory_users_entry ON directory_users (entry_id);
