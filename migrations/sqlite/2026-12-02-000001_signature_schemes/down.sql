ALTER TABLE peers DROP COLUMN signatures;
