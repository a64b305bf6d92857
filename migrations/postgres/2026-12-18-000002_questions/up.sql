-- Questions and answers (content::question): a content row of kind
-- 'question' and its title; its answers are its comments, and the answer
-- its asker (or a moderator of its community) accepted is kept here.
CREATE TABLE questions (
    content_id BIGINT PRIMARY KEY NOT NULL REFERENCES content (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    accepted_id BIGINT REFERENCES content (id) ON DELETE SET NULL,
    accepted_at TIMESTAMP
);
CREATE INDEX questions_solved ON questions (accepted_at);
