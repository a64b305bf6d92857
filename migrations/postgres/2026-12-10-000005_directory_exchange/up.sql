-- The people directory shared between the organisation's member sites
-- (federation::directory): who chose not to be listed to the other sites,
-- and which people of other sites their site no longer lists (kept for
-- follows and threads, not found by search or the expert finder).
CREATE TABLE directory_optouts (
    user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE directory_hidden (
    actor_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL
);
