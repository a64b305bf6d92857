-- Ideas (content::idea): a content row of kind 'idea', always in a
-- community, and what it adds: a title and where the community's
-- moderators moved it (new, under_review, accepted, done, declined with a
-- reason). Votes are the ideas' "like" reactions.
CREATE TABLE ideas (
    content_id BIGINT PRIMARY KEY NOT NULL REFERENCES content (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'new',
    reason TEXT NOT NULL DEFAULT '',
    status_at TIMESTAMP NOT NULL
);
CREATE INDEX ideas_status ON ideas (status, status_at);
