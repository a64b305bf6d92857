-- Must-read announcements (content::must_read): a post a moderator marked
-- for its community's members, or an administrator for everyone of this
-- site (scope 'community' or 'site'). For a post of a community of another
-- instance, the community's host marks it and the row says so here.
-- author_id and community_id are the post's (which never change), kept
-- here so that a feed finds the reader's unread must-reads from this
-- table alone; the row goes when its post is deleted.
CREATE TABLE must_reads (
    content_id BIGINT PRIMARY KEY NOT NULL REFERENCES content (id) ON DELETE CASCADE,
    author_id BIGINT NOT NULL,
    community_id BIGINT,
    scope TEXT NOT NULL,
    -- Who marked it here (NULL: its community's host, or an account since deleted).
    marked_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    marked_at TIMESTAMP NOT NULL,
    -- When those who had not read it yet were reminded (once).
    reminded_at TIMESTAMP
);
CREATE INDEX must_reads_marked ON must_reads (marked_at);
-- "I have read it": one row per person and post, kept if the mark is
-- lifted (a post marked again does not ask them twice). ap_id: the Read
-- activity it came as from another instance.
CREATE TABLE must_read_confirmations (
    content_id BIGINT NOT NULL REFERENCES content (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    read_at TIMESTAMP NOT NULL,
    ap_id TEXT,
    PRIMARY KEY (content_id, user_id)
);
CREATE INDEX must_read_confirmations_user ON must_read_confirmations (user_id);
