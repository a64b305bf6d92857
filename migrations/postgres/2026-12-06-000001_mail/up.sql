-- E-mail: the queue of messages to send, written in the transaction of
-- what causes them and sent by the mail worker; the addresses Ruche has
-- written to, with the secret of their one-click unsubscribe link; and the
-- single-use links that set a new password.
CREATE TABLE mail_queue (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    locale TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    done_at TIMESTAMP
);
CREATE INDEX mail_queue_due ON mail_queue (status, next_attempt_at);
CREATE INDEX mail_queue_user ON mail_queue (user_id);

CREATE TABLE mail_addresses (
    address TEXT PRIMARY KEY NOT NULL,
    unsubscribe_token TEXT NOT NULL UNIQUE,
    unsubscribed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX password_resets_user ON password_resets (user_id, created_at);
