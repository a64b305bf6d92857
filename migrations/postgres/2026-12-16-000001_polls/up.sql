-- The kit (apps): which work apps a community turned on or off, against
-- the site's choice (kept in settings as app_<name>).
CREATE TABLE community_apps (
    community_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    app TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    PRIMARY KEY (community_id, app)
);

-- Polls (content::poll): a content row of kind 'poll' and what it adds.
-- For a poll of another instance, voters and the options' votes are the
-- counts its instance last published; for ours they are counted here.
CREATE TABLE polls (
    content_id BIGINT PRIMARY KEY NOT NULL REFERENCES content (id) ON DELETE CASCADE,
    multiple BOOLEAN NOT NULL DEFAULT FALSE,
    closes_at TIMESTAMP,
    closed_at TIMESTAMP,
    -- 'voted': results shown to those who voted; 'closed': once it closes.
    results TEXT NOT NULL DEFAULT 'voted',
    anonymous BOOLEAN NOT NULL DEFAULT FALSE,
    voters BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX polls_closing ON polls (closes_at);
CREATE TABLE poll_options (
    id BIGSERIAL PRIMARY KEY,
    content_id BIGINT NOT NULL REFERENCES polls (content_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    votes BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX poll_options_order ON poll_options (content_id, position);
-- One row per person and option chosen. ap_id: the Note a vote of
-- another instance came as, or that ours was sent as.
CREATE TABLE poll_votes (
    option_id BIGINT NOT NULL REFERENCES poll_options (id) ON DELETE CASCADE,
    content_id BIGINT NOT NULL REFERENCES polls (content_id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ap_id TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (option_id, user_id)
);
CREATE INDEX poll_votes_voter ON poll_votes (content_id, user_id);
CREATE INDEX poll_votes_user ON poll_votes (user_id);
