-- Which HTTP signature scheme an instance accepts: '' (not known: draft-cavage),
-- 'cavage', or 'rfc9421' (it signed a request to us with RFC 9421).
ALTER TABLE peers ADD COLUMN signatures TEXT NOT NULL DEFAULT '';
