-- How many people endorse each skill of a person of another site, as that
-- person's site publishes it (their site holds the endorsements).
CREATE TABLE remote_endorsements (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    skill_id BIGINT NOT NULL REFERENCES skills (id) ON DELETE CASCADE,
    count BIGINT NOT NULL,
    PRIMARY KEY (user_id, skill_id)
);
