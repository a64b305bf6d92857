CREATE INDEX users_department ON users (lower(department));
CREATE INDEX users_site ON users (lower(site));
