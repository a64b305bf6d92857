ALTER TABLE invitations DROP COLUMN guest;
DROP TABLE guests;
