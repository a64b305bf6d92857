-- E-mail address checks: a link sent to an address proves that the person
-- reads it. A row whose address is the account's own and is not used yet
-- means that address is not confirmed (notifications and digests wait);
-- a row with another address is a change asked for, applied when its link
-- is opened. Only the digest of each link's secret is kept.
CREATE TABLE email_checks (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX email_checks_user ON email_checks (user_id, email);

-- An invitation sent by a community's moderator: signing up with it makes
-- the person a member of that community.
ALTER TABLE invitations ADD COLUMN community_id BIGINT REFERENCES users (id) ON DELETE CASCADE;

-- Communities a person watches: each new post or document version there is
-- a notification (in the digest unless they choose otherwise).
CREATE TABLE community_watches (
    community_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (community_id, user_id)
);
CREATE INDEX community_watches_user ON community_watches (user_id);
