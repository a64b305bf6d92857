-- One-click actions offered in e-mails (like, follow back, accept an
-- invitation, approve or refuse a join request, mark as read): one row per
-- link, holding only the digest of its secret; a link works once, for its
-- person, until it expires.
CREATE TABLE mail_actions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    notification_id INTEGER NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    action TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX mail_actions_expiry ON mail_actions (expires_at);
CREATE INDEX mail_actions_notification ON mail_actions (notification_id);

-- Replies by e-mail taken, by Message-ID, so that a mail server that sends
-- one again (it did not hear the answer) does not post it twice.
CREATE TABLE mail_received (
    message_id TEXT PRIMARY KEY NOT NULL,
    received_at TIMESTAMP NOT NULL
);
