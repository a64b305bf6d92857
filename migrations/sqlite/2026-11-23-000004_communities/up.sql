-- Communities are actors (ActivityPub Group) and live in `users` beside
-- people: one name space for WebFinger, and keys, inboxes and remote copies
-- work the same way. `actor_type` tells them apart.
ALTER TABLE users ADD COLUMN actor_type TEXT NOT NULL DEFAULT 'person';

CREATE TABLE communities (
    actor_id INTEGER PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- public | organisation | private | secret
    visibility TEXT NOT NULL,
    -- open | request | invitation
    join_policy TEXT NOT NULL,
    -- Whether partner instances may take part.
    partners BOOLEAN NOT NULL DEFAULT FALSE,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    -- When this instance last filled in a remote community's recent posts.
    backfilled_at TIMESTAMP
);

CREATE TABLE community_members (
    community_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- owner | moderator | member
    role TEXT NOT NULL DEFAULT 'member',
    -- member | pending | invited | banned
    status TEXT NOT NULL,
    -- The Follow activity of a membership across instances.
    follow_ap_id TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (community_id, user_id)
);
CREATE INDEX community_members_user ON community_members (user_id, status, community_id);
CREATE INDEX community_members_status ON community_members (community_id, status);

CREATE TABLE moderation_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    community_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    actor_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    action TEXT NOT NULL,
    target_user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    target_content_id INTEGER REFERENCES content (id) ON DELETE SET NULL,
    detail TEXT NOT NULL DEFAULT '',
    at TIMESTAMP NOT NULL
);
CREATE INDEX moderation_log_community ON moderation_log (community_id, id);

ALTER TABLE content ADD COLUMN community_id INTEGER REFERENCES users (id);
ALTER TABLE content ADD COLUMN pinned_at TIMESTAMP;
CREATE INDEX content_community ON content (community_id, id) WHERE community_id IS NOT NULL;
-- Feeds read the community from the timeline index too (it stays covering).
DROP INDEX content_timeline;
CREATE INDEX content_timeline ON content (id, author_id, visibility, community_id) WHERE root_id IS NULL AND deleted_at IS NULL;

ALTER TABLE notifications ADD COLUMN community_id INTEGER REFERENCES users (id) ON DELETE CASCADE;

-- Deliveries of a community's content, so that they can be withdrawn when
-- an instance loses its last member.
ALTER TABLE deliveries ADD COLUMN community_id INTEGER;
