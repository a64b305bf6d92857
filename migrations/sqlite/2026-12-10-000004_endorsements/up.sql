-- Colleagues endorse the skills people declare (evidence for the expert
-- finder).
CREATE TABLE endorsements (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    skill_id BIGINT NOT NULL REFERENCES skills (id) ON DELETE CASCADE,
    endorser_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, skill_id, endorser_id)
);
CREATE INDEX endorsements_endorser ON endorsements (endorser_id);
