-- A person's time zone by its name in the time zone database
-- (Europe/Paris), as their browser says it at sign-in: digests leave at
-- their morning in summer and in winter. Empty when unknown: the offset
-- from UTC counts then.
ALTER TABLE mail_digests ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
