-- Where a newcomer stands in the three steps of getting started
-- (profile, people, communities). No row: they have not begun; the
-- people who were here before this table are counted as done.
CREATE TABLE onboarding (
    user_id BIGINT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    step TEXT NOT NULL,
    finished_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
INSERT INTO onboarding (user_id, step, finished_at, updated_at)
SELECT id, 'communities', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
FROM users WHERE domain IS NULL AND actor_type = 'person';
