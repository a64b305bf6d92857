-- PostgreSQL's lower() already lowers every letter: its indexes on
-- lower(department) and lower(site) stay. (The SQLite migration of the
-- same name drops its own.)
SELECT 1;
