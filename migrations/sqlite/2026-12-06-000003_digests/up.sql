-- The e-mail digest of each person: how often (daily, weekly or never),
-- their clock (minutes east of UTC, from their browser at sign-in), what
-- the last digest covered (the newest post and notification ids then),
-- and when the next one is due (their morning, in UTC).
CREATE TABLE mail_digests (
    user_id INTEGER PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    frequency TEXT NOT NULL,
    utc_offset_minutes INTEGER NOT NULL,
    content_mark INTEGER NOT NULL,
    notification_mark INTEGER NOT NULL,
    next_at TIMESTAMP NOT NULL
);
CREATE INDEX mail_digests_due ON mail_digests (next_at);
