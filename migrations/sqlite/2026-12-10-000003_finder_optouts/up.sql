-- People who chose not to appear in "Who knows about …?".
CREATE TABLE finder_optouts (
    user_id BIGINT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL
);
