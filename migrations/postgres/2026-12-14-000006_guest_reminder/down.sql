ALTER TABLE guests DROP COLUMN reminded;
