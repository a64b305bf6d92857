-- Ruche's connections now register their own lower(), which lowers every
-- letter (SQLite's lowers ASCII ones only). An index built on lower()
-- would hold entries of the old function for accented capitals, and a
-- connection without ours (the sqlite3 shell) would keep writing such
-- entries: the department and site filters read the table instead.
DROP INDEX IF EXISTS users_department;
DROP INDEX IF EXISTS users_site;
