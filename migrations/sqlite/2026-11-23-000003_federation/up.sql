-- Federation: remote people live in `users` beside local ones (domain set,
-- no password, username "name@domain", and the e-mail column holds their
-- actor id so that it stays unique; it is never shown nor used to sign in).
ALTER TABLE users ADD COLUMN domain TEXT;
ALTER TABLE users ADD COLUMN ap_id TEXT;
ALTER TABLE users ADD COLUMN inbox TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN shared_inbox TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN profile_url TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN key_id TEXT;
-- PEM keys: a local person's pair is made the first time it is needed; a
-- remote person only has a public key.
ALTER TABLE users ADD COLUMN public_key TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN private_key TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN fetched_at TIMESTAMP;
-- The photo address a remote actor published (its photo is kept in photos).
ALTER TABLE users ADD COLUMN icon_url TEXT NOT NULL DEFAULT '';
-- A deleted account keeps its row (name reserved, keys to sign its Delete).
ALTER TABLE users ADD COLUMN deleted_at TIMESTAMP;
CREATE UNIQUE INDEX users_ap_id ON users (ap_id);
CREATE UNIQUE INDEX users_key_id ON users (key_id);

-- A follow of a remote person waits for its Accept.
ALTER TABLE follows ADD COLUMN accepted BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE follows ADD COLUMN ap_id TEXT;

-- Instance-wide values (the instance actor's keys).
CREATE TABLE settings (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- What happened locally that other instances must hear about, written in the
-- same transaction as the change; the delivery worker turns each event into
-- an activity and one delivery per target inbox.
CREATE TABLE fed_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind TEXT NOT NULL,
    actor_id INTEGER NOT NULL,
    object_id INTEGER,
    extra TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    actor_id INTEGER,
    domain TEXT NOT NULL,
    inbox TEXT NOT NULL,
    activity TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    done_at TIMESTAMP
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_domain ON deliveries (domain, status);

-- Health of each remote instance as the delivery worker sees it.
CREATE TABLE peers (
    domain TEXT PRIMARY KEY NOT NULL,
    last_success_at TIMESTAMP,
    last_failure_at TIMESTAMP,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP,
    last_error TEXT NOT NULL DEFAULT ''
);

-- Activity ids already applied, so that a repeated delivery is ignored.
CREATE TABLE inbox_seen (
    activity_id TEXT PRIMARY KEY NOT NULL,
    received_at TIMESTAMP NOT NULL,
    -- How many times it arrived again after being applied.
    repeats INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    actor_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content_id INTEGER REFERENCES content (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
CREATE INDEX notifications_user ON notifications (user_id, id);
