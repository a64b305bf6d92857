-- Groups a SCIM client pushes (communities::provisioned): each is a
-- community of this site, named after it, whose members the group keeps.
-- The SCIM id of a group is its community's id. What the directory added
-- is kept apart from who joined by themselves (gave), so that taking
-- someone out of the group takes out only what the group gave.
CREATE TABLE scim_groups (
    community_id BIGINT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id BIGINT NOT NULL REFERENCES scim_clients (id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    display_key TEXT NOT NULL,
    external_id TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX scim_groups_client ON scim_groups (client_id, display_key);
CREATE TABLE scim_group_members (
    community_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Whether the group made them a member (not someone who was one).
    gave BOOLEAN NOT NULL DEFAULT 0,
    PRIMARY KEY (community_id, user_id)
);
CREATE INDEX scim_group_members_user ON scim_group_members (user_id);
