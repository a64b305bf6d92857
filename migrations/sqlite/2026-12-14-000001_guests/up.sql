-- Partner guests (accounts::guest): people a community's moderator
-- invited by e-mail as guests. They see only the communities they are
-- members of, until `expires_at`; a moderator or an administrator renews
-- them. `expired` is set when the expiry disabled the account (renewing
-- enables it again, unlike an account an administrator disabled).
CREATE TABLE guests (
    user_id BIGINT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    invited_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    expired BOOLEAN NOT NULL DEFAULT 0
);
CREATE INDEX guests_expires ON guests (expires_at);
-- An invitation into a community may make its newcomer a guest.
ALTER TABLE invitations ADD COLUMN guest BOOLEAN NOT NULL DEFAULT 0;
