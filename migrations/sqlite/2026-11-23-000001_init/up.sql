CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    username TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_admin BOOLEAN NOT NULL DEFAULT FALSE,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    display_name TEXT NOT NULL DEFAULT '',
    job_title TEXT NOT NULL DEFAULT '',
    department TEXT NOT NULL DEFAULT '',
    site TEXT NOT NULL DEFAULT '',
    location TEXT NOT NULL DEFAULT '',
    work_email TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    bio TEXT NOT NULL DEFAULT '',
    bio_html TEXT NOT NULL DEFAULT '',
    languages TEXT NOT NULL DEFAULT '',
    locale TEXT,
    photo_version INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX users_department ON users (lower(department));
CREATE INDEX users_site ON users (lower(site));

CREATE TABLE photos (
    user_id INTEGER PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    data BLOB NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE skills (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE user_skills (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    skill_id INTEGER NOT NULL REFERENCES skills (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, skill_id)
);
CREATE INDEX user_skills_skill ON user_skills (skill_id);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE invitations (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    code_hash TEXT NOT NULL UNIQUE,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    used_at TIMESTAMP
);

CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    username TEXT NOT NULL,
    ip TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_username ON login_failures (username, at);
CREATE INDEX login_failures_ip ON login_failures (ip, at);

CREATE TABLE follows (
    follower_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    followee_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (follower_id, followee_id)
);
CREATE INDEX follows_followee ON follows (followee_id, follower_id);

CREATE TABLE content (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    ap_id TEXT UNIQUE,
    kind TEXT NOT NULL,
    author_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reply_to_id INTEGER REFERENCES content (id),
    root_id INTEGER REFERENCES content (id),
    visibility TEXT NOT NULL,
    body TEXT NOT NULL,
    body_html TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    edited_at TIMESTAMP,
    deleted_at TIMESTAMP
);
CREATE INDEX content_author ON content (author_id, id);
CREATE INDEX content_root ON content (root_id, id, deleted_at);
-- Feeds scan live top-level posts newest first, reading author and audience
-- from the index alone.
CREATE INDEX content_timeline ON content (id, author_id, visibility) WHERE root_id IS NULL AND deleted_at IS NULL;

CREATE TABLE content_revisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    content_id INTEGER NOT NULL REFERENCES content (id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    body_html TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX content_revisions_content ON content_revisions (content_id, id);

CREATE TABLE content_tags (
    content_id INTEGER NOT NULL REFERENCES content (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (content_id, tag)
);
CREATE INDEX content_tags_tag ON content_tags (tag, content_id);

CREATE TABLE mentions (
    content_id INTEGER NOT NULL REFERENCES content (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (content_id, user_id)
);
CREATE INDEX mentions_user ON mentions (user_id);

CREATE TABLE reactions (
    content_id INTEGER NOT NULL REFERENCES content (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (content_id, user_id, kind)
);
