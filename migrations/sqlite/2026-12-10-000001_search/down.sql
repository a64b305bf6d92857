DROP TABLE actor_search;
DROP TABLE content_search;
DELETE FROM settings WHERE name = 'search.index_version';
